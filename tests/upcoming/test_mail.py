"""Mail when an episode airs, and the weekly digest: at each recipient's own point, once each.

Orbit (tests/upcoming/conftest.py) airs its season 4 weekly: 4x3 aired yesterday, 4x4 airs
today, 4x5 in a week. Carol and Dave are at 2x5; Erin watched 4x3 last night.
"""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.core.management import call_command
from django.test import Client

from tests.factories import make_user
from tests.upcoming.conftest import TODAY, watch_up_to
from upcoming.mail import UNSUBSCRIBE_SALT, send_aired_mails, send_weekly_digests
from upcoming.models import EpisodeMail


def subscribed(user, *, aired: bool = True, digest: bool = True):
    """The viewer asked for the show mail and confirmed their address."""
    user.email_when_episode_airs, user.email_weekly_digest = aired, digest
    user.save()
    user.confirm_email()
    return user


@pytest.fixture
def current(orbit):
    """Up to 4x2 with the default preferences: 4x3, aired yesterday, is up next."""
    user = make_user("current")
    watch_up_to(user, orbit, 4, 2)
    return subscribed(user)


def mail_to(mailoutbox, user):
    [message] = [m for m in mailoutbox if m.to == [user.email]]
    return message


def titles_in(text: str) -> list[str]:
    return re.findall(r"TITLE-orbit-\d+x\d+", text)


def test_a_viewer_behind_hears_the_code_how_many_wait_and_what_is_next(carol, mailoutbox):
    subscribed(carol)
    assert send_aired_mails(TODAY) == 1
    message = mail_to(mailoutbox, carol)
    assert message.subject == "Aired: Orbit S4E3"
    assert "S4E3 aired on Tuesday 8 December." in message.body
    # 2x6, season 3 and 4x1 to 4x3 have aired past her point.
    assert "10 aired episodes are waiting for you. Up next: Orbit · S2E6 · TITLE-orbit-2x6." in (
        message.body
    )
    assert titles_in(message.body) == ["TITLE-orbit-2x6"]
    assert "SYNOPSIS" not in message.body


def test_hidden_titles_stay_hidden(dave, mailoutbox):
    subscribed(dave)
    send_aired_mails(TODAY)
    body = mail_to(mailoutbox, dave).body
    assert "Up next: Orbit · S2E6." in body
    assert titles_in(body) == []


def test_up_to_date_the_new_episode_is_up_next_as_preferences_show_it(current, mailoutbox):
    send_aired_mails(TODAY)
    body = mail_to(mailoutbox, current).body
    assert "S4E3 aired on Tuesday 8 December." in body
    assert "1 aired episode is waiting for you. Up next: Orbit · S4E3 · TITLE-orbit-4x3." in body
    assert titles_in(body) == ["TITLE-orbit-4x3"]


def test_shown_synopses_show_for_what_is_up_next(orbit, mailoutbox):
    viewer = make_user("reader", hide_unwatched_synopses=False)
    watch_up_to(viewer, orbit, 4, 2)
    subscribed(viewer)
    send_aired_mails(TODAY)
    assert "    SYNOPSIS-orbit-4x3" in mail_to(mailoutbox, viewer).body


def test_an_episode_already_watched_is_named(erin, mailoutbox):
    subscribed(erin)
    send_aired_mails(TODAY)
    body = mail_to(mailoutbox, erin).body
    # Watched last night: revealed, so named, though she hides the titles of unwatched episodes.
    assert "Orbit · S4E3 · TITLE-orbit-4x3, aired Tuesday 8 December" in body
    assert "waiting" not in body


def test_the_same_episode_is_never_mailed_twice(current, mailoutbox):
    send_aired_mails(TODAY)
    send_aired_mails(TODAY)
    send_aired_mails(TODAY + timedelta(days=1))
    assert len(mailoutbox) == 2
    assert [m.subject for m in mailoutbox] == ["Aired: Orbit S4E3", "Aired: Orbit S4E4"]
    assert EpisodeMail.objects.filter(user=current).count() == 2


