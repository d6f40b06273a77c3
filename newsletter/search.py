"""Full-text search over published issues and summaries.

`search()` returns one ranked list in which issues and summaries interleave, a page of it and the
total. It runs a fixed number of queries whatever the page holds: one for the ranked page of
(kind, id) rows and the total, and one per kind to load that page's rows with their snippets.

On PostgreSQL it is real full-text search: weighted documents (title or headline A, text B, the
summarised paper's title and authors C), `websearch_to_tsquery` (so users may type quotes, `or`
and `-term`, and nothing they type is a syntax error), `ts_rank` ordering, `ts_headline` snippets,
and GIN expression indexes (migration 0002) that the match conditions use. The documents below
must stay identical to the indexed expressions, or PostgreSQL silently stops using the indexes
(tests/test_search.py checks the plan).

On SQLite it falls back to every term matching as a case-insensitive substring, scored by where
and how often the terms occur, with the snippet cut and highlighted in Python.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection, connections
from django.db.models import Expression, F, FloatField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Length, Lower, Replace
from django.utils.html import escape

from .models import Issue, Paper, PaperSummary

SEARCH_CONFIG = "english"
MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
SNIPPET_WORDS = 35
MAX_PAGE_SIZE = 100
# Past every row there will ever be, and within the 64-bit integers databases accept for OFFSET.
MAX_OFFSET = 2**62

# Matches are marked with these private-use characters (removed from the text beforehand); the
# text is escaped and only then do they become <mark> tags, so the only markup in a snippet is ours.
_START, _STOP = "\ue000", "\ue001"


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
    query = _clean(query)
    if not re.search(r"\w", query):
        return [], 0
    backend = _PostgresSearch(query) if connection.vendor == "postgresql" else _FallbackSearch(query)
    if backend.is_empty():
        return [], 0
    matches = backend.issues().union(backend.summaries(), all=True)
    offset, limit = min(max(0, offset), MAX_OFFSET), max(0, min(limit, MAX_PAGE_SIZE))
    page, total = _ranked_page(matches, limit, offset)
    return backend.hits(page), total


_PAGE_SQL = """
    SELECT hit_kind, hit_id, hit_rank, hit_number, COUNT(*) OVER ()
    FROM ({matches}) AS matches
    ORDER BY hit_rank DESC, hit_number DESC, hit_kind, hit_id
    LIMIT %s OFFSET %s
