"""manage.py export_subscribers: write subscribers as CSV (the import's columns first)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from newsletter.models import Section
from subscribers.exporting import write_csv
from subscribers.models import Subscriber


class Command(BaseCommand):
    help = "Export subscribers as CSV to standard output or a file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")
        parser.add_argument(
            "--status",
            action="append",
            choices=Subscriber.Status.values,
            help="Only subscribers with this status (repeatable). Default: all.",
        )
        parser.add_argument("--section", help="Only subscribers who receive this section (slug).")

    def handle(self, *args, output: str | None, status: list[str] | None, section: str | None, **options):
        subscribers = Subscriber.objects.all()
        if status:
            subscribers = subscribers.filter(status__in=status)
        if section:
            chosen = Section.objects.filter(slug=section).first()
            if chosen is None:
                raise CommandError(f"No section with slug {section!r}.")
            subscribers = subscribers.receiving_section(chosen)
        if output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                count = write_csv(subscribers, out)
            self.stderr.write(f"{count} subscribers written to {output}.")
        else:
            count = write_csv(subscribers, self.stdout)
            self.stderr.write(f"{count} subscribers written.")
