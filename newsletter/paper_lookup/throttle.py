"""At most one request to a source every N seconds, across every process that shares the cache.

arXiv's terms ask for no more than one request every three seconds (ARXIV_MIN_INTERVAL). The slot
is a cache key added with `cache.add`, which is atomic on every backend Django ships (Redis SET NX,
the database cache's insert, the local-memory cache's lock) and expires after the interval: who
adds it may go; the others wait for it to expire, at most one interval, then give up with
RateLimited. The cache is the default one: Redis when REDIS_URL is set, so every web process and
worker shares the slot; the local-memory fallback is per process, which a single `runserver` or
one gunicorn worker is fine with (docs/paper-lookup.md).
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache, caches

from .errors import RateLimited

_POLL_SECONDS = 0.1


def wait_for_slot(source: str, interval: float) -> None:
    """Return once this process may send `source` a request; RateLimited if no slot comes within
    one interval (others are queueing for it too)."""
    if interval <= 0:
        return
    key = f"paper-lookup:slot:{source}"
    # Redis counts expiry in whole seconds: round up, never down, so the interval always holds.
    timeout = math.ceil(interval) if _whole_seconds_only() else interval
    deadline = time.monotonic() + interval
    while not cache.add(key, time.time(), timeout=timeout):
        if time.monotonic() >= deadline:
            raise RateLimited(
                f"{source} allows one request every {interval:g} seconds and others are waiting: "
                "try again in a moment."
            )
        time.sleep(_POLL_SECONDS)


def _whole_seconds_only() -> bool:
    module = type(caches["default"]).__module__
    return "redis" in module or "memcache" in module
