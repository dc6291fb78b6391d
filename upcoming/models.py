"""A viewer's personal calendar feed URL.

As with webhook URLs (connections/) and API tokens, the URL carries a secret of which we keep only
the SHA-256: it is shown once, and replacing or revoking it stops the old one at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from api.models import new_secret, secret_hash
from companion.models import Episode

TOKEN_PREFIX = "sfc_"


class CalendarFeedQuerySet(models.QuerySet["CalendarFeed"]):
    @transaction.atomic
    def issue(self, *, user) -> tuple[CalendarFeed, str]:
        """A new feed URL token for the viewer, replacing any earlier one; the raw value is not stored."""
        raw, token_hash = new_secret(TOKEN_PREFIX)
        self.filter(user=user).delete()
        return self.create(user=user, token_hash=token_hash), raw

    def find(self, raw: str) -> CalendarFeed | None:
        """The live feed with this token, or None for anything else (a revoked one included)."""
        token_hash = secret_hash(raw, TOKEN_PREFIX)
        if token_hash is None:
            return None
        return (
            self.filter(token_hash=token_hash, user__is_active=True).select_related("user").first()
        )


class CalendarFeed(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CalendarFeedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user}'s calendar feed"


class EpisodeMail(models.Model):
    """An aired episode a viewer has been mailed about: each is told once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="episode_mails"
    )
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "episode"], name="one_mail_per_episode")
        ]

    def __str__(self) -> str:
        return f"{self.user} told of {self.episode}"


class DigestMail(models.Model):
    """A weekly digest sent: one a week each."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_mails"
    )
    # The Monday of the week it was sent in.
    week = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="one_digest_a_week")]

    def __str__(self) -> str:
        return f"Digest for {self.user}, week of {self.week}"


class AiredMailRun(models.Model):
    """A day the aired-episode mail ran for: the next run takes episodes aired from there on."""

    day = models.DateField(unique=True)

    def __str__(self) -> str:
        return f"Aired-episode mail for {self.day}"
