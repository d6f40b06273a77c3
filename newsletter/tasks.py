"""Background work of the content app, through the Django Tasks API (see settings.TASKS)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from . import emails


@task()
def send_email_task(
    name: str, to: list[str], context: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> int:
    """Send the named email (see newsletter.emails) from a worker. Arguments are JSON: the context
    holds plain values, not model instances."""
    return emails.send(name, to, context, headers)
