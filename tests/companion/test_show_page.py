"""The show page on a phone: finished seasons folded, the viewer's season open, a season's own
progress and "Mark season watched", rows that a plain form comes back to (issue 16, items 2, 8)."""

import re

import pytest

from companion.models import Watch
from tests.factories import episode, make_user, watch
from tests.helpers import HTMX


def squashed(response) -> str:
    return " ".join(response.content.decode().split())


def season_fold(body: str, number: int) -> str:
    """The opening tag of a season's <details>."""
    found = re.search(rf'<details class="season-fold" id="season-{number}-fold"[^>]*>', body)
    assert found is not None, f"no fold for season {number}"
    return found[0]


@pytest.fixture
def finished_first(show):
    """A viewer who has watched all of season 1 and 2x1."""
    viewer = make_user("carol")
    watch(viewer, show, *[f"1x{n}" for n in range(1, 6)], "2x1")
    return viewer


def test_a_finished_season_is_folded_with_its_count_and_the_current_one_open(
    client, finished_first
):
    client.force_login(finished_first)
    body = squashed(client.get("/shows/saga/"))
    assert 'Season 1 <span class="season-count">· 5 of 5 watched</span>' in body
    assert 'Season 2 <span class="season-count">· 1 of 5 watched</span>' in body
    assert " open" not in season_fold(body, 1) and " open" in season_fold(body, 2)
    # The page lands on the season the viewer is in: a marker site.js scrolls to, no inline script.
    assert re.search(r'<section class="season" aria-labelledby="season-2" data-land-here>', body)
    assert body.count("data-land-here") == 1
    # A folded season's rows are not rendered: unfolding loads them, or without JavaScript its
    # link opens it on the page.
    assert 'id="season-1-episodes"' not in body and "RECAP-saga-1x5" not in body
    assert 'hx-get="/shows/saga/seasons/1/"' in season_fold(body, 1)
    assert '<a href="?season=1#season-1">Open season 1</a>' in body
    opened = squashed(client.get("/shows/saga/?season=1"))
    assert " open" in season_fold(opened, 1) and " open" in season_fold(opened, 2)
    assert 'id="season-1-episodes"' in opened and "RECAP-saga-1x5" in opened


def test_only_the_viewers_season_is_rendered_however_short_the_show(alice_client):
    body = squashed(alice_client.get("/shows/saga/"))
    assert " open" in season_fold(body, 1) and " open" not in season_fold(body, 2)
    assert 'id="season-1-episodes"' in body and 'id="season-2-episodes"' not in body
    assert "TITLE-saga-2x1" not in body
    unfolded = squashed(alice_client.get("/shows/saga/seasons/2/", **HTMX))
    assert 'id="season-2-episodes"' in unfolded and "TITLE-saga-2x1" in unfolded


def test_a_viewer_at_the_start_lands_at_the_top(alice_client):
    body = squashed(alice_client.get("/shows/saga/"))
    assert "data-land-here" not in body
    assert " open" in season_fold(body, 1)


def test_each_unfinished_season_offers_mark_season_watched(alice_client):
    body = squashed(alice_client.get("/shows/saga/"))
    assert body.count('action="/shows/saga/seasons/1/watch/"') == 1
    assert body.count('action="/shows/saga/seasons/2/watch/"') == 1


def test_a_visitor_sees_episode_counts_and_no_season_marks(client, show):
    body = squashed(client.get("/shows/saga/"))
    assert 'Season 1 <span class="season-count">· 5 episodes</span>' in body
    assert "/seasons/1/watch/" not in body


def test_mark_season_watched_without_javascript_comes_back_to_the_season(alice_client, alice):
    response = alice_client.post(
        "/shows/saga/seasons/2/watch/", {"next": "/shows/saga/?season=2#season-2"}
    )
    assert response.status_code == 302 and response["Location"] == "/shows/saga/?season=2#season-2"
    codes = sorted(
        w.episode.code for w in Watch.objects.filter(user=alice).select_related("episode")
    )
    assert codes == ["1x1", "1x2", "1x3", *[f"2x{n}" for n in range(1, 6)]]
    # A gap remains before season 2, so nothing in it unlocks: the progress box names the gap.
    body = squashed(alice_client.get("/shows/saga/"))
    assert "Marked 5 more episodes of season 2 watched." in body
    assert "RECAP-saga-2x1" not in body and "but not S1E4–S1E5" in body


