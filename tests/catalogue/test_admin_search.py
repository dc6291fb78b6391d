import html
import re

import httpx
import pytest
from django.core.management import call_command
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from catalogue import tvmaze
from companion.models import Show
from tests.catalogue.conftest import load
from tests.factories import make_user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_an_editor_finds_a_show_by_title(editor_client, recorded):
    page = editor_client.get("/admin/catalogue/tvmaze/", {"q": "true detective"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "True Detective" in text and "HBO" in text and "2014-01-12" in text
    assert 'name="tvmaze_id" value="5"' in text
    assert [r.url.path for r in recorded.requests] == ["/search/shows"]


def test_the_search_answers_from_its_cache_the_second_time(editor_client, recorded):
    editor_client.get("/admin/catalogue/tvmaze/", {"q": "true detective"})
    editor_client.get("/admin/catalogue/tvmaze/", {"q": "True Detective"})
    assert len(recorded.requests) == 1


def test_the_search_page_alone_calls_nobody(editor_client, recorded):
    assert editor_client.get("/admin/catalogue/tvmaze/").status_code == 200
    assert recorded.requests == []


def test_tvmaze_unreachable_says_so_on_the_page(editor_client, monkeypatch):
    def down(request):
        raise httpx.ConnectError("Temporary failure in name resolution", request=request)

    monkeypatch.setattr(tvmaze, "TRANSPORT", httpx.MockTransport(down))
    page = editor_client.get("/admin/catalogue/tvmaze/", {"q": "Severance"})
    assert page.status_code == 200
    assert "TVmaze could not be reached" in page.content.decode()


def test_import_brings_the_show_in_and_opens_it_for_review(editor_client):
    answer = editor_client.post("/admin/catalogue/tvmaze/import/", {"tvmaze_id": 1})
    show = Show.objects.get(tvmaze_id=1)
    assert answer.status_code == 302
    assert answer.url == f"/admin/companion/show/{show.pk}/change/"
    followed = editor_client.get(answer.url).content.decode()
    assert "Under the Dome: imported, 13 episodes added" in followed


def test_a_show_here_already_is_offered_a_refresh(editor_client):
    editor_client.post("/admin/catalogue/tvmaze/import/", {"tvmaze_id": 1})
    text = editor_client.get("/admin/catalogue/tvmaze/", {"q": "under the dome"}).content.decode()
    assert 'value="Refresh"' in text and "Here already" in text


def test_an_import_tvmaze_cannot_serve_changes_nothing_and_says_why(editor_client, monkeypatch):
    monkeypatch.setattr(
        tvmaze, "TRANSPORT", httpx.MockTransport(lambda request: httpx.Response(503))
    )
    answer = editor_client.post("/admin/catalogue/tvmaze/import/", {"tvmaze_id": 1}, follow=True)
    assert not Show.objects.exists()
    assert "Nothing was imported: TVmaze could not be reached" in answer.content.decode()


def test_a_show_tvmaze_does_not_have(editor_client):
    answer = editor_client.post(
        "/admin/catalogue/tvmaze/import/", {"tvmaze_id": 424242}, follow=True
    )
    assert "Nothing was imported: TVmaze has no such show." in answer.content.decode()


def test_a_viewer_cannot_search_or_import(client, db, recorded):
    client.force_login(make_user("viewer"))
    assert client.get("/admin/catalogue/tvmaze/", {"q": "x"}).status_code == 302
    assert client.post("/admin/catalogue/tvmaze/import/", {"tvmaze_id": 1}).status_code == 302
    assert recorded.requests == []
    assert not Show.objects.exists()


def test_staff_without_the_show_permissions_is_refused(client, db, recorded):
    client.force_login(make_user("intern", is_staff=True))
    assert client.get("/admin/catalogue/tvmaze/", {"q": "x"}).status_code == 403
    assert client.post("/admin/catalogue/tvmaze/import/", {"tvmaze_id": 1}).status_code == 403
    assert recorded.requests == []


def test_an_imported_show_has_a_refresh_button_on_its_page(editor_client):
    answer = editor_client.post("/admin/catalogue/tvmaze/import/", {"tvmaze_id": 5})
    page = editor_client.get(answer.url).content.decode()
    assert 'action="/admin/catalogue/tvmaze/import/"' in page
    assert 'name="tvmaze_id" value="5"' in page


def test_a_show_that_cannot_be_imported_says_why(editor_client, recorded):
    episodes = [item | {"season": 2013} for item in load("shows-1-episodes.json")]
    recorded.extra = {"/shows/1/episodes": episodes}
    answer = editor_client.post("/admin/catalogue/tvmaze/import/", {"tvmaze_id": 1}, follow=True)
    text = answer.content.decode()
    assert "Nothing was imported: TVmaze numbers Under the Dome" in text
    assert "[" not in text.split("Nothing was imported:")[1].split("</li>")[0]


# --- The search as a job, as in production --------------------------------------------------------


@pytest.fixture
def database_tasks(settings, monkeypatch):
    """Tasks queued in the database, as in production; run_worker() runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # The worker drops its connection between tasks; a test's is inside its transaction.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def refresh_url(page) -> str:
    found = re.search(r'<meta http-equiv="refresh" content="2;url=([^"]+)">', page)
    assert found is not None, "the page does not ask again"
    return "/admin/catalogue/tvmaze/" + html.unescape(found[1])


def test_the_search_page_asks_tvmaze_only_through_its_job(editor_client, recorded, database_tasks):
    page = editor_client.get("/admin/catalogue/tvmaze/", {"q": "true detective"}).content.decode()
    assert "Searching TVmaze for “true detective”" in page
    assert recorded.requests == []
    again = refresh_url(page)
    # Asking again before the worker has run queues nothing more.
    assert refresh_url(editor_client.get(again).content.decode()) == again
    assert DBTaskResult.objects.count() == 1

    run_worker()
    text = editor_client.get(again).content.decode()
    assert "True Detective" in text and 'name="tvmaze_id" value="5"' in text
    assert "http-equiv" not in text
    assert [r.url.path for r in recorded.requests] == ["/search/shows"]
    # Searched again, the cached answer is shown at once and no job is queued.
    editor_client.get("/admin/catalogue/tvmaze/", {"q": "True Detective"})
    assert DBTaskResult.objects.count() == 1


def test_tvmaze_unreachable_from_the_job_says_so_on_the_page(
    editor_client, monkeypatch, database_tasks
):
    def down(request):
        raise httpx.ConnectError("Temporary failure in name resolution", request=request)

    monkeypatch.setattr(tvmaze, "TRANSPORT", httpx.MockTransport(down))
    page = editor_client.get("/admin/catalogue/tvmaze/", {"q": "Severance"}).content.decode()
    run_worker()
    text = editor_client.get(refresh_url(page)).content.decode()
    assert "TVmaze could not be reached" in text and "http-equiv" not in text
    # Nothing is cached from a failure: the next search asks TVmaze again.
    editor_client.get("/admin/catalogue/tvmaze/", {"q": "Severance"})
    assert DBTaskResult.objects.count() == 2


def test_a_job_of_another_search_is_not_taken_for_this_one(editor_client, database_tasks):
    page = editor_client.get("/admin/catalogue/tvmaze/", {"q": "under the dome"}).content.decode()
    run_worker()
    job = refresh_url(page).split("job=")[1]
    text = editor_client.get(
        "/admin/catalogue/tvmaze/", {"q": "true detective", "job": job}
    ).content.decode()
    assert "Under the Dome" not in text and "Searching TVmaze for “true detective”" in text


def test_search_jobs_are_listed_in_the_admin(editor_client, admin_client, database_tasks):
    editor_client.get("/admin/catalogue/tvmaze/", {"q": "true detective"})
    run_worker()
    listing = admin_client.get("/admin/django_tasks_database/dbtaskresult/").content.decode()
    assert "search_shows" in listing
