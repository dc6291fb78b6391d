"""What each page and htmx fragment shows a viewer at 1x03 (alice), and what it must not."""

import pytest

from companion.models import ReviewerNote, Watch
from tests.factories import episode, make_character
from tests.helpers import HTMX, markers_in, mask_csrf

SAFE = ["RECAP-saga-1x1", "RECAP-saga-1x3", "NOTE-saga-1x2", "STATE-Ada-1x03"]
SPOILERS = [
    "RECAP-saga-1x4",
    "RECAP-saga-2x5",
    "NOTE-saga-1x4",
    "NOTE-saga-2x1",
    "STATE-Ada-2x02",
    "PLACE-Ada-2x02",
    "Zed Quist",
    "STATE-Zed Quist",
]

PAGES = [
    "/",
    "/shows/saga/",
    "/shows/saga/cast/",
    "/shows/saga/story/",
    "/shows/saga/search/?q=saga",
    "/shows/saga/s1/e3/",
    "/shows/saga/s1/e4/",
    "/shows/saga/s2/e5/",
    "/shows/saga/cast/ada/",
    "/shows/saga/cast/zed-quist/",
    "/shows/saga/search/?q=STATE",
    "/shows/saga/search/?q=NOTE",
    "/shows/saga/s2/e2/preview/",
    "/accounts/export/",
    "/accounts/preferences/",
    "/no-such-page/",
    "/shows/saga/seasons/1/",
    "/shows/saga/seasons/2/",
    "/shows/saga/previously/",
    "/browse/",
    "/browse/?q=saga",
    "/shows/saga/s1/e4/watch-up-to/confirm/",
    "/shows/saga/s2/e5/watch-up-to/confirm/?next=/shows/saga/",
]


def assert_no_spoilers(response):
    body = markers_in(response)
    leaked = [marker for marker in SPOILERS if marker in body]
    assert not leaked, f"{response.request['PATH_INFO']} leaked {leaked}"


@pytest.fixture(params=["cached", "uncached"])
def cache_mode(request, settings):
    if request.param == "uncached":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    return request.param


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_no_page_or_fragment_shows_anything_past_the_safe_point(
    client, alice, bob, url, htmx, cache_mode
):
    # bob (at the finale) goes first, so with caching on every fragment he saw is in the cache.
    client.force_login(bob)
    client.get(url)
    client.force_login(alice)
    response = client.get(url, **(HTMX if htmx else {}))
    assert response.status_code in (200, 302, 404)
    assert_no_spoilers(response)


@pytest.mark.parametrize("url", PAGES)
def test_looking_back_shows_nothing_past_the_point_looked_back_at(alice_client, url, cache_mode):
    alice_client.post("/shows/saga/as-of/", {"episode": "1x2"})
    response = alice_client.get(url)
    assert response.status_code in (200, 302, 404)
    body = markers_in(response)
    leaked = [
        m for m in [*SPOILERS, "RECAP-saga-1x3", "NOTE-saga-1x3", "STATE-Ada-1x03"] if m in body
    ]
    assert not leaked, f"{url} leaked {leaked} while looking back at 1x2"


def test_story_so_far_shows_everything_safe(alice_client):
    body = alice_client.get("/shows/saga/story/").content.decode()
    for marker in [
        "RECAP-saga-1x1",
        "RECAP-saga-1x2",
        "RECAP-saga-1x3",
        "NOTE-saga-1x3",
        "STATE-Ada-1x03",
    ]:
        assert marker in body
    assert "STATE-Ada-1x01" not in body, "only the latest state stands in 'where everyone stands'"


def test_episode_page_of_watched_episode_has_recap_and_notes(alice_client):
    body = alice_client.get("/shows/saga/s1/e3/").content.decode()
    assert "RECAP-saga-1x3" in body and "NOTE-saga-1x3" in body and "STATE-Ada-1x03" in body


