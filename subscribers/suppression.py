"""The suppression list: addresses we never mail, kept as hashes (see addresses.py for the hash).

Every send consults it: `Subscriber.objects.mailable()` excludes suppressed hashes in the same
query, and `is_suppressed()` answers for one address. An address enters it when its owner
unsubscribes or deletes their data, when it hard-bounces or complains, or when staff add it.

Opt-out reasons (unsubscribed, deleted) are lifted only by the person confirming a new sign-up
themselves (double opt-in) or undoing an unsubscribe from their own link; imports and staff
additions never lift anything. Bounces, complaints and manual entries are lifted only by staff
deleting the row in the admin.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from .addresses import address_hash
from .models import Suppression

Reason = Suppression.Reason


def is_suppressed(email: str) -> bool:
    return Suppression.objects.filter(email_hash=address_hash(email)).exists()


def suppression_reason(email: str) -> str | None:
    """The reason `email` is suppressed, or None."""
    return Suppression.objects.filter(email_hash=address_hash(email)).values_list("reason", flat=True).first()


def blocks_new_signup(email: str) -> bool:
    """Whether the address is suppressed for a reason its owner cannot lift by signing up again."""
    reason = suppression_reason(email)
    return reason is not None and reason not in Suppression.OPT_OUT_REASONS


def suppress(email: str, reason: str, note: str = "") -> Suppression:
    """Put `email` on the list. A stronger reason (bounce, complaint, manual) replaces an opt-out."""
    email_hash = address_hash(email)
    try:
        with transaction.atomic():
            entry, created = Suppression.objects.get_or_create(
                email_hash=email_hash, defaults={"reason": reason, "note": note}
            )
    except IntegrityError:  # a concurrent suppress() won the insert
        entry, created = Suppression.objects.get(email_hash=email_hash), False
    if (
        not created
        and entry.reason in Suppression.OPT_OUT_REASONS
        and reason not in Suppression.OPT_OUT_REASONS
    ):
        Suppression.objects.filter(pk=entry.pk).update(reason=reason, note=note)
        entry.refresh_from_db()
    return entry


def lift_opt_out(email: str) -> bool:
    """Remove an opt-out suppression after the person opted in again; True if one was removed."""
    deleted, _ = Suppression.objects.filter(
        email_hash=address_hash(email), reason__in=Suppression.OPT_OUT_REASONS
    ).delete()
    return bool(deleted)
