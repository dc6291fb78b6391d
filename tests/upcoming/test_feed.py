import datetime as dt
import json
import logging
import re

from django.contrib.auth import get_user_model
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from api.models import hash_token
from tests.helpers import mask_csrf
from tests.upcoming.conftest import TODAY
from upcoming.models import CalendarFeed

FEED_URL = re.compile(r"http://testserver(/calendar/feed/sfc_[\w-]+\.ics)")


def new_feed_path(client, user) -> str:
    """Create the viewer's feed URL from the calendar page, as they would, and read it off the page."""
    client.force_login(user)
    response = client.post("/calendar/")
    assert response.status_code == 200
    found = FEED_URL.search(response.content.decode())
    assert found, "the new URL is shown"
    client.logout()
    return found[1]


def events_by_icalendar(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    return {
        str(event["UID"]): {
            "summary": str(event["SUMMARY"]),
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "description": str(event["DESCRIPTION"]),
            "url": str(event["URL"]),
        }
        for event in calendar.walk("VEVENT")
    }


def test_the_feed_lists_the_viewers_airings_with_safe_titles(client, dave, frozen_today):
    response = client.get(new_feed_path(client, dave))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    events = events_by_icalendar(response.content)
    summaries = sorted(event["summary"] for event in events.values())
    # A month back and four months ahead: all of season 4 with a date, none with a title.
    assert summaries == [f"Orbit · S4E{n}" for n in range(1, 10)]
    assert b"TITLE-orbit" not in response.content and b"SYNOPSIS-orbit" not in response.content


def test_airings_are_all_day_events_with_the_network_time_in_the_notes(client, dave, frozen_today):
    events = events_by_icalendar(client.get(new_feed_path(client, dave)).content).values()
    tonight = next(event for event in events if event["summary"] == "Orbit · S4E4")
    # No time zone is known for the network: a date, not a guessed instant.
    assert tonight["start"] == TODAY and type(tonight["start"]) is dt.date
    assert tonight["end"] == TODAY + dt.timedelta(days=1)
    assert "Airs at 21:00 on Apple TV+, the network's local time." in tonight["description"]
    assert tonight["url"] == "http://testserver/shows/orbit/s4/e4/"


def test_a_second_reader_reads_the_same_feed(client, carol, frozen_today):
    """allenporter's ical, an implementation independent of icalendar, parses and validates it."""
    body = client.get(new_feed_path(client, carol)).content.decode()
    calendar = IcsCalendarStream.calendar_from_ics(body)
    by_start = {event.dtstart: event for event in calendar.events}
    assert by_start[TODAY].summary == "Orbit · S4E4 · TITLE-orbit-4x4"
    assert by_start[TODAY].dtend == TODAY + dt.timedelta(days=1)
    assert len(calendar.events) == 9
    assert calendar.prodid == "-//Spoilerfree//Your shows//EN"
    # Carol hides synopses (the default): no event's notes hold one.
    assert not any("SYNOPSIS" in (event.description or "") for event in calendar.events)


def test_watched_episodes_are_told_in_full(client, erin, frozen_today):
    events = events_by_icalendar(client.get(new_feed_path(client, erin)).content).values()
    summaries = {event["summary"] for event in events}
    assert "Orbit · S4E3 · TITLE-orbit-4x3" in summaries and "Orbit · S4E4" in summaries
    watched = next(e for e in events if e["summary"].startswith("Orbit · S4E3"))
    assert "SYNOPSIS-orbit-4x3" in watched["description"]


def test_the_url_is_shown_once(client, carol, frozen_today):
    new_feed_path(client, carol)
    client.force_login(carol)
    html = client.get("/calendar/").content.decode()
    assert not FEED_URL.search(html)
    assert "Your feed URL was created on" in html and "Replace the feed URL" in html


def test_replacing_the_url_stops_the_old_one(client, carol, frozen_today):
    old = new_feed_path(client, carol)
    new = new_feed_path(client, carol)
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_a_revoked_url_answers_as_one_that_never_was(client, carol, frozen_today):
    path = new_feed_path(client, carol)
    client.force_login(carol)
    response = client.post("/calendar/revoke/", follow=True)
    assert "Revoked your calendar feed URL" in response.content.decode()
    client.logout()
    revoked = client.get(path)
    never = client.get("/calendar/feed/sfc_" + "x" * 43 + ".ics")
    assert revoked.status_code == never.status_code == 404
    assert mask_csrf(revoked.content.decode()) == mask_csrf(never.content.decode())


def test_a_deactivated_viewers_feed_is_gone(client, carol, frozen_today):
    path = new_feed_path(client, carol)
    get_user_model().objects.filter(pk=carol.pk).update(is_active=False)
    assert client.get(path).status_code == 404


def test_revoking_and_creating_are_posts(client, carol):
    client.force_login(carol)
    assert client.get("/calendar/revoke/").status_code == 405
    assert not carol.__class__.objects.filter(calendar_feed__isnull=False).exists()


def test_logs_hold_the_feed_url_without_its_secret(client, carol, frozen_today, caplog):
    from connections.logs import mask_secrets

    path = new_feed_path(client, carol)
    secret = path.removeprefix("/calendar/feed/").removesuffix(".ics")
    assert mask_secrets(f'"GET {path} HTTP/1.1" 200') == (
        '"GET /calendar/feed/[secret].ics HTTP/1.1" 200'
    )
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(path.replace(secret, secret[:-4] + "nope")).status_code == 404
    assert "Not Found: /calendar/feed/[secret].ics" in caplog.text
    assert secret[:-4] not in caplog.text


def test_episodes_waiting_stay_in_the_feed_by_their_code(client, carol, frozen_today):
    """An event does not vanish from the viewer's calendar once it has aired; it loses its title."""
    events = events_by_icalendar(client.get(new_feed_path(client, carol)).content).values()
    summaries = sorted(event["summary"] for event in events)
    assert summaries[:3] == ["Orbit · S4E1", "Orbit · S4E2", "Orbit · S4E3"]
    assert summaries[3] == "Orbit · S4E4 · TITLE-orbit-4x4"


def test_calendar_apps_are_told_to_read_it_again_every_six_hours(client, carol, frozen_today):
    calendar = Calendar.from_ical(client.get(new_feed_path(client, carol)).content)
    assert calendar.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=6)
    assert calendar["X-PUBLISHED-TTL"].to_ical() == b"PT6H"


def test_the_data_export_says_a_feed_url_exists_never_its_secret(client, carol, frozen_today):
    path = new_feed_path(client, carol)
    client.force_login(carol)
    response = client.get("/accounts/export/")
    exported = json.loads(response.content)
    created = CalendarFeed.objects.get(user=carol).created_at.isoformat()
    assert exported["calendar_feed"] == [{"created_at": created}]
    secret = path.removeprefix("/calendar/feed/").removesuffix(".ics")
    assert secret not in response.content.decode()
    assert hash_token(secret) not in response.content.decode()
