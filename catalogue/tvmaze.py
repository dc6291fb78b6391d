"""TVmaze's API (https://www.tvmaze.com/api), read only by background jobs and the editors' search.

Every call waits for TVmaze's rate limit (20 calls in 10 seconds), has a timeout, and is retried
with backoff when TVmaze is slow, down or asks us to wait (429); when it still fails,
`TVmazeUnavailable` says so in words an editor can act on. Data is CC BY-SA 4.0: credit TVmaze.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

BASE_URL = "https://api.tvmaze.com"
USER_AGENT = "Spoilerfree/0.1 (catalogue import; https://github.com/spoilerfree)"
# Tests set this to an httpx.MockTransport, so no test can reach the network.
TRANSPORT: httpx.BaseTransport | None = None


class TVmazeUnavailable(Exception):
    """TVmaze could not be reached, or kept failing: try again later."""


class TVmazeNotFound(Exception):
    """TVmaze has no such show or episode (a 404)."""


class RateLimit:
    """At most `calls` requests in any `period` seconds, shared by every client in the process."""

    def __init__(
        self,
        calls: int = 20,
        period: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.calls, self.period = calls, period
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = self.clock()
            while self.sent and self.sent[0] <= now - self.period:
                self.sent.popleft()
            if len(self.sent) >= self.calls:
                # The oldest call in the window leaves it at sent[0] + period.
                self.sleep(self.sent[0] + self.period - now)
                now = self.clock()
                self.sent.popleft()
            self.sent.append(now)


# TVmaze counts calls per IP address, so every client of this process shares one limit.
RATE_LIMIT = RateLimit()


class Client:
    """The TVmaze endpoints the catalogue reads, each returning TVmaze's JSON as it is."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 1.0,
        rate_limit: RateLimit | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.retries, self.backoff, self.sleep = retries, backoff, sleep
        self.rate_limit = rate_limit or RATE_LIMIT
        self.http = httpx.Client(
            base_url=BASE_URL,
            timeout=timeout,
            transport=transport or TRANSPORT,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.http.close()

    def search_shows(self, query: str) -> list[dict[str, Any]]:
        """[{"score": ..., "show": {...}}, ...], best match first."""
        return self.get_json("/search/shows", {"q": query})

    def show(self, show_id: int) -> dict[str, Any]:
        """The show with its regular episodes and main cast under "_embedded"."""
        return self.get_json(
            f"/shows/{int(show_id)}", [("embed[]", "episodes"), ("embed[]", "cast")]
        )

    def episodes(self, show_id: int) -> list[dict[str, Any]]:
        """Every episode, specials included (numbered null, in the season they aired in)."""
        return self.get_json(f"/shows/{int(show_id)}/episodes", {"specials": "1"})

    def images(self, show_id: int) -> list[dict[str, Any]]:
        return self.get_json(f"/shows/{int(show_id)}/images")

    def guest_cast(self, episode_id: int) -> list[dict[str, Any]]:
        return self.get_json(f"/episodes/{int(episode_id)}/guestcast")

    def download(self, url: str) -> bytes:
        """An image from TVmaze's static host, whole."""
        return self.get(url).content

    def get_json(self, path: str, params=None) -> Any:
        response = self.get(path, params)
        try:
            return response.json()
        except ValueError:
            raise TVmazeUnavailable("TVmaze sent something that is not JSON.") from None

    def get(self, path: str, params=None) -> httpx.Response:
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            self.rate_limit.wait()
            try:
                response = self.http.get(path, params=params)
            except httpx.TimeoutException:
                problem = "it did not answer in time"
                continue
            except httpx.TransportError as error:
                problem = f"the connection failed: {error.__class__.__name__}"
                continue
            if response.status_code == 404:
                raise TVmazeNotFound(path)
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"it answered {response.status_code}"
                continue
            if response.status_code >= 400:
                raise TVmazeUnavailable(f"TVmaze refused the request ({response.status_code}).")
            return response
        raise TVmazeUnavailable(
            f"TVmaze could not be reached ({problem}, {self.retries + 1} tries). "
            "Try again in a few minutes."
        )