"""


def _ranked_page(matches: QuerySet, limit: int, offset: int) -> tuple[list[tuple[str, int, float, int]], int]:
    """One page of the union, best first, and the union's size.

    Ranking reads every match's text, so counting in a second query would read it all again; a
    window count gets the total from the same pass. Only a page past the end needs a count.
    """
    if not limit:
        return [], matches.count()
    sql, params = matches.query.get_compiler(using=matches.db).as_sql()
    with connections[matches.db].cursor() as cursor:
        cursor.execute(_PAGE_SQL.format(matches=sql), [*params, limit, offset])
        rows = cursor.fetchall()
    if not rows:
        return [], matches.count() if offset else 0
    return [row[:4] for row in rows], rows[0][4]


def _clean(query: str) -> str:
    # PostgreSQL refuses NUL in text; very long queries are never useful and only cost time.
    return (query or "").replace("\x00", " ").strip()[:MAX_QUERY_LENGTH]


# The documents. Migration 0002 indexes exactly these expressions; change both together.


def issue_document() -> Expression:
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "search_text", weight="B", config=SEARCH_CONFIG
    )


def summary_document() -> Expression:
    return SearchVector("headline", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "search_text", weight="B", config=SEARCH_CONFIG
    )


def paper_document(prefix: str = "") -> Expression:
    return SearchVector(f"{prefix}title", weight="C", config=SEARCH_CONFIG) + SearchVector(
        f"{prefix}authors", weight="C", config=SEARCH_CONFIG
    )


def _hit_columns(qs: QuerySet, kind: str, rank: Expression, number: str) -> QuerySet:
    """The columns the union pages over; both kinds must name and order them alike."""
    return (
        qs.order_by()
        .annotate(
            hit_kind=Value(kind),
            hit_id=F("pk"),
            hit_rank=Cast(rank, FloatField()),
            hit_number=F(number),
        )
        .values_list("hit_kind", "hit_id", "hit_rank", "hit_number")
    )


class _Backend:
    def __init__(self, query: str) -> None:
        self.query = query

    def is_empty(self) -> bool:
        return False

    def issues(self) -> QuerySet:
        raise NotImplementedError

    def summaries(self) -> QuerySet:
        raise NotImplementedError

    def issue_rows(self, ids: list[int]) -> QuerySet[Issue]:
        return Issue.objects.filter(pk__in=ids)

    def summary_rows(self, ids: list[int]) -> QuerySet[PaperSummary]:
        return PaperSummary.objects.filter(pk__in=ids).select_related("issue", "section")

    def snippet(self, row: Issue | PaperSummary) -> str:
        raise NotImplementedError

    def hits(self, page: list[tuple[str, int, float, int]]) -> list[SearchHit]:
        issue_ids = [hit_id for kind, hit_id, _, _ in page if kind == "issue"]
        summary_ids = [hit_id for kind, hit_id, _, _ in page if kind == "summary"]
        rows: dict[tuple[str, int], Issue | PaperSummary] = {}
        if issue_ids:
            rows.update((("issue", row.pk), row) for row in self.issue_rows(issue_ids))
        if summary_ids:
            rows.update((("summary", row.pk), row) for row in self.summary_rows(summary_ids))
        return [
            self.hit(kind, rows[kind, hit_id], rank)
            for kind, hit_id, rank, _ in page
            if (kind, hit_id) in rows
        ]

    def hit(self, kind: str, row: Issue | PaperSummary, rank: float | None) -> SearchHit:
        if isinstance(row, Issue):
            title, issue_number, section_name = row.title, row.number, ""
        else:
            title, issue_number, section_name = row.headline, row.issue.number, row.section.name
        return SearchHit(
            kind=kind,
            title=title,
            url=row.get_absolute_url(),
            snippet_html=self.snippet(row),
            issue_number=issue_number,
            section_name=section_name,
            rank=float(rank or 0),
        )


class _PostgresSearch(_Backend):
    def __init__(self, query: str) -> None:
        super().__init__(query)
        self.tsquery = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)

    def issues(self) -> QuerySet:
        matching = Issue.objects.published().alias(document=issue_document()).filter(document=self.tsquery)
        return _hit_columns(matching, "issue", SearchRank(issue_document(), self.tsquery), "number")

    def summaries(self) -> QuerySet:
        # Two indexed matches, each on its own table: the summary's own text, or its paper's title
        # and authors. An OR across the join could use neither index.
        own_text = PaperSummary.objects.alias(document=summary_document()).filter(document=self.tsquery)
        matching_papers = Paper.objects.alias(document=paper_document()).filter(document=self.tsquery)
        by_paper = PaperSummary.objects.filter(paper__in=matching_papers.values("pk"))
        matching = PaperSummary.objects.filter(
            pk__in=own_text.order_by().values("pk").union(by_paper.order_by().values("pk")),
            issue__in=Issue.objects.published(),
        )
        rank = SearchRank(summary_document() + paper_document("paper__"), self.tsquery)
        return _hit_columns(matching, "summary", rank, "issue__number")

    def _headline(self) -> SearchHeadline:
        text: Expression = F("search_text")
        for sentinel in (_START, _STOP):
            text = Replace(text, Value(sentinel), Value(""))
        # PostgreSQL's parser drops anything tag-shaped from a headline; escaped, a writer's
        # literal "<b>" survives as text (snippet() decodes it again before escaping it once).
        for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            text = Replace(text, Value(char), Value(entity))
        return SearchHeadline(
            text,
            self.tsquery,
            config=SEARCH_CONFIG,
            start_sel=_START,
            stop_sel=_STOP,
            max_words=SNIPPET_WORDS,
            min_words=15,
            max_fragments=2,
            fragment_delimiter=" … ",
        )

    def issue_rows(self, ids: list[int]) -> QuerySet[Issue]:
        return super().issue_rows(ids).annotate(snippet=self._headline())

    def summary_rows(self, ids: list[int]) -> QuerySet[PaperSummary]:
        return super().summary_rows(ids).annotate(snippet=self._headline())

    def snippet(self, row: Issue | PaperSummary) -> str:
        return _marked_html(row.snippet, unescape=True)


_TERM = re.compile(r"(-?)(\w+(?:[-'.’]\w+)*)")


class _FallbackSearch(_Backend):
    """Every term must occur (case-insensitively, as a substring); `-term` excludes a term."""

    TITLE_WEIGHT = 4

    def __init__(self, query: str) -> None:
        super().__init__(query)
        self.terms: list[str] = []
        self.excluded: list[str] = []
        for minus, word in _TERM.findall(query):
            # SQLite's LIKE and LOWER() fold ASCII letters only; folding more would miss "Über".
            word = _fold_ascii(word)
            if word == "or":  # websearch syntax; here every term must match anyway
                continue
            target = self.excluded if minus else self.terms
            if word not in target and len(self.terms) + len(self.excluded) < MAX_TERMS:
                target.append(word)

    def is_empty(self) -> bool:
        return not self.terms

    def _matching(self, qs: QuerySet, fields: list[str]) -> QuerySet:
        for term in self.terms:
            qs = qs.filter(_any_contains(fields, term))
        for term in self.excluded:
            qs = qs.exclude(_any_contains(fields, term))
        return qs

    def _score(self, title_field: str, text_fields: list[str]) -> Expression:
        score: Expression = Value(0)
        for term in self.terms:
            score = score + self.TITLE_WEIGHT * _occurrences(title_field, term)
            for field in text_fields:
                score = score + _occurrences(field, term)
        return score

    def issues(self) -> QuerySet:
        fields = ["title", "search_text"]
        matching = self._matching(Issue.objects.published(), fields)
        return _hit_columns(matching, "issue", self._score("title", fields[1:]), "number")

    def summaries(self) -> QuerySet:
        fields = ["headline", "search_text", "paper__title", "paper__authors"]
        matching = self._matching(PaperSummary.objects.filter(issue__in=Issue.objects.published()), fields)
        return _hit_columns(matching, "summary", self._score("headline", fields[1:]), "issue__number")

    def snippet(self, row: Issue | PaperSummary) -> str:
        return highlight(row.search_text, self.terms)


def _any_contains(fields: list[str], term: str) -> Q:
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": term})
    return condition


def _occurrences(field: str, term: str) -> Expression:
    """How often `term` (ASCII-folded) occurs in `field`, ignoring ASCII case."""
    text = Coalesce(F(field), Value(""))
    removed = Length(text) - Length(Replace(Lower(text), Value(term), Value("")))
    return removed / Value(len(term))


def _fold_ascii(word: str) -> str:
    return "".join(char.lower() if char.isascii() else char for char in word)


def highlight(text: str, terms: list[str], words: int = SNIPPET_WORDS) -> str:
    """An escaped excerpt of `text` around the first term found, each term wrapped in <mark>."""
    text = (text or "").replace(_START, "").replace(_STOP, "")
    if not terms:
        return escape(_first_words(text, words))
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.I)
    first = pattern.search(text)
    start = 0
    if first:
        # Start a few words before the first match, at a word boundary.
        lead = text[: first.start()].split(" ")
        kept = lead[-10:]
        start = first.start() - len(" ".join(kept))
    excerpt = _first_words(text[start:], words)
    if start > 0:
        excerpt = "… " + excerpt
    marked = pattern.sub(lambda match: f"{_START}{match.group(0)}{_STOP}", excerpt)
    return _marked_html(marked, unescape=False)


def _first_words(text: str, words: int) -> str:
    parts = text.split()
    excerpt = " ".join(parts[:words])
    return excerpt + " …" if len(parts) > words else excerpt


def _plain(search_text: str | None) -> str:
    # PostgreSQL headlines are built from entity-escaped text (see _headline).
    return html.unescape(search_text or "")


_SENTINELS = re.compile(f"({_START}|{_STOP})")


def _marked_html(marked: str, unescape: bool) -> str:
    """Escape the text between _START/_STOP sentinels, and turn the sentinels into <mark> tags."""
    html_parts = []
    for part in _SENTINELS.split(marked or ""):
        if part == _START:
            html_parts.append("<mark>")
        elif part == _STOP:
            html_parts.append("</mark>")
        else:
            if unescape:
                part = _plain(part).replace(_START, "").replace(_STOP, "")
            html_parts.append(escape(part))
    return "".join(html_parts)
