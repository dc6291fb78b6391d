"""An episode's page, what it unlocks, and an editor's preview of it."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST, require_safe

from ..forms import (
    ShowAnywayForm,
)
from ..http import (
    AuthenticatedHttpRequest,
    HtmxHttpRequest,
    login_required_htmx,
)
from ..lookups import episode_or_404, viewing_of
from ..models import (
    Character,
    Episode,
    Recap,
    ReviewerNote,
    Show,
)
from ..models.catalogue import EpisodePage
from ..viewing import (
    Viewing,
)
from .shows import render_at_point

EPISODE_NOTES_SHOWN = 5


@require_safe
def episode_detail(request: HtmxHttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    viewing = viewing_of(request, slug)
    page = episode_page_or_404(viewing, season, number)
    # Shared by every viewer it reads the same to: after a mark the viewer's episode page is at a
    # point others have read it at, so most first looks are one read of the cache. An editor's
    # page is their own: it holds their tools.
    return render_at_point(
        request,
        viewing,
        "companion/episode_detail.html",
        lambda: episode_page_context(viewing, page),
        episode_page_facts(page, viewing),
        alone=viewing.user.is_staff,
    )


def episode_page_facts(page: EpisodePage, viewing: Viewing) -> tuple:
    """What an episode page shows of the viewer besides Viewing.point_facts, its URL and CSRF
    token, for render_at_point. A part of the page that reads anything more must add it here.

    The episode and its neighbours are catalogue (the content version, in Viewing.point_facts, moves
    with every edit of one) read at the point and with the preferences; of the viewer's marks it
    shows this episode's; up next names the episode to watch first when this one is locked."""
    episode, up_next = page.episode, page.up_next
    assert episode is not None
    return (
        episode.pk,
        episode.watched,
        up_next.pk if up_next is not None else None,
        viewing.preferences,
    )


def episode_page_or_404(viewing: Viewing, season: int, number: int) -> EpisodePage:
    """The episode at (season, number), its mark, neighbours and what is up next: one query, or
    for a signed-in viewer with no gap who is not looking back, their run and a kept read."""
    run, show = viewing.run, viewing.show
    if (
        run is not None
        and viewing.user.is_authenticated
        and not (viewing.time_travel or run.past_run)
    ):
        page = show.episode_page_of_run(season, number, run)
    else:
        page = show.episode_page(
            viewing.user, season, number, up_next_after=viewing.safe_point.sequence
        )
    if page.episode is None:
        raise Http404("No such episode.")
    return page


def episode_context(viewing: Viewing, episode: Episode) -> dict:
    """The page of an episode already found (after a mark): read again, with its mark as it is now."""
    return episode_page_context(
        viewing, episode_page_or_404(viewing, episode.season_number, episode.number)
    )


def episode_page_context(viewing: Viewing, page: EpisodePage) -> dict:
    """What an episode's page shows."""
    show, user = viewing.show, viewing.user
    episode = page.episode
    assert episode is not None
    shown = viewing.episode_view(episode)
    context = {"show": show, "episode": shown, "viewing": viewing}
    if shown.revealed:
        safe = viewing.safe_point
        context["unlocked"] = viewing.cached_fragment(
            f"episode:{episode.pk}",
            "companion/episode_detail.html#unlocked",
            lambda: unlocked_context(viewing, episode),
        )
        if user.is_staff:
            # Only editors pay for this: the shared fragment above must not depend on who asks.
            context["has_recap"] = Recap.objects.visible_at(safe).of_episodes(episode).exists()
    elif user.is_authenticated:
        context["locked"] = locked_reason(viewing, episode, page.up_next)
    context["previous"], context["next"] = (
        viewing.episode_view(e) if e is not None else None for e in (page.previous, page.next)
    )
    return context


def unlocked_context(viewing: Viewing, episode: Episode) -> dict:
    """What a revealed episode's page shows: its recap, one list of who is in it, its notes."""
    safe = viewing.safe_point
    # The first few, and how many there are in all: the rest load when unfolded.
    notes, notes_in_all = ReviewerNote.objects.first_on(episode, safe, EPISODE_NOTES_SHOWN)
    characters = list(Character.objects.in_episode(episode, safe))
    return {
        "code": episode.short_label,
        "episode_pk": episode.pk,
        "characters": characters,
        # Those the sources first place here, though they may have been on screen before: said
        # once under the list, not with a badge each. Before the first episode there is nothing.
        "listed_from_here": [
            c
            for c in characters
            if c.first_appearance_id == episode.pk and not c.first_appearance_exact
        ]
        if episode.sequence > 1
        else [],
        "recap": Recap.objects.of_episodes_at(safe, episode).get(episode.pk),
        # More than a few notes fold under "More notes (N)"; N counts only what is visible.
        "notes": notes,
        "more_notes": notes_in_all - len(notes),
        "notes_url": episode.notes_url,
    }


@require_safe
def episode_notes(request: HtmxHttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    """Every reviewer's note on the episode visible at the viewer's point: a page, or for htmx
    those after the first few, which the episode page folds under "More notes"."""
    viewing = viewing_of(request, slug)
    episode = episode_or_404(viewing.show, season, number)
    notes = (
        ReviewerNote.objects.visible_at(viewing.safe_point)
        .filter(episode=episode)
        .select_related("episode__show")
    )
    context = {"show": viewing.show, "viewing": viewing, "episode": viewing.episode_view(episode)}
    if request.htmx:
        context["notes"] = notes[EPISODE_NOTES_SHOWN:]
        return render(request, "companion/episode_notes.html#notes", context)
    context["notes"] = notes
    return render(request, "companion/episode_notes.html", context)


def locked_reason(viewing: Viewing, episode: Episode, upcoming: Episode | None) -> dict:
    """Why an episode's content is hidden from a signed-in viewer: they are looking back from an
    earlier point, an earlier episode is unwatched, or simply this one. From their own marks only."""
    if viewing.time_travel:
        upcoming = viewing.show.episodes.after(viewing.own_point).first()
    missing = upcoming if upcoming and upcoming.sequence < episode.sequence else None
    return {"looking_back": viewing.time_travel, "missing": missing}


@require_POST
def show_anyway(request: HtmxHttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    """Reveal one title or synopsis the viewer's preferences hide; never gated content.

    A POST, so no crawler or link prefetcher reveals it; htmx gets just the text.
    """
    viewing = viewing_of(request, slug)
    episode = episode_or_404(viewing.show, season, number)
    form = ShowAnywayForm(request.POST)
    if not form.is_valid():
        raise Http404("Nothing here.")
    part = form.cleaned_data["part"]
    context = {"show": viewing.show, "viewing": viewing, "episode": episode, "part": part}
    if request.htmx:
        return render(request, "companion/show_anyway.html#text", context)
    return render(request, "companion/show_anyway.html", context)


@require_safe
@login_required_htmx
def preview(request: AuthenticatedHttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    """A confirmation page linked from the admin; the switch itself is a POST to set_as_of."""
    show = get_object_or_404(Show, slug=slug)
    episode = episode_or_404(show, season, number)
    return render(request, "companion/preview.html", {"show": show, "episode": episode})
