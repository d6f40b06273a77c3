"""`manage.py restore <backup>`: bring a fresh install back from a backup (operations/backups.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations import backups


class Command(BaseCommand):
    help = "Replace this site's database and media with a backup made by `manage.py backup`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source",
            help="a backup (a backup-<time> folder or s3:// prefix), or the folder or prefix of backups "
            "for the newest",
        )
        parser.add_argument(
            "--force", action="store_true", help="replace a database that already holds a publication"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with backups.fetched(options["source"]) as folder:
                report = backups.restore(folder, force=options["force"])
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored {report.rows} rows in {report.tables} tables and {report.media_files} media files "
            f"from {report.source.name}; every table has the backup's row count."
        )
        if report.migrations_to_apply:
            self.stdout.write(
                f"This code has {len(report.migrations_to_apply)} migrations the backup lacks: run "
                "`manage.py migrate` next."
            )
