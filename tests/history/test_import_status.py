"""A confirmed import is queued and marked by a job; its status page follows it to the end."""

import pytest
from django.urls import reverse

from history.models import HistoryImport
from history.tasks import apply_import
from tests.history.test_history import token_in, trakt, upload, watched

HTMX = {"HTTP_HX_REQUEST": "true"}


def confirm(client, show_title="Saga", season=1, numbers=(4, 5)):
    response = upload(client, trakt((show_title, season, list(numbers))))
    return client.post(reverse("history-confirm"), {"token": token_in(response)})


def test_confirming_queues_the_import_and_marks_nothing_in_the_request(
    alice_client, alice, queued_tasks
):
    response = confirm(alice_client)
    job = alice.history_imports.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("history-import-status", args=[job.pk])
    assert watched(alice) == [1001, 1002, 1003]
    [result] = queued_tasks.results
    assert result.task.name == "apply_import" and result.args == [str(job.pk)]

    page = alice_client.get(response["Location"]).content.decode()
    assert "2 episodes to mark: waiting to start" in page
    assert f'hx-get="{response["Location"]}" hx-trigger="every 2s"' in page


def test_the_status_fragment_reports_the_result_once_the_job_has_run(
    alice_client, alice, queued_tasks
):
    url = confirm(alice_client)["Location"]
    apply_import.call(*queued_tasks.results[0].args)
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert "<html" not in fragment and "hx-trigger" not in fragment
    assert "Imported: 2 episodes marked watched." in fragment
    assert watched(alice) == [1001, 1002, 1003, 1004, 1005]
    job = alice.history_imports.get()
    # What was confirmed is not kept once it is marked.
    assert job.status == HistoryImport.Status.DONE and job.watches == [] and job.added == 2


def test_with_the_immediate_backend_the_status_page_is_already_final(alice_client, alice):
    response = alice_client.get(confirm(alice_client)["Location"])
    assert "Imported: 2 episodes marked watched." in response.content.decode()


def test_another_viewers_import_status_is_a_404(alice_client, alice, client, outsider, show):
    url = confirm(alice_client)["Location"]
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(url, **HTMX).status_code == 404


def test_a_job_that_breaks_says_so_and_changes_nothing(
    alice_client, alice, queued_tasks, monkeypatch
):
    url = confirm(alice_client)["Location"]

    def broken(watches, *, user):
        raise RuntimeError("database went away")

    monkeypatch.setattr("history.matching.apply", broken)
    with pytest.raises(RuntimeError):
        apply_import.call(*queued_tasks.results[0].args)
    page = alice_client.get(url).content.decode()
    assert "The import failed, so nothing was imported." in page
    assert "database went away" not in page
    assert watched(alice) == [1001, 1002, 1003]


def test_the_status_page_needs_a_login(client, alice_client, alice):
    url = confirm(alice_client)["Location"]
    client.logout()
    assert client.get(url).status_code == 302
