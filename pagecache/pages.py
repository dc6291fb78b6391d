"""Whole pages cached per viewer, keyed on everything they are made from.

A show's page (or the home page, for the shows followed) is a function of the code, the URL, the
show's content (its row and `content_version`) and the viewer's own: their watches, follows and
watch parties, their preferences and rewatch point. The key holds the show's row, read afresh, and
the whole user row, which every request loads anyway: database triggers move its `rows_version` on
whenever a watch, follow or party of theirs changes (pagecache/triggers.py). So a hit costs one
small query more than loading the session and the user, and any mark, edit or preference change,
by whatever route (a page, the API, an import, a media server, the admin, raw SQL), makes a new
key on the very next request. The key also holds the viewer's id: a cached page is only ever
served back to the viewer it was rendered for.

The CSRF token is the one part that changes per request: pages are rendered with a placeholder
in its place (see `csrf_placeholder`) and the request's own token goes in on the way out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

from companion.lookups import VIEWING_OF_THIS_REQUEST
from companion.models import Follow, Show
from companion.viewing import (
    AS_OF_SESSION_KEY,
    CSRF_PLACEHOLDER,
    Viewing,
    release,
    viewing_for,
)

PAGE_TTL = 60 * 60
# The request attribute that makes csrf_placeholder() stand in for the token while a page renders.
RENDERING_FOR_CACHE = "_rendering_for_page_cache"
# Pages that answer differently to these htmx headers (a fragment instead of the page).
HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-Trigger", "HX-Boosted")


def page_key(request: HttpRequest, shows: list[Show], viewing: Viewing | None = None) -> str:
    """`viewing` is the viewer's point in a show page's show: the page shows what is revealed
    there, so its key holds what the content revealed there has been through, and nothing later."""
    user = request.user
    facts: list = [
        release(),
        request.get_host(),
        request.get_full_path(),
        [request.headers.get(name) for name in HTMX_HEADERS],
        [[getattr(show, field.attname) for field in Show._meta.concrete_fields] for show in shows],
        viewing.cache_key if viewing is not None else None,
    ]
    if user.is_authenticated:
        looking_back = request.session.get(AS_OF_SESSION_KEY, {})
        facts += [
            user.pk,
            [getattr(user, field.attname) for field in user._meta.concrete_fields],
            [looking_back.get(str(show.pk)) for show in shows],
        ]
    return "page:" + hashlib.sha256(repr(facts).encode()).hexdigest()


def csrf_placeholder(request: HttpRequest) -> dict:
    """Context processor: while a page renders for the cache, its CSRF token is a placeholder."""
    if getattr(request, RENDERING_FOR_CACHE, False):
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}


def cacheable(response: HttpResponse) -> bool:
    """Only a plain page: anything with headers or cookies of its own is rendered every time."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and set(response.headers) <= {"Content-Type"}
    )


def serve(
    request: HttpRequest,
    shows: list[Show],
    render: Callable[[], HttpResponse],
    viewing: Viewing | None = None,
):
    """The page from the cache, or rendered (with the placeholder for the token) and kept.

    A page with messages to show is rendered afresh: they are shown once.
    """
    if (
        not settings.PAGE_CACHE
        or request.method not in ("GET", "HEAD")
        or len(messages.get_messages(request))
    ):
        return render()
    key = page_key(request, shows, viewing)
    content = cache.get(key)
    if content is None:
        setattr(request, RENDERING_FOR_CACHE, True)
        try:
            response = render()
        finally:
            setattr(request, RENDERING_FOR_CACHE, False)
        if cacheable(response):
            cache.set(key, (response["Content-Type"], response.content), PAGE_TTL)
    else:
        content_type, body = content
        response = HttpResponse(body, content_type=content_type)
    if not response.streaming:
        response.content = response.content.replace(
            CSRF_PLACEHOLDER.encode(), get_token(request).encode()
        )
    return response


def cached_per_viewer(view):
    """A page of one show (the view takes the show's slug), made from that show alone."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        show = Show.with_slug(slug)
        if show is None or request.method not in ("GET", "HEAD"):
            return view(request, slug, *args, **kwargs)
        viewing = viewing_for(request, show)
        setattr(request, VIEWING_OF_THIS_REQUEST, viewing)
        return serve(request, [show], lambda: view(request, slug, *args, **kwargs), viewing)

    return wrapper


def cached_home(view):
    """The home page, made from the shows the viewer follows."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        return serve(request, list(Follow.objects.shows_of(request.user)), lambda: view(request))

    return wrapper
