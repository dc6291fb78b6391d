"""Saving an episode or a season writes that row; the show is put in story order once, by its
writer, with Show.resequence()."""

from companion.models import Episode, Season, Show
from tests.factories import episode

# Measured when resequencing moved out of save(): 2×5 built in order cost 113 queries with a
# resequence per save, 43 with one at the end (49 built backwards, as here); saving one
# episode's title cost 9, now 3.
BUILD_QUERIES = 50
SAVE_QUERIES = 3


def build_two_seasons_of_five() -> Show:
    show = Show.objects.create(title="Saga", slug="saga")
    # Season 2 first and each season backwards: only resequence() can put them in order.
    for number in (2, 1):
        season = Season.objects.create(show=show, number=number)
        for n in range(5, 0, -1):
            Episode.objects.create(season=season, number=n, title=f"T{number}x{n}")
    show.resequence()
    return show


def test_a_show_built_episode_by_episode_is_put_in_order_once(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(BUILD_QUERIES):
        show = build_two_seasons_of_five()
    assert [e.code for e in show.episodes.order_by("sequence")] == [
        f"{s}x{n}" for s in (1, 2) for n in range(1, 6)
    ]


def test_saving_an_episode_writes_that_episode_alone(show, django_assert_max_num_queries):
    target = episode(show, "1x03")
    target.title = "A new title"
    with django_assert_max_num_queries(SAVE_QUERIES):
        target.save()
    assert episode(show, "1x03").title == "A new title"


def test_a_new_episode_waits_at_the_end_until_the_show_is_resequenced(db):
    show = build_two_seasons_of_five()
    Episode.objects.create(season=Season.objects.get(show=show, number=1), number=6)
    assert show.episodes.order_by("sequence").last().code == "1x6"
    show.resequence()
    order = [e.code for e in show.episodes.order_by("sequence")]
    assert order.index("1x6") == order.index("2x1") - 1


def test_renumbering_a_season_carries_its_episodes_and_leaves_the_order_to_resequence(db):
    show = build_two_seasons_of_five()
    season = Season.objects.get(show=show, number=1)
    season.number = 3
    season.save()
    assert set(season.episodes.values_list("season_number", flat=True)) == {3}
    show.resequence()
    assert [e.code for e in show.episodes.order_by("sequence")][:2] == ["2x1", "2x2"]
