"""Optimistic locking: two editors saving the same issue never overwrite each other silently."""

from __future__ import annotations

import pytest

from editorial import workflow
from newsletter.models import Issue
from tests import test_roles
from tests.factories import make_ready_issue, make_user
from tests.test_workflow import _form_data, _management_data

pytestmark = pytest.mark.django_db

# The role fixtures, shared with tests/test_roles.py.
editor = test_roles.editor
writer = test_roles.writer


def loaded_form(client, issue: Issue) -> dict:
    form = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").context["adminform"].form
    return _form_data(form) | _management_data(issue)


def test_the_form_carries_the_version_it_was_loaded_with(client, editor, writer):
    issue = make_ready_issue(created_by=writer)
    client.force_login(editor)

    assert loaded_form(client, issue)["loaded_version"] == issue.version


def test_the_second_of_two_saves_is_refused_with_who_changed_what(client, writer, editor):
    issue = make_ready_issue(created_by=writer)
    other = make_user("olga", "Editor")
    client.force_login(editor)
    mine = loaded_form(client, issue)
    client.force_login(other)
    theirs = loaded_form(client, issue)
    assert (
        client.post(
            f"/admin/newsletter/issue/{issue.pk}/change/", theirs | {"title": "Olga's title"}
        ).status_code
        == 302
    )
    client.force_login(editor)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/change/", mine | {"intro": "Edith's intro"})

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "olga changed this issue after you opened it (title)" in errors, errors
    assert "Your changes are not saved" in errors
    issue.refresh_from_db()
    assert (issue.title, issue.intro) == ("Olga's title", "Welcome to issue 1.")


def test_saving_again_after_the_warning_is_a_deliberate_overwrite(client, writer, editor):
    issue = make_ready_issue(created_by=writer)
    client.force_login(editor)
    stale = loaded_form(client, issue)
    Issue.objects.filter(pk=issue.pk).update(version=issue.version + 1, title="Changed elsewhere")
    response = client.post(f"/admin/newsletter/issue/{issue.pk}/change/", stale | {"title": "Mine"})
    assert response.status_code == 200
    refreshed = response.context["adminform"].form["loaded_version"].value()

    response = client.post(
        f"/admin/newsletter/issue/{issue.pk}/change/", stale | {"title": "Mine", "loaded_version": refreshed}
    )

    assert response.status_code == 302
    assert Issue.objects.get(pk=issue.pk).title == "Mine"


def test_a_move_meanwhile_also_refuses_a_stale_save(client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    client.force_login(editor)
    stale = loaded_form(client, issue)
    workflow.request_changes(issue, make_user("rita", "Editor"), "Please fix")

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/change/", stale | {"title": "Mine"})

    assert response.status_code == 200
    assert (
        "rita changed this issue after you opened it (moved it from in review to changes requested)"
        in " ".join(response.context["adminform"].form.non_field_errors())
    )
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.CHANGES_REQUESTED


def test_a_save_from_a_current_form_goes_through_and_bumps_the_version(client, writer, editor):
    issue = make_ready_issue(created_by=writer)
    client.force_login(editor)

    response = client.post(
        f"/admin/newsletter/issue/{issue.pk}/change/", loaded_form(client, issue) | {"title": "New"}
    )

    assert response.status_code == 302
    assert Issue.objects.get(pk=issue.pk).version == issue.version + 1
