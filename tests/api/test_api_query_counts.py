"""The API's list endpoints cost the same queries with the fixture's few dozen items as with 1000 more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from companion.models import Watch
from tests.companion.test_query_counts import grow

LISTS = [
    "/api/v1/shows/",
    "/api/v1/shows/saga/",
    "/api/v1/shows/saga/episodes/",
    "/api/v1/shows/saga/progress/",
    "/api/v1/shows/saga/recaps/",
    "/api/v1/shows/saga/characters/",
    "/api/v1/shows/saga/notes/",
    "/api/v1/shows/saga/search/?q=RECAP",
    "/api/v1/following/",
]


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("url", LISTS)
def test_api_queries_do_not_grow_with_content(alice_api, alice, show, url):
    # The fixture holds some 30 items (10 recaps, 10 notes, 2 characters with 4 states);
    # far enough in that every list has a full page of what is visible.
    Watch.objects.mark_watched_up_to(user=alice, episode=show.episodes.order_by("sequence").last())
    alice_api.get("/api/v1/shows/")  # the token's first use is recorded once, then not for a minute
    small = count_queries(alice_api, url)
    grow(show, 1000)
    Watch.objects.mark_watched_up_to(user=alice, episode=show.episodes.order_by("sequence").last())
    assert count_queries(alice_api, url) == small
    # The token (1, and its last use at most once a minute), the safe point, the page.
    assert small <= 12
