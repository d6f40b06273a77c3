"""The client's IP address, read the same way everywhere: sign-up rate limits, consent records and
the admin's login protection (django-axes calls `client_ip` through AXES_CLIENT_IP_CALLABLE)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
