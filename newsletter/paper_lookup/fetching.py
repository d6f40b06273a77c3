"""One HTTP GET to a metadata source, the way each source asks to be called.

Every request carries a User-Agent naming the site and a contact address (PAPER_LOOKUP_CONTACT:
arXiv asks for one, and Crossref serves such requests from its "polite" pool), gives up after
PAPER_LOOKUP_TIMEOUT seconds, and reads at most MAX_BYTES of the answer. Failures become the
named errors of errors.py, so callers show one message whatever went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests
from django.conf import settings
from urllib3.exceptions import ReadTimeoutError

from .errors import NotFound, RateLimited, TimedOut, Unavailable

MAX_BYTES = 2 * 1024 * 1024  # a paper's metadata is a few kilobytes


def user_agent() -> str:
    return f"{settings.SITE_NAME} paper lookup ({settings.SITE_URL}; mailto:{settings.PAPER_LOOKUP_CONTACT})"


def get(
    url: str,
    source: str,
    params: Mapping[str, str] | None = None,
    accept: str = "*/*",
    missing: tuple[int, ...] = (404, 410),
) -> bytes:
    """The body of a 200 answer from `url`. A status in `missing` is NotFound, a 429 or 503
    RateLimited, any other Unavailable; so are timeouts and connection errors (TimedOut)."""
    timeout = float(settings.PAPER_LOOKUP_TIMEOUT)
    headers = {"User-Agent": user_agent(), "Accept": accept}
    try:
        with requests.get(url, params=params, headers=headers, timeout=timeout, stream=True) as response:
            status = response.status_code
            if status in missing:
                raise NotFound(f"{source} has no such paper.")
            if status in (429, 503):
                raise RateLimited(f"{source} is limiting requests just now; try again in a minute.")
            if status != 200:
                raise Unavailable(f"{source} answered with an error (HTTP {status}).")
            body = b""
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise Unavailable(f"{source}'s answer was far larger than a paper's details.")
            return body
    except requests.Timeout as exc:
        raise TimedOut(f"{source} did not answer within {timeout:g} seconds.") from exc
    except requests.RequestException as exc:
        # A body that stops arriving surfaces from iter_content as a ConnectionError.
        if exc.args and isinstance(exc.args[0], ReadTimeoutError):
            raise TimedOut(f"{source} did not answer within {timeout:g} seconds.") from exc
        raise Unavailable(f"{source} could not be reached.") from exc
