"""With the cache unreachable every page still renders, logins and marks work, and nothing is lost."""

import logging
import shutil
import socket
import subprocess
import time

import pytest
from django.urls import reverse

from companion.models import Watch
from config.settings import cache_settings
from tests.factories import episode

# A port nothing listens on: every cache call is refused at once.
UNREACHABLE = "redis://127.0.0.1:9/0"


@pytest.fixture
def cache_down(settings):
    # Exactly what the settings build from REDIS_URL.
    settings.CACHES = cache_settings(UNREACHABLE)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def test_logging_in_works_with_the_cache_down(client, alice, cache_down):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert client.get(reverse("show-list")).context["user"] == alice


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/shows/saga/",
        "/shows/saga/s1/e2/",
        "/shows/saga/cast/",
        "/shows/saga/cast/ada/",
        "/shows/saga/story/",
        "/shows/saga/previously/",
        "/shows/saga/search/?q=RECAP",
    ],
)
def test_every_page_renders_uncached_with_the_cache_down(alice_client, cache_down, url):
    response = alice_client.get(url)
    assert response.status_code == 200
    if url != "/":
        assert "RECAP-saga-1x4" not in response.content.decode()


def test_the_gated_content_is_still_there_with_the_cache_down(alice_client, cache_down):
    assert "RECAP-saga-1x2" in alice_client.get("/shows/saga/s1/e2/").content.decode()
    assert "STATE-Ada-1x03" in alice_client.get("/shows/saga/cast/").content.decode()


def test_a_mark_is_kept_with_the_cache_down(alice_client, alice, show, cache_down):
    response = alice_client.post("/shows/saga/s1/e4/watch/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Watch.objects.filter(user=alice, episode=episode(show, "1x04")).exists()
    assert "RECAP-saga-1x4" in alice_client.get("/shows/saga/s1/e4/").content.decode()


def start_redis(port: int, folder: str) -> subprocess.Popen:
    """A Redis server of the test's own on the port given, once it accepts connections."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        with socket.socket() as attempt:
            if attempt.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return process


@pytest.fixture
def own_redis(settings, tmp_path):
    """A Redis server of this test's own, on a free port, that the test may stop."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start_redis(port, str(tmp_path))
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{port}/0")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield process
    process.kill()
    process.wait()


def test_a_redis_stopped_mid_run_changes_nothing_a_viewer_sees(client, alice, show, own_redis):
    client.post(reverse("login"), {"username": "alice", "password": "correct-horse-battery"})
    warm = client.get("/shows/saga/story/").content.decode()
    assert "RECAP-saga-1x2" in warm
    own_redis.kill()
    own_redis.wait()
    cold = client.get("/shows/saga/story/")
    assert cold.status_code == 200 and "RECAP-saga-1x2" in cold.content.decode()
    assert client.post("/shows/saga/s1/e4/watch/").status_code == 302
    assert "RECAP-saga-1x4" in client.get("/shows/saga/s1/e4/").content.decode()


def warnings_logged(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


def test_an_outage_logs_one_line_not_a_traceback_per_request(alice_client, settings, caplog):
    # A database number of this test's own, so no earlier test's outage is still under way.
    settings.CACHES = cache_settings("redis://127.0.0.1:9/7")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    caplog.set_level(logging.DEBUG)
    for n in range(50):
        assert alice_client.get(f"/shows/saga/s1/e{n % 3 + 1}/").status_code == 200
    logged = warnings_logged(caplog)
    assert len(logged) == 1, logged
    assert "cache" in logged[0].lower() and "unreachable" in logged[0].lower()
    assert not any(record.exc_info for record in caplog.records)


def test_the_end_of_an_outage_is_one_line_and_the_next_outage_logs_again(
    client, alice, show, own_redis, settings, caplog
):
    client.post(reverse("login"), {"username": "alice", "password": "correct-horse-battery"})
    port = settings.CACHES["default"]["LOCATION"].rsplit(":", 1)[1].split("/")[0]
    caplog.set_level(logging.DEBUG)
    own_redis.kill()
    own_redis.wait()
    for _ in range(20):
        assert client.get("/shows/saga/story/").status_code == 200
    restarted = start_redis(int(port), own_redis.args[-1])
    try:
        for _ in range(5):
            assert client.get("/shows/saga/story/").status_code == 200
        logged = warnings_logged(caplog)
        assert len(logged) == 2, logged
        assert "unreachable" in logged[0] and "back" in logged[1]
    finally:
        restarted.kill()
        restarted.wait()
    for _ in range(5):
        assert client.get("/shows/saga/story/").status_code == 200
    assert len(warnings_logged(caplog)) == 3
