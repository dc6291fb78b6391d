"""Home (a viewer's followed shows, up next in one tap), Browse, following, and the gap named."""

import pytest

from companion.models import Follow, Show, Watch
from tests.companion.test_pages import HTMX, assert_no_spoilers
from tests.factories import episode, make_show, make_user, watch
from tests.helpers import markers_in

HOME_HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


def squashed(response) -> str:
    return " ".join(response.content.decode().split())


# --- Home ----------------------------------------------------------------------------------------


def test_visitor_home_explains_the_product_with_sign_up_and_browse(client, show):
    body = squashed(client.get("/"))
    assert "Catch up on your show without spoilers" in body
    assert 'href="/accounts/signup/"' in body and 'href="/browse/"' in body
    assert "Saga" not in body


def test_home_lists_followed_shows_with_progress_and_up_next(alice_client, show):
    make_show("unfollowed", seasons=1, episodes=2)
    body = squashed(alice_client.get("/"))
    assert "S1E3 · 3 of 10 watched" in body
    assert 'Up next: <a href="/shows/saga/s1/e4/"><span class="code">S1E4</span>' in body
    assert 'Mark watched<span class="visually-hidden">: Saga S1E4</span>' in body
    assert "Unfollowed" not in body


def test_home_without_follows_points_to_browse(client, outsider, show):
    client.force_login(outsider)
    body = squashed(client.get("/"))
    assert "You are not following any shows yet" in body and 'href="/browse/"' in body


def test_home_up_next_title_follows_the_hide_titles_preference(alice_client, alice):
    assert "TITLE-saga-1x4" in alice_client.get("/").content.decode()
    alice.hide_unwatched_titles = True
    alice.save()
    body = alice_client.get("/").content.decode()
    assert "TITLE-saga-1x4" not in body and "S1E4</span> Episode 4" in body


def test_one_tap_mark_swaps_the_card_with_the_next_episode(alice_client, alice, show):
    response = alice_client.post(
        "/shows/saga/s1/e4/watch/",
        **HOME_HTMX,
        HTTP_HX_TARGET=f"show-card-{Show.objects.get(slug='saga').pk}",
    )
    body = squashed(response)
    assert body.startswith('<li class="card show-card" id="show-card-')
    assert "S1E4 · 4 of 10 watched" in body and 'Up next: <a href="/shows/saga/s1/e5/"' in body
    assert_no_spoilers(response)
    assert Watch.objects.filter(user=alice, episode=episode(show, "1x04")).exists()


def test_one_tap_mark_without_javascript_returns_to_the_card(alice_client, show):
    response = alice_client.post("/shows/saga/s1/e4/watch/", {"next": "/#show-card-1"})
    assert response.status_code == 302 and response["Location"] == "/#show-card-1"


def test_a_finished_show_says_so(client, bob):
    client.force_login(bob)
    assert "You have watched every episode." in squashed(client.get("/"))


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_home_and_browse_show_nothing_past_1x03(alice_client, bob, htmx):
    # bob's follow and progress must not colour alice's pages either.
    for url in ["/", "/browse/", "/browse/?q=sa"]:
        response = alice_client.get(url, **(HOME_HTMX if htmx else {}))
        assert response.status_code == 200
        assert_no_spoilers(response)
        body = markers_in(response)
        assert "RECAP-saga" not in body and "STATE-" not in body


# --- Browse --------------------------------------------------------------------------------------


def test_browse_lists_every_show_and_searches_titles(alice_client, show):
    make_show("other", seasons=1, episodes=2, title="Another Story")
    body = squashed(alice_client.get("/browse/"))
    assert "Saga" in body and "Another Story" in body and "Following · S1E3" in body
    found = squashed(alice_client.get("/browse/?q=story", **HTMX))
    assert found.startswith('<div id="results"')
    assert "Another Story" in found and ">Saga<" not in found
    none = squashed(alice_client.get("/browse/?q=nothing-like-it"))
    assert "No show’s title has “nothing-like-it” in it." in none


def test_browse_refuses_an_overlong_search_with_a_message(client, show):
    body = squashed(client.get("/browse/", {"q": "x" * 101}))
    assert "Ensure this value has at most 100 characters" in body and "Saga" in body


def test_signing_up_lands_on_browse(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )
    assert response["Location"] == "/browse/"


# --- Following from the show page ----------------------------------------------------------------


def test_follow_and_stop_following_from_the_show_page(client, outsider, show):
    client.force_login(outsider)
    assert "Follow Saga" in client.get("/shows/saga/").content.decode()
    response = client.post("/shows/saga/follow/", {"action": "follow"}, **HTMX)
    assert squashed(response).startswith('<form id="follow"') and "Stop following" in squashed(
        response
    )
    assert Follow.objects.filter(user=outsider, show=show).exists()
    response = client.post("/shows/saga/follow/", {"action": "unfollow", "next": "/shows/saga/"})
    assert response["Location"] == "/shows/saga/"
    assert not Follow.objects.filter(user=outsider, show=show).exists()
    assert "You no longer follow Saga" in client.get("/shows/saga/").content.decode()


