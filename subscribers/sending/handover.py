"""Handing a claimed batch's messages to the email backend, and reading what it answered.

`hand_over(send, prepared, variants, claim)` opens one connection for the batch and sends either
- message by message: each delivery's variant personalised (`build_message`), one message per
  recipient (Django's SMTP backend, Postmark, SES, the stock Resend backend, ...); or
- in ESP batches, where batching.for_connection says the ESP substitutes per-recipient values
  and headers itself: one message per (variant, chunk of recipients), with `merge_data`,
  `merge_headers` and `merge_metadata` keyed by address (`build_batch_message`).
Either way it reserves slots under the global rate limit (one per recipient) and classifies every
error (delivery_errors.py) for the deliveries that message carried. Per-recipient answers
(`message.anymail_status.recipients`) decide each delivery of an ESP batch alone: queued/sent ->
sent, rejected/invalid/failed -> failed, unknown -> unknown.

Outcomes are not kept for the end of the batch: each message's rows are taken in hand just before
it goes (`claims.Claim.take`, which also writes the outcomes noted since the previous message), so
a worker killed mid-batch leaves one message "unknown" (the one in hand: one recipient, or one ESP
API call's recipients) and the rest of its batch back in the queue, never a whole batch unknown.

Every message carries an idempotency key (esp_backends.set_idempotency_key), used by the ESPs
that accept one: `send-<send>-delivery-<delivery>`, or for an ESP batch
`send-<send>-batch-<hash of its sorted delivery ids>`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone

from newsletter.emails import issue_message, reply_to

from ..models import Delivery, Send, SendVariant
from ..tracking import analytics
from . import batching, headers, throttle
from .claims import Claim, Outcome
from .delivery_errors import CONNECT, Action, Classification, classify, refused_recipient
from .esp_backends import set_idempotency_key
from .variants import as_rendered

logger = logging.getLogger(__name__)

Status = Delivery.Status


@dataclass
class Prepared:
    """One claimed delivery, ready to go: its address, variant key, placeholder values, headers."""

    delivery: Delivery
    address: str
    key: str
    values: dict
    headers: dict


@dataclass
class _Unit:
    """What one call to the backend carries: one message, for one or (ESP batch) many deliveries.
    `build` makes the message again for fewer of them (rows the batch no longer holds left out)."""

    items: list[Prepared]
    message: EmailMultiAlternatives
    batch: bool
    build: Callable[[list[Prepared]], EmailMultiAlternatives]

    def key(self, send: Send) -> str:
        if self.batch:
            return batch_key(send, [item.delivery.pk for item in self.items])
        return message_key(send, self.items[0].delivery.pk)

    def only(self, ids: set[int]) -> _Unit | None:
        items = [item for item in self.items if item.delivery.pk in ids]
        if len(items) == len(self.items):
            return self
        return _Unit(items, self.build(items), self.batch, self.build) if items else None


def message_key(send: Send, delivery_id: int) -> str:
    return f"send-{send.pk}-delivery-{delivery_id}"


def batch_key(send: Send, delivery_ids: Sequence[int]) -> str:
    digest = hashlib.sha256(",".join(str(pk) for pk in sorted(delivery_ids)).encode()).hexdigest()
    return f"send-{send.pk}-batch-{digest[:32]}"


def _delivery_headers(send: Send, item: Prepared) -> dict[str, str]:
    return {
        **item.headers,
        "Message-ID": headers.message_id(send.pk, item.delivery.pk),
        "X-Newsletter-Delivery": str(item.delivery.pk),
    }


def _metadata(send: Send, delivery_id: int) -> dict[str, str]:
    return {"send_id": str(send.pk), "delivery_id": str(delivery_id), "issue": str(send.issue.number)}


def _tags(send: Send) -> list[str]:
    return [f"issue-{send.issue.number}", f"send-{send.pk}"]


def _anymail_extras(message: EmailMultiAlternatives, send: Send) -> None:
    """Tags, and tracking when the publication turned it on (Anymail attributes; SMTP ignores
    them). Off is left unset rather than False: Anymail refuses a tracking option, even False,
    for ESPs without per-message tracking (Resend), so "off" relies on the ESP account's setting."""
    message.tags = _tags(send)
    for option, enabled in analytics.tracking_options().items():
        if enabled:
            setattr(message, option, True)


