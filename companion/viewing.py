"""What one viewer sees of one show in this request: their safe point, computed once, and their preferences."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from .models import (
    Character,
    CharacterState,
    Episode,
    Recap,
    ReviewerNote,
    Run,
    SafePoint,
    Season,
    Show,
    image_url,
    is_revealed,
    progress_for,
)
from .renders import CSRF_PLACEHOLDER, render_keyed, render_once_at_point, shared_key

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

AS_OF_SESSION_KEY = "as_of"
# Results of each kind a search lists, at most, and the shortest query it looks for.
SEARCH_LIMIT = 20
SEARCH_MIN_LENGTH = 2


@dataclass(frozen=True)
class EpisodeView:
    """One episode as a viewing shows it: its title, synopsis and still as far as this viewer may
    see them. Anything else is read from the episode, so templates and the API say `e.number`."""

    episode: Episode
    # At or before the viewing's safe point.
    revealed: bool
    shown_title: str
    # Titles and synopses are hidden by preference only: "Show anyway" may reveal them.
    title_hidden: bool
    shown_synopsis: str
    synopsis_hidden: bool
    # The still's URL, only for a revealed episode; the image to show, the stand-in included.
    shown_still: str
    shown_image: str
    # Its recap where the show page's row shows one: safe at the viewing's point.
    visible_recap: Recap | None = None

    def __getattr__(self, name: str) -> Any:
        # Reached only for what the view does not hold. Not for `episode` itself or dunders, so
        # that copying a view, which looks them up before any field is set, cannot recurse.
        if name == "episode" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.episode, name)


# The show page's episode row: the one template whose context is only what Viewing.row_of gives.
ROW_TEMPLATE = "companion/show_detail.html#episode-row"


@dataclass
class SeasonView:
    """One season as a viewing shows it: its head and, when it is open, its episode rows."""

    season: Season
    # The viewer's episodes watched of the season's total (Season.objects.heads()).
    watched: int = 0
    total: int = 0
    # The places of its first and last episodes and of the last one the viewer watched, if any.
    first: int | None = None
    last: int | None = None
    last_watched: int | None = None
    # The in-universe period, when it is safe at the viewing's point.
    shown_period: str = ""
    # The season the viewer is in: open, and where the page lands unless it is the first.
    current: bool = False
    land: bool = False
    open: bool = False
    # Its episodes as the viewing shows them, with their recaps; None while folded. `rows_html`
    # is them rendered.
    rows: list[EpisodeView] | None = None
    rows_html: SafeString | None = None
    # Each row's cache key and context (Viewing.key_rows), and a digest of everything the rows
    # show: of those keys.
    keyed_rows: list[tuple[str, Callable[[], dict]]] | None = None
    rows_key: str | None = None
    # While open on a page shared whole, its list as season_list() shares it.
    list_html: SafeString | None = None
    # While folded, its whole section (head and fold), rendered once for everyone it reads the same to.
    section_html: SafeString | None = None

    @property
    def pk(self) -> int:
        return self.season.pk

    @property
    def number(self) -> int:
        return self.season.number

    @property
    def premiere_date(self):
        return self.season.premiere_date

    @property
    def period(self) -> str:
        return self.season.period

    @property
    def progress(self) -> dict[str, int]:
        return {"watched": self.watched, "total": self.total}

    @property
    def head_facts(self) -> tuple:
        """Everything the season's head shows, for the keys of renders shared between viewers."""
        return (
            self.number,
            self.watched,
            self.total,
            self.shown_period,
            self.premiere_date,
            self.land,
            self.open,
        )

    @property
    def finished(self) -> bool:
        return 0 < self.total == self.watched


