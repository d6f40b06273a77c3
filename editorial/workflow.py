"""The editorial workflow: every move of an issue between states is one function here.

    draft ──submit──▶ in_review ──approve──▶ approved ──schedule──▶ scheduled ──publish──▶ published
      ▲                 │    ▲                   │  ▲                 │                     │
      │        request_changes  └─submit─ changes_requested   cancel_schedule ◀┘              │
      └────────── back_to_draft (from in_review, changes_requested, approved)                │
                                     approved ◀──────────────── unpublish ◀──────────────────┘
    approved ──publish──▶ published; editing an approved issue sends it back to in_review.

An issue starts as a draft with `create_issue`, which records its writer (a writer works only on
the issues they started).

Each function checks who may make the move and whether the issue is ready, changes the state
with a conditional UPDATE (so two clicks never make two moves), and writes a Transition row
(actor, time, from, to, comment), all in one transaction. A refusal is a WorkflowError whose
message the admin shows as it is. Once a move commits, notifications.py tells whom it concerns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from newsletter.models import Issue

from . import checks, hooks, notifications, review
from .models import ReviewComment, Schedule, Transition
from .roles import User, can_edit, has, owns

Status = Issue.Status
Name = Transition.Action
logger = logging.getLogger(__name__)


class WorkflowError(Exception):
    """A workflow action was refused; the message says why, for the editor to read as it is."""

    @property
    def message(self) -> str:
        return str(self)


class NotAllowed(WorkflowError):
    """The actor's role does not allow this action on this issue."""


class WrongState(WorkflowError):
    """The issue is not in a state this action starts from (or it changed meanwhile)."""


class NotReady(WorkflowError):
    """The issue is not ready for the action: failing checks, open comments, a missing comment."""


class ChecksFailed(NotReady):
    def __init__(self, failures: list[checks.CheckResult]) -> None:
        problems = [problem for result in failures for problem in result.problems]
        super().__init__("The pre-publish checks fail: " + " ".join(problems))
        self.failures = failures


@dataclass(frozen=True)
class Action:
    # Its Transition.action; the enum's label is the button's.
    name: Transition.Action
    sources: frozenset[Issue.Status]
    target: Issue.Status
    permission: str
    # Writers act only on their own issues; editors on any.
    own_issue_only_for_writers: bool = False
    danger: bool = False

    @property
    def label(self) -> str:
        return self.name.label


SUBMIT = Action(
    Name.SUBMIT,
    frozenset({Status.DRAFT, Status.CHANGES_REQUESTED}),
    Status.IN_REVIEW,
    "submit_issue",
    own_issue_only_for_writers=True,
)
REQUEST_CHANGES = Action(
    Name.REQUEST_CHANGES, frozenset({Status.IN_REVIEW}), Status.CHANGES_REQUESTED, "review_issue"
)
APPROVE = Action(Name.APPROVE, frozenset({Status.IN_REVIEW}), Status.APPROVED, "review_issue")
BACK_TO_DRAFT = Action(
    Name.BACK_TO_DRAFT,
    frozenset({Status.IN_REVIEW, Status.CHANGES_REQUESTED, Status.APPROVED}),
    Status.DRAFT,
    "submit_issue",
    own_issue_only_for_writers=True,
)
SCHEDULE = Action(Name.SCHEDULE, frozenset({Status.APPROVED}), Status.SCHEDULED, "publish_issue")
RESCHEDULE = Action(Name.RESCHEDULE, frozenset({Status.SCHEDULED}), Status.SCHEDULED, "publish_issue")
CANCEL_SCHEDULE = Action(
    Name.CANCEL_SCHEDULE, frozenset({Status.SCHEDULED}), Status.APPROVED, "publish_issue", danger=True
)
PUBLISH = Action(
    Name.PUBLISH, frozenset({Status.APPROVED, Status.SCHEDULED}), Status.PUBLISHED, "publish_issue"
)
UNPUBLISH = Action(
    Name.UNPUBLISH, frozenset({Status.PUBLISHED}), Status.APPROVED, "publish_issue", danger=True
)
# Not a button: what saving an approved issue's content does to it.
EDITED_AFTER_APPROVAL = Action(Name.EDITED_AFTER_APPROVAL, frozenset({Status.APPROVED}), Status.IN_REVIEW, "")
# The system's own moves, for a scheduled issue when its time comes.
SCHEDULED_PUBLISH = Action(Name.SCHEDULED_PUBLISH, frozenset({Status.SCHEDULED}), Status.PUBLISHED, "")
SCHEDULED_PUBLISH_FAILED = Action(
    Name.SCHEDULED_PUBLISH_FAILED, frozenset({Status.SCHEDULED}), Status.APPROVED, ""
)

