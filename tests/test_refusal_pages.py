"""A refusal is a page in the admin's layout that says what the role may not do, never a bare 403
nor a "does not exist, perhaps it was deleted" for something that exists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from subscribers.models import Send, Subscriber
from tests.factories import make_issue, make_ready_issue, make_user

pytestmark = pytest.mark.django_db


def refusal(response) -> str:
    assert response.status_code == 403
    assert "admin/base_site.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert 'id="access-refused"' in page
    return page


def test_a_writer_opening_another_writers_issue_is_told_it_is_not_theirs(client):
    writer, other = make_user("wanda", "Writer"), make_user("otto", "Writer")
    theirs = make_ready_issue(3, created_by=other)
    client.force_login(writer)

    page = refusal(client.get(reverse("admin:newsletter_issue_change", args=[theirs.pk])))

    assert "Issue #3 is another writer&#x27;s: a writer sees and edits only the issues they started." in page
    assert "perhaps it was deleted" not in page
    assert "in the role Writer" in page


def test_a_writer_asking_for_the_subscribers_is_told_their_role_may_not(client):
    Subscriber.objects.create(email="reader@example.org")
    client.force_login(make_user("wanda", "Writer"))

    page = refusal(client.get(reverse("admin:subscribers_subscriber_changelist")))

    assert "Your role (Writer) does not allow you to see the list of subscribers." in page
    assert "reader@example.org" not in page


def test_an_editor_saving_a_published_issue_is_told_why_not(client):
    issue = make_ready_issue(1)
    issue.status = issue.Status.PUBLISHED
    issue.published_at = issue.created_at
    issue.save()
    client.force_login(make_user("edith", "Editor"))

    page = refusal(client.post(reverse("admin:newsletter_issue_change", args=[issue.pk]), {}))

    assert "A published issue is not edited in place: unpublish it first." in page


def test_a_managing_editor_deleting_a_send_is_told_their_role_may_not(client):
    send = Send.objects.create(issue=make_issue(1), recipient_count=0)
    client.force_login(make_user("max", "Managing editor"))

    page = refusal(client.get(reverse("admin:subscribers_send_delete", args=[send.pk])))

    assert "Your role (Managing editor) does not allow you to delete this send." in page


def test_the_refusal_page_has_the_admins_navigation(client):
    client.force_login(make_user("edith", "Editor"))

    page = refusal(client.get(reverse("admin:auth_user_changelist")))

    assert "Your role (Editor) does not allow you to see the list of users." in page
    assert reverse("admin:index") in page and reverse("admin:logout") in page