def test_a_missed_day_is_caught_up_by_the_next_run(current, mailoutbox):
    send_aired_mails(TODAY - timedelta(days=4))
    # No run on the day after 4x3 aired, nor the one after 4x4; the next run tells both.
    send_aired_mails(TODAY + timedelta(days=2))
    assert [m.subject for m in mailoutbox] == ["Aired: Orbit S4E3 S4E4"]
    assert "S4E3, S4E4 aired." in mailoutbox[0].body


def test_no_mail_to_an_unconfirmed_address_nor_to_who_did_not_ask(carol, dave, mailoutbox):
    subscribed(carol).change_email("elsewhere@example.com")
    subscribed(dave, aired=False)
    assert send_aired_mails(TODAY) == 0
    assert mailoutbox == []


def test_no_mail_about_a_show_not_followed(orbit, mailoutbox):
    subscribed(make_user("stranger"))
    send_aired_mails(TODAY)
    send_weekly_digests(TODAY)
    assert mailoutbox == []


def test_a_mail_that_fails_to_go_is_tried_again(current, monkeypatch, mailoutbox):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("the mail server is down")

    send_aired_mails(TODAY - timedelta(days=1))
    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", down)
    assert send_aired_mails(TODAY) == 0
    assert not EpisodeMail.objects.exists()
    monkeypatch.undo()
    assert send_aired_mails(TODAY + timedelta(days=1)) == 1
    assert mailoutbox[0].subject == "Aired: Orbit S4E3 S4E4"


def unsubscribe_path(message) -> str:
    link = message.extra_headers["List-Unsubscribe"]
    assert link.startswith("<http://127.0.0.1:8000/mail/unsubscribe/") and link.endswith("/>")
    return link[len("<http://127.0.0.1:8000") : -1]


def test_every_mail_has_a_one_click_unsubscribe(current, mailoutbox):
    send_aired_mails(TODAY)
    send_weekly_digests(TODAY)
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f"http://127.0.0.1:8000{unsubscribe_path(message)}" in message.body


def test_a_post_to_the_unsubscribe_link_stops_that_mail_without_logging_in(current, mailoutbox):
    send_aired_mails(TODAY)
    # As a mail provider sends it (RFC 8058): no session, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe_path(mailoutbox[0]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    current.refresh_from_db()
    assert not current.email_when_episode_airs and current.email_weekly_digest


def test_a_get_of_the_unsubscribe_link_only_asks(current, mailoutbox):
    send_weekly_digests(TODAY)
    page = Client().get(unsubscribe_path(mailoutbox[0])).content.decode()
    assert "Stop the weekly digest of your shows?" in page and "Unsubscribe</button>" in page
    current.refresh_from_db()
    assert current.email_weekly_digest


def test_the_unsubscribe_link_carries_no_account_number(current, mailoutbox):
    """Account numbers are creation-ordered: one in a link would tell how many came before."""
    send_aired_mails(TODAY)
    token = unsubscribe_path(mailoutbox[0]).split("/")[-2]
    assert signing.loads(token, salt=UNSUBSCRIBE_SALT) == {"name": "current", "kind": "aired"}


def test_a_forged_unsubscribe_link_stops_nothing(current):
    response = Client().post("/mail/unsubscribe/not-a-token/")
    assert response.status_code == 400
    current.refresh_from_db()
    assert current.email_when_episode_airs


def test_the_digest_tells_each_viewer_the_week_at_their_point(carol, erin, mailoutbox):
    subscribed(carol)
    subscribed(erin)
    assert send_weekly_digests(TODAY) == 2
    behind = mail_to(mailoutbox, carol)
    assert behind.subject == "Your shows this week, 9 December"
    assert "S4E3 aired on Tuesday 8 December." in behind.body
    assert "10 aired episodes are waiting for you. Up next: Orbit · S2E6 · TITLE-orbit-2x6." in (
        behind.body
    )
    # Not aired yet: past every point, named as her preferences (titles shown) name it.
    assert "Orbit · S4E4 · TITLE-orbit-4x4, Wednesday 9 December" in behind.body
    assert "4x5" not in behind.body  # a week away: next week's digest
    assert titles_in(behind.body) == ["TITLE-orbit-2x6", "TITLE-orbit-4x4"]
    caught_up = mail_to(mailoutbox, erin).body
    assert "Orbit · S4E3 · TITLE-orbit-4x3, aired Tuesday 8 December" in caught_up
    assert "Orbit · S4E4, Wednesday 9 December" in caught_up
    assert titles_in(caught_up) == ["TITLE-orbit-4x3"]


