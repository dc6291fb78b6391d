"""Several viewers and double clicks at once: one record each, and no "database is locked"."""

import threading

import pytest
from django.db import connection, connections

from companion.models import Watch
from tests.factories import episode, make_show, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(count: int, work) -> list:
    """Start `count` threads at the same instant; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test asserts on it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def logged_in_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_simultaneous_marks_of_one_episode_leave_one_record():
    show = make_show("race", seasons=1, episodes=3)
    viewer = make_user("racer")
    clients = [logged_in_client(viewer) for _ in range(8)]
    results = run_together(
        8, lambda i: clients[i].post("/shows/race/s1/e1/watch/", HTTP_HX_REQUEST="true").status_code
    )
    assert results == [200] * 8
    assert Watch.objects.filter(user=viewer, episode=episode(show, "1x1")).count() == 1


def test_simultaneous_up_to_here_requests_leave_one_record_per_episode():
    show = make_show("race", seasons=2, episodes=5)
    viewer = make_user("racer")
    clients = [logged_in_client(viewer) for _ in range(6)]
    results = run_together(
        6,
        lambda i: (
            clients[i].post("/shows/race/s2/e5/watch-up-to/", HTTP_HX_REQUEST="true").status_code
        ),
    )
    assert results == [200] * 6
    assert Watch.objects.filter(user=viewer).count() == 10
    assert show.safe_point_for(viewer).episode == episode(show, "2x5")


def test_readers_and_writers_at_once_never_see_database_locked():
    make_show("busy", seasons=2, episodes=5)
    viewers = [make_user(f"viewer{i}") for i in range(8)]
    clients = [logged_in_client(v) for v in viewers]

    def work(i):
        codes = []
        for e in range(1, 6):
            codes.append(
                clients[i].post(f"/shows/busy/s1/e{e}/watch/", HTTP_HX_REQUEST="true").status_code
            )
            codes.append(clients[i].get("/shows/busy/story/").status_code)
        return codes

    results = run_together(8, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert all(code == 200 for codes in results for code in codes)
    assert Watch.objects.count() == 40


def test_sqlite_runs_in_wal_mode():
    if connection.vendor != "sqlite":
        pytest.skip("WAL is SQLite's; PostgreSQL has MVCC")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_simultaneous_joins_never_overfill_a_party():
    from companion.models import PARTY_SIZE_LIMIT, Party

    show = make_show("race", seasons=1, episodes=3)
    host = make_user("host")
    party = Party.objects.create(show=show, name="Crew", created_by=host)
    party.members.add(host)
    friends = [make_user(f"friend{i}") for i in range(20)]
    clients = [logged_in_client(friend) for friend in friends]
    confirm = f"/parties/join/{party.invite_token}/confirm/"
    results = run_together(20, lambda i: clients[i].post(confirm).status_code)
    assert results == [302] * 20
    assert party.members.count() == PARTY_SIZE_LIMIT


def test_simultaneous_password_resets_send_no_more_mails_than_the_limit(mailoutbox):
    from django.test import Client

    from accounts.models import RESET_MAILS_PER_ADDRESS

    make_user("forgetful")
    results = run_together(
        15,
        lambda i: (
            Client()
            .post(
                "/accounts/password/reset/",
                {"email": "forgetful@example.com"},
                REMOTE_ADDR=f"203.0.113.{i}",
            )
            .status_code
        ),
    )
    assert results == [302] * 15
    assert 1 <= len(mailoutbox) <= RESET_MAILS_PER_ADDRESS
