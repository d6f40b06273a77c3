"""Signed tokens for the links in subscriber emails.

A token is `django.core.signing.dumps` of a short list, signed with SECRET_KEY and a salt per
purpose, so a preferences token never works as an unsubscribe or a confirmation token. It names
the subscriber by their random `key` (never the row id) and carries their `token_version`:
bumping the version (one admin action) revokes every link ever sent to them.

- confirm: [key, version, confirmed-at stamp]; expires after
  CONFIRM_MAX_AGE and is one-use: confirming changes `confirmed_at`, so the stamp no longer
  matches (the conditional UPDATE in subscriptions.confirm() makes that hold under races too).
- preferences and unsubscribe: [key, version]; they do not expire, because links in old emails
  (and a mail client's List-Unsubscribe) must keep working.

Reading a token raises a LinkError subclass whose `message` the link-error page shows as it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

from .models import Subscriber

CONFIRM_MAX_AGE = timedelta(days=7)

CONFIRM = "subscribers.confirm"
PREFERENCES = "subscribers.preferences"
UNSUBSCRIBE = "subscribers.unsubscribe"
MAX_TOKEN_LENGTH = 500


class LinkError(Exception):
    status = 400
    title = "This link is not valid"
    message = (
        "The link is incomplete or has been changed. Copy the whole link from the email, or "
        "sign up again to get a new one."
    )

    def __init__(self, message: str | None = None) -> None:
        if message:
            self.message = message
        super().__init__(self.message)


class InvalidLink(LinkError):
    pass


class ExpiredLink(LinkError):
    status = 410
    title = "This link has expired"
    message = "Confirmation links work for 7 days. Sign up again and we will send you a new one."


class UsedLink(LinkError):
    status = 410
    title = "This link has already been used"
    message = (
        "Your subscription is already confirmed; each confirmation link works once. The emails we "
        "send you carry a link to your preferences."
    )


class RevokedLink(LinkError):
    status = 410
    title = "This link no longer works"
    message = (
        "The links in this email were withdrawn, or the subscription they belonged to was deleted. "
        "Use the link in a more recent email, or sign up again."
    )


@dataclass(frozen=True)
class ConfirmLink:
    subscriber: Subscriber
    confirmed_stamp: int


def confirmed_stamp(subscriber: Subscriber) -> int:
    """Whole seconds of `confirmed_at` (0 before the first confirmation)."""
    return int(subscriber.confirmed_at.timestamp()) if subscriber.confirmed_at else 0


def confirm_token(subscriber: Subscriber) -> str:
    payload = [subscriber.key.hex, subscriber.token_version, confirmed_stamp(subscriber)]
    return signing.dumps(payload, salt=CONFIRM, compress=True)


def preferences_token(subscriber: Subscriber) -> str:
    return signing.dumps([subscriber.key.hex, subscriber.token_version], salt=PREFERENCES)


def unsubscribe_token(subscriber: Subscriber) -> str:
    return signing.dumps([subscriber.key.hex, subscriber.token_version], salt=UNSUBSCRIBE)


def read_confirm_token(token: str) -> ConfirmLink:
    key, version, stamp = _load(token, CONFIRM, max_age=CONFIRM_MAX_AGE, size=3)
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise InvalidLink()
    subscriber = _subscriber(key, version)
    if stamp != confirmed_stamp(subscriber):
        raise UsedLink()
    return ConfirmLink(subscriber, stamp)


def read_preferences_token(token: str) -> Subscriber:
    key, version = _load(token, PREFERENCES, size=2)
    return _subscriber(key, version)


def read_unsubscribe_token(token: str) -> Subscriber:
    key, version = _load(token, UNSUBSCRIBE, size=2)
    return _subscriber(key, version)


def _load(token: str, salt: str, size: int, max_age: timedelta | None = None) -> list:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLink()
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredLink() from exc
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise InvalidLink() from exc
    if not isinstance(payload, list) or len(payload) != size:
        raise InvalidLink()
    return payload


def _subscriber(key: object, version: object) -> Subscriber:
    if not isinstance(key, str) or not isinstance(version, int) or isinstance(version, bool):
        raise InvalidLink()
    try:
        key = uuid.UUID(hex=key)
    except ValueError as exc:
        raise InvalidLink() from exc
    try:
        subscriber = Subscriber.objects.get(key=key)
    except Subscriber.DoesNotExist as exc:
        raise RevokedLink() from exc
    if subscriber.token_version != version:
        raise RevokedLink()
    return subscriber
