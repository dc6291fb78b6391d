"""Renders shared between viewers: a fragment or a page is rendered once per what it shows.

The one key rule: a render is cached under a digest of its template and its *facts*, which must
hold everything the render shows (nothing personal). Two viewers share a render only when theirs
would be the same bytes, and a mark, an edit or a preference change makes new facts, so a new key,
at once. The cache's key prefix names the release (config/settings.py), so new code and templates
never read old renders. The CSRF token, the one personal part a shared render may need, is
rendered as a placeholder and put in per response by `with_csrf`, the one place that does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from types import SimpleNamespace
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# An hour: a render outlives no release, and facts nobody asks for again age out.
TTL = 60 * 60
# Stands in for the CSRF token in shared renders; each response gets its own put in.
CSRF_PLACEHOLDER = "csrf-token-of-this-request"
# The renders built within one_write(), written in one go when it is done.
_unwritten: ContextVar[dict[str, str] | None] = ContextVar("unwritten_renders", default=None)
# Set while render_page builds a page shared whole, which is keyed on the viewer's point.
_building_page: ContextVar[bool] = ContextVar("building_page", default=False)


def shared_key(template: str, facts: Any) -> str:
    return "shared:" + hashlib.sha256(repr((template, facts)).encode()).hexdigest()


def render_keyed(
    template: str, keyed: Iterable[tuple[str, Callable[[], dict]]]
) -> list[SafeString]:
    """Render `template` for each (key, context) not in the cache yet, in one read and one write."""
    return built_keyed((key, rendering(template, context)) for key, context in keyed)


def rendering(template: str, context: Callable[[], dict]) -> Callable[[], str]:
    """What builds `template` for built_keyed(), where renders of several templates share a read."""
    return partial(_render, template, context)


def _render(template: str, context: Callable[[], dict]) -> str:
    return render_to_string(template, context())


def built_keyed(keyed: Iterable[tuple[str, Callable[[], str]]]) -> list[SafeString]:
    """Build the HTML of each (key, build) not in the cache yet, in one read and one write."""
    keyed = list(keyed)
    unwritten = _unwritten.get()
    cached = {key: unwritten[key] for key, _ in keyed if key in unwritten} if unwritten else {}
    asked = [key for key, _ in keyed if key not in cached]
    if asked:
        cached |= cache.get_many(asked)
    missing = {}
    renders = []
    for key, build in keyed:
        html = cached.get(key)
        if html is None:
            html = missing[key] = build()
        renders.append(mark_safe(html))
    if missing:
        if unwritten is None:
            cache.set_many(missing, TTL)
        else:
            unwritten |= missing
    return renders


@contextmanager
def one_write() -> Iterator[None]:
    """Write what the renders built within add to the cache in one round trip, when they are
    done: a page, its season list and their rows would each make one. Nothing is written if
    the build fails."""
    if _unwritten.get() is not None:
        yield
        return
    unwritten: dict[str, str] = {}
    building = _unwritten.set(unwritten)
    try:
        yield
    finally:
        _unwritten.reset(building)
    if unwritten:
        cache.set_many(unwritten, TTL)


def render_each(
    template: str, items: list, facts: Callable[[Any], Any], context: Callable[[Any], dict]
) -> list[SafeString]:
    """Each item rendered once per its `facts(item)` and shared: an item reads the same from its
    reveal to the next edit or reveal that changes it, so a point nobody has visited yet still
    finds most of its items rendered."""
    return render_keyed(
        template, [(shared_key(template, facts(item)), partial(context, item)) for item in items]
    )


def build_each(
    name: str, items: list, facts: Callable[[Any], Any], build: Callable[[Any], str]
) -> list[SafeString]:
    """As render_each, for the few fragments built in Python rather than from a template (where a
    measurement showed the template's own cost to be most of a first look): `name` stands for
    the template in the key, and `build(item)` must escape everything it puts in."""
    return built_keyed((shared_key(name, facts(item)), partial(build, item)) for item in items)


def render_once(template: str, facts: Any, context: Callable[[], dict]) -> SafeString:
    return render_keyed(template, [(shared_key(template, facts), context)])[0]


def render_once_at_point(template: str, facts: Any, context: Callable[[], dict]) -> SafeString:
    """As render_once, for a fragment keyed on a point (Viewing.cached_fragment). Within a page
    shared whole, which is keyed on the point too, it is built in place: a copy of its own would
    be read only by a viewer at the point whose page differs (in their preferences, say), and it
    cost every first look a round trip and writing the same bytes twice."""
    if _building_page.get():
        return mark_safe(render_to_string(template, context()))
    return render_once(template, facts, context)


def with_csrf(html: str, token: str) -> SafeString:
    return mark_safe(html.replace(CSRF_PLACEHOLDER, escape(token)))


def render_page(
    request: HttpRequest, template: str, context: dict | Callable[[], dict], facts: tuple
) -> HttpResponse:
    """A whole page, shared between every viewer to whom it reads the same.

    `facts` must be everything the page shows besides its URL and its CSRF token. A page that shows
    messages, or anything else of this request alone, is rendered with render() instead.
    `context` may be a function that builds it, called only when the page is not cached yet: a
    look-up that may be a 404 goes there, and nothing is cached for a page that is not shown.
    """
    # The page's own URL, with the scheme and host its absolute links are made of.
    url = request.build_absolute_uri(request.path)

    def shared_context() -> dict:
        return {
            **(context() if callable(context) else context),
            "user": request.user,
            # Of the request, only its URL: what else it carries is this viewer's alone.
            "request": SimpleNamespace(
                path=request.path, build_absolute_uri=request.build_absolute_uri
            ),
            "messages": (),
            "csrf_token": CSRF_PLACEHOLDER,
        }

    building = _building_page.set(True)
    try:
        with one_write():
            html = render_once(template, (url, facts), shared_context)
    finally:
        _building_page.reset(building)
    return HttpResponse(with_csrf(html, get_token(request)))
