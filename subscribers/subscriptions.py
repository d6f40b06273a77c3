"""What happens to a subscriber: sign-up, confirmation, preferences, unsubscribe, erasure.

Each change is one function here, called by the views, the admin, the management commands and
the send pipeline alike. Functions change rows inside a transaction and enqueue their emails
afterwards (subscribers/tasks.py), so a slow mail server never slows a page; a task whose
subscriber has gone by the time it runs does nothing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from newsletter.models import Section

from . import suppression, tasks
from .addresses import address_hash, normalise_email
from .models import Subscriber, Suppression
from .tokens import ConfirmLink, LinkError, UsedLink, read_unsubscribe_token

Status = Subscriber.Status
# Every change below is one log event ({"event": "subscription.<change>", "subscriber_id": ...}),
# without the address: operations/logs.py writes them as JSON lines in production.
logger = logging.getLogger(__name__)

# The consent text shown on the confirmation page, where consent is given (and beside the full
# sign-up form). Change the wording only together with a new version: each confirmation records
# the version its person saw, and the data export shows the text.
CONSENT_WORDING_VERSION = "2025-06"
CONSENT_WORDINGS = {
    "2025-06": (
        "Email me each new issue of {site}. I can change what I receive, or unsubscribe with one "
        "click, from any email. {site} keeps my address, name and choices, and a record of this "
        "confirmation (its time, IP address and browser), only to send me the newsletter."
    ),
}
IMPORT_WORDING_VERSION = "import"
# A sign-up not confirmed within this time is deleted by `manage.py purge_pending_subscribers`.
STALE_PENDING_AFTER = timedelta(days=30)
# Unsubscribes that came from a person on a page get a short goodbye email; a mail client's
# one-click POST (RFC 8058) does not, since its user expects no further mail.
GOODBYE_CHANNELS = (Subscriber.Channel.LINK, Subscriber.Channel.PREFERENCES)


class SubscriptionRefused(Exception):
    """A change we will not make; `message` is shown to the person as it is."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class SignupOutcome(enum.Enum):
    CONFIRMATION_SENT = "confirmation sent"
    REMINDER_SENT = "already-subscribed email sent"
    NOTHING_SENT = "nothing sent"


def consent_wording(version: str = CONSENT_WORDING_VERSION) -> str:
    template = CONSENT_WORDINGS.get(version, "")
    return template.format(site=settings.SITE_NAME)


def set_sections(subscriber: Subscriber, sections: Iterable[Section] | None) -> None:
    """Store the chosen sections; None, or every section, is stored as none (= all, and new ones)."""
    chosen = list(sections) if sections is not None else []
    if chosen and len({s.pk for s in chosen}) >= Section.objects.count():
        chosen = []
    subscriber.sections.set(chosen)


def request_subscription(
    email: str,
    *,
    name: str = "",
    sections: Iterable[Section] | None = None,
) -> SignupOutcome:
    """A sign-up from the public form. The caller shows the same page whatever this returns.

    A new, pending or unsubscribed address gets a confirmation email; an active one gets an
    email with its preferences link; a bounced, complained or staff-suppressed one gets nothing.
    The form never changes an active subscriber's row: only the owner of the address can.
    """
    email = normalise_email(email, check_deliverability=False)
    if suppression.blocks_new_signup(email):
        return SignupOutcome.NOTHING_SENT
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(
            email=email, defaults={"name": name, "consent_source": Subscriber.Source.FORM}
        )
        if subscriber.status == Status.ACTIVE:
            outcome = SignupOutcome.REMINDER_SENT
        elif subscriber.status in (Status.PENDING, Status.UNSUBSCRIBED):
            subscriber.status = Status.PENDING
            subscriber.name = name or subscriber.name
            subscriber.save(update_fields=["status", "name", "updated_at"])
            set_sections(subscriber, sections)
            outcome = SignupOutcome.CONFIRMATION_SENT
        else:
            outcome = SignupOutcome.NOTHING_SENT
    if outcome is SignupOutcome.CONFIRMATION_SENT:
        tasks.send_confirmation_email.enqueue(subscriber.pk)
    elif outcome is SignupOutcome.REMINDER_SENT:
        tasks.send_already_subscribed_email.enqueue(subscriber.pk)
    _log("requested", subscriber.pk, outcome=outcome.value, new_subscriber=created)
    return outcome


