"""Rate limits for the public sign-up form, counted where every worker and machine sees them.

A fixed window per (bucket, key). Where the count lives is settings.RATELIMIT_STORE:
- "cache": Django's cache (Redis when REDIS_URL is set): the first hit in a window creates the
  counter with cache.add, later hits increment it atomically (Redis INCR);
- "database": a RateLimitCounter row per key and window, incremented with a conditional UPDATE
  (`hits < max`), so the sum over every process is enforced on SQLite and PostgreSQL alike.
The default is "cache" when REDIS_URL is set, else "database": the local-memory cache Django falls
back to is per process, and with several gunicorn workers each would keep its own count.

Keys are hashed, so no address or IP ends up in a cache key or a row. It is a few lines rather than
django-ratelimit because we need it in one place, called from a view with the normalised address as
one of its keys. (The send pipeline's rate limit is a different thing: a clock of sending slots in
the database, subscribers/sending/throttle.py. The admin login is protected by django-axes.)
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F

from newsletter.clientip import client_ip  # noqa: F401 - views and tests read it from here

from .models import RateLimitCounter

CACHE = "cache"
DATABASE = "database"
STORES = (CACHE, DATABASE)


@dataclass(frozen=True)
class Limit:
    bucket: str
    max_hits: int
    period: int  # seconds
    message: str


SIGNUPS_PER_IP = Limit(
    "signup-ip",
    max_hits=10,
    period=3600,
    message="Too many sign-ups from your network in the last hour. Please try again later.",
)
SIGNUPS_PER_ADDRESS = Limit(
    "signup-address",
    max_hits=3,
    period=3600,
    message=(
        "We have already sent several emails to this address in the last hour. Check your inbox "
        "(and spam folder), or try again later."
    ),
)


class RateLimited(Exception):
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.message = limit.message
        super().__init__(limit.message)


def hit(limit: Limit, key: str) -> None:
    """Count one attempt against `limit` for `key`; RateLimited once the window is full."""
    now = time.time()
    window = int(now // limit.period)
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    store = getattr(settings, "RATELIMIT_STORE", DATABASE)
    allowed = (
        _hit_cache(limit, digest, window) if store == CACHE else _hit_database(limit, digest, window, now)
    )
    if not allowed:
        raise RateLimited(limit)


def _hit_cache(limit: Limit, digest: str, window: int) -> bool:
    cache_key = f"ratelimit:{limit.bucket}:{window}:{digest}"
    if cache.add(cache_key, 1, timeout=limit.period + 60):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, timeout=limit.period + 60)
            count = 1
    return count <= limit.max_hits


def _hit_database(limit: Limit, digest: str, window: int, now: float) -> bool:
    if limit.max_hits <= 0:
        return False
    counter = RateLimitCounter.objects.filter(bucket=limit.bucket, key=digest, window=window)
    # One statement that counts the hit only while there is room: concurrent hits serialise on the
    # row (PostgreSQL re-checks `hits < max` after the lock; SQLite runs one writer at a time).
    if counter.filter(hits__lt=limit.max_hits).update(hits=F("hits") + 1):
        return True
    if counter.exists():
        return False
    ends = datetime.fromtimestamp((window + 1) * limit.period, tz=UTC)
    try:
        with transaction.atomic():
            RateLimitCounter.objects.create(
                bucket=limit.bucket, key=digest, window=window, hits=1, expires_at=ends
            )
    except IntegrityError:  # another process made this window's counter first: count on it
        return bool(counter.filter(hits__lt=limit.max_hits).update(hits=F("hits") + 1))
    # A new window started: forget the ones that have ended (a minute's grace for clock skew).
    RateLimitCounter.objects.filter(
        expires_at__lt=datetime.fromtimestamp(now, tz=UTC) - timedelta(minutes=1)
    ).delete()
    return True
