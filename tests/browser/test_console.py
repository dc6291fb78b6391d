"""No page logs a console error, throws, or trips the Content-Security-Policy.

Every test in this folder fails on any of those (see `new_context` in conftest.py); these tests
prove the watch is live and walk the pages no other browser test visits.
"""

import pytest
from playwright.sync_api import expect

from tests.helpers import log_in

pytestmark = pytest.mark.browser


def test_an_inline_script_is_blocked_and_reported(page, problems, show):
    page.goto("/shows/saga/")
    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.inlineRan = true";
      document.body.append(script);
      console.error("a deliberate console error");
    }""")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.inlineRan") is None, "the CSP let an inline script run"
    assert any(p.startswith("CSP violation: script-src") for p in problems.seen), problems.seen
    assert any("a deliberate console error" in p for p in problems.seen), problems.seen
    problems.seen.clear()


def test_admin_and_account_pages_are_clean(page, problems, editor, show):
    log_in(page, "editor")
    for url in [
        "/admin/",
        "/admin/companion/character/",
        "/admin/companion/character/add/",
        "/admin/companion/episode/?q=1x3",
        "/shows/saga/s1/e3/preview/",
        "/accounts/password/",
        "/accounts/delete/",
    ]:
        page.goto(url)
    page.goto("/admin/companion/character/")
    page.get_by_role("link", name="Ada").click()
    page.get_by_role("button", name="Add another Character state").click()
    expect(page.locator("#id_states-TOTAL_FORMS")).to_have_value("4")
    assert problems.unexpected() == []


def test_not_found_page_logs_only_its_own_status(page, problems, show):
    problems.allow(r"status of 404 \(Not Found\) \[.*/shows/saga/s9/e9/\]")
    response = page.goto("/shows/saga/s9/e9/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert problems.unexpected() == []
