"""arXiv: its API's Atom feed for one id (`<ARXIV_API_URL>?id_list=<id>`), read with feedparser.

The feed (arXiv API User's Manual, sections 3.3 and 3.4) has one <entry> per paper: <title>,
<summary> (the abstract), <author><name>, <published>, and arXiv's extension elements
<arxiv:journal_ref> (where it appeared) and <arxiv:doi> (the publisher's DOI). An id arXiv does not
have comes back as a feed without entries (or, from older deployments, an entry without a title);
an id it cannot read as an entry whose <id> is under http://arxiv.org/api/errors and whose title
is "Error". When it throttles, arXiv answers a plain "Rate exceeded." instead of a feed.
"""

from __future__ import annotations

from typing import Any
from xml.sax import SAXException

import feedparser
from django.conf import settings

from ..papers import arxiv_url
from . import fetching, throttle
from .errors import BadAnswer, NotFound, RateLimited
from .metadata import PaperMetadata, make_metadata

SOURCE = "arXiv"


def fetch(arxiv_id: str) -> PaperMetadata:
    throttle.wait_for_slot(SOURCE, float(settings.ARXIV_MIN_INTERVAL))
    body = fetching.get(
        settings.ARXIV_API_URL,
        SOURCE,
        params={"id_list": arxiv_id, "max_results": "1"},
        accept="application/atom+xml",
    )
    if body.strip().lower().startswith(b"rate exceeded"):
        raise RateLimited("arXiv is limiting requests just now; try again in a minute.")
    return parse_feed(body, arxiv_id)


def parse_feed(body: bytes, arxiv_id: str) -> PaperMetadata:
    feed: Any = feedparser.parse(body)
    # feedparser reads broken XML loosely and flags it (bozo); a cut or garbled feed is refused
    # rather than half read. Its other flags (a content type it did not expect) are harmless.
    broken = feed.get("bozo") and isinstance(feed.get("bozo_exception"), SAXException)
    if broken or not str(feed.get("version", "")).startswith("atom"):
        raise BadAnswer("arXiv's answer was not the Atom feed its API returns.")
    entries = feed.get("entries") or []
    if not entries:
        raise NotFound(f"arXiv has no paper {arxiv_id}.")
    entry = entries[0]
    if "/api/errors" in str(entry.get("id", "")) or not str(entry.get("title", "")).strip():
        raise NotFound(f"arXiv has no paper {arxiv_id}.")
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    return make_metadata(
        source=SOURCE,
        title=entry.get("title", ""),
        authors=[author.get("name", "") for author in entry.get("authors", [])],
        year=published.tm_year if published else None,
        # Where it appeared, when the authors said so; a preprint's venue is arXiv itself.
        venue=entry.get("arxiv_journal_ref", "") or SOURCE,
        abstract=entry.get("summary", ""),
        url=arxiv_url(arxiv_id),
        arxiv_id=arxiv_id,
        doi=str(entry.get("arxiv_doi", "")).strip(),
    )
