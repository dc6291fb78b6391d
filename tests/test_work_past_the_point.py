"""Content past a viewer's safe point costs the database no work on any of their requests.

Time is a channel too: if a page took longer because something hidden exists, a viewer could time
it. The clock is too noisy for a test, so these count what the database does instead: SQLite's
virtual-machine instructions, the same on every run. A request made with hidden content in the
database must take exactly as many as the same request without it.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from companion.models import Character, CharacterState, Episode, ReviewerNote
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


def work_of_every_request(client) -> dict[tuple[str, bool], int]:
    measured = Measured(client)
    crawl(measured, ["/", "/shows/saga/", *API], referer="/shows/saga/", terms=TERMS)
    return measured.work


def hide_content_past_the_point(show) -> None:
    """For a viewer at 1x03: newcomers, later states of someone they know, late notes."""
    late = episode(show, "2x05")
    for n in range(12):
        make_character(show, f"Hidden zzsecret{n}", "2x05", {"2x05": "alive"})
    ada = Character.objects.get(show=show, name="Ada")
    for code in ("1x04", "2x04"):
        CharacterState.objects.create(
            character=ada, reveal_at=episode(show, code), description="zzsecret Ada later"
        )
    for n in range(12):
        ReviewerNote.objects.create(
            episode=episode(show, "1x02"), reveal_at=late, text=f"zzsecret {n}", outlet="Later"
        )


def test_hidden_content_costs_no_work_on_any_request(db, show, alice, client):
    client.force_login(alice)
    without = work_of_every_request(client)
    hide_content_past_the_point(show)
    with_hidden = work_of_every_request(client)
    assert without.keys() == with_hidden.keys()
    differ = {
        f"{url}{' [htmx]' if htmx else ''}": (without[url, htmx], steps)
        for (url, htmx), steps in with_hidden.items()
        if steps != without[url, htmx]
    }
    assert not differ, f"work that grew with hidden content (without, with): {differ}"


def test_hidden_titles_cost_search_no_work(db, show, client, django_user_model):
    """With hide-titles on, a word only unwatched titles hold is searched as fast as a word no
    title holds."""
    viewer = django_user_model.objects.create_user("hider", hide_unwatched_titles=True)
    client.force_login(viewer)
    Episode.objects.filter(show=show, season_number=2).update(title="Zzsecret arrival")
    measured = Measured(client)
    for term in ("Zzsecret", "Nowhere"):
        for url in (f"/shows/saga/search/?q={term}", f"/api/v1/shows/saga/search/?q={term}"):
            measured.get(url)
            measured.get(url, HTTP_HX_REQUEST="true")
    work = measured.work
    for kind in ("/shows/saga/search/?q=", "/api/v1/shows/saga/search/?q="):
        for htmx in (False, True):
            assert work[f"{kind}Zzsecret", htmx] == work[f"{kind}Nowhere", htmx], (kind, htmx)
