"""An editor's path from a TVmaze search to a show viewers can open, as an editor clicks it.

TVmaze is replayed from tests/fixtures/tvmaze/ (the live server runs in this process, so the patched
transport serves it); the jobs run at once on the immediate backend, as in development.
`make screenshots` keeps the screenshots of each step in docs/screenshots/.
"""

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from catalogue import tvmaze
from companion.models import Show
from tests.catalogue.conftest import Recorded
from tests.factories import make_user
from tests.helpers import DESKTOP, REPO, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def recorded(monkeypatch) -> Recorded:
    recorded = Recorded()
    monkeypatch.setattr(tvmaze, "TRANSPORT", httpx.MockTransport(recorded))
    monkeypatch.setattr(tvmaze, "RATE_LIMIT", tvmaze.RateLimit(sleep=lambda seconds: None))
    return recorded


def test_screenshots_of_an_editor_importing_a_show_from_tvmaze_that_viewers_open(
    new_context, recorded
):
    make_user("chief", is_staff=True, is_superuser=True)
    folder = REPO / Path(os.environ.get("SCREENSHOTS_DIR") or "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page = new_context(viewport=DESKTOP).new_page()
    log_in(page, "chief", next="/admin/")

    page.goto("/admin/companion/show/")
    page.get_by_role("link", name="Add a show from TVmaze").click()
    page.get_by_label("Title").fill("True Detective")
    page.get_by_role("button", name="Search TVmaze").click()
    result = page.get_by_role("row").filter(has_text="HBO")
    expect(result).to_contain_text("True Detective")
    page.screenshot(path=folder / "tvmaze-1-search.png", full_page=True)

    result.get_by_role("button", name="Import").click()
    expect(page.get_by_text("True Detective: imported")).to_be_visible()
    show = Show.objects.get(tvmaze_id=5)
    assert show.episodes.count() > 0 and not show.reviewed
    page.screenshot(path=folder / "tvmaze-2-imported.png", full_page=True)

    # Viewers find it in Browse and open it, poster and all, with no call out from their pages.
    calls_before = len(recorded.requests)
    viewer = new_context(viewport=DESKTOP).new_page()
    viewer.goto("/browse/")
    viewer.get_by_role("link", name="True Detective").first.click()
    expect(viewer.get_by_role("heading", level=1, name="True Detective")).to_be_visible()
    expect(viewer.locator("img[src^='/media/']").first).to_be_visible()
    viewer.screenshot(path=folder / "tvmaze-3-show-page.png", full_page=True)
    assert len(recorded.requests) == calls_before
