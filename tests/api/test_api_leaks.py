"""Nothing past alice's point (1x03 of saga) leaves through any API route, and hidden looks missing."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from companion.models import Character, CharacterState, Recap, ReviewerNote
from tests.crawl import ROUTE_PARAMETER, plugged_in, routes

LATER = [f"{s}x{e}" for s, e in [(1, 4), (1, 5)] + [(2, n) for n in range(1, 6)]]
# Revealed after 1x03: later recaps, notes and synopses (hidden by default), Zed Quist, Ada's death.
SPOILERS = (
    [f"RECAP-saga-{code}" for code in LATER]
    + [f"NOTE-saga-{code}" for code in LATER]
    + [f"SYNOPSIS-saga-{code}" for code in LATER]
    + ["Zed Quist", "STATE-Ada-2x02", "PLACE-Ada-2x02", "dead"]
)
SAFE = ["RECAP-saga-1x3", "NOTE-saga-1x1", "STATE-Ada-1x03", "Ada", "TITLE-saga-1x4"]
SEARCHES = ["saga", "RECAP", "NOTE", "STATE", "Zed Quist", "Ada", "TITLE", "SYNOPSIS", "dead"]


def api_urls() -> list[str]:
    """Every API route with every key in the database plugged in, hidden or not, and a missing one."""
    public_ids = [
        public_id
        for model in (Recap, ReviewerNote, Character, CharacterState)
        for public_id in model.objects.values_list("public_id", flat=True)
    ] + ["x" * 16]
    values: dict[str, list] = {
        "slug": ["saga", "nope"],
        "season": [{"season": s, "number": n} for s in (0, 1, 2, 9) for n in (1, 4, 5)],
        "public_id": public_ids,
        # The media server webhooks under /api/hooks/ answer a GET with a JSON 405.
        "server": ["plex", "nope"],
        "secret": ["sfm_none"],
    }
    urls = []
    for route in routes():
        if not route.startswith("api/"):
            continue
        filled: list[dict] = [{}]
        for name in dict.fromkeys(ROUTE_PARAMETER.findall(route)):
            if name == "number":
                continue
            filled = [
                {**f, **(v if isinstance(v, dict) else {name: v})}
                for f in filled
                for v in values[name]
            ]
        for parts in filled:
            urls.append("/" + ROUTE_PARAMETER.sub(plugged_in(parts), route))
    urls = list(dict.fromkeys(urls))
    searches = [u for u in urls if u.endswith("/search/")]
    return urls + [f"{u}?q={term}" for u in searches for term in SEARCHES]


def test_no_api_response_holds_anything_past_the_safe_point(alice_api, show):
    served = ""
    urls = api_urls()
    assert len(urls) > 100
    for url in urls:
        response = alice_api.get(url)
        assert response.status_code < 500, url
        assert response["Content-Type"].startswith(("application/json", "text/html")), url
        body = response.content.decode()
        if url.split("?")[0].endswith("/search/") and response.status_code == 200:
            # The search echoes what was typed; that is not content.
            body = json.dumps({k: v for k, v in response.json().items() if k != "query"})
        found = [s for s in SPOILERS if s in body]
        assert not found, f"{url} served {found}"
        served += body
    for text in SAFE:
        assert text in served


def test_marking_answers_hold_nothing_past_the_new_point(alice_api, show):
    body = alice_api.post("/api/v1/shows/saga/episodes/1/4/watched/").content.decode()
    assert "SYNOPSIS-saga-1x5" not in body and "RECAP-saga-1x5" not in body
    body = alice_api.post("/api/v1/shows/saga/episodes/1/5/watched-up-to/").content.decode()
    assert "SYNOPSIS-saga-2x2" not in body


def fetch(client, url: str) -> tuple[int, bytes, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, response.content, len(queries)


@pytest.mark.parametrize(
    "kind,model,hidden",
    [
        ("recaps", Recap, {"text": "RECAP-saga-2x5"}),
        ("notes", ReviewerNote, {"text": "NOTE-saga-2x1"}),
        ("characters", Character, {"name": "Zed Quist"}),
    ],
)
def test_a_hidden_public_id_answers_exactly_as_a_missing_one(alice_api, show, kind, model, hidden):
    public_id = model.objects.get(**hidden).public_id
    alice_api.get("/api/v1/shows/")  # the token's first use is recorded once, then not for a minute
    got = fetch(alice_api, f"/api/v1/shows/saga/{kind}/{public_id}/")
    expected = fetch(alice_api, f"/api/v1/shows/saga/{kind}/{'x' * len(public_id)}/")
    assert got[0] == expected[0] == 404
    assert got[1] == expected[1]
    assert got[2] == expected[2], (
        f"{got[2]} queries for a hidden id, {expected[2]} for a missing one"
    )


def test_another_shows_public_id_answers_as_missing(alice_api, show):
    from tests.factories import make_show

    other = make_show("other", seasons=1, episodes=1)
    public_id = Recap.objects.get(episode__show=other).public_id
    assert (
        fetch(alice_api, f"/api/v1/shows/saga/recaps/{public_id}/")[:2]
        == fetch(alice_api, "/api/v1/shows/saga/recaps/missingmissingmi/")[:2]
    )
