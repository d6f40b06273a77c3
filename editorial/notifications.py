"""Workflow notifications: who hears of what, on their dashboard and by email.

| kind               | when                                                   | who                  |
| ------------------ | ------------------------------------------------------ | -------------------- |
| submitted          | submitted for review; back in review after an edit     | reviewers            |
| changes requested  | a reviewer requests changes                            | the issue's writers  |
| commented          | every new review comment or reply                      | the issue's writers, |
|                    |                                                        | and a thread's people|
| approved           | approved                                               | managing editors     |
| scheduled          | scheduled, rescheduled, schedule cancelled             | managing editors     |
| published          | published (now or as scheduled), unpublished, a        | managing editors     |
|                    | scheduled publication that failed its checks           |                      |
| send finished      | a send finished, every message sent or skipped         | managing editors     |
| send problem       | a send did not start after a scheduled publication, it | managing editors     |
|                    | finished with failed or unknown deliveries, or it was  |                      |
|                    | paused with unknown deliveries                         |                      |

"Reviewers" and "managing editors" are whoever's role holds `editorial.review_issue`,
`publish_issue` (issues) or `send_issue` (sends), by group or by their own permissions; a
superuser hears only through such a role. An issue's writers are the staff member who started it
and the staff users behind its summaries' bylines (Author.user; for a comment on one summary, that
summary's); a reply also tells the people earlier in its thread. Three rules hold for everyone:
nobody is told of their own action, nobody is told about an issue they may not see, and a kind
someone turned off (NotificationPreference) gives them neither the row nor the email.

Everything here runs after the action's transaction commits (`transaction.on_commit`, robust: a
failure is logged and never undoes or breaks the action), and each email goes out through the one
email factory from a task (`newsletter.tasks.send_email_task`, email
`notifications/notification`), so a mail server that refuses it fails that task, not the workflow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth.models import Permission
from django.contrib.auth.models import User as Account
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from newsletter.absolute_urls import site_url
from newsletter.models import Issue, PaperSummary
from newsletter.tasks import send_email_task

from .models import Notification, NotificationPreference, ReviewComment, Transition
from .roles import User, can_view, has

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Action = Transition.Action
EMAIL = "notifications/notification"

# The workflow moves that tell someone, and as what kind (back to draft tells nobody: the writer
# or an editor takes the issue back to work on it).
TRANSITION_KINDS: dict[str, Kind] = {
    Action.SUBMIT: Kind.SUBMITTED,
    Action.EDITED_AFTER_APPROVAL: Kind.SUBMITTED,
    Action.REQUEST_CHANGES: Kind.CHANGES_REQUESTED,
    Action.APPROVE: Kind.APPROVED,
    Action.SCHEDULE: Kind.SCHEDULED,
    Action.RESCHEDULE: Kind.SCHEDULED,
    Action.CANCEL_SCHEDULE: Kind.SCHEDULED,
    Action.PUBLISH: Kind.PUBLISHED,
    Action.SCHEDULED_PUBLISH: Kind.PUBLISHED,
    Action.SCHEDULED_PUBLISH_FAILED: Kind.PUBLISHED,
    Action.UNPUBLISH: Kind.PUBLISHED,
}
# The permission (editorial.*) whose holders hear of each kind; the others go to the writers.
PERMISSION_FOR: dict[Kind, str] = {
    Kind.SUBMITTED: "review_issue",
    Kind.APPROVED: "publish_issue",
    Kind.SCHEDULED: "publish_issue",
    Kind.PUBLISHED: "publish_issue",
    Kind.SEND_FINISHED: "send_issue",
    Kind.SEND_PROBLEM: "send_issue",
}
WRITER_KINDS = (Kind.CHANGES_REQUESTED, Kind.COMMENTED)


# What happened ----------------------------------------------------------------------------------


def issue_moved(transition: Transition) -> None:
    """Tell whoever the move concerns, once its transaction has committed (workflow._move)."""
    if transition.action in TRANSITION_KINDS:
        transition_id = transition.pk

        # A function, not a partial: a robust on_commit logs a failure by the callback's __qualname__.
        def tell() -> None:
            _issue_moved(transition_id)

        transaction.on_commit(tell, robust=True)


def comment_added(comment: ReviewComment) -> None:
    """Tell the issue's writers (and a reply's thread) of a new review comment (review.add_comment)."""
    comment_id = comment.pk

    def tell() -> None:
        _comment_added(comment_id)

    transaction.on_commit(tell, robust=True)


def send_news(
    kind: Kind, issue: Issue, message: str, *, url: str, actor: User | None = None, detail: str = ""
) -> None:
    """Tell the managing editors how a send went (editorial/hooks.py, which reads the send)."""

    def tell() -> None:
        notify(kind, holders(PERMISSION_FOR[kind]), issue, message, actor=actor, detail=detail, url=url)

    transaction.on_commit(tell, robust=True)


def _issue_moved(transition_id: int) -> None:
    transition = Transition.objects.select_related("issue", "actor").filter(pk=transition_id).first()
    if transition is None:
        return
    kind = TRANSITION_KINDS[transition.action]
    issue = transition.issue
    recipients = writers(issue) if kind in WRITER_KINDS else holders(PERMISSION_FOR[kind])
    notify(
        kind,
        recipients,
        issue,
        transition_message(transition),
        actor=transition.actor,
        detail=transition.comment,
        url=issue_path(issue, "#editorial-workflow" if kind != Kind.SUBMITTED else ""),
    )


def _comment_added(comment_id: int) -> None:
    comment = (
        ReviewComment.objects.select_related("issue", "summary", "author", "parent")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        return
    issue = comment.issue
    recipients = list(writers(issue, comment.summary))
    if comment.parent is not None:
        thread = [comment.parent, *comment.parent.replies.exclude(pk=comment.pk)]
        recipients += [earlier.author for earlier in thread if earlier.author is not None]
    where = f" on the summary “{comment.summary.headline}”" if comment.summary else ""
    verb = "replied to a review comment" if comment.parent is not None else "commented"
    notify(
        Kind.COMMENTED,
        recipients,
        issue,
        f"{name_of(comment.author)} {verb} on {describe(issue)}{where}.",
        actor=comment.author,
        detail=comment.body,
        url=issue_path(issue, "#editorial-comments"),
    )


def transition_message(transition: Transition) -> str:
    """The notification's sentence for a workflow move."""
    issue, who = describe(transition.issue), name_of(transition.actor)
    sentences: dict[str, str] = {
        Action.SUBMIT: f"{who} submitted {issue} for review.",
        Action.EDITED_AFTER_APPROVAL: capitalised(
            f"{issue} is back in review: {who} edited it after approval."
        ),
        Action.REQUEST_CHANGES: f"{who} requested changes to {issue}.",
        Action.APPROVE: f"{who} approved {issue}: it is ready to be scheduled or published.",
        Action.SCHEDULE: f"{who} scheduled {issue}.",
        Action.RESCHEDULE: f"{who} rescheduled {issue}.",
        Action.CANCEL_SCHEDULE: f"{who} cancelled the schedule of {issue}: it is approved, not scheduled.",
        Action.PUBLISH: f"{who} published {issue}.",
        Action.SCHEDULED_PUBLISH: f"{capitalised(issue)} was published as scheduled.",
        Action.SCHEDULED_PUBLISH_FAILED: (
            f"{capitalised(issue)} was not published as scheduled: it is approved again."
        ),
        Action.UNPUBLISH: f"{who} unpublished {issue}: it is off the public site.",
    }
    return sentences.get(transition.action, f"{capitalised(issue)}: {transition.get_action_display()}.")


