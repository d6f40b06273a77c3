"""The emails a subscriber gets about their subscription, sent through newsletter.emails.

Templates: templates/email/subscription_{confirm,already,welcome,goodbye}.{subject.txt,txt,html}.
Each function takes ids (they run in a task worker), re-reads the row and checks, at send time,
that the email may still go: a suppression or a status change since it was enqueued wins.
Emails to a confirmed subscriber carry List-Unsubscribe headers and the footer links.
"""

from __future__ import annotations

from newsletter import emails

from . import links, suppression
from .models import Subscriber, Suppression

Status = Subscriber.Status


def _subscriber(subscriber_id: int) -> Subscriber | None:
    return Subscriber.objects.filter(pk=subscriber_id).first()


def _subscriber_context(subscriber: Subscriber) -> dict:
    return {
        "name": subscriber.name,
        "email": subscriber.email,
        "preferences_url": links.preferences_url(subscriber),
        "unsubscribe_url": links.unsubscribe_url(subscriber),
    }


def send_confirmation(subscriber_id: int) -> bool:
    subscriber = _subscriber(subscriber_id)
    if subscriber is None or subscriber.status != Status.PENDING:
        return False
    if suppression.blocks_new_signup(subscriber.email):
        return False
    context = {
        "name": subscriber.name,
        "email": subscriber.email,
        "confirm_url": links.confirm_url(subscriber),
        "preferences_url": links.preferences_url(subscriber),
        "sections": list(subscriber.sections.all()),
    }
    emails.send("subscription_confirm", subscriber.email, context)
    return True


def send_already_subscribed(subscriber_id: int) -> bool:
    return _send_to_active(subscriber_id, "subscription_already")


def send_welcome(subscriber_id: int) -> bool:
    return _send_to_active(subscriber_id, "subscription_welcome")


def _send_to_active(subscriber_id: int, name: str) -> bool:
    subscriber = _subscriber(subscriber_id)
    if (
        subscriber is None
        or subscriber.status != Status.ACTIVE
        or suppression.is_suppressed(subscriber.email)
    ):
        return False
    context = {**_subscriber_context(subscriber), "sections": list(subscriber.sections.all())}
    emails.send(name, subscriber.email, context, headers=links.list_unsubscribe_headers(subscriber))
    return True


def send_goodbye(subscriber_id: int) -> bool:
    """The one email after an unsubscribe, confirming it; only while the opt-out is the reason."""
    subscriber = _subscriber(subscriber_id)
    if subscriber is None or subscriber.status != Status.UNSUBSCRIBED:
        return False
    if suppression.suppression_reason(subscriber.email) not in (None, Suppression.Reason.UNSUBSCRIBED):
        return False
    emails.send("subscription_goodbye", subscriber.email, _subscriber_context(subscriber))
    return True