def confirm(link: ConfirmLink, *, ip: str | None, user_agent: str, wording_version: str) -> Subscriber:
    """Confirm a sign-up from its emailed link and record the consent; each link works once.

    `wording_version` is the version of the consent text the confirmation page showed; an unknown
    one (a forged form) is recorded as the current version, which is what the page shows."""
    if wording_version not in CONSENT_WORDINGS:
        wording_version = CONSENT_WORDING_VERSION
    subscriber = link.subscriber
    if suppression.blocks_new_signup(subscriber.email) or subscriber.status in (
        Status.BOUNCED,
        Status.COMPLAINED,
    ):
        raise SubscriptionRefused(
            "We can no longer send email to this address. Write to us if you think this is a mistake."
        )
    now = timezone.now()
    with transaction.atomic():
        # The conditional UPDATE is the one-use check: a second confirmation finds nothing to change.
        updated = Subscriber.objects.filter(
            pk=subscriber.pk,
            status=Status.PENDING,
            token_version=subscriber.token_version,
            confirmed_at=subscriber.confirmed_at,
        ).update(
            status=Status.ACTIVE,
            confirmed_at=now,
            consent_at=now,
            consent_ip=ip,
            consent_user_agent=(user_agent or "")[:500],
            consent_wording_version=wording_version,
            consent_source=Subscriber.Source.FORM,
            consent_basis="",
            paused_issues=0,
            updated_at=now,
        )
        if not updated:
            raise UsedLink()
        suppression.lift_opt_out(subscriber.email)
    tasks.send_welcome_email.enqueue(subscriber.pk)
    _log("confirmed", subscriber.pk, wording_version=wording_version)
    subscriber.refresh_from_db()
    return subscriber


def unsubscribe(subscriber: Subscriber, channel: str) -> bool:
    """Unsubscribe at once and suppress the address; True if this call changed anything."""
    now = timezone.now()
    with transaction.atomic():
        changed = Subscriber.objects.filter(
            pk=subscriber.pk, status__in=[Status.ACTIVE, Status.PENDING]
        ).update(status=Status.UNSUBSCRIBED, unsubscribed_at=now, unsubscribe_channel=channel, updated_at=now)
        suppression.suppress(subscriber.email, Suppression.Reason.UNSUBSCRIBED)
    subscriber.refresh_from_db()
    if changed and channel in GOODBYE_CHANNELS:
        tasks.send_goodbye_email.enqueue(subscriber.pk)
    if changed:
        _log("unsubscribed", subscriber.pk, channel=channel)
    return bool(changed)


def resubscribe(subscriber: Subscriber) -> bool:
    """Undo an unsubscribe from the person's own link; True if this call changed anything."""
    if suppression.blocks_new_signup(subscriber.email) or subscriber.status in (
        Status.BOUNCED,
        Status.COMPLAINED,
    ):
        raise SubscriptionRefused("We can no longer send email to this address.")
    if subscriber.confirmed_at is None:
        raise SubscriptionRefused("This subscription was never confirmed. Sign up again to get a new link.")
    with transaction.atomic():
        changed = Subscriber.objects.filter(
            pk=subscriber.pk, status__in=[Status.UNSUBSCRIBED, Status.PENDING]
        ).update(status=Status.ACTIVE, updated_at=timezone.now())
        suppression.lift_opt_out(subscriber.email)
    subscriber.refresh_from_db()
    if changed:
        _log("resubscribed", subscriber.pk)
    return bool(changed)


def update_preferences(
    subscriber: Subscriber,
    *,
    name: str,
    sections: Iterable[Section] | None,
    format: str,
    paused_issues: int,
) -> None:
    with transaction.atomic():
        subscriber.name = name
        subscriber.format = format
        subscriber.paused_issues = paused_issues
        subscriber.save(update_fields=["name", "format", "paused_issues", "updated_at"])
        set_sections(subscriber, sections)
    _log("preferences_updated", subscriber.pk, format=format, paused_issues=paused_issues)


def erase(subscriber: Subscriber) -> None:
    """Delete everything we hold about a person; only the suppression hash remains."""
    subscriber_id = subscriber.pk
    with transaction.atomic():
        suppression.suppress(subscriber.email, Suppression.Reason.DELETED)
        subscriber.delete()
    _log("erased", subscriber_id)


def unsubscribe_by_mail(subject: str) -> bool:
    """For an inbound-mail handler: act on a reply to the List-Unsubscribe mailto, whose subject
    is "unsubscribe <token>". Returns True if someone was unsubscribed; a bad token is ignored."""
    words = (subject or "").split()
    token = words[-1] if len(words) >= 2 and words[-2].lower().endswith("unsubscribe") else ""
    try:
        subscriber = read_unsubscribe_token(token)
    except LinkError:
        return False
    return unsubscribe(subscriber, Subscriber.Channel.MAILTO)


def purge_stale_pending(older_than: timedelta = STALE_PENDING_AFTER) -> int:
    """Delete sign-ups never confirmed: without consent we keep no address. Returns how many."""
    cutoff = timezone.now() - older_than
    deleted, _ = Subscriber.objects.filter(status=Status.PENDING, updated_at__lt=cutoff).delete()
    if deleted:
        _log("purged", None, count=deleted)
    return deleted


