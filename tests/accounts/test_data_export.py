"""The "all my data" download holds every record we keep about the viewer, and no one else's."""

import json

from django.test import Client

from api.models import ApiToken, hash_token
from companion.models import Party, ReviewerNote, SpoilerReport
from tests.factories import make_user

PASSWORD = "correct-horse-battery"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def export(client) -> tuple[dict, str]:
    response = client.get("/accounts/export/")
    assert response.status_code == 200
    return json.loads(response.content), response.content.decode()


def test_my_watch_parties_are_in_my_export_without_the_other_members(
    alice_client, alice, bob, show
):
    party = Party.objects.create(show=show, name="FRIDAY-CREW", created_by=bob)
    party.members.add(bob, alice)
    Party.objects.create(show=show, name="MINE", created_by=alice).members.add(alice)
    data, raw = export(alice_client)
    assert sorted(data["watch_parties"], key=lambda p: p["name"]) == [
        {
            "name": "FRIDAY-CREW",
            "show": "saga",
            "created_at": party.created_at.isoformat(),
            "kept_by_you": False,
            "members": 2,
        },
        {
            "name": "MINE",
            "show": "saga",
            "created_at": Party.objects.get(name="MINE").created_at.isoformat(),
            "kept_by_you": True,
            "members": 1,
        },
    ]
    assert "bob" not in raw and party.invite_token not in raw


def test_my_tokens_are_in_my_export_but_never_their_secret(alice_client, alice, alice_api):
    alice_api.get("/api/v1/shows/")
    token, secret = ApiToken.objects.issue(user=alice, name="Old tablet")
    token.revoked = True
    token.save()
    data, raw = export(alice_client)
    phone = ApiToken.objects.get(name="Alice's phone")
    assert data["api_tokens"] == [
        {
            "name": "Alice's phone",
            "created_at": phone.created_at.isoformat(),
            "last_used_at": phone.last_used_at.isoformat(),
            "revoked": False,
        },
        {
            "name": "Old tablet",
            "created_at": token.created_at.isoformat(),
            "last_used_at": None,
            "revoked": True,
        },
    ]
    for stored in ApiToken.objects.all():
        assert stored.token_hash not in raw
    assert secret not in raw and hash_token(secret) not in raw and "sf_" not in raw


def test_my_spoiler_reports_are_in_my_export_without_the_content(alice_client, show):
    note = ReviewerNote.objects.get(text="NOTE-saga-1x2")
    alice_client.post(f"/shows/saga/report/note/{note.public_id}/", {"message": "It spoils 1x4"})
    report = SpoilerReport.objects.get()
    data, raw = export(alice_client)
    assert data["spoiler_reports"] == [
        {
            "show": "saga",
            "kind": "note",
            "at": "1x3",
            "message": "It spoils 1x4",
            "created_at": report.created_at.isoformat(),
            "resolved": False,
        }
    ]
    assert "NOTE-saga" not in raw and note.public_id not in raw


def test_the_records_of_my_logins_are_in_my_export(alice, bob):
    stranger = Client()
    stranger.post(
        "/accounts/login/",
        {"username": "alice", "password": "wrong"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="curl/8.5.0",
    )
    stranger.post(
        "/accounts/login/",
        {"username": "bob", "password": "wrong"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="curl/8.5.0",
    )
    phone = Client()
    response = phone.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
        HTTP_USER_AGENT=FIREFOX,
    )
    assert response.status_code == 302
    data, raw = export(phone)
    [login] = data["login_records"]["logins"]
    assert login["ip_address"] == "198.51.100.7" and login["user_agent"] == FIREFOX
    assert login["username"] == "alice" and login["logged_out_at"] is None
    [failed] = data["login_records"]["failed_logins"]
    assert failed["ip_address"] == "203.0.113.9" and failed["failures"] == 1
    assert "bob" not in raw and "wrong" not in raw


def test_a_new_account_exports_empty_lists_not_missing_keys(client, db):
    client.force_login(make_user("newbie"))
    data, _ = export(client)
    assert data["watch_parties"] == data["api_tokens"] == data["spoiler_reports"] == []
    assert data["login_records"]["failed_logins"] == data["login_records"]["failed_login_log"] == []
