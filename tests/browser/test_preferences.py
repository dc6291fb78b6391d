"""With "Hide titles of unwatched episodes" on, no unwatched title reaches the screen, tooltips included."""

import pytest
from playwright.sync_api import expect

from tests.helpers import log_in, mark_button

pytestmark = pytest.mark.browser

UNWATCHED = [
    f"TITLE-saga-{s}x{e}" for s, e in [(1, 4), (1, 5), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5)]
]

# Everything a person can read or hover: rendered text, the tab's title and every attribute a
# browser shows as a tooltip or reads aloud.
SCREEN_TEXT = """() => [
  document.title,
  document.body.innerText,
  ...[...document.querySelectorAll("[title], [aria-label], [alt], [placeholder], [aria-description]")].flatMap(
    (el) => ["title", "aria-label", "alt", "placeholder", "aria-description"].map((name) => el.getAttribute(name) || "")),
].join("\\n")"""


def assert_no_unwatched_title(page, unwatched=UNWATCHED):
    text = page.evaluate(SCREEN_TEXT)
    shown = [title for title in unwatched if title in text]
    assert not shown, f"{page.url} shows unwatched titles {shown}"
    return text


def test_hidden_titles_stay_off_every_page_and_appear_once_watched(page, alice, show):
    log_in(page, "alice")
    page.goto("/accounts/preferences/")
    page.get_by_label("Hide titles of unwatched episodes").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    expect(page.get_by_label("Hide titles of unwatched episodes")).to_be_checked()

    for url in [
        "/",
        "/shows/saga/",
        "/shows/saga/s1/e3/",
        "/shows/saga/s1/e4/",
        "/shows/saga/s2/e5/",
        "/shows/saga/story/",
        "/shows/saga/cast/",
        "/shows/saga/cast/ada/",
        "/shows/saga/search/?q=TITLE",
    ]:
        page.goto(url)
        assert_no_unwatched_title(page)

    page.goto("/shows/saga/")
    text = assert_no_unwatched_title(page)
    assert "TITLE-saga-1x3" in text, "watched titles still show"
    expect(page.locator("#episodes").get_by_role("link", name="S1E4 Episode 4")).to_be_visible()

    mark_button(page, "S1E4").click()
    expect(
        page.locator("#episodes").get_by_role("link", name="S1E4 TITLE-saga-1x4")
    ).to_be_visible()
    assert_no_unwatched_title(page, UNWATCHED[1:])

    # The search box answers as you type, through htmx: its fragment follows the preference too.
    page.goto("/shows/saga/search/")
    page.get_by_label("Search recaps, characters and notes you have unlocked").fill("TITLE-saga")
    expect(page.get_by_role("heading", name="Episodes")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("TITLE-saga-1x4")
    assert_no_unwatched_title(page, UNWATCHED[1:])
