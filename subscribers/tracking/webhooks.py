"""What the ESP tells us about each message: Anymail's tracking webhooks, recorded per delivery.

Anymail's views at /webhooks/anymail/<esp>/tracking/ (routed by tracking/urls.py, which guards
them: 404 for an ESP that is not set up, 400 for any body that cannot be read, never a 500)
authenticate every POST (the WEBHOOK_SECRET basic auth, a list so the secret can be rotated; plus
the ESP's own signature where Anymail checks one: Mailgun's HMAC, SendGrid's and Postal's keys,
Resend's Svix secret), normalise the payload and send the `tracking` signal. `check_event` refuses
events whose fields have the wrong types before any is recorded. `record_tracking_event`,
connected in apps.py, hands each event to `record_event`, which:

1. refuses the request (HTTP 400, nothing stored) when no WEBHOOK_SECRET is configured: Anymail
   itself would only warn and accept anyone's posts (the URLs already answer 404 then);
2. finds the delivery: the `delivery_id` the send pipeline put in Anymail's metadata (trusted only
   when the recipient matches), else the ESP's message id, else our own Message-ID;
3. stores a DeliveryEvent keyed by the ESP's event id, or by a stable hash where the ESP gives
   none. The key is unique, so a replayed or retried event inserts nothing and changes nothing;
4. in the same transaction, applies what the event means. Every effect only moves one way, so
   events that arrive late or out of order never undo anything: first-occurrence times only move
   earlier; an `unknown` delivery becomes `sent` once the ESP proves it had the message; hard
   bounces and complaints suppress the address at once (subscriptions.record_hard_bounce /
   record_complaint); an unsubscribe unsubscribes (channel "esp"). Opens, clicks, soft bounces,
   deferrals and re-subscribes never change a subscriber.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from anymail.utils import get_anymail_setting
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import Resolver404, resolve
from django.utils import timezone

from .. import sending, subscriptions, suppression
from ..addresses import address_hash
from ..models import Delivery, DeliveryEvent, Subscriber, Suppression

# The channel recorded on a subscriber unsubscribed by their ESP's unsubscribe link or
# List-Unsubscribe handling.
ESP_CHANNEL = Subscriber.Channel.ESP

# Events that prove the ESP had the message, so an `unknown` delivery was in fact sent.
_PROVES_ACCEPTED = {
    EventType.QUEUED,
    EventType.SENT,
    EventType.DELIVERED,
    EventType.DEFERRED,
    EventType.BOUNCED,
    EventType.AUTORESPONDED,
    EventType.OPENED,
    EventType.CLICKED,
    EventType.COMPLAINED,
    EventType.UNSUBSCRIBED,
}
# Which first-occurrence time on the delivery each event type sets (the earliest one wins).
# A rejection counts as a bounce: the ESP reported the message undeliverable.
_FIRST_OCCURRENCE = {
    EventType.DELIVERED: "delivered_at",
    EventType.OPENED: "opened_at",
    EventType.CLICKED: "first_click_at",
    EventType.BOUNCED: "bounced_at",
    EventType.REJECTED: "bounced_at",
    EventType.COMPLAINED: "complained_at",
}
# The links in our own emails that carry a personal token; a click on one is stored without it.
_PERSONAL_LINKS = {
    "subscribe_confirm",
    "preferences",
    "preferences_export",
    "preferences_delete",
    "unsubscribe",
}
_MAX_RAW_STRING = 10_000
_MESSAGE_ID_RE = re.compile(r"<?send-(\d+)\.delivery-(\d+)@[^>]*>?")


def record_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """The receiver of Anymail's `tracking` signal (connected in SubscribersConfig.ready)."""
    record_event(event, esp_name)