# The buttons, in the order the admin shows them. Schedule and reschedule have their own form.
BUTTONS = [SUBMIT, REQUEST_CHANGES, APPROVE, PUBLISH, CANCEL_SCHEDULE, UNPUBLISH, BACK_TO_DRAFT]
ACTIONS = {action.name: action for action in BUTTONS + [SCHEDULE, RESCHEDULE]}


def refusal(action: Action, issue: Issue, actor: User) -> str:
    """Why `actor` may not take `action` on `issue` in its current state ("" when they may).
    Readiness (checks, comments) is not looked at here: the action itself says what is missing."""
    if not has(actor, action.permission):
        return f"Your role does not allow you to {action.label.lower()}."
    if action.own_issue_only_for_writers and not has(actor, "edit_any_issue") and not owns(actor, issue):
        return f"Only the issue's writer or an editor may {action.label.lower()}."
    if issue.status not in action.sources:
        return f"A {issue.get_status_display().lower()} issue cannot be moved with “{action.label}”."
    return ""


def allowed_actions(issue: Issue, actor: User) -> list[Action]:
    """The buttons `actor` sees on the issue: the actions their role allows from its state."""
    return [action for action in BUTTONS if not refusal(action, issue, actor)]


def can_schedule(issue: Issue, actor: User) -> bool:
    action = RESCHEDULE if issue.status == Status.SCHEDULED else SCHEDULE
    return not refusal(action, issue, actor)


# The transitions ------------------------------------------------------------------------------


def next_issue_number() -> int:
    """The number a new issue starts with: the next after the highest one taken (drafts included:
    numbers are unique), 1 for the first. The pre-publish check still judges it at publication."""
    highest = Issue.objects.aggregate(highest=Max("number"))["highest"]
    return (highest or 0) + 1


def create_issue(issue: Issue, actor: User) -> Issue:
    """Save a new issue as a draft started by `actor`: they are its writer, the one writer who may
    work on it (roles.owns). Every way of creating an issue goes through here."""
    if not issue._state.adding:
        raise WrongState("This issue exists already.")
    if not (actor.is_active and actor.has_perm("newsletter.add_issue")):
        raise NotAllowed("Your role does not allow you to create issues.")
    issue.status = Status.DRAFT
    issue.created_by = actor
    issue.save()
    return issue


def submit(issue: Issue, actor: User, comment: str = "") -> Transition:
    """The writer hands the issue to the editors."""
    with _taking(SUBMIT, issue, actor):
        if not issue.summaries.exists():
            raise NotReady("Add at least one summary before submitting the issue for review.")
        return _move(issue, actor, SUBMIT, comment)


def request_changes(issue: Issue, actor: User, comment: str = "") -> Transition:
    """A reviewer sends the issue back to its writer, saying what to change (a comment now, or
    open review comments)."""
    with _taking(REQUEST_CHANGES, issue, actor):
        if not comment.strip() and not ReviewComment.objects.unresolved().filter(issue=issue).exists():
            raise NotReady("Say what should change: write a comment, or leave review comments first.")
        review.mark_reviewed(issue, actor)
        return _move(issue, actor, REQUEST_CHANGES, comment)


