"""Where the editorial workflow hands over to the send pipeline (subscribers/, another app).

When a managing editor schedules an issue with "start sending once published", the scheduled
publication calls `start_send` here, once, after the issue went public. The contract with the
send pipeline is one function, `subscribers.sending.start_send(issue, actor)`, which starts the
issue's send to its whole audience or refuses with `SendRefused` and a reason. The issue stays
published either way, the audit row says what happened, and a send that did not start is a
notification for the managing editors.

The other way, the send pipeline tells its listeners when a send finishes or is paused
(`sending.listen`, connected at start-up by `connect`); `send_changed` turns that into the
managing editors' notifications (notifications.py), reading the send's deliveries here so that
notifications.py needs nothing from subscribers/.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Count
from django.urls import reverse

from newsletter.models import Issue
from subscribers import sending
from subscribers.models import Delivery, Send

from . import notifications
from .roles import User

logger = logging.getLogger(__name__)


def start_send(issue: Issue, actor: User | None) -> str:
    """Start the issue's send through the send pipeline; returns what happened, for the audit row."""
    try:
        send = sending.start_send(issue, actor)
    except sending.SendRefused as exc:
        return _not_started(issue, exc.message)
    except Exception as exc:  # the issue stays published; the managing editor starts the send by hand
        logger.exception("Issue %s was published, but its send could not be started.", issue.pk)
        return _not_started(issue, str(exc))
    return f"Send started: {send}"


def _not_started(issue: Issue, reason: str) -> str:
    outcome = f"The send was not started: {reason}"
    notifications.send_news(
        notifications.Kind.SEND_PROBLEM,
        issue,
        notifications.capitalised(
            f"{notifications.describe(issue)} was published, but its send did not start."
        ),
        detail=outcome,
        url=reverse("admin:newsletter_issue_change", args=[issue.pk]),
    )
    return outcome


def connect() -> None:
    """Listen to the send pipeline (EditorialConfig.ready)."""
    sending.listen(send_changed)


def send_changed(send: Send, event: str, actor: User | None) -> None:
    """A send finished, or a managing editor paused it: once that commits, tell the (other) managing
    editors when it finished, or stopped with deliveries whose outcome is unknown. Test sends tell
    nobody. Nothing is read before the commit, so the send's own statements stay as they are."""
    if send.kind == Send.Kind.TEST:
        return
    send_id = send.pk

    def tell() -> None:
        _tell_send(send_id, event, actor)

    transaction.on_commit(tell, robust=True)


def _tell_send(send_id: int, event: str, actor: User | None) -> None:
    send = Send.objects.select_related("issue").get(pk=send_id)
    counts = dict(
        Delivery.objects.filter(send=send)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    unknown, failed = counts.get(Delivery.Status.UNKNOWN, 0), counts.get(Delivery.Status.FAILED, 0)
    what = notifications.describe(send.issue)
    tally = ", ".join(
        f"{counts[status]} {status.label.split(' (')[0].lower()}"
        for status in Delivery.Status
        if counts.get(status)
    )
    if event == sending.FINISHED:
        problem = bool(unknown or failed)
        message = (
            f"The send of {what} finished"
            + (" with problems" if problem else "")
            + f": {tally or 'nobody to send to'}."
        )
        kind = notifications.Kind.SEND_PROBLEM if problem else notifications.Kind.SEND_FINISHED
    elif event == sending.PAUSED and unknown:
        message = (
            f"{notifications.name_of(actor)} paused the send of {what}; {unknown} "
            f"deliver{'y has' if unknown == 1 else 'ies have'} an unknown outcome "
            "(it may or may not have been sent)."
        )
        kind = notifications.Kind.SEND_PROBLEM
    else:
        return
    detail = " ".join(
        sentence
        for sentence, applies in [
            ("The send's page lists the failed deliveries and why.", failed),
            ("Those with an unknown outcome are never sent again unless you ask there.", unknown),
        ]
        if applies
    )
    notifications.send_news(
        kind,
        send.issue,
        message,
        actor=actor,
        detail=detail,
        url=reverse("admin:subscribers_send_change", args=[send.pk]),
    )
