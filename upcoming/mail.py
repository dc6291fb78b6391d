"""Mail about followed shows, every line written at the recipient's own safe point.

Two kinds, both opt-in and only to a confirmed address: one when an episode of a followed show
airs, and a weekly digest. Every line comes from the viewer's schedule (`upcoming.schedule`, as
the calendar's do), so from `Viewing.decorate`, the one home of how a title or synopsis is shown:
an aired episode past their point is named by its code and counted ("3 aired episodes are
waiting for you"), never titled; up next and what is still to air follow their preferences.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from companion.models import Episode, Show

from .models import AiredMailRun, DigestMail, EpisodeMail
from .schedule import Airing, ShowSchedule, schedule_for

log = logging.getLogger(__name__)

# The preference each kind of mail is switched on by, and off by its unsubscribe link.
KINDS = {"aired": "email_when_episode_airs", "digest": "email_weekly_digest"}
UNSUBSCRIBE_SALT = "spoilerfree.unsubscribe"
WEEK = timedelta(days=7)


def unsubscribe_token(user: User, kind: str) -> str:
    # The link names the recipient by the username the mail greets them with, never by the
    # creation-ordered id, which would tell the holder how many accounts came before theirs.
    return signing.dumps(
        {"name": user.get_username(), "kind": kind}, salt=UNSUBSCRIBE_SALT, compress=True
    )


def unsubscribing(token: str) -> tuple[User, str] | None:
    """The viewer and the kind of mail an unsubscribe link was made for; links never expire."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    user = User.objects.filter(username=data.get("name")).first()
    if user is None or data.get("kind") not in KINDS:
        return None
    return user, data["kind"]


def stop(user: User, kind: str) -> None:
    setattr(user, KINDS[kind], False)
    user.save(update_fields=[KINDS[kind]])


def day(when: date) -> str:
    return f"{when:%A} {when.day} {when:%B}"


def waiting_lines(show: ShowSchedule) -> list[str]:
    """How many aired episodes wait past the point, and the one up next (as decorated)."""
    if not show.waiting:
        return []
    waits = "1 aired episode is" if show.waiting == 1 else f"{show.waiting} aired episodes are"
    lines = [f"{waits} waiting for you. Up next: {show.up_next_label}."]
    if show.up_next is not None and show.up_next.shown_synopsis:
        lines.append(f"    {one_line(show.up_next.shown_synopsis)}")
    return lines


def aired_lines(airings: list[Airing]) -> list[str]:
    """Aired episodes: by code alone past the viewer's point (counted, never named, like the
    calendar's), by their label where the viewer has watched them."""
    lines = []
    waiting = [airing for airing in airings if airing.waiting]
    if waiting:
        codes = ", ".join(airing.episode.short_label for airing in waiting)
        dates = {airing.air_date for airing in waiting}
        when = f" on {day(dates.pop())}" if len(dates) == 1 else ""
        lines.append(f"{codes} aired{when}.")
    for airing in airings:
        if not airing.waiting:
            lines.append(f"{airing.label}, aired {day(airing.air_date)}")
    return lines


def coming_lines(airings: list[Airing]) -> list[str]:
    lines = []
    for airing in airings:
        lines.append(f"{airing.label}, {day(airing.air_date)}")
        if airing.synopsis:
            lines.append(f"    {one_line(airing.synopsis)}")
    return lines


@dataclass
class ShowNews:
    """What one mail says of one show: lines written from the viewer's schedule."""

    show: Show
    lines: list[str]


def aired_news(show: ShowSchedule, aired: list[Airing]) -> ShowNews:
    return ShowNews(show.show, aired_lines(aired) + waiting_lines(show))


def digest_news(show: ShowSchedule) -> ShowNews | None:
    aired = [airing for airing in show.airings if airing.aired]
    coming = [airing for airing in show.airings if not airing.aired]
    lines = aired_lines(aired) + waiting_lines(show)
    if coming:
        lines += ["Coming up:", *(f"  {line}" for line in coming_lines(coming))]
    return ShowNews(show.show, lines) if lines else None


