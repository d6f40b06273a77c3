"""Revisions: every admin save of an issue or summary is kept; the history diffs any two versions
and restores one in one step, leaving the workflow's state alone."""

from __future__ import annotations

import pytest
from reversion.models import Version

from editorial import revisions
from newsletter.models import Issue, PaperSummary
from tests import test_roles
from tests.factories import make_ready_issue
from tests.test_locking import loaded_form

pytestmark = pytest.mark.django_db

# The role fixtures, shared with tests/test_roles.py.
editor = test_roles.editor
writer = test_roles.writer


def save_title(client, issue: Issue, title: str):
    response = client.post(
        f"/admin/newsletter/issue/{issue.pk}/change/", loaded_form(client, issue) | {"title": title}
    )
    assert response.status_code == 302
    return response


def test_every_save_in_the_admin_is_kept_with_its_author(client, writer):
    issue = make_ready_issue(created_by=writer)
    client.force_login(writer)

    save_title(client, issue, "Second title")
    save_title(client, issue, "Third title")

    versions = list(revisions.issue_versions(issue))
    # The state before the first edit, then one per save, each with the issue's summaries.
    assert len(versions) == 3
    assert [revisions.snapshot_of(v)["issue"]["title"] for v in versions] == [
        "Third title",
        "Second title",
        "Issue number 1",
    ]
    assert versions[0].revision.user == writer
    assert versions[0].revision.version_set.filter(object_id=str(issue.summaries.get().pk)).exists()


def test_a_summary_saved_on_its_own_page_is_kept_in_its_issues_history(client, writer):
    issue = make_ready_issue(created_by=writer)
    summary = issue.summaries.get()
    client.force_login(writer)

    response = client.post(
        f"/admin/newsletter/papersummary/{summary.pk}/change/",
        {
            "issue": issue.pk,
            "section": summary.section_id,
            "kind": summary.kind,
            "position": 1,
            "headline": "A new headline",
            "body": summary.body,
            "paper": summary.paper_id,
            "tags": "",
        },
    )

    assert response.status_code == 302
    latest = revisions.issue_versions(issue).first()
    assert revisions.snapshot_of(latest)["summaries"][str(summary.pk)]["headline"] == "A new headline"


def test_the_history_shows_the_differences_between_two_versions(client, writer):
    issue = make_ready_issue(created_by=writer)
    client.force_login(writer)
    save_title(client, issue, "Adversarial robustness")
    save_title(client, issue, "Adversarial robustness and monitoring")
    newest, middle, oldest = revisions.issue_versions(issue)

    page = client.get(
        f"/admin/newsletter/issue/{issue.pk}/revisions/?a={oldest.pk}&b={newest.pk}"
    ).content.decode()

    assert "<del>Issue number 1</del><ins>Adversarial robustness and monitoring</ins>" in page
    default = client.get(f"/admin/newsletter/issue/{issue.pk}/revisions/").content.decode()
    assert "robustness<ins> and monitoring</ins>" in default  # the last two, by default


def test_restoring_a_version_brings_back_fields_and_summaries_in_one_step(client, writer):
    issue = make_ready_issue(created_by=writer)
    client.force_login(writer)
    save_title(client, issue, "Good title")
    good = revisions.issue_versions(issue).first()
    save_title(client, issue, "Bad title")
    summary_pk = issue.summaries.get().pk
    PaperSummary.objects.filter(pk=summary_pk).delete()

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/revisions/{good.pk}/restore/")

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.title == "Good title" and issue.status == Issue.Status.DRAFT
    assert PaperSummary.objects.get(pk=summary_pk).headline == "Pyramid training"
    assert "Restored the version" in revisions.issue_versions(issue).first().revision.get_comment()


def test_restoring_an_approved_issue_sends_it_back_to_review(client, writer, editor):
    issue = make_ready_issue(created_by=writer)
    client.force_login(editor)
    save_title(client, issue, "First")
    first = revisions.issue_versions(issue).first()
    save_title(client, issue, "Second")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.APPROVED)

    client.post(f"/admin/newsletter/issue/{issue.pk}/revisions/{first.pk}/restore/")

    issue.refresh_from_db()
    assert (issue.title, issue.status) == ("First", Issue.Status.IN_REVIEW)


def test_a_writer_cannot_restore_an_issue_they_may_not_edit(client, writer):
    issue = make_ready_issue(created_by=writer)
    client.force_login(writer)
    save_title(client, issue, "Mine")
    version = Version.objects.get_for_object(issue).last()
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.IN_REVIEW)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/revisions/{version.pk}/restore/", follow=True)

    assert "You may not edit this issue now" in response.content.decode()
    assert Issue.objects.get(pk=issue.pk).title == "Mine"
