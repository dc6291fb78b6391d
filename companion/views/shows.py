"""A show's pages: the show page and its seasons."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from ..http import (
    AuthenticatedHttpRequest,
    HtmxHttpRequest,
    login_required_htmx,
)
from ..lookups import viewing_of
from ..models import (
    NOTHING_WATCHED,
    SPECIALS_SEASON,
    Episode,
    Follow,
    Party,
    Recap,
    Run,
    Season,
    progress_for,
    progress_of,
)
from ..renders import (
    CSRF_PLACEHOLDER,
    built_keyed,
    one_write,
    render_page,
    rendering,
    shared_key,
    with_csrf,
)
from ..viewing import ROW_TEMPLATE, EpisodeView, SeasonView, Viewing


class Unknown(enum.Enum):
    """Not looked up by the caller (None is an answer: there is nothing up next)."""

    UNKNOWN = enum.auto()


UNKNOWN = Unknown.UNKNOWN


def progress_context(
    viewing: Viewing,
    progress: dict | None = None,
    *,
    upcoming: EpisodeView | None | Unknown = UNKNOWN,
    watched_past_point: bool = True,
) -> dict:
    """The progress box; `progress` when the caller has already counted the regular episodes,
    `upcoming` when it has found the episode up next, and `watched_past_point` False when it
    knows the viewer watched no regular episode past their safe point (so there is no gap)."""
    show, user, point = viewing.show, viewing.user, viewing.safe_point
    if progress is None:
        progress = progress_for(user, [show])[show.pk]
    no_gap = viewing.time_travel or not watched_past_point
    return {
        "progress": progress,
        "upcoming": viewing.upcoming if isinstance(upcoming, Unknown) else upcoming,
        # Looked up only where the progress box is rendered; rewatch mode has no gap to name.
        "gap": SimpleLazyObject(lambda: None if no_gap else show.gap_for(user, point)),
        # Only where its tools are rendered: the page, and the tools fetched after a mark.
        "parties": SimpleLazyObject(lambda: parties_of(viewing)),
    }


def parties_of(viewing: Viewing) -> list[Party]:
    """The viewer's own watch parties for this show."""
    user = viewing.user
    return Party.objects.of_member(user, viewing.show) if user.is_authenticated else []


def season_context(
    viewing: Viewing, seasons: list[SeasonView], *, render: bool = True, from_run: bool = False
) -> None:
    """Give each season `rows`: its episodes as the viewing shows them, with their recaps when
    safe; and their keys (Viewing.key_rows), and unless `render` is False their HTML. `from_run`
    marks them as the viewing's run says (Show.listed_episodes), for a viewer with no gap who is
    not looking back; otherwise the viewer's marks are read with them."""
    show, safe = viewing.show, viewing.safe_point
    # Specials are listed in their aired place, within the regular season they air in: the
    # query says which (`listed_in`), so no season's place needs a query of its own.
    listed = [s.season for s in seasons]
    episodes = (
        show.listed_episodes(listed, viewing.run or NOTHING_WATCHED)
        if from_run
        else show.episodes_with_marks(viewing.user, seasons=listed, with_specials=True)
    )
    rows: dict[int, list[Episode]] = {season.number: [] for season in seasons}
    for episode in episodes:
        if episode.listed_in in rows:
            rows[episode.listed_in].append(episode)
    in_rows = [e for listed in rows.values() for e in listed]
    recaps = Recap.objects.of_episodes_at(safe, *in_rows)
    for season in seasons:
        season.rows = viewing.decorate(rows[season.number], recaps)
    if render:
        viewing.render_rows(seasons)
    else:
        viewing.key_rows(seasons)


