"""Write an issue's email (HTML and plain text) to files, to look at it in a browser or an editor."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsletter.models import Issue, Section
from newsletter.rendering import EmailFormat, preview_values, render_issue_email


class Command(BaseCommand):
    help = "Render issue NUMBER as an email and write issue-<n>.html and issue-<n>.txt."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", type=int)
        parser.add_argument("--sections", default="", help="Comma-separated section slugs (default: all).")
        parser.add_argument("--format", choices=EmailFormat.values, default=EmailFormat.HTML)
        parser.add_argument("--out", default=".", help="The folder to write to (default: here).")
        parser.add_argument(
            "--keep-placeholders",
            action="store_true",
            help="Leave {{unsubscribe_url}} and the other per-recipient tokens as they are.",
        )

    def handle(
        self,
        *args: object,
        number: int,
        sections: str,
        format: str,
        out: str,
        keep_placeholders: bool,
        **options: object,
    ) -> None:
        try:
            issue = Issue.objects.get(number=number)
        except Issue.DoesNotExist as exc:
            raise CommandError(f"There is no issue #{number}.") from exc
        slugs = [slug.strip() for slug in sections.split(",") if slug.strip()]
        unknown = set(slugs) - set(Section.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        if unknown:
            raise CommandError(f"No section has the slug {', '.join(sorted(unknown))}.")
        rendered = render_issue_email(issue, sections=slugs or None, fmt=format)
        if not keep_placeholders:
            rendered = rendered.personalize(preview_values(issue))

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / f"issue-{number}.txt"]
        paths[0].write_text(rendered.text, encoding="utf-8")
        if rendered.html:
            paths.append(folder / f"issue-{number}.html")
            paths[1].write_text(rendered.html, encoding="utf-8")
        self.stdout.write(f"Subject: {rendered.subject}")
        for path in paths:
            self.stdout.write(f"Wrote {path} ({path.stat().st_size:,} bytes)")
