"""Roles: Writer, Editor and Managing editor groups, and what each sees and may do in the admin.

The users in each role and a ready issue come from tests/factories.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from editorial import workflow
from editorial.models import Transition
from newsletter.models import Issue
from tests.factories import make_ready_issue, make_section, user_fixture

pytestmark = pytest.mark.django_db


writer = user_fixture("wanda", "Writer")
other_writer = user_fixture("otto", "Writer")
editor = user_fixture("edith", "Editor")
managing_editor = user_fixture("max", "Managing editor")


@pytest.fixture
def section():
    return make_section("Robustness")


def test_the_three_roles_exist_with_their_permissions():
    def codenames(name: str) -> set[str]:
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    writer, editor, managing = codenames("Writer"), codenames("Editor"), codenames("Managing editor")

    assert {"add_issue", "change_issue", "submit_issue", "add_reviewcomment"} <= writer
    assert not writer & {"review_issue", "edit_any_issue", "publish_issue", "send_issue", "delete_issue"}
    assert writer < editor and {"review_issue", "edit_any_issue"} <= editor
    assert not editor & {"publish_issue", "send_issue", "delete_issue"}
    assert editor < managing and {"publish_issue", "send_issue"} <= managing


def test_a_writer_sees_only_their_own_issues(client, writer, other_writer):
    mine = make_ready_issue(1, created_by=writer)
    make_ready_issue(2, created_by=other_writer)
    client.force_login(writer)

    response = client.get("/admin/newsletter/issue/")

    assert [issue.pk for issue in response.context["cl"].result_list] == [mine.pk]


def test_an_editor_sees_every_issue(client, writer, editor):
    make_ready_issue(1, created_by=writer)
    make_ready_issue(2)
    client.force_login(editor)

    response = client.get("/admin/newsletter/issue/")

    assert response.context["cl"].result_count == 2


def test_a_writer_cannot_open_another_writers_issue(client, writer, other_writer):
    theirs = make_ready_issue(1, created_by=other_writer)
    client.force_login(writer)

    response = client.get(f"/admin/newsletter/issue/{theirs.pk}/change/")

    # Refused with a page saying why, not sent back with "it doesn't exist, perhaps it was deleted".
    assert response.status_code == 403
    assert "another writer&#x27;s" in response.content.decode()
    assert Issue.objects.get(pk=theirs.pk).title == theirs.title


def test_a_writer_cannot_edit_their_issue_while_it_is_in_review(client, writer):
    issue = make_ready_issue(1, created_by=writer, status=Issue.Status.IN_REVIEW)
    client.force_login(writer)

    response = client.get(f"/admin/newsletter/issue/{issue.pk}/change/")

    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert "not yours to edit" in response.content.decode()


def test_a_writer_does_not_see_the_review_buttons(client, writer):
    issue = make_ready_issue(1, created_by=writer, status=Issue.Status.IN_REVIEW)
    client.force_login(writer)

    page = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()

    assert 'data-action="approve"' not in page
    assert 'data-action="request_changes"' not in page
    assert 'data-action="back_to_draft"' in page  # they may withdraw their own submission


def test_an_editor_sees_the_review_buttons(client, writer, editor):
    issue = make_ready_issue(1, created_by=writer, status=Issue.Status.IN_REVIEW)
    client.force_login(editor)

    page = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()

    assert 'data-action="approve"' in page and 'data-action="request_changes"' in page
    assert 'data-action="publish"' not in page


def test_a_managing_editor_sees_publish_on_an_approved_issue(client, writer, managing_editor):
    issue = make_ready_issue(1, created_by=writer, status=Issue.Status.APPROVED)
    client.force_login(managing_editor)

    page = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()

    assert 'data-action="publish"' in page
    assert "Schedule publication" in page


@pytest.mark.parametrize("action", ["approve", "request_changes"])
def test_a_writer_posting_a_review_action_directly_is_refused(client, writer, action):
    issue = make_ready_issue(1, created_by=writer, status=Issue.Status.IN_REVIEW)
    client.force_login(writer)

    response = client.post(
        f"/admin/newsletter/issue/{issue.pk}/workflow/{action}/", {"comment": "Looks good"}, follow=True
    )

    assert "Your role does not allow you to" in response.content.decode()
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.IN_REVIEW
    assert not Transition.objects.exists()


def test_a_writer_posting_publish_directly_is_refused(client, writer):
    issue = make_ready_issue(1, created_by=writer, status=Issue.Status.APPROVED)
    client.force_login(writer)

    client.post(f"/admin/newsletter/issue/{issue.pk}/workflow/publish/")

    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.APPROVED


def test_a_writer_cannot_act_on_an_issue_they_cannot_see(client, writer, other_writer):
    theirs = make_ready_issue(1, created_by=other_writer)
    client.force_login(writer)

    response = client.post(f"/admin/newsletter/issue/{theirs.pk}/workflow/submit/")

    assert response.status_code == 403
    assert Issue.objects.get(pk=theirs.pk).status == Issue.Status.DRAFT


def test_a_writer_creates_an_issue_as_their_own_draft(client, writer, section):
    client.force_login(writer)
    data = {
        "number": "9",
        "title": "New issue",
        "slug": "",
        "subject": "",
        "preheader": "",
        "intro": "Hello.",
        "tags": "",
        "status": Issue.Status.PUBLISHED,  # ignored: the status is not part of the form
        "summaries-TOTAL_FORMS": "0",
        "summaries-INITIAL_FORMS": "0",
        "summaries-MIN_NUM_FORMS": "0",
        "summaries-MAX_NUM_FORMS": "1000",
    }

    response = client.post("/admin/newsletter/issue/add/", data)

    assert response.status_code == 302
    issue = Issue.objects.get(number=9)
    assert (issue.status, issue.created_by, issue.last_edited_by) == (Issue.Status.DRAFT, writer, writer)


def test_a_writer_cannot_edit_another_writers_summary(client, writer, other_writer):
    theirs = make_ready_issue(1, created_by=other_writer)
    summary = theirs.summaries.get()
    client.force_login(writer)

    response = client.get(f"/admin/newsletter/papersummary/{summary.pk}/change/")

    assert response.status_code == 403
    assert not workflow.allowed_actions(theirs, writer)


def test_a_superuser_may_do_everything(admin_user):
    issue = make_ready_issue(1, status=Issue.Status.APPROVED)

    assert [action.name for action in workflow.allowed_actions(issue, admin_user)] == [
        "publish",
        "back_to_draft",
    ]
    workflow.publish(issue, admin_user)

    assert issue.status == Issue.Status.PUBLISHED


def test_create_roles_gives_a_transactional_test_the_roles_the_migrations_made():
    from tests.factories import create_roles

    def roles():
        return {
            group.name: sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
            for group in Group.objects.prefetch_related("permissions__content_type")
        }

    migrated = roles()
    assert "importers.run_import" in migrated["Managing editor"]
    Group.objects.all().delete()
    create_roles()
    assert roles() == migrated
