"""Personal webhook URLs for media servers, and what each event they sent did.

A URL carries a secret token; we keep only its SHA-256, as with API tokens, so the URL is shown
once and replaced when lost. Events keep episode codes and show titles only, never an episode's
title: the server names episodes the viewer may not have reached here.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from api.models import new_secret, secret_hash
from companion.models import Episode, Show, Watch
from history.matching import find_episode_by_ids, find_show

from .payloads import Finished, Reading

TOKEN_PREFIX = "sfm_"
# A server retries a delivery it thinks failed within seconds or minutes; the same body an hour
# later is a new event (watched again after unmarking it here).
DUPLICATE_WINDOW = timedelta(hours=1)
EVENTS_KEPT = 20


class MediaServer(models.TextChoices):
    JELLYFIN = "jellyfin", "Jellyfin"
    PLEX = "plex", "Plex"
    EMBY = "emby", "Emby"


class MediaServerHookQuerySet(models.QuerySet["MediaServerHook"]):
    @transaction.atomic
    def issue(self, *, user, server: str) -> tuple[MediaServerHook, str]:
        """A new URL token for this server, replacing any earlier one; the raw value is not stored."""
        raw, token_hash = new_secret(TOKEN_PREFIX)
        self.filter(user=user, server=server).delete()
        return self.create(user=user, server=server, token_hash=token_hash), raw

    def find(self, *, server: str, raw: str) -> MediaServerHook | None:
        """The live hook of this server with this token, or None for anything else."""
        token_hash = secret_hash(raw, TOKEN_PREFIX)
        if token_hash is None:
            return None
        return (
            self.filter(server=server, token_hash=token_hash, user__is_active=True)
            .select_related("user")
            .first()
        )


class MediaServerHook(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media_server_hooks"
    )
    server = models.CharField(max_length=10, choices=MediaServer.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_event_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MediaServerHookQuerySet.as_manager()

    class Meta:
        ordering = ["server"]
        constraints = [
            models.UniqueConstraint(fields=["user", "server"], name="one_hook_per_server")
        ]

    def __str__(self) -> str:
        return f"{self.user}'s {self.get_server_display()} webhook"


def find_episode(finished: Finished) -> tuple[Episode | None, Show | None, str]:
    """The episode by its own ids, else the show by its ids or title and the episode by number."""
    episode = find_episode_by_ids(finished.episode_ids)
    if episode is not None:
        return episode, episode.show, ""
    show, reason = find_show(finished.series_title, year=finished.year, ids=finished.series_ids)
    if show is None:
        return None, None, reason
    episode = show.episode_at(finished.season, finished.number)
    if episode is None:
        return None, show, "no such episode here"
    return episode, show, ""


class MediaServerEventQuerySet(models.QuerySet["MediaServerEvent"]):
    def record(
        self: MediaServerEventQuerySet, *, hook: MediaServerHook, reading: Reading, digest: str
    ) -> MediaServerEvent | None:
        """Act on one delivery and log it; None when the same delivery came within the hour."""
        user, now = hook.user, timezone.now()
        if reading.quiet:
            # Nothing to do and nothing worth a row: only "last event" moves.
            MediaServerHook.objects.filter(pk=hook.pk).update(last_event_at=now)
            return MediaServerEvent(
                user=user,
                server=hook.server,
                received_at=now,
                event=reading.event[:50],
                reason=reading.ignored,
                outcome=MediaServerEvent.Outcome.IGNORED,
            )
        with transaction.atomic():
            # One delivery at a time per hook, so a retry racing the original is seen as one.
            MediaServerHook.objects.select_for_update().filter(pk=hook.pk).first()
            seen = self.filter(
                user=user,
                server=hook.server,
                digest=digest,
                received_at__gte=now - DUPLICATE_WINDOW,
            )
            if seen.exists():
                return None
            event = MediaServerEvent(
                user=user,
                server=hook.server,
                received_at=now,
                event=reading.event[:50],
                digest=digest,
                reason=reading.ignored,
                outcome=MediaServerEvent.Outcome.IGNORED,
            )
            if (finished := reading.finished) is not None:
                event.outcome = MediaServerEvent.Outcome.QUEUED
                event.series_title = finished.series_title[:200]
                event.season, event.number = finished.season, finished.number
            event.save()
            MediaServerHook.objects.filter(pk=hook.pk).update(last_event_at=now)
            # Only the latest are listed, those that changed nothing apart from the rest, so that
            # no flood of them can push a mark out; older ones are not kept.
            mine = self.filter(user=user)
            same = mine.ignored() if event.outcome == event.Outcome.IGNORED else mine.received()
            old = same.order_by("-received_at", "-pk")[EVENTS_KEPT:]
            self.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
            if finished is not None:
                # Matching and marking are the job's, so the server's request ends at once; queued
                # in this transaction, so an event is never left without its job.
                from .tasks import mark_finished

                if mark_finished.enqueue(event.pk, finished.as_json()).is_finished:
                    event.refresh_from_db()  # the immediate backend has marked it already
        return event

    def received(self) -> MediaServerEventQuerySet:
        """Episodes the server reported, matched or not."""
        return self.exclude(outcome=MediaServerEvent.Outcome.IGNORED)

    def ignored(self) -> MediaServerEventQuerySet:
        """Deliveries that changed nothing: pauses, partial plays, movies, tests."""
        return self.filter(outcome=MediaServerEvent.Outcome.IGNORED)


class MediaServerEvent(models.Model):
    """One delivery from a media server, and what it did; episodes by code, never by title."""

    class Outcome(models.TextChoices):
        MARKED = "marked", "marked"
        ALREADY = "already", "already watched"
        NOT_MATCHED = "not_matched", "not matched"
        QUEUED = "queued", "to be matched"
        IGNORED = "ignored", "ignored"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media_server_events"
    )
    server = models.CharField(max_length=10, choices=MediaServer.choices)
    received_at = models.DateTimeField(default=timezone.now)
    event = models.CharField(max_length=50, blank=True, help_text="The server's name for it.")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    show = models.ForeignKey(Show, on_delete=models.SET_NULL, null=True, blank=True)
    # The show as the server named it, for an event that matched none of ours.
    series_title = models.CharField(max_length=200, blank=True)
    season = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    # SHA-256 of what the server sent, to recognise a delivery sent again.
    digest = models.CharField(max_length=64, editable=False)

    objects = MediaServerEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["user", "digest"], name="media_event_digest")]

    def __str__(self) -> str:
        return f"{self.get_server_display()} {self.event}: {self.summary}"

    def mark(self, finished: Finished) -> None:
        """Match the finished episode here and mark it watched; what happened is saved."""
        episode, show, reason = find_episode(finished)
        self.show = show
        if episode is None:
            self.outcome, self.reason = MediaServerEvent.Outcome.NOT_MATCHED, reason
        else:
            self.season, self.number = episode.season_number, episode.number
            if Watch.objects.filter(user=self.user, episode=episode).exists():
                self.outcome = MediaServerEvent.Outcome.ALREADY
            else:
                Watch.objects.mark_watched(user=self.user, episode=episode)
                self.outcome = MediaServerEvent.Outcome.MARKED
        self.save(update_fields=["show", "season", "number", "outcome", "reason"])

    @property
    def summary(self) -> str:
        """ "marked Saga S1E4", "not matched: Severance S1E1", "ignored: not finished"."""
        code = f"S{self.season}E{self.number}"
        if self.outcome == self.Outcome.IGNORED:
            return f"ignored: {self.reason}"
        if self.outcome == self.Outcome.NOT_MATCHED:
            title = self.show.title if self.show else self.series_title or "an unnamed show"
            return f"not matched: {title} {code}" + (f" ({self.reason})" if self.reason else "")
        title = self.show.title if self.show else self.series_title
        return f"{self.get_outcome_display()} {title} {code}"
