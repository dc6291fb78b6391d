"""Search within a show, over what the viewer has unlocked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache, partial

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from ..http import HtmxHttpRequest
from ..lookups import viewing_of
from ..models import Character, CharacterState, Episode, ReviewerNote, Show
from ..models.rule import STAND_IN_SHOW, stand_in_point, stand_in_values
from ..renders import render_keyed, shared_key
from ..viewing import SEARCH_LIMIT, SEARCH_MIN_LENGTH, Viewing, search_querysets
from .shows import render_at_point

FOUND = "companion/search.html#found"

# Per kind found, in the order listed: the columns its section shows (and nothing else), and its
# rows as the section's template reads them, made only when the section is not rendered yet.
SHOWN: dict[str, tuple[str, ...]] = {
    "characters": ("slug", "name"),
    "episodes": ("season_number", "number", "title"),
    "recaps": ("episode__season_number", "episode__number", "text"),
    "states": (
        "public_id",
        "character__slug",
        "character__name",
        "reveal_at__season_number",
        "reveal_at__number",
        "description",
    ),
    "notes": (
        "public_id",
        "text",
        "outlet",
        "author",
        "article_title",
        "url",
        "episode__season_number",
        "episode__number",
    ),
}


def _episode(show: Show, season_number: int, number: int) -> Episode:
    return Episode(show=show, season_number=season_number, number=number)


def _character(show: Show, slug: str, name: str) -> Character:
    return Character(show=show, slug=slug, name=name)


def _items(show: Show, kind: str, rows: list[tuple]) -> list:
    if kind == "characters":
        return [_character(show, *row) for row in rows]
    if kind == "episodes":
        return [
            # A title found is never one the viewer's preference hides (search_querysets), so it
            # is shown as it is.
            {"url": e.url, "short_label": e.short_label, "shown_title": title}
            for e, title in ((_episode(show, s, n), title) for s, n, title in rows)
        ]
    if kind == "recaps":
        return [{"episode": _episode(show, s, n), "text": text} for s, n, text in rows]
    if kind == "states":
        return [
            CharacterState(
                public_id=public_id,
                character=_character(show, slug, name),
                reveal_at=_episode(show, s, n),
                description=description,
            )
            for public_id, slug, name, s, n, description in rows
        ]
    return [
        ReviewerNote(
            public_id=public_id,
            text=text,
            outlet=outlet,
            author=author,
            article_title=article_title,
            url=url,
            episode=_episode(show, s, n),
        )
        for public_id, text, outlet, author, article_title, url, s, n in rows
    ]


# Typed in the place of a search's words when its statements are compiled: free of anything a
# LIKE pattern escapes, so its place in a compiled pattern is where the words go, escaped.
_WORDS = "stand-in-words-of-a-search"


@lru_cache(maxsize=64)
def _compiled(hide_titles: bool, has_episode: bool, specials: int) -> dict[str, tuple[str, tuple]]:
    """Each kind's statement for every search of this shape, compiled once with stand-ins (as
    revealed_sql compiles the rule): building and compiling five querysets took longer than the
    database took to answer them, and every first look is at a new point. A kind that can find
    nothing at such a point (nothing revealed) is left out, as the ORM asks nothing for it."""
    point = stand_in_point(has_episode, specials)
    stand_in = Viewing(
        show=Show(pk=STAND_IN_SHOW),
        user=AnonymousUser(),
        safe_point=point,
        time_travel=False,
        hide_titles=hide_titles,
        hide_synopses=False,
    )
    found = search_querysets(stand_in, _WORDS)
    compiled = {}
    for kind, shown in SHOWN.items():
        try:
            sql, params = found[kind].values_list(*shown)[:SEARCH_LIMIT].query.sql_with_params()
        except EmptyResultSet:
            continue
        assert all(
            _WORDS in p if isinstance(p, str) else p in stand_in_values(point) for p in params
        )
        compiled[kind] = (sql, tuple(params))
    return compiled


def found_rows(viewing: Viewing, query: str) -> dict[str, list[tuple]]:
    """What each kind of search_querysets() finds, as the columns its section shows (SHOWN)."""
    if len(query) < SEARCH_MIN_LENGTH:
        return {}
    point = viewing.safe_point
    compiled = _compiled(viewing.hide_titles, point.episode is not None, len(point.specials))
    values: dict = stand_in_values(point, viewing.show.pk)
    words = connection.ops.prep_for_like_query(query)
    found = {}
    for kind, (sql, params) in compiled.items():
        own = [p.replace(_WORDS, words) if isinstance(p, str) else values[p] for p in params]
        with connection.cursor() as cursor:
            cursor.execute(sql, own)
            found[kind] = cursor.fetchall()
    return found


SECTION = "companion/search.html#found-section"


def found_sections(viewing: Viewing, query: str) -> list[SafeString]:
    """Each kind found, rendered once per what it lists and shared: for a common word the first
    few found are the same at most points, so a point nobody has searched yet finds them
    rendered. The facts are the rows the section shows and the show's slug its links are made of."""
    show = viewing.show

    def context(kind: str, rows: list[tuple]) -> dict:
        return {"kind": kind, "found": _items(show, kind, rows)}

    keyed: list[tuple[str, Callable[[], dict]]] = []
    found = found_rows(viewing, query)
    for kind in SHOWN:
        rows = [tuple(row) for row in found.get(kind, ())]
        if rows:
            facts = (kind, show.slug, rows)
            keyed.append((shared_key(SECTION, facts), partial(context, kind, rows)))
    return render_keyed(SECTION, keyed)


def found_html(viewing: Viewing, query: str) -> SafeString:
    """What a search lists: the same bytes for everyone at this point who asks this, so shared."""

    def context() -> dict:
        return {"query": query, "sections": found_sections(viewing, query)}

    if len(query) < SEARCH_MIN_LENGTH:
        return mark_safe(render_to_string(FOUND, {"query": query}))
    # The list shows the query, what is found at the point and episode titles (which hiding them
    # changes): nothing else of the viewer.
    asked = hashlib.sha256(query.encode()).hexdigest()
    hidden = ":titles-hidden" if viewing.hide_titles else ""
    return viewing.cached_fragment(f"search:{viewing.show.slug}:{asked}{hidden}", FOUND, context)


@require_safe
def search(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    query = request.GET.get("q", "").strip()[:100]

    def context() -> dict:
        found = found_html(viewing, query)
        return {"show": viewing.show, "viewing": viewing, "query": query, "found": found}

    if request.htmx:
        return render(request, "companion/search.html#results", context())
    # The page around the list shows the query and the show: shared whole, as the list is.
    return render_at_point(
        request, viewing, "companion/search.html", context, (query, viewing.hide_titles)
    )