def approve(issue: Issue, actor: User, comment: str = "") -> Transition:
    """A reviewer other than the last author of changes approves the issue (four eyes)."""
    with _taking(APPROVE, issue, actor):
        last_author = issue.last_edited_by_id or issue.created_by_id
        if last_author is not None and last_author == actor.pk:
            if not actor.is_superuser:
                raise NotAllowed(
                    "You made the last changes to this issue: another editor must approve it (four eyes)."
                )
            comment = " ".join(filter(None, [comment, "(Four-eyes rule waived: approved by a superuser.)"]))
        open_comments = ReviewComment.objects.unresolved().filter(issue=issue).count()
        if open_comments:
            raise NotReady(
                f"{open_comments} review comment{' is' if open_comments == 1 else 's are'} not resolved: "
                "resolve them before approving."
            )
        review.mark_reviewed(issue, actor)
        return _move(issue, actor, APPROVE, comment)


def back_to_draft(issue: Issue, actor: User, comment: str = "") -> Transition:
    """The writer withdraws the issue (or an editor returns it) to keep working on it."""
    with _taking(BACK_TO_DRAFT, issue, actor):
        return _move(issue, actor, BACK_TO_DRAFT, comment)


def schedule(
    issue: Issue,
    actor: User,
    publish_at: datetime,
    *,
    start_send: bool = False,
    timezone_name: str = "UTC",
    comment: str = "",
) -> Transition:
    """A managing editor schedules an approved issue (or reschedules a scheduled one) for
    `publish_at`; a background task publishes it then (see scheduling.py)."""
    from . import scheduling

    with transaction.atomic():
        _lock(issue)
        action = RESCHEDULE if issue.status == Status.SCHEDULED else SCHEDULE
        _authorize(action, issue, actor)
        if timezone.is_naive(publish_at):
            raise NotReady("Give the publication time with its time zone.")
        if publish_at <= timezone.now():
            raise NotReady("Pick a publication time in the future.")
        _require_checks(issue, as_of=publish_at)
        schedule_row = scheduling.save_schedule(issue, actor, start_send, timezone_name)
        local = timezone.localtime(publish_at, schedule_row.zone)
        note = f"For {local:%Y-%m-%d %H:%M} {schedule_row.time_zone}" + (
            ", then start sending." if start_send else "."
        )
        transition = _move(issue, actor, action, _join(note, comment), scheduled_for=publish_at)
        scheduling.enqueue_publication(issue, schedule_row)
        return transition


def cancel_schedule(issue: Issue, actor: User, comment: str = "") -> Transition:
    """The issue stays approved and is not published by its schedule."""
    with _taking(CANCEL_SCHEDULE, issue, actor):
        Schedule.objects.filter(issue=issue).delete()
        return _move(issue, actor, CANCEL_SCHEDULE, comment, scheduled_for=None)


def publish(issue: Issue, actor: User, comment: str = "") -> Transition:
    """A managing editor publishes an approved (or scheduled) issue now, if every check passes."""
    with _taking(PUBLISH, issue, actor):
        _require_checks(issue)
        Schedule.objects.filter(issue=issue).delete()
        return _move(issue, actor, PUBLISH, comment, published_at=timezone.now(), scheduled_for=None)


def unpublish(issue: Issue, actor: User, comment: str = "") -> Transition:
    """The issue leaves the public site and goes back to approved, to be fixed and republished."""
    with _taking(UNPUBLISH, issue, actor):
        return _move(issue, actor, UNPUBLISH, comment, published_at=None)


def publish_scheduled(schedule_row: Schedule, now: datetime) -> Transition:
    """The system publishes a scheduled issue whose time has come, if its checks pass; otherwise
    it goes back to approved and the schedule keeps the reasons for the managing editor."""
    issue = schedule_row.issue
    with transaction.atomic():
        _lock(issue)
        if issue.status != Status.SCHEDULED:
            raise WrongState("The issue is no longer scheduled.")
        failures = checks.failing(checks.run_checks(issue))
        if failures:
            error = ChecksFailed(failures)
            Schedule.objects.filter(pk=schedule_row.pk).update(failed_at=now, failure=error.message)
            return _move(
                issue, None, SCHEDULED_PUBLISH_FAILED, f"Not published: {error.message}", scheduled_for=None
            )
        start_send = schedule_row.start_send
        scheduled_by = schedule_row.scheduled_by
        Schedule.objects.filter(pk=schedule_row.pk).delete()
        transition = _move(issue, None, SCHEDULED_PUBLISH, "", published_at=now, scheduled_for=None)
        if start_send:
            outcome = hooks.start_send(issue, scheduled_by)
            Transition.objects.filter(pk=transition.pk).update(comment=outcome)
            transition.comment = outcome
        return transition