def test_a_bad_follow_form_changes_nothing_and_says_why(alice_client, alice, show):
    response = alice_client.post("/shows/saga/follow/", {"action": "both"}, follow=True)
    assert "Choose to follow the show or to stop following it." in response.content.decode()
    assert Follow.objects.filter(user=alice).count() == 1


def test_following_needs_a_login_and_a_post(client, show):
    assert client.post("/shows/saga/follow/", {"action": "follow"}).status_code == 302
    assert client.get("/shows/saga/follow/").status_code == 405
    assert client.post("/shows/saga/fill-gap/", {"up_to": "1x1"}).status_code == 302


# --- The gap -------------------------------------------------------------------------------------


@pytest.fixture
def gappy(show):
    """Watched 1x01-1x03 and 2x02: S1E4-S2E1 skipped."""
    user = make_user("gappy")
    watch(user, show, "1x01", "1x02", "1x03", "2x02")
    return user


def test_progress_box_names_the_gap(client, gappy):
    client.force_login(gappy)
    body = squashed(client.get("/shows/saga/"))
    assert "You have watched up to S2E2, but not S1E4–S2E1, so you are safe up to S1E3." in body
    assert 'name="up_to" value="2x2"' in body


def test_filling_the_gap_marks_every_regular_episode_up_to_the_furthest(client, gappy, show):
    client.force_login(gappy)
    response = client.post("/shows/saga/fill-gap/", {"up_to": "2x2"}, follow=True)
    body = squashed(response)
    assert "Marked the 3 episodes you had skipped watched: you are safe up to S2E2." in body
    assert show.safe_point_for(gappy).short_label == "S2E2"
    assert "but not" not in body and "RECAP-saga-2x2" in body


@pytest.mark.parametrize("code", ["2x3", "9x9", "nope"])
def test_filling_up_to_an_unwatched_or_unknown_episode_changes_nothing(client, gappy, code):
    client.force_login(gappy)
    before = Watch.objects.filter(user=gappy).count()
    response = client.post("/shows/saga/fill-gap/", {"up_to": code}, follow=True)
    assert response.status_code in (200, 404)
    assert Watch.objects.filter(user=gappy).count() == before


def test_no_gap_is_named_in_rewatch_mode(client, gappy):
    client.force_login(gappy)
    client.post("/shows/saga/as-of/", {"episode": "1x1"})
    assert "but not" not in client.get("/shows/saga/").content.decode()


def test_marking_out_of_order_says_it_unlocks_nothing_yet(alice_client, show):
    response = alice_client.post("/shows/saga/s1/e5/watch/", **HTMX)
    assert (
        "Marked S1E5 watched, but it unlocks nothing yet: you have not watched S1E4, so you are "
        "still safe up to S1E3." in squashed(response)
    )
    assert "RECAP-saga-1x5" not in response.content.decode()


def test_marking_the_missing_episode_says_what_it_unlocked(client, gappy):
    client.force_login(gappy)
    for code in ("1x4", "1x5"):
        season, number = code.split("x")
        client.post(f"/shows/saga/s{season}/e{number}/watch/", **HTMX)
    response = client.post("/shows/saga/s2/e1/watch/", **HTMX)
    assert (
        "Marked S2E1 watched. That fills the gap before what you had watched after it: you are "
        "now safe up to S2E2." in squashed(response)
    )
    assert "RECAP-saga-2x2" in response.content.decode()
    assert "RECAP-saga-2x3" not in response.content.decode()


def test_marking_on_the_episode_page_shows_its_message_in_place(alice_client):
    response = alice_client.post("/shows/saga/s1/e5/watch/", **HTMX, HTTP_HX_TARGET="episode-main")
    body = squashed(response)
    assert body.startswith('<article id="episode-main"')
    assert '<div id="messages" class="messages" aria-live="polite" hx-swap-oob="true">' in body
    assert "it unlocks nothing yet: you have not watched S1E4" in body
    assert_no_spoilers(response)


# --- Watch parties, found again ---------------------------------------------------------------


@pytest.fixture
def crew(show, alice, bob):
    from companion.models import Party

    party = Party.objects.create(show=show, name="Friday crew", created_by=bob)
    party.members.add(alice, bob)
    return party


def test_home_lists_the_viewers_watch_parties(alice_client, crew):
    body = squashed(alice_client.get("/"))
    assert "Your watch parties" in body
    assert f'<a href="{crew.get_absolute_url()}">Friday crew</a>' in body
    assert "Saga" in body[body.index("Your watch parties") :]


def test_home_lists_no_one_elses_parties(client, outsider, crew):
    client.force_login(outsider)
    body = squashed(client.get("/"))
    assert "Friday crew" not in body and "Your watch parties" not in body


def test_a_party_joined_shows_on_home_at_once(client, outsider, crew):
    client.force_login(outsider)
    assert "Friday crew" not in squashed(client.get("/"))  # cached for this viewer now
    crew.members.add(outsider)
    assert "Friday crew" in squashed(client.get("/"))


def test_the_show_page_links_the_viewers_parties_outside_the_fold(alice_client, crew):
    body = squashed(alice_client.get("/shows/saga/"))
    before_fold = body[: body.index('<details class="tools"')]
    assert f'<a href="{crew.get_absolute_url()}">Friday crew</a>' in before_fold
