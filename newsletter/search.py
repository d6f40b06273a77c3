"""Full-text search over published issues and summaries.

Interim version: a case-insensitive substring match. To be replaced by PostgreSQL full-text search
(ranked, highlighted) with a working SQLite fallback; the contract below stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.html import escape

from .models import Issue, PaperSummary


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "issue" or "summary"
    title: str
    url: str
    snippet_html: str  # safe HTML: escaped text with <mark> around matched terms
    issue_number: int
    section_name: str  # "" for issues
    rank: float


def search(query: str, limit: int = 20, offset: int = 0) -> tuple[list[SearchHit], int]:
    """Published issues and summaries matching `query`, best first: (hits on this page, total)."""
    query = query.strip()
    if not query:
        return [], 0
    summaries = (
        PaperSummary.objects.filter(issue__in=Issue.objects.published())
        .filter(Q(headline__icontains=query) | Q(search_text__icontains=query))
        .select_related("issue", "section")
        .order_by("-issue__number", "position")
    )
    total = summaries.count()
    hits = [
        SearchHit(
            kind="summary",
            title=s.headline,
            url=s.get_absolute_url(),
            snippet_html=escape(s.search_text[:200]),
            issue_number=s.issue.number,
            section_name=s.section.name,
            rank=1.0,
        )
        for s in summaries[offset : offset + limit]
    ]
    return hits, total
