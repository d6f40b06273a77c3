"""Start, inspect or repair an issue's send from the command line; calls subscribers.sending.

manage.py send_issue 12                   send issue #12 to every mailable subscriber
manage.py send_issue 12 --again           send it again, only to those who did not get it
manage.py send_issue 12 --resend-unknown  queue again the deliveries whose outcome is unknown
manage.py send_issue --reap               the periodic step (cron it every few minutes):
                                          expired leases become "unknown", lost batches
                                          are enqueued again
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from newsletter.models import Issue
from subscribers import sending
from subscribers.models import Send


class Command(BaseCommand):
    help = "Send an issue to its subscribers (through the task queue), or reap stuck deliveries."

    def add_arguments(self, parser):
        parser.add_argument("number", nargs="?", type=int, help="The issue number.")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--again", action="store_true", help="Send only to those who did not get it.")
        group.add_argument(
            "--resend-unknown",
            action="store_true",
            help="Queue again the deliveries with an unknown outcome.",
        )
        group.add_argument("--status", action="store_true", help="Show the progress of the issue's sends.")
        parser.add_argument("--reap", action="store_true", help="Reap expired leases and re-dispatch sends.")

    def handle(
        self, *args, number=None, again=False, resend_unknown=False, status=False, reap=False, **options
    ):
        if reap:
            outcome = sending.sweep()
            self.stdout.write(
                f"Reaped {outcome['reaped']} deliveries; enqueued {outcome['batches']} batches."
            )
        if number is None:
            if not reap:
                raise CommandError("Give an issue number, or --reap.")
            return
        try:
            issue = Issue.objects.get(number=number)
        except Issue.DoesNotExist as exc:
            raise CommandError(f"There is no issue #{number}.") from exc
        try:
            if status:
                self._status(issue)
            elif resend_unknown:
                self._resend_unknown(issue)
            else:
                kind = Send.Kind.RESEND if again else Send.Kind.FULL
                send = sending.start_send(issue, kind=kind)
                self.stdout.write(f"Send {send.pk} started: {send.recipient_count} recipients.")
        except sending.SendRefused as exc:
            raise CommandError(exc.message) from exc

    def _resend_unknown(self, issue: Issue) -> None:
        total = 0
        for send in Send.objects.filter(issue=issue, deliveries__status="unknown").distinct():
            total += sending.resend_unknown(send)
        if not total:
            raise CommandError(f"No delivery of issue #{issue.number} has an unknown outcome.")
        self.stdout.write(f"{total} deliveries queued again.")

    def _status(self, issue: Issue) -> None:
        for send in Send.objects.filter(issue=issue).order_by("created_at"):
            data = sending.progress(send)
            self.stdout.write(
                f"Send {send.pk} ({send.get_kind_display()}, {data['status_label']}): {data['sent']} sent, "
                f"{data['failed']} failed, {data['unknown']} unknown, {data['skipped']} skipped, "
                f"{data['remaining']} remaining of {data['total']}."
            )
