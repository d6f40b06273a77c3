"""A paper's details as a source gives them, cleaned to fit the Paper model's fields."""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.html import strip_tags

from ..models import Paper

_LENGTHS: dict[str, int] = {
    name: getattr(Paper._meta.get_field(name), "max_length", 0) or 0
    for name in ("title", "authors", "venue", "url", "doi")
}
ABSTRACT_MAX_LENGTH = 10_000
_YEAR = re.compile(r"\b(19\d\d|20\d\d|2100)\b")


@dataclass(frozen=True)
class PaperMetadata:
    source: str  # "arXiv", "Crossref" or "OpenReview"
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str = ""
    abstract: str = ""
    url: str = ""  # the canonical link: arXiv's abstract page, doi.org, the OpenReview forum...
    arxiv_id: str = ""
    doi: str = ""

    @property
    def authors_text(self) -> str:
        """The authors as the Paper model keeps them: "A, B and C" cut to fit, with "et al."."""
        limit = _LENGTHS["authors"]
        text = ", ".join(self.authors)
        if len(text) <= limit:
            return text
        kept: list[str] = []
        for name in self.authors:
            if len(", ".join([*kept, name])) + len(", et al.") > limit:
                break
            kept.append(name)
        return ", ".join([*kept, "et al."])

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperMetadata:
        return cls(**{**data, "authors": tuple(data.get("authors", ()))})


def clean_text(value: object, limit: int = 0) -> str:
    """Markup and entities out, whitespace collapsed (titles and abstracts arrive hard-wrapped)."""
    if not isinstance(value, str):
        return ""
    text = " ".join(html.unescape(strip_tags(value)).split())
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def make_metadata(
    *,
    source: str,
    title: object,
    authors: list[object] | tuple[object, ...] = (),
    year: int | None = None,
    venue: object = "",
    abstract: object = "",
    url: str = "",
    arxiv_id: str = "",
    doi: str = "",
) -> PaperMetadata:
    """Metadata with every field cleaned and cut to the model's lengths."""
    names = tuple(name for name in (clean_text(author, 200) for author in authors) if name)
    return PaperMetadata(
        source=source,
        title=clean_text(title, _LENGTHS["title"]),
        authors=names,
        year=year if year is not None and 1900 <= year <= 2100 else None,
        venue=clean_text(venue, _LENGTHS["venue"]),
        abstract=clean_text(abstract, ABSTRACT_MAX_LENGTH),
        url=url if len(url) <= _LENGTHS["url"] else "",
        arxiv_id=arxiv_id,
        doi=doi if len(doi) <= _LENGTHS["doi"] else "",
    )


def year_in(text: str) -> int | None:
    """The year a venue names ("ICLR 2024 poster" -> 2024), or None."""
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None
