"""Error reports to Sentry (sentry-sdk), when SENTRY_DSN is set; nothing is sent otherwise.

`start_sentry` runs once, when the apps are ready (apps.py), in the web process and in every
worker and management command alike. Unhandled exceptions in views (DjangoIntegration), in tasks
(the task framework logs them with logger.exception, which the logging integration reports) and
error-level log lines become events. No personal data is sent (send_default_pii off: no cookies,
no user, no IP), and each event is tagged with the request id of the log lines around it.
"""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.types import Event, Hint

from . import request_id


def start_sentry(dsn: str, *, environment: str, release: str = "", traces_sample_rate: float = 0.0) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=tag_request_id,
    )


def tag_request_id(event: Event, hint: Hint) -> Event:
    """Tag the event with the request (and task) id, to find its log lines."""
    tags = event.setdefault("tags", {})
    if request_id.current():
        tags["request_id"] = request_id.current()
    if request_id.current_task():
        tags["task_id"] = request_id.current_task()
    return event
