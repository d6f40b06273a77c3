"""CSV import of subscribers, shared by the admin and `manage.py import_subscribers`.

The file has a header row with an `email` column and optional `name` and `sections` columns
(sections: slugs or names separated by `;` or `|`; empty means all). Other columns are ignored,
so the export can be re-imported. Imported people become active subscribers at once, with the
consent basis the importer states recorded on each row (source: import).

Each row ends up in one of four buckets, reported with its line number:
- created: a new active subscriber;
- updated: a pending address made active, or an active one whose missing name was filled in
  (an existing subscriber's own choices of sections and format are never overwritten);
- skipped: a duplicate of an earlier row, a suppressed address (never re-added, whatever the
  reason), an address that left the list (only its owner can subscribe it again), or an
  active subscriber with nothing to change;
- invalid: a bad address or an unknown section.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction

from newsletter.models import Section

from . import subscriptions, suppression
from .addresses import InvalidAddress, normalise_email
from .models import Subscriber

MAX_ROWS = 100_000
_SECTION_SEPARATORS = re.compile(r"[;|]")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class RowResult:
    line: int
    email: str
    outcome: str  # created | updated | skipped | invalid
    message: str = ""


def _rows_counted(outcome: str) -> property:
    """A report's count of the rows with `outcome`, read as an attribute (`report.created`)."""
    return property(lambda report: sum(1 for row in report.rows if row.outcome == outcome))


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    created = _rows_counted("created")
    updated = _rows_counted("updated")
    skipped = _rows_counted("skipped")
    invalid = _rows_counted("invalid")

    def problems(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome in ("skipped", "invalid")]

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.skipped} skipped, {self.invalid} invalid"
        )


def read_csv(data: bytes | str) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts keyed by lower-cased header; ImportFileError if unreadable."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."
            ) from exc
    if "\x00" in data:
        raise ImportFileError("The file is not a CSV text file.")
    try:
        sample = data[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(data.lstrip("\ufeff")), dialect)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty.")
        header = [column.strip().lower() for column in header]
        if "email" not in header:
            raise ImportFileError("The first row must name the columns, one of them “email”.")
        rows = []
        for values in reader:
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"The file has more than {MAX_ROWS} rows; split it.")
            rows.append({column: (values[i] if i < len(values) else "") for i, column in enumerate(header)})
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV: {exc}") from exc
    return rows


def import_rows(rows: list[dict[str, str]], *, consent_basis: str, dry_run: bool = False) -> ImportReport:
    """Import parsed rows (see read_csv); with dry_run, report what would happen and change nothing."""
    if not consent_basis.strip():
        raise ImportFileError("State the consent basis: how and when these people agreed to receive it.")
    report = ImportReport()
    sections_by_key = _section_lookup()
    seen: dict[str, int] = {}
    with transaction.atomic():
        for index, row in enumerate(rows, start=2):  # line 1 is the header
            report.rows.append(_import_row(index, row, consent_basis, sections_by_key, seen))
        if dry_run:
            transaction.set_rollback(True)
    return report


def import_file(data: bytes | str, *, consent_basis: str, dry_run: bool = False) -> ImportReport:
    return import_rows(read_csv(data), consent_basis=consent_basis, dry_run=dry_run)


def _section_lookup() -> dict[str, Section]:
    lookup = {}
    for section in Section.objects.all():
        lookup[section.slug.lower()] = section
        lookup[section.name.strip().lower()] = section
    return lookup


def _import_row(
    line: int, row: dict[str, str], basis: str, sections_by_key: dict[str, Section], seen: dict[str, int]
) -> RowResult:
    raw_email = _unquote_cell((row.get("email") or "").strip())
    try:
        email = normalise_email(raw_email, check_deliverability=False)
    except InvalidAddress as exc:
        return RowResult(line, raw_email, "invalid", str(exc))
    name = _unquote_cell((row.get("name") or "").strip())[:200]
    section_keys = [key.strip().lower() for key in _SECTION_SEPARATORS.split(row.get("sections") or "")]
    section_keys = [key for key in section_keys if key]
    unknown = [key for key in section_keys if key not in sections_by_key]
    if unknown:
        return RowResult(line, email, "invalid", f"Unknown section: {', '.join(unknown)}.")
    sections = [sections_by_key[key] for key in section_keys] or None

    if email in seen:
        return RowResult(line, email, "skipped", f"Duplicate of line {seen[email]}.")
    seen[email] = line
    if suppression.is_suppressed(email):
        return RowResult(line, email, "skipped", "On the suppression list; never re-added.")

    existing = Subscriber.objects.filter(email=email).first()
    if existing is None:
        subscriptions.add_confirmed(
            email, name=name, sections=sections, source=Subscriber.Source.IMPORT, basis=basis
        )
        return RowResult(line, email, "created")
    if existing.status == Subscriber.Status.PENDING:
        subscriptions.add_confirmed(
            email, name=name, sections=sections, source=Subscriber.Source.IMPORT, basis=basis
        )
        return RowResult(line, email, "updated", "Was waiting for confirmation; now active.")
    if existing.status == Subscriber.Status.ACTIVE:
        if name and not existing.name:
            existing.name = name
            existing.save(update_fields=["name", "updated_at"])
            return RowResult(line, email, "updated", "Name added.")
        return RowResult(line, email, "skipped", "Already subscribed; their own choices are kept.")
    return RowResult(
        line, email, "skipped", f"{existing.get_status_display()}; only its owner can subscribe it again."
    )


def _unquote_cell(value: str) -> str:
    """Undo the export's formula defusing ("'=x" back to "=x")."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value
