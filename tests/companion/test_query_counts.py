"""Queries per page stay flat as content and progress grow."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from companion.models import (
    Character,
    CharacterState,
    Episode,
    Recap,
    ReviewerNote,
    Season,
    Watch,
)
from tests.factories import make_user
from tests.helpers import queries_past_the_session

PAGES = [
    "/",
    "/browse/",
    "/shows/saga/",
    "/shows/saga/s1/e2/",
    "/shows/saga/s1/e2/notes/",
    "/shows/saga/cast/",
    "/shows/saga/cast/ada/",
    "/shows/saga/story/",
    "/shows/saga/search/?q=RECAP",
    "/shows/saga/previously/",
    "/shows/saga/s2/e5/watch-up-to/confirm/",
]


def grow(show, items: int) -> None:
    """Add about `items` pieces of content: episodes with recaps, characters with states, notes."""
    seasons = max(1, items // 200)
    episodes = []
    for number in range(show.seasons.count() + 1, show.seasons.count() + seasons + 1):
        season = Season.objects.create(show=show, number=number)
        episodes += Episode.objects.bulk_create(
            Episode(
                show=show,
                season=season,
                number=n,
                title=f"T{n}",
                season_number=number,
                sequence=number * 1000 + n,
            )
            for n in range(1, 11)
        )
    show.resequence()
    all_episodes = list(show.episodes.order_by("sequence"))
    Recap.objects.bulk_create(
        Recap(episode=e, reveal_at=e, text=f"RECAP {e.code}") for e in episodes
    )
    start = Character.objects.count()
    characters = Character.objects.bulk_create(
        Character(
            show=show,
            name=f"Person {i}",
            slug=f"person-{i}",
            first_appearance=all_episodes[i % len(all_episodes)],
        )
        for i in range(start, start + items // 10)
    )
    CharacterState.objects.bulk_create(
        CharacterState(
            character=c, reveal_at=all_episodes[(i + k) % len(all_episodes)], description="x"
        )
        for i, c in enumerate(characters)
        for k in range(3)
    )
    ReviewerNote.objects.bulk_create(
        ReviewerNote(
            episode=all_episodes[i % len(all_episodes)],
            reveal_at=all_episodes[-1],
            text=f"RECAP note {i}",
            outlet="P",
        )
        for i in range(items // 2)
    )


def count_queries(client, url: str) -> int:
    """The queries of rendering the page with nothing cached."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", PAGES)
def test_queries_do_not_grow_with_content(alice_client, show, url, django_assert_max_num_queries):
    small = count_queries(alice_client, url)
    grow(show, 1000)
    with django_assert_max_num_queries(small):
        alice_client.get(url)
    # Session and user (2), the show, the safe point (first gap, last episode before it, specials
    # after it: one statement) and the page's own.
    assert small <= 17


@pytest.mark.parametrize("url", PAGES)
def test_queries_do_not_grow_with_progress(client, show, url):
    viewer = make_user("viewer")
    client.force_login(viewer)
    Watch.objects.mark_watched_up_to(
        user=viewer, episode=show.episodes.get(season_number=1, number=2)
    )
    early = count_queries(client, url)
    Watch.objects.mark_watched_up_to(user=viewer, episode=show.episodes.order_by("sequence").last())
    assert count_queries(client, url) == early


def test_marking_watched_costs_the_same_at_any_size(alice_client, show):
    htmx = {"HTTP_HX_REQUEST": "true"}
    with CaptureQueriesContext(connection) as small:
        alice_client.post("/shows/saga/s1/e4/watch/", **htmx)
    grow(show, 1000)
    with CaptureQueriesContext(connection) as large:
        alice_client.post("/shows/saga/s1/e5/watch/", **htmx)
    assert len(large) == len(small)


def test_marking_a_season_costs_the_same_at_any_size(alice_client, show):
    htmx = {"HTTP_HX_REQUEST": "true"}
    with CaptureQueriesContext(connection) as small:
        alice_client.post("/shows/saga/seasons/1/watch/", **htmx)
    grow(show, 1000)
    with CaptureQueriesContext(connection) as large:
        alice_client.post("/shows/saga/seasons/2/watch/", **htmx)
    assert len(large) == len(small)