def record_event(event: AnymailTrackingEvent, esp_name: str) -> DeliveryEvent | None:
    """Store one tracking event and apply what it means; None when it was already recorded.

    Raises AnymailWebhookValidationFailure (Anymail answers 400) when webhooks are not secured."""
    if not webhook_secrets():
        raise AnymailWebhookValidationFailure(
            "Tracking webhooks are refused until ANYMAIL_WEBHOOK_SECRET is set "
            "(and used in the webhook URL configured at the ESP)."
        )
    delivery = find_delivery(event)
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = DeliveryEvent.objects.create(
                    delivery=delivery,
                    send_id=delivery.send_id if delivery else None,
                    esp_name=esp_name[:50],
                    esp_event_id=event_key(event, esp_name),
                    esp_message_id=(event.message_id or "")[:255],
                    event_type=_stored_type(event.event_type),
                    recipient_hash=address_hash(event.recipient) if event.recipient else "",
                    url=clean_url(event.click_url or "")[:2000],
                    reject_reason=(event.reject_reason or "")[:50],
                    description=_description(event),
                    occurred_at=_aware(event.timestamp),
                    raw=_raw(event),
                )
        except IntegrityError:
            return None  # a replay: recorded before, and acted on then
        if delivery is not None:
            _update_delivery(delivery, event)
        _update_subscriber(delivery, event, esp_name)
    return stored


def check_event(event: AnymailTrackingEvent) -> None:
    """Raise ValueError when a parsed event is not what an ESP sends: a field of the wrong type (a
    body shaped like the ESP's, with junk in it), or nothing that says which message it is about.
    The webhook view then answers 400 and records nothing. A numeric message id (Mailjet's)
    becomes a string; a description that is not text becomes its JSON."""
    if isinstance(event.message_id, int) and not isinstance(event.message_id, bool):
        event.message_id = str(event.message_id)
    for name in ("event_type", "message_id", "recipient", "click_url", "reject_reason"):
        value = getattr(event, name, None)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"The event's {name} is a {type(value).__name__}, not text.")
    for name in ("description", "mta_response"):
        value = getattr(event, name, None)
        if value is not None and not isinstance(value, str):
            setattr(event, name, json.dumps(_plain(value))[:2000])
    if event.timestamp is not None and not isinstance(event.timestamp, datetime):
        raise ValueError(f"The event's timestamp is a {type(event.timestamp).__name__}, not a time.")
    if event.event_id is not None and not isinstance(event.event_id, str | int):
        raise ValueError(f"The event's id is a {type(event.event_id).__name__}.")
    # Every ESP's tracking event is about a message to a recipient; one that names neither was
    # made by Anymail from a body that is not the ESP's (`{}` becomes an "unknown" event).
    if not (event.recipient or "").strip() and not (event.message_id or "").strip():
        raise ValueError("The event names neither a recipient nor a message.")


def webhook_secrets() -> list[str]:
    """The accepted WEBHOOK_SECRET values (Anymail takes one string or a list)."""
    secret = get_anymail_setting("webhook_secret", default=None)
    if isinstance(secret, str):
        return [secret] if secret else []
    return [value for value in secret or [] if value]


# Finding the delivery --------------------------------------------------------------------------


def find_delivery(event: AnymailTrackingEvent) -> Delivery | None:
    """The delivery an event is about, or None (an email outside the send pipeline, or unknown)."""
    recipient_hash = address_hash(event.recipient) if event.recipient else None

    def matches(delivery: Delivery | None) -> bool:
        return delivery is not None and (recipient_hash is None or delivery.email_hash == recipient_hash)

    metadata = event.metadata if isinstance(event.metadata, Mapping) else {}
    delivery_id = _as_int(metadata.get("delivery_id"))
    if delivery_id is not None:
        delivery = Delivery.objects.filter(pk=delivery_id).first()
        send_id = _as_int(metadata.get("send_id"))
        if matches(delivery) and (send_id is None or delivery.send_id == send_id):
            return delivery
    message_id = (event.message_id or "").strip()
    if message_id:
        bare = message_id.strip("<>")
        candidates = Delivery.objects.filter(esp_message_id__in={message_id, bare, f"<{bare}>"})
        if recipient_hash is not None:
            candidates = candidates.filter(email_hash=recipient_hash)
        delivery = candidates.order_by("-pk").first()
        if delivery is not None:
            return delivery
        ours = _MESSAGE_ID_RE.fullmatch(message_id)
        if ours:
            send_id, delivery_id = int(ours.group(1)), int(ours.group(2))
            delivery = Delivery.objects.filter(pk=delivery_id, send_id=send_id).first()
            if matches(delivery):
                return delivery
    return None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# The event's identity --------------------------------------------------------------------------


