from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import retarget, trigger_client_event

from pagecache.pages import cached_home, cached_per_viewer

from .forms import (
    AsOfForm,
    BrowseForm,
    FillGapForm,
    FollowForm,
    PartyForm,
    ReportForm,
    ShowAnywayForm,
)
from .http import (
    AuthenticatedHttpRequest,
    HtmxHttpRequest,
    local_path,
    login_required_htmx,
    redirect_to_next,
)
from .lookups import episode_or_404, viewing_of, visible_or_404
from .models import (
    PARTY_SIZE_LIMIT,
    SPECIALS_SEASON,
    Character,
    CharacterState,
    Episode,
    Follow,
    Party,
    Recap,
    ReviewerNote,
    SafePoint,
    Season,
    Show,
    SpoilerReport,
    Watch,
    progress_for,
)
from .viewing import (
    AS_OF_SESSION_KEY,
    Viewing,
    search_results,
    show_cards,
    viewing_for,
)

PREVIOUSLY_EPISODES = 3
PREVIOUSLY_NOTES_PER_EPISODE = 3
PREVIOUSLY_CHANGES_PER_EPISODE = 5
EPISODE_NOTES_SHOWN = 5
STORY_NOTES_PER_EPISODE = 3
OPEN_ALL_SEASONS_UP_TO = 60


def progress_context(viewing: Viewing) -> dict:
    progress = progress_for(viewing.user, [viewing.show])[viewing.show.pk]
    show, user, point = viewing.show, viewing.user, viewing.safe_point
    return {
        "progress": progress,
        "upcoming": viewing.upcoming,
        # Looked up only where the progress box is rendered; rewatch mode has no gap to name.
        "gap": SimpleLazyObject(lambda: None if viewing.time_travel else show.gap_for(user, point)),
        # Only where its tools are rendered: the page, and the tools fetched after a mark.
        "parties": SimpleLazyObject(lambda: parties_of(viewing)),
    }


def parties_of(viewing: Viewing) -> list[Party]:
    """The viewer's own watch parties for this show."""
    user = viewing.user
    return list(user.parties.filter(show=viewing.show)) if user.is_authenticated else []


def row_tag(episode: Episode) -> str:
    """The tag of a message about one episode's mark, so the show page shows it at that row."""
    return f"row-{episode.pk}"


def row_messages(request: HttpRequest, rows: list[Episode]) -> dict:
    """This request's messages about marks of these rows, by the row's episode pk.

    The show page shows them in the row, where the viewer is (a mark without JavaScript comes
    back to its row, and htmx swaps the row in place); _messages.html keeps them in the live
    region at the top only for screen readers. A row not on the page leaves them at the top.
    """
    tags = {row_tag(row): row.pk for row in rows}
    placed: dict[int, list] = {}
    for message in messages.get_messages(request):
        for tag in message.extra_tags.split():
            if tag in tags:
                placed.setdefault(tags[tag], []).append(message)
    return {"row_messages": placed, "placed_messages": [m for ms in placed.values() for m in ms]}


def season_context(viewing: Viewing, seasons: list[Season]) -> None:
    """Give each season `rows`: its episodes, decorated, with their recaps when safe."""
    show, safe = viewing.show, viewing.safe_point
    # Specials are listed in their aired place, within the regular season they air in.
    episodes = show.episodes_with_marks(viewing.user, seasons=seasons, with_specials=True)
    starts = show.season_starts() if any(e.is_special for e in episodes) else {}
    rows: dict[int, list[Episode]] = {season.number: [] for season in seasons}
    for episode in episodes:
        listed = show.listed_season(episode, starts)
        if listed in rows:
            rows[listed].append(episode)
    shown = viewing.decorate([e for listed in rows.values() for e in listed])
    recaps = {r.episode_id: r for r in Recap.objects.visible_at(safe).of_episodes(*shown)}
    for episode in shown:
        episode.visible_recap = recaps.get(episode.pk)
    for season in seasons:
        season.rows = rows[season.number]
    viewing.render_rows(seasons)


def season_heads(viewing: Viewing, only: Season | None = None) -> list[Season]:
    """Every season (or `only` that one) with its (safe) period and the viewer's progress in it:
    one query."""
    seasons = Season.objects.heads(viewing.user, viewing.show, only)
    if any(s.number != SPECIALS_SEASON for s in seasons):
        # The specials are listed among the regular seasons' episodes (season_context).
        seasons = [s for s in seasons if s.number != SPECIALS_SEASON]
    for season in viewing.decorate_seasons(seasons):
        season.finished = 0 < season.progress["total"] == season.progress["watched"]
        season.rows = None
    return seasons


