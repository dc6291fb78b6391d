"""The API's endpoints, as alice's app sees them: she has watched 1x1 to 1x3 of saga."""

import pytest

from companion.models import Character, Recap, ReviewerNote, Watch
from tests.factories import episode, make_show, make_user

API = "/api/v1"


def get(client, path: str, **params):
    response = client.get(f"{API}{path}", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def test_catalogue_lists_shows_with_the_viewers_point(alice_api, show):
    make_show("other", seasons=1, episodes=2)
    body = get(alice_api, "/shows/")
    assert body["count"] == 2
    saga = next(item for item in body["items"] if item["slug"] == "saga")
    assert saga["safe_point"] == "1x3"
    assert saga["progress"] == {"watched": 3, "total": 10, "percent": 30}
    other = next(item for item in body["items"] if item["slug"] == "other")
    assert other["safe_point"] is None


def test_catalogue_is_paginated(alice_api, show):
    for n in range(3):
        make_show(f"extra{n}", seasons=1, episodes=1)
    first = get(alice_api, "/shows/", limit=2)
    rest = get(alice_api, "/shows/", limit=2, offset=2)
    assert first["count"] == rest["count"] == 4
    assert len(first["items"]) == 2 and len(rest["items"]) == 2
    assert {i["slug"] for i in first["items"]}.isdisjoint(i["slug"] for i in rest["items"])


def test_limit_above_the_maximum_is_refused_as_json(alice_api, show):
    response = alice_api.get(f"{API}/shows/", {"limit": 1000})
    assert response.status_code == 422
    assert "detail" in response.json()


def test_show_detail(alice_api, show):
    body = get(alice_api, "/shows/saga/")
    assert body["title"] == "Saga" and body["safe_point"] == "1x3"


def test_progress_names_safe_point_watched_and_up_next(alice_api, show):
    body = get(alice_api, "/shows/saga/progress/")
    assert body["safe_point"] == "1x3"
    assert body["watched"] == ["1x1", "1x2", "1x3"]
    assert body["gap"] is None
    assert body["up_next"]["code"] == "1x4"
    # Alice keeps the default preferences: synopses of unwatched episodes are hidden, titles not.
    assert body["up_next"]["title"] == "TITLE-saga-1x4"
    assert body["up_next"]["synopsis"] == ""
    assert body["progress"]["watched"] == 3


def test_progress_shows_the_gap_when_a_later_episode_is_watched(alice_api, alice, show):
    Watch.objects.mark_watched(user=alice, episode=episode(show, "2x01"))
    body = get(alice_api, "/shows/saga/progress/")
    assert body["gap"] == "1x4"
    assert body["safe_point"] == "1x3"
    assert body["watched"][-1] == "2x1"


def test_mark_watched_moves_the_safe_point(alice_api, alice, show):
    response = alice_api.post(f"{API}/shows/saga/episodes/1/4/watched/")
    assert response.status_code == 200
    assert response.json()["safe_point"] == "1x4"
    assert Watch.objects.filter(user=alice, episode=episode(show, "1x04")).exists()
    again = alice_api.post(f"{API}/shows/saga/episodes/1/4/watched/")
    assert again.json()["watched"].count("1x4") == 1


def test_unmark_locks_again(alice_api, alice, show):
    response = alice_api.delete(f"{API}/shows/saga/episodes/1/2/watched/")
    assert response.status_code == 200
    body = response.json()
    assert body["safe_point"] == "1x1"
    assert body["gap"] == "1x2"
    assert "RECAP-saga-1x2" not in alice_api.get(f"{API}/shows/saga/recaps/").content.decode()


def test_mark_up_to_marks_every_regular_episode_before(alice_api, alice, show):
    response = alice_api.post(f"{API}/shows/saga/episodes/2/2/watched-up-to/")
    assert response.status_code == 200
    body = response.json()
    assert body["added"] == 4
    assert body["progress"]["safe_point"] == "2x2"


def test_marking_a_missing_episode_is_a_json_404(alice_api, show):
    for path in ("/shows/saga/episodes/9/1/watched/", "/shows/nope/episodes/1/1/watched/"):
        response = alice_api.post(f"{API}{path}")
        assert response.status_code == 404
        assert response.json() == {"detail": "There is nothing here, or nothing you can see yet."}


def test_episodes_follow_the_hide_preferences_until_revealed(client, show):
    viewer = make_user("carol", hide_unwatched_titles=True, hide_unwatched_synopses=True)
    Watch.objects.mark_watched(user=viewer, episode=episode(show, "1x01"))
    client.force_login(viewer)
    items = {e["code"]: e for e in get(client, "/shows/saga/episodes/")["items"]}
    assert items["1x1"]["title"] == "TITLE-saga-1x1"
    assert items["1x1"]["synopsis"] == "SYNOPSIS-saga-1x1"
    assert items["1x1"]["watched"] and items["1x1"]["revealed"]
    assert items["1x2"]["title"] == "Episode 2" and items["1x2"]["title_hidden"]
    assert items["1x2"]["synopsis"] == ""
    assert not items["1x2"]["watched"]


def test_episodes_filter_by_season(alice_api, show):
    body = get(alice_api, "/shows/saga/episodes/", season=2)
    assert [e["code"] for e in body["items"]] == [f"2x{n}" for n in range(1, 6)]


def test_episode_detail_has_its_recap_once_revealed(alice_api, show):
    watched = get(alice_api, "/shows/saga/episodes/1/3/")
    assert watched["episode"]["code"] == "1x3" and watched["episode"]["watched"]
    assert watched["recap"]["text"] == "RECAP-saga-1x3"
    assert [n["text"] for n in watched["notes"]] == ["NOTE-saga-1x3"]
    assert [s["description"] for s in watched["state_changes"]] == ["STATE-Ada-1x03"]
    first = get(alice_api, "/shows/saga/episodes/1/1/")
    assert [c["name"] for c in first["debuts"]] == ["Ada"]
    later = get(alice_api, "/shows/saga/episodes/1/4/")
    assert later["recap"] is None and later["notes"] == [] and later["debuts"] == []
    assert later["state_changes"] == []


def test_recaps_up_to_the_safe_point(alice_api, show):
    body = get(alice_api, "/shows/saga/recaps/")
    assert [r["episode"] for r in body["items"]] == ["1x1", "1x2", "1x3"]
    assert body["count"] == 3
    one = body["items"][2]
    assert get(alice_api, f"/shows/saga/recaps/{one['public_id']}/") == one


def test_characters_with_their_state_at_the_safe_point(alice_api, show):
    body = get(alice_api, "/shows/saga/characters/")
    assert [c["name"] for c in body["items"]] == ["Ada"]
    ada = body["items"][0]
    assert ada["state"]["status"] == "missing" and ada["state"]["as_of"] == "1x3"
    detail = get(alice_api, f"/shows/saga/characters/{ada['public_id']}/")
    assert [s["as_of"] for s in detail["timeline"]] == ["1x1", "1x3"]
    assert "id" not in ada and "pk" not in ada


def test_notes_up_to_the_safe_point(alice_api, show):
    body = get(alice_api, "/shows/saga/notes/")
    assert sorted(n["text"] for n in body["items"]) == [f"NOTE-saga-1x{n}" for n in (1, 2, 3)]
    note = body["items"][0]
    assert get(alice_api, f"/shows/saga/notes/{note['public_id']}/") == note


def test_search_finds_only_what_is_unlocked(alice_api, show):
    body = get(alice_api, "/shows/saga/search/", q="saga")
    assert sorted(r["text"] for r in body["recaps"]) == [f"RECAP-saga-1x{n}" for n in (1, 2, 3)]
    assert {n["text"] for n in body["notes"]} == {f"NOTE-saga-1x{n}" for n in (1, 2, 3)}
    assert get(alice_api, "/shows/saga/search/", q="Zed Quist")["characters"] == []
    assert [c["name"] for c in get(alice_api, "/shows/saga/search/", q="Ada")["characters"]] == [
        "Ada"
    ]
    assert get(alice_api, "/shows/saga/search/", q="x")["recaps"] == []


def test_search_matches_the_search_page(alice_client, alice_api, show):
    api_texts = {r["text"] for r in get(alice_api, "/shows/saga/search/", q="RECAP")["recaps"]}
    page = alice_client.get("/shows/saga/search/", {"q": "RECAP"}).content.decode()
    assert api_texts and all(text in page for text in api_texts)
    assert "RECAP-saga-1x4" not in page


def test_session_calls_see_the_same_as_token_calls(alice_client, alice_api, show):
    for path in ("/shows/saga/characters/", "/shows/saga/recaps/", "/shows/saga/progress/"):
        assert get(alice_client, path) == get(alice_api, path)


def test_nothing_leaves_under_a_database_key(alice_api, show):
    keys = {
        str(pk)
        for model in (Recap, ReviewerNote, Character)
        for pk in model.objects.values_list("pk", flat=True)
    }
    body = get(alice_api, "/shows/saga/characters/")
    assert body["items"][0]["public_id"] not in keys
    assert all(
        len(item["public_id"]) >= 16 for item in get(alice_api, "/shows/saga/notes/")["items"]
    )


@pytest.mark.parametrize("path", ["/shows/", "/shows/saga/progress/", "/shows/saga/recaps/"])
def test_no_credentials_is_a_json_401(client, show, path):
    response = client.get(f"{API}{path}")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


# --- The viewer's shows -------------------------------------------------------------------------


def test_following_lists_followed_shows_with_progress_and_up_next(alice_api, show):
    make_show("other", seasons=1, episodes=2)  # not followed: not listed
    body = get(alice_api, "/following/")
    assert body["count"] == 1
    [saga] = body["items"]
    assert saga["slug"] == "saga" and saga["safe_point"] == "1x3"
    assert saga["progress"] == {"watched": 3, "total": 10, "percent": 30}
    assert saga["up_next"]["code"] == "1x4"
    # The up-next episode follows alice's preferences, as on her home page: no synopsis yet.
    assert saga["up_next"]["synopsis"] == ""


def test_follow_and_stop_following_through_the_api(alice_api, alice, show):
    make_show("other", seasons=1, episodes=2)
    response = alice_api.post(f"{API}/shows/other/follow/")
    assert response.status_code == 200 and response.json() == {"show": "other", "following": True}
    assert alice_api.post(f"{API}/shows/other/follow/").status_code == 200  # again is harmless
    assert [s["slug"] for s in get(alice_api, "/following/")["items"]] == ["other", "saga"]
    response = alice_api.delete(f"{API}/shows/saga/follow/")
    assert response.json() == {"show": "saga", "following": False}
    assert [s["slug"] for s in get(alice_api, "/following/")["items"]] == ["other"]
    # Her history in saga is kept.
    assert Watch.objects.filter(user=alice, episode__show=show).count() == 3


def test_following_a_missing_show_is_the_api_404(alice_api, show):
    response = alice_api.post(f"{API}/shows/nope/follow/")
    assert response.status_code == 404 and response.json() == {"detail": response.json()["detail"]}
