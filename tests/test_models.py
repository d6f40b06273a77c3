"""The content model's invariants hold in the database, not only in forms."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from newsletter.models import Issue, Paper, parse_arxiv_id

from .factories import make_issue, make_paper, make_section, make_summary

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://arxiv.org/abs/2111.15121", "2111.15121"),
        ("https://arxiv.org/abs/2111.15121v2", "2111.15121"),
        ("http://arxiv.org/pdf/2111.15121v1.pdf", "2111.15121"),
        ("arXiv:2110.08514", "2110.08514"),
        ("2106.12447", "2106.12447"),
        ("https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("https://example.org/paper", ""),
        ("not an id", ""),
        ("", ""),
    ],
)
def test_it_parses_arxiv_ids(value, expected):
    assert parse_arxiv_id(value) == expected


def test_issue_numbers_are_unique():
    make_issue(number=7)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_issue(number=7)


def test_a_published_issue_needs_a_publication_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.create(number=3, title="No date", status=Issue.Status.PUBLISHED)


def test_section_slugs_are_unique():
    make_section("Robustness")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_section("Robustness again", slug="robustness")


def test_arxiv_ids_are_unique_when_set_but_blank_ones_may_repeat():
    make_paper("A", url="https://arxiv.org/abs/2111.15121")
    Paper.objects.create(title="No id 1", url="https://example.org/1")
    Paper.objects.create(title="No id 2", url="https://example.org/2")
    with pytest.raises(IntegrityError), transaction.atomic():
        Paper.objects.create(title="Same paper", arxiv_id="arXiv:2111.15121v3")


def test_dois_are_unique_when_set():
    Paper.objects.create(title="A", doi="10.1000/xyz123")
    with pytest.raises(IntegrityError), transaction.atomic():
        Paper.objects.create(title="B", doi="https://doi.org/10.1000/xyz123")


def test_saving_stores_sanitised_html_and_search_text():
    section = make_section()
    issue = make_issue(intro="Hello **world** <script>alert(1)</script>")
    summary = make_summary(issue, section, body="A [paper](javascript:alert(1)) on *robustness*")
    assert "<strong>world</strong>" in issue.intro_html
    assert "<script" not in issue.intro_html
    assert "javascript:" not in summary.body_html
    assert summary.search_text == "A paper on robustness"


def test_published_queryset_hides_drafts_and_future_issues():
    from datetime import timedelta

    from django.utils import timezone

    visible = make_issue(number=1)
    make_issue(number=2, published=False)
    make_issue(number=3, published_at=timezone.now() + timedelta(days=1))
    assert list(Issue.objects.published()) == [visible]


def test_summaries_are_ordered_by_section_then_position():
    first, second = make_section("Robustness", position=0), make_section("Monitoring", position=1)
    issue = make_issue()
    late = make_summary(issue, second, headline="M1", position=0)
    b = make_summary(issue, first, headline="R2", position=2)
    a = make_summary(issue, first, headline="R1", position=1)
    assert list(issue.summaries.all()) == [a, b, late]
