"""Viewers' flags on content that spoiled something at their point."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .catalogue import Episode
from .gated import CharacterState, Recap, ReviewerNote
from .rule import SafePoint


class SpoilerReport(models.Model):
    """A viewer's flag that some content spoiled something at their point."""

    class Kind(models.TextChoices):
        RECAP = "recap", "Recap"
        NOTE = "note", "Reviewer note"
        STATE = "state", "Character state"

    MODELS: dict[str, type[Recap] | type[ReviewerNote] | type[CharacterState]] = {
        Kind.RECAP: Recap,
        Kind.NOTE: ReviewerNote,
        Kind.STATE: CharacterState,
    }

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spoiler_reports"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    recap = models.ForeignKey(
        Recap, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    note = models.ForeignKey(
        ReviewerNote, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    state = models.ForeignKey(
        CharacterState, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reporter_safe_point = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["resolved", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="recap", recap__isnull=False, note__isnull=True, state__isnull=True)
                    | Q(kind="note", note__isnull=False, recap__isnull=True, state__isnull=True)
                    | Q(kind="state", state__isnull=False, recap__isnull=True, note__isnull=True)
                ),
                name="report_points_at_its_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reported by {self.reporter} at {self.reporter_safe_point.code}"

    @property
    def content(self):
        return getattr(self, self.kind)

    @transaction.atomic
    def move_reveal_after_reporter(self) -> Episode | None:
        """Push the content's reveal point to just after the reporter's point; returns the new point.

        Raises ValidationError, with nothing changed, when the move clashes with other content
        (a character's state already set at that episode)."""
        content = self.content
        after = (
            Episode.objects.filter(show_id=self.reporter_safe_point.show_id)
            .after(SafePoint(self.reporter_safe_point))
            .first()
        )
        if after is None:
            return None
        if content.reveal_at.sequence < after.sequence:
            content.reveal_at = after
            content.full_clean()
            content.save()
        SpoilerReport.objects.filter(kind=self.kind, **{self.kind: content}).update(resolved=True)
        return content.reveal_at
