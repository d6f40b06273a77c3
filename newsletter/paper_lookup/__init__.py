"""Paper metadata from its identifier: paste an arXiv id or link, a DOI, an OpenReview or an ACL
Anthology link, get the title, authors, year, venue, abstract and canonical link.

The public API is this module:
- `lookup(text)` -> PaperMetadata, or a LookupFailed whose message says why (InvalidIdentifier,
  NotFound, TimedOut, Unavailable, BadAnswer, RateLimited);
- `cached(text)`: the metadata a recent lookup found, without asking anyone (None otherwise);
- `parse_identifier(text)` -> Identifier;
- `describe(text)` (index.py): what the drafting forms' script shows, the stored paper when the
  index has it ("covered before in issue #N"), else the looked-up metadata;
- `complete_reference(reference)` (completion.py): a PaperReference with what it lacks filled in.

One module per source (arxiv.py: Atom through feedparser; crossref.py: REST `/works/{doi}`, also
for ACL Anthology DOIs; openreview.py: API 2 `/notes?id=`). Answers are cached per identifier for
PAPER_LOOKUP_CACHE_SECONDS in Django's cache; arXiv's one request every 3 seconds is a throttle in
the same cache (throttle.py); every request has a short timeout and a User-Agent with a contact
address (fetching.py). Settings and rate limits: docs/paper-lookup.md.
"""

from __future__ import annotations

from .completion import complete_reference
from .errors import BadAnswer, InvalidIdentifier, LookupFailed, NotFound, RateLimited, TimedOut, Unavailable
from .identifiers import Identifier, parse_identifier
from .index import describe
from .metadata import PaperMetadata
from .sources import cached, lookup

__all__ = [
    "BadAnswer",
    "Identifier",
    "InvalidIdentifier",
    "LookupFailed",
    "NotFound",
    "PaperMetadata",
    "RateLimited",
    "TimedOut",
    "Unavailable",
    "cached",
    "complete_reference",
    "describe",
    "lookup",
    "parse_identifier",
]