@dataclass
class Viewing:
    show: Show
    user: User | AnonymousUser
    safe_point: SafePoint
    time_travel: bool
    hide_titles: bool
    hide_synopses: bool
    # The viewer's own safe point; in rewatch mode or an editor's preview `safe_point` is earlier.
    real_point: SafePoint | None = None
    hide_images: bool = False
    # What the viewer has watched besides their run, when looked up with their safe point.
    run: Run | None = None

    @classmethod
    def at(
        cls,
        show: Show,
        user: User | AnonymousUser,
        safe_point: SafePoint,
        *,
        real_point: SafePoint | None = None,
        run: Run | None = None,
    ) -> Viewing:
        """The viewer's show at `safe_point`, with their preferences (a visitor's: the defaults).
        `real_point` is their own point when `safe_point` is an earlier one they asked for."""
        return cls(
            show=show,
            user=user,
            safe_point=safe_point,
            time_travel=real_point is not None,
            hide_titles=getattr(user, "hide_unwatched_titles", False),
            hide_synopses=getattr(user, "hide_unwatched_synopses", True),
            real_point=real_point,
            hide_images=getattr(user, "hide_unwatched_images", False),
            run=run,
        )

    @property
    def own_point(self) -> SafePoint:
        return self.safe_point if self.real_point is None else self.real_point

    @cached_property
    def look_back_points(self) -> list[dict]:
        """The regular episodes this viewer may look back to: every one up to their own safe point
        (any, for an editor's preview). Only codes, never titles; fetched once, when listed."""
        episodes = self.show.episodes.regular()
        if not getattr(self.user, "is_staff", False):
            episodes = episodes.visible_at(self.own_point)
        selected = self.safe_point.episode
        places = episodes.order_by("sequence").values_list("pk", "season_number", "number")
        return [
            {
                "code": f"{season}x{number}",
                "label": f"S{season}E{number}",
                "selected": selected is not None and pk == selected.pk,
            }
            for pk, season, number in places
        ]

    @cached_property
    def upcoming(self) -> EpisodeView | None:
        """The regular episode up next after the safe point, if any."""
        if self.run is not None and self.user.is_authenticated and not self.time_travel:
            # The run found it: the first episode its viewer has not watched.
            up_next = self.run.up_next
            return self.episode_view(up_next) if up_next is not None else None
        after = self.show.episodes_with_marks(
            self.user, regular_after=self.safe_point.sequence, limit=1
        )
        return self.episode_view(after[0]) if after else None

    @cached_property
    def content_stamp(self) -> int:
        """Moves with every edit of gated content revealed at this viewing's point, and no other."""
        if self.run is not None and self.run.point == self.safe_point:
            return self.run.content_stamp
        return self.show.content_stamp_at(self.safe_point)

    @property
    def cache_key(self) -> str:
        """What the gated content of this viewing is: the same for every viewer at the same point."""
        return f"{self.show.pk}:{self.show.content_version}:{self.safe_point.cache_key}:{self.content_stamp}"

    @property
    def preferences(self) -> tuple[bool, bool, bool]:
        """What the viewer hides of episodes not revealed yet: titles, synopses, images."""
        return (self.hide_titles, self.hide_synopses, self.hide_images)

    @property
    def point_facts(self) -> tuple:
        """What every page shared whole (renders.render_page) shows besides its own parts: the
        show's own fields, the gated content at the point, and who is asking (base.html)."""
        show, user = self.show, self.user
        return (
            [getattr(show, f.attname) for f in show._meta.concrete_fields],
            self.cache_key,
            user.is_authenticated,
            getattr(user, "is_staff", False),
        )

    def is_revealed(self, episode: Episode) -> bool:
        return is_revealed(episode, self.safe_point)

    def cached_fragment(self, name: str, template: str, build_context) -> SafeString:
        """A gated fragment, shared by everyone at this point: it must not contain anything
        personal (watch marks, preferences, tokens)."""
        return render_once_at_point(template, (name, self.cache_key), build_context)

    def row_of(self, listed: int, e: EpisodeView) -> dict:
        """Everything the show page's row of `e` shows, listed in season `listed`: the row
        template reads nothing else, so this is both its context and its key."""
        # Read off the episode itself, and the pk as text: a row is built for every row of a
        # season on every look, before the cache is asked, and a number would be localized.
        episode, signed_in = e.episode, self.user.is_authenticated
        pk = str(episode.pk)
        # The row's controls swap its season's list; without JavaScript they come back to it.
        return {
            "signed_in": signed_in,
            "pk": pk,
            "watched": episode.watched,
            "short_label": episode.short_label,
            "url": episode.url,
            "toggle_url": episode.unwatch_url if episode.watched else episode.watch_url,
            "up_to": signed_in and not episode.watched and not episode.is_special,
            "watch_up_to_url": episode.watch_up_to_url,
            "confirm_up_to_url": episode.confirm_up_to_url,
            "show_anyway_url": episode.show_anyway_url,
            "target": f"#season-{listed}-episodes",
            "next": f"{self.show.url}?season={listed}#episode-{pk}",
            "special_badge": episode.is_special and bool(listed),
            "shown_title": e.shown_title,
            "title_hidden": e.title_hidden,
            "shown_synopsis": e.shown_synopsis,
            "recap": e.visible_recap.text if e.visible_recap else None,
        }

    def key_rows(self, seasons: list[SeasonView]) -> None:
        """Give each season `keyed_rows`: its episode rows (`rows`, decorated), each as the key
        it is cached under and its context; and `rows_key`, a digest of those keys.

        A row is keyed on exactly what it shows (row_of): the episode's place, the viewer's mark,
        and what decorate() and the recap lookup let through at this safe point with these
        preferences. Rows before a viewer's point read "watched" and those after "not watched"
        for nearly everyone, so a viewer at a point nobody has visited yet still finds all but a
        row or two rendered. A mark, an edit or a preference change makes a new key at once. The
        CSRF token is put in by the template's with_csrf (companion/renders.py).
        """
        for season in seasons:
            keyed: list[tuple[str, Callable[[], dict]]] = []
            for e in season.rows or []:
                row = self.row_of(season.number, e)
                keyed.append(
                    (
                        shared_key(ROW_TEMPLATE, row),
                        partial(dict, row=row, csrf_token=CSRF_PLACEHOLDER),
                    )
                )
            season.keyed_rows = keyed
            # What the season's rows show, for the keys of renders that hold them (the page).
            season.rows_key = shared_key(ROW_TEMPLATE, [key for key, _ in keyed])

    def render_rows(self, seasons: list[SeasonView]) -> None:
        """Give each season `rows_html`: its rows (key_rows), each rendered once and shared
        between every viewer to whom it reads the same, in one read of the cache."""
        self.key_rows(seasons)
        keyed = [row for season in seasons for row in season.keyed_rows or []]
        rendered = iter(render_keyed(ROW_TEMPLATE, keyed))
        for season in seasons:
            season.rows_html = mark_safe("".join(next(rendered) for _ in season.keyed_rows or []))

    def episode_view(self, episode: Episode, recap: Recap | None = None) -> EpisodeView:
        """The episode as this viewing shows it, with the recap of its row if the caller has one."""
        revealed = self.is_revealed(episode)
        # The one place a still becomes a URL: only for an episode revealed at this point. In the
        # place of any other (hidden or missing alike) the show's blurred stand-in, which is made
        # from the show's art and tells nothing of the episode.
        still = image_url(episode.still) if revealed else ""
        stand_in = "" if self.hide_images else self.show.stand_in_url
        hide_title = self.hide_titles and not revealed
        hide_synopsis = self.hide_synopses and not revealed
        return EpisodeView(
            episode,
            revealed=revealed,
            shown_title=f"Episode {episode.number}" if hide_title else episode.display_title,
            title_hidden=hide_title and bool(episode.title),
            shown_synopsis="" if hide_synopsis else episode.synopsis,
            synopsis_hidden=hide_synopsis and bool(episode.synopsis),
            shown_still=still,
            shown_image=still or stand_in,
            visible_recap=recap,
        )

    def decorate(
        self, episodes: Iterable[Episode], recaps: Mapping[int, Recap] | None = None
    ) -> list[EpisodeView]:
        """Each episode as this viewing shows it, for the templates and the API; with its recap
        from `recaps` (by episode pk) for the show page's rows."""
        recaps = recaps or {}
        return [self.episode_view(episode, recaps.get(episode.pk)) for episode in episodes]

    def season_views(self, heads: list[Season]) -> list[SeasonView]:
        """Seasons from Season.objects.heads() with the viewer's progress and the period if safe
        (a season's in-universe period is itself gated)."""
        return [
            SeasonView(
                season=head,
                watched=head.watched,
                total=head.total,
                first=head.first,
                last=head.last,
                last_watched=head.last_watched,
                shown_period=self.period_at(head, self.safe_point),
            )
            for head in heads
        ]

    @staticmethod
    def period_at(season, point: SafePoint) -> str:
        """The season's in-universe period if it is safe at `point`, else nothing."""
        reveal = season.period_reveal_point
        return season.period if reveal and is_revealed(reveal, point) else ""


