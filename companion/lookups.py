"""Everything a page or the API looks up by what its URL names, one helper each, for both: a
hidden thing and a missing one are the same 404 by construction."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from .models import Character, Episode, Show
from .viewing import Viewing, viewing_for


def viewing_of(request: HttpRequest, slug: str) -> Viewing:
    """The show named in the URL (or a 404) as this viewer sees it; every show view starts here."""
    return viewing_for(request, show_or_404(slug))


def show_or_404(slug: str) -> Show:
    show = Show.with_slug(slug)
    if show is None:
        raise Http404("No such show.")
    return show


def episode_or_404(show: Show, season: int, number: int) -> Episode:
    episode = show.episode_at(season, number)
    if episode is None:
        raise Http404("No such episode.")
    return episode


def visible_or_404(queryset, **lookup):
    """One visible row, or the same 404 whether it is hidden or does not exist at all: the
    queryset is already narrowed by the rule (`visible_at`), so both run the same query."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404("Nothing here.")
    return found


def character_or_404(viewing: Viewing, slug: str) -> Character:
    """The show's character with this slug, with their first appearance, or the same 404 as
    visible_or_404's whether they are hidden at the viewer's point or do not exist at all."""
    found = Character.objects.visible_by_slug(viewing.safe_point, slug)
    if found is None:
        raise Http404("Nothing here.")
    return found
