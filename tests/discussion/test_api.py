"""The discussion through the JSON API: the same rule as the pages."""

from discussion.models import Post, Rating
from tests.factories import episode

POSTS = "/api/v1/shows/saga/episodes/{}/{}/posts/"


def test_an_episode_thread_through_the_api_leaves_out_what_the_point_hides(alice_api, bob, show):
    top = Post.objects.create(
        episode=episode(show, "1x01"), author=bob, text="Opening. [spoiler 2x2]SPAN-LATER[/spoiler]"
    )
    Post.objects.create(episode=episode(show, "1x01"), author=bob, text="A reply", parent=top)
    Post.objects.create(
        episode=episode(show, "1x01"), reveal_at=episode(show, "1x05"), author=bob, text="MOVED"
    )
    Rating.objects.create(user=bob, episode=episode(show, "1x01"), stars=5)
    data = alice_api.get(POSTS.format(1, 1)).json()
    assert data["rating"] == {"average": 5.0, "count": 1, "mine": None}
    assert [p["parts"] for p in data["items"]] == [[{"text": "Opening. ", "spoils_up_to": None}]]
    assert [r["parts"][0]["text"] for r in data["items"][0]["replies"]] == ["A reply"]
    assert data["items"][0]["author"] == "bob" and data["next_after"] is None
    body = alice_api.get(POSTS.format(1, 1)).content.decode()
    assert "SPAN-LATER" not in body and "2x2" not in body and "MOVED" not in body


def test_an_unrevealed_episode_has_no_thread_and_takes_no_post_or_rating(alice_api, show):
    missing = alice_api.get(POSTS.format(9, 9))
    for response in (
        alice_api.get(POSTS.format(1, 5)),
        alice_api.post(POSTS.format(1, 5), {"text": "hi"}, content_type="application/json"),
        alice_api.put(
            "/api/v1/shows/saga/episodes/1/5/rating/", {"stars": 3}, content_type="application/json"
        ),
    ):
        assert response.status_code == 404 and response.content == missing.content
    assert not Post.objects.exists() and not Rating.objects.exists()


def test_posting_editing_and_deleting_through_the_api(alice_api, alice, show):
    created = alice_api.post(
        POSTS.format(1, 2), {"text": "From my phone"}, content_type="application/json"
    )
    assert created.status_code == 201
    post_id = created.json()["id"]
    assert Post.objects.get(public_id=post_id).author == alice
    url = f"/api/v1/shows/saga/posts/{post_id}/"
    edited = alice_api.put(url, {"text": "Edited"}, content_type="application/json")
    assert edited.json()["parts"] == [{"text": "Edited", "spoils_up_to": None}]
    refused = alice_api.post(
        POSTS.format(1, 1),
        {"text": "Zed Quist?[spoiler 1x1]x[/spoiler]"},
        content_type="application/json",
    )
    assert refused.status_code == 422 and "S1E1 is not after S1E1" in refused.content.decode()
    assert alice_api.delete(url).status_code == 204
    assert alice_api.get(url).status_code == 404


def test_rating_through_the_api(alice_api, show):
    url = "/api/v1/shows/saga/episodes/1/3/rating/"
    assert alice_api.put(url, {"stars": 4}, content_type="application/json").json() == {
        "average": 4.0,
        "count": 1,
        "mine": 4,
    }
    assert alice_api.put(url, {"stars": 9}, content_type="application/json").status_code == 422
