"""Plain records describing demo content, independent of the database.

The loader turns them into model rows; keeping them as data makes the seed issue easy to read and
the generated issues easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SectionRecord:
    name: str
    slug: str
    description: str
    position: int


@dataclass(frozen=True)
class AuthorRecord:
    name: str
    slug: str
    bio: str
    website: str = ""


@dataclass(frozen=True)
class PaperRecord:
    title: str
    url: str
    authors: str = ""
    venue: str = ""
    year: int | None = None
    arxiv_id: str = ""


@dataclass(frozen=True)
class FigureRecord:
    """A placeholder figure drawn by `figures.render`: `kind` picks the drawing, `params` feed it."""

    slug: str
    kind: str
    alt: str
    params: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class SummaryRecord:
    section: str  # Section slug
    kind: str  # a PaperSummary.Kind value
    headline: str
    body: str = ""
    paper: PaperRecord | None = None
    figure: FigureRecord | None = None
    figure_caption: str = ""
    writer: str = ""  # Author slug
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssueRecord:
    number: int
    title: str
    intro: str
    published_at: datetime
    preheader: str = ""
    subject: str = ""  # the email's subject; empty: "<site name> #<number>: <title>"
    authors: tuple[str, ...] = ()  # Author slugs
    tags: tuple[str, ...] = ()
    summaries: tuple[SummaryRecord, ...] = ()
