"""Start, inspect or repair an issue's send from the command line; calls subscribers.sending.

manage.py send_issue 12                   send issue #12 to every mailable subscriber
manage.py send_issue 12 --again           send it again, only to those who did not get it
manage.py send_issue 12 --resend-unknown  queue again the deliveries whose outcome is unknown
manage.py send_issue --reap               the periodic step (cron it every minute):
                                          the rows of stopped workers are released (the
                                          message in hand becomes "unknown", the rest is
                                          queued again), lost batches are enqueued again
manage.py send_issue --reap --every 10    the same step every 10 seconds until stopped (beside
                                          the workers, under a process supervisor), so a
                                          stopped worker's rows are released within a minute
"""

from __future__ import annotations

import signal
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from newsletter.models import Issue
from subscribers import sending
from subscribers.models import Delivery, Send


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
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="With --reap: repeat it every SECONDS until stopped (SIGTERM or Ctrl-C).",
        )

    def handle(
        self,
        *args,
        number=None,
        again=False,
        resend_unknown=False,
        status=False,
        reap=False,
        every=None,
        **options,
    ):
        if every is not None:
            if not reap or number is not None:
                raise CommandError("--every repeats --reap; give it with --reap and no issue number.")
            self._reap_every(every)
            return
        if reap:
            self.stdout.write(self._describe(sending.sweep()))
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

    @staticmethod
    def _describe(outcome: dict) -> str:
        return (
            f"Reaped {outcome['reaped']} deliveries ({outcome['unknown']} unknown, "
            f"{outcome['requeued']} queued again); enqueued {outcome['batches']} batches."
        )

    def _reap_every(self, seconds: float) -> None:
        """The periodic step in a loop; prints only the runs that did something."""
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                outcome = sending.sweep()
                if outcome["reaped"] or outcome["batches"]:
                    self.stdout.write(f"{time.strftime('%H:%M:%S')} {self._describe(outcome)}")
                    self.stdout.flush()
                time.sleep(max(seconds, 0.1))
        except KeyboardInterrupt:
            return

    def _resend_unknown(self, issue: Issue) -> None:
        total = 0
        for send in Send.objects.filter(issue=issue, deliveries__status=Delivery.Status.UNKNOWN).distinct():
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
