"""Who's who: everyone met by the viewer's point, a page at a time on a long show."""

import importlib

import pytest
from django.urls import reverse

from companion.models import CharacterState
from tests.factories import episode, make_character
from tests.helpers import mask_csrf

CAST = reverse("cast", args=["saga"])


@pytest.fixture
def pages_of_two(monkeypatch):
    """Who's who two to a page, so the little saga show needs pages."""
    characters = importlib.import_module("companion.views.characters")
    monkeypatch.setattr(characters, "CAST_PAGE_SIZE", 2)


def body(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return mask_csrf(response.content.decode())


def test_a_long_cast_comes_a_page_at_a_time_by_name(alice_client, show, pages_of_two):
    make_character(show, "Bea", "1x01", {"1x02": "alive"})
    make_character(show, "Cy", "1x02")
    first = body(alice_client, CAST)
    assert "Ada" in first and "STATE-Bea-1x02" in first and ">Cy<" not in first
    assert "page 1 of 2" in first and f'href="{CAST}?page=2"' in first
    second = body(alice_client, f"{CAST}?page=2")
    assert ">Cy<" in second and "Ada" not in second
    assert "page 2 of 2" in second


def test_characters_not_met_yet_add_no_page(alice_client, show, pages_of_two):
    make_character(show, "Bea", "1x01")
    # Zed Quist (1x04) and Dee (2x01) are past alice's point: two characters, one page.
    make_character(show, "Dee", "2x01")
    page = body(alice_client, CAST)
    assert "Ada" in page and "Bea" in page
    assert "?page=" not in page and "page 1 of" not in page
    assert body(alice_client, f"{CAST}?page=2") == page


@pytest.mark.parametrize("asked", ["3", "99", "0", "x", ""])
def test_a_page_out_of_range_reads_like_the_last_and_nonsense_like_the_first(
    alice_client, show, pages_of_two, asked
):
    make_character(show, "Bea", "1x01")
    make_character(show, "Cy", "1x02")
    expected = body(alice_client, f"{CAST}?page={'1' if asked in ('x', '') else '2'}")
    assert body(alice_client, f"{CAST}?page={asked}") == expected


def test_a_card_shows_an_edit_of_its_state_at_once(alice_client, show):
    assert "STATE-Ada-1x03" in body(alice_client, CAST)
    state = CharacterState.objects.get(character__name="Ada", reveal_at=episode(show, "1x03"))
    state.description = "EDITED-Ada"
    state.save()
    page = body(alice_client, CAST)
    assert "EDITED-Ada" in page and "STATE-Ada-1x03" not in page


def test_a_viewer_who_has_watched_nothing_is_asked_to_mark_episodes(client, outsider, show):
    client.force_login(outsider)
    page = body(client, CAST)
    assert "Mark episodes watched to meet the characters." in page
    assert "Ada" not in page and "?page=" not in page
