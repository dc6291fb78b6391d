"""The account's tables (Connections, personal tokens) and the API docs fit a phone: no sideways
scrolling and no word broken letter by letter (issue 31)."""

import pytest
from django.urls import reverse

from api.models import ApiToken
from connections.models import MediaServerEvent
from tests.browser.test_accessibility import serious_violations
from tests.helpers import AXE_JS, PHONE, assert_fits, log_in

pytestmark = pytest.mark.browser

# Words split over two or more lines inside a table cell. A token longer than a phone's line (an
# API path) may have to break; anything shorter must not.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("td, th")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const match of node.data.matchAll(/\\S+/g)) {
        if (match[0].length > 24) continue;
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


@pytest.fixture
def account_with_history(alice, show):
    for name in ("My phone app", "Kodi add-on in the living room", "Home Assistant"):
        ApiToken.objects.issue(user=alice, name=name)
    outcomes = MediaServerEvent.Outcome
    for server, event, outcome, reason in [
        ("jellyfin", "PlaybackStop", outcomes.MARKED, ""),
        ("plex", "media.scrobble", outcomes.ALREADY, ""),
        ("emby", "playback.stop", outcomes.NOT_MATCHED, ""),
        ("jellyfin", "UserDataSaved", outcomes.IGNORED, "not about watching"),
    ]:
        MediaServerEvent.objects.create(
            user=alice,
            server=server,
            event=event,
            outcome=outcome,
            show=show if outcome != outcomes.NOT_MATCHED else None,
            series_title="Severance",
            season=1,
            number=4,
            reason=reason,
            digest=f"{server}-{event}",
        )
    return alice


def test_account_tables_and_the_api_docs_fit_a_phone(new_context, account_with_history):
    page = new_context(viewport=PHONE).new_page()
    log_in(page, "alice")
    for name in ("connections", "api-tokens", "api-docs"):
        page.goto(reverse(name))
        for summary in page.locator("main details > summary").all():
            summary.click()
        assert page.locator("table").count(), f"{name} has no table to check"
        assert_fits(page, f"{name} at {PHONE['width']}px")
        broken = page.evaluate(BROKEN_WORDS)
        assert not broken, f"{name} breaks words inside them: {broken[:10]}"
        # The rows stacked as cards are still a table to assistive technology.
        assert not serious_violations(page, AXE_JS.read_text()), name
