"""Home: the next episode of each followed show is one tap away, at phone and desktop widths."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import DESKTOP, PHONE, assert_fits, log_in, no_reload_marker, still_same_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_one_tap_on_home_marks_up_next_and_offers_the_one_after(page, alice, show, viewport):
    page.set_viewport_size(viewport)
    log_in(page, "alice")
    page.goto("/")
    card = page.locator("li.show-card", has_text="Saga")
    expect(card.get_by_text("S1E3 · 3 of 10 watched")).to_be_visible()
    expect(card.get_by_text(re.compile(r"Up next: S1E4"))).to_be_visible()
    assert_fits(page, f"home at {viewport['width']}px")
    no_reload_marker(page)

    button = card.get_by_role("button", name=re.compile(r"^Mark watched\W+Saga S1E4$"))
    box = button.bounding_box()
    assert box and box["height"] >= 36 and box["x"] + box["width"] <= viewport["width"]
    button.click()

    expect(card.get_by_text("S1E4 · 4 of 10 watched")).to_be_visible()
    expect(card.get_by_text(re.compile(r"Up next: S1E5"))).to_be_visible()
    expect(
        card.get_by_role("button", name=re.compile(r"^Mark watched\W+Saga S1E5$"))
    ).to_be_focused()
    assert still_same_page(page), "the card was not swapped in place"
    assert_fits(page, f"home at {viewport['width']}px after one tap")

    page.goto("/shows/saga/s1/e4/")
    expect(page.get_by_text("RECAP-saga-1x4")).to_be_visible()


def test_one_tap_on_home_works_without_javascript(new_context, alice, show):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "alice")
    page.goto("/")
    page.get_by_role("button", name=re.compile(r"^Mark watched\W+Saga S1E4$")).click()
    expect(page.get_by_text("S1E4 · 4 of 10 watched")).to_be_visible()
    assert page.url.endswith(f"/#show-card-{show.pk}")