def show_context(viewing: Viewing, *, also_open: int | None = None) -> dict:
    """The show page: every season with its progress, the viewer's own season open.

    Seasons the viewer has finished are folded. A short show loads every season's rows (folded
    ones too, so a link to a row works without JavaScript); a long-running one loads only the
    season the viewer is in and one they asked for, and the others load when unfolded.
    """
    show, user = viewing.show, viewing.user
    seasons = season_heads(viewing)
    progress = progress_context(viewing)
    upcoming = progress["upcoming"]
    long_show = progress["progress"]["total"] > OPEN_ALL_SEASONS_UP_TO
    current = upcoming.season_number if upcoming else seasons[-1].number if seasons else None
    for place, season in enumerate(seasons):
        season.current = season.number == current
        # The page lands on the viewer's season, unless it is the first one anyway.
        season.land = season.current and place > 0
        asked = season.number == also_open
        season.open = season.current or asked or not (season.finished or long_show)
    season_context(viewing, [s for s in seasons if s.open] if long_show else seasons)
    return {
        "show": show,
        "viewing": viewing,
        "following": user.is_authenticated and user.follows.filter(show=show).exists(),
        "seasons": seasons,
        **progress,
    }


@require_safe
@cached_home
def home(request: HtmxHttpRequest) -> HttpResponse:
    """A viewer's followed shows with what is up next; for a visitor, what Spoilerfree is."""
    if not request.user.is_authenticated:
        return render(request, "companion/welcome.html")
    shows = show_cards(request, list(Follow.objects.shows_of(request.user)))
    parties = request.user.parties.select_related("show")
    return render(request, "companion/home.html", {"shows": shows, "parties": parties})


@require_safe
def browse(request: HtmxHttpRequest) -> HttpResponse:
    """Every show in the catalogue, or those whose title matches the search."""
    form = BrowseForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    shows = Show.objects.all()
    if query:
        shows = shows.filter(title__icontains=query)
    followed = set()
    if request.user.is_authenticated:
        followed = set(request.user.follows.values_list("show_id", flat=True))
    context = {
        "form": form,
        "query": query,
        "shows": show_cards(request, list(shows), up_next=False),
        "followed": followed,
    }
    if request.htmx:
        return render(request, "companion/browse.html#results", context)
    return render(request, "companion/browse.html", context)


@require_safe
@cached_per_viewer
def show_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    asked = request.GET.get("season", "")
    also_open = int(asked) if asked.isdecimal() else None
    context = show_context(viewing_of(request, slug), also_open=also_open)
    rows = [row for season in context["seasons"] if season.rows for row in season.rows]
    context |= row_messages(request, rows)
    return render(request, "companion/show_detail.html", context)