def test_the_digest_goes_once_a_week(current, mailoutbox):
    send_weekly_digests(TODAY)
    send_weekly_digests(TODAY + timedelta(days=3))
    assert len(mailoutbox) == 1
    send_weekly_digests(TODAY + timedelta(days=7))
    assert len(mailoutbox) == 2


def test_the_command_queues_the_mail(current, mailoutbox):
    call_command("send_show_mail", "aired", "--today", TODAY.isoformat())
    assert [m.subject for m in mailoutbox] == ["Aired: Orbit S4E3"]


@pytest.mark.parametrize("kind", ["aired", "digest"])
def test_mail_links_point_at_the_site(current, mailoutbox, settings, kind):
    settings.SITE_URL = "https://spoilerfree.example"
    call_command("send_show_mail", kind, "--today", TODAY.isoformat())
    assert "https://spoilerfree.example/accounts/preferences/" in mailoutbox[0].body


def episodes_named(body: str) -> set[tuple[int, int]]:
    return {
        (int(season), int(number))
        for season, number in re.findall(r"(?:TITLE|SYNOPSIS)-orbit-(\d+)x(\d+)", body)
    }


POINTS = [None, *[(s, n) for s in range(1, 4) for n in range(1, 7)], *[(4, n) for n in (1, 2, 3)]]


@pytest.mark.parametrize("point", POINTS)
def test_at_every_point_an_unwatched_aired_episode_is_never_named_but_up_next(
    orbit, mailoutbox, point
):
    """Every point in the show, titles and synopses shown: of the aired episodes past it, a mail
    names only the one up next; what is named beyond that has not aired yet."""
    viewer = make_user("viewer", hide_unwatched_synopses=False)
    if point is None:
        from companion.models import Follow

        Follow.objects.follow(user=viewer, shows=[orbit])
    else:
        watch_up_to(viewer, orbit, *point)
    subscribed(viewer)
    send_aired_mails(TODAY)
    send_weekly_digests(TODAY)
    assert mailoutbox, "a follower who asked for mail got none"
    episodes = list(orbit.episodes.order_by("sequence"))
    order = [(e.season_number, e.number) for e in episodes]
    reached = -1 if point is None else order.index(point)
    up_next = order[reached + 1]
    aired = {(e.season_number, e.number) for e in episodes if e.air_date and e.air_date < TODAY}
    for message in mailoutbox:
        named = episodes_named(message.body)
        past = {n for n in named if order.index(n) > reached}
        assert past & aired <= {up_next}, message.body
        assert "RECAP" not in message.body and "NOTE" not in message.body


def test_with_titles_and_synopses_hidden_nothing_past_the_point_is_named(orbit, mailoutbox):
    viewer = make_user("careful", hide_unwatched_titles=True, hide_unwatched_synopses=True)
    watch_up_to(viewer, orbit, 4, 2)
    subscribed(viewer)
    send_aired_mails(TODAY)
    send_weekly_digests(TODAY)
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert {n for n in episodes_named(message.body) if n > (4, 2)} == set()
        assert "S4E3" in message.body


def test_the_mail_sent_is_in_my_export_by_code_and_goes_with_my_account(current, client):
    send_aired_mails(TODAY)
    send_weekly_digests(TODAY)
    client.force_login(current)
    data = client.get("/accounts/export/").json()
    assert [(m["show"], m["episode"]) for m in data["episode_mails"]] == [("orbit", "4x3")]
    assert [d["week"] for d in data["weekly_digests"]] == ["2026-12-07"]
    assert "TITLE" not in str(data)
    current.delete_account()
    assert not EpisodeMail.objects.exists()
