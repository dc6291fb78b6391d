"""Every main page fits a phone and a desktop: no sideways scrolling, no controls drawn over each other.

Each run also leaves full-page screenshots of them in screenshots/ (ignored by git) to look at.
"""

import pytest
from playwright.sync_api import expect

from tests.helpers import DESKTOP, PHONE, REPO, assert_fits, log_in, mark_button

pytestmark = pytest.mark.browser


# Pairs of visible controls whose boxes intersect. Each line of a wrapped link is its own box, so
# two links on neighbouring lines are not mistaken for an overlap.
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_main_pages_fit_without_sideways_scrolling_or_overlaps(main_pages, viewport):
    folder = REPO / "screenshots" / ("phone" if viewport == PHONE else "desktop")
    folder.mkdir(parents=True, exist_ok=True)
    for name, page in main_pages(viewport):
        assert_fits(page, f"{name} at {viewport['width']}px")
        page.screenshot(path=folder / f"{name}.png", full_page=True)


def intersect(a: dict, b: dict) -> bool:
    across = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    down = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return across > 1 and down > 1


ROW_CONTROLS = """(rows) => rows.map((row) => [...row.querySelectorAll(".episode-line button, .episode-line a")].map(
  (control) => { const r = control.getBoundingClientRect();
                 return {name: control.innerText, x: r.x, y: r.y, width: r.width, height: r.height}; }))"""


def assert_rows_apart(page) -> None:
    """In each episode row, the watch button, the title link and "all up to here" have boxes of their own."""
    # Marking refreshes other seasons with htmx; measure once every swap has settled.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    rows = page.locator("li.episode").evaluate_all(ROW_CONTROLS)
    assert len(rows) == 10
    for controls in rows:
        assert all(box["width"] and box["height"] for box in controls), (
            f"an invisible control in {controls}"
        )
        for i, a in enumerate(controls):
            for b in controls[i + 1 :]:
                assert not intersect(a, b), f"{a['name']!r} overlaps {b['name']!r}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_episode_rows_keep_their_controls_apart_as_they_change(page, alice, show, viewport):
    page.set_viewport_size(viewport)
    log_in(page, "alice")
    # Season 2 asked for, so both seasons' rows are on the page.
    page.goto("/shows/saga/?season=2")
    assert_rows_apart(page)
    mark_button(page, "S1E4").click()
    page.get_by_text("Recap of S1E4").click()
    expect(page.get_by_text("RECAP-saga-1x4")).to_be_visible()
    assert_rows_apart(page)
    assert_fits(page, f"show page at {viewport['width']}px after marking 1x4 and opening its recap")