def as_of_episode(request: HttpRequest, show: Show) -> Episode | None:
    episode_id = request.session.get(AS_OF_SESSION_KEY, {}).get(str(show.pk))
    if episode_id is None:
        return None
    return Episode.objects.filter(pk=episode_id, show=show).select_related("show").first()


def viewing_for(request: HttpRequest, show: Show) -> Viewing:
    user = request.user
    as_of = as_of_episode(request, show) if user.is_authenticated else None
    run = Show.runs_for(user, [show])[show.pk]
    real = run.point
    safe_point = show.safe_point_for(user, as_of=as_of, real=real)
    time_travel = as_of is not None and safe_point.episode == as_of
    return Viewing.at(show, user, safe_point, real_point=real if time_travel else None, run=run)


def viewings_for(request: HttpRequest, shows: list[Show]) -> dict[int, Viewing]:
    """Many shows at the viewer's own progress (home, browse): one query for the safe points.

    Rewatch mode is left out on purpose: these pages track what the viewer has really watched.
    """
    return viewings_of(request.user, shows)


def viewings_of(user: User | AnonymousUser, shows: list[Show]) -> dict[int, Viewing]:
    """As viewings_for, with no request: the calendar feed and emails read a viewer's shows too."""
    runs = Show.runs_for(user, shows)
    return {
        show.pk: Viewing.at(show, user, runs[show.pk].point, run=runs[show.pk]) for show in shows
    }


