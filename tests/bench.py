"""Benchmarks, run by `make bench` (`python -m tests.bench [NAME ...]`).

It makes its own throwaway test database (the test runner's setup_databases: in-memory SQLite by
default, `test_<name>` on PostgreSQL when DATABASE_URL points there), fills it, measures, and
tears it down. The real database is never touched.

`public_pages`: every public page is requested at two sizes of content, small (3 issues of 5
summaries) and large (300 issues, one of them with 50 summaries), and the SQL queries of each
request are counted with an empty cache. A page whose count grows with the content does a query
per item (an N+1) and FAILs; the run then exits non-zero. The median response time of each page at
the large size (Django's test Client, warm cache, no network) is printed as a figure, not judged.

`send`: the send pipeline at 100,000 recipients (snapshot and fan-out, personalisation, hand-off
to Anymail, CSS inlining, queries per recipient, memory at two sizes), each figure with its goal;
see tests/bench_send.py. It runs in processes of its own on throwaway databases: a temporary
SQLite file, or a new database on the PostgreSQL server of BENCH_DATABASE_URL when that is set.

To add a benchmark, write a function that prints its figures and returns True when it passes, and
add it to BENCHMARKS.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)
from django.utils import timezone  # noqa: E402

from newsletter.models import Author, Issue, Paper, PaperSummary, Section  # noqa: E402

SECTION_NAMES = ["Robustness", "Monitoring", "Alignment", "Other News"]
AUTHOR_NAMES = ["Dan Hendrycks", "Thomas Woodside", "Nathaniel Li", "Long Phan", "Andy Zou", "Mantas Mazeika"]
TAG_NAMES = ["adversarial", "robustness", "anomaly-detection", "interpretability", "honesty", "trojans"]
SEARCH_TERM = "adversarial"
TIMING_RUNS = 15


@dataclass(frozen=True)
class ContentSize:
    name: str
    issues: int
    summaries_per_issue: int
    big_issue_summaries: int  # the latest issue has this many summaries


SMALL = ContentSize("small", issues=3, summaries_per_issue=5, big_issue_summaries=5)
LARGE = ContentSize("large", issues=300, summaries_per_issue=5, big_issue_summaries=50)


@dataclass(frozen=True)
class Content:
    """What the benchmark pages point at: the biggest issue and well-used section, author, tag, paper."""

    issue_number: int
    section_slug: str
    author_slug: str
    tag_slug: str
    paper_pk: int


@contextmanager
def bench_environment() -> Iterator[None]:
    """A throwaway test database and settings that keep files, mail and tasks inside the run."""
    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # 404s are reported in the table
    # No collectstatic here: the test Client never serves static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    with tempfile.TemporaryDirectory(prefix="bench-media-") as media_root:
        overrides = override_settings(
            MEDIA_ROOT=media_root,
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        )
        overrides.enable()
        setup_test_environment(debug=False)
        old_config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        try:
            yield
        finally:
            teardown_databases(old_config, verbosity=0)
            teardown_test_environment()
            overrides.disable()


@contextmanager
def content_of_size(size: ContentSize) -> Iterator[Content]:
    """Content of the given size, rolled back afterwards so the next size starts empty."""
    with transaction.atomic():
        yield build_content(size)
        transaction.set_rollback(True)
    cache.clear()


def build_content(size: ContentSize) -> Content:
    """Published issues shaped like the real newsletter: sections, features, briefs, news, tags.

    Every tenth issue covers the same well-known paper, so the paper page grows with the archive.
    """
    sections = [
        Section.objects.create(name=name, slug=name.lower().replace(" ", "-"), position=i)
        for i, name in enumerate(SECTION_NAMES)
    ]
    authors = [Author.objects.create(name=name) for name in AUTHOR_NAMES]
    famous_paper = Paper.objects.create(
        title="Adversarial Examples Are Not Bugs, They Are Features",
        url="https://arxiv.org/abs/1905.02175",
        authors="Andrew Ilyas, Shibani Santurkar, Dimitris Tsipras",
        venue="NeurIPS",
        year=2019,
    )
    now = timezone.now()
    for number in range(1, size.issues + 1):
        issue = Issue.objects.create(
            number=number,
            title=f"Robustness and monitoring, issue {number}",
            preheader=f"Issue {number}: adversarial robustness, anomaly detection and alignment.",
            intro=f"Welcome to issue **{number}** of the newsletter.",
            status=Issue.Status.PUBLISHED,
            published_at=now - timedelta(days=7 * (size.issues - number) + 1),
        )
        issue.authors.add(authors[number % len(authors)], authors[(number + 1) % len(authors)])
        issue.tags.add(TAG_NAMES[number % len(TAG_NAMES)])
        count = size.big_issue_summaries if number == size.issues else size.summaries_per_issue
        for position in range(count):
            _make_summary(issue, position, sections, authors, famous_paper if number % 10 == 1 else None)
    return Content(
        issue_number=size.issues,
        section_slug=sections[0].slug,
        author_slug=authors[0].slug,
        tag_slug=TAG_NAMES[0],
        paper_pk=famous_paper.pk,
    )


def _make_summary(issue, position, sections, authors, famous_paper) -> PaperSummary:
    kind = [PaperSummary.Kind.FEATURE] * 3 + [PaperSummary.Kind.BRIEF, PaperSummary.Kind.NEWS]
    kind = kind[position % len(kind)]
    paper = None
    if kind != PaperSummary.Kind.NEWS:
        paper = famous_paper if position == 0 and famous_paper else None
        paper = paper or Paper.objects.create(
            title=f"Paper {issue.number}.{position}: adversarial training at scale",
            url=f"https://arxiv.org/abs/2{issue.number % 1000:03d}.{position:05d}",
            authors="A. Researcher, B. Scientist",
            venue="arXiv",
            year=2022,
        )
    summary = PaperSummary.objects.create(
        issue=issue,
        section=sections[position % len(sections)],
        position=position,
        kind=kind,
        headline=f"Summary {issue.number}.{position}: adversarial robustness of vision transformers",
        body="Researchers find that *adversarial training* improves robustness.\n\n"
        "A second paragraph with a [link](https://example.org/) and more detail.",
        paper=paper,
        writer=authors[position % len(authors)],
        figure_caption="Accuracy under attack.",
    )
    summary.tags.add(TAG_NAMES[position % 2], TAG_NAMES[2 + position % 4])
    return summary


def public_pages(content: Content) -> list[tuple[str, str]]:
    """(label, URL) of every public page, the label the same at every size."""
    section = content.section_slug
    return [
        ("/", "/"),
        ("/issues/", "/issues/"),
        ("/issues/<latest: most summaries>/", f"/issues/{content.issue_number}/"),
        ("/sections/<slug>/", f"/sections/{section}/"),
        ("/authors/<slug>/", f"/authors/{content.author_slug}/"),
        ("/tags/<slug>/", f"/tags/{content.tag_slug}/"),
        ("/papers/", "/papers/"),
        ("/papers/<pk: in every 10th issue>/", f"/papers/{content.paper_pk}/"),
        ("/papers/<pk>/bibtex/", f"/papers/{content.paper_pk}/bibtex/"),
        ("/papers/bibtex/", "/papers/bibtex/"),
        (f"/search/?q={SEARCH_TERM}", f"/search/?q={SEARCH_TERM}"),
        ("/feeds/rss/", "/feeds/rss/"),
        ("/feeds/atom/", "/feeds/atom/"),
        ("/feeds/sections/<slug>/rss/", f"/feeds/sections/{section}/rss/"),
        ("/feeds/sections/<slug>/atom/", f"/feeds/sections/{section}/atom/"),
        ("/sitemap.xml", "/sitemap.xml"),
        ("/robots.txt", "/robots.txt"),
    ]


def count_queries(client: Client, url: str) -> tuple[int | str, int]:
    """(status, number of SQL queries) of one GET of `url` with an empty cache.

    The status is the name of the exception instead when even the error handlers failed.
    """
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        try:
            status = client.get(url).status_code
        except Exception as exc:
            status = type(exc).__name__
    return status, len(queries)


def median_ms(client: Client, url: str, runs: int = TIMING_RUNS) -> float:
    """Median wall time of `runs` GETs of `url`, after one to warm caches."""
    times = []
    for run in range(runs + 1):
        start = time.perf_counter()
        try:
            client.get(url)
        except Exception:
            return float("nan")
        if run:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def verdict(small: tuple[int | str, int], large: tuple[int | str, int]) -> str:
    """ "ok", or why the page fails: a status other than 200, or more queries at the large size."""
    (small_status, small_queries), (large_status, large_queries) = small, large
    if small_status != 200 or large_status != 200:
        return f"FAIL status {small_status}/{large_status}"
    if large_queries > small_queries:
        return f"FAIL +{large_queries - small_queries} queries"
    return "ok"


def bench_public_pages() -> bool:
    client = Client(raise_request_exception=False)
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    timings: dict[str, float] = {}
    build_seconds = {}
    for size in (SMALL, LARGE):
        start = time.perf_counter()
        with content_of_size(size) as content:
            build_seconds[size.name] = time.perf_counter() - start
            for label, url in public_pages(content):
                counts.setdefault(label, {})[size.name] = count_queries(client, url)
            if size is LARGE:
                for label, url in public_pages(content):
                    timings[label] = median_ms(client, url)

    print(
        f"Public pages on {connection.vendor}: SQL queries per request (empty cache) at the small "
        f"size ({SMALL.issues} issues x {SMALL.summaries_per_issue} summaries) and the large size "
        f"({LARGE.issues} issues, one with {LARGE.big_issue_summaries} summaries); median of "
        f"{TIMING_RUNS} requests at the large size (warm cache, Django test Client)."
    )
    print(
        f"Content built in {build_seconds['small']:.1f} s (small) and {build_seconds['large']:.1f} s (large)."
    )
    header = f"{'page':<38} {'small':>6} {'large':>6} {'median ms':>10}  verdict"
    print(header)
    print("-" * len(header))
    ok = True
    for label, by_size in counts.items():
        small, large = by_size["small"], by_size["large"]
        result = verdict(small, large)
        ok = ok and result == "ok"
        print(f"{label:<38} {small[1]:>6} {large[1]:>6} {timings[label]:>10.1f}  {result}")
    print("public_pages: " + ("ok" if ok else "FAIL"))
    return ok


def bench_send() -> bool:
    from tests.bench_send import bench_send as run

    return run()


BENCHMARKS: dict[str, Callable[[], bool]] = {
    "public_pages": bench_public_pages,
    "send": bench_send,
}


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(BENCHMARKS)}.")
        return 2
    with bench_environment():
        results = [BENCHMARKS[name]() for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
