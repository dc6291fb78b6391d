"""Whatever a page is made from shows on the very next request, by whatever route it changed."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companion.models import Episode, Follow, Party, Season, Show, Watch
from companion.renders import CSRF_PLACEHOLDER
from companion.viewing import AS_OF_SESSION_KEY
from tests.factories import episode, make_user, watch, watch_by_sql
from tests.helpers import HTMX

SHOW = reverse("show-detail", args=["saga"])


def get(client, url):
    headers = HTMX if "/seasons/" in url else {}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def at_alices_point(show):
    """Carol, who has watched what Alice has (1x01 to 1x03): every page reads the same to both."""
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03")
    return carol


def without_token(body: str) -> str:
    """A response's text with its CSRF token (each viewer's own) blanked out."""
    return re.sub("[0-9A-Za-z]{64}", "token", body.strip())


def test_a_viewer_in_the_same_place_never_gets_anothers_page(client, alice, show):
    carol = at_alices_point(show)
    party = Party.objects.create(show=show, name="ALICES-CREW", created_by=alice)
    party.members.add(alice)
    client.force_login(alice)
    assert "ALICES-CREW" in get(client, SHOW)[0]
    client.force_login(carol)
    assert "ALICES-CREW" not in get(client, SHOW)[0]


def mark_by_import(alice, show):
    Watch.objects.mark_watched(user=alice, episode=episode(show, "1x04"))


def unmark_in_admin(alice, show):
    Watch.objects.filter(user=alice, episode=episode(show, "1x03")).delete()


def mark_by_raw_sql(alice, show):
    watch_by_sql(alice, show, "1x04")


def move_a_watch_in_admin(alice, show):
    # The admin's change form for a watch: the same row, another episode; the count stays at 3.
    Watch.objects.filter(user=alice, episode=episode(show, "1x03")).update(
        episode=episode(show, "2x05")
    )


def unfollow(alice, show):
    Follow.objects.unfollow(user=alice, show=show)


def join_party(alice, show):
    Party.objects.create(show=show, name="NEW-CREW", created_by=alice).members.add(alice)


def hide_titles(alice, show):
    alice.hide_unwatched_titles = True
    alice.save()


def retitle(alice, show):
    edited = episode(show, "1x05")
    edited.title = "RETITLED"
    edited.save()


# Each changes the show page by a route other than the page's own forms; the next request shows it.
CHANGES = {
    mark_by_import: lambda body: 'id="watch-toggle-' in body and "4 of 10 watched" in body,
    mark_by_raw_sql: lambda body: "4 of 10 watched" in body,
    move_a_watch_in_admin: lambda body: "so you are safe up to S1E2" in body,
    unmark_in_admin: lambda body: "2 of 10 watched" in body,
    unfollow: lambda body: "Follow Saga" in body,
    join_party: lambda body: "NEW-CREW" in body,
    hide_titles: lambda body: "Episode 5" in body,
    retitle: lambda body: "RETITLED" in body,
}


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_a_change_by_any_route_shows_on_the_very_next_request(alice_client, alice, show, change):
    Follow.objects.follow(user=alice, shows=[show])
    before, _ = get(alice_client, SHOW)
    assert not CHANGES[change](before)
    change(alice, show)
    assert CHANGES[change](get(alice_client, SHOW)[0])


def test_a_party_renamed_by_its_creator_shows_on_each_members_next_request(
    alice_client, alice, bob, show
):
    party = Party.objects.create(show=show, name="OLD-CREW", created_by=bob)
    party.members.add(alice, bob)
    assert "OLD-CREW" in get(alice_client, SHOW)[0]
    party.name = "RENAMED-CREW"
    party.save()
    assert "RENAMED-CREW" in get(alice_client, SHOW)[0]


def test_a_user_saved_from_a_stale_copy_never_brings_back_an_older_page(alice_client, alice, show):
    # Saving a copy of the user loaded before the unmark must not bring back what it hid.
    stale = get_user_model().objects.get(pk=alice.pk)
    assert (
        "RECAP-saga-1x3" in get(alice_client, SHOW)[0] + get(alice_client, "/shows/saga/story/")[0]
    )
    Watch.objects.unmark(user=alice, episode=episode(show, "1x03"))
    assert "RECAP-saga-1x3" not in get(alice_client, "/shows/saga/story/")[0]
    stale.save()
    assert "RECAP-saga-1x3" not in get(alice_client, "/shows/saga/story/")[0]


def test_looking_back_is_a_page_of_its_own(alice_client, show):
    assert "Looking back at" not in get(alice_client, SHOW)[0]
    session = alice_client.session
    session[AS_OF_SESSION_KEY] = {str(show.pk): episode(show, "1x02").pk}
    session.save()
    assert "Looking back at" in get(alice_client, SHOW)[0]


def test_a_message_is_shown_once(alice_client, show):
    get(alice_client, SHOW)
    alice_client.post("/shows/saga/s1/e5/watch-up-to/", {"next": SHOW})
    assert "Marked 2 more episodes watched" in get(alice_client, SHOW)[0]
    assert "Marked 2 more episodes watched" not in get(alice_client, SHOW)[0]


def test_an_error_page_carries_a_real_token(alice_client):
    response = alice_client.get(reverse("character-detail", args=["saga", "zed-quist"]))
    assert response.status_code == 404
    body = response.content.decode()
    assert CSRF_PLACEHOLDER not in body and 'name="csrfmiddlewaretoken"' in body


def test_the_home_page_shows_a_mark_made_elsewhere_on_the_next_request(alice_client, alice, show):
    Follow.objects.follow(user=alice, shows=[show])
    assert "3 of 10 watched" in get(alice_client, "/")[0]
    Watch.objects.mark_watched(user=alice, episode=episode(show, "1x04"))
    assert "4 of 10 watched" in get(alice_client, "/")[0]
    Follow.objects.unfollow(user=alice, show=show)
    assert "You are not following any shows yet" in get(alice_client, "/")[0]


@pytest.mark.parametrize(
    "url", [SHOW, reverse("story", args=["saga"]), reverse("episode-detail", args=["saga", 1, 3])]
)
def test_a_page_seen_before_an_unmark_never_shows_what_the_unmark_hid(
    alice_client, alice, show, url
):
    assert "RECAP-saga-1x3" in get(alice_client, url)[0]
    # By the API's route, not the page's own form.
    Watch.objects.unmark(user=alice, episode=episode(show, "1x03"))
    assert "RECAP-saga-1x3" not in get(alice_client, url)[0]


def special_after(show, code: str) -> Episode:
    """A special placed after the episode `code`, listed in that episode's season."""
    special = Episode.objects.create(
        season=Season.objects.get_or_create(show=show, number=0)[0],
        number=1,
        title="SPECIAL",
        airs_after=episode(show, code),
    )
    show.resequence()
    return special


