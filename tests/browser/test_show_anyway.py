"""A title or synopsis hidden by preference is revealed on purpose, one at a time (issue 16, item 9)."""

import pytest
from playwright.sync_api import expect

from tests.helpers import DESKTOP, PHONE, assert_fits, log_in, no_reload_marker, still_same_page

pytestmark = pytest.mark.browser


@pytest.fixture
def hiding(alice):
    alice.hide_unwatched_titles = True
    alice.save()
    return alice


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_show_anyway_reveals_that_one_title_or_synopsis_in_place(
    new_context, hiding, show, viewport
):
    page = new_context(viewport=viewport).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/")
    assert_fits(page, f"the show page with hidden titles at {viewport['width']}px")
    expect(page.get_by_text("TITLE-saga-1x4")).to_have_count(0)
    no_reload_marker(page)
    page.get_by_role("button", name="Show title anyway (S1E4)").click()
    expect(page.get_by_text("“TITLE-saga-1x4”")).to_be_visible()
    expect(page.get_by_text("TITLE-saga-1x5")).to_have_count(0)
    expect(page.get_by_role("button", name="Show title anyway (S1E5)")).to_be_visible()
    assert still_same_page(page)

    page.goto("/shows/saga/s1/e5/")
    expect(page.get_by_text("SYNOPSIS-saga-1x5")).to_have_count(0)
    no_reload_marker(page)
    page.get_by_role("button", name="Show synopsis anyway (S1E5)").click()
    expect(page.get_by_text("SYNOPSIS-saga-1x5")).to_be_visible()
    # What the preference hid is shown now: the line saying it is hidden goes with the button.
    expect(page.get_by_text("Synopsis hidden by your preferences")).to_have_count(0)
    page.get_by_role("button", name="Show title anyway (S1E5)").click()
    expect(page.get_by_text("“TITLE-saga-1x5”")).to_be_visible()
    expect(page.get_by_text("Title hidden by your preferences")).to_have_count(0)
    expect(page.get_by_role("heading", name="You have not watched S1E4 yet")).to_be_visible()
    assert still_same_page(page)
    assert_fits(page, f"the episode page at {viewport['width']}px")


def test_show_anyway_without_javascript_shows_the_text_on_a_small_page(new_context, hiding, show):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/s2/e1/")
    page.get_by_role("button", name="Show title anyway (S2E1)").click()
    expect(page.get_by_role("heading", name="The title of S2E1")).to_be_visible()
    expect(page.get_by_text("“TITLE-saga-2x1”")).to_be_visible()
    page.get_by_role("link", name="Back to S2E1").click()
    expect(page.get_by_text("TITLE-saga-2x1")).to_have_count(0)