@dataclass
class ShowCard:
    """A show on the home page, Browse or the API: the viewer's point, progress and what is next."""

    show: Show
    progress: dict[str, int]
    safe_point: SafePoint
    upcoming: EpisodeView | None


def show_cards(request: HttpRequest, shows: list[Show], *, up_next: bool = True) -> list[ShowCard]:
    """Each show with its progress, safe point and the episode up next (which the safe points'
    statement finds): five queries for any number."""
    viewings = viewings_for(request, shows)
    progress = progress_for(request.user, shows)
    signed_in = request.user.is_authenticated
    cards = []
    for show in shows:
        viewing = viewings[show.pk]
        shown = viewing.upcoming if up_next and signed_in else None
        cards.append(ShowCard(show, progress[show.pk], viewing.safe_point, shown))
    return cards


def search_querysets(viewing: Viewing, query: str) -> dict[str, QuerySet]:
    """What a search finds at the viewer's safe point, each kind in the order it is listed: the
    search page reads only what it shows of each, the API whole rows. Each is read up to
    SEARCH_LIMIT. Nothing for a query too short."""
    if len(query) < SEARCH_MIN_LENGTH:
        return {}
    show, safe = viewing.show, viewing.safe_point
    # The show's related manager gives each episode this very show: no join for it.
    titled = show.episodes.filter(title__icontains=query)
    if viewing.hide_titles:
        # Titles the viewer's preference hides are left out before the limit, by the database,
        # which then never reads them: a hidden title changes neither what is listed nor the time.
        titled = titled.visible_at(safe)
    return {
        "characters": Character.objects.visible_at(safe).filter(name__icontains=query),
        "episodes": titled.order_by("sequence"),
        # Read in story order and only up to the limit: a common word is found in the first few
        # episodes' thousands of notes, not after reading every one revealed.
        "recaps": Recap.objects.visible_in_story_order(safe).filter(text__icontains=query),
        "notes": ReviewerNote.objects.visible_in_story_order(safe).filter(text__icontains=query),
        "states": CharacterState.objects.visible_at(safe).filter(description__icontains=query),
    }


def search_results(viewing: Viewing, query: str) -> dict:
    """What a search finds at the viewer's safe point, as whole rows: for the API."""
    found = search_querysets(viewing, query)
    if not found:
        return {}
    show = viewing.show
    characters = list(found["characters"][:SEARCH_LIMIT])
    recaps = list(found["recaps"].select_related("episode")[:SEARCH_LIMIT])
    notes = list(found["notes"].select_related("episode")[:SEARCH_LIMIT])
    states = list(found["states"].select_related("character", "reveal_at")[:SEARCH_LIMIT])
    # All of it is this show's (the rule keeps to the point's show): attached, not joined again.
    for character in [*characters, *(state.character for state in states)]:
        character.show = show
    for episode in [*(item.episode for item in [*recaps, *notes]), *(s.reveal_at for s in states)]:
        episode.show = show
    return {
        "characters": characters,
        "episodes": viewing.decorate(list(found["episodes"][:SEARCH_LIMIT])),
        "recaps": recaps,
        "notes": notes,
        "states": states,
    }
