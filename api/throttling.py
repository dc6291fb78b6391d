"""The API's rate limits: calls per token, and failed token guesses per client address.

Counted in the database (`RateWindow`, one row per bucket for its current fixed window, added to
in one atomic statement), so the limit is the same for every worker and holds while Redis is down.
"""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from config.middleware import client_ip

from .models import ApiToken, RateWindow

PERIODS = {"s": 1, "m": 60, "h": 60 * 60, "d": 60 * 60 * 24}


def parse_rate(rate: str) -> tuple[int, int]:
    """Read "120/m" as (120 calls, 60 seconds); the period is s, m, h or d, or a word so begun."""
    calls, period = rate.split("/")
    return int(calls), PERIODS[period.strip()[0].lower()]


def window_of(duration: int, now: float) -> tuple[int, int]:
    started = int(now // duration) * duration
    return started, started + duration


def count_call(bucket: str, duration: int) -> tuple[int, float]:
    """One more call in `bucket`'s current window: the calls in it so far, and seconds it has left."""
    now = time.time()
    started, ends = window_of(duration, now)
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    with connection.cursor() as cursor:
        # One statement, so two workers counting at once both count: no read-then-write race.
        # Always the same one, so a call costs the same queries whenever it comes.
        cursor.execute(
            f"INSERT INTO {table} (bucket, started, ends, calls) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (bucket) DO UPDATE SET "
            f"calls = CASE WHEN {table}.started = excluded.started THEN {table}.calls + 1 ELSE 1 END, "
            "started = excluded.started, ends = excluded.ends "
            "RETURNING calls",
            [bucket, started, ends],
        )
        calls = cursor.fetchone()[0]
    return calls, ends - now


def calls_so_far(bucket: str, duration: int) -> tuple[int, float]:
    """The calls counted in `bucket`'s current window, without counting one; and seconds left."""
    now = time.time()
    started, ends = window_of(duration, now)
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    with connection.cursor() as cursor:
        # Plain SQL: on every token call, and the ORM would cost more than the query itself.
        cursor.execute(
            f"SELECT calls FROM {table} WHERE bucket = %s AND started = %s", [bucket, started]
        )
        found = cursor.fetchone()
    return (found[0] if found else 0), ends - now


class PerTokenThrottle(BaseThrottle):
    """settings.API_RATE_LIMIT calls per token; the site's own session calls per viewer."""

    def __init__(self) -> None:
        # One instance serves every request; what wait() reports is the current request's.
        self.local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        # Read on each call, so the setting can change without building the API again.
        limit, duration = parse_rate(settings.API_RATE_LIMIT)
        auth = getattr(request, "auth", None)
        bucket = str(auth) if isinstance(auth, ApiToken) else f"user-{request.user.pk}"
        calls, self.local.wait = count_call(bucket, duration)
        return calls <= limit

    def wait(self) -> float | None:
        return getattr(self.local, "wait", None)


class TooManyGuesses(Exception):
    """This address sent too many wrong tokens lately; `wait` is the seconds until it may again."""

    def __init__(self, wait: float):
        self.wait = wait
        super().__init__(f"Too many wrong tokens; try again in {math.ceil(wait)} s.")


def guesses_bucket(request: HttpRequest) -> str:
    # Cut to the column's length: with proxies in front, the address is what a proxy wrote.
    return f"token-guesses-{client_ip(request)}"[:100]


def refuse_if_guessing(request: HttpRequest) -> None:
    """Raise TooManyGuesses before a token is even looked at, once the address is over the limit."""
    limit, duration = parse_rate(settings.API_TOKEN_GUESS_LIMIT)
    calls, wait = calls_so_far(guesses_bucket(request), duration)
    if calls >= limit:
        raise TooManyGuesses(wait)


def count_guess(request: HttpRequest) -> None:
    """A wrong, revoked or malformed token from this address."""
    calls, _ = count_call(guesses_bucket(request), parse_rate(settings.API_TOKEN_GUESS_LIMIT)[1])
    if calls == 1:
        # A row per address that ever guessed would pile up; tokens and viewers are bounded.
        RateWindow.objects.filter(ends__lte=time.time()).delete()
