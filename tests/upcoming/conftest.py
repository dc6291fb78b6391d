"""A show airing its fourth season around a fixed day, and viewers at different points in it."""

from __future__ import annotations

import datetime as dt

import pytest

from companion.models import Episode, Season, Show
from tests.factories import make_user, watch

# "Today" for every test of the calendar: passed in, or the clock frozen at it; never the real day.
TODAY = dt.date(2026, 12, 9)
# Season 4 airs weekly: days from TODAY per episode; E10 has no date yet.
SEASON_4 = {1: -15, 2: -8, 3: -1, 4: 0, 5: 7, 6: 14, 7: 21, 8: 28, 9: 35, 10: None}


def make_airing_show(
    slug: str = "orbit", *, title: str = "", airtime: dt.time | None = dt.time(21, 0)
) -> Show:
    """Seasons 1-3 (six episodes each) aired years ago; season 4 is airing around TODAY."""
    show = Show.objects.create(title=title or slug.title(), slug=slug, network="Apple TV+")
    for number in (1, 2, 3, 4):
        season = Season.objects.create(show=show, number=number)
        count = 10 if number == 4 else 6
        for n in range(1, count + 1):
            if number == 4:
                offset = SEASON_4[n]
                air_date = None if offset is None else TODAY + dt.timedelta(days=offset)
            else:
                air_date = dt.date(2019 + number, 1, 1) + dt.timedelta(weeks=n)
            Episode.objects.create(
                season=season,
                number=n,
                title=f"TITLE-{slug}-{number}x{n}",
                synopsis=f"SYNOPSIS-{slug}-{number}x{n}",
                air_date=air_date,
                airtime=airtime,
                runtime=55,
            )
    return show


def watch_up_to(user, show: Show, season: int, number: int) -> None:
    codes = [
        f"{s}x{n}"
        for s, n in show.episodes.regular().values_list("season_number", "number")
        if (s, n) <= (season, number)
    ]
    watch(user, show, *codes)


@pytest.fixture
def orbit(db) -> Show:
    return make_airing_show()


@pytest.fixture
def carol(orbit):
    """A viewer at S2E5 of Orbit who shows titles, also of episodes not yet aired (synopses
    hidden, as by default)."""
    user = make_user("carol", show_upcoming_titles=True)
    watch_up_to(user, orbit, 2, 5)
    return user


@pytest.fixture
def dave(orbit):
    """A viewer at S2E5 of Orbit who hides the titles of episodes he has not watched."""
    user = make_user("dave", hide_unwatched_titles=True)
    watch_up_to(user, orbit, 2, 5)
    return user


@pytest.fixture
def erin(orbit):
    """A viewer who is up to date with Orbit: she watched S4E3 last night."""
    user = make_user("erin", hide_unwatched_titles=True)
    watch_up_to(user, orbit, 4, 3)
    return user


@pytest.fixture
def frozen_today():
    """The clock stopped at noon UTC on TODAY, for the views that read the day from it."""
    from unittest import mock

    from django.utils import timezone

    noon = dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=dt.UTC)
    with mock.patch.object(timezone, "now", return_value=noon):
        yield TODAY
