"""Email addresses: one normal form, and the hash the suppression list keeps.

An address is validated by email-validator (syntax only unless
settings.SUBSCRIBERS_CHECK_DELIVERABILITY is true, so tests never touch DNS) and normalised to
its Unicode form, lower-cased: "Ann@Bücher.DE" and "ann@xn--bcher-kva.de" are the same person.
The whole address is lower-cased, local part included; no real mailbox provider distinguishes
case there, and treating them apart would let one person sign up twice.

The hash is plain SHA-256 of the normalised address with a fixed, purpose-specific prefix, not
an HMAC keyed by SECRET_KEY: a suppression must survive a key rotation, or rotating the key
would quietly put everyone who unsubscribed back on the list. It is a pseudonym, not
anonymisation (a known address can be checked against it), which is exactly its job.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254
_HASH_PREFIX = b"newsletter-cms/suppression/v1:"


class InvalidAddress(ValueError):
    """The address is not one we can send to; the message says why, for the person who typed it."""


def normalise_email(value: str, *, check_deliverability: bool | None = None) -> str:
    """The address in its normal form, or InvalidAddress with a reason a reader understands."""
    if check_deliverability is None:
        check_deliverability = getattr(settings, "SUBSCRIBERS_CHECK_DELIVERABILITY", False)
    value = (value or "").strip()
    if not value:
        raise InvalidAddress("Enter an email address.")
    if len(value) > MAX_LENGTH:
        raise InvalidAddress(f"An email address has at most {MAX_LENGTH} characters.")
    try:
        result = validate_email(
            value,
            check_deliverability=check_deliverability,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    except (UnicodeError, ValueError) as exc:  # idna can fail on pathological labels
        raise InvalidAddress("This email address is not valid.") from exc
    normalised = result.normalized.lower()
    if len(normalised) > MAX_LENGTH:
        raise InvalidAddress(f"An email address has at most {MAX_LENGTH} characters.")
    return normalised


def address_hash(email: str) -> str:
    """The stable hash of an address (normalised first when it is valid)."""
    try:
        normal = normalise_email(email, check_deliverability=False)
    except InvalidAddress:
        normal = (email or "").strip().lower()
    return hashlib.sha256(_HASH_PREFIX + normal.encode("utf-8", "surrogatepass")).hexdigest()
