"""Which paper a pasted text names, and at which source its metadata lives.

An editor pastes whatever they have: an arXiv id or link (abs, pdf, html, versioned, `arXiv:`), a
DOI or doi.org link (a publisher's `/doi/10....` link too), an OpenReview forum or PDF link, or an
ACL Anthology link. `parse_identifier` turns it into one `Identifier` or refuses it with
`InvalidIdentifier`. arXiv's own DOIs (10.48550/arXiv.X) are arXiv ids. ACL Anthology papers are
looked up through their DOI at Crossref, which the Anthology registers as 10.18653/v1/<id> for
every paper that has one (the Anthology has no JSON API of its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from ..models import parse_arxiv_id
from ..papers import InvalidPaperReference, arxiv_url, doi_url, normalise_doi
from .errors import InvalidIdentifier

ARXIV = "arxiv"
DOI = "doi"
OPENREVIEW = "openreview"
ACL = "acl"

# The DOI prefix the ACL Anthology registers its papers under.
ACL_DOI_PREFIX = "10.18653/v1/"

_ARXIV_PREFIX = re.compile(r"^arxiv:\s*", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(.+)", re.IGNORECASE)
_DOI_START = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|10\.)", re.IGNORECASE)
# A publisher's page that carries the DOI in its path (ACM, Wiley, Taylor & Francis, SAGE...).
_DOI_IN_PATH = re.compile(r"/doi/(?:abs/|full/|pdf/|epdf/)?(10\.\d{4,9}/[^?#\s]+)", re.IGNORECASE)
# OpenReview note ids: letters, digits, "-" and "_".
_OPENREVIEW_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# ACL Anthology ids: 2023.acl-long.1 (since 2020) or P19-1001 (before).
_ACL_ID = re.compile(r"\d{4}\.[a-z0-9]+(?:-[a-z0-9]+)*\.\d+|[A-Z]\d{2}-\d{4}")
_ACL_HOSTS = {"aclanthology.org", "www.aclanthology.org", "aclweb.org", "www.aclweb.org"}
_OPENREVIEW_HOSTS = {"openreview.net", "www.openreview.net"}
# A paper's forum, its PDF and its attachments carry the forum's id as ?id=.
_OPENREVIEW_PATHS = {"/forum", "/pdf", "/attachment"}
_MAX_LENGTH = 1000

UNSUPPORTED = "Details are fetched for arXiv ids and links, DOIs, OpenReview and ACL Anthology links only."


@dataclass(frozen=True)
class Identifier:
    """A paper at one source: `kind` is ARXIV, DOI, OPENREVIEW or ACL; `value` its id there."""

    kind: str
    value: str

    @property
    def key(self) -> str:
        """The same for every way of writing the identifier (DOIs are case-insensitive)."""
        value = self.value.lower() if self.kind in {DOI, ACL} else self.value
        return f"{self.kind}:{value}"

    @property
    def canonical_url(self) -> str:
        if self.kind == ARXIV:
            return arxiv_url(self.value)
        if self.kind == OPENREVIEW:
            return f"https://openreview.net/forum?id={self.value}"
        if self.kind == ACL:
            return f"https://aclanthology.org/{self.value}/"
        return doi_url(self.value)

    @property
    def doi(self) -> str:
        """The DOI the paper is looked up by at Crossref ("" for arXiv and OpenReview)."""
        if self.kind == ACL:
            return ACL_DOI_PREFIX + self.value
        return self.value if self.kind == DOI else ""


def parse_identifier(text: str) -> Identifier:
    """The identifier in `text`; InvalidIdentifier when it names no paper we can look up."""
    text = (text or "").strip()
    if not text:
        raise InvalidIdentifier("Paste an arXiv id or link, a DOI, or an OpenReview or ACL Anthology link.")
    if len(text) > _MAX_LENGTH:
        raise InvalidIdentifier(f"That is longer than any paper's link ({_MAX_LENGTH} characters).")
    if not text.isprintable():
        raise InvalidIdentifier("That has control characters in it: paste the link or id alone.")
    arxiv_id = parse_arxiv_id(_ARXIV_PREFIX.sub("", text))
    if arxiv_id:
        return Identifier(ARXIV, arxiv_id)
    if _DOI_START.match(text):
        return _doi_identifier(text)
    if not re.match(r"https?://", text, re.IGNORECASE):
        raise InvalidIdentifier(UNSUPPORTED)
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if host in _OPENREVIEW_HOSTS:
        return _openreview_identifier(parts.path, parts.query)
    if host in _ACL_HOSTS:
        return _acl_identifier(parts.path)
    if host == "arxiv.org" or host.endswith(".arxiv.org"):
        raise InvalidIdentifier("That arXiv link does not point to a paper: paste its abstract or PDF link.")
    in_path = _DOI_IN_PATH.search(unquote(parts.path))
    if in_path:
        return _doi_identifier(in_path.group(1))
    raise InvalidIdentifier(UNSUPPORTED)


def _doi_identifier(text: str) -> Identifier:
    try:
        doi = normalise_doi(text)
    except InvalidPaperReference as exc:
        raise InvalidIdentifier("That is not a DOI (they look like 10.1145/3442188.3445922).") from exc
    if not doi.isprintable():  # a percent-escaped control character
        raise InvalidIdentifier("That is not a DOI (they look like 10.1145/3442188.3445922).")
    arxiv_doi = _ARXIV_DOI.fullmatch(doi)
    if arxiv_doi and (arxiv_id := parse_arxiv_id(arxiv_doi.group(1))):
        return Identifier(ARXIV, arxiv_id)
    if doi.lower().startswith(ACL_DOI_PREFIX) and _ACL_ID.fullmatch(doi[len(ACL_DOI_PREFIX) :]):
        return Identifier(ACL, doi[len(ACL_DOI_PREFIX) :])
    return Identifier(DOI, doi)


def _openreview_identifier(path: str, query: str) -> Identifier:
    ids = parse_qs(query).get("id", [])
    if path.rstrip("/") not in _OPENREVIEW_PATHS or len(ids) != 1 or not _OPENREVIEW_ID.fullmatch(ids[0]):
        raise InvalidIdentifier("That OpenReview link names no paper: paste its forum link (…/forum?id=…).")
    return Identifier(OPENREVIEW, ids[0])


def _acl_identifier(path: str) -> Identifier:
    # aclanthology.org/2023.acl-long.1/, /2023.acl-long.1.pdf; aclweb.org/anthology/P19-1001
    last = unquote(path).rstrip("/").rsplit("/", 1)[-1].removesuffix(".pdf").removesuffix(".bib")
    if not _ACL_ID.fullmatch(last):
        raise InvalidIdentifier("That ACL Anthology link names no paper: paste the paper's page or PDF link.")
    return Identifier(ACL, last)