@require_safe
@cached_per_viewer
def season_episodes(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """One season's episode rows, for unfolding a season or refreshing it after progress changed."""
    viewing = viewing_of(request, slug)
    show = viewing.show
    season = get_object_or_404(show.seasons, number=number)
    if not request.htmx:
        return redirect(f"{show.get_absolute_url()}?season={number}#season-{number}")
    season_context(viewing, [season])
    return render(
        request,
        "companion/show_detail.html#season-episodes",
        {"show": show, "viewing": viewing, "season": season, "row_messages": {}},
    )


@require_safe
@login_required_htmx
def progress_tools(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The progress box's tools, fetched when the viewer opens them after a mark moved their safe point."""
    viewing = viewing_of(request, slug)
    if not request.htmx:
        return redirect(viewing.show.get_absolute_url())
    # Only what the tools show: the points to look back to and the parties, not the progress box.
    context = {"show": viewing.show, "viewing": viewing, "parties": parties_of(viewing)}
    return render(request, "companion/show_detail.html#tools-body", context)


@require_safe
@cached_per_viewer
def episode_detail(request: HtmxHttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    viewing = viewing_of(request, slug)
    episode = episode_or_404(viewing.show, season, number)
    return render(request, "companion/episode_detail.html", episode_context(viewing, episode))


def episode_context(viewing: Viewing, episode: Episode) -> dict:
    show, user = viewing.show, viewing.user
    viewing.decorate([episode])
    episode.watched = (
        user.is_authenticated and Watch.objects.filter(user=user, episode=episode).exists()
    )
    context = {"show": show, "episode": episode, "viewing": viewing, **progress_context(viewing)}
    if episode.revealed:
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
        context["locked"] = locked_reason(viewing, episode, context["upcoming"])
    neighbours = show.episodes.select_related("show").order_by("sequence")
    context["previous"] = neighbours.filter(sequence__lt=episode.sequence).last()
    context["next"] = neighbours.filter(sequence__gt=episode.sequence).first()
    viewing.decorate([e for e in (context["previous"], context["next"]) if e])
    return context


@require_safe
@cached_per_viewer
def cast(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    show = viewing.show
    cast_list = viewing.cached_fragment(
        "cast",
        "companion/cast.html#cast-list",
        lambda: {
            "characters": Character.objects.with_states_at(viewing.safe_point),
            "point": viewing.safe_point,
        },
    )
    return render(
        request, "companion/cast.html", {"show": show, "viewing": viewing, "cast_list": cast_list}
    )


@require_safe
@cached_per_viewer
def character_detail(request: HtmxHttpRequest, slug: str, character_slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    show = viewing.show
    character = visible_or_404(
        Character.objects.visible_at(viewing.safe_point).select_related("first_appearance__show"),
        slug=character_slug,
    )
    timeline = viewing.cached_fragment(
        f"character:{character.pk}",
        "companion/character_detail.html#timeline",
        lambda: {
            "states": CharacterState.objects.visible_at(viewing.safe_point)
            .filter(character=character)
            .select_related("reveal_at", "character__show")
        },
    )
    context = {"show": show, "viewing": viewing, "character": character, "timeline": timeline}
    return render(request, "companion/character_detail.html", context)


def unlocked_context(viewing: Viewing, episode: Episode) -> dict:
    """What a revealed episode's page shows: its recap, one list of who is in it, its notes."""
    safe = viewing.safe_point
    notes = list(
        ReviewerNote.objects.visible_at(safe)
        .filter(episode=episode)
        .select_related("episode__show")
    )
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
        "recap": Recap.objects.visible_at(safe)
        .of_episodes(episode)
        .select_related("episode__show")
        .first(),
        # More than a few notes fold under "More notes (N)"; N counts only what is visible.
        "notes": notes[:EPISODE_NOTES_SHOWN],
        "more_notes": notes[EPISODE_NOTES_SHOWN:],
    }


def locked_reason(viewing: Viewing, episode: Episode, upcoming: Episode | None) -> dict:
    """Why an episode's content is hidden from a signed-in viewer: they are looking back from an
    earlier point, an earlier episode is unwatched, or simply this one. From their own marks only."""
    if viewing.time_travel:
        upcoming = viewing.show.episodes.after(viewing.own_point).first()
    missing = upcoming if upcoming and upcoming.sequence < episode.sequence else None
    return {"looking_back": viewing.time_travel, "missing": missing}


def story_context(viewing: Viewing, span: tuple[int, int | None] | None) -> dict:
    """Recaps in order with their notes, other notes, and where everyone stands: all safe at the
    viewing's point; only those on the episodes placed within `span` (from, before), when given."""
    safe = viewing.safe_point
    within = {}
    if span is not None:
        within = {"episode__sequence__gte": span[0]}
        if span[1] is not None:
            within["episode__sequence__lt"] = span[1]
    visible_notes = (
        ReviewerNote.objects.visible_at(safe).filter(**within).select_related("episode__show")
    )
    totals = visible_notes.count_per_episode()
    notes_by_episode: dict[int, list] = {}
    first_notes = visible_notes.first_per_episode(STORY_NOTES_PER_EPISODE)
    for note in first_notes.order_by("episode__sequence", "pk"):
        notes_by_episode.setdefault(note.episode_id, []).append(note)
    recaps = list(Recap.objects.visible_at(safe).filter(**within).select_related("episode__show"))
    # A recap may be revealed before its own episode is (an unwatched special's, at a later one
    # watched): its title then follows the viewer's preference, as everywhere else.
    viewing.decorate([recap.episode for recap in recaps])
    for recap in recaps:
        recap.notes = notes_by_episode.pop(recap.episode_id, [])
        recap.more_notes = totals.get(recap.episode_id, 0) - len(recap.notes)
    return {
        "recaps": recaps,
        "other_notes": [note for notes in notes_by_episode.values() for note in notes],
        "characters": Character.objects.with_states_at(safe),
    }


def story_seasons(viewing: Viewing) -> dict[int, tuple[int, int | None]]:
    """A long show's story is told a season at a time: each regular season up to the viewer's own,
    with the places it spans (up to the next season's first episode, so the specials that air
    within it come with it; the first also takes any before it). Nothing for a short show."""
    point = viewing.safe_point.episode
    starts = viewing.show.season_starts()
    if point is None or sum(n for _, n in starts.values()) <= OPEN_ALL_SEASONS_UP_TO:
        return {}
    numbers = list(starts)
    spans = {}
    for place, number in enumerate(numbers):
        if number > point.season_number:
            break
        following = starts[numbers[place + 1]][0] if place + 1 < len(numbers) else None
        spans[number] = (0 if place == 0 else starts[number][0], following)
    return spans


def story_body(
    viewing: Viewing, season: int | None = None, span: tuple[int, int | None] | None = None
) -> str:
    """The story safe for this viewing (one season's part of it, when given), shared by everyone
    at the same safe point."""
    if not viewing.safe_point:
        return ""
    name = "story" if season is None else f"story-season-{season}"
    return viewing.cached_fragment(
        f"{name}:titles-hidden" if viewing.hide_titles else name,
        "companion/story.html#story-body",
        lambda: story_context(viewing, span),
    )


@require_safe
@cached_per_viewer
def story(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    seasons = story_seasons(viewing)
    asked = request.GET.get("season", "")
    # A season not told yet (or none at all) gets the viewer's own: the same page either way.
    season = (
        int(asked) if asked.isdecimal() and int(asked) in seasons else max(seasons, default=None)
    )
    context = {
        "show": viewing.show,
        "viewing": viewing,
        "story_body": story_body(viewing, season, None if season is None else seasons[season]),
        "story_seasons": list(seasons),
        "story_season": season,
    }
    return render(request, "companion/story.html", context)


@require_safe
@cached_per_viewer
def previously(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Catch-up before the next episode: for each of the last few watched, the recap's opening,
    who changed (a line each) and a few notes, with links to the rest; about a phone screen each."""
    viewing = viewing_of(request, slug)
    show, safe = viewing.show, viewing.safe_point
    recent_first = (
        show.episodes.regular().visible_at(safe).select_related("show").order_by("-sequence")
    )
    recent = list(recent_first[:PREVIOUSLY_EPISODES])[::-1]
    upcoming = viewing.upcoming
    viewing.decorate(recent)
    recaps = {
        recap.episode_id: recap for recap in Recap.objects.visible_at(safe).of_episodes(*recent)
    }
    changes: dict[int, list[CharacterState]] = {}
    for state in (
        CharacterState.objects.visible_at(safe)
        .filter(reveal_at__in=recent)
        .select_related("character__show", "reveal_at")
        .order_by("reveal_at__sequence", "character__name")
    ):
        changes.setdefault(state.reveal_at_id, []).append(state)
    notes = ReviewerNote.objects.visible_at(safe).filter(episode__in=recent)
    totals = notes.count_per_episode()
    first_notes: dict[int, list[ReviewerNote]] = {}
    for note in (
        notes.select_related("episode__show")
        .first_per_episode(PREVIOUSLY_NOTES_PER_EPISODE)
        .order_by("episode__sequence", "pk")
    ):
        first_notes.setdefault(note.episode_id, []).append(note)
    entries = [
        {
            "episode": episode,
            "recap": recaps.get(episode.pk),
            "changes": changes.get(episode.pk, [])[:PREVIOUSLY_CHANGES_PER_EPISODE],
            "more_changes": max(
                0, len(changes.get(episode.pk, [])) - PREVIOUSLY_CHANGES_PER_EPISODE
            ),
            "notes": first_notes.get(episode.pk, []),
            "more_notes": totals.get(episode.pk, 0) - len(first_notes.get(episode.pk, [])),
        }
        for episode in recent
    ]
    context = {
        "show": show,
        "viewing": viewing,
        "recent": recent,
        "upcoming": upcoming,
        "entries": entries,
    }
    return render(request, "companion/previously.html", context)


@require_safe
@cached_per_viewer
def search(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    query = request.GET.get("q", "").strip()[:100]
    results = search_results(viewing, query)
    context = {"show": viewing.show, "viewing": viewing, "query": query, "results": results}
    if request.htmx:
        return render(request, "companion/search.html#results", context)
    return render(request, "companion/search.html", context)


def _redirect_back(request: HtmxHttpRequest, fallback: str) -> HttpResponse:
    return redirect_to_next(request.POST.get("next"), fallback)


@require_POST
@login_required_htmx
def change_watch(
    request: AuthenticatedHttpRequest, slug: str, season: int, number: int, action: str
) -> HttpResponse:
    # Read the form before writing anything: an oversized or malformed body fails here, not halfway.
    request.POST.get("next")
    episode = Episode.objects.at(slug, season, number)
    if episode is None:
        raise Http404("No such episode.")
    show = episode.show
    before = viewing_for(request, show).safe_point
    if action == "watch":
        Watch.objects.mark_watched(user=request.user, episode=episode)
    elif action == "up-to":
        added = Watch.objects.mark_watched_up_to(user=request.user, episode=episode)
        messages.success(
            request,
            f"Marked {added} more episode{'s' if added != 1 else ''} watched, up to {episode.short_label}.",
            extra_tags=row_tag(episode),
        )
    else:
        Watch.objects.unmark(user=request.user, episode=episode)
    viewing = viewing_for(request, show)
    if action == "watch" and not episode.is_special and not viewing.time_travel:
        say_what_it_unlocked(request, viewing, episode, before)
    if not request.htmx:
        return _redirect_back(request, show.get_absolute_url())

    # What htmx replaces picks the fragment: a card on the home page, the episode page's main
    # part, or otherwise a row of the show page.
    target = request.htmx.target or ""
    context: dict[str, object]
    if target.startswith("show-card-"):
        context = {"show": show_cards(request, [show])[0]}
        response = render(request, "companion/home.html#card-response", context)
    elif target == "episode-main":
        context = episode_context(viewing, episode)
        response = render(request, "companion/episode_detail.html#episode-response", context)
    else:
        unlocked = viewing.safe_point != before
        # Season heads come along out of band: "up to here" changes several seasons' counts; one
        # mark changes only its own season's, and a new safe point may reveal or hide a period.
        listed = episode.season
        if episode.is_special:
            number = show.listed_season(episode, show.season_starts())
            listed = show.seasons.get(number=number)
        heads = season_heads(viewing, None if unlocked or action == "up-to" else listed)
        if action != "up-to":
            heads = [
                head
                for head in heads
                if head.pk == listed.pk
                or (head.period and head.shown_period != viewing.period_at(head, before))
            ]
        context = {
            "show": show,
            "viewing": viewing,
            "season": listed,
            "seasons": heads,
            **progress_context(viewing),
        }
        if not unlocked:
            # Nothing was unlocked or locked: only this row's mark changed.
            row = viewing.decorate([episode])[0]
            row.watched = action != "unwatch"
            row.visible_recap = (
                Recap.objects.visible_at(viewing.safe_point).of_episodes(row).first()
            )
            context |= {"episode": row, **row_messages(request, [row])}
            response = render(request, "companion/show_detail.html#row-response", context)
            retarget(response, f"#episode-{episode.pk}")
        else:
            season_context(viewing, [listed])
            context |= row_messages(request, listed.rows or [])
            response = render(request, "companion/show_detail.html#watch-response", context)
    after = viewing.safe_point
    if after != before:
        # Other open seasons on the page listen for this and refresh themselves.
        trigger_client_event(response, "safe-point-changed", {"safe_point": after.short_label})
    return response


@require_safe
@login_required_htmx
def confirm_up_to(
    request: AuthenticatedHttpRequest, slug: str, season: int, number: int
) -> HttpResponse:
    """Without JavaScript, "watched all up to here" asks on this small page; its button POSTs."""
    viewing = viewing_of(request, slug)
    show = viewing.show
    episode = episode_or_404(show, season, number)
    viewing.decorate([episode])
    unmarked = (
        show.episodes.regular()
        .filter(sequence__lte=episode.sequence)
        .exclude(watches__user=request.user)
        .count()
    )
    back = local_path(request.GET.get("next")) or show.get_absolute_url()
    context = {
        "show": show,
        "viewing": viewing,
        "episode": episode,
        "unmarked": unmarked,
        "next": back,
    }
    return render(request, "companion/confirm_up_to.html", context)


@require_POST
@login_required_htmx
def season_watch(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """Mark every episode of one season watched."""
    show = get_object_or_404(Show, slug=slug)
    season = get_object_or_404(show.seasons, number=number)
    before = viewing_for(request, show).safe_point
    added = Watch.objects.mark_season_watched(user=request.user, season=season)
    name = f"season {season.number}" if season.number else "the specials"
    messages.success(
        request, f"Marked {added} more episode{'s' if added != 1 else ''} of {name} watched."
    )
    viewing = viewing_for(request, show)
    if not request.htmx:
        return _redirect_back(request, f"{show.get_absolute_url()}#season-{season.number}")
    seasons = season_heads(viewing)
    shown = next(s for s in seasons if s.pk == season.pk)
    shown.open = True
    season_context(viewing, [shown])
    context = {
        "show": show,
        "viewing": viewing,
        "season": shown,
        "seasons": seasons,
        **progress_context(viewing),
        "row_messages": {},  # its message is about the season, at the top
    }
    response = render(request, "companion/show_detail.html#season-watch-response", context)
    if viewing.safe_point != before:
        trigger_client_event(
            response, "safe-point-changed", {"safe_point": viewing.safe_point.short_label}
        )
    return response


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


def say_what_it_unlocked(
    request: HtmxHttpRequest, viewing: Viewing, episode: Episode, before: SafePoint
) -> None:
    """After marking one episode out of order: what it did, and did not, unlock."""
    after = viewing.safe_point
    if after == before and episode.sequence > before.sequence:
        first_gap = viewing.upcoming
        if first_gap is None:
            return
        safe = (
            f"you are still safe up to {after.short_label}" if after else "nothing is unlocked yet"
        )
        messages.info(
            request,
            f"Marked {episode.short_label} watched, but it unlocks nothing yet: you have not "
            f"watched {first_gap.short_label}, so {safe}.",
            extra_tags=row_tag(episode),
        )
    elif after.sequence > episode.sequence:
        messages.success(
            request,
            f"Marked {episode.short_label} watched. That fills the gap before what you had "
            f"watched after it: you are now safe up to {after.short_label}.",
            extra_tags=row_tag(episode),
        )


@require_POST
@login_required_htmx
def follow(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Follow a show (it appears on the home page) or stop following it."""
    show = get_object_or_404(Show, slug=slug)
    form = FollowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to follow the show or to stop following it.")
    elif form.cleaned_data["action"] == "follow":
        Follow.objects.follow(user=request.user, shows=[show])
        messages.success(request, f"{show.title} is on your home page now.")
    else:
        Follow.objects.unfollow(user=request.user, show=show)
        messages.info(
            request,
            f"You no longer follow {show.title}. Your watch history is kept; marking an "
            "episode follows it again.",
        )
    if not request.htmx:
        return _redirect_back(request, show.get_absolute_url())
    following = request.user.follows.filter(show=show).exists()
    context = {"show": show, "following": following}
    return render(request, "companion/show_detail.html#follow-response", context)


@require_POST
@login_required_htmx
def fill_gap(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Mark every regular episode up to the furthest one watched: the gap before it closes."""
    show = get_object_or_404(Show, slug=slug)
    form = FillGapForm(request.POST)
    if not form.is_valid():
        errors = form.errors.get("up_to", ["Pick an episode like 2x5."])
        messages.error(request, " ".join(map(str, errors)))
        return redirect(show.get_absolute_url())
    episode = episode_or_404(show, *form.cleaned_data["up_to"])
    if episode.is_special or not request.user.watches.filter(episode=episode).exists():
        messages.error(
            request, f"You have not watched {episode.short_label}, so nothing was marked."
        )
        return redirect(show.get_absolute_url())
    added = Watch.objects.mark_watched_up_to(user=request.user, episode=episode)
    messages.success(
        request,
        f"Marked the {added} episode{'s' if added != 1 else ''} you had skipped watched: you are "
        f"safe up to {episode.short_label}.",
    )
    return redirect(show.get_absolute_url())


@require_POST
@login_required_htmx
def set_as_of(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Rewatch mode (or, for editors, a preview): look at the show as of another episode."""
    show = get_object_or_404(Show, slug=slug)
    form = AsOfForm(request.POST)
    if not form.is_valid():
        # An ErrorList yields its messages as strings; str() is for the type checker.
        errors = form.errors.get("episode", ["Pick an episode like 2x5."])
        messages.error(request, " ".join(map(str, errors)))
        return _redirect_back(request, show.get_absolute_url())
    stored = dict(request.session.get(AS_OF_SESSION_KEY, {}))
    code = form.cleaned_data["episode"]
    if code is None:
        stored.pop(str(show.pk), None)
        messages.info(request, "Back to your own progress.")
    else:
        episode = episode_or_404(show, *code)
        if show.safe_point_for(request.user, as_of=episode).episode != episode:
            messages.error(request, "You can only look back at episodes you have already watched.")
            return _redirect_back(request, show.get_absolute_url())
        stored[str(show.pk)] = episode.pk
        messages.info(request, f"Showing {show.title} as of {episode.short_label}.")
    request.session[AS_OF_SESSION_KEY] = stored
    return _redirect_back(request, show.get_absolute_url())


@require_safe
@login_required_htmx
def preview(request: AuthenticatedHttpRequest, slug: str, season: int, number: int) -> HttpResponse:
    """A confirmation page linked from the admin; the switch itself is a POST to set_as_of."""
    show = get_object_or_404(Show, slug=slug)
    episode = episode_or_404(show, season, number)
    return render(request, "companion/preview.html", {"show": show, "episode": episode})


# --- Watch parties ------------------------------------------------------------------------------


@require_POST
@login_required_htmx
def party_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    show = get_object_or_404(Show, slug=slug)
    form = PartyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the watch party a name of at most 100 characters.")
        return redirect(show.get_absolute_url())
    party = Party.objects.create(show=show, name=form.cleaned_data["name"], created_by=request.user)
    party.members.add(request.user)
    messages.success(request, "Watch party created. Share the invite link with your friends.")
    return redirect(party)


@require_safe
@login_required_htmx
def party_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Looked up through the viewer's own parties: someone else's party is a plain 404.
    party = get_object_or_404(request.user.parties.select_related("show"), pk=pk)
    party_point, standing = party.progress()
    # The party reads at its lowest member's point, whatever this viewer's own progress.
    user = request.user
    viewing = Viewing(
        show=party.show,
        user=user,
        safe_point=party_point,
        time_travel=False,
        hide_titles=user.hide_unwatched_titles,
        hide_synopses=user.hide_unwatched_synopses,
    )
    context = {
        "party": party,
        "show": party.show,
        "viewing": viewing,
        "standing": standing,
        "story_body": story_body(viewing),
        "invite_url": request.build_absolute_uri(reverse("party-join", args=[party.invite_token])),
    }
    return render(request, "companion/party_detail.html", context)


@require_safe
def party_join(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The invite page: the party's name and show (never anyone's progress), and a way in."""
    party = get_object_or_404(Party.objects.select_related("show"), invite_token=token)
    member = request.user.is_authenticated and party.members.filter(pk=request.user.pk).exists()
    return render(request, "companion/party_join.html", {"party": party, "member": member})


@require_POST
@login_required_htmx
def party_join_confirm(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    party = get_object_or_404(Party.objects.select_related("show"), invite_token=token)
    if not party.add_member(request.user):
        messages.error(request, f"This watch party is full ({PARTY_SIZE_LIMIT} members).")
        return redirect("show-list")
    messages.success(request, f"You joined {party.name}.")
    return redirect(party)


@require_POST
@login_required_htmx
def party_leave(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    party = get_object_or_404(request.user.parties, pk=pk)
    party.remove_member(request.user)
    messages.info(request, "You left the watch party.")
    return redirect("show-list")


# --- Spoiler reports ----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required_htmx
def report_spoiler(
    request: AuthenticatedHttpRequest, slug: str, kind: str, public_id: str
) -> HttpResponse:
    # The show and the viewer's point come first, then the lookup through what they can see: a
    # hidden item and a missing one run the same queries and get the same 404.
    viewing = viewing_of(request, slug)
    model = SpoilerReport.MODELS.get(kind)
    if model is None:
        raise Http404("Nothing here.")
    content = visible_or_404(model.objects.visible_at(viewing.safe_point), public_id=public_id)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        SpoilerReport.objects.create(
            reporter=request.user,
            kind=kind,
            **{kind: content},
            reporter_safe_point=viewing.safe_point.episode or content.reveal_at,
            message=form.cleaned_data["message"],
        )
        messages.success(
            request, "Thank you. An editor will look at it and move it later if it spoils."
        )
        return redirect(viewing.show.get_absolute_url())
    context = {
        "show": viewing.show,
        "viewing": viewing,
        "content": content,
        "kind": kind,
        "form": form,
    }
    return render(request, "companion/report.html", context)
