"""manage.py import_substack EXPORT.zip [--dry-run] [--section-map "Heading=Section"]: a Substack
export's posts, readers and old links (importers/core.py does the work; docs/importing.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from importers.core import ExportError, parse_section_map, run_import
from importers.substack import SubstackExport


class Command(BaseCommand):
    help = (
        "Import a Substack export (the ZIP of Settings > Exports): newsletter posts become issues "
        "with their sections, summaries and papers; readers become subscribers (disabled ones go "
        "to the suppression list); /p/<slug> redirects to each issue. Running it again changes "
        "nothing. Nobody is emailed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("export", type=Path, help="The export ZIP, as Substack sends it.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; change nothing."
        )
        parser.add_argument(
            "--section-map",
            action="append",
            default=[],
            metavar="HEADING=SECTION",
            help="Put the summaries under a heading into a section of another name (repeatable).",
        )

    def handle(self, *args: Any, export: Path, dry_run: bool, section_map: list[str], **options: Any) -> None:
        try:
            mapping = parse_section_map(section_map)
        except ValueError as exc:
            raise CommandError(f"--section-map: {exc}") from exc
        if not export.is_file():
            raise CommandError(f"{export} is not a file.")
        verbosity = int(options.get("verbosity", 1))

        def progress(done: int, total: int) -> None:
            if verbosity > 1 and total:
                self.stderr.write(f"\r{done} of {total}", ending="")

        try:
            with SubstackExport(str(export)) as source:
                report = run_import(
                    source,
                    dry_run=dry_run,
                    section_map=mapping,
                    source_name=f"Substack export “{export.name}”",
                    progress=None if dry_run else progress,
                )
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        if verbosity > 1:
            self.stderr.write("")
        for line in report.lines():
            self.stdout.write(line)
