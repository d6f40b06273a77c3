"""Writes the demo publication to the database: `load_demo()`.

Idempotent: every row is matched on its natural key (Section.slug, Author.slug, Issue.number, a
paper's arXiv id, URL or title, a summary's issue and headline) and updated in place, rows that
already match are not saved again, and figures already in storage are not drawn or written twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils.text import slugify

from ..images import web_rendition
from ..models import Author, Issue, Paper, PaperSummary, Section, parse_arxiv_id
from . import figures
from .generated import generated_issues
from .generated_text import DEMO_WRITERS
from .records import AuthorRecord, FigureRecord, IssueRecord, PaperRecord, SectionRecord, SummaryRecord
from .seed_issue import DAN_HENDRYCKS, SECTIONS, SEED_ISSUE

AUTHORS = (DAN_HENDRYCKS, *DEMO_WRITERS)


@dataclass
class LoadResult:
    issues: int = 0
    sections: int = 0
    authors: int = 0
    summaries: int = 0
    papers: int = 0
    figures_written: int = 0
    figures_kept: int = 0
    paper_ids: set[int] = field(default_factory=set, repr=False)

    def __str__(self) -> str:
        return (
            f"Loaded {self.issues} issues, {self.sections} sections, {self.summaries} summaries, "
            f"{self.papers} papers ({self.figures_written} figures drawn, {self.figures_kept} already there)."
        )


def demo_issues() -> list[IssueRecord]:
    """The seed issue and the generated ones, in number order."""
    return sorted([SEED_ISSUE, *generated_issues()], key=lambda issue: issue.number)


@transaction.atomic
def load_demo() -> LoadResult:
    """Create or update the demo publication; safe to run any number of times."""
    result = LoadResult()
    sections = {record.slug: _load_section(record) for record in SECTIONS}
    authors = {record.slug: _load_author(record) for record in AUTHORS}
    result.sections, result.authors = len(sections), len(authors)
    for record in demo_issues():
        _load_issue(record, sections, authors, result)
    result.papers = len(result.paper_ids)
    return result


def _update_or_create(model: type[models.Model], lookup: dict, values: dict) -> models.Model:
    """Like QuerySet.update_or_create, but leaves a row that already matches untouched."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        return model.objects.create(**lookup, **values)
    changed = [name for name, value in values.items() if _current(instance, name) != _comparable(value)]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save()
    return instance


def _current(instance: models.Model, name: str):
    field = instance._meta.get_field(name)
    if isinstance(field, models.ForeignKey):
        return getattr(instance, field.attname)
    return getattr(instance, name)


def _comparable(value):
    return value.pk if isinstance(value, models.Model) else value


def _load_section(record: SectionRecord) -> Section:
    return _update_or_create(
        Section,
        {"slug": record.slug},
        {"name": record.name, "description": record.description, "position": record.position},
    )


def _load_author(record: AuthorRecord) -> Author:
    return _update_or_create(
        Author, {"slug": record.slug}, {"name": record.name, "bio": record.bio, "website": record.website}
    )


def _load_paper(record: PaperRecord) -> Paper:
    arxiv_id = parse_arxiv_id(record.arxiv_id) or parse_arxiv_id(record.url)
    if arxiv_id:
        lookup = {"arxiv_id": arxiv_id}
    elif record.url:
        lookup = {"url": record.url}
    else:
        lookup = {"title": record.title}
    values = {
        "title": record.title,
        "url": record.url,
        "authors": record.authors,
        "venue": record.venue,
        "year": record.year,
        "arxiv_id": arxiv_id,
    }
    return _update_or_create(
        Paper, lookup, {key: value for key, value in values.items() if key not in lookup}
    )


def _load_issue(record: IssueRecord, sections: dict, authors: dict, result: LoadResult) -> None:
    issue = _update_or_create(
        Issue,
        {"number": record.number},
        {
            "title": record.title,
            "slug": slugify(record.title)[:200],
            "preheader": record.preheader,
            "subject": record.subject,
            "intro": record.intro,
            "status": Issue.Status.PUBLISHED,
            "published_at": record.published_at,
        },
    )
    issue.authors.set([authors[slug] for slug in record.authors])
    issue.tags.set(list(record.tags))
    result.issues += 1

    positions: dict[str, int] = {}
    for summary in record.summaries:
        position = positions[summary.section] = positions.get(summary.section, -1) + 1
        _load_summary(issue, summary, position, sections, authors, result)


def _load_summary(
    issue: Issue, record: SummaryRecord, position: int, sections: dict, authors: dict, result: LoadResult
) -> None:
    paper = _load_paper(record.paper) if record.paper else None
    if paper is not None:
        result.paper_ids.add(paper.pk)
    values = {
        "section": sections[record.section],
        "position": position,
        "kind": record.kind,
        "body": record.body,
        "paper": paper,
        "figure_caption": record.figure_caption,
        "figure_alt": record.figure.alt if record.figure else "",
        "writer": authors.get(record.writer),
    }
    summary = _update_or_create(PaperSummary, {"issue": issue, "headline": record.headline}, values)
    if record.figure is not None:
        _attach_figure(summary, record.figure, issue.number, result)
    summary.tags.set(list(record.tags))
    result.summaries += 1


def _attach_figure(
    summary: PaperSummary, record: FigureRecord, issue_number: int, result: LoadResult
) -> None:
    """Give `summary` its placeholder figure under a stable name, drawing it only when it is missing."""
    basename = f"demo-{issue_number:03d}-{record.slug}.png"
    name = f"figures/{basename}"
    storage = summary.figure.storage
    has_figure = summary.figure.name == name and storage.exists(name)
    if has_figure and summary.figure_web and storage.exists(summary.figure_web.name):
        result.figures_kept += 1
        return
    if storage.exists(name):
        # The file survived (say, a database reset kept the media folder): reuse it and its
        # rendition rather than writing numbered copies.
        summary.figure = name
        _reuse_rendition(summary, name)
        result.figures_kept += 1
    else:
        # Through the ImageField, so PaperSummary.save makes the web rendition.
        summary.figure = ContentFile(figures.render(record), name=basename)
        result.figures_written += 1
    summary.save()


def _reuse_rendition(summary: PaperSummary, name: str) -> None:
    storage = summary.figure.storage
    with storage.open(name) as source:
        rendition, width, height = web_rendition(source)
    web_name = summary.figure_web.field.generate_filename(summary, rendition.name)
    if storage.exists(web_name):
        summary.figure_web = web_name
        summary.figure_width, summary.figure_height = width, height
    else:
        summary.figure_web = ""  # PaperSummary.save derives it
