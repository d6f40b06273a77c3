"""The send pipeline: an outbox. Freeze the audience, fan out, claim, send, record.

1. `start_send(issue, actor)` checks the issue may go out, renders and checks every variant the
   audience needs (variants.py), and in one transaction creates the Send, freezes the audience
   into queued Delivery rows with one INSERT ... SELECT (audience.py) and stores the variants.
   After the commit, `tasks.dispatch_send` fans out.
2. `dispatch(send_id)` enqueues one `tasks.send_batch` per batch of queued deliveries.
3. `send_batch(send_id)` reaps expired leases, claims a batch atomically (claims.py), re-checks that
   each recipient may still be mailed, personalises the stored variant for each, reserves sending
   slots under the global rate limit (throttle.py), hands the messages to the email backend
   through one connection (handover.py: message by message, or one message per variant where
   the ESP fills per-recipient values and headers itself, batching.py), classifies every error
   (delivery_errors.py) and records each message's outcome as soon as the backend answers, in the
   statement that takes the next message in hand (claims.Claim). Transient errors go back to the
   queue with a backoff and a new batch is scheduled; when nothing is queued or in flight, the
   send finishes (once).

A worker that dies mid-batch stops renewing its lease (SEND_LEASE_SECONDS, renewed every quarter
lease while it works). When the lease runs out the reaper releases its rows: the message that was
in hand becomes "unknown" (never resent by itself, never lost), the rows it had not handed over
go back to the queue for another batch. The managing editor may resend the unknown ones
(`resend_unknown`). Every function that changes a send is here and is what the admin, the
management command and the tasks call; `progress` (progress.py) and `build_message`
(handover.py) are re-exported from here. Whoever registered with `listen` (editorial's
notifications) hears when a send finishes or is paused.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from newsletter.absolute_urls import on_site_url, site_url
from newsletter.checks import email_problems
from newsletter.models import Issue
from newsletter.rendering import preview_values

from .. import links, subscriptions
from ..models import Delivery, Send, SendVariant, Subscriber
from . import audience, claims, throttle
from .claims import Outcome
from .handover import Prepared, build_message, hand_over  # noqa: F401 (build_message: public API)
from .progress import RATE_WINDOW, progress  # noqa: F401 (public API, re-exported)
from .variants import check_rendered, ensure_variants, render_variant, variant_key

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

Status = Delivery.Status
SEND_PERMISSION = "editorial.send_issue"
_HTTPS_TARGET = re.compile(r"<(https?://[^>]+)>")
# The variants every full send checks, whoever is on the list: the whole issue in each format.
WHOLE_ISSUE = ("html:all", "text:all")


# What a send tells its listeners (`listen`): it finished, or a managing editor paused it.
FINISHED, PAUSED = "finished", "paused"
# Called as listener(send, event, actor); editorial/ registers its notifications here at start-up,
# since subscribers/ never imports editorial/. A failing listener is logged, never felt by the send.
SendListener = Callable[[Send, str, "User | None"], None]
_listeners: list[SendListener] = []


def listen(listener: SendListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def _tell_listeners(send: Send, event: str, actor: User | None = None) -> None:
    for listener in list(_listeners):
        try:
            listener(send, event, actor)
        except Exception:
            logger.exception("A listener failed on send %s being %s.", send.pk, event)


class SendRefused(Exception):
    """A send action we will not take; `message` is shown to the managing editor as it is."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class IssueChecksFailed(SendRefused):
    """The issue fails the checks its email must pass (newsletter.checks); `problems` lists them."""

    def __init__(self, issue: Issue, problems: list[str]) -> None:
        self.problems = problems
        failed = " ".join(problems)
        super().__init__(f"Issue #{issue.number} was not sent: it fails the email checks. {failed}")


# Starting -----------------------------------------------------------------------------------------