def test_episode_page_past_safe_point_says_watch_to_unlock(alice_client):
    body = alice_client.get("/shows/saga/s1/e4/").content.decode()
    assert "Watch this episode to unlock" in body
    assert_no_spoilers(alice_client.get("/shows/saga/s1/e4/"))


def test_late_note_about_a_watched_episode_stays_hidden(alice_client, show):
    ReviewerNote.objects.create(
        episode=episode(show, "1x01"),
        reveal_at=episode(show, "2x03"),
        text="LATE-NOTE",
        outlet="Paper",
    )
    for url in ["/shows/saga/s1/e1/", "/shows/saga/story/", "/shows/saga/search/?q=LATE"]:
        assert "LATE-NOTE" not in alice_client.get(url).content.decode()


def test_cast_lists_only_characters_who_have_appeared_with_latest_state(alice_client):
    body = alice_client.get("/shows/saga/cast/").content.decode()
    assert "Ada" in body and "Missing" in body
    assert "Zed Quist" not in body


def test_unappeared_character_is_the_same_404_as_a_missing_one(alice_client):
    hidden = alice_client.get("/shows/saga/cast/zed-quist/")
    missing = alice_client.get("/shows/saga/cast/nobody/")
    assert hidden.status_code == missing.status_code == 404
    assert mask_csrf(hidden.content.decode()) == mask_csrf(missing.content.decode())


def test_searching_for_an_unappeared_character_finds_nothing(alice_client):
    body = alice_client.get("/shows/saga/search/?q=Zed Quist").content.decode()
    assert "Nothing found for “Zed Quist”" in body
    assert "/cast/zed-quist/" not in body and "STATE-Zed Quist" not in body


def test_character_timeline_stops_at_safe_point(alice_client):
    body = alice_client.get("/shows/saga/cast/ada/").content.decode()
    assert "STATE-Ada-1x01" in body and "STATE-Ada-1x03" in body
    assert "STATE-Ada-2x02" not in body


def test_search_finds_safe_content_only(alice_client):
    body = alice_client.get("/shows/saga/search/?q=RECAP").content.decode()
    assert "RECAP-saga-1x2" in body
    assert "RECAP-saga-1x4" not in body


