"""An episode's thread: who receives which post, and which part of it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from discussion.models import POSTS_PER_HOUR, Post, PostReport, Rating, Suspension
from tests.factories import episode, make_user
from tests.helpers import mask_csrf

THREAD = "/shows/saga/s{}/e{}/discussion/"


def post_on(show, code: str, author, text: str, **fields) -> Post:
    return Post.objects.create(episode=episode(show, code), author=author, text=text, **fields)


def body(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def bob_client(bob):
    from django.test import Client

    client = Client()
    client.force_login(bob)
    return client


def test_a_post_reaches_only_viewers_whose_point_reveals_its_episode(alice_client, bob, show):
    post_on(show, "1x02", bob, "POST-ON-1x02")
    post_on(show, "1x05", bob, "POST-ON-1x05")
    assert "POST-ON-1x02" in body(alice_client, THREAD.format(1, 2))
    # The thread of an episode past her point is not there at all: the same 404 as no episode.
    hidden, missing = alice_client.get(THREAD.format(1, 5)), alice_client.get(THREAD.format(9, 9))
    assert hidden.status_code == missing.status_code == 404
    assert mask_csrf(hidden.content.decode()) == mask_csrf(missing.content.decode())


def test_a_post_moved_later_by_an_editor_is_gone_even_from_its_own_episode(alice_client, bob, show):
    post = post_on(show, "1x02", bob, "MOVED-LATER")
    post.reveal_at = episode(show, "2x01")
    post.save()
    page = body(alice_client, THREAD.format(1, 2))
    assert "MOVED-LATER" not in page and "No posts yet." in page


def test_a_spoiler_span_is_never_sent_before_its_episode_and_folded_after(
    alice_client, bob_client, bob, show
):
    post_on(show, "1x01", bob, "What a start. [spoiler 2x2]SPAN-ADA-DIES[/spoiler] Wow.")
    early = body(alice_client, THREAD.format(1, 1))
    assert "What a start." in early and "Wow." in early
    assert "SPAN-ADA-DIES" not in early and "2x2" not in early and "S2E2" not in early
    assert '<details class="spoiler"' not in early
    late = body(bob_client, THREAD.format(1, 1))
    assert (
        '<details class="spoiler"><summary>Spoiler up to S2E2</summary>SPAN-ADA-DIES</details>'
        in late
    )


def test_posts_are_plain_text_with_links(alice_client, alice, show):
    post_on(show, "1x01", alice, "<script>alert(1)</script> see https://example.com/x?a=1&b=2")
    page = body(alice_client, THREAD.format(1, 1))
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="https://example.com/x?a=1&amp;b=2"' in page and 'rel="nofollow"' in page


def test_writing_needs_the_episode_revealed_to_the_writer(alice_client, show):
    response = alice_client.post(THREAD.format(1, 5), {"text": "too soon"})
    assert response.status_code == 404
    assert not Post.objects.exists()


def test_a_post_and_a_reply_without_javascript(alice_client, bob_client, alice, show):
    response = alice_client.post(THREAD.format(1, 2), {"text": "First thoughts"})
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#post-{post.public_id}")
    assert (post.episode.code, post.reveal_at.code, post.author) == ("1x2", "1x2", alice)
    bob_client.post(THREAD.format(1, 2), {"text": "A reply", "reply_to": post.public_id})
    assert Post.objects.get(parent=post).author.username == "bob"
    page = body(alice_client, THREAD.format(1, 2))
    assert page.index("First thoughts") < page.index("A reply")
    assert "bob" in page and "bob@example.com" not in page


def test_posting_in_place_with_htmx(alice_client, show):
    response = alice_client.post(THREAD.format(1, 2), {"text": "In place"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<section id="thread"')
    assert "In place" in page and 'hx-swap-oob="true"' in page


def test_the_spoiler_check_asks_to_mark_a_name_before_its_first_appearance(bob_client, show):
    response = bob_client.post(THREAD.format(1, 1), {"text": "Zed Quist will matter."})
    assert (
        "Your post mentions Zed Quist, who first appears at 1x4: mark that part as "
        "[spoiler 1x4]…[/spoiler], or leave the name out." in response.content.decode()
    )
    assert not Post.objects.exists()
    bob_client.post(THREAD.format(1, 1), {"text": "[spoiler 1x4]Zed Quist will matter.[/spoiler]"})
    assert Post.objects.count() == 1


def test_the_check_never_names_who_is_still_to_come_for_the_writer(alice_client, show):
    # Alice is at 1x3: telling her that Zed Quist first appears at 1x4 would be the spoiler.
    response = alice_client.post(THREAD.format(1, 1), {"text": "Zed Quist?"})
    assert "1x4" not in response.content.decode()
    assert Post.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "[spoiler 2x1]later[/spoiler]",
            "only up to an episode this thread has reached (S1E3), not S2E1",
        ),
        ("[spoiler 1x1]same[/spoiler]", "S1E1 is not after S1E2"),
        ("[spoiler 1x3]open", "not closed or not well formed"),
        ("[spoiler soon]x[/spoiler]", "needs an episode like 4x10"),
    ],
)
def test_spoiler_marks_that_cannot_work_are_refused(alice_client, show, text, error):
    response = alice_client.post(THREAD.format(1, 2), {"text": text})
    assert error in response.content.decode()
    assert not Post.objects.exists()


def test_hidden_reported_and_missing_posts_answer_alike(alice_client, alice, bob, show):
    hidden = post_on(show, "1x01", bob, "HIDDEN", hidden=True)
    reported = post_on(show, "1x01", bob, "REPORTED")
    PostReport.objects.create(
        post=reported, reporter=alice, reporter_safe_point=episode(show, "1x03")
    )
    later = post_on(show, "1x05", bob, "LATER")
    page = body(alice_client, THREAD.format(1, 1))
    assert "HIDDEN" not in page and "REPORTED" not in page
    missing = alice_client.get("/shows/saga/posts/nothing-here/report/")
    for post in (hidden, reported, later):
        got = alice_client.get(f"/shows/saga/posts/{post.public_id}/report/")
        assert got.status_code == 404
        assert mask_csrf(got.content.decode()) == mask_csrf(missing.content.decode())


def test_a_report_hides_the_post_from_its_reporter_only(alice_client, bob_client, bob, show):
    post = post_on(show, "1x01", bob, "SPOILY")
    other = post_on(show, "1x01", bob, "FINE")
    response = alice_client.post(f"/shows/saga/posts/{post.public_id}/report/", {"message": "2x2!"})
    assert response.status_code == 302
    report = PostReport.objects.get()
    assert (report.reporter_safe_point.code, report.message) == ("1x3", "2x2!")
    page = body(alice_client, THREAD.format(1, 1))
    assert "SPOILY" not in page and "FINE" in page
    assert "SPOILY" in body(bob_client, THREAD.format(1, 1))
    assert report.move_reveal_after_reporter().code == "1x4"
    assert Post.objects.get(pk=post.pk).reveal_at.code == "1x4" and other.reveal_at.code == "1x1"


def test_a_reply_is_never_revealed_before_the_post_it_answers(bob, show):
    post = post_on(show, "1x01", bob, "P")
    reply = post_on(show, "1x01", bob, "R", parent=post)
    post.reveal_at = episode(show, "1x04")
    post.save()
    reply.refresh_from_db()
    assert reply.reveal_at.code == "1x4"


def test_editing_and_deleting_your_own_post(alice_client, alice, bob, show):
    mine = post_on(show, "1x01", alice, "MINE")
    theirs = post_on(show, "1x01", bob, "THEIRS")
    reply = post_on(show, "1x01", bob, "ANSWER", parent=mine)
    url = f"/shows/saga/posts/{mine.public_id}/"
    assert alice_client.post(f"{url}edit/", {"text": "MINE, EDITED"}).status_code == 302
    assert "MINE, EDITED" in body(alice_client, THREAD.format(1, 1))
    assert Post.objects.get(pk=mine.pk).edited_at is not None
    assert (
        alice_client.post(f"/shows/saga/posts/{theirs.public_id}/edit/", {"text": "x"}).status_code
        == 404
    )
    assert alice_client.post(f"/shows/saga/posts/{theirs.public_id}/delete/").status_code == 404
    alice_client.post(f"{url}delete/")
    assert not Post.objects.filter(pk=mine.pk).exists()
    # The reply stays, as a post of its own.
    assert Post.objects.get(pk=reply.pk).parent is None


def test_a_writers_posts_per_hour_are_limited(alice_client, alice, show):
    for n in range(POSTS_PER_HOUR):
        post_on(show, "1x01", alice, f"post {n}")
    response = alice_client.post(THREAD.format(1, 1), {"text": "one more"})
    assert f"You have posted {POSTS_PER_HOUR} times in the last hour" in response.content.decode()
    assert Post.objects.count() == POSTS_PER_HOUR


def test_a_suspended_writer_reads_but_cannot_post(alice_client, alice, show):
    Suspension.objects.create(user=alice)
    response = alice_client.post(THREAD.format(1, 1), {"text": "hello"})
    assert "An editor has suspended your posting" in response.content.decode()
    assert not Post.objects.exists()


def test_a_post_over_the_length_limit_is_refused_with_a_message(alice_client, show):
    response = alice_client.post(THREAD.format(1, 1), {"text": "x" * 5001})
    assert "at most 5000 characters" in response.content.decode()
    assert not Post.objects.exists()


def test_ratings_are_shown_and_taken_only_where_the_episode_is_revealed(alice_client, bob, show):
    Rating.objects.create(user=bob, episode=episode(show, "1x02"), stars=4)
    Rating.objects.create(user=bob, episode=episode(show, "1x05"), stars=1)
    page = body(alice_client, THREAD.format(1, 2))
    assert "<strong>4.0</strong> out of 5, from 1 rating." in page
    alice_client.post("/shows/saga/s1/e2/rating/", {"stars": "2"})
    assert "<strong>3.0</strong> out of 5, from 2 ratings." in body(
        alice_client, THREAD.format(1, 2)
    )
    assert alice_client.post("/shows/saga/s1/e5/rating/", {"stars": "5"}).status_code == 404
    assert alice_client.post("/shows/saga/s1/e2/rating/", {"stars": "6"}).status_code == 302
    assert sorted(Rating.objects.values_list("stars", flat=True)) == [1, 2, 4]


def test_a_party_thread_reads_at_the_party_point(alice_client, alice, bob, bob_client, show):
    from companion.models import Party

    party = Party.objects.create(show=show, name="Friends", created_by=bob)
    party.members.add(alice, bob)
    url = f"/parties/{party.pk}/discussion/"
    assert f'href="{url}"' in body(bob_client, f"/parties/{party.pk}/")
    bob_client.post(url, {"text": "At our point"})
    post = Post.objects.get()
    assert (post.party, post.episode.code) == (party, "1x3")
    post_on(show, "1x05", bob, "PAST THE PARTY", party=party)
    assert "At our point" in body(alice_client, url)
    assert "PAST THE PARTY" not in body(bob_client, url)
    # Not in the episode's own thread, and no party of someone else's.
    assert "At our point" not in body(bob_client, THREAD.format(1, 3))
    outsider = make_user("eve")
    alice_client.force_login(outsider)
    assert alice_client.get(url).status_code == 404


def test_a_signed_out_visitor_is_sent_to_log_in(client, show):
    response = client.get(THREAD.format(1, 1))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("posts", [10, 100, 1000])
def test_the_thread_page_makes_the_same_queries_however_long(alice_client, bob, show, posts):
    first = Post.objects.bulk_create(
        Post(
            episode=episode(show, "1x01"),
            reveal_at=episode(show, "1x01"),
            author=bob,
            text=f"[spoiler 1x2]s{n}[/spoiler] t{n}",
        )
        for n in range(posts)
    )
    Post.objects.bulk_create(
        Post(episode=p.episode, reveal_at=p.reveal_at, author=bob, text="r", parent=p)
        for p in first[:50]
    )
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(THREAD.format(1, 1))
    print(f"{posts} posts: {len(queries)} queries")
    assert len(queries) <= 12


@pytest.mark.skipif(connection.vendor != "sqlite", reason="counts SQLite's instructions")
def test_posts_past_the_point_cost_the_thread_no_work(alice_client, alice, bob, show):
    """Time is a channel: a thread with posts past the reader's point takes the database exactly
    as many steps as one without them (tests/test_work_past_the_point.py, for the discussion)."""
    from tests.helpers import DatabaseWork

    for n in range(3):
        post = post_on(show, "1x02", bob, f"seen {n}")
        post_on(show, "1x02", bob, f"answer {n}", parent=post)
    Rating.objects.create(user=bob, episode=episode(show, "1x02"), stars=3)
    urls = [THREAD.format(1, 2), "/api/v1/shows/saga/episodes/1/2/posts/"]

    def work() -> list[int]:
        steps = []
        for url in urls:
            with DatabaseWork() as measured:
                assert alice_client.get(url).status_code == 200
            steps.append(measured.steps)
        return steps

    work()  # a first call of each: the API's rate-limit rows and the like are in place after it
    before = work()
    for n in range(40):
        later = post_on(show, "1x02", bob, f"later {n}", reveal_at=episode(show, "2x05"))
        post_on(show, "1x02", bob, "later answer", parent=later)
        post_on(show, "1x05", bob, f"elsewhere {n}")
        post_on(show, "1x02", bob, "late reply", parent=post, reveal_at=episode(show, "2x05"))
    after = work()
    # As tests/test_work_past_the_point.py allows: a seek that finds nothing ends a step or two
    # sooner when no entry follows its key in the index, whatever the amount of content.
    assert all(abs(a - b) <= 3 for a, b in zip(after, before, strict=True)), (before, after)


def test_the_episode_page_loads_the_thread_only_where_the_episode_is_revealed(
    alice_client, bob, show
):
    post_on(show, "1x02", bob, "ON-THE-THREAD")
    page = body(alice_client, "/shows/saga/s1/e2/")
    # The page (cached per viewer) holds no post: the thread loads by itself, or is a link.
    assert 'hx-get="/shows/saga/s1/e2/discussion/" hx-trigger="load"' in page
    assert '<a href="/shows/saga/s1/e2/discussion/">' in page and "ON-THE-THREAD" not in page
    assert "discussion" not in body(alice_client, "/shows/saga/s1/e5/")
    loaded = body(alice_client, THREAD.format(1, 2), HTTP_HX_REQUEST="true")
    assert loaded.lstrip().startswith('<section id="thread"') and "ON-THE-THREAD" in loaded


def test_a_new_post_shows_on_the_episode_page_the_viewer_had_cached(alice_client, bob, show):
    body(alice_client, "/shows/saga/s1/e2/")
    post_on(show, "1x02", bob, "WRITTEN-SINCE")
    assert "WRITTEN-SINCE" in body(alice_client, THREAD.format(1, 2), HTTP_HX_REQUEST="true")


def test_the_edit_page_offers_the_text_alone(alice_client, alice, show):
    post = post_on(show, "1x01", alice, "MY WORDS")
    page = body(alice_client, f"/shows/saga/posts/{post.public_id}/edit/")
    assert "MY WORDS</textarea>" in page and 'name="reply_to"' not in page


def test_the_editors_check_lists_a_post_that_names_someone_too_early(alice, show):
    from django.core.management import CommandError, call_command

    post_on(show, "1x01", alice, "[spoiler 1x4]Zed Quist[/spoiler] is fine when marked.")
    call_command("check_spoilers", "saga")
    # Alice at 1x3 was not asked to mark him: naming him to her would say who is to come.
    post_on(show, "1x01", alice, "Zed Quist?")
    with pytest.raises(CommandError, match="1 mention"):
        call_command("check_spoilers", "saga")
