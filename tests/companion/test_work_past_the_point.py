"""Content past a viewer's safe point costs the database no work on any of their requests.

Time is a channel too: if a page took longer because something hidden exists, a viewer could time
it. The clock is too noisy for a test, so these count what the database does instead: SQLite's
virtual-machine instructions, the same on every run. A request made with hidden content in the
database must take exactly as many as the same request without it.
"""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection

from api import throttling
from companion.models import Character, CharacterState, Episode, Recap, ReviewerNote
from tests.crawl import crawl
from tests.factories import episode, make_character
from tests.helpers import DatabaseWork

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="counts SQLite's virtual-machine instructions"
)

# Typed into every search box the crawl finds: each matches only hidden content, or nothing.
TERMS = ["Hidden", "zzsecret", "Ada", "nothing"]

API = [
    "/api/v1/shows/saga/",
    "/api/v1/shows/saga/characters/",
    "/api/v1/shows/saga/recaps/",
    "/api/v1/shows/saga/notes/",
    "/api/v1/shows/saga/episodes/",
    "/api/v1/shows/saga/episodes/1/2/",
    "/api/v1/shows/saga/episodes/1/3/",
    "/api/v1/shows/saga/progress/",
    *(f"/api/v1/shows/saga/search/?q={term}" for term in TERMS),
]


class Measured:
    """A test client that measures each GET on an empty cache: a first look, the slow path."""

    def __init__(self, client):
        self.client = client
        self.work: dict[tuple[str, bool], int] = {}

    def get(self, url, **headers):
        cache.clear()
        with DatabaseWork() as work:
            response = self.client.get(url, **headers)
        self.work[url, "HTTP_HX_REQUEST" in headers] = work.steps
        return response


@pytest.fixture(autouse=True)
def _one_rate_window():
    """The API counts each call in the viewer's rate window: the first call of a window starts
    its row, every later one adds to it. Every measured call falls in one window, after its first."""
    with mock.patch.object(throttling, "time", SimpleNamespace(time=lambda: 1_000_000.0)):
        yield


def work_of_every_request(client) -> dict[tuple[str, bool], int]:
    client.get(API[0])
    measured = Measured(client)
    crawl(measured, ["/", "/shows/saga/", *API], referer="/shows/saga/", terms=TERMS)
    return measured.work


LATER = ["1x04", "1x05", "2x01", "2x02", "2x03", "2x04", "2x05"]


def hide_content_past_the_point(show) -> None:
    """For a viewer at 1x03: recaps of the episodes ahead, newcomers, later states of someone
    they know, late notes."""
    late = episode(show, "2x05")
    for code in LATER:
        if not Recap.objects.filter(episode=episode(show, code)).exists():
            Recap.objects.create(episode=episode(show, code), text=f"zzsecret recap {code}")
    for _ in range(12):
        n = Character.objects.count()
        make_character(show, f"Hidden zzsecret{n}", "2x05", {"2x05": "alive"})
    ada = Character.objects.get(show=show, name="Ada")
    for code in ("1x04", "2x04", "2x05"):
        CharacterState.objects.get_or_create(
            character=ada, reveal_at=episode(show, code), defaults={"description": "zzsecret"}
        )
    for n in range(12):
        ReviewerNote.objects.create(
            episode=episode(show, "1x02"), reveal_at=late, text=f"zzsecret {n}", outlet="Later"
        )


# An index seek that finds nothing ends an instruction sooner when no entry at all follows its key
# in the index, from any show: a tell of one instruction or two, a few nanoseconds, whatever the
# amount of content; what a row read past the point costs is ten times that, for every row.
EDGE_OF_AN_INDEX = 3


def grew(before: dict, after: dict, *, allowed: int = 0) -> dict[str, tuple[int, int]]:
    assert before.keys() == after.keys()
    return {
        f"{url}{' [htmx]' if htmx else ''}": (before[url, htmx], steps)
        for (url, htmx), steps in after.items()
        if abs(steps - before[url, htmx]) > allowed
    }


def test_hidden_content_costs_no_work_on_any_request(db, show, alice, client):
    client.force_login(alice)
    Recap.objects.filter(episode__in=[episode(show, code) for code in LATER]).delete()
    without = work_of_every_request(client)
    hide_content_past_the_point(show)
    some_hidden = work_of_every_request(client)
    differ = grew(without, some_hidden, allowed=EDGE_OF_AN_INDEX)
    assert not differ, f"work that grew with hidden content (without, with): {differ}"
    hide_content_past_the_point(show)
    twice_as_much = work_of_every_request(client)
    differ = grew(some_hidden, twice_as_much)
    assert not differ, f"work that grew with more hidden content (some, more): {differ}"


def test_hidden_titles_cost_search_no_work(db, show, client, django_user_model):
    """With hide-titles on, a word only unwatched titles hold is searched as fast as a word no
    title holds."""
    viewer = django_user_model.objects.create_user("hider", hide_unwatched_titles=True)
    client.force_login(viewer)
    Episode.objects.filter(show=show, season_number=2).update(title="Zzsecret arrival")
    client.get(API[0])
    measured = Measured(client)
    for term in ("Zzsecret", "Nowhere"):
        for url in (f"/shows/saga/search/?q={term}", f"/api/v1/shows/saga/search/?q={term}"):
            measured.get(url)
            measured.get(url, HTTP_HX_REQUEST="true")
    work = measured.work
    for kind in ("/shows/saga/search/?q=", "/api/v1/shows/saga/search/?q="):
        for htmx in (False, True):
            assert work[f"{kind}Zzsecret", htmx] == work[f"{kind}Nowhere", htmx], (kind, htmx)
