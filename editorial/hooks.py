"""Where the editorial workflow hands over to the send pipeline (subscribers/, another app).

When a managing editor schedules an issue with "start sending once published", the scheduled
publication calls `start_send` here, once, after the issue went public. The contract with the
send pipeline is one function, `subscribers.sending.start_send(issue, actor)`, that starts the
issue's send to its whole audience and returns a short description of what it started. Until
that module exists nothing is sent, and the transition's comment says so: no send is faked.
"""

from __future__ import annotations

import importlib
import logging

from newsletter.models import Issue

from .roles import User

logger = logging.getLogger(__name__)

SEND_MODULE = "subscribers.sending"


def start_send(issue: Issue, actor: User | None) -> str:
    """Start the issue's send through the send pipeline; returns what happened, for the audit row."""
    try:
        sending = importlib.import_module(SEND_MODULE)
    except ModuleNotFoundError:
        sending = None
    if sending is None or not hasattr(sending, "start_send"):
        logger.warning(
            "Issue %s was published; its send was asked for, but there is no send pipeline.", issue.pk
        )
        return "The send was not started: the send pipeline is not installed yet."
    try:
        outcome = sending.start_send(issue, actor)
    except Exception as exc:  # the issue stays published; the managing editor starts the send by hand
        logger.exception("Issue %s was published, but its send could not be started.", issue.pk)
        return f"The send was not started: {getattr(exc, 'message', None) or exc}"
    return f"Send started: {outcome}" if outcome else "Send started."
