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
PREVIOUSLY = reverse("previously", args=["saga"])


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


@pytest.mark.parametrize("url", [STORY, CAST, ADA, PREVIOUSLY, episode_url(1, 2)])
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


@pytest.mark.parametrize("url", [STORY, PREVIOUSLY])
def test_editing_content_invalidates_cached_fragments(alice_client, show, url):
    assert "RECAP-saga-1x2" in alice_client.get(url).content.decode()
    recap = Recap.objects.get(episode=episode(show, "1x2"))
    recap.text = "REWRITTEN-RECAP"
    recap.save()
    body = alice_client.get(url).content.decode()
    assert "REWRITTEN-RECAP" in body and "RECAP-saga-1x2" not in body


def test_moving_a_reveal_point_later_hides_it_at_once(alice_client, show):
    """The fix for a spoiler report must not be undone by a cached fragment."""
    assert "STATE-Ada-1x03" in alice_client.get(CAST).content.decode()
    state = CharacterState.objects.get(description="STATE-Ada-1x03")
    state.reveal_at = episode(show, "2x01")
    state.save()
    for url in [CAST, STORY, ADA, PREVIOUSLY, episode_url(1, 3)]:
        assert "STATE-Ada-1x03" not in alice_client.get(url).content.decode(), url


def test_deleting_a_note_invalidates_the_episode_page(alice_client, show):
    assert "NOTE-saga-1x2" in alice_client.get(episode_url(1, 2)).content.decode()
    ReviewerNote.objects.filter(text="NOTE-saga-1x2").delete()
    assert "NOTE-saga-1x2" not in alice_client.get(episode_url(1, 2)).content.decode()


def test_a_character_met_further_on_is_the_same_404_as_a_missing_one_before_then(
    client, alice, bob
):
    """bob's page of Zed Quist (first seen in 1x04) is kept for his point, never served at alice's."""
    zed = reverse("character-detail", args=["saga", "zed-quist"])
    client.force_login(bob)
    assert "Zed Quist" in client.get(zed).content.decode()
    client.force_login(alice)
    counts = []
    for url in [zed, zed, reverse("character-detail", args=["saga", "nobody"])]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 404
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2]


def csrf_tokens(html: str) -> set[str]:
    return set(re.findall(r'(?:"X-CSRFToken": "|name="csrfmiddlewaretoken" value=")([^"]+)', html))


@pytest.mark.parametrize(
    "url", [STORY, CAST, ADA, episode_url(1, 2), reverse("show-detail", args=["saga"])]
)
def test_cached_fragments_carry_nothing_personal(client, alice, carol, url):
    """The page around a shared fragment carries the viewer's own form tokens, never the first viewer's."""
    client.force_login(alice)
    alices = csrf_tokens(client.get(url).content.decode())
    client.force_login(carol)
    carols_page = client.get(url).content.decode()
    assert alices and csrf_tokens(carols_page)
    assert not any(token in carols_page for token in alices)


# --- The show page's episode rows, shared between viewers whose rows read the same ---

SHOW = reverse("show-detail", args=["saga"])


def row(body: str, show, code: str) -> str:
    pk = episode(show, code).pk
    start = body.index(f'id="episode-{pk}"')
    return body[start : body.index("</li>", start)]


def test_rows_rendered_for_one_viewer_are_shared_with_the_next(client, alice, carol, monkeypatch):
    from companion import renders as shared

    client.force_login(alice)
    client.get(SHOW)
    renders = []
    real = shared.render_to_string
    monkeypatch.setattr(
        shared, "render_to_string", lambda *a, **k: renders.append(a[0]) or real(*a, **k)
    )
    client.force_login(carol)
    assert "RECAP-saga-1x3" in client.get(SHOW).content.decode()
    assert "companion/show_detail.html#episode-row" not in renders


def test_a_show_page_rendered_for_one_viewer_is_shared_with_the_next_who_reads_the_same(
    client, alice, carol, show, monkeypatch
):
    from companion import renders as shared

    client.force_login(alice)
    alices = csrf_tokens(client.get(SHOW).content.decode())
    renders = []
    real = shared.render_to_string
    monkeypatch.setattr(
        shared, "render_to_string", lambda *a, **k: renders.append(a[0]) or real(*a, **k)
    )
    client.force_login(carol)
    carols = client.get(SHOW).content.decode()
    assert renders == []
    assert alices and csrf_tokens(carols) and not alices & csrf_tokens(carols)
    # Once carol has watched one more, her page reads otherwise: it is rendered for her.
    watch(carol, show, "1x04")
    assert 'aria-pressed="true"' in row(client.get(SHOW).content.decode(), show, "1x04")
    assert "companion/show_detail.html" in renders


