"""axe-core finds no serious or critical accessibility problem on any main page, on a phone or a desktop.

axe-core is vendored in vendor/axe.min.js (MPL-2.0, licence header kept; from the npm package
axe-core). It is evaluated through the DevTools protocol, which the page's CSP does not govern, so
the pages are checked under their real policy.
"""

import pytest
from playwright.sync_api import expect

from tests.helpers import AXE_JS, DESKTOP, PHONE, log_in, mark_button

pytestmark = pytest.mark.browser

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}x, e.g. ${v.nodes[0].target.join(" ")})`);
}"""


@pytest.fixture(scope="session")
def axe_source():
    return AXE_JS.read_text()


def serious_violations(page, axe_source) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_accessibility_violations_on_main_pages(main_pages, axe_source, viewport):
    found = {name: serious_violations(page, axe_source) for name, page in main_pages(viewport)}
    found = {name: violations for name, violations in found.items() if violations}
    assert not found, "\n".join(
        f"{name}: {v}" for name, violations in found.items() for v in violations
    )


def test_no_serious_accessibility_violations_after_in_place_changes(page, alice, show, axe_source):
    log_in(page, "alice")
    page.goto("/shows/saga/")
    mark_button(page, "S1E4").click()
    page.get_by_text("Recap of S1E4").click()
    expect(page.get_by_text("RECAP-saga-1x4")).to_be_visible()
    assert serious_violations(page, axe_source) == []

    page.goto("/shows/saga/s1/e5/")
    page.get_by_role("button", name="Mark watched").click()
    expect(page.get_by_text("RECAP-saga-1x5")).to_be_visible()
    assert serious_violations(page, axe_source) == []
