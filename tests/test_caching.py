"""Gated fragments are cached per (show, content version, safe point) and shared between viewers."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companion.models import CharacterState, Recap, ReviewerNote
from tests.factories import episode, make_user, watch

STORY = reverse("story", args=["saga"])
CAST = reverse("cast", args=["saga"])
ADA = reverse("character-detail", args=["saga", "ada"])


def episode_url(season: int, number: int) -> str:
    return reverse("episode-detail", args=["saga", season, number])


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


@pytest.mark.parametrize("url", [STORY, CAST, ADA, episode_url(1, 2)])
def test_viewers_at_the_same_point_share_the_rendered_fragment(client, alice, carol, url):
    client.force_login(alice)
    cold, _ = queries_for(client, url)
    client.force_login(carol)
    warm, _ = queries_for(client, url)
    assert warm < cold


def test_a_viewer_further_on_does_not_get_the_earlier_fragment(client, alice, bob):
    client.force_login(alice)
    client.get(STORY)
    client.force_login(bob)
    assert "RECAP-saga-2x5" in client.get(STORY).content.decode()


def test_editing_content_invalidates_cached_fragments(alice_client, show):
    assert "RECAP-saga-1x2" in alice_client.get(STORY).content.decode()
    recap = Recap.objects.get(episode=episode(show, "1x2"))
    recap.text = "REWRITTEN-RECAP"
    recap.save()
    body = alice_client.get(STORY).content.decode()
    assert "REWRITTEN-RECAP" in body and "RECAP-saga-1x2" not in body


def test_moving_a_reveal_point_later_hides_it_at_once(alice_client, show):
    """The fix for a spoiler report must not be undone by a cached fragment."""
    assert "STATE-Ada-1x03" in alice_client.get(CAST).content.decode()
    state = CharacterState.objects.get(description="STATE-Ada-1x03")
    state.reveal_at = episode(show, "2x01")
    state.save()
    for url in [CAST, STORY, ADA, episode_url(1, 3)]:
        assert "STATE-Ada-1x03" not in alice_client.get(url).content.decode(), url


def test_deleting_a_note_invalidates_the_episode_page(alice_client, show):
    assert "NOTE-saga-1x2" in alice_client.get(episode_url(1, 2)).content.decode()
    ReviewerNote.objects.filter(text="NOTE-saga-1x2").delete()
    assert "NOTE-saga-1x2" not in alice_client.get(episode_url(1, 2)).content.decode()


def csrf_tokens(html: str) -> set[str]:
    return set(re.findall(r'(?:"X-CSRFToken": "|name="csrfmiddlewaretoken" value=")([^"]+)', html))


@pytest.mark.parametrize("url", [STORY, episode_url(1, 2)])
def test_cached_fragments_carry_nothing_personal(client, alice, carol, url):
    """The page around a shared fragment carries the viewer's own form tokens, never the first viewer's."""
    client.force_login(alice)
    alices = csrf_tokens(client.get(url).content.decode())
    client.force_login(carol)
    carols_page = client.get(url).content.decode()
    assert alices and csrf_tokens(carols_page)
    assert not any(token in carols_page for token in alices)
