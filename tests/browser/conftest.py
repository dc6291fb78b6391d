"""Headless Chromium (Debian's package, driven by Playwright) against a live server of the app.

One browser per session; every test gets fresh contexts, and every page records console errors,
uncaught exceptions and Content-Security-Policy violations, which fail the test at teardown.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.factories import give_images
from tests.helpers import DESKTOP, log_in

# Debian's package installs /usr/bin/chromium; another "chromium" earlier on PATH (Playwright's own
# download, say) is not the browser these tests are meant to prove the site in.
DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM = DEBIAN_CHROMIUM if shutil.which(DEBIAN_CHROMIUM) else None
NO_CHROMIUM = "install Debian's chromium: apt-get install chromium (or make browsers)"

# Without the networking switches Chromium keeps trying to reach Google, which the closed
# network here turns into slow starts and stray errors.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs in every document before the page's own scripts; the binding survives navigations, so a
# violation on any page visited reaches Python.
RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const violation = {directive: event.violatedDirective, blocked: event.blockedURI, url: document.URL,
                     sample: event.sample};
  window.__cspViolations.push(violation);
  window.__reportCspViolation(violation);
});
"""


def pytest_collection_modifyitems(config, items):
    # Skip before any fixture starts a live server; a conftest hook sees the whole session's items.
    if CHROMIUM is None:
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all browser tests, closed after the last of them."""
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import expect, sync_playwright

    # Generous for a busy two-core machine; a passing step never waits this long.
    expect.set_options(timeout=10_000)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # While Playwright's sync API is alive its event loop counts as running in this thread, and
        # Django refuses ORM calls next to one. Package scope takes the switch away with the browser,
        # so later tests, and the subprocesses they start, run without it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Every test here creates users and logs in through the form; the real hasher's deliberate
    # slowness would be most of the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Problems:
    """Console errors, uncaught exceptions and CSP violations seen by every page of a test."""

    def __init__(self):
        self.seen: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """Expect a problem matching this pattern (a test that visits a 404 on purpose)."""
        self.allowed.append(re.compile(pattern))

    def record(self, kind: str, text: str, url: str = "") -> None:
        self.seen.append(f"{kind}: {text}" + (f" (on {url})" if url else ""))

    def unexpected(self) -> list[str]:
        return [p for p in self.seen if not any(pattern.search(p) for pattern in self.allowed)]


@pytest.fixture
def problems():
    return Problems()


@pytest.fixture
def new_context(browser, live_server, problems):
    """Open a browser context on the live server: a separate cookie jar, as a second person would have."""
    contexts = []

    def open_context(*, viewport: dict = DESKTOP, **options):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, **options)
        context.set_default_timeout(10_000)
        context.expose_function(
            "__reportCspViolation",
            lambda v: problems.record(
                "CSP violation",
                f"{v['directive']} blocked {v['blocked'] or v['sample']!r}",
                v["url"],
            ),
        )
        context.add_init_script(RECORD_CSP)

        def watch_page(page):
            page.on(
                "console",
                lambda m: (
                    m.type == "error"
                    and problems.record(
                        "console error", f"{m.text} [{m.location.get('url', '')}]", page.url
                    )
                ),
            )
            page.on(
                "pageerror",
                lambda error: problems.record("uncaught exception", str(error), page.url),
            )

        context.on("page", watch_page)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
    unexpected = problems.unexpected()
    assert not unexpected, "the browser reported problems:\n" + "\n".join(unexpected)


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context):
    return context.new_page()


# The main pages, as a viewer at 1x3 (alice) sees them; sign-up and log-in as a visitor does.
VISITOR_PAGES = {"login": "/accounts/login/", "signup": "/accounts/signup/"}
VIEWER_PAGES = {
    "show-list": "/",
    "show": "/shows/saga/",
    "episode": "/shows/saga/s1/e3/",
    "locked-episode": "/shows/saga/s1/e4/",
    "cast": "/shows/saga/cast/",
    "character": "/shows/saga/cast/ada/",
    "story": "/shows/saga/story/",
    "search": "/shows/saga/search/?q=saga",
    "preferences": "/accounts/preferences/",
    "email": "/accounts/email/",
}


@pytest.fixture
def main_pages(new_context, alice, show):
    """Visit every main page at a viewport: yields (name, page) once each page has loaded.

    The show has its art, as an import leaves it: a poster, photos, the still of the episode
    alice has watched and of the one she has not (its stand-in shows), so every check covers them.
    """
    give_images(show, stills=("1x03", "1x04"))

    def visit(viewport: dict = DESKTOP, **options):
        visitor = new_context(viewport=viewport, **options).new_page()
        for name, url in VISITOR_PAGES.items():
            visitor.goto(url)
            yield name, visitor
        viewer = new_context(viewport=viewport, **options).new_page()
        log_in(viewer, "alice")
        for name, url in VIEWER_PAGES.items():
            viewer.goto(url)
            yield name, viewer

    return visit
