"""Papers: reading what an editor pastes about a paper, and keeping one row per paper.

Editors paste whatever they have at hand: an arXiv abstract or PDF link, `arXiv:2111.15121`, a
DOI, a doi.org link or a publisher's URL. `paper_reference` turns that into normalised
identifiers or refuses it with `InvalidPaperReference`; `find_paper` finds the stored paper those
identifiers name; `find_or_create_paper` reuses that paper or creates it, so a paper summarised in
several issues is one row that the paper index links to all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q

from .models import Paper, parse_arxiv_id

# Crossref's advice: every DOI is "10.", a registrant code of 4 to 9 digits, "/", a suffix.
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
# arXiv registers a DOI for every paper: 10.48550/arXiv.<id>.
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(.+)", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(r"^arxiv:\s*", re.IGNORECASE)
_URL_MAX_LENGTH = Paper._meta.get_field("url").max_length
_validate_url = URLValidator(schemes=["http", "https"])


class InvalidPaperReference(ValueError):
    """What was typed does not name a paper, or names two different ones.

    `field` says which input is wrong: "link", "arxiv_id", "doi" or "title".
    """

    def __init__(self, message: str, field: str = "link") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class PaperReference:
    """A paper as an editor described it, with its identifiers normalised."""

    url: str = ""
    arxiv_id: str = ""
    doi: str = ""
    title: str = ""
    authors: str = ""
    venue: str = ""
    year: int | None = None
    abstract: str = ""

    @property
    def has_identifier(self) -> bool:
        return bool(self.url or self.arxiv_id or self.doi)


def arxiv_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


def normalise_arxiv_id(value: str) -> str:
    """The bare arXiv id (no version) in an arXiv link, `arXiv:` id or id; "" for ""."""
    value = _ARXIV_PREFIX.sub("", (value or "").strip())
    if not value:
        return ""
    arxiv_id = parse_arxiv_id(value)
    if not arxiv_id:
        raise InvalidPaperReference(
            f"“{value}” is not an arXiv id or arXiv link (they look like 2111.15121).", field="arxiv_id"
        )
    return arxiv_id


def normalise_doi(value: str, field: str = "doi") -> str:
    """The bare DOI in a DOI, `doi:` DOI or doi.org link; "" for ""."""
    typed = (value or "").strip()
    if not typed:
        return ""
    value = unquote(_DOI_PREFIX.sub("", typed)).strip()
    if not _DOI.fullmatch(value):
        raise InvalidPaperReference(
            f"“{value}” is not a DOI (they look like 10.1145/3442188.3445922).", field
        )
    return value


def _arxiv_id_of_doi(doi: str) -> str:
    match = _ARXIV_DOI.fullmatch(doi)
    return parse_arxiv_id(match.group(1)) if match else ""


def parse_paper_link(value: str) -> PaperReference:
    """What a pasted link, arXiv id or DOI identifies. arXiv papers get their canonical abstract
    link (no version: readers should land on the latest one) and DOIs their doi.org link."""
    value = (value or "").strip()
    if not value:
        return PaperReference()
    arxiv_id = parse_arxiv_id(_ARXIV_PREFIX.sub("", value))
    if arxiv_id:
        return PaperReference(url=arxiv_url(arxiv_id), arxiv_id=arxiv_id)
    if _DOI_PREFIX.match(value) or value.startswith("10."):
        doi = normalise_doi(value, field="link")
        arxiv_id = _arxiv_id_of_doi(doi)
        return PaperReference(
            url=arxiv_url(arxiv_id) if arxiv_id else doi_url(doi), arxiv_id=arxiv_id, doi=doi
        )
    if not re.match(r"https?://", value, re.IGNORECASE):
        raise InvalidPaperReference(
            "Paste the paper's link (https://…), its arXiv id (2111.15121) or its DOI (10.1234/abcd)."
        )
    try:
        _validate_url(value)
    except ValidationError as exc:
        raise InvalidPaperReference(f"“{value}” is not a valid link.") from exc
    if len(value) > _URL_MAX_LENGTH:
        raise InvalidPaperReference(f"The link is longer than {_URL_MAX_LENGTH} characters.")
    host = (urlsplit(value).hostname or "").lower()
    if host == "arxiv.org" or host.endswith(".arxiv.org"):
        raise InvalidPaperReference(
            "That arXiv link does not point to a paper: paste its abstract or PDF link."
        )
    return PaperReference(url=value)


def paper_reference(
    *,
    link: str = "",
    arxiv_id: str = "",
    doi: str = "",
    title: str = "",
    authors: str = "",
    venue: str = "",
    year: int | None = None,
    abstract: str = "",
) -> PaperReference:
    """Normalise what was typed about a paper; refuse bad or contradictory identifiers."""
    from_link = parse_paper_link(link)
    typed_doi = normalise_doi(doi)
    arxiv_ids = {
        "link": from_link.arxiv_id,
        "arxiv_id": normalise_arxiv_id(arxiv_id),
        "doi": _arxiv_id_of_doi(typed_doi),
    }
    named = {field: value for field, value in arxiv_ids.items() if value}
    if len(set(named.values())) > 1:
        field = "arxiv_id" if "arxiv_id" in named else "doi"
        raise InvalidPaperReference(
            f"These name two arXiv papers: {' and '.join(sorted(set(named.values())))}.", field=field
        )
    if from_link.doi and typed_doi and from_link.doi.lower() != typed_doi.lower():
        raise InvalidPaperReference(f"The link names DOI {from_link.doi}, not {typed_doi}.", field="doi")
    final_arxiv_id = next(iter(named.values()), "")
    final_doi = typed_doi or from_link.doi
    url = from_link.url
    if not url and final_arxiv_id:
        url = arxiv_url(final_arxiv_id)
    return PaperReference(
        url=url,
        arxiv_id=final_arxiv_id,
        doi=final_doi,
        title=" ".join((title or "").split()),
        authors=(authors or "").strip(),
        venue=(venue or "").strip(),
        year=year,
        abstract=(abstract or "").strip(),
    )


def _url_variants(url: str) -> list[str]:
    bare = url.rstrip("/")
    return [bare, f"{bare}/"]


def find_paper(reference: PaperReference, exclude_pk: int | None = None) -> Paper | None:
    """The stored paper that `reference` names, or None.

    A paper is named by its arXiv id, its DOI (case-insensitive, as DOIs are) or its URL; when
    the reference has none of them, by its exact title. Refuses a reference whose identifiers
    name two stored papers, or that contradicts the identifiers of the paper it names.
    """
    lookup = Q()
    if reference.arxiv_id:
        lookup |= Q(arxiv_id=reference.arxiv_id)
    if reference.doi:
        lookup |= Q(doi__iexact=reference.doi)
    if reference.url:
        lookup |= Q(url__in=_url_variants(reference.url))
    if not lookup and reference.title:
        lookup = Q(title__iexact=reference.title)
    if not lookup:
        return None
    papers = Paper.objects.filter(lookup)
    if exclude_pk is not None:
        papers = papers.exclude(pk=exclude_pk)
    matches = list(papers.order_by("pk")[:3])
    if not matches:
        return None
    if not reference.has_identifier:
        return matches[0] if len(matches) == 1 else None
    if len(matches) > 1:
        titles = " and ".join(f"“{paper.title}”" for paper in matches[:2])
        raise InvalidPaperReference(
            f"These identifiers belong to two stored papers: {titles}.",
            field="doi" if reference.doi else "link",
        )
    paper = matches[0]
    if reference.arxiv_id and paper.arxiv_id and paper.arxiv_id != reference.arxiv_id:
        raise InvalidPaperReference(
            f"“{paper.title}” has arXiv id {paper.arxiv_id}, not {reference.arxiv_id}.", field="link"
        )
    if reference.doi and paper.doi and paper.doi.lower() != reference.doi.lower():
        raise InvalidPaperReference(f"“{paper.title}” has DOI {paper.doi}, not {reference.doi}.", field="doi")
    return paper


def find_or_create_paper(reference: PaperReference) -> tuple[Paper, bool]:
    """The paper `reference` names: the stored one, or a new one. Returns (paper, created).

    A stored paper keeps its details; only the ones it lacks are filled in from `reference`.
    """
    paper = find_paper(reference)
    if paper is None:
        if not reference.title:
            raise InvalidPaperReference(
                "Enter the paper's title: no stored paper has this link.", field="title"
            )
        try:
            with transaction.atomic():
                return Paper.objects.create(**_details(reference)), True
        except IntegrityError:
            # Someone stored the same paper a moment ago: use theirs.
            paper = find_paper(reference)
            if paper is None:
                raise
    _fill_in_missing_details(paper, reference)
    return paper, False


def _details(reference: PaperReference) -> dict[str, Any]:
    return {
        "title": reference.title,
        "url": reference.url,
        "arxiv_id": reference.arxiv_id,
        "doi": reference.doi,
        "authors": reference.authors,
        "venue": reference.venue,
        "year": reference.year,
        "abstract": reference.abstract,
    }


def _fill_in_missing_details(paper: Paper, reference: PaperReference) -> None:
    missing = [
        name for name, value in _details(reference).items() if value and getattr(paper, name) in ("", None)
    ]
    for name in missing:
        setattr(paper, name, getattr(reference, name))
    if missing:
        paper.save(update_fields=missing)
