import json

from django.contrib.auth import get_user_model
from django.core import mail

from companion.models import Watch

User = get_user_model()


def test_signup_creates_an_account_and_logs_in(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
        follow=True,
    )
    assert response.context["user"].username == "newbie"
    assert "Welcome!" in response.content.decode()


def test_signup_rejects_a_weak_password(client, db):
    response = client.post(
        "/accounts/signup/", {"username": "weak", "password1": "12345678", "password2": "12345678"}
    )
    assert "This password is too common" in response.content.decode()
    assert not User.objects.filter(username="weak").exists()


def test_login_rotates_the_session_key(client, alice):
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    client.post("/accounts/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_repeated_failed_logins_are_locked_out_with_a_clear_message(client, alice):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(alice_client):
    assert alice_client.get("/accounts/logout/").status_code == 405
    alice_client.post("/accounts/logout/")
    assert "_auth_user_id" not in alice_client.session


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, alice):
    known = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]


def test_password_reset_link_sets_a_new_password(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    link = next(
        line for line in mail.outbox[0].body.splitlines() if "/accounts/password/reset/" in line
    ).strip()
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"},
    )
    alice.refresh_from_db()
    assert alice.check_password("brand-new-secret-42")


def test_reset_email_carries_no_show_content(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert "RECAP" not in mail.outbox[0].body and "saga" not in mail.outbox[0].body.lower()


def test_preferences_are_saved(alice_client, alice):
    alice_client.post("/accounts/preferences/", {"hide_unwatched_titles": "on"})
    alice.refresh_from_db()
    assert alice.hide_unwatched_titles and not alice.hide_unwatched_synopses


def test_export_holds_my_progress_and_no_content(alice_client, alice, bob):
    response = alice_client.get("/accounts/export/")
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["username"] == "alice"
    assert [w["episode"] for w in data["watched"]] == ["1x1", "1x2", "1x3"]
    assert data["following"] == ["saga"]
    assert "TITLE" not in response.content.decode() and "bob" not in response.content.decode()


def test_export_requires_login(client, db):
    response = client.get("/accounts/export/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_delete_account_needs_the_password_and_takes_watches_with_it(alice_client, alice):
    response = alice_client.post("/accounts/delete/", {"password": "wrong"})
    assert "That is not your password" in response.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()
    alice_client.post("/accounts/delete/", {"password": "correct-horse-battery"})
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not Watch.objects.filter(user_id=alice.pk).exists()


def test_password_change(alice_client, alice):
    alice_client.post(
        "/accounts/password/",
        {
            "old_password": "correct-horse-battery",
            "new_password1": "another-fine-secret",
            "new_password2": "another-fine-secret",
        },
    )
    alice.refresh_from_db()
    assert alice.check_password("another-fine-secret")


def test_behind_a_proxy_lockout_is_per_client_not_for_everyone(client, alice, settings):
    settings.PROXY_COUNT = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "REMOTE_ADDR": "10.0.0.2"}
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, **attacker)
    assert (
        client.post(
            "/accounts/login/",
            {"username": "alice", "password": "correct-horse-battery"},
            **attacker,
        ).status_code
        == 429
    )
    # The attacker cannot dodge the lock by claiming another address: our proxy's entry comes last.
    spoofed = {"HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9", "REMOTE_ADDR": "10.0.0.2"}
    assert (
        client.post(
            "/accounts/login/", {"username": "alice", "password": "wrong"}, **spoofed
        ).status_code
        == 429
    )
    real = {"HTTP_X_FORWARDED_FOR": "198.51.100.7", "REMOTE_ADDR": "10.0.0.2"}
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct-horse-battery"}, **real
    )
    assert response.status_code == 302
