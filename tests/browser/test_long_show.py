"""A long-running show opens only the viewer's season; others unfold in place and stay in step."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_user, watch
from tests.helpers import log_in, mark_button, no_reload_marker, still_same_page

pytestmark = pytest.mark.browser


def test_unfolding_a_season_and_closing_a_gap_updates_every_open_season(page, epic):
    viewer = make_user("viewer")
    watch(viewer, epic, *[f"1x{n}" for n in range(1, 10)], *[f"2x{n}" for n in range(1, 4)])
    log_in(page, "viewer")
    page.goto("/shows/epic/")
    no_reload_marker(page)
    # Season 1 is complete but for its finale, so the viewer is in season 1; season 2 is folded.
    expect(page.locator("#season-1-episodes")).to_be_visible()
    expect(page.locator("#season-2-episodes")).to_have_count(0)
    page.get_by_text("Show the episodes of season 2").click()
    expect(page.locator("#season-2-episodes")).to_be_visible()
    expect(page.get_by_text("Recap of S2E1")).to_have_count(0)

    # Watching the season 1 finale closes the gap: season 2's recaps unlock in place too.
    mark_button(page, "S1E10").click()
    expect(page.get_by_text("Safe up to S2E3 · 13 of 70 watched")).to_be_visible()
    expect(page.get_by_text("Recap of S2E3")).to_be_visible()
    expect(page.get_by_text("Recap of S2E4")).to_have_count(0)

    # Marking past the gap changes only that row.
    mark_button(page, "S2E6").click()
    expect(page.get_by_text("Safe up to S2E3 · 14 of 70 watched")).to_be_visible()
    expect(page.get_by_text("Recap of S2E6")).to_have_count(0)
    assert still_same_page(page)
