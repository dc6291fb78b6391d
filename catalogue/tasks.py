"""Background jobs: importing a show from TVmaze, and keeping every imported show current.

In development and tests they run at once, in the request (django-tasks' immediate backend); in
production they are queued in the database for `manage.py db_worker`, and their state, return
value and any error's traceback are listed in the admin under Tasks (docs/DEPLOY.md).
"""

from __future__ import annotations

import logging

from django_tasks import task

from companion.models import Show

from . import importer

log = logging.getLogger(__name__)


@task()
def import_show(tvmaze_id: int) -> str:
    """Import the TVmaze show, or refresh it; returns what changed, in words."""
    report = importer.import_show(tvmaze_id)
    log.info("%s", report)
    return str(report)


@task()
def refresh_all_shows() -> list[int]:
    """Queue a refresh of every show imported from TVmaze: one task each, so one failing show
    (TVmaze down for it, an edit its new order would break) leaves the others to finish."""
    ids = [i for i in Show.objects.values_list("tvmaze_id", flat=True) if i is not None]
    for tvmaze_id in ids:
        import_show.enqueue(tvmaze_id)
    return ids
