"""SQLite busy with a writer stuck in a transaction: every write answers 503 "try again", quickly."""

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from companion.models import Watch
from tests.helpers import HTMX

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL makes writers wait on row locks, not the file"
)
busy = pytest.mark.usefixtures("short_busy_timeout")

BUSY_TIMEOUT = 0.3


@pytest.fixture
def short_busy_timeout(transactional_db):
    """Our connection waits only BUSY_TIMEOUT for another's write lock."""
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    options["timeout"] = BUSY_TIMEOUT
    connection.close()  # the timeout is read when connecting
    yield
    options["timeout"] = saved
    connection.close()


@contextmanager
def writer_stuck():
    """Another connection to the same file holds the write lock, as a stuck transaction would."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


def browser(**headers) -> Client:
    # A real client sees the answer Django makes of an exception, not the exception.
    return Client(raise_request_exception=False, **headers)


def timed(call):
    start = time.monotonic()
    with writer_stuck():
        response = call()
    return response, time.monotonic() - start


def assert_try_again(response, seconds):
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert b"try again" in response.content
    # Far below the 20 s it was; loose enough for a loaded machine to make its first request.
    assert seconds < 8


@busy
def test_a_mark_while_the_database_is_busy_says_try_again(alice, show):
    client = browser()
    client.force_login(alice)
    response, seconds = timed(lambda: client.post("/shows/saga/s1/e4/watch/"))
    assert_try_again(response, seconds)
    assert b"<h1>Busy for a moment</h1>" in response.content
    assert not Watch.objects.filter(episode__season_number=1, episode__number=4).exists()


@busy
def test_an_htmx_mark_while_the_database_is_busy_gets_the_message_fragment(alice):
    client = browser()
    client.force_login(alice)
    response, seconds = timed(lambda: client.post("/shows/saga/s1/e4/watch/", **HTMX))
    assert_try_again(response, seconds)
    assert response["HX-Retarget"] == "#messages"
    assert b'role="alert"' in response.content and b"<html" not in response.content


@busy
def test_logging_in_while_the_database_is_busy_says_try_again(alice):
    response, seconds = timed(
        lambda: browser().post(
            "/accounts/login/", {"username": "alice", "password": "correct-horse-battery"}
        )
    )
    assert_try_again(response, seconds)


@busy
def test_a_session_only_write_while_the_database_is_busy_says_try_again(alice):
    # Rewatch mode writes only the session, which is saved by a middleware after the view.
    client = browser()
    client.force_login(alice)
    response, seconds = timed(lambda: client.post("/shows/saga/as-of/", {"episode": "1x2"}))
    assert_try_again(response, seconds)


@busy
def test_an_api_write_while_the_database_is_busy_is_a_json_503(alice, alice_token):
    client = browser(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    response, seconds = timed(lambda: client.post("/api/v1/shows/saga/episodes/1/4/watched/"))
    assert_try_again(response, seconds)
    assert response.json()["detail"].startswith("The site is busy")


@busy
def test_reading_while_the_database_is_busy_still_works(alice):
    client = browser()
    client.force_login(alice)
    response, _ = timed(lambda: client.get("/shows/saga/"))
    assert response.status_code == 200 and b"RECAP-saga-1x3" in response.content


def test_sqlites_busy_timeout_is_short_and_configurable():
    # Several waits in one request (a log-in writes twice) stay well inside gunicorn's 30 s.
    assert settings.DATABASES["default"]["OPTIONS"]["timeout"] == 5
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS']['timeout'])"
    env = {
        **os.environ,
        "SQLITE_BUSY_TIMEOUT": "2.5",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("DATABASE_URL", None)
    shown = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "2.5"