def start_send(issue: Issue, actor: User | None = None, *, kind: str = Send.Kind.FULL) -> Send:
    """Send a published issue to every mailable subscriber (kind=full, once per issue), or again to
    those who did not get it (kind=resend). `actor` None means the system (a scheduled send)."""
    _check_permission(actor)
    if not issue.is_published:
        raise SendRefused("Only a published issue can be sent to subscribers.")
    if kind not in (Send.Kind.FULL, Send.Kind.RESEND):
        raise SendRefused("Use start_test_send() for a test send.")
    sends = Send.objects.filter(issue=issue).exclude(kind=Send.Kind.TEST)
    if kind == Send.Kind.FULL and sends.filter(kind=Send.Kind.FULL).exists():
        raise SendRefused(
            f"Issue #{issue.number} has already been sent. To reach subscribers who did not get it, "
            "choose “send again to those who did not get it”."
        )
    if kind == Send.Kind.RESEND and not sends.filter(kind=Send.Kind.FULL).exists():
        raise SendRefused(f"Issue #{issue.number} has not been sent yet; start its send first.")
    if sends.filter(status__in=[Send.Status.SENDING, Send.Status.PAUSED]).exists():
        raise SendRefused(f"A send of issue #{issue.number} is still running; wait for it or cancel it.")
    # Checked again here: the issue may have been edited since it was published, or published
    # without the editorial workflow's checks.
    if problems := email_problems(issue):
        raise IssueChecksFailed(issue, problems)

    subscribers = audience.audience(issue, kind)
    keys = audience.variant_keys(subscribers) | set(WHOLE_ISSUE)
    rendered = {key: render_variant(issue, key) for key in sorted(keys)}
    problems = [problem for key, email in rendered.items() for problem in check_rendered(email, key)]
    if problems:
        raise SendRefused("The send was not started. " + " ".join(problems))
    try:
        with transaction.atomic():
            # The base the variants were rendered on: the batches build every other link on it.
            send = Send.objects.create(issue=issue, kind=kind, created_by=actor, site_url=site_url(""))
            send.recipient_count = audience.snapshot(send, subscribers)
            send.save(update_fields=["recipient_count"])
            _store_variants(send, rendered)
            transaction.on_commit(lambda: _enqueue_dispatch(send.pk))
    except IntegrityError as exc:  # a concurrent start_send won the one full send
        raise SendRefused(f"Issue #{issue.number} has already been sent.") from exc
    logger.info(
        "Send %s of issue %s started for %s recipients.",
        send.pk,
        issue.number,
        send.recipient_count,
        extra={"event": "send.started", **_fields(send), "recipients": send.recipient_count},
    )
    return send


def start_test_send(issue: Issue, addresses: list[str], actor: User | None = None) -> Send:
    """Send the whole issue (HTML with its text part) to editors' addresses, through the same
    pipeline. The issue need not be published; the checks are reported in the send's note."""
    from ..addresses import InvalidAddress, address_hash, normalise_email

    _check_permission(actor)
    try:
        normalised = sorted({normalise_email(address, check_deliverability=False) for address in addresses})
    except InvalidAddress as exc:
        raise SendRefused(str(exc)) from exc
    if not normalised:
        raise SendRefused("Give at least one address for the test send.")
    key = WHOLE_ISSUE[0]
    email = render_variant(issue, key)
    with transaction.atomic():
        send = Send.objects.create(
            issue=issue,
            kind=Send.Kind.TEST,
            created_by=actor,
            recipient_count=len(normalised),
            site_url=site_url(""),
            note=" ".join(email_problems(issue) + check_rendered(email, key)),
        )
        Delivery.objects.bulk_create(
            Delivery(send=send, address=address, email_hash=address_hash(address)) for address in normalised
        )
        _store_variants(send, {key: email})
        transaction.on_commit(lambda: _enqueue_dispatch(send.pk))
    logger.info(
        "Test send %s of issue %s started.",
        send.pk,
        issue.number,
        extra={"event": "send.started", **_fields(send)},
    )
    return send


def _store_variants(send: Send, rendered: dict) -> None:
    SendVariant.objects.bulk_create(
        SendVariant(send=send, key=key, subject=email.subject, html=email.html, text=email.text)
        for key, email in rendered.items()
    )


def _fields(send: Send) -> dict[str, Any]:
    """What each send's log event says about it (operations/logs.py writes them as JSON lines)."""
    return {"send_id": send.pk, "issue_id": send.issue_id, "kind": send.kind}


def _actor_id(actor: User | None) -> int | None:
    return actor.pk if actor is not None else None


