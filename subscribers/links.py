"""The absolute links and headers every email to a subscriber carries.

The send pipeline calls these per recipient: `preferences_url(sub)`, `unsubscribe_url(sub)` and
`list_unsubscribe_headers(sub)` (RFC 2369 List-Unsubscribe with an https and a mailto target,
plus RFC 8058 List-Unsubscribe-Post so mail clients can unsubscribe with one POST).
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from newsletter.absolute_urls import site_url

from . import tokens
from .models import Subscriber


def confirm_url(subscriber: Subscriber) -> str:
    return site_url(reverse("subscribe_confirm", args=[tokens.confirm_token(subscriber)]))


def preferences_url(subscriber: Subscriber) -> str:
    return site_url(reverse("preferences", args=[tokens.preferences_token(subscriber)]))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return site_url(reverse("unsubscribe", args=[tokens.unsubscribe_token(subscriber)]))


def unsubscribe_mailbox() -> str:
    """Where mailto unsubscribes go: settings.UNSUBSCRIBE_EMAIL, else the From address."""
    configured = getattr(settings, "UNSUBSCRIBE_EMAIL", "")
    return configured or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def unsubscribe_mailto(subscriber: Subscriber) -> str:
    """A mailto: whose subject carries the unsubscribe token, for an inbound handler to act on."""
    subject = quote(f"unsubscribe {tokens.unsubscribe_token(subscriber)}")
    return f"mailto:{unsubscribe_mailbox()}?subject={subject}"


def list_unsubscribe_headers(subscriber: Subscriber) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>, <{unsubscribe_mailto(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
