"""Background work of the editorial workflow (Tasks API), each a thin wrapper around a domain
function so the same logic runs from a task, a management command or a test."""

from __future__ import annotations

from django_tasks import task

from newsletter.emails import issue_message
from newsletter.models import Issue
from newsletter.rendering import preview_values, render_issue_email

from . import scheduling

TEST_SUBJECT_PREFIX = "[Test] "


@task()
def publish_scheduled_issue(issue_id: int, token: str) -> str:
    """Publish a scheduled issue when its time comes, unless it was rescheduled or cancelled."""
    outcome = scheduling.publish_if_due(issue_id, token)
    return "published" if outcome.published else outcome.reason


@task()
def send_test_email(issue_id: int, to: str) -> int:
    """The issue's email, as subscribers will get it, to one editor, through the email backend."""
    issue = Issue.objects.get(pk=issue_id)
    message = issue_message(render_issue_email(issue), to, preview_values(issue))
    message.subject = TEST_SUBJECT_PREFIX + message.subject
    return message.send()
