"""Scheduled publication.

`workflow.schedule` sets the issue's `scheduled_for` with its status (the one record of when it
goes out), stores a Schedule row (the scheduler's time zone, whether to start the send, a fresh
token) and enqueues `tasks.publish_scheduled_issue` to run at that time with the token, through
the Tasks API (django-tasks-db and django-tasks-rq support `run_after`; a backend that does not,
like the tests' ImmediateBackend, gets nothing enqueued). When the task runs it publishes only if
the row still has its token: a rescheduled or cancelled issue's old task does nothing.

The safety net is `manage.py publish_scheduled` (`publish_due_issues`), which publishes every
scheduled issue whose time has come; it is idempotent, so it can run from cron every minute
beside the worker, and it catches a task lost with its worker.
"""

from __future__ import annotations

import logging
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from newsletter.models import Issue

from .models import Schedule
from .roles import User

logger = logging.getLogger(__name__)


def save_schedule(issue: Issue, actor: User, start_send: bool, timezone_name: str) -> Schedule:
    """The issue's schedule row, new or replaced, with a fresh token (older tasks become stale)."""
    zone_name = timezone_name if timezone_name in zoneinfo.available_timezones() else "UTC"
    schedule, _ = Schedule.objects.update_or_create(
        issue=issue,
        defaults={
            "time_zone": zone_name,
            "start_send": start_send,
            "token": uuid.uuid4(),
            "scheduled_by": actor,
            "created_at": timezone.now(),
            "failed_at": None,
            "failure": "",
        },
    )
    return schedule


def enqueue_publication(issue: Issue, schedule: Schedule) -> None:
    """Enqueue the publishing task for the issue's scheduled time, once the transaction commits."""
    from django_tasks import task_backends

    from .tasks import publish_scheduled_issue

    if not task_backends[publish_scheduled_issue.backend].supports_defer:
        logger.info(
            "The task backend cannot run tasks later; `manage.py publish_scheduled` publishes issue %s.",
            schedule.issue_id,
        )
        return
    task = publish_scheduled_issue.using(run_after=issue.scheduled_for)
    issue_id, token = schedule.issue_id, str(schedule.token)
    transaction.on_commit(lambda: task.enqueue(issue_id, token))


@dataclass(frozen=True)
class Outcome:
    issue_id: int
    published: bool
    reason: str = ""


def publish_if_due(issue_id: int, token: str | None, now: datetime | None = None) -> Outcome:
    """Publish the scheduled issue if its time has come and `token` is its schedule's current one
    (None: whatever the token, for the periodic command)."""
    from . import workflow

    now = now or timezone.now()
    schedule = Schedule.objects.select_related("issue", "scheduled_by").filter(issue_id=issue_id).first()
    publish_at = schedule.issue.scheduled_for if schedule is not None else None
    if schedule is None or schedule.issue.status != Issue.Status.SCHEDULED or publish_at is None:
        return Outcome(issue_id, False, "not scheduled any more")
    if token is not None and str(schedule.token) != token:
        return Outcome(issue_id, False, "rescheduled since this task was enqueued")
    if publish_at > now:
        return Outcome(issue_id, False, "not due yet")
    try:
        transition = workflow.publish_scheduled(schedule, now)
    except workflow.WorkflowError as exc:
        return Outcome(issue_id, False, exc.message)
    published = transition.to_status == Issue.Status.PUBLISHED
    return Outcome(issue_id, published, "" if published else transition.comment)


def publish_due_issues(now: datetime | None = None) -> list[Outcome]:
    """Publish every scheduled issue whose time has come (idempotent)."""
    now = now or timezone.now()
    due = Schedule.objects.filter(
        issue__status=Issue.Status.SCHEDULED, issue__scheduled_for__lte=now, failed_at__isnull=True
    ).values_list("issue_id", flat=True)
    return [publish_if_due(issue_id, None, now) for issue_id in list(due)]
