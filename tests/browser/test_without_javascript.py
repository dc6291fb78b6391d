"""Without JavaScript a mark comes back to its row, and "all up to here" asks first (issue 16, item 8)."""

import re

import pytest
from playwright.sync_api import expect

from companion.models import Watch
from tests.factories import episode
from tests.helpers import PHONE, log_in, mark_button

pytestmark = pytest.mark.browser


def test_a_plain_mark_returns_to_the_row_and_up_to_here_confirms_on_a_page(
    new_context, alice, show
):
    page = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/")
    # Season 2 is folded and its rows are not in the page: unfolded, it offers a link that opens it.
    expect(page.locator("#season-2-episodes")).to_have_count(0)
    page.get_by_text("Show the episodes of season 2").click()
    page.get_by_role("link", name="Open season 2").click()
    expect(page).to_have_url(re.compile(r"/shows/saga/\?season=2#season-2$"))

    row = episode(show, "2x2")
    mark_button(page, "S2E2").click()
    expect(page).to_have_url(re.compile(rf"/shows/saga/\?season=2#episode-{row.pk}$"))
    expect(page.locator(f"#episode-{row.pk}")).to_be_in_viewport()
    expect(page.locator(f"#watch-toggle-{row.pk}")).to_have_attribute("aria-pressed", "true")

    target = episode(show, "1x5")
    page.get_by_role("button", name="Watched all up to here (S1E5)").click()
    expect(
        page.get_by_role("heading", name="Mark every episode up to S1E5 as watched?")
    ).to_be_visible()
    expect(
        page.get_by_text("That marks 2 episodes of Saga you have not marked yet")
    ).to_be_visible()
    assert Watch.objects.filter(user=alice).count() == 4, "asking marks nothing"
    page.get_by_role("button", name="Yes, mark them watched").click()
    expect(page).to_have_url(re.compile(rf"/shows/saga/\?season=1#episode-{target.pk}$"))
    expect(page.locator(f"#episode-{target.pk}")).to_be_in_viewport()
    assert Watch.objects.filter(user=alice).count() == 6


def test_cancelling_the_confirmation_marks_nothing(new_context, alice, show):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/?season=2")
    page.get_by_role("button", name="Watched all up to here (S2E5)").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/shows/saga/\?season=2#episode-\d+$"))
    assert Watch.objects.filter(user=alice).count() == 3
