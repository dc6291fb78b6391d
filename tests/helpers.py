"""What the test modules share besides data builders (tests/factories.py) and fixtures (conftest)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# --- Requests and responses -------------------------------------------------------------------

# The headers htmx sends with a request from the show page.
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/shows/saga/"}


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
