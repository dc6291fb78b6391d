"""A show's pages: the home page and Browse, the show page and its seasons, Who's who, Story so
far and search."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from ..forms import (
    BrowseForm,
)
from ..http import (
    AuthenticatedHttpRequest,
    HtmxHttpRequest,
    login_required_htmx,
)
from ..lookups import viewing_of, visible_or_404
from ..models import (
    SPECIALS_SEASON,
    Character,
    CharacterState,
    Episode,
    Follow,
    Party,
    Recap,
    ReviewerNote,
    Season,
    Show,
    progress_for,
    progress_of,
)
from ..viewing import (
    SeasonView,
    Viewing,
    search_results,
    show_cards,
)

STORY_NOTES_PER_EPISODE = 3


# A show longer than this tells its story a season at a time.
STORY_BY_SEASON_FROM = 60


def progress_context(viewing: Viewing, progress: dict | None = None) -> dict:
    """The progress box; `progress` when the caller has already counted the regular episodes."""
    show, user, point = viewing.show, viewing.user, viewing.safe_point
    if progress is None:
        progress = progress_for(user, [show])[show.pk]
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


def season_context(viewing: Viewing, seasons: list[SeasonView]) -> None:
    """Give each season `rows`: its episodes, decorated, with their recaps when safe."""
    show, safe = viewing.show, viewing.safe_point
    # Specials are listed in their aired place, within the regular season they air in.
    episodes = show.episodes_with_marks(
        viewing.user, seasons=[s.season for s in seasons], with_specials=True
    )
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


def season_heads(viewing: Viewing, only: Season | None = None) -> list[SeasonView]:
    """Every season (or `only` that one) with its (safe) period and the viewer's progress in it:
    one query."""
    heads = Season.objects.heads(viewing.user, viewing.show, only)
    if any(s.number != SPECIALS_SEASON for s in heads):
        # The specials are listed among the regular seasons' episodes (season_context).
        heads = [s for s in heads if s.number != SPECIALS_SEASON]
    return viewing.season_views(heads)


def show_context(viewing: Viewing, *, also_open: int | None = None) -> dict:
    """The show page: every season with its progress, the viewer's own season open.

    Only the open seasons' rows are rendered: the one the viewer is in and one they asked for
    (`?season=N`, which is also how a folded season opens without JavaScript). The others load
    when unfolded (season_episodes), so the page costs the same however long the show is.
    """
    show, user = viewing.show, viewing.user
    seasons = season_heads(viewing)
    # The regular seasons' counts add up to the show's: no query of its own.
    watched = sum(s.watched for s in seasons if s.number != SPECIALS_SEASON)
    total = sum(s.total for s in seasons if s.number != SPECIALS_SEASON)
    progress = progress_context(viewing, progress_of(watched, total))
    upcoming = progress["upcoming"]
    current = upcoming.season_number if upcoming else seasons[-1].number if seasons else None
    for place, season in enumerate(seasons):
        season.current = season.number == current
        # The page lands on the viewer's season, unless it is the first one anyway.
        season.land = season.current and place > 0
        season.open = season.current or season.number == also_open
    season_context(viewing, [s for s in seasons if s.open])
    return {
        "show": show,
        "viewing": viewing,
        "following": user.is_authenticated and user.follows.filter(show=show).exists(),
        "seasons": seasons,
        **progress,
    }


@require_safe
def home(request: HtmxHttpRequest) -> HttpResponse:
    """A viewer's followed shows with what is up next; for a visitor, what Spoilerfree is."""
    if not request.user.is_authenticated:
        return render(request, "companion/welcome.html")
    cards = show_cards(request, list(Follow.objects.shows_of(request.user)))
    parties = request.user.parties.select_related("show")
    return render(request, "companion/home.html", {"cards": cards, "parties": parties})


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
        "cards": show_cards(request, list(shows), up_next=False),
        "followed": followed,
    }
    if request.htmx:
        return render(request, "companion/browse.html#results", context)
    return render(request, "companion/browse.html", context)


@require_safe
def show_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    asked = request.GET.get("season", "")
    also_open = int(asked) if asked.isdecimal() else None
    context = show_context(viewing_of(request, slug), also_open=also_open)
    rows = [row for season in context["seasons"] if season.rows for row in season.rows]
    context |= row_messages(request, rows)
    return render(request, "companion/show_detail.html", context)


@require_safe
def season_episodes(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """One season's episode rows, for unfolding a season or refreshing it after progress changed."""
    viewing = viewing_of(request, slug)
    show = viewing.show
    season = SeasonView(get_object_or_404(show.seasons, number=number))
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
    entries = []
    for recap in recaps:
        notes = notes_by_episode.pop(recap.episode_id, [])
        more_notes = totals.get(recap.episode_id, 0) - len(notes)
        entries.append({"recap": recap, "notes": notes, "more_notes": more_notes})
    return {
        "entries": entries,
        "other_notes": [note for notes in notes_by_episode.values() for note in notes],
        "characters": Character.objects.with_states_at(safe),
    }


def story_seasons(viewing: Viewing) -> dict[int, tuple[int, int | None]]:
    """A long show's story is told a season at a time: each regular season up to the viewer's own,
    with the places it spans (up to the next season's first episode, so the specials that air
    within it come with it; the first also takes any before it). Nothing for a short show."""
    point = viewing.safe_point.episode
    starts = viewing.show.season_starts()
    if point is None or sum(n for _, n in starts.values()) <= STORY_BY_SEASON_FROM:
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
def search(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    query = request.GET.get("q", "").strip()[:100]
    results = search_results(viewing, query)
    context = {"show": viewing.show, "viewing": viewing, "query": query, "results": results}
    if request.htmx:
        return render(request, "companion/search.html#results", context)
    return render(request, "companion/search.html", context)


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
