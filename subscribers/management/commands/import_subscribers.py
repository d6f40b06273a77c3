"""manage.py import_subscribers FILE.csv --consent "TEXT": add active subscribers from a CSV file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from subscribers.importing import ImportFileError, import_file


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file with an email column and optional name and sections "
        "columns. Imported rows become active subscribers; suppressed addresses are refused."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8), header row first.")
        parser.add_argument(
            "--consent",
            required=True,
            help="The consent basis, recorded on every imported row (how and when they agreed).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; change nothing."
        )

    def handle(self, *args, file: Path, consent: str, dry_run: bool, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        try:
            report = import_file(data, consent_basis=consent, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        for row in report.problems():
            self.stdout.write(f"line {row.line}: {row.outcome}: {row.email}: {row.message}")
        prefix = "Dry run, nothing saved: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{report.summary()}."))
