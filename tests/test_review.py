"""Review: comments on an issue or a summary, replies, resolution; what changed since the last
review; the dashboard's "my drafts", "waiting for my review" and "scheduled"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from editorial import review, workflow
from editorial.models import ReviewComment
from newsletter.models import Issue
from tests import test_roles
from tests.factories import make_ready_issue

pytestmark = pytest.mark.django_db

# The role fixtures, shared with tests/test_roles.py.
editor = test_roles.editor
managing_editor = test_roles.managing_editor
other_writer = test_roles.other_writer
writer = test_roles.writer


def test_a_reviewer_comments_on_a_summary_and_the_writer_replies(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    summary = issue.summaries.get()

    thread = review.add_comment(issue, editor, "Cite the workshop version?", summary=summary)
    reply = review.add_comment(issue, writer, "Done.", parent=thread)

    assert (thread.summary, reply.parent, reply.summary) == (summary, thread, summary)
    assert [t.pk for t in review.threads(issue)] == [thread.pk]
    assert list(review.threads(issue)[0].replies.all()) == [reply]


def test_a_reviewer_resolves_a_thread_and_a_writer_cannot(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    thread = review.add_comment(issue, editor, "Shorter intro, please.")

    with pytest.raises(review.CommentRefused, match="Only reviewers"):
        review.resolve(thread, writer)
    review.resolve(thread, editor)

    thread.refresh_from_db()
    assert thread.is_resolved and thread.resolved_by == editor
    assert not ReviewComment.objects.unresolved().exists()


def test_a_reply_to_a_resolved_thread_reopens_it(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    thread = review.resolve(review.add_comment(issue, editor, "Fix the title"), editor)

    review.add_comment(issue, writer, "Actually, which title?", parent=thread)

    thread.refresh_from_db()
    assert not thread.is_resolved


def test_a_writer_cannot_comment_on_another_writers_issue(writer, other_writer):
    issue = make_ready_issue(created_by=other_writer)

    with pytest.raises(review.CommentRefused):
        review.add_comment(issue, writer, "Nice")


def test_unresolved_comments_block_approval_until_resolved(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    thread = review.add_comment(issue, editor, "Typo in the headline")
    with pytest.raises(workflow.NotReady):
        workflow.approve(issue, editor)

    review.resolve(thread, editor)
    workflow.approve(issue, editor)

    assert issue.status == Issue.Status.APPROVED


def test_comments_and_replies_through_the_admin(client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    summary = issue.summaries.get()
    client.force_login(editor)
    client.post(
        f"/admin/newsletter/issue/{issue.pk}/comments/", {"body": "Which dataset?", "summary": summary.pk}
    )
    thread = ReviewComment.objects.get()
    client.force_login(writer)
    client.post(f"/admin/newsletter/issue/{issue.pk}/comments/", {"body": "ImageNet-C.", "parent": thread.pk})
    client.force_login(editor)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/comments/{thread.pk}/resolve/", follow=True)

    page = response.content.decode()
    assert "Which dataset?" in page and "ImageNet-C." in page and "resolved by edith" in page
    assert thread.summary == summary


def test_a_writer_posting_resolve_directly_is_refused(client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    thread = review.add_comment(issue, editor, "Hmm")
    client.force_login(writer)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/comments/{thread.pk}/resolve/", follow=True)

    assert "Only reviewers resolve comments." in response.content.decode()
    assert not ReviewComment.objects.get().is_resolved


def test_a_reviewer_sees_what_changed_since_their_last_review(client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    workflow.request_changes(issue, editor, "Better title, and say more in the summary.")
    issue.title = "Robust vision transformers"
    issue.save()
    summary = issue.summaries.get()
    summary.body = "Some **findings**, now with numbers."
    summary.save()

    mark, changes = review.changes_since_last_review(issue, editor)

    assert mark is not None
    assert [(c.where, c.label) for c in changes] == [
        ("Issue", "title"),
        ("Summary “Pyramid training”", "body"),
    ]
    assert str(changes[1].html) == "Some **findings**<ins>, now with numbers</ins>."
    client.force_login(editor)
    page = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()
    assert "Changed since your last review" in page and "<ins>Robust vision transformers</ins>" in page


def test_a_first_review_has_nothing_to_compare(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)

    assert review.changes_since_last_review(issue, editor) == (None, [])


def test_the_dashboard_shows_my_drafts_with_requests_for_me(client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    review.add_comment(issue, editor, "Please add alt text")
    workflow.request_changes(issue, editor)
    client.force_login(writer)

    page = client.get("/admin/").content.decode()

    assert "My drafts" in page and str(issue) in page
    assert "1 open comment for you" in page
    assert "Waiting for my review" not in page


def test_the_dashboard_shows_an_editor_what_waits_for_review(client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.IN_REVIEW)
    client.force_login(editor)

    page = client.get("/admin/").content.decode()

    assert "Waiting for my review" in page and str(issue) in page


def test_the_dashboard_shows_what_is_scheduled(client, writer, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.APPROVED)
    workflow.schedule(
        issue, managing_editor, timezone.now() + timedelta(days=2), timezone_name="Europe/Paris"
    )
    client.force_login(managing_editor)

    page = client.get("/admin/").content.decode()

    assert "Scheduled" in page and str(issue) in page and "(Europe/Paris)" in page