def test_mark_season_watched_with_htmx_returns_the_season_and_every_count(alice_client, alice):
    response = alice_client.post("/shows/saga/seasons/1/watch/", **HTMX)
    body = squashed(response)
    assert body.startswith('<details class="season-fold" id="season-1-fold" open>')
    assert "RECAP-saga-1x5" in body and "RECAP-saga-2x1" not in body
    assert 'id="season-1-head" hx-swap-oob="true"' in body
    assert 'id="season-2-head" hx-swap-oob="true"' in body
    assert "· 5 of 5 watched" in body and '<div id="progress" hx-swap-oob="true">' in body
    assert '"safe-point-changed"' in response["HX-Trigger"]
    assert "/seasons/1/watch/" not in body, "a finished season offers no mark"


def test_mark_season_watched_is_a_post_and_needs_an_account(client, alice_client, alice, show):
    assert alice_client.get("/shows/saga/seasons/1/watch/").status_code == 405
    assert alice_client.post("/shows/saga/seasons/9/watch/").status_code == 404
    assert Watch.objects.filter(user=alice).count() == 3
    client.logout()
    response = client.post("/shows/saga/seasons/1/watch/")
    assert response["Location"].startswith("/accounts/login/")


def test_every_row_mark_comes_back_to_its_own_row_without_javascript(alice_client, show):
    body = alice_client.get("/shows/saga/").content.decode()
    for row in re.findall(r'<li class="episode[^"]*" id="episode-(\d+)">(.*?)</li>', body, re.S):
        pk, html = row
        nexts = set(re.findall(r'name="next" value="([^"]+)"', html))
        assert nexts and all(n.endswith(f"#episode-{pk}") for n in nexts), (pk, nexts)
    target = episode(show, "2x2")
    next_url = f"/shows/saga/?season=2#episode-{target.pk}"
    response = alice_client.post("/shows/saga/s2/e2/watch/", {"next": next_url})
    assert response["Location"] == next_url


def test_up_to_here_without_javascript_asks_on_a_small_page_first(alice_client, alice):
    body = alice_client.get("/shows/saga/?season=2").content.decode()
    form = re.search(
        r'<form method="get" action="/shows/saga/s2/e2/watch-up-to/confirm/"[^>]*>', body
    )
    assert form and 'hx-post="/shows/saga/s2/e2/watch-up-to/"' in form[0]
    assert 'data-confirm="Mark every episode up to S2E2 as watched?"' in form[0]
    page = alice_client.get("/shows/saga/s2/e2/watch-up-to/confirm/?next=/shows/saga/%23episode-1")
    text = squashed(page)
    assert "Mark every episode up to S2E2 as watched?" in text
    assert "That marks 4 episodes of Saga you have not marked yet" in text
    assert (
        'action="/shows/saga/s2/e2/watch-up-to/"' in text
        and 'value="/shows/saga/#episode-1"' in text
    )
    assert Watch.objects.filter(user=alice).count() == 3, "asking marks nothing"
    alice_client.post("/shows/saga/s2/e2/watch-up-to/", {"next": "/shows/saga/#episode-1"})
    assert Watch.objects.filter(user=alice).count() == 7


def test_the_confirmation_page_sends_nobody_off_the_site(alice_client):
    body = alice_client.get("/shows/saga/s1/e5/watch-up-to/confirm/?next=https://evil.example/")
    assert "evil.example" not in body.content.decode()
    assert alice_client.get("/shows/saga/s9/e1/watch-up-to/confirm/").status_code == 404


def test_a_long_premise_folds_after_its_first_lines(alice_client, show):
    show.premise = "A long premise. " * 20
    show.save()
    body = alice_client.get("/shows/saga/").content.decode()
    assert '<details class="premise lead"><summary><span class="premise-text">' in body
    show.premise = "Short."
    show.save()
    assert '<p class="lead">Short.</p>' in alice_client.get("/shows/saga/").content.decode()


def test_a_mark_that_unlocks_nothing_updates_its_own_seasons_count_only(alice_client):
    response = alice_client.post("/shows/saga/s2/e3/watch/", **HTMX)
    body = squashed(response)
    assert body.startswith('<li class="episode watched"')
    assert 'id="season-2-head" hx-swap-oob="true"' in body and "· 1 of 5 watched" in body
    assert 'id="season-1-head"' not in body
    assert "HX-Trigger" not in response


def test_a_mark_that_unlocks_sends_its_seasons_head_and_those_whose_period_it_reveals(
    alice_client, show
):
    body = squashed(alice_client.post("/shows/saga/s1/e4/watch/", **HTMX))
    assert 'id="season-1-head" hx-swap-oob="true"' in body and "· 4 of 5 watched" in body
    assert 'id="season-2-head"' not in body, "nothing about season 2 changed"
    # An editor set season 2's period to be revealed by season 1's finale.
    show.seasons.filter(number=2).update(period_revealed_at=episode(show, "1x05"))
    body = squashed(alice_client.post("/shows/saga/s1/e5/watch/", **HTMX))
    assert 'id="season-2-head" hx-swap-oob="true"' in body and "Period 2" in body
    body = squashed(alice_client.post("/shows/saga/s1/e5/unwatch/", **HTMX))
    assert 'id="season-2-head" hx-swap-oob="true"' in body and "Period 2" not in body


