"""The discussion in a browser: the thread loads into the episode page, posts go in place."""

import pytest
from playwright.sync_api import expect

from discussion.models import Post
from tests.factories import episode
from tests.helpers import PHONE, assert_fits, log_in, no_reload_marker, still_same_page

pytestmark = pytest.mark.browser


def test_a_post_with_a_spoiler_goes_in_place_and_reaches_each_reader_as_far_as_they_are(
    new_context, alice, bob, show
):
    Post.objects.create(episode=episode(show, "1x01"), author=alice, text="Alice was here first")
    writer = new_context().new_page()
    log_in(writer, "bob")
    writer.goto("/shows/saga/s1/e1/")
    expect(writer.get_by_text("Alice was here first")).to_be_visible()
    no_reload_marker(writer)
    writer.get_by_label("Your post on S1E1").fill(
        "Watch the launch. [spoiler 2x2]Ada does not make it.[/spoiler] Still great."
    )
    writer.get_by_role("button", name="Post", exact=True).click()
    expect(writer.get_by_text("Watch the launch.")).to_be_visible()
    writer.get_by_text("Spoiler up to S2E2").click()
    expect(writer.get_by_text("Ada does not make it.")).to_be_visible()
    assert still_same_page(writer)

    reader = new_context(viewport=PHONE).new_page()
    log_in(reader, "alice")
    reader.goto("/shows/saga/s1/e1/")
    expect(reader.get_by_text("Watch the launch.")).to_be_visible()
    assert "Ada does not make it" not in reader.content()
    assert "S2E2" not in reader.content()
    no_reload_marker(reader)
    reader.get_by_text("Reply", exact=True).first.click()
    reader.get_by_label("Your reply").first.fill("Agreed!")
    reader.get_by_role("button", name="Reply", exact=True).first.click()
    expect(reader.locator(".replies").get_by_text("Agreed!")).to_be_visible()
    assert still_same_page(reader)
    assert_fits(reader, "the episode page with its thread on a phone")


def test_the_thread_works_without_javascript(new_context, alice, show):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/s1/e2/")
    page.get_by_role(
        "link", name="Read what others say about S1E2, rate it, and write your own"
    ).click()
    page.get_by_label("Your post on S1E2").fill("No script needed")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("No script needed")).to_be_visible()
    page.get_by_label("4 stars").check()
    page.get_by_role("button", name="Rate").click()
    expect(page.get_by_text("4.0 out of 5, from 1 rating.")).to_be_visible()


def test_a_thread_still_loading_when_its_episode_is_unmarked_is_dropped_quietly(
    page, problems, outsider, show
):
    """Unmarking right after marking takes the thread off the page while it is still loading; its
    answer (now a 404, the episode being hidden again) has nowhere to go and must not turn into an
    error on the page the viewer is reading."""
    problems.allow(r"status of 404 .*/s1/e1/discussion/")
    held = []
    page.route("**/discussion/", lambda route: held.append(route))
    log_in(page, "outsider")
    page.goto("/shows/saga/s1/e1/")
    with page.expect_request("**/discussion/"):
        page.locator("#episode-main").get_by_role("button", name="Mark watched").click()
    expect(page.get_by_text("RECAP-saga-1x1")).to_be_visible()
    for _ in range(250):  # the route's handler runs on Playwright's side: at most 5 s
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the thread's request never reached the route"
    page.get_by_role("button", name="✓ Watched · unmark").click()
    expect(page.get_by_role("heading", name="Watch this episode to unlock")).to_be_visible()
    with page.expect_response(lambda response: response.status == 404):
        held[0].continue_()
    page.unroute("**/discussion/")
    # The unmarked page stays as it is, and the page's own requests still work afterwards.
    page.locator("#episode-main").get_by_role("button", name="Mark watched").click()
    expect(page.get_by_text("RECAP-saga-1x1")).to_be_visible()
    expect(page.locator("#thread")).to_be_visible()
