"""Editors moderate posts in the admin: reports with the reporter's point, hiding, suspending."""

from discussion.models import Post, PostReport, Suspension
from tests.factories import episode


def test_a_report_reaches_the_admin_with_the_reporters_point_and_moves_the_post(
    client, editor, alice, bob, show
):
    post = Post.objects.create(episode=episode(show, "1x01"), author=bob, text="Too much")
    PostReport.objects.create(post=post, reporter=alice, reporter_safe_point=episode(show, "1x03"))
    client.force_login(editor)
    listing = client.get("/admin/discussion/postreport/").content.decode()
    assert "Too much" in listing and "1x3" in listing
    report = PostReport.objects.get()
    client.post(
        "/admin/discussion/postreport/",
        {"action": "move_reveal_later", "_selected_action": [report.pk]},
    )
    post.refresh_from_db()
    assert post.reveal_at.code == "1x4" and PostReport.objects.get().resolved


def test_editors_hide_a_post_and_suspend_its_writer(client, editor, bob, show):
    post = Post.objects.create(episode=episode(show, "1x01"), author=bob, text="Rude")
    client.force_login(editor)
    for action in ("hide", "suspend"):
        client.post("/admin/discussion/post/", {"action": action, "_selected_action": [post.pk]})
    assert Post.objects.get().hidden
    assert Suspension.objects.in_force().filter(user=bob).exists()


def test_viewers_cannot_reach_the_discussion_admin(alice_client):
    response = alice_client.get("/admin/discussion/post/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
