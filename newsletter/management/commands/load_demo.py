"""`manage.py load_demo`: the demo publication (issue #2 of the ML Safety Newsletter and generated
issues around it). Safe to run again: it updates what is there and never duplicates."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from newsletter.demo.loader import load_demo


class Command(BaseCommand):
    help = "Load the demo publication: the seed issue #2, generated issues #1 and #3-#25, their figures."

    def handle(self, *args: object, **options: object) -> None:
        result = load_demo()
        self.stdout.write(self.style.SUCCESS(str(result)))