def site_url(path: str) -> str:
    return settings.SITE_URL + path


def one_line(text: str) -> str:
    # A show's title goes into the subject: a line break there is a header of its own.
    return " ".join(text.split())


def message(user: User, kind: str, subject: str, template: str, context: dict) -> EmailMessage:
    """A plain-text mail with a signed one-click unsubscribe link (RFC 8058) in body and headers."""
    unsubscribe = site_url(reverse("unsubscribe", args=[unsubscribe_token(user, kind)]))
    body = render_to_string(
        template,
        {
            **context,
            "user": user,
            "unsubscribe_url": unsubscribe,
            "preferences_url": site_url(reverse("preferences")),
        },
    )
    return EmailMessage(
        one_line(subject),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def aired_message(user: User, news: list[ShowNews], codes: str) -> EmailMessage:
    return message(user, "aired", f"Aired: {codes}", "upcoming/mail_aired.txt", {"shows": news})


def digest_message(user: User, news: list[ShowNews], *, today: date) -> EmailMessage:
    return message(
        user,
        "digest",
        f"Your shows this week, {today.day} {today:%B}",
        "upcoming/mail_digest.txt",
        {"shows": news},
    )


def recipients(kind: str):
    return User.objects.with_confirmed_email().filter(**{KINDS[kind]: True, "is_active": True})


def send_once(records: list, mail: EmailMessage) -> bool | None:
    """Note the mail as sent, then send it: if two runs meet, or one is retried, only the first
    to note it sends (False for the others). A mail that fails to go is un-noted (None), so the
    next run tries again."""
    try:
        with transaction.atomic():
            for record in records:
                record.save(force_insert=True)
    except IntegrityError:
        return False
    try:
        mail.send()
    except Exception:
        log.exception("Mail to viewer %s failed; the next run tries again", records[0].user_id)
        for record in records:
            record.delete()
        return None
    return True


def send_aired_mails(today: date) -> int:
    """Mail each subscriber the episodes of their shows that aired since the last run, before
    `today`; returns how many mails went."""
    last = AiredMailRun.objects.order_by("-day").values_list("day", flat=True).first()
    since = last if last is not None and last < today else today - timedelta(days=1)
    # A schedule stopped for weeks should not come back with a month of mail.
    since = max(since, today - WEEK)
    aired = Episode.objects.filter(air_date__gte=since, air_date__lt=today)
    shows = set(aired.values_list("show_id", flat=True))
    told = set(EpisodeMail.objects.filter(episode__in=aired).values_list("user_id", "episode_id"))
    sent = failed = 0
    for user in recipients("aired").filter(follows__show__in=shows).distinct():
        schedule = schedule_for(user, today=today, recent_days=(today - since).days, coming_days=0)
        news, records, codes = [], [], []
        for show in schedule.shows:
            new = [
                airing
                for airing in show.airings
                if airing.aired
                and airing.air_date >= since
                and (user.pk, airing.episode.pk) not in told
            ]
            if new:
                news.append(aired_news(show, new))
                records += [
                    EpisodeMail(user=user, episode=airing.episode.episode) for airing in new
                ]
                codes.append(f"{show.show.title} {' '.join(a.episode.short_label for a in new)}")
        if news:
            went = send_once(records, aired_message(user, news, ", ".join(codes)))
            sent += went is True
            failed += went is None
    # After a failure the same days are looked at again next time; what went is not sent twice.
    if not failed:
        AiredMailRun.objects.get_or_create(day=today)
    return sent


def send_weekly_digests(today: date) -> int:
    """Mail each subscriber their week: what aired in the seven days before `today`, what waits
    for them, and what airs in the seven days from it; once a week each."""
    week = today - timedelta(days=today.weekday())
    sent = 0
    for user in recipients("digest").exclude(digest_mails__week=week):
        schedule = schedule_for(user, today=today, recent_days=7, coming_days=6)
        news = [item for show in schedule.shows if (item := digest_news(show)) is not None]
        if news:
            went = send_once(
                [DigestMail(user=user, week=week)], digest_message(user, news, today=today)
            )
            sent += went is True
    return sent
