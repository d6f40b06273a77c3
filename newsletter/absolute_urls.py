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
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

from django.conf import settings
from django.utils.html import escape


def site_url(path: str) -> str:
    """SITE_URL + `path`, for a path that the site itself made."""
    return settings.SITE_URL + path


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
