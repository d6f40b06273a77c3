"""Which source answers for an identifier, with Django's cache in front of them: one answer per
identifier, kept PAPER_LOOKUP_CACHE_SECONDS."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from . import arxiv, crossref, openreview
from .errors import InvalidIdentifier, NotFound
from .identifiers import ACL, ARXIV, DOI, OPENREVIEW, Identifier, parse_identifier
from .metadata import PaperMetadata

_CACHE_VERSION = 1


def _acl(identifier: Identifier) -> PaperMetadata:
    try:
        return crossref.fetch(identifier.doi, identifier.canonical_url)
    except NotFound as exc:
        raise NotFound(
            f"The ACL Anthology paper {identifier.value} has no DOI at Crossref (older papers and some "
            "workshops have none)."
        ) from exc


_SOURCES: dict[str, Callable[[Identifier], PaperMetadata]] = {
    ARXIV: lambda identifier: arxiv.fetch(identifier.value),
    DOI: lambda identifier: crossref.fetch(identifier.value),
    OPENREVIEW: lambda identifier: openreview.fetch(identifier.value, identifier.canonical_url),
    ACL: _acl,
}


def _identifier(text: str | Identifier) -> Identifier:
    return text if isinstance(text, Identifier) else parse_identifier(text)


def _cache_key(identifier: Identifier) -> str:
    digest = hashlib.sha256(identifier.key.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"paper-lookup:v{_CACHE_VERSION}:{digest}"


def cached(text: str | Identifier) -> PaperMetadata | None:
    """The metadata a lookup of this identifier found recently, or None; never asks a source."""
    try:
        identifier = _identifier(text)
    except InvalidIdentifier:
        return None
    data = cache.get(_cache_key(identifier))
    if not isinstance(data, dict):
        return None
    try:
        return PaperMetadata.from_dict(data)
    except TypeError:  # cached by an older version of PaperMetadata
        return None


def lookup(text: str | Identifier) -> PaperMetadata:
    """The paper's metadata from its source (or the cache). Raises a LookupFailed saying why."""
    identifier = _identifier(text)
    found = cached(identifier)
    if found is not None:
        return found
    metadata = _SOURCES[identifier.kind](identifier)
    cache.set(_cache_key(identifier), metadata.as_dict(), timeout=int(settings.PAPER_LOOKUP_CACHE_SECONDS))
    return metadata
