"""What a viewer may be told about the airings of the shows they follow.

The calendar page, the iCal feed and the emails all read this, and only this: every episode comes
decorated by the viewer's own `Viewing` (companion/viewing.py), so a title or synopsis is shown
exactly where the show page would show it. An episode that has not aired is past every safe point.
Episodes that aired past the viewer's point are told as a count ("3 aired episodes waiting"):
which episodes have aired is the catalogue's public list, like the show page's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Count

from companion.models import Episode, Follow, SafePoint, Show
from companion.viewing import EpisodeView, viewings_of

# The calendar's window: aired in the last few days, airing in the coming weeks.
RECENT_DAYS = 7
COMING_DAYS = 28


def label(
    episode: EpisodeView, *, today: dt.date, upcoming_titles: bool, waiting: bool = False
) -> str:
    """ "For All Mankind · S5E3", and its title after it where the viewer's preferences show it.

    Needs an episode as Viewing.decorate() shows it: that is where the title's rule lives. An
    episode `waiting` (aired past the viewer's point) is told by its code alone, whatever the
    preferences: a viewer who has fallen behind is told how many, not what they are called.
    An episode not yet aired is told by its code too unless the viewer asked for those titles:
    a calendar entry or a mail is read outside the show, on a lock screen or in an inbox list.
    """
    base = f"{episode.show.title} · {episode.short_label}"
    if not episode.title or episode.title_hidden or waiting:
        return base
    unaired = episode.air_date is None or episode.air_date >= today
    if unaired and not episode.revealed and not upcoming_titles:
        return base
    return f"{base} · {episode.shown_title}"


@dataclass(frozen=True)
class Airing:
    """One episode's air date, as this viewer may be told of it."""

    episode: EpisodeView  # as the viewer's Viewing shows it
    label: str  # by the viewer's preferences; the code alone while it is waiting
    synopsis: str  # "" where the viewer's preferences hide it, or while it is waiting
    air_date: dt.date
    # Local to the show's network, whose time zone the catalogue does not know.
    airtime: dt.time | None
    aired: bool  # aired before the day the schedule was made for
    revealed: bool  # at or before the viewer's safe point

    @property
    def show(self) -> Show:
        return self.episode.show

    @property
    def waiting(self) -> bool:
        """Aired, not yet reached: told as part of its show's count, never on its own."""
        return self.aired and not self.revealed


@dataclass
class ShowSchedule:
    """One followed show: where the viewer is, what is up next and what airs around today."""

    show: Show
    safe_point: SafePoint
    up_next: EpisodeView | None  # None when the viewer has watched every episode
    up_next_label: str
    waiting: int  # regular episodes aired before today, past the safe point
    airings: list[Airing] = field(default_factory=list)

    @property
    def listed(self) -> list[Airing]:
        """The airings a list names one by one: all but those waiting (counted in `waiting`)."""
        return [airing for airing in self.airings if not airing.waiting]


@dataclass
class Schedule:
    """A viewer's followed shows, by title, and their airings from `start` to `end` (inclusive)."""

    today: dt.date
    start: dt.date
    end: dt.date
    shows: list[ShowSchedule]

    @property
    def airings(self) -> list[Airing]:
        """Every airing in the window, by date, time (unknown last), show and story order."""
        every = [airing for show in self.shows for airing in show.airings]
        return sorted(every, key=_airing_order)

    @property
    def listed(self) -> list[Airing]:
        return [airing for airing in self.airings if not airing.waiting]

    @property
    def waiting(self) -> int:
        return sum(show.waiting for show in self.shows)

    @staticmethod
    def by_date(airings: list[Airing]) -> list[tuple[dt.date, list[Airing]]]:
        """Airings (in order) grouped under their dates."""
        return [(day, list(group)) for day, group in groupby(airings, lambda a: a.air_date)]


def _airing_order(airing: Airing) -> tuple:
    time_known = airing.airtime is not None
    return (
        airing.air_date,
        not time_known,
        airing.airtime or dt.time.min,
        airing.show.title,
        airing.episode.sequence,
    )


def schedule_for(
    user,
    *,
    today: dt.date,
    recent_days: int = RECENT_DAYS,
    coming_days: int = COMING_DAYS,
) -> Schedule:
    """The viewer's followed shows and their airings from `recent_days` before `today` to
    `coming_days` after it. Six queries however many shows. `today` is passed in, so a
    caller (and a test) says which day it is; a page passes timezone.localdate()."""
    start = today - dt.timedelta(days=recent_days)
    end = today + dt.timedelta(days=coming_days)
    shows = Follow.objects.shows_listed_for(user)
    if not shows:
        return Schedule(today=today, start=start, end=end, shows=[])
    viewings = viewings_of(user, shows)
    upcoming_titles = user.show_upcoming_titles
    points = {pk: viewing.safe_point for pk, viewing in viewings.items()}
    waiting_counts = dict(
        Episode.objects.past(points)
        .filter(air_date__lt=today)
        .values_list("show_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_pk = {show.pk: show for show in shows}
    in_window = Episode.objects.filter(
        show_id__in=list(by_pk), air_date__gte=start, air_date__lte=end
    ).order_by("air_date", "sequence")
    airings: dict[int, list[Airing]] = {}
    for episode in in_window:
        episode.show = by_pk[episode.show_id]
        shown = viewings[episode.show_id].episode_view(episode)
        assert episode.air_date is not None  # filtered on it
        aired = episode.air_date < today
        waiting = aired and not shown.revealed
        airings.setdefault(episode.show_id, []).append(
            Airing(
                episode=shown,
                label=label(shown, today=today, upcoming_titles=upcoming_titles, waiting=waiting),
                synopsis="" if waiting else shown.shown_synopsis,
                air_date=episode.air_date,
                airtime=episode.airtime,
                aired=aired,
                revealed=shown.revealed,
            )
        )
    schedules = []
    for show in shows:
        # Found by the safe points' statement: the first episode the viewer has not watched.
        following = viewings[show.pk].upcoming
        schedules.append(
            ShowSchedule(
                show=show,
                safe_point=points[show.pk],
                up_next=following,
                up_next_label=(
                    label(following, today=today, upcoming_titles=upcoming_titles)
                    if following is not None
                    else ""
                ),
                waiting=waiting_counts.get(show.pk, 0),
                airings=airings.get(show.pk, []),
            )
        )
    return Schedule(today=today, start=start, end=end, shows=schedules)
