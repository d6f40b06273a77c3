"""What the public archive shows, as querysets built on `Issue.objects.published()`.

Every public page gets its content from here, so "drafts and future issues stay private" is
written once. Each function returns querysets with the related rows the templates use already
joined or prefetched: a page runs the same few queries for 3 issues or 300.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Generic, TypeVar

from django.db.models import Case, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, ExtractYear, StrIndex, Substr
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from taggit.models import Tag

from .bibtex import NEW_STYLE_ARXIV, OLD_STYLE_ARXIV
from .models import Author, Issue, Paper, PaperSummary, Section


def published_issues() -> QuerySet[Issue]:
    return Issue.objects.published()


def published_summaries() -> QuerySet[PaperSummary]:
    """Summaries in published issues, with everything a summary card shows."""
    return (
        PaperSummary.objects.filter(issue__in=Issue.objects.published())
        .select_related("issue", "section", "paper", "writer")
        .prefetch_related("tags")
    )


def summaries_newest_first(summaries: QuerySet[PaperSummary]) -> QuerySet[PaperSummary]:
    return summaries.order_by("-issue__published_at", "-issue__number", "section__position", "position", "pk")


def latest_issues(count: int) -> list[Issue]:
    return list(published_issues().order_by("-published_at", "-number").prefetch_related("authors")[:count])


def issues_for_page() -> QuerySet[Issue]:
    """Published issues with the authors and tags an issue's page shows."""
    return published_issues().prefetch_related("authors", "tags")


def issue_summaries(issue: Issue, with_tags: bool = True) -> list[PaperSummary]:
    summaries = (
        PaperSummary.objects.filter(issue=issue)
        .select_related("section", "paper", "writer")
        .order_by("section__position", "section__name", "position", "pk")
    )
    if with_tags:
        summaries = summaries.prefetch_related("tags")
    summaries = list(summaries)
    for summary in summaries:
        summary.issue = issue  # already loaded: get_absolute_url must not fetch it again
    return summaries


Item = TypeVar("Item")


@dataclass
class SectionBlock(Generic[Item]):
    """One section of an issue: its features, its "other recent papers" (briefs) and its news items.

    The items are the summaries themselves on the archive's pages and in the feeds, and
    rendering.EmailArticle objects in an email.
    """

    section: Section
    features: list[Item] = field(default_factory=list)
    briefs: list[Item] = field(default_factory=list)
    news: list[Item] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"section-{self.section.slug}"

    @property
    def news_heading(self) -> bool:
        # A section of news alone ("Other News") needs no "Other news" sub-heading.
        return bool(self.features or self.briefs)


def group_by_section(
    summaries: Iterable[PaperSummary], item: Callable[[PaperSummary], Any] | None = None
) -> list[SectionBlock[Any]]:
    """One block per section, in the order the sections first come in `summaries`, each summary in
    the block's list for its kind; `item(summary)`, when given, is what the block holds instead."""
    blocks: dict[int, SectionBlock[Any]] = {}
    for summary in summaries:
        block = blocks.setdefault(summary.section_id, SectionBlock(section=summary.section))
        entry = item(summary) if item is not None else summary
        if summary.kind == PaperSummary.Kind.BRIEF:
            block.briefs.append(entry)
        elif summary.kind == PaperSummary.Kind.NEWS:
            block.news.append(entry)
        else:
            block.features.append(entry)
    return list(blocks.values())


def neighbours(issue: Issue) -> tuple[Issue | None, Issue | None]:
    """The published issues just before and just after `issue`, by number."""
    fields = ("number", "title", "slug")
    previous = published_issues().filter(number__lt=issue.number).order_by("-number").only(*fields).first()
    following = published_issues().filter(number__gt=issue.number).order_by("number").only(*fields).first()
    return previous, following


def group_issues_by_year(issues: list[Issue]) -> list[tuple[int, list[Issue]]]:
    """Issues (newest first) grouped by the local year of publication."""
    return [
        (year, list(items))
        for year, items in groupby(issues, key=lambda issue: timezone.localtime(issue.published_at).year)
    ]


def archive_issues() -> QuerySet[Issue]:
    return published_issues().order_by("-published_at", "-number")


def section_summaries(section: Section) -> QuerySet[PaperSummary]:
    return summaries_newest_first(published_summaries().filter(section=section))


def author_summaries(author: Author) -> QuerySet[PaperSummary]:
    return summaries_newest_first(published_summaries().filter(writer=author))


def author_issues(author: Author) -> list[Issue]:
    return list(published_issues().filter(authors=author).order_by("-published_at", "-number"))