def test_a_mark_that_moves_the_safe_point_refreshes_the_tools_when_they_are_opened(
    alice_client, alice
):
    from companion.models import Party, Show

    party = Party.objects.create(show=Show.objects.get(slug="saga"), name="CREW", created_by=alice)
    party.members.add(alice)
    quiet = squashed(alice_client.post("/shows/saga/s2/e3/watch/", **HTMX))
    assert 'id="progress-tools"' not in quiet, "nothing unlocked: the tools stay as they are"
    body = squashed(alice_client.post("/shows/saga/s1/e4/watch/", **HTMX))
    tools = body[body.index('<div id="progress-tools" hx-swap-oob="true">') :]
    tools = tools[: tools.index("</details>")]
    # The old tools are replaced by a fold that fetches the new ones when it is opened.
    assert 'hx-get="/shows/saga/tools/" hx-trigger="toggle once"' in tools
    assert "<option" not in tools
    opened = squashed(alice_client.get("/shows/saga/tools/", **HTMX))
    assert '<option value="1x4" selected>' in opened
    assert '<option value="1x5"' not in opened, "nothing past the safe point to look back to"
    assert "Your watch parties: <a" in opened and "CREW" in opened


def test_the_page_loads_its_tools_when_they_are_opened_or_without_javascript_asked_for(
    alice_client,
):
    body = squashed(alice_client.get("/shows/saga/"))
    tools = body[body.index('<div id="progress-tools">') :]
    tools = tools[: tools.index("</details>")]
    assert 'hx-get="/shows/saga/tools/" hx-trigger="toggle once"' in tools
    assert "<option" not in tools and 'href="/shows/saga/?tools=1#progress-tools"' in tools
    asked = squashed(alice_client.get("/shows/saga/?tools=1"))
    tools = asked[asked.index('<div id="progress-tools">') :]
    assert '<details class="tools" open>' in tools and '<option value="1x3" selected>' in tools


def test_the_tools_need_a_login_and_htmx(client, alice_client):
    assert client.get("/shows/saga/tools/").status_code == 302
    assert alice_client.get("/shows/saga/tools/")["Location"] == "/shows/saga/"
    assert alice_client.get("/shows/nowhere/tools/", **HTMX).status_code == 404


@pytest.fixture
def extras(db):
    """Two seasons of three; a special airs after 1x02."""
    from companion.models import Episode, Season
    from tests.factories import make_show

    show = make_show("extras", seasons=2, episodes=3)
    specials = Season.objects.create(show=show, number=0)
    Episode.objects.create(
        season=specials, number=1, title="TITLE-extras-0x1", airs_after=episode(show, "1x2")
    )
    show.resequence()
    return show


def row_order(body: str) -> list[str]:
    """The episode codes of the show page's rows, in page order."""
    return re.findall(r'<span class="code">(S\d+E\d+)</span>', body)


def test_a_special_is_listed_in_its_aired_place_not_in_a_block_above(client, extras):
    viewer = make_user("dora")
    watch(viewer, extras, "1x1")
    client.force_login(viewer)
    body = squashed(client.get("/shows/extras/?season=2"))
    assert row_order(body) == ["S1E1", "S1E2", "S0E1", "S1E3", "S2E1", "S2E2", "S2E3"]
    assert 'id="season-0' not in body and ">Specials" not in body
    # Its row's controls swap the season it is listed in, and a plain form comes back to it there.
    special = episode(extras, "0x1")
    row = body[body.index(f'id="episode-{special.pk}"') :]
    row = row[: row.index("</li>")]
    assert 'hx-target="#season-1-episodes"' in row
    assert f"/shows/extras/?season=1#episode-{special.pk}" in row
    assert "Special" in row


def test_a_specials_title_is_hidden_like_any_unwatched_episodes(client, extras):
    viewer = make_user("dora", hide_unwatched_titles=True)
    watch(viewer, extras, "1x1")
    client.force_login(viewer)
    body = squashed(client.get("/shows/extras/"))
    assert "TITLE-extras-0x1" not in body and "TITLE-extras-1x3" not in body
    assert "TITLE-extras-1x1" in body
    watch(viewer, extras, "1x2", "0x1")
    assert "TITLE-extras-0x1" in squashed(client.get("/shows/extras/"))


