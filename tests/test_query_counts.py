"""Every public page runs the same small number of queries, whatever the size of the archive."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import Paper, PaperSummary
from tests.factories import (
    ARCHIVE_SECTION_NAMES,
    fill_issue,
    make_author,
    make_issue,
    make_issues,
    make_section,
    make_sections,
)

pytestmark = pytest.mark.django_db

# The most queries any public page may run (session and auth never run on these pages).
BUDGET = 8


def queries(client, url: str) -> int:
    client.get(url)  # warm up process-wide caches (content types) so both runs compare like with like
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def test_issue_page_with_5_or_50_summaries(client):
    sections = make_sections(*ARCHIVE_SECTION_NAMES)
    author = make_author()
    small, large = make_issue(1), make_issue(2)
    for issue in (small, large):
        issue.authors.add(author)
        issue.tags.add("robustness", "alignment")
    fill_issue(small, sections.values(), 5, writer=author, tags=("a", "b"))
    fill_issue(large, sections.values(), 50, writer=author, tags=("a", "b", "c"), figures=3)

    small_count, large_count = queries(client, "/issues/1/"), queries(client, "/issues/2/")

    assert small_count == large_count <= BUDGET


def test_home_with_5_or_50_summaries_in_the_latest_issue(client):
    sections = make_sections(*ARCHIVE_SECTION_NAMES)
    make_issues(3)
    latest = make_issue(10)
    fill_issue(latest, sections.values(), 5)
    small_count = queries(client, "/")

    fill_issue(latest, sections.values(), 45, figures=0)
    make_issues(20, start=20)
    fill_issue(make_issue(99), sections.values(), 50, figures=0)

    assert small_count == queries(client, "/") <= BUDGET


def test_issue_archive_with_3_or_300_issues(client):
    make_issues(3)
    small_count = queries(client, "/issues/")

    make_issues(297, start=4)

    assert small_count == queries(client, "/issues/") == queries(client, "/issues/?page=15") <= BUDGET


@pytest.fixture
def archive_of(db):
    """Builds `issues` issues of `per_issue` summaries each, all by one writer, tagged "robustness"."""
    sections = [make_section("Robustness", position=1)]
    author = make_author("Dan Hendrycks")

    def build(issues: int, per_issue: int, start: int = 1) -> None:
        for issue in make_issues(issues, start=start):
            issue.authors.add(author)
            issue.tags.add("robustness")
            fill_issue(issue, sections, per_issue, writer=author, tags=("robustness", "vision"), figures=0)

    return build


@pytest.mark.parametrize(
    "url",
    [
        "/sections/robustness/",
        "/authors/dan-hendrycks/",
        "/tags/robustness/",
        "/papers/",
        "/papers/?section=robustness&tag=robustness",
        "/papers/bibtex/",
        "/search/?q=headline",
    ],
)
def test_listing_pages_with_few_or_many_items(client, archive_of, url):
    archive_of(issues=1, per_issue=3)
    small_count = queries(client, url)

    archive_of(issues=6, per_issue=10, start=2)

    assert small_count == queries(client, url) <= BUDGET


def test_paper_pages_whatever_the_coverage(client, archive_of):
    archive_of(issues=1, per_issue=1)
    paper = Paper.objects.get()
    small_counts = queries(client, f"/papers/{paper.pk}/"), queries(client, f"/papers/{paper.pk}/bibtex/")

    section = PaperSummary.objects.get().section
    for issue in make_issues(10, start=10):
        fill_issue(issue, [section], 1)
        PaperSummary.objects.filter(issue=issue).update(paper=paper)

    large_counts = queries(client, f"/papers/{paper.pk}/"), queries(client, f"/papers/{paper.pk}/bibtex/")
    assert small_counts == large_counts
    assert max(large_counts) <= BUDGET
