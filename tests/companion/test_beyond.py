"""Watch parties, previously on, spoiler reports and the admin content import."""

import re

import pytest

from companion.models import CharacterState, Party, ReviewerNote, Show, SpoilerReport
from tests.factories import episode
from tests.helpers import FAM, says


@pytest.fixture
def party(show, alice, bob):
    """alice (at 1x03) and bob (at the finale) watch together."""
    party = Party.objects.create(show=show, name="Friday crew", created_by=bob)
    party.members.add(alice, bob)
    return party


# --- Watch parties ---


def test_creating_a_party_makes_me_its_first_member(alice_client, alice, show):
    response = alice_client.post("/shows/saga/parties/new/", {"name": "Movie club"})
    party = Party.objects.get(name="Movie club")
    assert response["Location"] == f"/parties/{party.pk}/"
    assert list(party.members.all()) == [alice]


def test_party_page_shows_only_what_is_safe_for_everyone(client, party, bob):
    client.force_login(bob)
    body = client.get(f"/parties/{party.pk}/").content.decode()
    assert "RECAP-saga-1x3" in body and "STATE-Ada-1x03" in body
    assert "RECAP-saga-1x4" not in body and "STATE-Ada-2x02" not in body and "Zed Quist" not in body


def test_party_page_says_who_is_behind_and_by_how_much(client, party, bob):
    client.force_login(bob)
    body = " ".join(client.get(f"/parties/{party.pk}/").content.decode().split())
    assert '<strong>alice</strong>: S1E3 <span class="muted">· 7 episodes behind</span>' in body
    assert "furthest along" in body


def test_a_member_who_has_not_started_hides_everything(client, party, bob, outsider):
    party.members.add(outsider)
    client.force_login(bob)
    body = client.get(f"/parties/{party.pk}/").content.decode()
    assert "RECAP-saga-1x1" not in body and "Nothing is safe for everyone yet" in body


def test_someone_elses_party_is_404(client, party, outsider):
    client.force_login(outsider)
    assert client.get(f"/parties/{party.pk}/").status_code == 404


def test_invite_link_joins_after_confirmation(client, party, outsider):
    client.force_login(outsider)
    page = client.get(f"/parties/join/{party.invite_token}/")
    assert "Join the party" in page.content.decode()
    assert not party.members.filter(pk=outsider.pk).exists()
    client.post(f"/parties/join/{party.invite_token}/confirm/")
    assert party.members.filter(pk=outsider.pk).exists()


def test_a_logged_out_friend_sees_the_party_and_a_way_in_but_no_progress(client, party):
    page = client.get(f"/parties/join/{party.invite_token}/").content.decode()
    assert party.name in page and party.show.title in page
    assert f"/accounts/signup/?next=/parties/join/{party.invite_token}/" in page
    for member in party.members.all():
        assert not says(page, member.username)
    assert not re.search(r"(?<![\w-])S\d+E\d+", page)


def test_signing_up_from_an_invite_comes_back_to_it(client, party):
    invite = f"/parties/join/{party.invite_token}/"
    response = client.post(
        f"/accounts/signup/?next={invite}",
        {
            "username": "newfriend",
            "email": "newfriend@example.com",
            "password1": "a-long-enough-pass-phrase",
            "password2": "a-long-enough-pass-phrase",
            "next": invite,
        },
    )
    assert response.url == invite
    client.post(f"{invite}confirm/")
    assert party.members.filter(username="newfriend").exists()


def test_forged_invite_token_is_404(client, party, outsider):
    client.force_login(outsider)
    assert client.post("/parties/join/not-a-real-token/confirm/").status_code == 404
    assert not party.members.filter(pk=outsider.pk).exists()


def test_leaving_the_party(alice_client, party, alice):
    alice_client.post(f"/parties/{party.pk}/leave/")
    assert not party.members.filter(pk=alice.pk).exists()


# --- Previously on ---


def test_previously_on_recaps_the_last_episodes_and_who_changed(alice_client):
    body = alice_client.get("/shows/saga/previously/").content.decode()
    assert "RECAP-saga-1x1" in body and "RECAP-saga-1x2" in body and "RECAP-saga-1x3" in body
    # Each change takes one line (who, status, where); its description stays on the episode page.
    assert "PLACE-Ada-1x03" in body and "NOTE-saga-1x3" in body
    assert "Before you start" in body and "S1E4" in body
    assert "RECAP-saga-1x4" not in body and "NOTE-saga-1x4" not in body and "Zed Quist" not in body


def test_previously_on_respects_hidden_titles(alice_client, alice):
    alice.hide_unwatched_titles = True
    alice.save()
    assert "TITLE-saga-1x4" not in alice_client.get("/shows/saga/previously/").content.decode()


def test_previously_on_with_nothing_watched(client, show, outsider):
    client.force_login(outsider)
    body = client.get("/shows/saga/previously/").content.decode()
    assert "Nothing to catch up on yet" in body and "RECAP" not in body


# --- Spoiler reports ---


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


# --- Content import in the admin ---


def test_editor_imports_a_show_in_the_admin(client, editor):
    client.force_login(editor)
    with open(FAM, "rb") as upload:
        response = client.post("/admin/companion/show/import/", {"file": upload})
    assert response.status_code == 302
    assert Show.objects.get(slug="for-all-mankind").episodes.count() == 40


def test_a_bad_file_in_the_admin_lists_problems_and_changes_nothing(client, editor, tmp_path):
    client.force_login(editor)
    bad = tmp_path / "bad.yaml"
    bad.write_text("show:\n  title: Bad\nseasons:\n  - number: one\n")
    with open(bad, "rb") as upload:
        response = client.post("/admin/companion/show/import/", {"file": upload})
    assert "seasons[0].number (line 4): must be a whole number" in response.content.decode()
    assert not Show.objects.filter(title="Bad").exists()


def test_viewers_cannot_import(alice_client, tmp_path):
    response = alice_client.get("/admin/companion/show/import/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


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