def season_heads(
    viewing: Viewing, only: Season | None = None, *, from_run: bool = False
) -> list[SeasonView]:
    """Every season (or `only` that one) with its (safe) period and the viewer's progress in it:
    one query. `from_run` counts the progress from the viewing's run (Season.objects.heads)."""
    run = viewing.run if from_run else None
    heads = Season.objects.heads(viewing.user, viewing.show, only, run=run)
    if any(s.number != SPECIALS_SEASON for s in heads):
        # The specials are listed among the regular seasons' episodes (season_context).
        heads = [s for s in heads if s.number != SPECIALS_SEASON]
    return viewing.season_views(heads)


def season_up_next(viewing: Viewing, seasons: list[SeasonView]) -> SeasonView | None:
    """Of every season's head, the one holding the regular episode up next: regular seasons
    follow one another in story order, so it is the first that goes on past the safe point."""
    after = viewing.safe_point.sequence
    return next(
        (
            season
            for season in seasons
            if season.number != SPECIALS_SEASON and season.last is not None and season.last > after
        ),
        None,
    )


def up_next_in(viewing: Viewing, season: SeasonView) -> EpisodeView | None:
    """The regular episode up next, among the rows of the season season_up_next() found."""
    after = viewing.safe_point.sequence
    rows = season.rows or []
    return next((e for e in rows if not e.is_special and e.sequence > after), None)


def progress_of_heads(
    viewing: Viewing, seasons: list[SeasonView], *, upcoming: EpisodeView | None | Unknown = UNKNOWN
) -> dict:
    """The progress box from every season's head, with no query of its own for the counts (the
    regular seasons' add up to the show's) nor, when nothing was watched past the safe point,
    for a gap."""
    regular = [s for s in seasons if s.number != SPECIALS_SEASON]
    furthest = max((s.last_watched or 0 for s in regular), default=0)
    return progress_context(
        viewing,
        progress_of(sum(s.watched for s in regular), sum(s.total for s in regular)),
        upcoming=upcoming,
        watched_past_point=furthest > viewing.safe_point.sequence,
    )


def show_context(
    viewing: Viewing,
    *,
    also_open: int | None = None,
    following: bool | None = None,
    shared: bool = False,
) -> dict:
    """The show page: every season with its progress, the viewer's own season open.

    Only the open seasons have rows: the one the viewer is in and one they asked for
    (`?season=N`, which is also how a folded season opens without JavaScript). The others load
    when unfolded (season_episodes), so the page costs the same however long the show is.
    Nothing is rendered yet: render_seasons() does it, when the page is not cached whole.

    A page `shared` between viewers at the same point shows their marks as their run says
    (show_page_facts): its counts come from the run, and its open seasons are season_list()'s
    shared lists, so their rows are not looked up here.
    """
    show, user = viewing.show, viewing.user
    seasons = season_heads(viewing, from_run=shared)
    current_season = season_up_next(viewing, seasons)
    current = current_season.number if current_season else seasons[-1].number if seasons else None
    for place, season in enumerate(seasons):
        season.current = season.number == current
        # The page lands on the viewer's season, unless it is the first one anyway.
        season.land = season.current and place > 0
        season.open = season.current or season.number == also_open
    if shared:
        upcoming = viewing.upcoming
    else:
        season_context(viewing, [s for s in seasons if s.open], render=False)
        upcoming = up_next_in(viewing, current_season) if current_season else None
    progress = progress_of_heads(viewing, seasons, upcoming=upcoming)
    return {
        "show": show,
        "viewing": viewing,
        "following": (
            user.is_authenticated and Follow.objects.follows(user, show)
            if following is None
            else following
        ),
        "seasons": seasons,
        **progress,
    }


