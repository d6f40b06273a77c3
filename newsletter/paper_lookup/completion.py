"""A paper as an editor described it, completed from its source: what they typed wins, the lookup
fills in what they left empty, and the link becomes the paper's canonical one."""

from __future__ import annotations

from dataclasses import replace

from ..papers import PaperReference
from .errors import InvalidIdentifier
from .identifiers import ARXIV, Identifier, parse_identifier
from .sources import cached, lookup


def identifier_of(reference: PaperReference) -> Identifier | None:
    """What `reference` can be looked up by, or None (a link to a page we cannot read)."""
    if reference.arxiv_id:
        return Identifier(ARXIV, reference.arxiv_id)
    for text in (reference.doi, reference.url):
        if text:
            try:
                return parse_identifier(text)
            except InvalidIdentifier:
                continue
    return None


def complete_reference(reference: PaperReference, *, fetch: bool = True) -> PaperReference:
    """`reference` with the details it lacks from its source: looked up when `fetch` (raising a
    LookupFailed that says why), else only from a lookup already cached (the browser's)."""
    identifier = identifier_of(reference)
    if identifier is None:
        return reference
    metadata = lookup(identifier) if fetch else cached(identifier)
    if metadata is None:
        return reference
    return replace(
        reference,
        title=reference.title or metadata.title,
        authors=reference.authors or metadata.authors_text,
        venue=reference.venue or metadata.venue,
        year=reference.year or metadata.year,
        abstract=reference.abstract or metadata.abstract,
        url=metadata.url or reference.url,
        arxiv_id=reference.arxiv_id or metadata.arxiv_id,
        doi=reference.doi or metadata.doi,
    )
