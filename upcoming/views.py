"""The calendar page and the personal iCal feed of the shows a viewer follows."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from companion.http import AuthenticatedHttpRequest

from . import mail
from .ical import calendar_of
from .models import CalendarFeed
from .schedule import Schedule, schedule_for

# The feed reaches further than the page: a calendar app keeps what it read, and plans ahead.
FEED_RECENT_DAYS = 28
FEED_COMING_DAYS = 120


def relative_day(day: dt.date, today: dt.date) -> str:
    """ "Yesterday", "Today", "Tomorrow", or nothing for any other day."""
    return {-1: "Yesterday", 0: "Today", 1: "Tomorrow"}.get((day - today).days, "")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The followed shows' episodes by date, and up next beside each show; a POST makes a new feed URL."""
    new_url = None
    if request.method == "POST":
        _, raw = CalendarFeed.objects.issue(user=request.user)
        new_url = request.build_absolute_uri(reverse("calendar-feed", args=[raw]))
    today = timezone.localdate()
    schedule = schedule_for(request.user, today=today)
    days = [
        {"date": day, "relative": relative_day(day, today), "airings": airings}
        for day, airings in Schedule.by_date(schedule.listed)
    ]
    context = {
        "schedule": schedule,
        "days": days,
        "feed": CalendarFeed.objects.filter(user=request.user).first(),
        "new_url": new_url,
    }
    return render(request, "upcoming/calendar.html", context)


@require_POST
@login_required
def revoke(request: AuthenticatedHttpRequest) -> HttpResponse:
    if CalendarFeed.objects.filter(user=request.user).delete()[0]:
        messages.success(
            request, "Revoked your calendar feed URL. Calendar apps reading it now get nothing."
        )
    return redirect("calendar")


@require_safe
def feed(request: HttpRequest, feed_token: str) -> HttpResponse:
    """The viewer's airings as iCalendar, for the holder of the secret URL; 404 for any other."""
    found = CalendarFeed.objects.find(feed_token)
    if found is None:
        raise Http404
    schedule = schedule_for(
        found.user,
        today=timezone.localdate(),
        recent_days=FEED_RECENT_DAYS,
        coming_days=FEED_COMING_DAYS,
    )
    body = calendar_of(schedule, absolute_url=request.build_absolute_uri)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    # The URL is the credential: nothing between the viewer's calendar app and us keeps a copy.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


WHAT = {
    "aired": "the emails when an episode of a show you follow airs",
    "digest": "the weekly digest of your shows",
}


# RFC 8058: a mail provider's one-click POST carries no CSRF token and no session; the signed
# link is the credential, and all it can do is stop mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """A GET asks (a link scanner stops nothing); a POST, from the button or the mail provider, stops."""
    found = mail.unsubscribing(token)
    if found is None:
        return render(request, "upcoming/unsubscribe.html", {"what": None}, status=400)
    user, kind = found
    if request.method == "POST":
        mail.stop(user, kind)
    return render(
        request,
        "upcoming/unsubscribe.html",
        {"what": WHAT[kind], "done": request.method == "POST"},
    )
