"""manage.py purge_pending_subscribers: delete sign-ups never confirmed (run it daily, e.g. from cron)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from subscribers.subscriptions import STALE_PENDING_AFTER, purge_stale_pending


class Command(BaseCommand):
    help = (
        "Delete pending subscribers who did not confirm within --days days (default 30; at least 8, "
        "so no confirmation link still working is orphaned)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=STALE_PENDING_AFTER.days)

    def handle(self, *args, days: int, **options) -> None:
        count = purge_stale_pending(timedelta(days=max(days, 8)))
        self.stdout.write(f"{count} unconfirmed sign-ups deleted.")