def event_key(event: AnymailTrackingEvent, esp_name: str) -> str:
    """What makes an event unique at its ESP, stable across the ESP's retries.

    The ESP's own event id where it has one; Mailgun's event id (unique within a day) with the
    event's timestamp, rather than Anymail's per-POST signature token; Amazon SES's SNS message id
    with the recipient, since one notification covers every recipient of a message. Where the ESP
    gives no id (Postmark opens, clicks and deliveries; Brevo; Mailjet), a hash of what the event
    says: ESP, message id, type, time, recipient and link."""
    raw = _as_dict(event.esp_event)
    esp = _esp_slug(esp_name)
    event_id = str(event.event_id) if event.event_id not in (None, "") else ""
    if esp == "mailgun":
        data = raw.get("event-data")
        if isinstance(data, Mapping) and data.get("id") and data.get("timestamp") is not None:
            event_id = f"{data['id']}@{data['timestamp']}"
    elif esp == "amazon_ses" and event_id and event.recipient:
        event_id = f"{event_id}:{address_hash(event.recipient)[:16]}"
    if event_id:
        return event_id if len(event_id) <= 255 else "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()
    parts = [
        esp,
        event.message_id or "",
        event.event_type or "",
        event.timestamp.isoformat() if event.timestamp else "",
        (event.recipient or "").lower(),
        event.click_url or "",
    ]
    if not event.timestamp:  # nothing else tells two such events apart: use the whole payload
        parts.append(json.dumps(_plain(event.esp_event), sort_keys=True, default=str))
    return "sha256:" + hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


# What the event means --------------------------------------------------------------------------


