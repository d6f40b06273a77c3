"""A published issue's admin page leads a managing editor to the send page."""

from __future__ import annotations

import pytest

from .factories import make_issue

pytestmark = pytest.mark.django_db


def test_a_published_issue_offers_the_send_page(admin_client):
    issue = make_issue(number=40)
    response = admin_client.get(f"/admin/newsletter/issue/{issue.pk}/change/")
    assert response.status_code == 200
    assert f"/admin/subscribers/send/add/?issue={issue.pk}" in response.content.decode()
    start = admin_client.get(f"/admin/subscribers/send/add/?issue={issue.pk}")
    assert start.status_code == 200


def test_a_draft_offers_no_send(admin_client):
    issue = make_issue(number=41, published=False)
    response = admin_client.get(f"/admin/newsletter/issue/{issue.pk}/change/")
    assert response.status_code == 200
    assert f"/admin/subscribers/send/add/?issue={issue.pk}" not in response.content.decode()