def _check_permission(actor: User | None) -> None:
    if actor is not None and not actor.has_perm(SEND_PERMISSION):
        raise SendRefused("Only a managing editor can send issues.")


# Fan-out ------------------------------------------------------------------------------------------


def batch_limit() -> int:
    """Deliveries per claim: SEND_BATCH_SIZE, fewer when the rate limit would not send them
    within half a lease (so a slow batch never looks dead)."""
    size = max(int(settings.SEND_BATCH_SIZE), 1)
    rate = throttle.rate_limit()
    if rate > 0:
        size = min(size, max(int(rate * settings.SEND_LEASE_SECONDS / 2), 1))
    return size


def dispatch(send_id: int) -> int:
    """Enqueue enough batch tasks for the send's queued deliveries; returns how many."""
    send = Send.objects.get(pk=send_id)
    if send.status != Send.Status.SENDING:
        return 0
    queued = Delivery.objects.filter(send=send, status=Status.QUEUED).count()
    if not queued:
        finish_if_done(send)
        return 0
    batches = math.ceil(queued / batch_limit())
    for _ in range(batches):
        _enqueue_batch(send.pk)
    return batches


def _enqueue_dispatch(send_id: int) -> None:
    from .. import tasks

    tasks.dispatch_send.enqueue(send_id)


def _enqueue_batch(send_id: int, at=None) -> None:
    """Enqueue a batch, to run at `at` (a retry's backoff). A backend that cannot defer (the
    immediate backend of tests and development) waits here instead."""
    from .. import tasks

    task = tasks.send_batch
    now = timezone.now()
    if at is not None and at > now:
        if task.get_backend().supports_defer:
            task.using(run_after=at).enqueue(send_id)
            return
        time.sleep((at - now).total_seconds())
    task.enqueue(send_id)


# One batch --------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    claimed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    retry_at: Any = None

    def as_dict(self) -> dict:
        return {"claimed": self.claimed, **self.counts}


def send_batch(send_id: int) -> BatchResult:
    """Claim, send and record one batch of the send's deliveries (see the module docstring)."""
    reap_expired_leases()
    send = Send.objects.select_related("issue").get(pk=send_id)
    # This worker's SITE_URL may differ from the process that rendered the variants.
    with on_site_url(send.site_url):
        return _send_batch(send)


def _send_batch(send: Send) -> BatchResult:
    result = BatchResult()
    if send.status != Send.Status.SENDING:
        return result
    token = claims.claim_batch(send, batch_limit(), settings.SEND_LEASE_SECONDS)
    if not token:
        # A backend may run a deferred retry a little early (RQ schedules to the whole second):
        # then nothing is due yet, and the retry must be enqueued again for when it is.
        waiting = send.deliveries.filter(status=Status.QUEUED, next_attempt_at__gt=timezone.now())
        next_retry = waiting.aggregate(at=Min("next_attempt_at"))["at"]
        if next_retry is not None:
            _enqueue_batch(send.pk, at=next_retry + timedelta(seconds=1))
        finish_if_done(send)
        return result
    claim = claims.Claim(send.pk, token, settings.SEND_LEASE_SECONDS)
    deliveries = claims.load_claimed(send, token)
    result.claimed = len(deliveries)
    prepared: list[Prepared] = []
    for delivery in deliveries:
        recipient = _prepare(send, delivery)
        if isinstance(recipient, str):
            claim.note(Outcome(delivery.pk, Status.SKIPPED, error=recipient))
        else:
            prepared.append(recipient)
    variants = ensure_variants(send, {item.key for item in prepared}) if prepared else {}
    try:
        hand_over(send, prepared, variants, claim)
    finally:
        # Whatever stopped the hand-over (short of the process dying), what it did is written.
        claim.flush()
    for outcome in claim.recorded:
        result.counts[outcome.status] = result.counts.get(outcome.status, 0) + 1
    failed = {
        str(status): result.counts[status]
        for status in (Status.FAILED, Status.UNKNOWN)
        if status in result.counts
    }
    if failed:
        logger.warning(
            "Send %s: deliveries failed in a batch: %s.",
            send.pk,
            failed,
            extra={"event": "send.failed", **_fields(send), **failed},
        )
    retries = [o.retry_at for o in claim.recorded if o.status == Status.QUEUED and o.retry_at]
    if retries:
        result.retry_at = max(retries)
        _enqueue_batch(send.pk, at=result.retry_at)
    finish_if_done(send)
    return result


