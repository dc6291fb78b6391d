"""Background jobs of the history import (catalogue/tasks.py says where they run)."""

from __future__ import annotations

from django_tasks import task

from .models import HistoryImport


@task()
def apply_import(import_id: str) -> int:
    """Mark what a viewer confirmed; returns how many episodes were new."""
    return HistoryImport.objects.get(pk=import_id).run()
