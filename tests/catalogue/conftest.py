import hashlib
import io
import json
import re
from pathlib import Path

import httpx
import pytest
from PIL import Image

from catalogue import tvmaze

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tvmaze"
# The query each recorded endpoint must be asked with; anything else is a 400, as a wrong call would
# fetch the wrong data from TVmaze.
EXPECTED_QUERY = {
    r"/shows/\d+": "embed[]=episodes&embed[]=cast",
    r"/shows/\d+/episodes": "specials=1",
}
# The sizes TVmaze's image host serves each kind of file in (the "resolutions" of /shows/:id/images).
IMAGE_SIZES = {
    "medium_portrait": (210, 295),
    "medium_landscape": (250, 140),
    "original_untouched": (680, 1000),
}


def tvmaze_jpeg(path: str) -> bytes:
    """A JPEG of the size TVmaze serves at this path, coloured by the path: each image differs."""
    kind = path.split("/")[3]
    colour = tuple(hashlib.sha256(path.encode()).digest()[:3])
    out = io.BytesIO()
    Image.new("RGB", IMAGE_SIZES.get(kind, (680, 1000)), colour).save(out, "JPEG")
    return out.getvalue()


class Recorded:
    """Serves tests/fixtures/tvmaze/ as TVmaze would, and keeps every request it was sent."""

    def __init__(self, extra: dict[str, object] | None = None):
        self.requests: list[httpx.Request] = []
        # URL path (or "path?query") -> JSON, or an int status to answer with.
        self.extra = dict(extra or {})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, query = request.url.path, httpx.QueryParams(request.url.query)
        for key in (f"{path}?{request.url.query.decode()}", path):
            if key in self.extra:
                value = self.extra[key]
                if isinstance(value, int):
                    return httpx.Response(value)
                if isinstance(value, bytes):
                    return httpx.Response(200, content=value)
                return httpx.Response(200, json=value)
        if request.url.host == "static.tvmaze.com" and path.startswith("/uploads/images/"):
            return httpx.Response(
                200, content=tvmaze_jpeg(path), headers={"Content-Type": "image/jpeg"}
            )
        for pattern, wanted in EXPECTED_QUERY.items():
            if re.fullmatch(pattern, path) and str(query) != str(httpx.QueryParams(wanted)):
                return httpx.Response(400, json={"message": f"unexpected query {query}"})
        if path == "/search/shows":
            name = "search-shows-" + re.sub(r"[^a-z0-9]+", "-", query.get("q", "").lower()).strip(
                "-"
            )
        else:
            name = path.strip("/").replace("/", "-")
        file = FIXTURES / f"{name}.json"
        if not file.is_file():
            return httpx.Response(404, json={"name": "Not Found", "status": 404})
        return httpx.Response(200, json=json.loads(file.read_text()))

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Every TVmaze client in a test replays the recordings; the rate limit never sleeps."""
    recorded = Recorded()
    monkeypatch.setattr(tvmaze, "TRANSPORT", httpx.MockTransport(recorded))
    monkeypatch.setattr(tvmaze, "RATE_LIMIT", tvmaze.RateLimit(sleep=lambda seconds: None))
    return recorded


@pytest.fixture
def recorded(_no_network):
    return _no_network


def load(name: str):
    return json.loads((FIXTURES / name).read_text())
