"""What the test modules share besides data builders (tests/factories.py) and fixtures (conftest)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# --- Requests and responses -------------------------------------------------------------------

# The headers htmx sends with a request from the show page.
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/shows/saga/"}


def queries_past_the_session(client, url: str) -> int:
    """The queries of one GET, leaving out reading the session: with sessions cached in Redis (CI
    runs the suite that way too) that read comes from the cache, not the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return sum("django_session" not in query["sql"] for query in captured)


def markers_in(response) -> str:
    """A response's body and headers as one text, to search for leaked markers."""
    return (
        response.content.decode()
        + "\n"
        + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    )


def mask_csrf(html: str) -> str:
    """The page with its CSRF tokens masked, so two renderings of it can be compared."""
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1<csrf>", html)


def says(text: str, word: str) -> bool:
    """Whether the text holds the word standing alone, not inside a random token or id (a CSRF
    token holds "Zed" or "bob" now and then), which a bare `in` would take for a leak."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


# --- Content files ----------------------------------------------------------------------------

FAM = REPO / "fixtures" / "for-all-mankind.yaml"


# --- Admin forms: read a change form's current values out of its HTML, as a browser submits them


class _FormValues(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value") or "on"
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += (
                data.lstrip("\n") if not self.values[self._textarea] else data
            )


def form_values(html: str) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(html)
    parser.values.pop("csrfmiddlewaretoken", None)
    return parser.values


# --- Browser tests (tests/browser/) -----------------------------------------------------------

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse-battery"
AXE_JS = REPO / "tests" / "browser" / "vendor" / "axe.min.js"


def log_in(page, username: str, password: str = PASSWORD, *, next: str = "") -> None:
    """Log in through the form, as a person would (django-axes watches this path)."""
    page.goto("/accounts/login/" + (f"?next={next}" if next else ""))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Account").wait_for()


def mark_button(page, code: str):
    """The show page's "Mark watched" button of one episode (its code is visually hidden)."""
    return page.get_by_role("button", name=re.compile(rf"^Mark watched\W+{code}$"))


def unmark_button(page, code: str):
    return page.get_by_role("button", name=re.compile(rf"^Watched\W+{code}, click to unmark$"))


def no_reload_marker(page) -> None:
    """Plant a value that only survives if the next change happens in place, without a page load."""
    page.evaluate("window.__marker = 1")


def still_same_page(page) -> bool:
    return page.evaluate("window.__marker") == 1


# --- Browser layout ---

OVERLAPS = """(selector) => {
  const boxes = [];
  for (const element of document.querySelectorAll(selector)) {
    const style = getComputedStyle(element);
    if (style.visibility === "hidden" || element.closest("[hidden], details:not([open]) > :not(summary)")) continue;
    for (const r of element.getClientRects()) {
      if (r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > 0) boxes.push({element, r});
    }
  }
  const describe = (e) => `${e.tagName.toLowerCase()} "${e.textContent.trim().replace(/\\s+/g, " ").slice(0, 40)}"`;
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.element === b.element || a.element.contains(b.element) || b.element.contains(a.element)) continue;
      const across = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const down = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (across > 1 && down > 1) overlaps.push(`${describe(a.element)} and ${describe(b.element)}`);
    }
  }
  return overlaps;
}"""
CONTROLS = "a, button, input:not([type=hidden]), select, textarea, summary, label, progress, h1, h2"


def assert_fits(page, where: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], (
        f"{where} scrolls sideways: {width[0]}px of content in a {width[1]}px window"
    )
    overlaps = page.evaluate(OVERLAPS, CONTROLS)
    assert not overlaps, f"{where}: " + "; ".join(overlaps)


# --- Work the database does -------------------------------------------------------------------


class DatabaseWork:
    """Counts SQLite's virtual-machine instructions while a block runs: a measure of the work a
    request asks of the database that, unlike a clock, is the same on every run on any machine."""

    def __init__(self):
        self.steps = 0

    def _tick(self) -> int:
        self.steps += 1
        return 0

    def __enter__(self) -> DatabaseWork:
        from django.db import connection

        connection.ensure_connection()
        connection.connection.set_progress_handler(self._tick, 1)
        return self

    def __exit__(self, *exc) -> None:
        from django.db import connection

        connection.connection.set_progress_handler(None, 1)


# --- Every page the suite renders ---------------------------------------------------------------

# Django's {# #} comment ends at the line's end: one spread over two lines reaches the browser.
TEMPLATE_SYNTAX = re.compile(r"\{#|\{%|\{\{")
# Where a page shows code on purpose (the Connections page's Handlebars template for Jellyfin).
SHOWN_CODE = re.compile(r"<pre>.*?</pre>", re.DOTALL)


class NoTemplateSyntax:
    """Test-only middleware: fails any HTML response that holds template syntax."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        if html and not response.streaming:
            body = SHOWN_CODE.sub("", response.content.decode(errors="replace"))
            found = TEMPLATE_SYNTAX.search(body)
            assert found is None, (
                f"{request.path} sent template syntax to the browser: "
                f"{body[max(found.start() - 80, 0) : found.end() + 80]!r}"
            )
        return response
