import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from catalogue import tvmaze
from catalogue.importer import import_show
from companion.models import Character, CharacterState, Episode, Recap, Show
from tests.catalogue.conftest import load
from tests.catalogue.long_show import SHOW_ID, long_show
from tests.factories import episode, make_show, make_user, watch


def codes(show: Show) -> list[str]:
    return [e.code for e in show.episodes.order_by("sequence")]


@pytest.mark.django_db
def test_it_imports_a_show_with_its_ids_and_episodes():
    report = import_show(1)
    show = report.show
    assert report.created
    assert (show.title, show.network, show.status) == ("Under the Dome", "CBS", "Ended")
    assert (show.tvmaze_id, show.tvdb_id, show.imdb_id) == (1, "264492", "tt1553656")
    assert show.premiere_date == dt.date(2013, 6, 24)
    assert show.slug == "under-the-dome"
    assert codes(show) == [f"1x{n}" for n in range(1, 14)]
    pilot = episode(show, "1x1")
    assert (pilot.title, pilot.air_date, pilot.airtime, pilot.runtime) == (
        "Pilot",
        dt.date(2013, 6, 24),
        dt.time(22, 0),
        60,
    )
    assert pilot.synopsis.startswith("When the residents of Chester's Mill find themselves")
    assert "<p>" not in pilot.synopsis
    assert show.seasons.get(number=1).premiere_date == dt.date(2013, 6, 24)


@pytest.mark.django_db
def test_imported_text_is_marked_unreviewed():
    show = import_show(1).show
    assert not show.reviewed
    assert not show.episodes.filter(reviewed=True).exists()
    assert not show.characters.filter(reviewed=True).exists()


@pytest.mark.django_db
def test_a_special_sits_where_it_aired():
    show = import_show(5).show
    # "Making True Detective" aired five days before 1x01: it comes first, as 0x1.
    assert codes(show) == ["0x1", *[f"1x{n}" for n in range(1, 9)]]
    special = episode(show, "0x1")
    assert special.title == "Making True Detective"
    assert special.airtime is None


@pytest.mark.django_db
def test_cast_become_characters_with_their_actors():
    show = import_show(1).show
    barbie = show.characters.get(name='Dale "Barbie" Barbara')
    assert barbie.actor == "Mike Vogel"
    # TVmaze credits the main cast with no episode: the first one, marked not exact.
    assert barbie.first_appearance.code == "1x1"
    assert not barbie.first_appearance_exact


@pytest.mark.django_db
def test_a_recurring_guest_first_appears_where_first_credited():
    show = import_show(1).show
    maxine = show.characters.get(name="Maxine Seagrave")
    assert (maxine.actor, maxine.first_appearance.code) == ("Natalie Zea", "1x9")
    assert maxine.first_appearance_exact


@pytest.mark.django_db
def test_an_imported_character_is_hidden_before_their_first_appearance(client):
    show = import_show(1).show
    viewer = make_user("viewer")
    watch(viewer, show, *[f"1x{n}" for n in range(1, 9)])
    client.force_login(viewer)
    page = client.get(f"/shows/{show.slug}/cast/").content.decode()
    assert "Julia Shumway" in page
    assert "Maxine" not in page


@pytest.mark.django_db
def test_an_imported_synopsis_of_an_unwatched_episode_stays_hidden(client):
    show = import_show(1).show
    viewer = make_user("viewer")
    watch(viewer, show, "1x1")
    client.force_login(viewer)
    page = client.get(f"/shows/{show.slug}/").content.decode()
    assert "mini dome" not in page  # 1x08's synopsis
    assert viewer.hide_unwatched_synopses


@pytest.mark.django_db
def test_a_refresh_adds_new_episodes_and_updates_unreviewed_ones(recorded):
    show = import_show(1).show
    reviewed = episode(show, "1x2")
    reviewed.synopsis = "An editor's teaser."
    reviewed.reviewed = True
    reviewed.save()
    episodes = load("shows-1-episodes.json")
    episodes[1]["summary"] = "<p>TVmaze rewrote this.</p>"
    episodes[2]["name"] = "Manhunt (renamed)"
    episodes[2]["airdate"] = "2013-07-09"
    new = episodes[-1] | {"id": 14, "season": 2, "number": 1, "name": "Heads Will Roll"}
    new["airstamp"] = "2014-06-30T02:00:00+00:00"
    recorded.extra = {
        "/shows/1/episodes": [*episodes, new],
        "/episodes/14/guestcast": [],
    }
    before = len(recorded.requests)

    report = import_show(1)

    assert not report.created
    assert (report.episodes_added, report.episodes_updated) == (1, 1)
    assert episode(show, "1x2").synopsis == "An editor's teaser."
    manhunt = episode(show, "1x3")
    assert (manhunt.title, manhunt.air_date) == ("Manhunt (renamed)", dt.date(2013, 7, 9))
    assert codes(show)[-1] == "2x1"
    # Guest casts are read again only for the episode that is new.
    asked = recorded.paths()[before:]
    assert [p for p in asked if p.endswith("/guestcast")] == ["/episodes/14/guestcast"]


