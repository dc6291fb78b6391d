"""Personal tokens: created and named on the account page, shown once, stored hashed, revocable."""

import hashlib
import re

from django.test import Client

from api.models import ApiToken
from tests.factories import make_user

API = "/api/v1"


def test_account_page_links_to_tokens(alice_client):
    assert b'href="/accounts/tokens/"' in alice_client.get("/accounts/preferences/").content


def test_tokens_page_needs_sign_in(client, db):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_new_token_is_shown_once_and_stored_only_as_its_sha256(alice_client, alice):
    response = alice_client.post("/accounts/tokens/", {"name": "Phone"})
    assert response.status_code == 200
    raw = re.search(r"sf_[A-Za-z0-9_-]{40,}", response.content.decode())[0]
    token = ApiToken.objects.get(user=alice)
    assert token.name == "Phone"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list(flat=False).get()]
    assert not any(raw in value for value in stored)
    assert "no-store" in response["Cache-Control"]
    again = alice_client.get("/accounts/tokens/").content.decode()
    assert raw not in again and "Phone" in again and "never" in again


def test_a_token_signs_in_and_records_its_last_use(alice, alice_token, show):
    assert ApiToken.objects.get().last_used_at is None
    response = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}").get(f"{API}/shows/")
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    page = Client()
    page.force_login(alice)
    assert "never" not in page.get("/accounts/tokens/").content.decode()


def test_revoked_token_is_refused(alice_client, alice, alice_token, show):
    token = ApiToken.objects.get()
    assert alice_client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get().revoked
    response = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}").get(f"{API}/shows/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_someone_elses_token_cannot_be_revoked(client, alice_token, show):
    client.force_login(make_user("mallory"))
    token = ApiToken.objects.get()
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert not ApiToken.objects.get().revoked


def test_a_token_of_an_inactive_user_is_refused(alice, alice_token, show):
    alice.is_active = False
    alice.save()
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}").get(f"{API}/shows/").status_code == 401
    )


def test_a_wrong_token_is_refused(show):
    for value in ("Bearer sf_wrong", "Bearer ", "Basic abc", "Bearer " + "sf_" + "a" * 500):
        response = Client(HTTP_AUTHORIZATION=value).get(f"{API}/shows/")
        assert response.status_code == 401, value


def test_token_calls_need_no_csrf_token(alice_token, show):
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert client.post(f"{API}/shows/saga/episodes/1/4/watched/").status_code == 200


def test_session_calls_keep_csrf_protection(alice, show):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(f"{API}/shows/saga/episodes/1/4/watched/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert not alice.watches.filter(episode__number=4, episode__season_number=1).exists()
    client.get("/shows/saga/")
    csrf = client.cookies["csrftoken"].value
    ok = client.post(f"{API}/shows/saga/episodes/1/4/watched/", HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 200


def test_rate_limit_is_per_token_and_answers_json_429(settings, alice, alice_token, show):
    settings.API_RATE_LIMIT = "3/m"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert [client.get(f"{API}/shows/").status_code for _ in range(3)] == [200] * 3
    limited = client.get(f"{API}/shows/")
    assert limited.status_code == 429
    assert limited.json()["detail"]
    assert int(limited["Retry-After"]) > 0
    other = ApiToken.objects.issue(user=alice, name="Tablet")[1]
    assert Client(HTTP_AUTHORIZATION=f"Bearer {other}").get(f"{API}/shows/").status_code == 200


# Writes, like reads, say "sign in" to a caller with no credentials, a wrong or a revoked token:
# a 401 with RFC 6750's challenge, never the session's CSRF 403.
WRITES = [
    ("post", f"{API}/shows/saga/follow/"),
    ("delete", f"{API}/shows/saga/follow/"),
    ("post", f"{API}/shows/saga/episodes/1/4/watched/"),
    ("delete", f"{API}/shows/saga/episodes/1/1/watched/"),
    ("post", f"{API}/shows/saga/episodes/2/1/watched-up-to/"),
]


def marks_and_follows(user) -> tuple[list, list]:
    return list(user.watches.values_list("episode_id")), list(user.follows.values_list("show_id"))


def refused(client: Client, method: str, path: str, challenge: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 401, (method, path, response.content)
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"] == challenge


def test_a_write_without_credentials_is_a_401_that_asks_for_a_token(alice, show):
    before = marks_and_follows(alice)
    client = Client(enforce_csrf_checks=True)
    for method, path in WRITES + [("get", f"{API}/shows/")]:
        refused(client, method, path, 'Bearer realm="api"')
    assert marks_and_follows(alice) == before


def test_a_write_with_a_wrong_token_is_a_401_that_says_the_token_is_invalid(alice, show):
    before = marks_and_follows(alice)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION="Bearer sf_wrong")
    for method, path in WRITES + [("get", f"{API}/shows/")]:
        refused(client, method, path, 'Bearer realm="api", error="invalid_token"')
    assert marks_and_follows(alice) == before


def test_a_write_with_a_revoked_token_is_a_401_that_says_the_token_is_invalid(
    alice, alice_token, show
):
    ApiToken.objects.update(revoked=True)
    before = marks_and_follows(alice)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    for method, path in WRITES:
        refused(client, method, path, 'Bearer realm="api", error="invalid_token"')
    assert marks_and_follows(alice) == before


def test_a_signed_in_write_with_a_wrong_token_still_needs_the_csrf_token(alice, show):
    before = marks_and_follows(alice)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION="Bearer sf_wrong")
    client.force_login(alice)
    assert client.post(f"{API}/shows/saga/episodes/1/4/watched/").status_code == 403
    assert marks_and_follows(alice) == before