# Who hears it -----------------------------------------------------------------------------------


def holders(permission: str) -> QuerySet[Account]:
    """Active staff whose role (group) or own permissions include `editorial.<permission>`."""
    granted = Permission.objects.filter(content_type__app_label="editorial", codename=permission)
    return (
        Account.objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__permissions__in=granted) | Q(user_permissions__in=granted))
        .distinct()
    )


def writers(issue: Issue, summary: PaperSummary | None = None) -> list[Account]:
    """Who writes the issue: whoever started it, and the staff behind its summaries' bylines (only
    `summary`'s when the comment is on one summary)."""
    summaries = [summary] if summary is not None else issue.summaries.select_related("writer__user")
    people = [issue.created_by] + [s.writer.user for s in summaries if s.writer is not None]
    return [person for person in people if person is not None and person.is_active and person.is_staff]


def kinds_for(user: User) -> list[Kind]:
    """The kinds `user` may be told of, for their preferences page: every staff member may write
    and comment; the others follow their role's permissions."""
    return [kind for kind in Kind if kind in WRITER_KINDS or has(user, PERMISSION_FOR[kind])]


def notify(
    kind: Kind,
    recipients: Iterable[Account],
    issue: Issue | None,
    message: str,
    *,
    actor: User | None = None,
    detail: str = "",
    url: str = "",
) -> list[Notification]:
    """Store a notification for each recipient but the actor, who may see the issue and has not
    turned `kind` off, and email each of them from a task."""
    actor_pk = actor.pk if actor is not None else None
    people = {person.pk: person for person in recipients if person.pk != actor_pk}
    turned_off = set(
        NotificationPreference.objects.filter(user__in=list(people), kind=kind, enabled=False).values_list(
            "user_id", flat=True
        )
    )
    now = timezone.now()
    rows = [
        Notification(
            recipient=person,
            kind=kind,
            issue=issue,
            actor=actor if actor is not None and actor.is_authenticated else None,
            message=message[:500],
            detail=detail,
            url=url,
            created_at=now,
        )
        for pk, person in sorted(people.items())
        if pk not in turned_off and (issue is None or can_view(person, issue))
    ]
    Notification.objects.bulk_create(rows)
    for row in rows:
        _email(row)
    return rows