@pytest.mark.django_db
def test_a_refresh_leaves_a_reviewed_show_and_character_alone():
    show = import_show(1).show
    Show.objects.filter(pk=show.pk).update(title="Under the Dome (2013)", reviewed=True)
    Character.objects.filter(name="Julia Shumway").update(actor="R. Lefevre", reviewed=True)
    import_show(1)
    show.refresh_from_db()
    assert show.title == "Under the Dome (2013)"
    assert Character.objects.get(name="Julia Shumway").actor == "R. Lefevre"
    assert show.characters.count() == 5


@pytest.mark.django_db
def test_a_refresh_keeps_an_editors_states_and_first_appearances():
    show = import_show(1).show
    julia = show.characters.get(name="Julia Shumway")
    julia.first_appearance = episode(show, "1x2")
    julia.save()
    CharacterState.objects.create(character=julia, reveal_at=episode(show, "1x2"))
    import_show(1)
    julia.refresh_from_db()
    assert julia.first_appearance.code == "1x2"
    assert julia.states.count() == 1


@pytest.mark.django_db
def test_a_hand_made_show_with_the_same_tvdb_id_is_linked_not_duplicated():
    saga = make_show("saga", seasons=1, episodes=3)
    Show.objects.filter(pk=saga.pk).update(tvdb_id="264492")
    report = import_show(1)
    assert report.show.pk == saga.pk
    assert Show.objects.count() == 1
    saga.refresh_from_db()
    # Hand-written rows count as reviewed: their text stays, their ids are filled in.
    assert saga.title == "Saga"
    assert episode(saga, "1x1").title == "TITLE-saga-1x1"
    assert episode(saga, "1x1").tvmaze_id == 1
    assert codes(saga) == [f"1x{n}" for n in range(1, 14)]
    assert episode(saga, "1x4").title == "Outbreak"


@pytest.mark.django_db
def test_tvmaze_failing_midway_writes_nothing(recorded):
    recorded.extra = {"/episodes/7/guestcast": 503}
    with pytest.raises(tvmaze.TVmazeUnavailable):
        import_show(1)
    assert not Show.objects.exists()
    assert not Episode.objects.exists()


@pytest.mark.django_db
def test_a_refresh_that_would_put_content_before_its_episode_changes_nothing(recorded):
    show = import_show(5).show
    # An editor's recap of the making-of, safe once 1x01 is watched.
    Recap.objects.create(episode=episode(show, "0x1"), reveal_at=episode(show, "1x1"), text="R")
    # TVmaze now dates the making-of after the finale: the recap would come before its episode.
    episodes = load("shows-5-episodes.json")
    episodes[-1] |= {"airdate": "2014-03-20", "airstamp": "2014-03-20T17:00:00+00:00"}
    recorded.extra = {"/shows/5/episodes": episodes}
    with pytest.raises(ValidationError):
        import_show(5)
    assert codes(show)[0] == "0x1"
    assert episode(show, "0x1").air_date == dt.date(2014, 1, 7)


@pytest.mark.django_db
def test_a_ten_season_show_imports_in_a_bounded_number_of_queries(
    recorded, django_assert_max_num_queries
):
    recorded.extra = long_show()
    with django_assert_max_num_queries(40):
        show = import_show(SHOW_ID).show
    assert show.episodes.regular().count() == 220
    assert show.episodes.specials().count() == 10
    # Each season's holiday special follows its finale.
    order = codes(show)
    assert order[order.index("1x22") + 1] == "0x1"
    assert order[order.index("10x22") + 1] == "0x10"
    assert show.characters.count() == 12 + 10


@pytest.mark.django_db
def test_a_daily_show_numbered_by_year_is_refused_with_a_reason(recorded):
    episodes = load("shows-1-episodes.json")
    for item in episodes:
        item |= {"season": 2013, "number": item["number"] + 160}
    recorded.extra = {"/shows/1/episodes": episodes}
    with pytest.raises(ValidationError, match="up to 2013x161.*cannot be imported"):
        import_show(1)
    assert not Show.objects.exists()
