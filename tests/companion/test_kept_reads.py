"""A season's episodes, the seasons' heads, an episode's page and a show's episodes for its runs
are read once per process for each version of the show's content (sql.listed_episodes,
sql.season_heads_of_run, sql.episode_page_of_run, sql.runs_of): outside a transaction, as a
worker serves pages, so these tests commit."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companion.models import Episode, Recap, Show
from tests.factories import episode, make_show, make_stamped_show, make_user, watch

pytestmark = pytest.mark.django_db(transaction=True)

SHOW = reverse("show-detail", args=["saga"])
# The statement that reads a season's episodes with a viewer's marks: a kept read replaces it.
EPISODES_WITH_MARKS = "LEFT JOIN companion_watch w ON w.episode_id = e.id AND w.user_id"
# The statement that counts each season's episodes.
SEASON_HEADS = "COUNT(e.id)"


def page(client) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SHOW)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in queries]


def marked(body: str) -> int:
    return body.count('aria-pressed="true"')


def test_a_show_page_at_a_new_point_lists_its_season_from_the_read_kept_and_its_own_marks(
    client, alice, show
):
    alice_page, statements = page(client.force_login(alice) or client)
    assert any(EPISODES_WITH_MARKS in sql for sql in statements)
    assert any(SEASON_HEADS in sql for sql in statements)
    assert marked(alice_page) == 3
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "1x04")
    client.force_login(carol)
    carol_page, statements = page(client)
    assert not any(EPISODES_WITH_MARKS in sql or SEASON_HEADS in sql for sql in statements)
    assert marked(carol_page) == 4 and "4 of 10 watched" in carol_page
    assert "4 of 5 watched" in carol_page and "0 of 5 watched" in carol_page
    # Carol's marks were set on her own copies: Alice's rows, built again, still show hers.
    cache.clear()
    client.force_login(alice)
    again, _ = page(client)
    assert marked(again) == 3 and "3 of 10 watched" in again


def test_an_episode_edited_after_its_season_was_read_shows_on_the_next_page(client, alice, show):
    client.force_login(alice)
    page(client)
    edited = episode(show, "1x05")
    edited.title = "RETITLED"
    edited.save()
    assert "RETITLED" in page(client)[0]
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "1x04")
    client.force_login(carol)
    assert "RETITLED" in page(client)[0]


def test_an_episode_added_after_the_seasons_were_read_is_counted_on_the_next_page(
    client, alice, show
):
    client.force_login(alice)
    assert "3 of 5 watched" in page(client)[0]
    last = episode(show, "2x05")
    Episode.objects.create(
        show=show, season=last.season, season_number=2, number=6, title="Added", sequence=100
    )
    body = page(client)[0]
    assert "3 of 11 watched" in body and "0 of 6 watched" in body


def test_a_mark_counts_the_seasons_from_the_read_kept(client, alice, show):
    client.force_login(alice)
    page(client)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/shows/saga/s1/e4/watch/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "4 of 5 watched" in body and "4 of 10 watched" in body
    assert not any(SEASON_HEADS in query["sql"] for query in queries)


EPISODE_4 = reverse("episode-detail", args=["saga", 1, 4])
# The statement that reads an episode with its neighbours and the viewer's mark.
EPISODE_PAGE = "WITH here AS"


def test_an_episode_page_reads_the_episode_kept_and_marks_it_from_the_run(client, alice, show):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as first:
        body = client.get(EPISODE_4).content.decode()
    assert any(EPISODE_PAGE in query["sql"] for query in first)
    assert 'aria-pressed="false"' in body and "Zed Quist" not in body
    carol = make_user("carol")
    watch(carol, show, "1x01", "1x02", "1x03", "1x04")
    client.force_login(carol)
    with CaptureQueriesContext(connection) as again:
        body = client.get(EPISODE_4).content.decode()
    assert not any(EPISODE_PAGE in query["sql"] for query in again)
    # Her mark, and what watching it unlocked: 1x04 is Zed Quist's first appearance.
    assert "✓ Watched · unmark" in body and "Zed Quist" in body
    edited = episode(show, "1x04")
    edited.title = "RETITLED"
    edited.save()
    assert "RETITLED" in client.get(EPISODE_4).content.decode()
    assert client.get(reverse("episode-detail", args=["saga", 1, 9])).status_code == 404


# --- Runs: each show's episodes kept, the viewer's marks and the content stamps read each time ---


def runs_now(user, show):
    run = Show.runs_for(user, [show])[show.pk]
    return run, {
        "point": (run.point.episode and run.point.episode.short_label, sorted(run.point.specials)),
        "specials": run.specials,
        "past_run": run.past_run,
        "next_season": run.next_season,
        "up_next": run.up_next and run.up_next.short_label,
        "content_stamp": run.content_stamp,
    }


@pytest.mark.parametrize(
    "watched",
    [
        (),
        ("0x1",),
        ("1x1", "1x2", "0x1"),
        ("1x1", "1x2", "1x3", "0x1", "0x2"),
        ("1x1", "1x2", "1x3", "2x1", "0x2", "2x3"),
        ("1x1", "1x2", "1x3", "2x1", "2x2", "2x3", "0x1", "0x2"),
    ],
)
def test_a_run_from_the_episodes_kept_is_the_run_read_afresh(watched):
    show = make_stamped_show()
    viewer = make_user("viewer")
    watch(viewer, show, *watched)
    kept = runs_now(viewer, show)[1]
    with transaction.atomic():
        afresh = runs_now(viewer, show)[1]
    assert kept == afresh


def test_an_edit_of_a_recap_in_the_run_shows_though_the_episodes_are_kept(client, alice, show):
    client.force_login(alice)
    page(client)
    before, _ = runs_now(alice, show)
    recap = Recap.objects.get(episode=episode(show, "1x02"))
    recap.text = "REWRITTEN-RECAP"
    recap.save()
    after, _ = runs_now(alice, show)
    assert after.content_stamp != before.content_stamp
    body = client.get(reverse("story", args=["saga"])).content.decode()
    assert "REWRITTEN-RECAP" in body


def test_an_episode_added_after_the_run_was_read_is_up_next(client, show):
    viewer = make_user("finisher")
    watch(viewer, show, *[f"{s}x0{n}" for s in (1, 2) for n in range(1, 6)])
    assert runs_now(viewer, show)[1]["up_next"] is None
    last = episode(show, "2x05")
    Episode.objects.create(
        show=show, season=last.season, season_number=2, number=6, title="Added", sequence=100
    )
    show.refresh_from_db()
    assert runs_now(viewer, show)[1]["up_next"] == "S2E6"


def test_a_run_for_a_show_edited_since_the_request_read_it_is_read_afresh(show):
    viewer = make_user("viewer")
    watch(viewer, show, "1x01", "1x02", "1x03", "1x04", "1x05", "2x01")
    as_read = Show.objects.get(pk=show.pk)
    assert runs_now(viewer, as_read)[1]["up_next"] == "S2E2"
    first = episode(show, "1x05").season
    Episode.objects.create(
        show=show, season=first, season_number=1, number=6, title="Inserted", sequence=1000
    )
    show.resequence()
    # The request read the show, with its old version, before the episode was put in its place.
    assert runs_now(viewer, as_read)[1]["up_next"] == "S1E6"


def test_runs_of_many_shows_are_one_statement_whether_their_episodes_are_kept_or_not(show):
    others = [make_show(f"more{n}", seasons=1, episodes=3) for n in range(4)]
    viewer = make_user("viewer")
    watch(viewer, others[0], "1x1", "1x3")
    watch(viewer, show, "1x01", "1x02")
    # As a request reads them: their versions as they stand.
    shows = list(Show.objects.filter(pk__in=[show.pk, *(other.pk for other in others)]))
    found = []
    for _ in ("first look", "kept"):
        with CaptureQueriesContext(connection) as queries:
            runs = Show.runs_for(viewer, shows)
        assert len(queries) == 1
        found.append({pk: (run.point, run.up_next) for pk, run in runs.items()})
    assert found[0] == found[1]
    assert found[1][others[0].pk][1].short_label == "S1E2"
    assert found[1][show.pk][1].short_label == "S1E3"
