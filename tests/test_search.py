"""Search: ranked, highlighted, safe, and blind to drafts, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.models import Issue, Paper, PaperSummary
from newsletter.search import search

from .factories import make_issue, make_paper, make_section, make_summary

pytestmark = pytest.mark.django_db


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL full-text search only (this run uses the SQLite fallback)")


def titles(query: str, **kwargs) -> list[str]:
    hits, _ = search(query, **kwargs)
    return [hit.title for hit in hits]


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def tags_in(html: str) -> list[tuple[str, list]]:
    collector = TagCollector()
    collector.feed(html)
    return collector.tags


@pytest.fixture
def section():
    return make_section("Robustness")


def test_it_finds_summaries_and_issues(section):
    issue = make_issue(number=2, title="Adversarial robustness and anomalies", intro="Welcome back.")
    summary = make_summary(
        issue, section, headline="Pyramid training for vision transformers", body="It helps a lot."
    )

    hits, total = search("pyramid")
    assert total == 1
    [hit] = hits
    assert (hit.kind, hit.title, hit.issue_number, hit.section_name) == (
        "summary",
        "Pyramid training for vision transformers",
        2,
        "Robustness",
    )
    assert hit.url == summary.get_absolute_url() == f"/issues/2/#summary-{summary.pk}"

    hits, total = search("anomalies")
    assert total == 1
    assert (hits[0].kind, hits[0].url, hits[0].section_name) == ("issue", "/issues/2/", "")


def test_it_matches_the_body_text_not_the_markup(section):
    issue = make_issue()
    make_summary(issue, section, headline="A", body="The models are **remarkably** brittle.")
    assert titles("remarkably brittle") == ["A"]
    assert titles("strong") == []


def test_every_term_must_match(section):
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Adversarial patches", body="Patches fool detectors.")
    make_summary(issue, section, headline="Adversarial training", body="Training makes models robust.")
    assert titles("adversarial detectors") == ["Adversarial patches"]


def test_a_minus_term_excludes(section):
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Adversarial patches", body="Patches fool detectors.")
    make_summary(issue, section, headline="Adversarial training", body="Training makes models robust.")
    assert titles("adversarial -patches") == ["Adversarial training"]


def test_it_finds_summaries_by_their_papers_title_and_authors(section):
    paper = make_paper("Scaling Out-of-Distribution Detection", authors="Dan Hendrycks, Steven Basart")
    make_summary(
        make_issue(), section, headline="Better anomaly scores", body="Use the max logit.", paper=paper
    )
    assert titles("hendrycks") == ["Better anomaly scores"]
    assert titles("scaling detection") == ["Better anomaly scores"]


def test_drafts_and_future_issues_never_appear(section):
    published = make_issue(title="Published interpretability")
    draft = make_issue(title="Draft interpretability", published=False)
    future = make_issue(
        title="Future interpretability",
        status=Issue.Status.PUBLISHED,
        published_at=timezone.now() + timedelta(days=2),
    )
    for issue in (published, draft, future):
        make_summary(issue, section, headline=f"Summary in {issue.title}", body="interpretability")

    hits, total = search("interpretability")
    assert total == 2
    assert {hit.issue_number for hit in hits} == {published.number}


def test_issues_and_summaries_interleave_by_rank(section):
    issue = make_issue(title="Calibration", intro="This issue is about calibration of classifiers.")
    make_summary(issue, section, headline="Calibration under shift", body="Ensembles are calibrated.")
    make_summary(issue, section, headline="Unrelated", body="A note on calibration.")
    hits, total = search("calibration")
    assert total == 3
    assert hits[-1].title == "Unrelated"  # the only body-only hit
    assert {hit.kind for hit in hits[:2]} == {"issue", "summary"}


def test_a_headline_hit_outranks_a_body_only_hit(section):
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Trojans", body="A survey of hidden behaviour in networks.")
    make_summary(issue, section, headline="Hidden behaviour", body="A survey of trojans in networks.")
    assert titles("trojans") == ["Trojans", "Hidden behaviour"]


def test_more_matches_rank_higher(section):
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="One", body="Honesty matters. Models can be evaluated.")
    make_summary(issue, section, headline="Three", body="Honesty matters. Honesty is measured. Honesty wins.")
    assert titles("honesty") == ["Three", "One"]


def test_postgres_stems_words(section):
    needs_postgres()
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Robust models", body="We trained the models for longer.")
    assert titles("training") == ["Robust models"]
    assert titles("model") == ["Robust models"]


def test_postgres_understands_phrases_and_or(section):
    needs_postgres()
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Red teaming", body="Language models under attack.")
    make_summary(issue, section, headline="Anomaly detection", body="Models detect language anomalies.")
    assert titles('"language models"') == ["Red teaming"]
    assert set(titles("teaming or anomaly")) == {"Red teaming", "Anomaly detection"}


def test_snippets_highlight_the_matches(section):
    issue = make_issue(title="Nothing here")
    body = "Intro words. " * 30 + "Deep ensembles improve calibration on shifted data. " + "More words. " * 30
    make_summary(issue, section, headline="Ensembles", body=body)
    [hit] = search("calibration")[0]
    assert "<mark>calibration</mark>" in hit.snippet_html
    assert "Deep ensembles improve" in hit.snippet_html
    assert len(hit.snippet_html) < 600


def test_a_title_only_hit_shows_the_start_of_the_text(section):
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Trojans", body="Hidden behaviour can be planted in networks.")
    [hit] = search("trojans")[0]
    assert "Hidden behaviour can be planted" in hit.snippet_html


XSS = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) "
    '`<b onclick="y">code</b>`'
)


def test_snippets_are_escaped_text_with_only_our_marks(section):
    issue = make_issue(title="Nothing here", intro=f"Payload {XSS} alert")
    make_summary(issue, section, headline="<img src=x onerror=alert(4)> alert", body=f"alert {XSS} alert")
    hits, total = search("alert")
    assert total == 2
    for hit in hits:
        assert {tag for tag, _ in tags_in(hit.snippet_html)} == {"mark"}
        assert all(attrs == [] for _, attrs in tags_in(hit.snippet_html))
    summary_hit = next(hit for hit in hits if hit.kind == "summary")
    # The payload shown in inline code is text, and reads as the writer typed it.
    assert "&lt;b onclick=&quot;y&quot;&gt;" in summary_hit.snippet_html


def test_entities_in_the_text_are_shown_once_escaped(section):
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Inequalities", body="We show a < b & c for robustness.")
    [hit] = search("robustness")[0]
    assert "a &lt; b &amp; c" in hit.snippet_html


JUNK = [
    '"',
    '""',
    '"unterminated phrase',
    "&|!",
    "!(a & b) | c:*",
    "a:* & b:A",
    "-",
    "--",
    "or",
    "OR OR or",
    "-robustness",
    "'; DROP TABLE newsletter_issue; --",
    "%_%",
    "\\",
    "\x00robust\x00",
    "<script>alert(1)</script>",
    "x" * 5000,
    " ".join(["robustness"] * 500),
    "ロバスト性 Über naïve 🤖",
    "\u0000\ue000\ue001",
    "   ",
    "",
]


@pytest.mark.parametrize("query", JUNK)
def test_junk_queries_never_raise(section, query):
    issue = make_issue(title="Robustness naïve Über")
    make_summary(issue, section, headline="Robustness", body="Robust models ロバスト性 🤖.")
    hits, total = search(query)
    assert total >= len(hits) >= 0
    for hit in hits:
        assert {tag for tag, _ in tags_in(hit.snippet_html)} <= {"mark"}


def test_unicode_terms_match(section):
    issue = make_issue(title="Nothing here")
    make_summary(issue, section, headline="Naïve Bayes", body="Über ロバスト性 の研究")
    assert titles("NAïVE") == ["Naïve Bayes"]
    assert titles("naïve Über") == ["Naïve Bayes"]
    assert titles("ロバスト性") == ["Naïve Bayes"]


def test_it_paginates_and_counts(section):
    issue = make_issue(title="Nothing here")
    for position in range(7):
        make_summary(issue, section, position=position, headline=f"Monitoring {position}", body="x")
    first, total = search("monitoring", limit=3)
    second, _ = search("monitoring", limit=3, offset=3)
    last, _ = search("monitoring", limit=3, offset=6)
    beyond, total_beyond = search("monitoring", limit=3, offset=30)
    assert total == total_beyond == 7
    assert (len(first), len(second), len(last), beyond) == (3, 3, 1, [])
    assert len({hit.url for hit in first + second + last}) == 7


def test_it_runs_the_same_queries_for_3_hits_or_30(section):
    def count_queries(query: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            hits, _ = search(query, limit=50)
            [(hit.url, hit.section_name, hit.issue_number, hit.snippet_html) for hit in hits]
        return len(queries)

    for number in range(3):
        issue = make_issue(title=f"Sparse {number}")
        make_summary(issue, section, headline="Sparse summary", body="autoencoders")
    for number in range(15):
        issue = make_issue(title=f"Dense {number}")
        make_summary(issue, section, headline="Dense summary", body="retrieval")
    assert len(search("sparse", limit=50)[0]) == 6
    assert len(search("dense", limit=50)[0]) == 30
    assert count_queries("sparse") == count_queries("dense") == 3


@pytest.mark.postgres
def test_postgres_match_conditions_use_the_gin_indexes(section):
    needs_postgres()
    from newsletter.search import _PostgresSearch

    # Enough rows, and statistics, for the planner to prefer the indexes to reading every row.
    now = timezone.now()
    filler = "Models were evaluated on benchmarks under distribution shift. " * 20
    issues = Issue.objects.bulk_create(
        Issue(number=n, title=f"Issue {n}", search_text=filler, status="published", published_at=now)
        for n in range(1, 1501)
    )
    papers = Paper.objects.bulk_create(Paper(title=f"Paper {n}", authors="A. Writer") for n in range(1500))
    PaperSummary.objects.bulk_create(
        PaperSummary(issue=issue, section=section, headline=f"Summary {n}", search_text=filler, paper=paper)
        for n, (issue, paper) in enumerate(zip(issues, papers, strict=True))
    )
    with connection.cursor() as cursor:
        for table in ("newsletter_issue", "newsletter_papersummary", "newsletter_paper"):
            cursor.execute(f"ANALYZE {table}")

    backend = _PostgresSearch("trojans")
    plan = backend.issues().union(backend.summaries(), all=True).explain()
    for index in ("issue_search_idx", "summary_search_idx", "paper_search_idx"):
        assert f"Bitmap Index Scan on {index}" in plan, plan
