"""Imported shows are found by TVmaze's ids first: history files, media servers and the API."""

import json

import pytest

from catalogue.importer import import_show
from connections.models import find_episode
from connections.payloads import read_jellyfin
from history.matching import find_episode_by_ids, find_show
from tests.catalogue.conftest import FIXTURES
from tests.factories import episode, make_show

MEDIA = FIXTURES.parent / "media" / "jellyfin"


@pytest.fixture
def dome(db):
    return import_show(1).show


def test_a_show_is_found_by_its_tvmaze_id_whatever_its_title(dome):
    assert find_show("Dome, Under the", ids=(("tvmaze", "1"),)) == (dome, "")


def test_an_episode_is_found_by_its_tvmaze_id(dome):
    assert find_episode_by_ids((("tvmaze", "3"),)) == episode(dome, "1x3")
    assert find_episode_by_ids((("tvmaze", "not-a-number"),)) is None


def test_the_imported_tvdb_id_matches_a_history_row(dome):
    assert find_show("UTD", ids=(("tvdb", "264492"),)) == (dome, "")


def test_a_jellyfin_event_naming_a_tvmaze_episode_is_matched_by_it(dome):
    make_show("saga")  # the title the payload gives, with a 1x4 of its own
    payload = json.loads((MEDIA / "playback-stop-completed.json").read_text())
    payload |= {
        "Provider_tvdb": "",
        "Provider_tmdb": "",
        "Provider_imdb": "",
        "Provider_tvmaze": "4",
    }
    finished = read_jellyfin(payload).finished
    assert finished is not None
    assert finished.episode_ids == (("tvmaze", "4"),)
    assert find_episode(finished)[0] == episode(dome, "1x4")


def test_the_api_gives_show_and_episode_ids_and_finds_a_show_by_them(alice_api, dome):
    found = alice_api.get("/api/v1/shows/", {"tvmaze": 1}).json()
    assert [show["slug"] for show in found["items"]] == ["under-the-dome"]
    assert found["items"][0]["ids"] == {
        "tvmaze": 1,
        "tvdb": "264492",
        "imdb": "tt1553656",
        "tmdb": "",
        "trakt": "",
    }
    assert alice_api.get("/api/v1/shows/", {"imdb": "TT1553656"}).json()["count"] == 1
    assert alice_api.get("/api/v1/shows/", {"tvdb": "1"}).json()["count"] == 0
    episodes = alice_api.get("/api/v1/shows/under-the-dome/episodes/", {"limit": 1}).json()
    assert episodes["items"][0]["ids"] == {"tvmaze": 1, "tvdb": "", "imdb": "", "tmdb": ""}
