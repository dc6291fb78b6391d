"""The show page on a phone and a desktop: finished seasons folded, the viewer's season open and
landed on, and a season marked watched in one tap (issue 16, item 2)."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_user, watch
from tests.helpers import (
    DESKTOP,
    PHONE,
    REPO,
    assert_fits,
    log_in,
    no_reload_marker,
    still_same_page,
)

pytestmark = pytest.mark.browser

# The season number is visually hidden, so its accessible name has a space before the colon.
SEASON_3 = re.compile(r"^Mark season watched\W+season 3$")
LANDED = "document.querySelector('[data-land-here]').getBoundingClientRect().top"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_show_page_lands_on_the_viewers_season_and_marks_it_watched(
    new_context, epic, viewport
):
    viewer = make_user("viewer")
    watch(viewer, epic, *[f"{s}x{n}" for s in (1, 2) for n in range(1, 11)], "3x1", "3x2")
    page = new_context(viewport=viewport).new_page()
    log_in(page, "viewer")
    page.goto("/shows/epic/")

    expect(page.get_by_role("heading", name="Season 1 · 10 of 10 watched")).to_be_visible()
    expect(page.get_by_role("heading", name="Season 3 · 2 of 10 watched")).to_be_visible()
    expect(page.locator("#season-1-fold")).not_to_have_attribute("open", "")
    expect(page.locator("#season-3-fold")).to_have_attribute("open", "")
    expect(page.locator("#season-3-episodes")).to_be_visible()
    # The page opened at the season the viewer is in, not at the top.
    assert -2 <= page.evaluate(LANDED) < 60, page.evaluate(LANDED)
    assert_fits(page, f"the show page at {viewport['width']}px")
    no_reload_marker(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=SEASON_3).click()
    expect(page.get_by_role("heading", name="Season 3 · 10 of 10 watched")).to_be_visible()
    expect(page.get_by_text("Safe up to S3E10 · 30 of 70 watched")).to_be_visible()
    expect(page.get_by_text("Recap of S3E10")).to_be_visible()
    expect(page.get_by_role("button", name=SEASON_3)).to_have_count(0)
    expect(page.get_by_text("Marked 8 more episodes of season 3 watched.")).to_be_visible()
    assert still_same_page(page)

    # A finished season still unfolds, and its rows load in place.
    page.get_by_text("Show the episodes of season 1").click()
    expect(page.locator("#season-1-episodes")).to_be_visible()
    expect(page.get_by_text("Recap of S1E10")).to_be_visible()
    assert still_same_page(page)

    # Last: a screenshot leaves style attributes behind that htmx's next swap would copy (a CSP error).
    page.goto("/shows/epic/")
    folder = REPO / "screenshots" / ("phone" if viewport == PHONE else "desktop")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / "show-landed.png")


def test_a_long_premise_shows_its_first_lines_on_a_phone(new_context, alice, show):
    show.premise = "It begins with a launch that goes wrong and a crew left behind. " * 6
    show.save()
    page = new_context(viewport=PHONE).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/")
    premise = page.locator(".premise-text")
    folded = premise.evaluate("e => e.getBoundingClientRect().height")
    page.get_by_text("More", exact=True).click()
    unfolded = premise.evaluate("e => e.getBoundingClientRect().height")
    assert folded < 100 < unfolded, (folded, unfolded)
    assert_fits(page, "the show page with its premise unfolded")


ROWS = """() => [...document.querySelectorAll("#season-1-episodes li.episode:not(.watched)")].map((row) => ({
  id: row.id, height: row.getBoundingClientRect().height,
  targets: [...row.querySelectorAll(".episode-line button, .episode-line a")].map((control) => {
    const r = control.getBoundingClientRect();
    return {name: control.innerText.trim() || control.getAttribute("aria-label"), width: r.width, height: r.height};
  })}))"""


def test_unwatched_rows_are_compact_with_targets_a_thumb_can_hit(new_context, alice, show):
    page = new_context(viewport=PHONE).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/")
    rows = page.evaluate(ROWS)
    assert len(rows) == 2  # 1x4 and 1x5
    for row in rows:
        # One line of controls: the toggle, the title and "up to here" side by side.
        assert row["height"] <= 72, f"{row['id']} is {row['height']}px tall"
        for target in row["targets"]:
            assert target["height"] >= 44 and target["width"] >= 44, (
                f"{target['name']!r} in {row['id']} is {target['width']}x{target['height']}px"
            )
    assert_fits(page, "the show page at 390px")


def test_rows_with_a_hidden_title_keep_the_title_whole_and_targets_large(new_context, alice, show):
    alice.hide_unwatched_titles = True
    alice.save()
    page = new_context(viewport=PHONE).new_page()
    log_in(page, "alice")
    page.goto("/shows/saga/")
    for row in page.evaluate(ROWS):
        # "S1E4 Episode 4" on one line (it was broken letter by letter), "Show title anyway" below.
        assert row["height"] <= 110, f"{row['id']} is {row['height']}px tall"
        for target in row["targets"]:
            assert target["height"] >= 44 and target["width"] >= 44, (row["id"], target)
    heights = page.locator(
        "#season-1-episodes li.episode:not(.watched) .episode-link"
    ).evaluate_all("(links) => links.map((link) => link.getBoundingClientRect().height)")
    assert heights and max(heights) < 50, heights
    assert_fits(page, "the show page with hidden titles at 390px")


IN_VIEW = """(text) => [...document.querySelectorAll(".message")].some((m) => {
  const r = m.getBoundingClientRect();
  return m.textContent.includes(text) && r.height > 1 && r.top >= 0 && r.bottom <= window.innerHeight;
})"""


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "plain-form"])
def test_a_marks_message_is_in_view_at_the_row_marked(new_context, epic, javascript):
    viewer = make_user("viewer")
    watch(viewer, epic, *[f"1x{n}" for n in range(1, 9)])
    page = new_context(viewport=PHONE, java_script_enabled=javascript).new_page()
    log_in(page, "viewer")
    page.goto("/shows/epic/")
    # The season's last row, well down the page: watching it before 1x9 unlocks nothing.
    button = page.get_by_role("button", name=re.compile(r"^Mark watched\W+S1E10$"))
    button.scroll_into_view_if_needed()
    button.click()
    said = "Marked S1E10 watched, but it unlocks nothing yet"
    page.wait_for_function(IN_VIEW, arg=said)
