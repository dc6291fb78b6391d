import pytest
from django.core.management import call_command

from catalogue.tasks import import_show, refresh_all_shows
from companion.models import Show
from tests.factories import make_show


@pytest.mark.django_db
def test_the_import_task_runs_at_once_in_development():
    result = import_show.enqueue(5)
    assert result.status == "SUCCESSFUL"
    assert result.return_value.startswith("True Detective: imported, 9 episodes added")


@pytest.mark.django_db
def test_the_refresh_refreshes_every_imported_show_and_no_other(recorded):
    import_show.enqueue(1)
    import_show.enqueue(5)
    make_show("saga")
    before = len(recorded.requests)
    assert sorted(refresh_all_shows.enqueue().return_value) == [1, 5]
    asked = recorded.paths()[before:]
    assert "/shows/1" in asked and "/shows/5" in asked
    assert Show.objects.count() == 3


@pytest.mark.django_db
def test_the_scheduled_command_queues_the_refresh(capsys):
    import_show.enqueue(1)
    call_command("refresh_catalogue")
    assert "Refresh queued" in capsys.readouterr().out
