"""A viewer's posts and ratings in their data export, and gone with their account."""

import json

from discussion.models import Post, PostReport, Rating
from tests.factories import episode


def test_my_posts_and_ratings_are_in_my_export(alice_client, alice, bob, show):
    mine = Post.objects.create(
        episode=episode(show, "1x01"), author=alice, text="Mine [spoiler 1x2]x[/spoiler]"
    )
    Post.objects.create(episode=episode(show, "1x01"), author=bob, text="BOBS", parent=mine)
    Rating.objects.create(user=alice, episode=episode(show, "1x02"), stars=5)
    data = json.loads(alice_client.get("/accounts/export/").content)
    assert [(p["episode"], p["text"], p["reply"]) for p in data["posts"]] == [
        ("1x1", "Mine [spoiler 1x2]x[/spoiler]", False)
    ]
    assert [(r["episode"], r["stars"]) for r in data["ratings"]] == [("1x2", 5)]
    assert "BOBS" not in json.dumps(data)


def test_deleting_my_account_deletes_my_posts_and_ratings_but_not_the_replies(alice, bob, show):
    mine = Post.objects.create(episode=episode(show, "1x01"), author=alice, text="MINE")
    reply = Post.objects.create(
        episode=episode(show, "1x01"), author=bob, text="REPLY", parent=mine
    )
    PostReport.objects.create(post=reply, reporter=alice, reporter_safe_point=episode(show, "1x03"))
    Rating.objects.create(user=alice, episode=episode(show, "1x02"), stars=5)
    alice.delete_account()
    assert list(Post.objects.values_list("text", "parent")) == [("REPLY", None)]
    assert not Rating.objects.exists() and not PostReport.objects.exists()
    assert reply.pk in Post.objects.values_list("pk", flat=True)


def test_the_delete_page_says_posts_are_deleted_not_anonymised(alice_client):
    page = " ".join(alice_client.get("/accounts/delete/").content.decode().split())
    assert "Your posts are deleted, not kept under another name." in page
    assert "your posts, replies and episode ratings" in page
