from companion.models import Follow
from tests.factories import make_user
from tests.helpers import says
from tests.upcoming.conftest import make_airing_show, watch_up_to


def page(client, user) -> str:
    client.force_login(user)
    response = client.get("/calendar/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_viewer_behind_sees_a_count_of_aired_episodes_and_what_is_next(
    client, dave, frozen_today
):
    html = page(client, dave)
    assert "10 aired episodes waiting" in html
    assert "Up next: <a" in html and "Orbit · S2E6</a>" in html
    # Airing today and in the coming weeks, by date, without the titles dave hides.
    assert "Today" in html and "Orbit · S4E4" in html and "Orbit · S4E8" in html
    assert "21:00 on Apple TV+, local time" in html
    assert "TITLE-orbit" not in html and "SYNOPSIS-orbit" not in html


def test_what_aired_past_the_point_is_counted_not_listed(client, carol, frozen_today):
    """Carol shows titles of unwatched episodes, yet the page names S4E3 (aired yesterday) nowhere:
    she has fallen behind, and it is one of her waiting episodes."""
    html = page(client, carol)
    assert "Orbit · S4E3" not in html and "Yesterday" not in html
    assert "Orbit · S4E5 · TITLE-orbit-4x5" in html
    assert "SYNOPSIS-orbit" not in html


def test_a_viewer_up_to_date_sees_last_nights_episode_in_full(client, erin, frozen_today):
    html = page(client, erin)
    assert "Yesterday" in html and "Orbit · S4E3 · TITLE-orbit-4x3" in html
    assert "SYNOPSIS-orbit-4x3" in html
    assert "aired episode" not in html
    # Up next airs tonight; its title stays hidden, as erin prefers.
    assert "Up next: <a" in html and "TITLE-orbit-4x4" not in html


def test_shows_not_followed_stay_off_the_calendar(client, carol, frozen_today):
    make_airing_show("drift")
    assert not says(page(client, carol), "Drift")


def test_a_show_with_nothing_airing_says_so_and_still_offers_up_next(client, carol, frozen_today):
    quiet = make_airing_show("quiet")
    quiet.episodes.filter(air_date__gte="2026-01-01").update(air_date=None)
    other = make_user("frank")
    watch_up_to(other, quiet, 1, 1)
    html = page(client, other)
    assert "None of your shows has an episode listed in these weeks." in html
    assert "Quiet · S1E2 · TITLE-quiet-1x2" in html


def test_a_viewer_who_follows_nothing_is_sent_to_browse(client, frozen_today, db):
    html = page(client, make_user("newcomer"))
    assert "You are not following any shows yet." in html


def test_the_calendar_asks_a_visitor_to_log_in(client, db):
    response = client.get("/calendar/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_nav_links_the_calendar_for_a_signed_in_viewer(client, carol, frozen_today):
    client.force_login(carol)
    assert 'href="/calendar/"' in client.get("/").content.decode()


def test_the_page_costs_the_same_queries_however_many_shows(
    client, carol, frozen_today, django_assert_max_num_queries
):
    client.force_login(carol)
    client.get("/calendar/")
    for slug in ("drift", "comet", "nova", "pulsar"):
        Follow.objects.follow(user=carol, shows=[make_airing_show(slug)])
    with django_assert_max_num_queries(14):
        response = client.get("/calendar/")
    assert response.content.decode().count('class="calendar-show"') == 5
