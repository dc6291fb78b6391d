"""The Redis cache backend, logging an outage once when it starts and once when it ends."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django_redis.cache import RedisCache as BaseRedisCache  # type: ignore[import-untyped]
from django_redis.exceptions import ConnectionInterrupted  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)


class Outage:
    """Whether calls to one Redis server are failing, shared by every thread of the process."""

    def __init__(self, location: str):
        self.location = location
        self.lock = threading.Lock()
        self.since: float | None = None
        self.failures = 0

    def failed(self, error: ConnectionInterrupted) -> None:
        with self.lock:
            self.failures += 1
            if self.since is not None:
                return
            self.since = time.monotonic()
        # One line, no traceback: with Redis down every request fails several cache calls, and a
        # traceback for each filled the log with megabytes in seconds.
        logger.warning(
            "Cache unreachable (%s); serving pages uncached until it is back.",
            error.__cause__ or error,
        )

    def succeeded(self) -> None:
        if self.since is None:  # the usual case, without taking the lock
            return
        with self.lock:
            if self.since is None:
                return
            lasted, failures = time.monotonic() - self.since, self.failures
            self.since, self.failures = None, 0
        logger.warning(
            "Cache back after %.1f s; %d cache calls failed meanwhile.", lasted, failures
        )


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def outage_for(location: str) -> Outage:
    with _outages_lock:
        return _outages.setdefault(location, Outage(location))


# Client methods that do not talk to Redis, so returning is no sign that Redis answered.
NOT_COMMANDS = {"close", "make_key", "make_pattern", "reverse_key", "encode", "decode"}


class _WatchedClient:
    """The django-redis client, telling the outage of each call's failure or success."""

    def __init__(self, client: Any, outage: Outage):
        self._client = client
        self._outage = outage

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                result = attribute(*args, **kwargs)
            except ConnectionInterrupted as error:
                self._outage.failed(error)
                raise  # django-redis turns it into a miss, as IGNORE_EXCEPTIONS asks
            # get_many([]) and the like return at once, without asking Redis.
            asked = name not in NOT_COMMANDS and not (
                name.endswith("_many") and args and not args[0]
            )
            if asked:
                self._outage.succeeded()
            return result

        return call


class RedisCache(BaseRedisCache):
    """django-redis's cache; failed calls are misses, and the log says when Redis went and came back."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # Ours says it once per outage instead of a traceback per call.
        self._log_ignored_exceptions = False
        self._outage = outage_for(str(server))
        self._watched: _WatchedClient | None = None

    @property
    def client(self):
        if self._watched is None:
            self._watched = _WatchedClient(super().client, self._outage)
        return self._watched
