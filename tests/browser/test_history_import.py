"""A confirmed history import: the status page follows the job in place until it has run."""

import pytest
from playwright.sync_api import expect

from history.models import HistoryImport
from history.tasks import apply_import
from tests.helpers import log_in, no_reload_marker, still_same_page
from tests.history.test_history import trakt

pytestmark = pytest.mark.browser


def test_the_status_page_shows_the_result_once_the_worker_has_run(
    new_context, alice, show, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page = new_context().new_page()
    log_in(page, "alice")
    page.goto("/history/")
    page.get_by_label("Your TV Time or Trakt export").set_input_files(
        files=[
            {
                "name": "watched-shows.json",
                "mimeType": "application/json",
                "buffer": trakt(("Saga", 1, [4, 5])).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Preview import").click()
    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("2 episodes to mark: waiting to start")).to_be_visible()
    no_reload_marker(page)

    apply_import.call(str(HistoryImport.objects.get().pk))  # what the worker does
    expect(page.get_by_text("Imported: 2 episodes marked watched.")).to_be_visible()
    assert still_same_page(page)
