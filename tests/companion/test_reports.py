"""Spoiler reports: a viewer reports what they can see; an editor moves it later."""

from companion.models import CharacterState, ReviewerNote, SpoilerReport
from tests.factories import episode


def test_viewer_reports_a_note_they_can_see(alice_client, alice, show):
    note = ReviewerNote.objects.get(text="NOTE-saga-1x2")
    page = alice_client.get(f"/shows/saga/report/note/{note.public_id}/")
    assert "NOTE-saga-1x2" in page.content.decode()
    alice_client.post(f"/shows/saga/report/note/{note.public_id}/", {"message": "It spoils 1x4"})
    report = SpoilerReport.objects.get()
    assert (
        report.note == note
        and report.reporter == alice
        and report.reporter_safe_point == episode(show, "1x3")
    )


def test_content_past_my_point_cannot_be_reported_or_peeked_at(alice_client, show):
    hidden = ReviewerNote.objects.get(text="NOTE-saga-2x1")
    response = alice_client.get(f"/shows/saga/report/note/{hidden.public_id}/")
    assert response.status_code == 404 and "NOTE-saga-2x1" not in response.content.decode()
    assert alice_client.post(f"/shows/saga/report/note/{hidden.public_id}/").status_code == 404
    assert alice_client.get("/shows/saga/report/banana/1/").status_code == 404
    assert alice_client.get("/shows/saga/report/state/999999/").status_code == 404
    assert not SpoilerReport.objects.exists()


def test_editor_moves_a_reported_state_later_in_one_click(client, alice_client, editor, show):
    state = CharacterState.objects.get(description="STATE-Ada-1x03")
    alice_client.post(f"/shows/saga/report/state/{state.public_id}/", {"message": "too early"})
    report = SpoilerReport.objects.get()
    client.force_login(editor)
    listing = client.get("/admin/companion/spoilerreport/").content.decode()
    assert "STATE-Ada-1x03" in listing and "1x3" in listing
    client.post(
        "/admin/companion/spoilerreport/",
        {"action": "move_reveal_later", "_selected_action": [report.pk]},
    )
    state.refresh_from_db()
    report.refresh_from_db()
    assert state.reveal_at == episode(show, "1x4") and report.resolved
    assert "STATE-Ada-1x03" not in alice_client.get("/shows/saga/cast/").content.decode()


def test_recaps_can_be_reported_from_the_episode_page(alice_client, alice, show):
    from companion.models import Recap

    recap = Recap.objects.get(text="RECAP-saga-1x3")
    assert (
        f'href="/shows/saga/report/recap/{recap.public_id}/"'
        in alice_client.get("/shows/saga/s1/e3/").content.decode()
    )
    alice_client.post(
        f"/shows/saga/report/recap/{recap.public_id}/", {"message": "names the culprit"}
    )
    assert SpoilerReport.objects.get().recap == recap