def test_shared_rows_carry_each_viewers_own_working_token(alice, carol, show):
    from django.test import Client

    first = Client(enforce_csrf_checks=True)
    first.force_login(alice)
    alices = csrf_tokens(first.get(SHOW).content.decode())
    second = Client(enforce_csrf_checks=True)
    second.force_login(carol)
    body = second.get(SHOW).content.decode()
    assert "csrf-token-of-this-request" not in body
    assert not csrf_tokens(body) & alices
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', row(body, show, "1x04"))
    assert token is not None
    response = second.post("/shows/saga/s1/e4/watch/", {"csrfmiddlewaretoken": token[1]})
    assert response.status_code == 302
    assert 'aria-pressed="true"' in row(second.get(SHOW).content.decode(), show, "1x04")


def test_a_mark_shows_in_the_rows_on_the_very_next_request(alice_client, show):
    assert 'aria-pressed="false"' in row(alice_client.get(SHOW).content.decode(), show, "1x05")
    alice_client.post("/shows/saga/s1/e5/watch/")
    assert 'aria-pressed="true"' in row(alice_client.get(SHOW).content.decode(), show, "1x05")
    alice_client.post("/shows/saga/s1/e5/unwatch/")
    assert 'aria-pressed="false"' in row(alice_client.get(SHOW).content.decode(), show, "1x05")


def test_a_preference_change_shows_in_the_rows_on_the_very_next_request(alice_client, show):
    # Season 2 asked for: only the viewer's own season is open otherwise.
    page = f"{SHOW}?season=2"
    assert "TITLE-saga-2x1" in row(alice_client.get(page).content.decode(), show, "2x01")
    alice_client.post("/accounts/preferences/", {"hide_unwatched_titles": "on"})
    assert "TITLE-saga-2x1" not in row(alice_client.get(page).content.decode(), show, "2x01")


def test_an_edited_title_shows_in_the_rows_on_the_very_next_request(alice_client, show):
    alice_client.get(SHOW)
    edited = episode(show, "1x02")
    edited.title = "RETITLED"
    edited.save()
    assert "RETITLED" in row(alice_client.get(SHOW).content.decode(), show, "1x02")


@pytest.fixture
def cache_writes(monkeypatch) -> list[set[str]]:
    """The keys of each write to the cache (one round trip each), as they are made."""
    from django.core.cache import cache

    writes: list[set[str]] = []
    real_write = cache.set_many

    def set_many(data, *args, **kwargs):
        writes.append(set(data))
        return real_write(data, *args, **kwargs)

    monkeypatch.setattr(cache, "set_many", set_many)
    return writes


# The show page writes its season list and rows as well, which a mark and an unfolded season read;
# the episode page's part keyed on the point is the page's alone (renders.render_once_at_point).
@pytest.mark.parametrize("url, written", [(SHOW, range(3, 100)), (episode_url(1, 2), [1])])
def test_a_page_built_whole_writes_its_parts_to_the_cache_in_one_go_and_shares_them(
    client, alice, carol, url, written, cache_writes, monkeypatch
):
    """Each write is a round trip to the cache: the page and what it shares with other pages go
    in one. What went in is then read by the next viewer it reads the same to, with nothing
    rendered again."""
    from companion import renders as shared

    writes = cache_writes
    client.force_login(alice)
    first = client.get(url).content.decode()
    assert len(writes) == 1 and len(writes[0]) in written
    renders = []
    real_render = shared.render_to_string
    monkeypatch.setattr(
        shared, "render_to_string", lambda *a, **k: renders.append(a[0]) or real_render(*a, **k)
    )
    client.force_login(carol)
    second = client.get(url).content.decode()
    assert renders == [] and len(writes) == 1
    assert csrf_tokens(first) != csrf_tokens(second)


def test_a_season_unfolded_writes_its_list_and_rows_to_the_cache_in_one_go(
    client, alice, cache_writes
):
    writes = cache_writes
    client.force_login(alice)
    response = client.get(
        reverse("season-episodes", args=["saga", 2]), headers={"HX-Request": "true"}
    )
    assert "TITLE-saga-2x1" in response.content.decode()
    assert len(writes) == 1 and len(writes[0]) > 1
