"""Background jobs: searching TVmaze, importing a show, and keeping every imported show current.

In development and tests they run at once, in the request (django-tasks' immediate backend); in
production they are queued in the database for `manage.py db_worker`, and their state, return
value and any error's traceback are listed in the admin under Tasks (docs/DEPLOY.md).
"""

from __future__ import annotations

import logging

from django_tasks import task

from companion.models import Show

from . import images, importer
from .tvmaze import Client, TVmazeUnavailable

log = logging.getLogger(__name__)

# The editor's page asks for the answer every two seconds; a slow TVmaze gets a message soon.
SEARCH_TIMEOUT = 4.0


@task()
def import_show(tvmaze_id: int) -> str:
    """Import the TVmaze show, or refresh it; returns what changed, in words. Its images follow
    in a job of their own: the show is in the catalogue before the first of them arrives."""
    report = importer.import_show(tvmaze_id)
    log.info("%s", report)
    download_images.enqueue(report.show.pk)
    return str(report)


@task()
def download_images(show_pk: int) -> str:
    """Store the show's new and changed images (catalogue/images.py); returns how many, in words."""
    show = Show.objects.filter(pk=show_pk).first()
    if show is None:
        return f"No show {show_pk}: deleted before its images came."
    report = images.download_images(show)
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


@task()
def search_shows(query: str) -> dict:
    """TVmaze's matches for a title, as {"results": [...]}, or {"problem": why} when TVmaze
    cannot be reached, for the editor's search page to show."""
    try:
        with Client(timeout=SEARCH_TIMEOUT, retries=1) as client:
            return {"results": client.search_shows(query)}
    except TVmazeUnavailable as error:
        return {"problem": str(error)}