def render_seasons(viewing: Viewing, seasons: list[SeasonView], *, shared: bool = False) -> None:
    """Give each open season `rows_html` (its keyed rows, Viewing.key_rows), or when the page is
    `shared` `list_html` (season_list's shared list), and each folded one `section_html`: all
    shared between every viewer they read the same to, in one read of the cache.

    A folded season shows only its head: a long show's seasons before the viewer's read "25 of
    25 watched" and those after "0 of 25" for nearly everyone, so they are rendered once, not on
    every page. Its facts are everything the section shows; the CSRF token is put in by the
    template's with_csrf. A section template that reads anything more must add it here.
    """
    show, signed_in = viewing.show, viewing.user.is_authenticated
    opened = [season for season in seasons if season.open]
    folded = [season for season in seasons if not season.open]
    lists = [shared_season_list(viewing, season.season) for season in opened] if shared else []

    def section(season: SeasonView) -> dict:
        return {
            "show": show,
            "season": season,
            "user": viewing.user,
            "csrf_token": CSRF_PLACEHOLDER,
        }

    keyed = list(lists)
    keyed += [
        (key, rendering(ROW_TEMPLATE, context))
        for season in opened
        for key, context in season.keyed_rows or []
    ]
    keyed += [
        (
            shared_key(SECTION_TEMPLATE, (show.slug, signed_in, season.head_facts)),
            rendering(SECTION_TEMPLATE, partial(section, season)),
        )
        for season in folded
    ]
    rendered = iter(built_keyed(keyed))
    for season in opened if lists else ():
        season.list_html = next(rendered)
    for season in opened:
        season.rows_html = mark_safe("".join(next(rendered) for _ in season.keyed_rows or []))
    for season in folded:
        season.section_html = next(rendered)


SECTION_TEMPLATE = "companion/show_detail.html#season"


@require_safe
def show_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    asked = request.GET.get("season", "")
    also_open = int(asked) if asked.isdecimal() else None
    viewing = viewing_of(request, slug)
    # The tools fold loads its body when opened; without JavaScript its link asks for it here.
    tools_open = request.GET.get("tools") == "1"
    template = "companion/show_detail.html"
    marks = viewing.run or NOTHING_WATCHED
    # What only this viewer sees, and seldom: the page is then rendered for them alone. (A gap:
    # a regular episode watched past the run.)
    if tools_open or viewing.time_travel or marks.past_run or has_messages(request):
        return render_for_viewer(request, viewing, also_open, tools_open=tools_open)
    user = viewing.user
    following = user.is_authenticated and Follow.objects.follows(user, viewing.show)
    parties = parties_of(viewing)

    def rendered_context() -> dict:
        # Its counts and its open seasons' rows come from the run its key holds
        # (shared_season_list): a page built while a mark lands shows the run it read, whole.
        context = show_context(viewing, also_open=also_open, following=following, shared=True)
        context |= {"tools_open": False, "parties": parties, "row_messages": {}}
        context["placed_messages"] = []
        render_seasons(viewing, context["seasons"], shared=True)
        return context

    facts = show_page_facts(viewing, also_open, marks, following, parties)
    return render_page(request, template, rendered_context, facts)


def render_for_viewer(
    request: HtmxHttpRequest, viewing: Viewing, also_open: int | None, *, tools_open: bool
) -> HttpResponse:
    """The show page rendered for this viewer alone: with their messages placed at the rows they
    are about, their tools open, as of an earlier point, or with a gap."""
    context = show_context(viewing, also_open=also_open)
    context["tools_open"] = tools_open
    render_seasons(viewing, context["seasons"])
    rows = [row for season in context["seasons"] if season.rows for row in season.rows]
    context |= row_messages(request, rows)
    return render(request, "companion/show_detail.html", context)


def show_page_facts(
    viewing: Viewing,
    also_open: int | None,
    marks: Run,
    following: bool,
    parties: list[Party],
) -> tuple:
    """Everything the show page of a viewer without a gap shows (besides its URL and the CSRF
    token), for render_page: read before anything of the page is built, so a page another viewer
    at the same point has had costs no more than these. A part of the page that reads anything
    more must add it here.

    The page shows the viewer's marks as their run (to the safe point) and `marks` say: its
    counts are counted from them, and each open season's list marks its rows from them
    (shared_season_list). What it shows of the show is its own fields,
    its seasons and episodes (the content version moves with every edit of those) and what is
    revealed at the point (its content stamp, in Viewing.cache_key).
    """
    return (
        *viewing.point_facts,
        viewing.preferences,
        # Of the specials watched, those the open seasons list: the viewer's season (the one up
        # next holds; the last, when nothing is) and the one asked for.
        [
            pk
            for pk, listed_in in marks.specials
            if marks.next_season is None or listed_in in (marks.next_season, also_open)
        ],
        also_open,
        following,
        [(party.pk, party.name) for party in parties],
    )