def marked(watched: Episode) -> str:
    """The show page row's button of an episode the viewer has marked watched."""
    return f'id="watch-toggle-{watched.pk}" aria-pressed="true"'


def test_a_viewer_at_anothers_point_reads_the_page_they_rendered_without_building_it(
    client, alice, show
):
    carol = at_alices_point(show)
    client.force_login(alice)
    page, built = get(client, SHOW)
    client.force_login(carol)
    again, read = get(client, SHOW)
    # Session, user, show, run (with the marks beyond it and the content stamp at the point),
    # follow and parties: no season heads, rows or recaps.
    assert read <= 6 < built
    # The same page but for each one's CSRF token.
    assert without_token(again) == without_token(page)


def test_a_viewer_at_the_same_point_sees_their_own_specials_marked(client, alice, show):
    special = special_after(show, "1x02")
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "0x01")
    client.force_login(alice)
    assert marked(special) not in get(client, SHOW)[0]
    client.force_login(carol)
    assert marked(special) in get(client, SHOW)[0]


def test_a_page_built_from_a_run_read_before_a_mark_landed_shows_that_run_whole(
    client, alice, show, monkeypatch
):
    carol = make_user("carol")
    watch(carol, show, *[f"1x0{n}" for n in range(1, 5)])
    # Carol's run as it was read before her mark of 1x04 landed (it is Alice's, at 1x03): her
    # rows, read after it landed, show that run, as the counts do, and not half of each.
    runs_for = Show.runs_for
    monkeypatch.setattr(Show, "runs_for", staticmethod(lambda user, shows: runs_for(alice, shows)))
    client.force_login(carol)
    body = get(client, SHOW)[0]
    assert "3 of 10 watched" in body and marked(episode(show, "1x04")) not in body
    monkeypatch.setattr(Show, "runs_for", staticmethod(runs_for))
    # Her next look reads her run with the mark.
    body = get(client, SHOW)[0]
    assert "4 of 10 watched" in body and marked(episode(show, "1x04")) in body
    # Alice, at that earlier run, shares the page built for it: nothing of Carol's mark.
    client.force_login(alice)
    body = get(client, SHOW)[0]
    assert "3 of 10 watched" in body and "4 of 10 watched" not in body
    assert marked(episode(show, "1x04")) not in body


def test_a_special_in_a_folded_season_does_not_keep_viewers_from_sharing_a_page(
    client, alice, show
):
    special = special_after(show, "2x02")
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "0x01")
    client.force_login(alice)
    page, built = get(client, SHOW)
    client.force_login(carol)
    again, read = get(client, SHOW)
    assert read < built
    assert f'id="watch-toggle-{special.pk}"' not in again
    # Unfolded, season 2 lists it, marked for her alone.
    assert marked(special) in get(client, f"{SHOW}?season=2")[0]
    client.force_login(alice)
    assert marked(special) not in get(client, f"{SHOW}?season=2")[0]


EPISODE_5 = reverse("episode-detail", args=["saga", 1, 5])


