"""Rate limits for the public sign-up form, kept in Django's cache (Redis in production).

A fixed window per (bucket, key): the first hit in a window creates the counter with cache.add,
later hits increment it atomically. Keys are hashed, so no address or IP ends up in a cache key.
It is a few lines rather than django-ratelimit because we need it in one place, called from a
view with the normalised address as one of its keys.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


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
    window = int(time.time() // limit.period)
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    cache_key = f"ratelimit:{limit.bucket}:{window}:{digest}"
    if cache.add(cache_key, 1, timeout=limit.period + 60):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, timeout=limit.period + 60)
            count = 1
    if count > limit.max_hits:
        raise RateLimited(limit)


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP: REMOTE_ADDR, or with settings.TRUSTED_PROXY_COUNT = n > 0, the address the
    n-th proxy from the right of X-Forwarded-For saw (only trust what your own proxies wrote)."""
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
