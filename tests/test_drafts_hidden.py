"""Drafts, issues in review and issues scheduled for later never reach a public page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletter.models import Issue
from tests.factories import make_author, make_issue, make_section, make_summary, unique_paper

pytestmark = pytest.mark.django_db

SECRET = "Unpublished"


def hidden_issue(kind: str) -> Issue:
    if kind == "draft":
        return make_issue(50, published=False, title=f"{SECRET} draft")
    if kind == "in_review":
        return make_issue(50, published=False, title=f"{SECRET} review", status=Issue.Status.IN_REVIEW)
    # Published status, but its time has not come yet.
    return make_issue(
        50,
        title=f"{SECRET} future",
        status=Issue.Status.PUBLISHED,
        published_at=timezone.now() + timedelta(days=1),
    )


@pytest.fixture(params=["draft", "in_review", "future"])
def hidden(request):
    """A public issue, plus a hidden one with its own author, tag, section and paper."""
    public_section = make_section("Robustness", position=1)
    make_summary(make_issue(1, title="Public issue"), public_section, headline="Public summary")
    issue = hidden_issue(request.param)
    author = make_author(f"{SECRET} Writer")
    issue.authors.add(author)
    issue.tags.add("secret-tag")
    section = make_section("Hidden Section", position=2)
    paper = unique_paper(f"{SECRET} paper title")
    summary = make_summary(issue, section, headline=f"{SECRET} summary", paper=paper, writer=author)
    summary.tags.add("secret-summary-tag")
    return {"issue": issue, "author": author, "paper": paper, "section": section}


def test_hidden_issue_page_is_404(client, hidden):
    assert client.get(f"/issues/{hidden['issue'].number}/").status_code == 404


@pytest.mark.parametrize("url", ["/", "/issues/", "/papers/", "/papers/bibtex/", "/search/?q=unpublished"])
def test_hidden_content_is_not_listed(client, hidden, url):
    response = client.get(url)

    assert response.status_code == 200
    assert SECRET not in response.content.decode()


def test_hidden_section_content_is_not_listed(client, hidden):
    response = client.get(f"/sections/{hidden['section'].slug}/")

    assert response.status_code == 200  # sections are public; their unpublished summaries are not
    assert SECRET not in response.content.decode()


def test_author_of_hidden_work_only_is_404(client, hidden):
    assert client.get(f"/authors/{hidden['author'].slug}/").status_code == 404


@pytest.mark.parametrize("slug", ["secret-tag", "secret-summary-tag"])
def test_tag_of_hidden_content_only_is_404(client, hidden, slug):
    assert client.get(f"/tags/{slug}/").status_code == 404


def test_hidden_paper_is_404(client, hidden):
    pk = hidden["paper"].pk

    assert client.get(f"/papers/{pk}/").status_code == 404
    assert client.get(f"/papers/{pk}/bibtex/").status_code == 404


def test_hidden_tag_is_not_a_paper_filter(client, hidden):
    assert client.get("/papers/?tag=secret-summary-tag").status_code == 404


def test_published_issue_does_not_link_to_a_hidden_neighbour(client, hidden):
    html = client.get("/issues/1/").content.decode()

    assert SECRET not in html and 'rel="next"' not in html


def test_home_without_any_published_issue_shows_the_empty_state(client):
    make_issue(1, published=False, title=f"{SECRET} draft")

    html = client.get("/").content.decode()

    assert SECRET not in html and "Nothing has been published yet" in html


def test_hidden_issue_appears_once_published(client, hidden):
    issue = hidden["issue"]
    issue.status = Issue.Status.PUBLISHED
    issue.published_at = timezone.now() - timedelta(minutes=1)
    issue.save()

    assert client.get(f"/issues/{issue.number}/").status_code == 200
    assert client.get(f"/authors/{hidden['author'].slug}/").status_code == 200
    assert client.get(f"/papers/{hidden['paper'].pk}/").status_code == 200
