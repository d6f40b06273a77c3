"""Review comments (on an issue or one summary, with replies, resolved per thread) and what a
reviewer last saw, for "changed since your last review"."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from newsletter.models import Issue, PaperSummary

from . import diffs, notifications
from .models import ReviewComment, ReviewMark
from .roles import User, can_view, has


class CommentRefused(Exception):
    """A comment could not be added or resolved; the message says why."""

    @property
    def message(self) -> str:
        return str(self)


def add_comment(
    issue: Issue,
    author: User,
    body: str,
    *,
    summary: PaperSummary | None = None,
    parent: ReviewComment | None = None,
) -> ReviewComment:
    """A new thread on the issue (or one of its summaries), or a reply in a thread."""
    body = body.strip()
    if not body:
        raise CommentRefused("Write something in the comment.")
    if (
        not author.is_authenticated
        or not author.has_perm("editorial.add_reviewcomment")
        or not can_view(author, issue)
    ):
        raise CommentRefused("You may not comment on this issue.")
    if summary is not None and summary.issue_id != issue.pk:
        raise CommentRefused("That summary is not in this issue.")
    if parent is not None:
        if parent.issue_id != issue.pk:
            raise CommentRefused("That comment is not on this issue.")
        parent = parent.parent or parent  # replies go to the thread's first comment
        summary = parent.summary
    with transaction.atomic():
        if parent is not None and parent.is_resolved:
            # A reply to a resolved thread reopens it: there is something to discuss again.
            ReviewComment.objects.filter(pk=parent.pk).update(resolved_at=None, resolved_by=None)
        comment = ReviewComment.objects.create(
            issue=issue, summary=summary, parent=parent, author=author, body=body
        )
        notifications.comment_added(comment)  # the writers hear of it once it is committed
        return comment


def resolve(comment: ReviewComment, actor: User) -> ReviewComment:
    """A reviewer marks a thread resolved."""
    if not actor.is_authenticated or not has(actor, "review_issue"):
        raise CommentRefused("Only reviewers resolve comments.")
    thread = comment.parent or comment
    if thread.is_resolved:
        raise CommentRefused("This comment is already resolved.")
    thread.resolved_at, thread.resolved_by = timezone.now(), actor
    thread.save(update_fields=["resolved_at", "resolved_by"])
    return thread


def reopen(comment: ReviewComment, actor: User) -> ReviewComment:
    if not has(actor, "review_issue"):
        raise CommentRefused("Only reviewers reopen comments.")
    thread = comment.parent or comment
    thread.resolved_at, thread.resolved_by = None, None
    thread.save(update_fields=["resolved_at", "resolved_by"])
    return thread


def threads(issue: Issue) -> list[ReviewComment]:
    """The issue's comment threads, oldest first, each with its replies."""
    return list(
        ReviewComment.objects.threads()
        .filter(issue=issue)
        .select_related("author", "resolved_by", "summary")
        .prefetch_related("replies__author")
    )


def mark_reviewed(issue: Issue, reviewer: User) -> ReviewMark:
    """Remember what `reviewer` saw now; the next review shows what changed since."""
    mark, _ = ReviewMark.objects.update_or_create(
        issue=issue,
        reviewer=reviewer,
        defaults={"reviewed_at": timezone.now(), "snapshot": diffs.snapshot(issue)},
    )
    return mark


def changes_since_last_review(issue: Issue, reviewer: User) -> tuple[ReviewMark | None, list[diffs.Change]]:
    """The reviewer's last review of the issue and what changed since ([] when they never did)."""
    mark = ReviewMark.objects.filter(issue=issue, reviewer=reviewer).first()
    if mark is None:
        return None, []
    return mark, diffs.diff(mark.snapshot, diffs.snapshot(issue))
