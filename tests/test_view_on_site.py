"""The admin's "View on site" opens the page an issue or summary has: the public page once the
issue is public, and until then the draft as that page will look (a preview only staff who may
see the issue open), never a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_issue, make_ready_issue, make_user

pytestmark = pytest.mark.django_db


def view_on_site(page) -> str:
    return page.context["absolute_url"]


def test_view_on_site_of_a_draft_opens_its_preview(client):
    writer = make_user("wanda", "Writer")
    issue = make_ready_issue(4, created_by=writer, title="Not out yet")
    client.force_login(writer)

    link = view_on_site(client.get(reverse("admin:newsletter_issue_change", args=[issue.pk])))
    response = client.get(link)

    assert link == reverse("admin:editorial_draft_page", args=[issue.pk])
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not out yet" in page and "Pyramid training" in page
    assert "this issue is not published yet" in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_view_on_site_of_a_summary_in_a_draft_opens_the_preview_at_the_summary(client):
    writer = make_user("wanda", "Writer")
    summary = make_ready_issue(4, created_by=writer).summaries.get()
    client.force_login(writer)

    link = view_on_site(client.get(reverse("admin:newsletter_papersummary_change", args=[summary.pk])))

    assert link == reverse("admin:editorial_draft_page", args=[summary.issue_id]) + f"#summary-{summary.pk}"
    assert client.get(link).status_code == 200


def test_view_on_site_of_a_published_issue_is_its_public_page(client):
    issue = make_issue(1)
    client.force_login(make_user("edith", "Editor"))

    link = view_on_site(client.get(reverse("admin:newsletter_issue_change", args=[issue.pk])))

    assert link == "/issues/1/"
    assert client.get(link).status_code == 200


def test_another_writer_cannot_open_the_draft_page(client):
    issue = make_ready_issue(4, created_by=make_user("otto", "Writer"))
    client.force_login(make_user("wanda", "Writer"))

    response = client.get(reverse("admin:editorial_draft_page", args=[issue.pk]))

    assert response.status_code == 403
    assert "another writer&#x27;s" in response.content.decode()