def revoke_links(subscribers: QuerySet[Subscriber]) -> int:
    """Invalidate every link sent so far to these subscribers; returns how many were changed."""
    revoked = subscribers.update(token_version=F("token_version") + 1, updated_at=timezone.now())
    _log("links_revoked", None, count=revoked)
    return revoked


def add_confirmed(
    email: str,
    *,
    name: str = "",
    sections: Iterable[Section] | None = None,
    format: str = Subscriber.Format.HTML,
    source: str,
    basis: str,
) -> Subscriber:
    """Add an active subscriber on a consent basis staff vouch for (admin form, CSV import)."""
    email = normalise_email(email, check_deliverability=False)
    if not basis.strip():
        raise SubscriptionRefused("State the consent basis: how and when these people agreed to receive it.")
    if suppression.is_suppressed(email):
        raise SubscriptionRefused("This address is on the suppression list and will not be added.")
    now = timezone.now()
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(email=email, defaults={"name": name})
        if not created and subscriber.status == Status.ACTIVE:
            raise SubscriptionRefused("This address is already subscribed.")
        if not created and subscriber.status != Status.PENDING:
            raise SubscriptionRefused(
                "This address has left the list; only its owner can subscribe it again."
            )
        subscriber.name = name or subscriber.name
        subscriber.format = format
        _record_staff_consent(subscriber, now=now, source=source, basis=basis)
        subscriber.save()
        set_sections(subscriber, sections)
    _log("added", subscriber.pk, source=source)
    return subscriber


def _record_staff_consent(subscriber: Subscriber, *, now, source: str, basis: str) -> None:
    subscriber.status = Status.ACTIVE
    subscriber.confirmed_at = now
    subscriber.consent_at = now
    subscriber.consent_ip = None
    subscriber.consent_user_agent = ""
    subscriber.consent_wording_version = IMPORT_WORDING_VERSION
    subscriber.consent_source = source
    subscriber.consent_basis = basis.strip()


def record_hard_bounce(email: str) -> None:
    """For the send pipeline's webhooks: the address does not exist; never mail it again."""
    _record_failure(email, Status.BOUNCED, Suppression.Reason.HARD_BOUNCE)


def record_complaint(email: str) -> None:
    """For the send pipeline's webhooks: the person marked us as spam; never mail them again."""
    _record_failure(email, Status.COMPLAINED, Suppression.Reason.COMPLAINT)


def _record_failure(email: str, status: str, reason: str) -> None:
    with transaction.atomic():
        suppression.suppress(email, reason)
        subscribers = Subscriber.objects.filter(email_hash=address_hash(email))
        if status == Status.BOUNCED:
            # A late bounce never relabels a complaint, the stronger signal.
            subscribers = subscribers.exclude(status=Status.COMPLAINED)
        changed = subscribers.update(status=status, updated_at=timezone.now())
    _log("suppressed", None, status=status, reason=reason, count=changed)


def count_down_pauses() -> int:
    """Called by the send pipeline once per issue sent: every pause gets one issue shorter."""
    counted = Subscriber.objects.filter(status=Status.ACTIVE, paused_issues__gt=0).update(
        paused_issues=F("paused_issues") - 1
    )
    _log("pauses_counted_down", None, count=counted)
    return counted


def _log(change: str, subscriber_id: int | None, **fields: Any) -> None:
    subject = f"Subscriber {subscriber_id}" if subscriber_id is not None else "Subscribers"
    logger.info(
        "%s: %s.",
        subject,
        change.replace("_", " "),
        extra={"event": f"subscription.{change}", "subscriber_id": subscriber_id, **fields},
    )


def personal_data(subscriber: Subscriber) -> dict[str, Any]:
    """Everything we hold about a subscriber, as the preferences page shows and exports it."""
    sections = [section.name for section in subscriber.sections.all()]

    def when(value):
        return value.isoformat() if value else None

    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.get_status_display(),
        "sections": sections or "all sections, including new ones",
        "format": subscriber.get_format_display(),
        "paused_for_issues": subscriber.paused_issues,
        "signed_up_at": when(subscriber.created_at),
        "confirmed_at": when(subscriber.confirmed_at),
        "unsubscribed_at": when(subscriber.unsubscribed_at),
        "unsubscribed_by": subscriber.get_unsubscribe_channel_display()
        if subscriber.unsubscribe_channel
        else None,
        "consent": {
            "given_at": when(subscriber.consent_at),
            "ip_address": subscriber.consent_ip,
            "browser": subscriber.consent_user_agent,
            "source": subscriber.get_consent_source_display(),
            "wording_version": subscriber.consent_wording_version,
            "wording": consent_wording(subscriber.consent_wording_version),
            "basis": subscriber.consent_basis,
        },
    }
