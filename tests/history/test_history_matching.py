"""Which show a file's entry is: its ids first, then its title, never a guess."""

import json
from datetime import date

import pytest

from companion.models import Season, Show
from history.matching import normalise_title
from tests.factories import make_show
from tests.history.test_history_formats import upload


def trakt_play(title, *, year=None, ids=None, season=1, number=1):
    show = {"title": title} | ({"year": year} if year else {}) | ({"ids": ids} if ids else {})
    return {
        "watched_at": "2024-01-01T20:00:00.000Z",
        "type": "episode",
        "episode": {"season": season, "number": number, "title": "EPISODE-TITLE"},
        "show": show,
    }


def preview_of(client, *plays) -> str:
    data = json.dumps(list(plays)).encode()
    return upload(client, ("watched-history-1.json", data)).content.decode()


def premiered(show: Show, year: int) -> Show:
    Season.objects.filter(show=show, number=1).update(premiere_date=date(year, 1, 1))
    return show


@pytest.mark.parametrize(
    "title, expected",
    [
        ("For All Mankind", ("for all mankind", None)),
        ("For All Mankind (2019)", ("for all mankind", 2019)),
        ("For All Mankind.", ("for all mankind", None)),
        ("  FOR   all mankind! ", ("for all mankind", None)),
        ("The Office (US)", ("the office", None)),
        ("Marvel's Agents of S.H.I.E.L.D.", ("marvel s agents of s h i e l d", None)),
        ("Love, Death & Robots", ("love death robots", None)),
    ],
)
def test_titles_normalise_case_spacing_punctuation_and_a_trailing_year_or_country(title, expected):
    assert normalise_title(title) == expected


def test_an_id_matches_before_the_title(client, outsider, db):
    make_show("saga", seasons=1, episodes=2, title="Saga")
    other = make_show("other", seasons=1, episodes=2, title="Something Else")
    other.tvdb_id = "4242"
    other.save()
    client.force_login(outsider)
    page = preview_of(client, trakt_play("Saga", ids={"tvdb": 4242, "trakt": 1}))
    assert "<h2>Something Else</h2>" in page and "<h2>Saga</h2>" not in page


def test_ids_naming_two_different_shows_are_reported(client, outsider, db):
    a = make_show("a", seasons=1, episodes=1, title="A")
    b = make_show("b", seasons=1, episodes=1, title="B")
    Show.objects.filter(pk=a.pk).update(tvdb_id="1")
    Show.objects.filter(pk=b.pk).update(tmdb_id="2")
    client.force_login(outsider)
    page = preview_of(client, trakt_play("A", ids={"tvdb": 1, "tmdb": 2}))
    assert "its ids name different shows here" in page and 'name="token"' not in page


def test_a_show_with_another_id_for_the_same_service_is_not_matched_by_title(client, outsider, db):
    show = make_show("the-office", seasons=1, episodes=1, title="The Office")
    Show.objects.filter(pk=show.pk).update(tvdb_id="78107")
    client.force_login(outsider)
    page = preview_of(client, trakt_play("The Office (US)", ids={"tvdb": 73244}))
    assert "The Office (US): 1 episode, no such show here" in page


def test_a_year_picks_between_two_shows_of_one_title(client, outsider, db):
    premiered(make_show("doctor-who-1963", seasons=1, episodes=2, title="Doctor Who"), 1963)
    premiered(make_show("doctor-who-2005", seasons=1, episodes=2, title="Doctor Who"), 2005)
    client.force_login(outsider)
    page = preview_of(client, trakt_play("Doctor Who", year=2005))
    assert "To mark watched: S1E1" in page and "Not matched" not in page
    page = preview_of(client, trakt_play("Doctor Who (2005)"))
    assert "To mark watched: S1E1" in page and "Not matched" not in page


def test_a_year_that_disagrees_is_reported_not_matched(client, outsider, db):
    premiered(make_show("saga", seasons=1, episodes=2, title="Saga"), 2019)
    client.force_login(outsider)
    page = preview_of(client, trakt_play("Saga", year=2004))
    assert (
        "Saga (2004): 1 episode, no show of this title from 2004 here (we have Saga (2019))" in page
    )
    assert 'name="token"' not in page


def test_two_shows_of_one_title_and_no_year_are_reported_not_guessed(client, outsider, db):
    make_show("saga", seasons=1, episodes=2, title="Saga")
    make_show("saga-2", seasons=1, episodes=2, title="Saga.")
    client.force_login(outsider)
    page = preview_of(client, trakt_play("saga"))
    assert "saga: 1 episode, more than one show here has this title, so none was chosen" in page
    assert 'name="token"' not in page


def test_unmatched_entries_are_grouped_by_show_with_the_first_few_lines(client, outsider, db):
    make_show("saga", seasons=1, episodes=2, title="Saga")
    client.force_login(outsider)
    plays = [trakt_play("Doctor Who", year=2005, season=1, number=n) for n in range(1, 121)]
    page = preview_of(client, trakt_play("Saga"), *plays)
    assert page.count("Doctor Who (2005): 120 episodes, no such show here") == 1
    assert "watched-history-1.json [1]: S1E1<" in page and "[5]: S1E5<" in page
    assert "[6]: S1E6<" not in page and "and 115 more" in page
    assert "EPISODE-TITLE" not in page