def _email(notification: Notification) -> None:
    to = notification.recipient.email
    if not to:
        return
    context = {
        "message": notification.message,
        "detail": notification.detail,
        "url": site_url(notification.url) if notification.url else "",
        "kind": notification.get_kind_display(),
        "preferences_url": site_url(reverse("editorial:notification_preferences")),
    }
    try:
        send_email_task.enqueue(EMAIL, [to], context)
    except Exception:  # the task queue is down: the dashboard still has it
        logger.exception("Could not enqueue the email of notification %s.", notification.pk)


# The reader's side ------------------------------------------------------------------------------


def recent(user: User, limit: int = 8) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user.pk).select_related("actor")[:limit])


def unread_count(user: User) -> int:
    return Notification.objects.unread().filter(recipient=user.pk).count()


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one of `user`'s notifications read, or all of them (None); returns how many changed."""
    mine = Notification.objects.unread().filter(recipient=user.pk)
    if notification_id is not None:
        mine = mine.filter(pk=notification_id)
    return mine.update(read_at=timezone.now())


def enabled_kinds(user: User) -> set[Kind]:
    off = set(
        NotificationPreference.objects.filter(user=user.pk, enabled=False).values_list("kind", flat=True)
    )
    return {kind for kind in kinds_for(user) if kind not in off}


def set_enabled_kinds(user: Account, enabled: Iterable[str]) -> None:
    """Keep `user`'s switches: the kinds in `enabled` on, their other kinds off."""
    wanted = set(enabled)
    with transaction.atomic():
        for kind in kinds_for(user):
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"enabled": kind in wanted}
            )


# Words ------------------------------------------------------------------------------------------


def describe(issue: Issue) -> str:
    return f"issue #{issue.number} “{issue.title}”"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def name_of(user: User | None) -> str:
    if user is None or not user.is_authenticated:
        return "Someone"
    return user.get_full_name() or user.get_username()


def issue_path(issue: Issue, anchor: str = "") -> str:
    return reverse("admin:newsletter_issue_change", args=[issue.pk]) + anchor
