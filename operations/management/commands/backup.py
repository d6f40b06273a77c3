"""`manage.py backup`: a consistent snapshot of the database and the media (operations/backups.py).

Cron, nightly at 03:15, keeping BACKUP_KEEP backups in BACKUP_DIR (a folder, or s3://bucket/prefix):
    15 3 * * *  cd /srv/newsletter && .venv/bin/python manage.py backup
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations import backups


class Command(BaseCommand):
    help = "Back up the database and the media into a new folder, keeping the newest --keep backups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", default=str(settings.BACKUP_DIR), help="a folder, or s3://bucket/prefix (BACKUP_DIR)"
        )
        parser.add_argument(
            "--keep", type=int, default=settings.BACKUP_KEEP, help="how many to keep (BACKUP_KEEP)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if backups.is_s3(options["to"]):
                where = backups.take_to_s3(options["to"], options["keep"])
            else:
                where = str(backups.take(Path(options["to"]), options["keep"]))
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backed up the database and the media to {where}")
