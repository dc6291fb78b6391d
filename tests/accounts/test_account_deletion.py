"""Deleting an account takes everything that names the viewer, and nothing that belongs to others."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.test import Client

from companion.models import Party
from tests.factories import make_user

User = get_user_model()
PASSWORD = "correct-horse-battery"


def delete_account(client) -> None:
    response = client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 302


def started_by(user, show, *members, name="CREW") -> Party:
    party = Party.objects.create(show=show, name=name, created_by=user)
    party.members.add(user, *members)
    return party


def test_my_party_passes_to_its_longest_standing_member_when_i_delete_my_account(
    alice_client, alice, bob, show
):
    # Joined before bob, though later in the alphabet: join order decides, not the name.
    zoe = make_user("zoe")
    party = started_by(alice, show)
    party.members.add(zoe)
    party.members.add(bob)
    delete_account(alice_client)
    party.refresh_from_db()
    assert party.created_by == zoe
    assert set(party.members.values_list("username", flat=True)) == {"bob", "zoe"}


def test_the_party_stays_on_its_other_members_pages(alice_client, alice, bob, show):
    started_by(alice, show, bob)
    friend = Client()
    friend.force_login(bob)
    # Fetched once, so anything cached from it is warm when the deletion comes.
    assert "CREW" in friend.get("/shows/saga/").content.decode()
    delete_account(alice_client)
    party = Party.objects.get()
    page = friend.get(f"/parties/{party.pk}/").content.decode()
    assert "CREW" in page and "alice" not in page
    assert "CREW" in friend.get("/shows/saga/").content.decode()


def test_a_party_with_no_one_left_goes_with_my_account(alice_client, alice, bob, show):
    mine = started_by(alice, show, name="MINE")
    # Bob started this one and left; alice is its last member.
    left_to_me = started_by(bob, show, alice, name="LEFT-TO-ME")
    friend = Client()
    friend.force_login(bob)
    friend.post(f"/parties/{left_to_me.pk}/leave/")
    delete_account(alice_client)
    assert not Party.objects.filter(pk__in=[mine.pk, left_to_me.pk]).exists()


def test_leaving_my_own_party_passes_it_on(alice_client, alice, bob, show):
    party = started_by(alice, show, bob)
    alice_client.post(f"/parties/{party.pk}/leave/")
    party.refresh_from_db()
    assert party.created_by == bob and list(party.members.all()) == [bob]


def test_an_editor_deleting_a_user_in_the_admin_hands_their_parties_on_too(
    client, editor, alice, bob, show
):
    party = started_by(alice, show, bob)
    client.force_login(editor)
    response = client.post(f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    party.refresh_from_db()
    assert party.created_by == bob


def log_in(client, username: str, password: str, address: str = "198.51.100.7"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    )


def test_deleting_my_account_removes_the_login_records_that_name_me(alice, bob, settings):
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True
    phone = Client()
    assert log_in(phone, "alice", PASSWORD).status_code == 302
    # Someone guessing, once as she would type it on a phone, capital and all.
    stranger = Client()
    log_in(stranger, "alice", "wrong", "203.0.113.9")
    log_in(stranger, "Alice", "wrong", "203.0.113.9")
    log_in(stranger, "bob", "wrong", "203.0.113.9")
    # A record by address only names nobody, and keeps counting for the lockout.
    AccessAttempt.objects.create(
        username=None, ip_address="203.0.113.9", user_agent="", failures_since_start=3
    )
    assert AccessLog.objects.filter(username="alice").exists()
    assert AccessAttempt.objects.filter(username__iexact="alice").count() == 2
    assert AccessFailureLog.objects.filter(username__iexact="alice").count() == 2

    delete_account(phone)

    for model in (AccessLog, AccessAttempt, AccessFailureLog):
        assert not model.objects.filter(username__iexact="alice").exists(), model.__name__
    assert AccessAttempt.objects.filter(username="bob").exists()
    assert AccessFailureLog.objects.filter(username="bob").exists()
    assert AccessAttempt.objects.filter(username=None, ip_address="203.0.113.9").exists()


def test_the_delete_page_says_what_goes_and_what_stays(alice_client):
    page = " ".join(alice_client.get("/accounts/delete/").content.decode().split())
    assert "records of your logins" in page
    assert "watch parties" in page and "longest-standing member" in page