def record_edit(issue: Issue, actor: User) -> Transition | None:
    """After `actor` saved the issue's content (fields or summaries): they become its last author
    (for four eyes), its version moves on (optimistic locking), and an approved issue goes back
    to review. Call it in the transaction that saved the content."""
    with transaction.atomic():
        _lock(issue)
        if not can_edit(actor, issue):
            raise NotAllowed("You may not edit this issue now.")
        Issue.objects.filter(pk=issue.pk).update(last_edited_by=actor, version=F("version") + 1)
        issue.refresh_from_db()
        if issue.status == Status.APPROVED:
            return _move(issue, actor, EDITED_AFTER_APPROVAL, "Edited after approval: it needs a new review.")
        return None


def run(action_name: str, issue: Issue, actor: User, comment: str = "") -> Transition:
    """The button `action_name` pressed by `actor` (schedule has its own form)."""
    functions: dict[str, Callable[..., Transition]] = {
        SUBMIT.name: submit,
        REQUEST_CHANGES.name: request_changes,
        APPROVE.name: approve,
        BACK_TO_DRAFT.name: back_to_draft,
        CANCEL_SCHEDULE.name: cancel_schedule,
        PUBLISH.name: publish,
        UNPUBLISH.name: unpublish,
    }
    if action_name not in functions:
        raise WrongState("There is no such workflow action.")
    return functions[action_name](issue, actor, comment)


# Helpers --------------------------------------------------------------------------------------


@contextmanager
def _taking(action: Action, issue: Issue, actor: User) -> Iterator[None]:
    """The transaction of one action: the issue locked and reloaded, the actor allowed."""
    with transaction.atomic():
        _lock(issue)
        _authorize(action, issue, actor)
        yield


def _lock(issue: Issue) -> None:
    """Lock the issue's row for the transaction (PostgreSQL; SQLite's IMMEDIATE transactions are
    serialised already) and reload it, so the checks below see its current state."""
    Issue.objects.select_for_update().filter(pk=issue.pk).values_list("pk").first()
    issue.refresh_from_db()


def _authorize(action: Action, issue: Issue, actor: User) -> None:
    reason = refusal(action, issue, actor)
    if reason:
        raise (
            WrongState(reason)
            if issue.status not in action.sources and has(actor, action.permission)
            else NotAllowed(reason)
        )


def _require_checks(issue: Issue, as_of: datetime | None = None) -> None:
    failures = checks.failing(checks.run_checks(issue, as_of=as_of))
    if failures:
        raise ChecksFailed(failures)


def _move(issue: Issue, actor: User | None, action: Action, comment: str = "", **fields) -> Transition:
    from_status = issue.status
    now = timezone.now()
    moved = Issue.objects.filter(pk=issue.pk, status=from_status).update(
        status=action.target, version=F("version") + 1, updated_at=now, **fields
    )
    if moved != 1:
        raise WrongState("The issue changed meanwhile: reload the page and try again.")
    issue.refresh_from_db()
    transition = Transition.objects.create(
        issue=issue,
        actor=actor if actor is not None and actor.is_authenticated else None,
        created_at=now,
        from_status=from_status,
        to_status=action.target,
        action=action.name,
        comment=comment.strip(),
        issue_version=issue.version,
    )
    notifications.issue_moved(transition)  # after the commit, and only if it commits
    # One log event per move, once it commits (operations/logs.py: a JSON line in production).
    event = {
        "issue_id": issue.pk,
        "action": action.name,
        "from_status": from_status,
        "to_status": action.target,
        "actor_id": transition.actor_id,
    }
    transaction.on_commit(
        lambda: logger.info(
            "Issue %(issue_id)s: %(action)s (%(from_status)s to %(to_status)s).",
            event,
            extra={"event": "workflow.transition", **event},
        )
    )
    return transition


def _join(*parts: str) -> str:
    return " ".join(part.strip() for part in parts if part and part.strip())
