"""A viewer's schedule as an iCalendar feed (RFC 5545), built with the icalendar library.

Every event is all-day: TVmaze gives an airtime local to the network, and the catalogue does not
know the network's time zone, so a timed event would be a guess. The airtime is in the description.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from icalendar import Calendar, Event, vDuration

from .schedule import Airing, Schedule

PRODID = "-//Spoilerfree//Your shows//EN"
# How often a calendar app should read the feed again.
REFRESH = dt.timedelta(hours=6)


def description(airing: Airing, url: str) -> str:
    show = airing.show
    lines = []
    if airing.airtime is not None:
        where = f" on {show.network}" if show.network else ""
        lines.append(f"Airs at {airing.airtime:%H:%M}{where}, the network's local time.")
    if airing.synopsis:
        lines.append(airing.synopsis)
    lines.append(url)
    return "\n\n".join(lines)


def calendar_of(schedule: Schedule, *, absolute_url) -> bytes:
    """The schedule's airings as an iCalendar file; `absolute_url(path)` makes the links absolute."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Spoilerfree: your shows")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    # Outlook's name for the same; icalendar writes an X- property's timedelta as "6:00:00".
    calendar.add("x-published-ttl", vDuration(REFRESH))
    stamp = timezone.now().replace(microsecond=0)
    for airing in schedule.airings:
        url = absolute_url(airing.episode.url)
        event = Event()
        event.add("uid", f"episode-{airing.episode.pk}@spoilerfree")
        event.add("dtstamp", stamp)
        event.add("dtstart", airing.air_date)
        event.add("dtend", airing.air_date + dt.timedelta(days=1))
        event.add("summary", airing.label)
        event.add("description", description(airing, url))
        event.add("url", url)
        # An episode on the calendar leaves the viewer's time free for other plans.
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