@require_safe
def season_episodes(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """One season's episode rows, for unfolding a season or refreshing it after progress changed."""
    viewing = viewing_of(request, slug)
    show = viewing.show
    found = show.season_numbered(number)
    if found is None:
        raise Http404("No such season.")
    if not request.htmx:
        return redirect(f"{show.get_absolute_url()}?season={number}#season-{number}")
    return HttpResponse(with_csrf(season_list(viewing, found), get_token(request)))


SEASON_LIST_TEMPLATE = "companion/show_detail.html#season-episodes"


def season_list(viewing: Viewing, found: Season) -> SafeString:
    """A season's episode list as unfolding it shows it (and a mark that moved the safe point
    sends it), without its row messages; the CSRF token is put in by with_csrf.

    Its rows show the run up to the safe point and the specials watched: keyed on those, it is
    shared by every viewer it reads the same to, so a viewer unfolding a season (or marking the
    episode that takes them to a point) where another has been reads it whole. Looking back or
    with a gap, it is rendered for the viewer alone, with their marks as they are."""
    marks = viewing.run or NOTHING_WATCHED
    if not (viewing.time_travel or marks.past_run):
        with one_write():
            return built_keyed([shared_season_list(viewing, found)])[0]
    return mark_safe(render_to_string(SEASON_LIST_TEMPLATE, season_list_context(viewing, found)))


def shared_season_list(viewing: Viewing, found: Season) -> tuple[str, Callable[[], str]]:
    """The key a season's list is shared under (season_list) and what builds it: its rows
    marked as the run in its key says. For a viewer neither looking back nor with a gap."""
    marks = viewing.run or NOTHING_WATCHED
    facts = (found.number, viewing.preferences, marks.specials, *viewing.point_facts)
    context = partial(season_list_context, viewing, found, from_run=True)
    return shared_key(SEASON_LIST_TEMPLATE, facts), rendering(SEASON_LIST_TEMPLATE, context)


def season_list_context(viewing: Viewing, found: Season, *, from_run: bool = False) -> dict:
    season = SeasonView(found)
    season_context(viewing, [season], from_run=from_run)
    return {
        "show": viewing.show,
        "viewing": viewing,
        "season": season,
        "row_messages": {},
        "csrf_token": CSRF_PLACEHOLDER,
    }


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


def row_tag(episode: Episode | EpisodeView) -> str:
    """The tag of a message about one episode's mark, so the show page shows it at that row."""
    return f"row-{episode.pk}"


def render_at_point(
    request: HttpRequest,
    viewing: Viewing,
    template: str,
    context: Callable[[], dict],
    facts: tuple = (),
    *,
    alone: bool = False,
) -> HttpResponse:
    """A page shared whole (render_page) by every viewer it reads the same to: keyed on `facts`,
    what it shows of the viewer, and on Viewing.point_facts. Looking back, with messages or
    `alone` (what only this viewer may see), it is rendered for its viewer alone."""
    if alone or viewing.time_travel or has_messages(request):
        return render(request, template, context())
    return render_page(request, template, context, (*facts, *viewing.point_facts))


def has_messages(request: HttpRequest) -> bool:
    """Whether this response shows messages, without marking them read."""
    return len(messages.get_messages(request)) > 0


def row_messages(request: HttpRequest, rows: list[EpisodeView]) -> dict:
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
