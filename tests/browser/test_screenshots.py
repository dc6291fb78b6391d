"""Screenshots of the demo show for the README. `make screenshots` writes them to docs/screenshots/.

Without SCREENSHOTS_DIR they go to screenshots/ (ignored by git) like the other runs' screenshots.
"""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.helpers import DESKTOP, PHONE, REPO, log_in

pytestmark = pytest.mark.browser

SHOTS = {
    "show-phone": (PHONE, "/shows/for-all-mankind/"),
    "show-desktop": (DESKTOP, "/shows/for-all-mankind/"),
    "episode-desktop": (DESKTOP, "/shows/for-all-mankind/s3/e10/"),
    "story-desktop": (DESKTOP, "/shows/for-all-mankind/story/"),
}


def test_screenshots_of_the_demo_show(page):
    call_command("load_demo", stdout=StringIO())
    folder = REPO / Path(os.environ.get("SCREENSHOTS_DIR") or "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    log_in(page, "viewer", "watching-at-3x10")
    for name, (viewport, url) in SHOTS.items():
        page.set_viewport_size(viewport)
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        # The show page lands on the viewer's season; the README shows it from the top, with the
        # finished seasons folded above that season.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=folder / f"{name}.png", animations="disabled", caret="hide")