def tag_summaries(tag: Tag) -> QuerySet[PaperSummary]:
    return summaries_newest_first(published_summaries().filter(tags__slug=tag.slug))


def tag_issues(tag: Tag) -> list[Issue]:
    return list(published_issues().filter(tags__slug=tag.slug).order_by("-published_at", "-number"))


# Papers -------------------------------------------------------------------------------------


def _covering_summaries() -> QuerySet[PaperSummary]:
    return PaperSummary.objects.filter(issue__in=Issue.objects.published(), paper__isnull=False)


def _arxiv_year() -> Case:
    """The year a paper's arXiv id encodes (NULL for other ids): bibtex.arxiv_year, in SQL."""
    two_digits = Case(
        When(arxiv_id__regex=NEW_STYLE_ARXIV, then=Substr("arxiv_id", 1, 2)),
        When(
            arxiv_id__regex=OLD_STYLE_ARXIV, then=Substr("arxiv_id", StrIndex("arxiv_id", Value("/")) + 1, 2)
        ),
        default=None,
    )
    year = Cast(two_digits, IntegerField())
    return Case(
        When(GreaterThanOrEqual(year, 91), then=year + 1900), default=year + 2000, output_field=IntegerField()
    )


def archive_papers() -> QuerySet[Paper]:
    """Every paper summarised in a published issue, most recently covered first.

    `listed_year` is the year the paper is listed, filtered, shown and cited under, by the rule of
    bibtex.paper_year: its own year, else the year its arXiv id encodes, else `first_covered_year`
    (the year an issue first covered it). The year filter then finds every paper, even those
    entered without a year, under the year its page and its BibTeX show.
    """
    covering = _covering_summaries().filter(paper=OuterRef("pk"))
    latest = covering.order_by("-issue__published_at", "-issue__number").values("issue__published_at")[:1]
    first_year = (
        covering.order_by("issue__published_at")
        .annotate(covered_year=ExtractYear("issue__published_at"))
        .values("covered_year")[:1]
    )
    return (
        Paper.objects.filter(pk__in=_covering_summaries().values("paper_id"))
        .annotate(
            last_covered=Subquery(latest),
            first_covered_year=Subquery(first_year, output_field=IntegerField()),
            listed_year=Coalesce("year", _arxiv_year(), "first_covered_year"),
        )
        .order_by("-last_covered", "title", "pk")
    )


@dataclass(frozen=True)
class PaperFilters:
    section: str = ""
    tag: str = ""
    year: int | None = None

    def __bool__(self) -> bool:
        return bool(self.section or self.tag or self.year)


def filter_papers(papers: QuerySet[Paper], filters: PaperFilters) -> QuerySet[Paper]:
    if filters.section or filters.tag:
        covering = _covering_summaries()
        if filters.section:
            covering = covering.filter(section__slug=filters.section)
        if filters.tag:
            covering = covering.filter(Q(tags__slug=filters.tag) | Q(issue__tags__slug=filters.tag))
        papers = papers.filter(pk__in=covering.values("paper_id"))
    if filters.year:
        papers = papers.filter(listed_year=filters.year)
    return papers


def with_coverage(papers: QuerySet[Paper]) -> QuerySet[Paper]:
    """Each paper's published summaries as `paper.coverage`, newest issue first, in one query."""
    coverage = (
        _covering_summaries()
        .select_related("issue", "section")
        .order_by("-issue__published_at", "-issue__number", "position")
    )
    return papers.prefetch_related(Prefetch("summaries", queryset=coverage, to_attr="coverage"))


def paper_filter_choices() -> tuple[list[Section], list[Tag], list[int]]:
    """Sections, tags and years the paper index can be filtered by (three queries)."""
    sections = list(Section.objects.all())
    summary_ids = _covering_summaries().values("pk")
    issue_ids = Issue.objects.published().filter(summaries__paper__isnull=False).values("pk")
    tags = list(
        Tag.objects.filter(
            Q(
                taggit_taggeditem_items__content_type__app_label="newsletter",
                taggit_taggeditem_items__content_type__model="papersummary",
                taggit_taggeditem_items__object_id__in=summary_ids,
            )
            | Q(
                taggit_taggeditem_items__content_type__app_label="newsletter",
                taggit_taggeditem_items__content_type__model="issue",
                taggit_taggeditem_items__object_id__in=issue_ids,
            )
        )
        .distinct()
        .order_by("name")
    )
    years = sorted(
        {year for year in archive_papers().order_by().values_list("listed_year", flat=True) if year},
        reverse=True,
    )
    return sections, tags, years
