import datetime as dt

from companion.models import Follow
from tests.factories import make_user
from tests.upcoming.conftest import TODAY, make_airing_show, watch_up_to
from upcoming.schedule import schedule_for


def codes(airings) -> list[str]:
    return [airing.episode.code for airing in airings]


def test_the_window_holds_last_weeks_and_the_coming_four_weeks(carol):
    schedule = schedule_for(carol, today=TODAY)
    # S4E2 aired 8 days ago and S4E9 airs in 35 days: both outside; S4E10 has no date.
    assert codes(schedule.airings) == ["4x3", "4x4", "4x5", "4x6", "4x7", "4x8"]
    assert (schedule.start, schedule.end) == (TODAY - dt.timedelta(7), TODAY + dt.timedelta(28))


def test_a_viewer_behind_gets_a_count_of_aired_episodes_not_their_list(carol):
    (orbit,) = schedule_for(carol, today=TODAY).shows
    # S2E6, all of season 3, and S4E1-S4E3 aired before today; S4E4 airs today.
    assert orbit.waiting == 1 + 6 + 3
    assert codes(orbit.listed) == ["4x4", "4x5", "4x6", "4x7", "4x8"]
    assert [airing.episode.code for airing in orbit.airings if airing.waiting] == ["4x3"]


def test_unwatched_titles_follow_the_viewers_preference(carol, dave):
    shown = {a.episode.code: a.label for a in schedule_for(carol, today=TODAY).airings}
    hidden = {a.episode.code: a.label for a in schedule_for(dave, today=TODAY).airings}
    assert shown["4x5"] == "Orbit · S4E5 · TITLE-orbit-4x5"
    assert hidden["4x5"] == "Orbit · S4E5"
    assert not any("TITLE" in text for text in hidden.values())


def test_by_default_an_episode_not_yet_aired_is_told_by_its_code(orbit):
    """The site shows unwatched titles by default, but a calendar entry is read outside the show:
    there a title not yet aired waits until the viewer asks for such titles."""
    viewer = make_user("default")
    watch_up_to(viewer, orbit, 4, 3)
    (schedule,) = schedule_for(viewer, today=TODAY).shows
    labels = {a.episode.code: a.label for a in schedule.airings}
    assert labels["4x3"] == "Orbit · S4E3 · TITLE-orbit-4x3"  # watched
    assert labels["4x4"] == "Orbit · S4E4"  # airs today
    assert labels["4x8"] == "Orbit · S4E8"
    assert schedule.up_next_label == "Orbit · S4E4"


def test_hiding_unwatched_titles_wins_over_asking_for_upcoming_ones(orbit):
    viewer = make_user("both", hide_unwatched_titles=True, show_upcoming_titles=True)
    watch_up_to(viewer, orbit, 4, 3)
    labels = [a.label for a in schedule_for(viewer, today=TODAY).airings]
    assert labels[0] == "Orbit · S4E3 · TITLE-orbit-4x3"
    assert not any("TITLE" in text for text in labels[1:])


def test_synopses_of_unwatched_episodes_are_hidden_by_default(carol):
    assert {airing.synopsis for airing in schedule_for(carol, today=TODAY).airings} == {""}


def test_what_the_viewer_has_watched_is_told_in_full(erin):
    (orbit,) = schedule_for(erin, today=TODAY).shows
    last_night = next(a for a in orbit.airings if a.episode.code == "4x3")
    assert last_night.revealed and not last_night.waiting
    assert last_night.label == "Orbit · S4E3 · TITLE-orbit-4x3"
    assert last_night.synopsis == "SYNOPSIS-orbit-4x3"
    assert orbit.waiting == 0
    assert codes(orbit.listed)[:2] == ["4x3", "4x4"]


def test_up_next_is_the_episode_after_the_safe_point_with_a_safe_label(carol, dave, erin):
    assert schedule_for(carol, today=TODAY).shows[0].up_next_label == (
        "Orbit · S2E6 · TITLE-orbit-2x6"
    )
    assert schedule_for(dave, today=TODAY).shows[0].up_next_label == "Orbit · S2E6"
    (orbit,) = schedule_for(erin, today=TODAY).shows
    assert orbit.up_next is not None and orbit.up_next.code == "4x4"


def test_an_episode_airing_today_has_not_aired(carol):
    today = next(a for a in schedule_for(carol, today=TODAY).airings if a.air_date == TODAY)
    assert today.episode.code == "4x4" and not today.aired and not today.waiting


def test_only_followed_shows_are_in_it(carol):
    make_airing_show("drift")
    assert [s.show.slug for s in schedule_for(carol, today=TODAY).shows] == ["orbit"]
    assert schedule_for(make_user("nobody"), today=TODAY).shows == []


def test_the_same_airing_is_told_differently_on_another_day(carol):
    """Which episodes are waiting moves with the day passed in, not with the clock."""
    week_later = schedule_for(carol, today=TODAY + dt.timedelta(days=7))
    assert week_later.shows[0].waiting == 1 + 6 + 4
    assert "4x4" not in codes(week_later.shows[0].listed)


def test_airings_are_ordered_by_date_then_time_then_show(carol):
    drift = make_airing_show("drift", airtime=dt.time(20, 0))
    early = make_airing_show("alpha", airtime=None)
    Follow.objects.follow(user=carol, shows=[drift, early])
    today = [a.label for a in schedule_for(carol, today=TODAY).airings if a.air_date == TODAY]
    assert [label.split(" · ")[0] for label in today] == ["Drift", "Orbit", "Alpha"]


def test_it_takes_the_same_queries_however_many_shows(carol, django_assert_num_queries):
    with django_assert_num_queries(4):
        schedule_for(carol, today=TODAY)
    for slug in ("drift", "comet", "nova"):
        show = make_airing_show(slug)
        watch_up_to(carol, show, 1, 2)
    with django_assert_num_queries(4):
        schedule = schedule_for(carol, today=TODAY)
    assert len(schedule.shows) == 4


def test_an_aired_episode_past_the_point_is_told_by_its_code_alone(carol):
    """Carol shows titles and synopses of unwatched episodes; once one has aired without her, she is
    behind, and it is told as one of the episodes waiting: no title, no synopsis."""
    carol.hide_unwatched_synopses = False
    carol.save()
    airings = {a.episode.code: a for a in schedule_for(carol, today=TODAY).airings}
    assert airings["4x3"].waiting
    assert (airings["4x3"].label, airings["4x3"].synopsis) == ("Orbit · S4E3", "")
    assert airings["4x4"].label == "Orbit · S4E4 · TITLE-orbit-4x4"
    assert airings["4x4"].synopsis == "SYNOPSIS-orbit-4x4"