def test_marking_a_special_with_htmx_answers_for_the_season_it_is_listed_in(client, extras):
    viewer = make_user("dora")
    watch(viewer, extras, "1x1", "1x2")
    client.force_login(viewer)
    special = episode(extras, "0x1")
    headers = HTMX | {"HTTP_HX_CURRENT_URL": "http://testserver/shows/extras/"}
    response = client.post("/shows/extras/s0/e1/watch/", {"next": "/shows/extras/"}, **headers)
    assert response.status_code == 200
    body = squashed(response)
    assert 'id="season-0' not in body
    assert f'id="episode-{special.pk}"' in body
    assert 'hx-target="#season-1-episodes"' in body
    assert Watch.objects.filter(user=viewer, episode=special).exists()


def test_the_season_fragment_holds_the_specials_that_air_in_it(client, extras):
    viewer = make_user("dora")
    client.force_login(viewer)
    headers = HTMX | {"HTTP_HX_CURRENT_URL": "http://testserver/shows/extras/"}
    assert row_order(squashed(client.get("/shows/extras/seasons/1/", **headers))) == [
        "S1E1",
        "S1E2",
        "S0E1",
        "S1E3",
    ]
    assert "S0E1" not in row_order(squashed(client.get("/shows/extras/seasons/2/", **headers)))


# --- A mark's message beside the row it is about ----------------------------------------------


def row_html(body: str, pk: int) -> str:
    start = body.index(f'id="episode-{pk}"')
    return body[start : body.index("</li>", start)]


def top_messages(body: str) -> str:
    start = body.index('id="messages"')
    return body[start : body.index("</div>", start)]


def test_without_javascript_a_marks_message_is_at_the_row_it_comes_back_to(alice_client, show):
    fifth = episode(show, "1x5")
    response = alice_client.post(
        "/shows/saga/s1/e5/watch/",
        {"next": f"/shows/saga/?season=1#episode-{fifth.pk}"},
        follow=True,
    )
    body = squashed(response)
    said = "Marked S1E5 watched, but it unlocks nothing yet"
    assert said in row_html(body, fifth.pk)
    # Still in the live region at the top for screen readers, but not shown there.
    assert said in top_messages(body) and "visually-hidden" in top_messages(body)
    # Shown once: the next visit has no message.
    assert said not in squashed(alice_client.get("/shows/saga/"))


def test_with_htmx_a_marks_message_comes_in_the_row(alice_client, show):
    fifth = episode(show, "1x5")
    body = squashed(alice_client.post("/shows/saga/s1/e5/watch/", {"next": "/"}, **HTMX))
    assert "Marked S1E5 watched, but it unlocks nothing yet" in row_html(body, fifth.pk)


def test_with_htmx_up_to_heres_message_comes_in_its_row_of_the_refreshed_season(alice_client, show):
    target = episode(show, "2x2")
    body = squashed(alice_client.post("/shows/saga/s2/e2/watch-up-to/", {"next": "/"}, **HTMX))
    assert "Marked 4 more episodes watched, up to S2E2." in row_html(body, target.pk)


def test_a_marks_message_elsewhere_stays_at_the_top(alice_client, show):
    fourth = episode(show, "1x4")
    body = squashed(
        alice_client.post("/shows/saga/s1/e4/watch-up-to/", {"next": fourth.url}, follow=True)
    )
    assert "Marked 1 more episode watched, up to S1E4." in top_messages(body)
    assert "visually-hidden" not in top_messages(body)


def heads_figures(user, show, **run) -> list[tuple]:
    from companion.models import Season

    return [
        (head.number, head.total, head.watched, head.first, head.last, head.last_watched)
        for head in Season.objects.heads(user, show, **run)
    ]


@pytest.mark.parametrize(
    "marks",
    [
        (),
        ("1x1",),
        ("1x1", "1x2", "0x1"),
        ("1x1", "1x2", "1x3", "2x1"),
        ("0x1",),
        ("1x1", "1x2", "1x3", "2x1", "2x2", "2x3", "0x1"),
        # Gaps: the counts come from the watches.
        ("1x1", "2x2"),
        ("1x1", "1x3", "0x1"),
    ],
)
def test_season_counts_from_the_run_are_the_counts_of_the_marks(extras, marks):
    """A shared show page counts each season's episodes watched from the viewer's run
    (Season.objects.heads with `run`), not from their watches: the two agree, specials and gaps
    included."""
    from companion.models import Show

    viewer = make_user("dora")
    watch(viewer, extras, *marks)
    run = Show.runs_for(viewer, [extras])[extras.pk]
    counted = heads_figures(viewer, extras)
    assert heads_figures(viewer, extras, run=run) == counted
    assert sum(watched for _, _, watched, *_ in counted) == len(marks)
