"""A confirmed history import, applied by a background job while the viewer watches its status."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from . import matching
from .parsers import HistoryError


class HistoryImportQuerySet(models.QuerySet["HistoryImport"]):
    def queue(self, *, user, watches: dict[int, datetime | None]) -> HistoryImport:
        """Store what the viewer confirmed, for `tasks.apply_import` to mark."""
        return self.create(
            user=user,
            episodes=len(watches),
            watches=[[pk, matching.to_micros(when)] for pk, when in watches.items()],
        )


class HistoryImport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "waiting to start"
        RUNNING = "running", "importing"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    # Random, so a status URL names one import and says nothing about how many there were.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="history_imports"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    episodes = models.PositiveIntegerField(help_text="How many episodes the viewer confirmed.")
    # [[episode id, microseconds since EPOCH or null], ...]; emptied once the import has run.
    watches = models.JSONField(default=list, blank=True, editable=False)
    added = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    objects = HistoryImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user}'s import of {self.episodes} episodes ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def confirmed(self) -> dict[int, datetime | None]:
        return {int(pk): matching.from_micros(micros) for pk, micros in self.watches}

    def run(self) -> int:
        """Mark the confirmed episodes; a failure is recorded for the viewer, in their words."""
        self._save_status(self.Status.RUNNING)
        try:
            self.added = matching.apply(self.confirmed(), user=self.user)
        except HistoryError as error:
            self.error = str(error)[:200]
            self._save_status(self.Status.FAILED)
            return 0
        except Exception:
            self.error = "The import failed, so nothing was imported. Try again later."
            self._save_status(self.Status.FAILED)
            raise  # for the task's traceback in the admin
        self._save_status(self.Status.DONE)
        return self.added

    def _save_status(self, status: str) -> None:
        self.status = status
        fields = ["status"]
        if self.is_finished:
            self.finished_at, self.watches = timezone.now(), []
            fields += ["finished_at", "watches", "added", "error"]
        self.save(update_fields=fields)