def build_message(send: Send, item: Prepared, variant: SendVariant) -> EmailMultiAlternatives:
    """The message for one delivery: the stored variant personalised, with the headers and the
    Anymail metadata webhooks use to find the delivery again."""
    message = issue_message(
        as_rendered(variant),
        to=item.address,
        values=item.values,
        headers={**_delivery_headers(send, item), "List-Id": headers.list_id()},
    )
    message.metadata = _metadata(send, item.delivery.pk)
    _anymail_extras(message, send)
    return message


def build_batch_message(
    send: Send, items: list[Prepared], content: batching.BatchContent, syntax: batching.BatchSyntax
) -> EmailMultiAlternatives:
    """One message for many deliveries of one variant: the ESP fills each copy's merge fields and
    headers from merge_data and merge_headers (keyed by address)."""
    message = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[item.address for item in items],
        reply_to=reply_to(),
        headers={"List-Id": headers.list_id()},
    )
    if content.html:
        message.attach_alternative(content.html, "text/html")
    message.merge_data = {item.address: batching.merge_values(item.values, syntax) for item in items}
    message.merge_headers = {item.address: _delivery_headers(send, item) for item in items}
    message.metadata = {"send_id": str(send.pk), "issue": str(send.issue.number)}
    message.merge_metadata = {item.address: _metadata(send, item.delivery.pk) for item in items}
    _anymail_extras(message, send)
    return message


def hand_over(send: Send, prepared: list[Prepared], variants: dict[str, SendVariant], claim: Claim) -> None:
    """Send the prepared deliveries through one connection, noting each outcome on `claim` as the
    backend answers; the claim writes it before the next message goes (see the module docstring)."""
    if not prepared:
        return
    connection = get_connection(fail_silently=False)
    # Test sends go to a few editors, without list headers: always message by message.
    syntax = batching.for_connection(connection) if send.kind != Send.Kind.TEST else None
    if syntax is None:
        units = _single_units(send, prepared, variants, claim)
    else:
        units = _batch_units(send, prepared, variants, syntax, claim)
    if not units:
        return
    window = throttle.reserve(sum(len(unit.items) for unit in units))
    try:
        connection.open()
    except Exception as exc:
        verdict = classify(exc, CONNECT)
        logger.warning("Send %s: %s", send.pk, verdict.reason)
        claim.note(_apply(item, verdict) for unit in units for item in unit.items)
        return
    stopped: Classification | None = None
    slot = 0
    try:
        for unit in units:
            if stopped is not None:
                claim.note(_untried(item, stopped) for item in unit.items)
                continue
            # Write what the previous message did and take this one in hand, in one statement.
            unit = unit.only(claim.take([item.delivery.pk for item in unit.items]))
            if unit is None:  # its lease ran out meanwhile and the rows went back to the queue
                continue
            set_idempotency_key(unit.message, unit.key(send), connection)
            window.wait_for(slot)
            slot += len(unit.items)
            try:
                sent = connection.send_messages([unit.message])
            except Exception as exc:
                verdict = classify(exc)
                claim.note(_apply(item, verdict) for item in unit.items)
                if verdict.stop_batch:
                    stopped = verdict
                    logger.warning("Send %s: batch stopped: %s", send.pk, verdict.reason)
                continue
            if unit.batch:
                claim.note(_accepted_in_batch(send, item, unit.message) for item in unit.items)
            else:
                claim.note(_accepted(unit.items[0], unit.message, sent))
    finally:
        try:
            connection.close()
        except Exception:  # the server may have hung up already; nothing is lost
            logger.debug("Closing the mail connection failed", exc_info=True)


def _single_units(send, prepared, variants, claim: Claim) -> list[_Unit]:
    units = []
    for item in prepared:
        try:
            message = build_message(send, item, variants[item.key])
        except Exception as exc:  # a template or placeholder problem: this message can never go
            logger.exception("Could not build the message for delivery %s", item.delivery.pk)
            claim.note(_unbuildable(item, exc))
            continue
        units.append(_Unit([item], message, batch=False, build=lambda items, message=message: message))
    return units


