"""CSV export of subscribers, one writer shared by the admin's download and
`manage.py export_subscribers`.

The email, name and sections columns are the import's columns, so an export re-imports.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from .models import Subscriber

HEADER = [
    "email",
    "name",
    "sections",
    "status",
    "format",
    "paused_issues",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_source",
    "consent_at",
    "consent_basis",
]


def export_rows(subscribers: QuerySet[Subscriber]) -> Iterator[list[str]]:
    """Rows for a CSV export, header first, read from the database in chunks."""
    yield HEADER
    for subscriber in subscribers.prefetch_related("sections").order_by("pk").iterator(chunk_size=2000):
        yield [
            _safe_cell(subscriber.email),
            _safe_cell(subscriber.name),
            ";".join(section.slug for section in subscriber.sections.all()),
            subscriber.status,
            subscriber.format,
            str(subscriber.paused_issues),
            _iso(subscriber.created_at),
            _iso(subscriber.confirmed_at),
            _iso(subscriber.unsubscribed_at),
            subscriber.consent_source,
            _iso(subscriber.consent_at),
            _safe_cell(subscriber.consent_basis),
        ]


def csv_lines(subscribers: QuerySet[Subscriber]) -> Iterator[str]:
    """The export as CSV text, one line at a time: the admin streams these as its download."""
    writer = csv.writer(_Echo())
    for row in export_rows(subscribers):
        yield writer.writerow(row)


def write_csv(subscribers: QuerySet[Subscriber], out) -> int:
    """Write the export of `subscribers` to the text stream `out`; returns the number of subscribers."""
    count = -1
    for line in csv_lines(subscribers):
        out.write(line)
        count += 1
    return count


class _Echo:
    """A file whose write() hands the text back, so csv.writer's writerow() returns the line."""

    def write(self, value: str) -> str:
        return value


def _iso(value) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def _safe_cell(value: str) -> str:
    """Defuse spreadsheet formulas (CSV injection): a cell a person typed never starts with = + - @."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value