def test_shows_list_costs_the_same_with_more_shows(alice_client, alice, show):
    from tests.factories import make_show, watch

    few = count_queries(alice_client, "/")
    for n in range(5):
        other = make_show(f"extra{n}", seasons=1, episodes=3)
        watch(alice, other, "1x1", "1x3")
    body = alice_client.get("/").content.decode()
    assert count_queries(alice_client, "/") == few
    assert "S1E1 · 2 of 3 watched" in " ".join(body.split())


@pytest.mark.parametrize("url", ["/", "/browse/", "/browse/?q=a"])
def test_home_and_browse_cost_the_same_with_one_or_six_followed_shows(
    alice_client, alice, show, url
):
    from tests.factories import make_show, watch

    one = count_queries(alice_client, url)
    for n in range(5):
        other = make_show(f"extra{n}", seasons=2, episodes=3)
        watch(alice, other, "1x1", *(["1x3", "2x1"] if n % 2 else []))
    body = alice_client.get(url).content.decode()
    assert body.count("Following · ") == 6 or body.count('class="card show-card"') == 6
    six = count_queries(alice_client, url)
    assert six == one
    print(f"{url}: {one} queries with 1 followed show, {six} with 6")


def test_the_show_page_and_a_mark_from_it_read_no_more_than_they_need(alice_client):
    """The show page finds up next among its rows and rules out a gap from its season heads; its
    tools load when opened. A mark adds up the progress box from the heads too."""
    # Session and user, the show, the safe point, the season heads, the open season's rows and
    # their recaps, the follow and the parties.
    assert count_queries(alice_client, "/shows/saga/") <= 10
    htmx = {"HTTP_HX_REQUEST": "true"}
    with CaptureQueriesContext(connection) as mark:
        alice_client.post("/shows/saga/s1/e4/watch/", **htmx)
    assert len(mark) <= 20


def test_specials_listed_among_a_seasons_rows_cost_no_query(alice_client, alice):
    """Where each special is listed comes with the rows themselves: neither the show page nor a
    season unfolded asks for the seasons' places on their own."""
    from tests.factories import make_show, watch

    for show in (make_show("plain", episodes=3), make_show("extras", episodes=3, specials=2)):
        watch(alice, show, "1x1", "1x2", "1x3")
    plain = count_queries(alice_client, "/shows/plain/")
    assert "S0E2" in alice_client.get("/shows/extras/").content.decode()
    assert count_queries(alice_client, "/shows/extras/") == plain
    alice_client.defaults["HTTP_HX_REQUEST"] = "true"
    unfolded = count_queries(alice_client, "/shows/plain/seasons/2/")
    assert "S0E2" in alice_client.get("/shows/extras/seasons/2/").content.decode()
    assert count_queries(alice_client, "/shows/extras/seasons/2/") == unfolded


def test_whos_who_reads_its_characters_and_their_newest_states_in_one_query(alice_client):
    # Session and user, the show, the safe point (with the content stamp of the shared list),
    # the count for the page links, then the page of characters with their newest states.
    assert count_queries(alice_client, "/shows/saga/cast/") == 6


def test_whos_who_at_a_point_already_listed_neither_counts_nor_reads_characters(alice_client):
    count_queries(alice_client, "/shows/saga/cast/")
    # The user, the show and the safe point (with the content stamp of the shared list).
    assert queries_past_the_session(alice_client, "/shows/saga/cast/") == 3


def test_a_character_read_at_their_point_already_is_not_looked_up_again(alice_client):
    count_queries(alice_client, "/shows/saga/cast/ada/")
    # The user, the show and the safe point (with the content stamp of the shared page).
    assert queries_past_the_session(alice_client, "/shows/saga/cast/ada/") == 3


@pytest.mark.django_db(transaction=True)
def test_marking_one_episode_writes_in_one_transaction_without_savepoints(alice_client, show):
    # Each savepoint is two more round trips on PostgreSQL, on the product's most frequent write.
    with CaptureQueriesContext(connection) as marking:
        response = alice_client.post("/shows/saga/s1/e4/watch/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Watch.objects.filter(user__username="alice", episode__number=4).exists()
    statements = [query["sql"].upper() for query in marking]
    assert not [s for s in statements if "SAVEPOINT" in s]
    assert sum(s.startswith(("BEGIN", "COMMIT")) for s in statements) <= 2