def test_a_viewer_at_anothers_point_reads_their_episode_page_without_building_it(
    client, alice, show
):
    carol = at_alices_point(show)
    episode_3 = reverse("episode-detail", args=["saga", 1, 3])
    client.force_login(alice)
    page = get(client, episode_3)[0]
    client.force_login(carol)
    response = client.get(episode_3)
    # Nothing rendered, nor read for it: not the recap, characters or notes.
    assert response.templates == []
    again = response.content.decode()
    assert "RECAP-saga-1x3" in again
    assert without_token(again) == without_token(page)


def test_a_viewer_at_the_same_point_sees_their_own_mark_on_an_episode_page(client, alice, show):
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "1x05")
    client.force_login(alice)
    assert "Mark watched" in get(client, EPISODE_5)[0]
    client.force_login(carol)
    body = get(client, EPISODE_5)[0]
    assert "✓ Watched · unmark" in body and "You have marked S1E5 watched" in body
    client.force_login(alice)
    assert "You have marked" not in get(client, EPISODE_5)[0]


def test_a_viewer_at_the_same_point_reads_the_episode_page_with_their_preferences(
    client, alice, show
):
    carol = make_user("carol", hide_unwatched_titles=True)
    watch(carol, show, "1x01", "1x02", "1x03")
    title = episode(show, "1x04").title
    client.force_login(alice)
    assert title in get(client, EPISODE_5)[0]
    client.force_login(carol)
    body = get(client, EPISODE_5)[0]
    assert title not in body and "Episode 4" in body


SEASON_1 = reverse("season-episodes", args=["saga", 1])


def test_a_viewer_at_anothers_point_unfolds_a_season_without_building_it(client, alice, show):
    carol = at_alices_point(show)
    client.force_login(alice)
    rows, built = get(client, SEASON_1)
    client.force_login(carol)
    again, read = get(client, SEASON_1)
    # Session, user, show, run (with the marks beyond it and the content stamp at the point) and
    # the season: not its episodes with their marks, nor their recaps.
    assert read <= 5 < built
    assert again.count('aria-pressed="true"') == 3
    assert without_token(again) == without_token(rows)


def test_a_viewer_at_the_same_point_unfolds_a_season_with_their_own_specials_marked(
    client, alice, show
):
    special = special_after(show, "1x02")
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "0x01")
    client.force_login(alice)
    assert marked(special) not in get(client, SEASON_1)[0]
    client.force_login(carol)
    assert marked(special) in get(client, SEASON_1)[0]
    client.force_login(alice)
    assert marked(special) not in get(client, SEASON_1)[0]


def test_a_season_built_from_a_run_read_before_a_mark_landed_shows_that_run(
    client, alice, show, monkeypatch
):
    carol = make_user("carol")
    watch(carol, show, *[f"1x0{n}" for n in range(1, 5)])
    runs_for = Show.runs_for
    monkeypatch.setattr(Show, "runs_for", staticmethod(lambda user, shows: runs_for(alice, shows)))
    client.force_login(carol)
    rows = get(client, SEASON_1)[0]
    assert rows.count('aria-pressed="true"') == 3 and marked(episode(show, "1x04")) not in rows
    monkeypatch.setattr(Show, "runs_for", staticmethod(runs_for))
    assert marked(episode(show, "1x04")) in get(client, SEASON_1)[0]
    client.force_login(alice)
    assert marked(episode(show, "1x04")) not in get(client, SEASON_1)[0]


def test_a_viewer_at_anothers_point_reads_their_search_without_building_it(client, alice, show):
    carol = at_alices_point(show)
    client.force_login(alice)
    page = client.get("/shows/saga/search/?q=RECAP").content.decode()
    client.force_login(carol)
    response = client.get("/shows/saga/search/?q=RECAP")
    assert response.templates == []
    again = response.content.decode()
    assert "RECAP-saga-1x3" in again and "RECAP-saga-1x4" not in again
    assert without_token(again) == without_token(page)
    # Another query is another page.
    assert (
        'value="RECAP-saga-1x2"'
        in client.get("/shows/saga/search/?q=RECAP-saga-1x2").content.decode()
    )


def test_a_mark_to_a_point_sends_the_season_as_anyone_there_unfolds_it(client, alice, show):
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "1x04")
    client.force_login(carol)
    unfolded, built = get(client, SEASON_1)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/shows/saga/s1/e4/watch/", **HTMX)
    body = response.content.decode()
    season_list = body[: body.index("</ol>") + len("</ol>")]
    assert "RECAP-saga-1x4" in season_list and season_list.count('aria-pressed="true"') == 4
    assert without_token(season_list) == without_token(unfolded)
    # The list was read whole, not built: no statement reads the recaps for its rows.
    assert not any("companion_recap" in query["sql"] for query in queries)


def test_the_show_page_read_after_a_mark_shows_the_season_the_mark_sent(client, alice, show):
    client.force_login(alice)
    client.post("/shows/saga/s1/e4/watch/", **HTMX)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(SHOW).content.decode()
    assert marked(episode(show, "1x04")) in body and "RECAP-saga-1x4" in body
    assert "4 of 10 watched" in body
    # The season's list as the mark sent it, read whole: its rows and their recaps are not read.
    assert not any("companion_recap" in query["sql"] for query in queries)
