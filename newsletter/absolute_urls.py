"""Absolute URLs on settings.SITE_URL, for everything read away from the site: emails, feeds,
canonical and Open Graph tags, JSON-LD, the links in a subscriber's mail.

Never built on the request's host: the site may run behind a proxy, and SITE_URL may end in a path
prefix ("https://example.org/newsletter"), which is why a root-relative path is appended to it
rather than resolved with urljoin (which would drop the prefix).

- `site_url(path)`: a path this site made (reverse(), get_absolute_url(), request.path) under
  SITE_URL, appended as it is: a request for "//evil.example/" stays on the site.
- `absolute_url(url, base=None)`: a URL from content or storage made absolute. Absolute URLs
  (https:, mailto:) stay; "/media/x.jpg" goes under SITE_URL; other relative URLs ("#notes",
  "x.html", "", protocol-relative "//cdn.example.org/x") resolve against `base`, by default the
  site's root.
- `absolutize_urls(html, base)`: every href and src of an HTML fragment through `absolute_url`.
- `on_site_url(base)`: within the block, every URL above is built on `base` instead. An issue's
  email is made in two processes: its variants where the send starts (often the web process), the
  recipients' links in a task worker. Without SITE_URL in the environment each process defaults
  to its own PORT, so one email could link to two ports; a send therefore records the SITE_URL it
  started with, and its batches run inside `on_site_url(send.site_url)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from html import unescape
from urllib.parse import urljoin

from django.conf import settings
from django.utils.html import escape

_base: ContextVar[str | None] = ContextVar("site_url_base", default=None)


def site_url(path: str) -> str:
    """SITE_URL (or the base `on_site_url` set) + `path`, for a path that the site itself made."""
    return (_base.get() or settings.SITE_URL) + path


@contextmanager
def on_site_url(base: str) -> Iterator[None]:
    """Build every absolute URL on `base` (a SITE_URL value) within the block; "" keeps SITE_URL."""
    token = _base.set(base.rstrip("/") or None)
    try:
        yield
    finally:
        _base.reset(token)


def absolute_url(url: str, base: str | None = None) -> str:
    """`url` made absolute: root-relative paths under SITE_URL (keeping its path prefix), other
    relative URLs against `base` (SITE_URL's root when None); absolute URLs are returned as they are."""
    if url.startswith("/") and not url.startswith("//"):
        return site_url(url)
    return urljoin(base or site_url("/"), url)


# Sanitised HTML (nh3's output) always quotes attribute values with double quotes.
_URL_ATTRIBUTE = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


def absolutize_urls(html: str, base: str, *, keep: re.Pattern[str] | None = None) -> str:
    """Every href and src in sanitised HTML made absolute against `base` (mail clients and feed
    readers have no page address to resolve "/media/..." or "#anchor" against).

    A URL that `keep` matches in full (an email's placeholder token) is left as it is.
    """

    def absolute(match: re.Match[str]) -> str:
        url = unescape(match.group(2)).strip()
        if keep is not None and keep.fullmatch(url):
            return match.group(0)
        return f"{match.group(1)}{escape(absolute_url(url, base))}{match.group(3)}"

    return _URL_ATTRIBUTE.sub(absolute, html)
