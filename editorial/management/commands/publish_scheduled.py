"""Publish every scheduled issue whose time has come: the safety net beside the task worker.

Idempotent: run it from cron every minute or so (`manage.py publish_scheduled`).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from editorial.scheduling import publish_due_issues


class Command(BaseCommand):
    help = "Publish every scheduled issue whose publication time has come."

    def handle(self, *args: object, **options: object) -> None:
        outcomes = publish_due_issues()
        for outcome in outcomes:
            if outcome.published:
                self.stdout.write(f"Published issue {outcome.issue_id}.")
            else:
                self.stderr.write(f"Issue {outcome.issue_id} not published: {outcome.reason}")
        if not outcomes:
            self.stdout.write("No scheduled issue is due.")
