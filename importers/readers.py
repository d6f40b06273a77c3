"""A platform's email list into our subscribers and suppression list, in bounded memory.

The rules are the subscriber CSV import's (subscribers/importing.py), applied a chunk of rows at
a time with a few queries per chunk instead of a few per row, so a list of 100,000 readers
streams through in seconds:

- the address is normalised (subscribers/addresses.py); a bad one is reported with its line;
- a reader whose email is disabled on the platform goes to the suppression list (reason
  "unsubscribed": only the person can lift it, by signing up again);
- any other reader becomes an active subscriber of every section, with a consent record saying
  where they came from and when they originally subscribed (`consent_at`, `confirmed_at`), the
  platform's paid-plan columns kept as a note in `consent_basis`;
- a suppressed address is never added; an existing subscriber keeps their own choices; a pending
  one becomes active; one who left the list (unsubscribed, bounced, complained) stays out;
- an address seen earlier in the file is a duplicate.

Nothing here sends or enqueues anything: importing never emails anyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import transaction
from django.utils import timezone

from subscribers.addresses import InvalidAddress, address_hash, normalise_email
from subscribers.models import Subscriber, Suppression
from subscribers.subscriptions import IMPORT_WORDING_VERSION

CHUNK = 1000
MAX_LISTED = 200  # problems listed in the report by line; the rest are counted


@dataclass(frozen=True)
class ReaderRecord:
    line: int
    email: str
    name: str = ""
    subscribed_at: datetime | None = None
    disabled: bool = False
    # The platform's columns worth keeping (a paid plan), as "column: value, ...".
    note: str = ""


@dataclass
class ReaderCounts:
    created: int = 0
    activated: int = 0
    already: int = 0
    left: int = 0
    suppressed: int = 0
    already_suppressed: int = 0
    refused_suppressed: int = 0
    duplicates: int = 0
    invalid: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return (
            self.created
            + self.activated
            + self.already
            + self.left
            + self.suppressed
            + self.already_suppressed
            + self.refused_suppressed
            + self.duplicates
            + self.invalid
        )

    def problem(self, line: int, email: str, message: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append({"line": line, "email": email, "message": message})


def import_readers(
    records: Iterable[ReaderRecord],
    *,
    platform: str,
    source_name: str,
    progress: Callable[[int], None] | None = None,
) -> ReaderCounts:
    """Import `records` (see the module docstring); `progress(n)` after each chunk of n rows."""
    counts = ReaderCounts()
    seen: set[bytes] = set()  # 8-byte digests of the addresses met so far: ~40 bytes a reader
    basis_prefix = f"Subscribed on {platform}"
    imported_on = timezone.localdate().isoformat()
    for chunk in _chunks(iter(records)):
        with transaction.atomic():
            _import_chunk(chunk, counts, seen, basis_prefix, f"{source_name}, imported on {imported_on}")
        if progress is not None:
            progress(len(chunk))
    return counts


def _chunks(records: Iterator[ReaderRecord]) -> Iterator[list[ReaderRecord]]:
    while chunk := list(islice(records, CHUNK)):
        yield chunk


def _digest(email: str) -> bytes:
    return hashlib.blake2b(email.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def _import_chunk(
    chunk: list[ReaderRecord], counts: ReaderCounts, seen: set[bytes], basis_prefix: str, source: str
) -> None:
    readers: dict[str, ReaderRecord] = {}
    for record in chunk:
        try:
            email = normalise_email(record.email, check_deliverability=False)
        except InvalidAddress as exc:
            counts.invalid += 1
            counts.problem(record.line, record.email.strip()[:254], str(exc))
            continue
        digest = _digest(email)
        if digest in seen:
            counts.duplicates += 1
            continue
        seen.add(digest)
        readers[email] = record
    hashes = {email: address_hash(email) for email in readers}
    suppressed = set(
        Suppression.objects.filter(email_hash__in=hashes.values()).values_list("email_hash", flat=True)
    )
    disabled = [email for email, record in readers.items() if record.disabled]
    _suppress(disabled, hashes, suppressed, counts, basis_prefix)
    enabled = [email for email, record in readers.items() if not record.disabled]
    existing = {subscriber.email: subscriber for subscriber in Subscriber.objects.filter(email__in=enabled)}
    new = []
    now = timezone.now()
    for email in enabled:
        record = readers[email]
        if hashes[email] in suppressed:
            counts.refused_suppressed += 1
            counts.problem(record.line, email, "On the suppression list; never re-added.")
            continue
        subscriber = existing.get(email)
        if subscriber is None:
            new.append(
                _consented(
                    Subscriber(email=email, email_hash=hashes[email]), record, basis_prefix, source, now
                )
            )
        elif subscriber.status == Subscriber.Status.PENDING:
            _consented(subscriber, record, basis_prefix, source, now)
            if record.name and not subscriber.name:
                subscriber.name = record.name[:200]
            subscriber.save()
            counts.activated += 1
        elif subscriber.status == Subscriber.Status.ACTIVE:
            counts.already += 1
        else:
            counts.left += 1
            counts.problem(
                record.line,
                email,
                f"{subscriber.get_status_display()} here; only its owner can subscribe it again.",
            )
    Subscriber.objects.bulk_create(new, batch_size=500)
    counts.created += len(new)


def _suppress(
    emails: list[str], hashes: dict[str, str], suppressed: set[str], counts: ReaderCounts, platform: str
) -> None:
    fresh = [email for email in emails if hashes[email] not in suppressed]
    counts.already_suppressed += len(emails) - len(fresh)
    Suppression.objects.bulk_create(
        [
            Suppression(
                email_hash=hashes[email],
                reason=Suppression.Reason.UNSUBSCRIBED,
                note=f"{platform}: email disabled there (imported)"[:500],
            )
            for email in fresh
        ],
        batch_size=500,
        ignore_conflicts=True,  # the same address suppressed meanwhile: one entry either way
    )
    counts.suppressed += len(fresh)
    suppressed.update(hashes[email] for email in fresh)


def _consented(
    subscriber: Subscriber, record: ReaderRecord, basis_prefix: str, source: str, now: datetime
) -> Subscriber:
    """`subscriber` made active with the import's consent record (as subscriptions.add_confirmed
    records staff consent, but dated when the reader originally subscribed)."""
    since = record.subscribed_at or now
    basis = f"{basis_prefix} on {since.date().isoformat()}" if record.subscribed_at else basis_prefix
    basis += f" ({source})."
    if record.note:
        basis += f" Paid-plan columns there: {record.note}."
    subscriber.name = subscriber.name or record.name[:200]
    subscriber.status = Subscriber.Status.ACTIVE
    subscriber.confirmed_at = since
    subscriber.consent_at = since
    subscriber.consent_ip = None
    subscriber.consent_user_agent = ""
    subscriber.consent_wording_version = IMPORT_WORDING_VERSION
    subscriber.consent_source = Subscriber.Source.IMPORT
    subscriber.consent_basis = basis
    return subscriber
