"""Watch parties: creating, joining by invite, leaving, and reading at the lowest member's point."""

import re

import pytest

from companion.models import Party
from tests.helpers import says


@pytest.fixture
def party(show, alice, bob):
    """alice (at 1x03) and bob (at the finale) watch together."""
    party = Party.objects.create(show=show, name="Friday crew", created_by=bob)
    party.members.add(alice, bob)
    return party


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
