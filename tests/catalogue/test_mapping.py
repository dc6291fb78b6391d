import datetime as dt

from catalogue.mapping import (
    clean_summary,
    plan_characters,
    plan_episodes,
    poster_url,
    show_values,
)
from tests.catalogue.conftest import load


def test_summary_html_becomes_plain_text():
    html = "<p><b>Under the Dome</b> is a <i>story</i> of C&amp;W bars &amp; &quot;domes&quot;.</p>"
    assert clean_summary(html) == 'Under the Dome is a story of C&W bars & "domes".'


def test_summary_paragraphs_stay_apart():
    assert clean_summary("<p>One.</p><p>Two<br>three.</p>") == "One.\n\nTwo\n\nthree."


def test_summary_script_is_left_as_text_not_markup():
    assert "<" not in clean_summary("<p>Hi<script>alert(1)</script></p>")
    assert clean_summary(None) == ""


def test_show_values_carry_the_external_ids():
    values = show_values(load("shows-1.json"))
    assert values == {
        "title": "Under the Dome",
        "network": "CBS",
        "premise": values["premise"],
        "premiere_date": dt.date(2013, 6, 24),
        "status": "Ended",
        "tvmaze_id": 1,
        "tvdb_id": "264492",
        "imdb_id": "tt1553656",
    }
    assert values["premise"].startswith("Under the Dome is the story of a small town")


def test_a_streaming_show_takes_its_web_channel_as_network():
    data = load("shows-1.json") | {"network": None, "webChannel": {"id": 1, "name": "Netflix"}}
    assert show_values(data)["network"] == "Netflix"


def test_episodes_keep_number_date_time_and_runtime():
    first = plan_episodes(load("shows-5-episodes.json"))[0]
    assert (first.season, first.number, first.title) == (1, 1, "The Long Bright Dark")
    assert first.air_date == dt.date(2014, 1, 12)
    assert first.airtime == dt.time(21, 0)
    assert first.runtime == 60
    assert first.synopsis.startswith("Former Louisiana State CID partners")


def test_a_special_goes_to_season_zero_placed_by_when_it_aired():
    planned = plan_episodes(load("shows-5-episodes.json"))
    special = planned[-1]
    assert (special.season, special.number, special.title) == (0, None, "Making True Detective")
    # It aired five days before 1x01, though TVmaze lists it after 1x08: it follows nothing.
    assert special.follows is None
    assert special.airtime is None  # TVmaze sends "" for an unknown time


def test_a_special_after_a_finale_follows_the_finale():
    episodes = load("shows-5-episodes.json")
    special = episodes[-1] | {"airdate": "2014-03-09", "airstamp": "2014-03-10T02:30:00+00:00"}
    planned = plan_episodes([*episodes[:-1], special])
    assert planned[-1].follows == 174  # 1x08, aired at 01:00 that night


def test_main_cast_and_recurring_guests_become_characters():
    show = load("shows-1.json")
    guests = {n: load(f"episodes-{n}-guestcast.json") for n in range(1, 14)}
    planned = plan_characters(show["_embedded"]["cast"], guests)
    names = [c.name for c in planned]
    assert names[:2] == ['Dale "Barbie" Barbara', "Julia Shumway"]
    maxine = next(c for c in planned if c.name == "Maxine Seagrave")
    assert maxine.actor == "Natalie Zea"
    assert maxine.credited_in == [9, 10, 11, 12, 13]


def test_a_one_off_guest_is_not_a_character():
    guest = load("episodes-9-guestcast.json")
    assert plan_characters([], {9: guest}) == []


def test_the_main_poster_is_picked():
    assert poster_url(load("shows-1-images.json")).endswith("/202627.jpg")
    assert poster_url([]) == ""
