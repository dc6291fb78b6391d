"""Search: what it lists is shared between viewers who would see the same, and only between them."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from companion.models import ReviewerNote
from companion.viewing import SEARCH_LIMIT
from tests.factories import episode, make_user, watch
from tests.helpers import DatabaseWork, queries_past_the_session

URL = "/shows/saga/search/?q=RECAP"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_viewers_at_the_same_point_share_the_search(alice_client, show):
    first = alice_client.get(URL).content.decode()
    bob = make_user("bob")
    watch(bob, show, "1x01", "1x02", "1x03")
    with CaptureQueriesContext(connection) as queries:
        second = client_of(bob).get(URL).content.decode()
    assert "RECAP-saga-1x2" in second and "RECAP-saga-1x4" not in second
    assert not [q for q in queries if "companion_recap" in q["sql"]]
    assert first.split('id="results"')[1] == second.split('id="results"')[1]


def test_a_viewer_further_on_finds_more(alice_client, show):
    alice_client.get(URL)
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "1x04")
    body = client_of(carol).get(URL).content.decode()
    assert "RECAP-saga-1x4" in body


def test_hidden_titles_are_not_served_from_a_search_without_them(alice_client, show):
    query = "/shows/saga/search/?q=TITLE"
    assert "TITLE-saga-1x4" in alice_client.get(query).content.decode()
    hider = make_user("hider", hide_unwatched_titles=True)
    watch(hider, show, "1x01", "1x02", "1x03")
    body = client_of(hider).get(query).content.decode()
    assert "TITLE-saga-1x3" in body and "TITLE-saga-1x4" not in body


def test_an_edit_of_a_found_note_shows_on_the_next_search(alice_client, show):
    note = ReviewerNote.objects.create(
        episode=episode(show, "1x02"), reveal_at=episode(show, "1x02"), text="FIRST", outlet="P"
    )
    assert "FIRST" in alice_client.get("/shows/saga/search/?q=FIRST").content.decode()
    note.text = "FIRST, then EDITED"
    note.save()
    assert "EDITED" in alice_client.get("/shows/saga/search/?q=FIRST").content.decode()


def test_the_query_is_part_of_what_is_shared(alice_client):
    assert "Nothing found for “RECAPX”" in alice_client.get(URL + "X").content.decode()
    assert "Nothing found for “recapx”" in alice_client.get(URL.lower() + "x").content.decode()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="counts SQLite's instructions")
def test_a_search_reads_only_as_far_as_it_lists(alice_client, show):
    """Notes are read in story order up to the limit: more matches further on cost nothing."""

    def notes(code: str, count: int) -> None:
        at = episode(show, code)
        ReviewerNote.objects.bulk_create(
            ReviewerNote(episode=at, reveal_at=at, text=f"COMMON {n}", outlet="P")
            for n in range(count)
        )

    def work() -> int:
        cache.clear()
        with DatabaseWork() as measured:
            alice_client.get("/shows/saga/search/?q=COMMON")
        return measured.steps

    notes("1x01", SEARCH_LIMIT)
    notes("1x02", 5)
    before = work()
    notes("1x02", 200)
    notes("1x03", 200)
    assert work() == before


def test_search_queries(alice_client):
    """The session (not counted) and user, the show, the safe point (with the content stamp),
    then the five kinds found; with the list already shared, none of the five."""
    assert queries_past_the_session(alice_client, URL) == 8
    assert queries_past_the_session(alice_client, URL) == 3
