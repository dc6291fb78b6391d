"""The API's rate limits hold across workers and cache outages, and wrong tokens are throttled too."""

import threading

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api import throttling
from api.models import ApiToken, RateWindow

API = "/api/v1"
# Nothing listens on port 1: Redis is down, and the cache ignores it, as in production.
REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
    }
}


def statuses(client: Client, count: int, path: str = "/shows/") -> list[int]:
    return [client.get(f"{API}{path}").status_code for _ in range(count)]


def test_calls_counted_by_one_worker_count_for_every_worker(settings, alice_token, show):
    settings.API_RATE_LIMIT = "4/m"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert statuses(client, 2) == [200, 200]
    # Another worker has a local cache of its own, empty; so has a Redis that just restarted.
    cache.clear()
    assert statuses(client, 3) == [200, 200, 429]


def test_the_limit_holds_while_redis_is_down(settings, alice_token, show):
    settings.CACHES = REDIS_DOWN
    settings.API_RATE_LIMIT = "3/m"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert statuses(client, 4) == [200, 200, 200, 429]


def test_the_limit_is_counted_exactly_when_calls_come_at_once(
    settings, monkeypatch, transactional_db, show
):
    from tests.factories import make_user

    settings.API_RATE_LIMIT = "5/m"
    # Well inside one fixed window: calls on both sides of a minute's end are counted in two.
    monkeypatch.setattr(throttling.time, "time", lambda: 6_000_015.0)
    raw = ApiToken.objects.issue(user=make_user("dora"), name="phone")[1]
    barrier = threading.Barrier(10)
    results: list[int] = []

    def call():
        try:
            barrier.wait()
            client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
            results.append(client.get(f"{API}/shows/saga/").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [200] * 5 + [429] * 5


def test_retry_after_is_when_the_window_ends(settings, monkeypatch, alice_token, show):
    settings.API_RATE_LIMIT = "1/m"
    monkeypatch.setattr(throttling.time, "time", lambda: 6_000_015.0)  # 15 s into a minute
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert statuses(client, 1) == [200]
    limited = client.get(f"{API}/shows/")
    assert limited.status_code == 429 and limited["Retry-After"] == "45"


def test_a_new_window_starts_afresh(settings, monkeypatch, alice_token, show):
    settings.API_RATE_LIMIT = "1/m"
    now = [6_000_000.0]
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert statuses(client, 2) == [200, 429]
    now[0] += 60
    assert statuses(client, 2) == [200, 429]
    assert RateWindow.objects.count() == 1


def test_a_call_costs_the_same_queries_at_the_start_of_a_window_as_later(alice_token, show):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    client.get(f"{API}/shows/")  # the token's last use is recorded once a minute
    with CaptureQueriesContext(connection) as first:
        client.get(f"{API}/shows/saga/")
    with CaptureQueriesContext(connection) as second:
        client.get(f"{API}/shows/saga/")
    RateWindow.objects.update(started=0)  # as if the window had just ended
    with CaptureQueriesContext(connection) as fresh:
        client.get(f"{API}/shows/saga/")
    assert len(first) == len(second) == len(fresh)


# --- Wrong tokens ---------------------------------------------------------------------------------


def test_an_address_sending_wrong_tokens_is_refused_for_a_while(settings, alice_token, show):
    settings.API_TOKEN_GUESS_LIMIT = "3/m"
    guesser = Client(HTTP_AUTHORIZATION="Bearer sf_guess", REMOTE_ADDR="203.0.113.9")
    assert statuses(guesser, 3) == [401, 401, 401]
    # Even a right token is not looked at from there until the window ends.
    lucky = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}", REMOTE_ADDR="203.0.113.9")
    refused = lucky.post(f"{API}/shows/saga/follow/")
    assert refused.status_code == 429
    assert refused.json()["detail"] and 0 < int(refused["Retry-After"]) <= 60
    # Another address is not held up by it.
    elsewhere = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}", REMOTE_ADDR="198.51.100.7")
    assert statuses(elsewhere, 1) == [200]


def test_a_right_token_is_not_counted_as_a_guess(settings, alice_token, show):
    settings.API_TOKEN_GUESS_LIMIT = "2/m"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert statuses(client, 4) == [200] * 4


def test_ended_windows_are_cleared_away(settings, monkeypatch, alice_token, show):
    now = [6_000_000.0]
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    for address in ("203.0.113.1", "203.0.113.2"):
        Client(HTTP_AUTHORIZATION="Bearer sf_guess", REMOTE_ADDR=address).get(f"{API}/shows/")
    assert RateWindow.objects.count() == 2
    now[0] += 3600
    Client(HTTP_AUTHORIZATION="Bearer sf_guess", REMOTE_ADDR="203.0.113.3").get(f"{API}/shows/")
    assert list(RateWindow.objects.values_list("bucket", flat=True)) == [
        "token-guesses-203.0.113.3"
    ]


def test_calls_with_no_token_are_not_guesses(settings, show):
    settings.API_TOKEN_GUESS_LIMIT = "2/m"
    assert statuses(Client(), 4) == [401] * 4


@pytest.mark.parametrize(
    "rate, parsed", [("120/m", (120, 60)), ("5/sec", (5, 1)), ("1/day", (1, 86400))]
)
def test_rates_are_read_as_calls_per_period(rate, parsed):
    assert throttling.parse_rate(rate) == parsed
