"""The sitemap lists what the public may open, on SITE_URL; robots.txt points crawlers at it."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.models import Issue

from .factories import make_author, make_issue, make_paper, make_section, make_summary

pytestmark = pytest.mark.django_db

SITE = "https://news.example.org"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_entries(client, **headers) -> dict[str, str | None]:
    """Each <loc> in the sitemap, with its <lastmod> (or None)."""
    response = client.get("/sitemap.xml", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    entries = {}
    for url in root.findall("sm:url", NS):
        lastmod = url.find("sm:lastmod", NS)
        entries[url.find("sm:loc", NS).text] = lastmod.text if lastmod is not None else None
    return entries


def test_the_sitemap_lists_public_pages_only(client):
    robustness = make_section("Robustness")
    make_section("Empty")
    writer, issue_author, unpublished_writer = (
        make_author("Writer"),
        make_author("Editor"),
        make_author("Hidden"),
    )
    published = make_issue(number=1)
    published.authors.add(issue_author)
    published.tags.add("benchmarks")
    draft = make_issue(number=2, published=False)
    draft.tags.add("secret-draft-tag")
    scheduled = make_issue(
        number=3, status=Issue.Status.PUBLISHED, published_at=timezone.now() + timedelta(days=1)
    )
    covered = make_paper("Covered", url="https://example.org/covered")
    uncovered = make_paper("Only in a draft", url="https://example.org/draft")
    summary = make_summary(published, robustness, writer=writer, paper=covered)
    summary.tags.add("adversarial")
    make_summary(draft, robustness, writer=unpublished_writer, paper=uncovered)
    make_summary(scheduled, robustness, writer=unpublished_writer)

    entries = sitemap_entries(client)

    assert set(entries) == {
        f"{SITE}/",
        f"{SITE}/issues/",
        f"{SITE}/papers/",
        f"{SITE}/issues/1/",
        f"{SITE}/sections/robustness/",
        f"{SITE}/authors/writer/",
        f"{SITE}/authors/editor/",
        f"{SITE}/papers/{covered.pk}/",
        f"{SITE}/tags/adversarial/",
        f"{SITE}/tags/benchmarks/",
    }
    assert entries[f"{SITE}/issues/1/"].startswith(timezone.now().date().isoformat())


def test_an_issue_s_lastmod_is_when_it_last_changed_or_went_public(client):
    issue = make_issue(number=1)
    Issue.objects.filter(pk=issue.pk).update(
        published_at=timezone.now() - timedelta(days=3), updated_at=timezone.now() - timedelta(days=10)
    )
    entries = sitemap_entries(client)
    assert entries[f"{SITE}/issues/1/"] == (timezone.now() - timedelta(days=3)).date().isoformat()


def test_the_sitemap_uses_site_url_not_the_request_host(client, settings):
    settings.SITE_URL = "http://localhost:8000"
    make_issue(number=1)
    entries = sitemap_entries(client, HTTP_HOST="127.0.0.1:8000", HTTP_X_FORWARDED_PROTO="https")
    assert "http://localhost:8000/issues/1/" in entries
    assert all(loc.startswith("http://localhost:8000/") for loc in entries)


def test_the_sitemap_runs_the_same_queries_for_3_issues_or_30(client):
    section = make_section("Robustness")

    def add_issues(count: int) -> None:
        for _ in range(count):
            issue = make_issue()
            issue.authors.add(make_author(f"Author {issue.number}"))
            issue.tags.add(f"tag-{issue.number}")
            make_summary(
                issue, section, paper=make_paper(f"P {issue.number}", url=f"https://e.org/{issue.number}")
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/sitemap.xml").status_code == 200
        return len(captured)

    add_issues(3)
    few = queries()
    add_issues(27)
    assert queries() == few


def test_robots_txt_allows_the_site_and_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Allow: /" in lines
    for path in ("/admin/", "/outbox/", "/markdownx/", "/preview/"):
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    assert "Disallow: /" not in lines
