"""Marking episodes watched: one click with htmx, a plain POST without JavaScript."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from companion.models import Follow, Watch
from tests.factories import episode
from tests.helpers import HTMX


def watched_codes(user):
    return sorted(w.episode.code for w in Watch.objects.filter(user=user).select_related("episode"))


def test_htmx_mark_returns_the_episode_list_with_what_it_unlocked(alice_client, alice):
    response = alice_client.post("/shows/saga/s1/e4/watch/", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<ol class="episodes" id="season-1-episodes"')
    assert "RECAP-saga-1x4" in body
    assert '<div id="progress" hx-swap-oob="true">' in body
    assert "4 of 10 watched" in body
    assert "RECAP-saga-1x5" not in body
    assert '"safe-point-changed"' in response["HX-Trigger"]


def test_closing_a_gap_unlocks_everything_after_it(alice_client, alice, show):
    Watch.objects.mark_watched(user=alice, episode=episode(show, "1x05"))
    body = alice_client.post("/shows/saga/s1/e4/watch/", **HTMX).content.decode()
    assert "RECAP-saga-1x4" in body and "RECAP-saga-1x5" in body


def test_unmarking_takes_the_content_away_again(alice_client, alice):
    body = alice_client.post("/shows/saga/s1/e3/unwatch/", **HTMX).content.decode()
    assert "RECAP-saga-1x3" not in body and "RECAP-saga-1x2" in body
    assert watched_codes(alice) == ["1x1", "1x2"]


def test_episode_page_mark_returns_the_episode_fragment(alice_client):
    response = alice_client.post("/shows/saga/s1/e4/watch/", **HTMX, HTTP_HX_TARGET="episode-main")
    body = response.content.decode()
    assert body.lstrip().startswith('<article id="episode-main"')
    assert "RECAP-saga-1x4" in body and "NOTE-saga-1x4" in body


def test_marking_twice_leaves_one_record(alice_client, alice, show):
    alice_client.post("/shows/saga/s1/e4/watch/", **HTMX)
    alice_client.post("/shows/saga/s1/e4/watch/", **HTMX)
    assert Watch.objects.filter(user=alice, episode=episode(show, "1x4")).count() == 1


def test_up_to_here_marks_the_whole_prefix_in_one_request(client, show, outsider):
    client.force_login(outsider)
    response = client.post("/shows/saga/s2/e2/watch-up-to/", **HTMX)
    assert response.status_code == 200
    assert len(watched_codes(outsider)) == 7
    assert "RECAP-saga-2x2" in response.content.decode()
    assert "Marked 7 more episodes watched" in response.content.decode()


def test_without_javascript_a_plain_post_redirects_back(alice_client, alice):
    response = alice_client.post("/shows/saga/s1/e4/watch/", {"next": "/shows/saga/s1/e4/"})
    assert response.status_code == 302 and response["Location"] == "/shows/saga/s1/e4/"
    assert "1x4" in watched_codes(alice)


def test_redirect_target_must_be_on_this_site(alice_client):
    response = alice_client.post("/shows/saga/s1/e4/watch/", {"next": "https://evil.example/"})
    assert response["Location"] == "/shows/saga/"


def test_anonymous_post_goes_to_login_and_changes_nothing(client, show):
    response = client.post("/shows/saga/s1/e1/watch/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Watch.objects.exists()


def test_anonymous_htmx_post_redirects_the_whole_page_to_login(client, show):
    response = client.post("/shows/saga/s1/e1/watch/", **HTMX)
    assert response["HX-Redirect"] == "/accounts/login/?next=/shows/saga/"
    assert not Watch.objects.exists()


def test_marking_requires_a_csrf_token(alice, show):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/shows/saga/s1/e4/watch/", **HTMX)
    assert response.status_code == 403
    assert "1x4" not in watched_codes(alice)
    page = client.get("/shows/saga/").content.decode()
    # The token as a browser finds it: htmx sends the one in the body's hx-headers.
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post("/shows/saga/s1/e4/watch/", HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert "1x4" in watched_codes(alice)


def test_forged_user_field_cannot_touch_another_viewers_records(alice_client, alice, bob):
    before = watched_codes(bob)
    alice_client.post("/shows/saga/s2/e5/unwatch/", {"user": bob.pk, "user_id": bob.pk}, **HTMX)
    alice_client.post("/shows/saga/s1/e3/unwatch/", {"user": bob.pk}, **HTMX)
    assert watched_codes(bob) == before
    assert watched_codes(alice) == ["1x1", "1x2"]


@pytest.mark.parametrize(
    "url",
    ["/shows/saga/s1/e4/watch/", "/shows/saga/s1/e4/unwatch/", "/shows/saga/s1/e4/watch-up-to/"],
)
def test_get_never_changes_progress(alice_client, alice, url):
    response = alice_client.get(url)
    assert response.status_code == 405
    assert watched_codes(alice) == ["1x1", "1x2", "1x3"]


@pytest.mark.parametrize(
    "url", ["/shows/saga/s9/e1/watch/", "/shows/nope/s1/e1/watch/", "/shows/saga/s1/e0/watch/"]
)
def test_marking_a_missing_episode_is_404_and_changes_nothing(alice_client, alice, url):
    assert alice_client.post(url, **HTMX).status_code == 404
    assert watched_codes(alice) == ["1x1", "1x2", "1x3"]


def test_marking_in_a_long_show_returns_just_that_season(client, outsider, epic):
    client.force_login(outsider)
    body = client.post("/shows/epic/s3/e2/watch-up-to/", **HTMX).content.decode()
    assert 'id="season-3-episodes"' in body and "RECAP-epic-3x2" in body
    assert 'id="season-2-episodes"' not in body and "RECAP-epic-2x1" not in body


def test_marking_past_a_gap_returns_just_that_row(alice_client, alice, show):
    target = episode(show, "2x2")
    response = alice_client.post("/shows/saga/s2/e2/watch/", **HTMX)
    body = response.content.decode()
    assert response["HX-Retarget"] == f"#episode-{target.pk}"
    assert body.lstrip().startswith(f'<li class="episode watched" id="episode-{target.pk}"')
    assert "4 of 10 watched" in body and "Safe up to <strong>S1E3</strong>" in body
    assert "RECAP-saga-2x2" not in body and "HX-Trigger" not in response


def test_progress_says_what_is_up_next_and_keeps_it_current(alice_client):
    assert (
        'Up next: <a href="/shows/saga/s1/e4/">S1E4 TITLE-saga-1x4</a>'
        in alice_client.get("/shows/saga/").content.decode()
    )
    body = alice_client.post("/shows/saga/s1/e4/watch/", **HTMX).content.decode()
    assert 'Up next: <a href="/shows/saga/s1/e5/">S1E5 TITLE-saga-1x5</a>' in body


def test_anonymous_htmx_redirect_keeps_the_whole_page_address(client, show):
    response = client.post(
        "/shows/saga/s1/e1/watch/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/shows/saga/search/?q=a&b=c",
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=/shows/saga/search/%3Fq%3Da%26b%3Dc"


def test_marking_many_keeps_first_dates_and_follows_their_shows(outsider, show):
    first = datetime(2024, 1, 1, tzinfo=UTC)
    Watch.objects.mark_watched(user=outsider, episode=episode(show, "1x01"))
    marked = dict(Watch.objects.filter(user=outsider).values_list("episode_id", "watched_at"))
    added = Watch.objects.mark_many(
        user=outsider,
        episodes={episode(show, "1x01").pk: first, episode(show, "1x02").pk: first},
    )
    assert added == 1
    dates = dict(Watch.objects.filter(user=outsider).values_list("episode_id", "watched_at"))
    assert dates[episode(show, "1x01").pk] == marked[episode(show, "1x01").pk]
    assert dates[episode(show, "1x02").pk] == first
    assert Follow.objects.filter(user=outsider, show=show).count() == 1