def _prepare(send: Send, delivery: Delivery) -> Prepared | str:
    """The recipient's address, variant and values, or why they are skipped now."""
    if send.kind == Send.Kind.TEST:
        values = {**preview_values(send.issue), "email": delivery.address}
        return Prepared(delivery, delivery.address, WHOLE_ISSUE[0], values, {})
    subscriber = delivery.subscriber
    if subscriber is None:
        return "The subscriber was erased after the send started."
    if subscriber.status != Subscriber.Status.ACTIVE or subscriber.confirmed_at is None:
        return f"No longer subscribed ({subscriber.get_status_display().lower()}) when their turn came."
    if delivery.suppressed:
        return "The address was on the suppression list when its turn came."
    if subscriber.paused_issues:
        return "The subscriber paused their subscription after the send started."
    list_headers = links.list_unsubscribe_headers(subscriber)
    values = {
        "name": subscriber.name,
        "email": subscriber.email,
        # The footer's link is the header's https target, token for token.
        "unsubscribe_url": _HTTPS_TARGET.search(list_headers["List-Unsubscribe"]).group(1),
        "preferences_url": links.preferences_url(subscriber),
    }
    key = variant_key(subscriber.format, [section.pk for section in subscriber.sections.all()])
    return Prepared(delivery, subscriber.email, key, values, list_headers)


# Finishing, leases, controls --------------------------------------------------------------------


def finish_if_done(send: Send) -> bool:
    """Mark the send finished when nothing is queued or in flight; the first to do so counts
    the subscribers' pauses down (full sends only: a resend is the same issue)."""
    if Delivery.objects.filter(send=send, status__in=[Status.QUEUED, Status.SENDING]).exists():
        return False
    now = timezone.now()
    if not Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(
        status=Send.Status.FINISHED, finished_at=now
    ):
        return False
    if send.kind == Send.Kind.FULL and Send.objects.filter(pk=send.pk, pauses_counted=False).update(
        pauses_counted=True
    ):
        subscriptions.count_down_pauses()
    logger.info("Send %s finished.", send.pk, extra={"event": "send.finished", **_fields(send)})
    _tell_listeners(send, FINISHED)
    return True


def reap_expired_leases() -> int:
    """Release the deliveries of workers that died (or hung) with them claimed: those in hand
    become "unknown", those not yet handed over go back to the queue (claims.reap_expired_leases).
    Sends with nothing left then finish. Run by every batch and by `manage.py send_issue --reap`.
    Returns how many deliveries were released."""
    return sum(_reap())


def _reap() -> tuple[int, int]:
    now = timezone.now()
    expired = Delivery.objects.filter(status=Status.SENDING, lease_expires_at__lt=now)
    send_ids = list(expired.values_list("send_id", flat=True).distinct()[:100])
    if not send_ids:
        return 0, 0
    unknown, requeued = claims.reap_expired_leases(now)
    if requeued:  # a send cancelled meanwhile does not take them back
        Delivery.objects.filter(
            send_id__in=send_ids, send__status=Send.Status.CANCELLED, status=Status.QUEUED
        ).update(status=Status.CANCELLED, error="The send was cancelled.")
    for send in Send.objects.filter(pk__in=send_ids, status=Send.Status.SENDING):
        finish_if_done(send)
    if unknown or requeued:
        logger.warning(
            "Released the deliveries of stopped workers: %s unknown, %s back in the queue.",
            unknown,
            requeued,
            extra={
                "event": "send.leases_released",
                "send_ids": send_ids,
                "unknown": unknown,
                "requeued": requeued,
            },
        )
    return unknown, requeued


