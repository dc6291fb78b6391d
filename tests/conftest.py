import os
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django_tasks import default_task_backend

from catalogue import tvmaze
from companion.sql import forget_kept_reads
from tests.factories import make_character, make_show, make_user, watch


def pytest_configure(config):
    """Under pytest-xdist each worker has a Redis database of its own: cache.clear() empties a
    whole database, and one worker's clear must not empty another's cache mid-test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ...
    cache_settings = django_settings.CACHES["default"]
    location = cache_settings.get("LOCATION")
    if not worker or not isinstance(location, str) or not location.startswith("redis"):
        return
    url = urlsplit(location)
    database = int(url.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    cache_settings["LOCATION"] = url._replace(path=f"/{database}").geturl()


def pytest_collection_modifyitems(config, items):
    """The slow tests first: under pytest-xdist the leak proof's few long tests then run beside
    the many short ones, not alone at the end while the other workers wait."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Production hashing costs ~0.3 s per password; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_template_syntax_reaches_the_browser(settings):
    # Every page any test renders is checked: a broken comment or tag shows on the page itself.
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.helpers.NoTemplateSyntax"]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """No test reaches TVmaze: every request fails as if offline, unless a test replays
    recordings (tests/catalogue/conftest.py)."""

    def offline(request):
        raise httpx.ConnectError("tests never reach the network", request=request)

    monkeypatch.setattr(tvmaze, "TRANSPORT", httpx.MockTransport(offline))


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Images a test's import downloads land in its own folder, never in the checkout's media/.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Fragments are cached by safe point; each test starts with an empty cache. So do the reads
    # each process keeps per version of a show (a rolled-back test's show, its ids and its
    # version 0 come again in the next test).
    cache.clear()
    forget_kept_reads()
    yield
    cache.clear()
    forget_kept_reads()


@pytest.fixture(autouse=True)
def _api_rate_limit_out_of_the_way(settings):
    # Crawls and property tests make thousands of API calls; the rate limit has its own tests.
    settings.API_RATE_LIMIT = "100000/m"


@pytest.fixture
def queued_tasks(settings):
    """Tasks wait in a list, as in production before the worker takes them (tests run them)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    return default_task_backend


@pytest.fixture
def show(db):
    """Two seasons of five episodes; Ada is there from 1x01 and dies in 2x02; Zed Quist first appears in 1x04."""
    saga = make_show("saga", seasons=2, episodes=5)
    make_character(saga, "Ada", "1x01", {"1x01": "alive", "1x03": "missing", "2x02": "dead"})
    make_character(saga, "Zed Quist", "1x04", {"1x04": "alive"})
    return saga


@pytest.fixture
def epic(db):
    """Seven seasons of ten: long enough that the show page opens only the viewer's season."""
    return make_show("epic", seasons=7, episodes=10)


@pytest.fixture
def alice(show):
    """A viewer who has watched 1x01 to 1x03."""
    user = make_user("alice")
    watch(user, show, "1x01", "1x02", "1x03")
    return user


@pytest.fixture
def bob(show):
    """A viewer who has watched everything."""
    user = make_user("bob")
    watch(user, show, *[f"{s}x{e}" for s in (1, 2) for e in range(1, 6)])
    return user


@pytest.fixture
def outsider(db):
    """Logged in, has watched nothing."""
    return make_user("outsider")


@pytest.fixture
def editor(db):
    return make_user("editor", is_staff=True, is_superuser=True)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def alice_token(alice) -> str:
    """A personal API token of alice's, as her app would send it."""
    from api.models import ApiToken

    return ApiToken.objects.issue(user=alice, name="Alice's phone")[1]


@pytest.fixture
def alice_api(alice_token):
    """A client that calls the API with alice's token and no session."""
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
