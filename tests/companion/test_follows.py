"""Following shows: it starts by itself when a viewer marks or imports, and a viewer can stop."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from companion.models import Follow, Show, Watch
from companion.models.rule import run_length
from tests.factories import episode, make_show, make_stamped_show, watch


def followed(user) -> list[str]:
    return list(Follow.objects.shows_of(user).values_list("slug", flat=True))


def test_marking_an_episode_follows_its_show_once(outsider, show):
    Watch.objects.mark_watched(user=outsider, episode=episode(show, "1x02"))
    Watch.objects.mark_watched(user=outsider, episode=episode(show, "1x03"))
    assert followed(outsider) == ["saga"]
    assert Follow.objects.filter(user=outsider).count() == 1


def test_marking_up_to_an_episode_follows_its_show(outsider, show):
    Watch.objects.mark_watched_up_to(user=outsider, episode=episode(show, "1x04"))
    assert followed(outsider) == ["saga"]


def test_one_follow_per_viewer_and_show_is_a_database_rule(outsider, show):
    Follow.objects.create(user=outsider, show=show)
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(user=outsider, show=show)


def test_stopping_keeps_the_history_and_marking_again_follows_again(alice, show):
    Follow.objects.unfollow(user=alice, show=show)
    assert followed(alice) == []
    assert Watch.objects.filter(user=alice).count() == 3
    watch(alice, show, "1x04")
    assert followed(alice) == ["saga"]


def test_following_the_shows_of_imported_episodes(outsider, show):
    other = make_show("other", seasons=1, episodes=2)
    make_show("untouched", seasons=1, episodes=2)
    ids = [episode(show, "1x01").pk, episode(other, "1x02").pk, episode(show, "1x02").pk]
    Follow.objects.follow_shows_of(user=outsider, episode_ids=ids)
    assert followed(outsider) == ["other", "saga"]


def test_a_visitor_follows_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    assert list(Follow.objects.shows_of(AnonymousUser())) == []


# --- The gap -------------------------------------------------------------------------------------


def test_no_gap_when_the_run_is_unbroken(alice, show):
    assert show.gap_for(alice, show.safe_point_for(alice)) is None


def test_a_gap_names_what_was_skipped_in_one_query(outsider, show):
    watch(outsider, show, "1x01", "1x02", "1x05", "2x01", "2x03")
    point = show.safe_point_for(outsider)
    with CaptureQueriesContext(connection) as queries:
        gap = show.gap_for(outsider, point)
        label = gap.missing_label
    assert len(queries) == 1
    assert gap.furthest.short_label == "S2E3" and point.short_label == "S1E2"
    assert label == "S1E3–S1E4 and S2E2"
    assert [(a.short_label, b.short_label) for a, b in gap.runs] == [
        ("S1E3", "S1E4"),
        ("S2E2", "S2E2"),
    ]


def test_a_gap_with_nothing_safe_yet(outsider, show):
    watch(outsider, show, "2x01")
    gap = show.gap_for(outsider, show.safe_point_for(outsider))
    assert gap.missing_label == "S1E1–S1E5"


def test_many_gaps_are_summed_up(outsider, epic):
    watch(outsider, epic, *[f"1x{n}" for n in (2, 4, 6, 8, 10)])
    gap = epic.gap_for(outsider, epic.safe_point_for(outsider))
    assert gap.missing_label == "S1E1, S1E3, S1E5 and 2 more"


# --- Up next for many shows ----------------------------------------------------------------------


def test_up_next_for_many_shows_comes_with_their_safe_points(alice, show):
    others = [make_show(f"more{n}", seasons=1, episodes=3) for n in range(4)]
    watch(alice, others[0], "1x1", "1x3")
    shows = [show, *others]
    with CaptureQueriesContext(connection) as queries:
        runs = Show.runs_for(alice, shows)
    assert len(queries) == 1
    assert runs[show.pk].up_next.short_label == "S1E4"
    assert runs[others[0].pk].up_next.short_label == "S1E2"
    assert runs[others[1].pk].up_next.short_label == "S1E1"
    watch(alice, others[2], "1x1", "1x2", "1x3")
    assert Show.runs_for(alice, shows)[others[2].pk].up_next is None


# --- The content stamp read with the run ---------------------------------------------------------


@pytest.fixture
def stamped(db):
    return make_stamped_show()


@pytest.mark.parametrize(
    "watched, revealed",
    [
        ((), ()),
        (("0x1",), ()),
        (("1x1", "1x2"), ("1x1", "1x2")),
        (("1x1", "1x2", "0x1"), ("1x1", "1x2", "0x1")),
        (("1x1", "1x2", "1x3", "0x1", "0x2"), ("1x1", "1x2", "0x1", "1x3")),
        (("1x1", "1x2", "1x3", "2x1"), ("1x1", "1x2", "0x1", "1x3", "2x1")),
        (("1x1", "1x2", "1x3", "2x1", "0x2", "2x3"), ("1x1", "1x2", "0x1", "1x3", "2x1", "0x2")),
    ],
)
def test_the_run_reads_the_content_stamp_of_what_its_point_reveals(
    outsider, stamped, watched, revealed
):
    watch(outsider, stamped, *watched)
    run = Show.runs_for(outsider, [stamped])[stamped.pk]
    assert run.content_stamp == sum(episode(stamped, code).content_stamp for code in revealed)
    assert run.content_stamp == stamped.content_stamp_at(run.point)


def test_the_run_found_by_bisection_is_the_run_walked():
    places = [3, 5, 8, 13, 21, 34]
    for chosen in range(2 ** len(places)):
        watched = [place for at, place in enumerate(places) if chosen >> at & 1]
        walked = 0
        while walked < len(places) and places[walked] in watched:
            walked += 1
        assert run_length(places, watched) == walked, watched
