"""An editor who edits imported text has reviewed it: the nightly refresh leaves it alone."""

import pytest

from catalogue.importer import import_show
from tests.catalogue.conftest import load
from tests.companion.test_admin import form_data
from tests.factories import episode


@pytest.fixture
def dome(db):
    return import_show(1).show


def edit(client, url: str, **changes):
    data = form_data(client.get(url)) | changes
    answer = client.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors


def test_an_edited_synopsis_is_reviewed_and_kept_by_the_refresh(client, editor, dome, recorded):
    client.force_login(editor)
    pilot = episode(dome, "1x1")
    edit(client, f"/admin/companion/episode/{pilot.pk}/change/", synopsis="A town, a dome.")
    pilot.refresh_from_db()
    assert pilot.reviewed
    episodes = load("shows-1-episodes.json")
    episodes[0]["summary"] = "<p>TVmaze's new words.</p>"
    episodes[1]["summary"] = "<p>TVmaze's new words for 1x2.</p>"
    recorded.extra = {"/shows/1/episodes": episodes}
    import_show(1)
    assert episode(dome, "1x1").synopsis == "A town, a dome."
    assert episode(dome, "1x2").synopsis == "TVmaze's new words for 1x2."


def test_editing_what_is_not_text_leaves_it_unreviewed(client, editor, dome):
    client.force_login(editor)
    pilot = episode(dome, "1x1")
    edit(client, f"/admin/companion/episode/{pilot.pk}/change/", air_date="2013-06-25")
    pilot.refresh_from_db()
    assert not pilot.reviewed


def test_an_edited_character_is_reviewed(client, editor, dome):
    client.force_login(editor)
    julia = dome.characters.get(name="Julia Shumway")
    edit(client, f"/admin/companion/character/{julia.pk}/change/", aliases="Julia")
    julia.refresh_from_db()
    assert not julia.reviewed
    edit(client, f"/admin/companion/character/{julia.pk}/change/", actor="R. Lefevre")
    julia.refresh_from_db()
    assert julia.reviewed
