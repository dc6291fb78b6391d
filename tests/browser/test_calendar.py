"""The calendar page on a phone and a desktop, as a viewer at S2E5 of a show airing its season 4.

`make screenshots` writes its pictures to docs/screenshots/ with the demo show's.
"""

import datetime as dt
import os
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_accessibility import serious_violations
from tests.factories import make_user
from tests.helpers import DESKTOP, PHONE, REPO, log_in
from tests.upcoming.conftest import TODAY, make_airing_show, watch_up_to

pytestmark = pytest.mark.browser


@pytest.fixture
def carol(db):
    with mock.patch.object(
        timezone, "now", return_value=dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    ):
        user = make_user("carol")
        watch_up_to(user, make_airing_show("fam", title="For All Mankind"), 2, 5)
        yield user


@pytest.fixture(scope="module")
def axe_source():
    from tests.helpers import AXE_JS

    return AXE_JS.read_text()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_of_the_calendar_on_a_phone_and_a_desktop(
    new_context, carol, axe_source, viewport
):
    page = new_context(viewport=viewport).new_page()
    log_in(page, "carol")
    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", level=1, name="Calendar")).to_be_visible()
    expect(page.get_by_text("10 aired episodes waiting")).to_be_visible()
    # Default preferences: an episode not yet aired is told by its code, its title nowhere.
    expect(page.get_by_role("link", name="For All Mankind · S4E5", exact=True)).to_be_visible()
    expect(page.get_by_text("TITLE-fam-4x5")).to_have_count(0)
    assert serious_violations(page, axe_source) == []
    # Nothing wider than the screen: the long labels and the feed URL wrap.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    name = "phone" if viewport == PHONE else "desktop"
    folder = REPO / Path(os.environ.get("SCREENSHOTS_DIR") or "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"calendar-{name}.png", full_page=True, animations="disabled")


def test_a_viewer_creates_and_revokes_the_feed_url(page, carol, axe_source):
    page.set_viewport_size(PHONE)
    log_in(page, "carol", next="/calendar/")
    page.get_by_role("button", name="Create a feed URL").click()
    url = page.locator("code.token")
    expect(url).to_contain_text("/calendar/feed/sfc_")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert serious_violations(page, axe_source) == []
    page.get_by_role("button", name="Revoke the feed URL").click()
    expect(page.get_by_text("Revoked your calendar feed URL.")).to_be_visible()
    expect(page.get_by_role("button", name="Create a feed URL")).to_be_visible()