def sweep() -> dict[str, int]:
    """The periodic step (cron `manage.py send_issue --reap`): release expired leases and enqueue
    batches for running sends that have due queued deliveries (a task lost with its worker, or
    deliveries a stopped worker never handed over)."""
    unknown, requeued = _reap()
    now = timezone.now()
    # A send with a batch at work gets no more: its tasks are draining the queue, and enqueueing
    # more every few seconds would only fill the task queue with batches that claim nothing.
    working = Delivery.objects.filter(status=Status.SENDING, lease_expires_at__gte=now).values("send_id")
    due = (
        Delivery.objects.filter(send__status=Send.Status.SENDING, status=Status.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(send_id__in=working)
        .values_list("send_id", flat=True)
        .distinct()
    )
    dispatched = 0
    for send_id in list(due):
        dispatched += dispatch(send_id)
    return {"reaped": unknown + requeued, "unknown": unknown, "requeued": requeued, "batches": dispatched}


def pause(send: Send, actor: User | None = None) -> None:
    _check_permission(actor)
    if not Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(
        status=Send.Status.PAUSED, paused_at=timezone.now()
    ):
        raise SendRefused("Only a running send can be paused.")
    send.refresh_from_db()
    logger.info(
        "Send %s paused.",
        send.pk,
        extra={"event": "send.paused", **_fields(send), "actor_id": _actor_id(actor)},
    )
    _tell_listeners(send, PAUSED, actor)


def resume(send: Send, actor: User | None = None) -> None:
    _check_permission(actor)
    with transaction.atomic():
        if not Send.objects.filter(pk=send.pk, status=Send.Status.PAUSED).update(status=Send.Status.SENDING):
            raise SendRefused("Only a paused send can be resumed.")
        transaction.on_commit(lambda: _enqueue_dispatch(send.pk))
    send.refresh_from_db()
    logger.info(
        "Send %s resumed.",
        send.pk,
        extra={"event": "send.resumed", **_fields(send), "actor_id": _actor_id(actor)},
    )


def cancel(send: Send, actor: User | None = None, note: str = "") -> int:
    """Stop the send: queued deliveries are cancelled (a batch in flight finishes its rows).
    Returns how many deliveries were cancelled."""
    _check_permission(actor)
    with transaction.atomic():
        if not Send.objects.filter(pk=send.pk, status__in=[Send.Status.SENDING, Send.Status.PAUSED]).update(
            status=Send.Status.CANCELLED, cancelled_at=timezone.now(), note=note
        ):
            raise SendRefused("Only a running or paused send can be cancelled.")
        cancelled = Delivery.objects.filter(send=send, status=Status.QUEUED).update(
            status=Status.CANCELLED, error="The send was cancelled."
        )
    send.refresh_from_db()
    logger.info(
        "Send %s cancelled.",
        send.pk,
        extra={
            "event": "send.cancelled",
            **_fields(send),
            "actor_id": _actor_id(actor),
            "deliveries_cancelled": cancelled,
        },
    )
    return cancelled


def resend_unknown(send: Send, actor: User | None = None) -> int:
    """Queue again the deliveries whose outcome is unknown (the same Message-ID goes out, so a mail
    client that has the first copy may fold the two). Returns how many."""
    _check_permission(actor)
    with transaction.atomic():
        send = Send.objects.select_for_update().get(pk=send.pk)
        if send.status == Send.Status.CANCELLED:
            raise SendRefused("This send was cancelled.")
        count = Delivery.objects.filter(send=send, status=Status.UNKNOWN).update(
            status=Status.QUEUED,
            next_attempt_at=None,
            error="Queued again by a managing editor (outcome was unknown).",
        )
        if not count:
            raise SendRefused("No delivery of this send has an unknown outcome.")
        if send.status == Send.Status.FINISHED:
            Send.objects.filter(pk=send.pk).update(status=Send.Status.SENDING, finished_at=None)
        transaction.on_commit(lambda: _enqueue_dispatch(send.pk))
    return count


def reconcile_unknown(delivery: Delivery, esp_message_id: str = "", when=None) -> bool:
    """For the tracking webhooks: an event about a delivery shows the ESP did take it."""
    changes: dict[str, Any] = {
        "status": Status.SENT,
        "sent_at": when or timezone.now(),
        "lease_expires_at": None,
    }
    if esp_message_id:
        changes["esp_message_id"] = esp_message_id[:255]
    return bool(Delivery.objects.filter(pk=delivery.pk, status=Status.UNKNOWN).update(**changes))