def _batch_units(send, prepared, variants, syntax, claim: Claim) -> list[_Unit]:
    by_variant: dict[str, list[Prepared]] = {}
    for item in prepared:
        by_variant.setdefault(item.key, []).append(item)
    units = []
    for key, items in sorted(by_variant.items()):
        try:
            content = batching.batch_content(variants[key], syntax)
        except Exception as exc:
            logger.exception("Could not prepare variant %s of send %s for a batch", key, send.pk)
            claim.note(_unbuildable(item, exc) for item in items)
            continue

        def build(chunk: list[Prepared], content=content) -> EmailMultiAlternatives:
            return build_batch_message(send, chunk, content, syntax)

        for chunk in batching.chunks(items, syntax.max_recipients):
            units.append(_Unit(chunk, build(chunk), batch=True, build=build))
    return units


def _unbuildable(item: Prepared, exc: Exception) -> Outcome:
    return Outcome(item.delivery.pk, Status.FAILED, error=f"Could not build the message: {exc}")


def retry_at(delivery: Delivery):
    """When a delivery that failed transiently may be tried again: SEND_RETRY_SECONDS after its
    first attempt, doubling with each attempt."""
    attempt = delivery.attempts + 1
    seconds = float(settings.SEND_RETRY_SECONDS) * (2 ** max(min(attempt - 1, 10), 0))
    return timezone.now() + timedelta(seconds=seconds)


def _untried(item: Prepared, stopped: Classification) -> Outcome:
    return Outcome(
        item.delivery.pk,
        Status.QUEUED,
        error=f"Not tried: {stopped.reason}",
        variant_key=item.key,
        retry_at=retry_at(item.delivery),
    )


def _apply(item: Prepared, verdict: Classification) -> Outcome:
    delivery = item.delivery
    if verdict.action is Action.RETRY:
        if delivery.attempts + 1 >= settings.SEND_MAX_ATTEMPTS:
            error = f"Gave up after {delivery.attempts + 1} attempts. {verdict.reason}"
            return Outcome(delivery.pk, Status.FAILED, error=error, tried=True, variant_key=item.key)
        return Outcome(
            delivery.pk,
            Status.QUEUED,
            error=verdict.reason,
            tried=True,
            variant_key=item.key,
            retry_at=retry_at(delivery),
        )
    status = Status.FAILED if verdict.action is Action.FAILED else Status.UNKNOWN
    return Outcome(delivery.pk, status, error=verdict.reason, tried=True, variant_key=item.key)


def _accepted(item: Prepared, message, sent: int) -> Outcome:
    """The outcome of a one-recipient message the backend returned from: per-recipient status when
    the ESP gives one (Anymail raises only when every recipient is refused)."""
    pk = item.delivery.pk
    own_id = message.extra_headers.get("Message-ID", "")
    anymail_status = getattr(message, "anymail_status", None)
    recipients = getattr(anymail_status, "recipients", None) or {}
    status = recipients.get(item.address) or next(iter(recipients.values()), None) if recipients else None
    if status is not None:
        refused = refused_recipient(str(status.status or ""))
        if refused is not None:
            return Outcome(pk, Status.FAILED, error=refused.reason, tried=True, variant_key=item.key)
        esp_id = str(status.message_id or getattr(anymail_status, "message_id", "") or own_id)
        return Outcome(pk, Status.SENT, message_id=esp_id, tried=True, variant_key=item.key)
    if not sent:
        return Outcome(pk, Status.FAILED, error="The email backend did not send the message.", tried=True)
    return Outcome(pk, Status.SENT, message_id=own_id, tried=True, variant_key=item.key)


def _accepted_in_batch(send: Send, item: Prepared, message) -> Outcome:
    """One delivery of an ESP batch the backend returned from: its own recipient status decides."""
    pk = item.delivery.pk
    recipients = getattr(getattr(message, "anymail_status", None), "recipients", None) or {}
    status = recipients.get(item.address)
    if status is None:  # Anymail keys by the address as given; be lenient about case
        status = next((s for a, s in recipients.items() if a.lower() == item.address.lower()), None)
    word = str(getattr(status, "status", "") or "")
    if status is None or word == "unknown":
        return Outcome(
            pk,
            Status.UNKNOWN,
            error="The ESP took the batch but did not say whether it accepted this recipient.",
            tried=True,
            variant_key=item.key,
        )
    refused = refused_recipient(word)
    if refused is not None:
        return Outcome(pk, Status.FAILED, error=refused.reason, tried=True, variant_key=item.key)
    esp_id = str(status.message_id or headers.message_id(send.pk, pk))
    return Outcome(pk, Status.SENT, message_id=esp_id, tried=True, variant_key=item.key)
