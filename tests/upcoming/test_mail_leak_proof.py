"""The leak proof, for mail: random shows and viewers, a month of daily runs of both mails.

No mail holds anything past the recipient's safe point, and two databases that differ only past
it (gated content, and the titles and synopses their preferences hide) send the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.models import Episode
from tests.test_leak_proof import (
    BETA,
    HYPOTHESIS,
    MARKER,
    build,
    past_the_safe_point,
    show_specs,
    sign_in,
    split_markers,
    viewers,
)
from tests.upcoming.conftest import TODAY
from upcoming.mail import send_aired_mails, send_weekly_digests
from upcoming.models import AiredMailRun, DigestMail, EpisodeMail

pytestmark = pytest.mark.slow

# Signed with the time: the same link made a second later reads differently.
UNSUBSCRIBE_TOKEN = re.compile(r"/mail/unsubscribe/[^/>\s]+/")


def air_one_a_day(episodes: list[Episode], before_today: int) -> None:
    """The first `before_today` episodes aired on the days before TODAY, the rest air from it."""
    for index, episode in enumerate(episodes):
        # update(): story order stays as built, whatever the dates would make of a special.
        Episode.objects.filter(pk=episode.pk).update(
            air_date=TODAY + timedelta(days=index - before_today)
        )


def every_mail(days: range) -> list[str]:
    """A daily run of each mail over these days (from TODAY), every message as one text."""
    django_mail.outbox = []
    EpisodeMail.objects.all().delete()
    DigestMail.objects.all().delete()
    AiredMailRun.objects.all().delete()
    for offset in days:
        send_aired_mails(TODAY + timedelta(days=offset))
        send_weekly_digests(TODAY + timedelta(days=offset))
    return [
        UNSUBSCRIBE_TOKEN.sub(
            "/mail/unsubscribe/TOKEN/",
            "\n".join(
                [
                    f"To: {message.to}",
                    f"Subject: {message.subject}",
                    *(f"{name}: {value}" for name, value in message.extra_headers.items()),
                    str(message.body),
                ]
            ),
        )
        for message in django_mail.outbox
    ]


@settings(HYPOTHESIS, max_examples=8)
@given(spec=show_specs(part_watched=True), viewer=viewers(), data=st.data())
def test_no_mail_holds_anything_past_the_safe_point(db, spec, viewer, data):
    viewer = replace(viewer, signed_in=True)
    with transaction.atomic():
        user, friend, _ = sign_in(viewer)
        user.email_when_episode_airs = user.email_weekly_digest = True
        user.save()
        user.confirm_email()
        drawn: dict = {}

        def hidden_content(spec, episodes):
            drawn.update(data.draw(past_the_safe_point(spec, True), label="extra"))
            return drawn

        episodes, added = build(spec, viewer, user=user, friend=friend, first=hidden_content)
        beta, _ = build(BETA, viewer, user=user, friend=friend)
        air_one_a_day(episodes, data.draw(st.integers(0, len(episodes)), label="aired"))
        air_one_a_day(beta, data.draw(st.integers(0, len(beta)), label="beta aired"))
        days = range(-len(episodes) - 2, 9)

        sent = every_mail(days)
        full = replace(spec, **{key: getattr(spec, key) + items for key, items in drawn.items()})
        spoilers = split_markers([full, BETA], viewer)[0]
        leaked = [sorted(set(MARKER.findall(text)) & spoilers) for text in sent]
        assert not any(leaked), f"spoilers mailed: {leaked}\n\n" + "\n\n".join(sent)
        assert sent, "no mail went out"

        # Take away everything past the point: the gated content, and the titles and synopses
        # the viewer's preferences hide. Not one byte of any mail may change.
        for content in added:
            content.delete()
        Episode.objects.filter(title__in=spoilers).update(title="")
        Episode.objects.filter(synopsis__in=spoilers).update(synopsis="")
        assert every_mail(days) == sent
        transaction.set_rollback(True)
