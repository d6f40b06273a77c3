"""Where the editorial workflow hands over to the send pipeline (subscribers/, another app).

When a managing editor schedules an issue with "start sending once published", the scheduled
publication calls `start_send` here, once, after the issue went public. The contract with the
send pipeline is one function, `subscribers.sending.start_send(issue, actor)`, which starts the
issue's send to its whole audience or refuses with `SendRefused` and a reason. The issue stays
published either way, and the audit row says what happened.
"""

from __future__ import annotations

import logging

from newsletter.models import Issue
from subscribers import sending

from .roles import User

logger = logging.getLogger(__name__)


def start_send(issue: Issue, actor: User | None) -> str:
    """Start the issue's send through the send pipeline; returns what happened, for the audit row."""
    try:
        send = sending.start_send(issue, actor)
    except sending.SendRefused as exc:
        return f"The send was not started: {exc.message}"
    except Exception as exc:  # the issue stays published; the managing editor starts the send by hand
        logger.exception("Issue %s was published, but its send could not be started.", issue.pk)
        return f"The send was not started: {exc}"
    return f"Send started: {send}"