def test_search_fragment_for_htmx(alice_client):
    response = alice_client.get("/shows/saga/search/?q=RECAP", **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results"')
    assert "RECAP-saga-1x2" in body and "RECAP-saga-1x4" not in body


def test_anonymous_visitor_sees_nothing_gated_and_a_login_prompt(client, show):
    body = client.get("/shows/saga/").content.decode()
    assert "Log in</a> to mark episodes watched" in body
    for marker in SAFE + SPOILERS:
        assert marker not in body


def test_hidden_titles_preference_hides_unwatched_titles_everywhere(alice_client, alice):
    alice.hide_unwatched_titles = True
    alice.save()
    for url in [
        "/shows/saga/",
        "/shows/saga/s1/e4/",
        "/shows/saga/s1/e3/",
        "/shows/saga/search/?q=TITLE",
    ]:
        body = alice_client.get(url).content.decode()
        assert "TITLE-saga-1x4" not in body and "TITLE-saga-2x1" not in body, url
    assert "TITLE-saga-1x3" in alice_client.get("/shows/saga/").content.decode()


def test_synopses_of_unwatched_episodes_hidden_by_default(alice_client, alice):
    body = alice_client.get("/shows/saga/").content.decode()
    assert "SYNOPSIS-saga-1x3" in body and "SYNOPSIS-saga-1x4" not in body
    alice.hide_unwatched_synopses = False
    alice.save()
    assert "SYNOPSIS-saga-1x4" in alice_client.get("/shows/saga/").content.decode()


def test_unknown_show_and_episode_are_404(alice_client):
    assert alice_client.get("/shows/nope/").status_code == 404
    assert alice_client.get("/shows/saga/s9/e1/").status_code == 404
    assert alice_client.get("/shows/saga/s1/e99/").status_code == 404


def test_progress_on_show_list(alice_client):
    body = alice_client.get("/").content.decode()
    assert "S1E3 · 3 of 10 watched" in " ".join(body.split())


def test_pages_are_private_to_the_viewer(alice_client):
    response = alice_client.get("/shows/saga/story/")
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


@pytest.mark.parametrize(
    "url", ["/shows/saga/", "/shows/saga/story/", "/shows/saga/cast/", "/shows/saga/s1/e2/"]
)
def test_time_travel_shows_the_earlier_point_and_a_way_back(alice_client, url):
    alice_client.post("/shows/saga/as-of/", {"episode": "1x1"})
    body = alice_client.get(url).content.decode()
    assert "Looking back at <strong>S1E1</strong>" in body and "Back to my progress" in body
    assert "(you have watched up to S1E3)" in " ".join(body.split())
    # The banner offers every point up to her own, not only up to the one looked back at.
    banner = body[body.index('id="banner-as-of"') :]
    banner = banner[: banner.index("</select>")]
    assert [f'value="1x{n}"' in banner for n in (1, 2, 3, 4)] == [True, True, True, False]
    assert "RECAP-saga-1x2" not in body and "STATE-Ada-1x03" not in body
    alice_client.post("/shows/saga/as-of/", {"episode": "now"})
    assert "Back to my progress" not in alice_client.get(url).content.decode()


def test_viewer_cannot_time_travel_ahead(alice_client, alice, show):
    alice_client.post("/shows/saga/as-of/", {"episode": "2x5"})
    body = alice_client.get("/shows/saga/story/").content.decode()
    assert "RECAP-saga-2x5" not in body
    assert Watch.objects.filter(user=alice).count() == 3


def test_editor_preview_shows_the_chosen_point(client, editor, show):
    client.force_login(editor)
    client.post("/shows/saga/as-of/", {"episode": "2x2"})
    body = client.get("/shows/saga/story/").content.decode()
    assert "RECAP-saga-2x2" in body and "STATE-Ada-2x02" in body
    assert "RECAP-saga-2x3" not in body


def test_long_show_opens_only_the_season_the_viewer_is_in(client, epic):
    from tests.factories import make_user, watch

    viewer = make_user("viewer")
    watch(viewer, epic, *[f"1x{n}" for n in range(1, 11)], *[f"2x{n}" for n in range(1, 4)])
    client.force_login(viewer)
    body = client.get("/shows/epic/").content.decode()
    assert 'id="season-2-episodes"' in body and "RECAP-epic-2x3" in body
    assert 'id="season-1-episodes"' not in body and 'id="season-5-episodes"' not in body
    assert 'hx-get="/shows/epic/seasons/5/"' in body and 'href="?season=5#season-5"' in body


def test_a_folded_season_opens_with_htmx_or_without(client, epic):
    from tests.factories import make_user, watch

    viewer = make_user("viewer")
    watch(viewer, epic, *[f"1x{n}" for n in range(1, 11)], "2x1")
    client.force_login(viewer)
    fragment = client.get("/shows/epic/seasons/1/", HTTP_HX_REQUEST="true").content.decode()
    assert (
        fragment.lstrip().startswith('<ol class="episodes" id="season-1-episodes"')
        and "RECAP-epic-1x10" in fragment
    )
    assert client.get("/shows/epic/seasons/1/")["Location"] == "/shows/epic/?season=1#season-1"
    page = client.get("/shows/epic/?season=1").content.decode()
    assert 'id="season-1-episodes"' in page and 'id="season-2-episodes"' in page
    locked = client.get("/shows/epic/seasons/4/", HTTP_HX_REQUEST="true").content.decode()
    assert (
        "TITLE-epic-4x1" in locked
        and "RECAP-epic-4x1" not in locked
        and "SYNOPSIS-epic-4x1" not in locked
    )
    assert client.get("/shows/epic/seasons/9/", HTTP_HX_REQUEST="true").status_code == 404


def test_story_keeps_a_few_notes_per_episode_and_links_to_the_rest(alice_client, show):
    first = episode(show, "1x01")
    for n in range(5):
        ReviewerNote.objects.create(
            episode=first, reveal_at=first, text=f"EXTRA-NOTE-{n}", outlet="Paper"
        )
    ReviewerNote.objects.create(
        episode=first, reveal_at=episode(show, "2x01"), text="LATE-EXTRA", outlet="Paper"
    )
    body = alice_client.get("/shows/saga/story/").content.decode()
    assert "NOTE-saga-1x1" in body and "EXTRA-NOTE-1" in body and "EXTRA-NOTE-2" not in body
    assert "3 more reviewer notes on S1E1" in body
    assert "LATE-EXTRA" not in body


# --- A long show's story, a season at a time --------------------------------------------------


@pytest.fixture
def epic_viewer(client, epic):
    from tests.factories import make_user, watch

    viewer = make_user("reader")
    watch(viewer, epic, *[f"{s}x{n}" for s in (1, 2, 3) for n in range(1, 11)], "4x01", "4x02")
    client.force_login(viewer)
    return client


def test_a_long_shows_story_is_told_a_season_at_a_time_from_the_viewers_own(epic_viewer):
    body = epic_viewer.get("/shows/epic/story/").content.decode()
    assert "RECAP-epic-4x1" in body and "RECAP-epic-4x2" in body
    assert "RECAP-epic-3x10" not in body and "RECAP-epic-1x1" not in body
    assert "Season 4, up to S4E2, in order." in body
    for number in (1, 2, 3):
        assert f'href="/shows/epic/story/?season={number}"' in body
    assert '?season=4" aria-current="page"' in body
    assert "?season=5" not in body, "no season the viewer has not reached"
    first = epic_viewer.get("/shows/epic/story/?season=1").content.decode()
    assert "RECAP-epic-1x1" in first and "RECAP-epic-1x10" in first
    assert "RECAP-epic-2x1" not in first and "RECAP-epic-4x1" not in first
    assert "Season 1, in order." in first


def test_a_long_shows_story_leaves_where_everyone_stands_to_whos_who(epic_viewer, epic):
    make_character(epic, "Vera", "1x01", {"4x01": "missing"})
    body = epic_viewer.get("/shows/epic/story/").content.decode()
    assert "lists everyone you have met, with where they stand now." in body
    assert "STATE-Vera-4x01" not in body
    assert "STATE-Vera-4x01" in epic_viewer.get("/shows/epic/cast/").content.decode()


def test_a_season_not_reached_reads_exactly_like_one_that_does_not_exist(epic_viewer):
    own = mask_csrf(epic_viewer.get("/shows/epic/story/?season=4").content.decode())
    for asked in ("5", "7", "99", "0", "x", ""):
        response = epic_viewer.get(f"/shows/epic/story/?season={asked}")
        assert response.status_code == 200
        assert mask_csrf(response.content.decode()) == own, asked
        assert "RECAP-epic-5x1" not in response.content.decode()


def test_the_specials_come_with_the_season_they_air_in(epic_viewer, epic):
    from companion.models import Episode, Recap, Season

    specials = Season.objects.create(show=epic, number=0)
    special = Episode.objects.create(
        season=specials, number=1, title="Holiday", airs_after=episode(epic, "2x10")
    )
    epic.resequence()
    Recap.objects.create(episode=special, text="RECAP-epic-special")
    second = epic_viewer.get("/shows/epic/story/?season=2").content.decode()
    assert "RECAP-epic-special" in second and second.index("RECAP-epic-2x10") < second.index(
        "RECAP-epic-special"
    )
    assert (
        "RECAP-epic-special" not in epic_viewer.get("/shows/epic/story/?season=3").content.decode()
    )


def test_a_short_shows_story_stays_whole(alice_client):
    body = alice_client.get("/shows/saga/story/").content.decode()
    assert "Everything up to S1E3, in order." in body and "?season=" not in body
