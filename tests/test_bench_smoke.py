"""The benchmark's own machinery: it builds the content it claims and counts queries right."""

from __future__ import annotations

import pytest
from django.test import Client

from newsletter.models import Issue, PaperSummary
from tests.bench import SMALL, build_content, count_queries, verdict

pytestmark = pytest.mark.django_db


def test_small_content_has_three_issues_of_five_summaries():
    content = build_content(SMALL)

    assert Issue.objects.published().count() == 3
    assert PaperSummary.objects.count() == 15
    assert content.issue_number == 3


def test_it_counts_the_queries_of_one_request():
    assert count_queries(Client(), "/robots.txt") == (200, 0)


def test_a_page_whose_queries_grow_fails():
    assert verdict((200, 5), (200, 5)) == "ok"
    assert verdict((200, 5), (200, 4)) == "ok"
    assert verdict((200, 5), (200, 55)) == "FAIL +50 queries"
    assert verdict((404, 0), (200, 3)) == "FAIL status 404/200"
