"""Gated fragments are cached per (show, content version, safe point) and shared between viewers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from companion.models import CharacterState, Recap, ReviewerNote
from tests.factories import episode, make_user, watch


@pytest.fixture
def carol(show):
    """A second viewer at alice's point, 1x03."""
    user = make_user("carol")
    watch(user, show, "1x01", "1x02", "1x03")
    return user


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        body = client.get(url).content.decode()
    return len(captured), body


@pytest.mark.parametrize(
    "url",
    ["/shows/saga/story/", "/shows/saga/cast/", "/shows/saga/cast/ada/", "/shows/saga/s1/e2/"],
)
def test_viewers_at_the_same_point_share_the_rendered_fragment(client, alice, carol, url):
    client.force_login(alice)
    cold, first = queries_for(client, url)
    client.force_login(carol)
    warm, second = queries_for(client, url)
    assert warm < cold
    assert "alice" not in second.lower() or "alice" in first.lower()


def test_a_viewer_further_on_does_not_get_the_earlier_fragment(client, alice, bob):
    client.force_login(alice)
    client.get("/shows/saga/story/")
    client.force_login(bob)
    assert "RECAP-saga-2x5" in client.get("/shows/saga/story/").content.decode()


def test_editing_content_invalidates_cached_fragments(alice_client, show):
    assert "RECAP-saga-1x2" in alice_client.get("/shows/saga/story/").content.decode()
    recap = Recap.objects.get(episode=episode(show, "1x2"))
    recap.text = "REWRITTEN-RECAP"
    recap.save()
    body = alice_client.get("/shows/saga/story/").content.decode()
    assert "REWRITTEN-RECAP" in body and "RECAP-saga-1x2" not in body


def test_moving_a_reveal_point_later_hides_it_at_once(alice_client, show):
    """The fix for a spoiler report must not be undone by a cached fragment."""
    assert "STATE-Ada-1x03" in alice_client.get("/shows/saga/cast/").content.decode()
    state = CharacterState.objects.get(description="STATE-Ada-1x03")
    state.reveal_at = episode(show, "2x01")
    state.save()
    for url in [
        "/shows/saga/cast/",
        "/shows/saga/story/",
        "/shows/saga/cast/ada/",
        "/shows/saga/s1/e3/",
    ]:
        assert "STATE-Ada-1x03" not in alice_client.get(url).content.decode(), url


def test_deleting_a_note_invalidates_the_episode_page(alice_client, show):
    assert "NOTE-saga-1x2" in alice_client.get("/shows/saga/s1/e2/").content.decode()
    ReviewerNote.objects.filter(text="NOTE-saga-1x2").delete()
    assert "NOTE-saga-1x2" not in alice_client.get("/shows/saga/s1/e2/").content.decode()


def test_cached_fragments_carry_nothing_personal(client, alice, carol):
    client.force_login(alice)
    client.get("/shows/saga/story/")
    client.force_login(carol)
    body = client.get("/shows/saga/story/").content.decode()
    assert "alice" not in body
