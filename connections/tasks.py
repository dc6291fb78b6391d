"""Marking what a media server reported, apart from the webhook's request (catalogue/tasks.py
says where jobs run)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from .models import MediaServerEvent
from .payloads import Finished


@task()
def mark_finished(event_id: int, finished: dict) -> str:
    """Match a finished episode and mark it; returns what the event now says."""
    with transaction.atomic():
        event = (
            MediaServerEvent.objects.select_for_update()
            .filter(pk=event_id, outcome=MediaServerEvent.Outcome.QUEUED)
            .first()
        )
        if event is None:  # already done, or gone with its account or as an old event
            return "nothing to do"
        event.mark(Finished.from_json(finished))
        return event.summary