def is_hard_bounce(event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Whether the event says the address cannot receive mail (suppress it), not just this message.

    Anymail's reject_reason "bounced" covers soft bounces for several ESPs, so the ESP's own bounce
    type decides where it has one. A rejection because the ESP already knows the address bounced
    (or is invalid) counts as a hard bounce too."""
    if event.event_type == EventType.REJECTED:
        return event.reject_reason in (RejectReason.BOUNCED, RejectReason.INVALID)
    if event.event_type != EventType.BOUNCED:
        return False
    raw = _as_dict(event.esp_event)
    esp = _esp_slug(esp_name)
    if esp == "postmark":
        # Bounce records carry Type; SubscriptionChange records carry SuppressionReason.
        return (raw.get("Type") or raw.get("SuppressionReason")) == "HardBounce"
    if esp == "amazon_ses":
        return _as_dict(raw.get("bounce")).get("bounceType") == "Permanent"
    if esp == "sendgrid":
        return raw.get("type", "bounce") == "bounce"  # "blocked" is a soft bounce
    if esp in ("brevo", "sendinblue"):
        return raw.get("event") in ("hard_bounce", "invalid_email")
    if esp == "mailjet":
        return bool(raw.get("hard_bounce"))
    if esp == "mailersend":
        return _as_dict(raw.get("data")).get("type") == "hard_bounced"
    if esp == "sparkpost":
        # SparkPost's bounce classes 10 (invalid recipient) and 30 (no RCPT) are its hard bounces.
        body = next(iter(_as_dict(raw.get("msys")).values()), {})
        return str(_as_dict(body).get("bounce_class")) in ("10", "30")
    if esp == "resend":
        bounce = _as_dict(_as_dict(raw.get("data")).get("bounce"))
        if bounce.get("type"):
            return bounce["type"] == "Permanent"
        return "hard bounce" in str(bounce.get("message", ""))
    # Mailgun reports temporary failures as "deferred", so its "bounced" is permanent.
    return event.reject_reason in (RejectReason.BOUNCED, RejectReason.INVALID)


def _update_delivery(delivery: Delivery, event: AnymailTrackingEvent) -> None:
    when = _aware(event.timestamp) or timezone.now()
    field = _FIRST_OCCURRENCE.get(event.event_type)
    if field:
        # Only ever earlier: a replayed or late event cannot move a first occurrence forwards.
        Delivery.objects.filter(
            Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": when}), pk=delivery.pk
        ).update(**{field: when})
    if event.event_type in _PROVES_ACCEPTED and delivery.status == Delivery.Status.UNKNOWN:
        sending.reconcile_unknown(delivery, esp_message_id=(event.message_id or "")[:255], when=when)


def _update_subscriber(delivery: Delivery | None, event: AnymailTrackingEvent, esp_name: str) -> None:
    email = event.recipient or _delivery_address(delivery)
    if not email:
        return
    if is_hard_bounce(event, esp_name):
        subscriptions.record_hard_bounce(email)
    elif event.event_type == EventType.COMPLAINED or (
        event.event_type == EventType.REJECTED and event.reject_reason == RejectReason.SPAM
    ):
        subscriptions.record_complaint(email)
    elif event.event_type == EventType.UNSUBSCRIBED or (
        event.event_type == EventType.REJECTED and event.reject_reason == RejectReason.UNSUBSCRIBED
    ):
        _unsubscribe(delivery, email, event)


def _unsubscribe(delivery: Delivery | None, email: str, event: AnymailTrackingEvent) -> None:
    subscriber = delivery.subscriber if delivery is not None and delivery.subscriber_id else None
    if subscriber is None:
        subscriber = Subscriber.objects.filter(email_hash=address_hash(email)).first()
    if subscriber is None:
        suppression.suppress(email, Suppression.Reason.UNSUBSCRIBED)
        return
    if event.timestamp and subscriber.confirmed_at and event.timestamp < subscriber.confirmed_at:
        return  # a late report of an unsubscribe the person has since undone by signing up again
    subscriptions.unsubscribe(subscriber, ESP_CHANNEL)


def _delivery_address(delivery: Delivery | None) -> str:
    if delivery is None:
        return ""
    if delivery.subscriber_id and delivery.subscriber:
        return delivery.subscriber.email
    return delivery.address


# Storing the event -----------------------------------------------------------------------------


def _stored_type(event_type: str) -> str:
    return event_type if event_type in DeliveryEvent.EventType.values else DeliveryEvent.EventType.UNKNOWN


def _description(event: AnymailTrackingEvent) -> str:
    parts = [event.description or "", event.mta_response or ""]
    if event.event_type not in DeliveryEvent.EventType.values:
        parts.insert(0, f"Anymail event type: {event.event_type}")
    text = " | ".join(part for part in parts if part)
    if event.recipient:  # MTA responses often quote the address
        text = re.sub(re.escape(event.recipient), "[recipient]", text, flags=re.IGNORECASE)
    return text[:2000]


def clean_url(url: str) -> str:
    """A clicked link as stored and counted: our personal links lose their token (a stored token
    would let anyone with database access manage that subscriber), everything else is kept."""
    if not url:
        return ""
    site = urlsplit(settings.SITE_URL)
    parts = urlsplit(url)
    if parts.netloc.lower() != site.netloc.lower():
        return url
    path = parts.path
    if site.path and path.startswith(site.path):
        path = path[len(site.path) :] or "/"
    try:
        match = resolve(path)
    except Resolver404:
        return url
    if match.url_name in _PERSONAL_LINKS and "token" in match.kwargs:
        return f"{settings.SITE_URL}{parts.path.replace(match.kwargs['token'], '{token}')}"
    return url


def _raw(event: AnymailTrackingEvent) -> Any:
    """The ESP's payload, as JSON, without the recipient's address (events keep only its hash)
    and without the token of a personal link that was clicked."""
    replacements = []
    if event.recipient:
        replacements.append((re.compile(re.escape(event.recipient), re.IGNORECASE), "[recipient]"))
    if event.click_url and clean_url(event.click_url) != event.click_url:
        replacements.append((re.compile(re.escape(event.click_url)), clean_url(event.click_url)))
    return _scrub(_plain(event.esp_event), replacements)


def _scrub(value: Any, replacements: list[tuple[re.Pattern, str]]) -> Any:
    if isinstance(value, str):
        for pattern, replacement in replacements:
            value = pattern.sub(lambda _match, text=replacement: text, value)
        return value if len(value) <= _MAX_RAW_STRING else value[:_MAX_RAW_STRING] + "…"
    if isinstance(value, dict):
        return {_scrub(str(key), replacements): _scrub(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, replacements) for item in value]
    return value


def _plain(value: Any) -> Any:
    """JSON-ready data from a payload (dict, list, or a QueryDict for form-encoded webhooks)."""
    if hasattr(value, "lists"):  # QueryDict: keep every value of multi-valued fields
        value = {key: values if len(values) > 1 else values[0] for key, values in value.lists()}
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return {"unparsed": str(value)[:_MAX_RAW_STRING]}


def _as_dict(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _esp_slug(esp_name: str) -> str:
    return (esp_name or "").strip().lower().replace(" ", "_")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, UTC)
    return value
