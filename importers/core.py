"""The importer core: a platform's posts and readers into issues, sections, summaries, papers,
figures, redirects and subscribers. Format adapters (substack.py) only read their export into
`PostRecord`s and `ReaderRecord`s and take their own chrome out of the HTML.

- Each newsletter post becomes an issue: its number from the title ("#4", "Issue 4", "No. 4"),
  else the next free number in date order; its title (without the number), its subtitle as the
  preheader, its date as `published_at`, published or draft as the post was. Other kinds (pages,
  podcasts, threads) are reported, not imported.
- The body's structure is recovered by structure.py; sections are matched by name or slug (after
  the section map), created when missing; papers come from the paper index (newsletter/papers.py:
  one row per arXiv id, DOI or URL), created when new.
- Images are fetched once per URL (images.py) before the post's rows are written, so no database
  transaction waits on the network; a failed one is listed in the report and the post goes on.
- Every post is written in its own transaction with the row that maps it to its source id
  (`ImportedPost`), so a second run skips what the first one made, and a failed post leaves
  nothing half-made. A dry run does the same work inside one transaction that is rolled back,
  without fetching images, so its report is what the import will do.
- Importing never emails anyone: issues are written in their final state, not moved through the
  workflow (whose "send when published" hook is the only way an issue reaches subscribers).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from bs4 import Tag
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from newsletter.models import Issue, Paper, PaperSummary, Section
from newsletter.papers import InvalidPaperReference, find_or_create_paper, parse_paper_link

from . import structure
from .images import ImageFetcher, url_hash
from .models import ImportedImage, ImportedPost, Redirect
from .readers import ReaderCounts, ReaderRecord, import_readers

__all__ = ["ExportError", "PostRecord", "ReaderRecord", "Report", "run_import"]

_NUMBER = re.compile(r"(?:#\s?|\bissue\s+(?:no\.?\s*|#\s?)?|\bno\.\s?|\bnumber\s+)(\d{1,5})\b", re.IGNORECASE)
_SEPARATORS = " \t-–—:|#,."
NOT_ISSUES = {
    "page": "a page, not an issue",
    "podcast": "a podcast episode, not an issue",
    "thread": "a discussion thread, not an issue",
    "video": "a video post, not an issue",
}


class ExportError(Exception):
    """The export as a whole cannot be read; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class PostRecord:
    source_id: str
    line: int
    slug: str
    kind: str  # "newsletter" for an issue; anything else is reported, not imported
    title: str
    subtitle: str = ""
    published: bool = False
    date: datetime | None = None
    sort_key: int = 0
    old_paths: tuple[str, ...] = ()


class Source(Protocol):
    platform: str

    def posts(self) -> Iterator[PostRecord]: ...

    def post_html(self, post: PostRecord) -> str | None: ...

    def readers(self) -> Iterator[ReaderRecord]: ...

    def count_readers(self) -> int: ...

    def remove_chrome(self, root: Tag) -> None: ...


@dataclass
class Report:
    """What an import did (or, for a dry run, will do): stored as JSON on the run and printed."""

    dry_run: bool = False
    platform: str = ""
    issues: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    not_imported: list[dict[str, Any]] = field(default_factory=list)
    sections_created: list[str] = field(default_factory=list)
    sections_matched: list[str] = field(default_factory=list)
    papers_created: int = 0
    papers_reused: int = 0
    summaries: dict[str, int] = field(default_factory=dict)
    images_stored: int = 0
    images_reused: int = 0
    images_to_fetch: int = 0
    images_failed: list[dict[str, str]] = field(default_factory=list)
    redirects_created: int = 0
    redirects_kept: int = 0
    readers: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known)

    def lines(self) -> list[str]:
        """The report as a person reads it (the command prints these; the admin shows the same)."""
        prefix = "Dry run, nothing saved. Would import" if self.dry_run else "Imported"
        drafts = sum(1 for issue in self.issues if issue["status"] == Issue.Status.DRAFT)
        out = [f"{prefix} {len(self.issues)} issues ({drafts} drafts)."]
        out += [
            f"  #{issue['number']} {issue['title']} ({issue['status']}, {issue['summaries']} summaries)"
            for issue in self.issues
        ]
        if self.unchanged:
            out.append(f"Already imported, left as they are: {len(self.unchanged)} posts.")
        for post in self.not_imported:
            out.append(f"Not imported: {post['source_id']} “{post['title']}”: {post['reason']}.")
        if self.sections_created:
            out.append("Sections created: " + ", ".join(self.sections_created) + ".")
        if self.sections_matched:
            out.append("Sections matched: " + ", ".join(self.sections_matched) + ".")
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.summaries.items()))
        out.append(f"Summaries: {kinds or 'none'}.")
        out.append(f"Papers: {self.papers_created} new, {self.papers_reused} already in the paper index.")
        if self.dry_run:
            out.append(f"Images: {self.images_to_fetch} to fetch, {self.images_reused} fetched before.")
        else:
            out.append(f"Images: {self.images_stored} fetched, {self.images_reused} fetched before.")
        for image in self.images_failed:
            out.append(f"Image not imported: {image['url']} ({image['post']}): {image['reason']}")
        out.append(f"Redirects: {self.redirects_created} new, {self.redirects_kept} already there.")
        if self.readers:
            r = self.readers
            out.append(
                f"Readers: {r['created']} new subscribers, {r['activated']} pending made active, "
                f"{r['already']} already subscribed, {r['suppressed']} added to the suppression list "
                f"({r['already_suppressed']} were on it), {r['refused_suppressed']} suppressed not "
                f"re-added, {r['left']} who left this list kept out, {r['duplicates']} duplicates, "
                f"{r['invalid']} invalid."
            )
            for problem in r.get("problems", []):
                out.append(f"  line {problem['line']}: {problem['email']}: {problem['message']}")
        out += self.notes
        return out


ProgressCallback = Callable[[int, int], None]


def run_import(
    source: Source,
    *,
    dry_run: bool = False,
    section_map: dict[str, str] | None = None,
    user: User | None = None,
    source_name: str = "",
    progress: ProgressCallback | None = None,
) -> Report:
    """Import `source` (see the module docstring); `progress(done, total)` as items finish."""
    if dry_run:
        with transaction.atomic():
            report = _Importer(source, True, section_map or {}, user, source_name, None).run()
            transaction.set_rollback(True)
        return report
    return _Importer(source, False, section_map or {}, user, source_name, progress).run()


def parse_section_map(lines: Iterable[str]) -> dict[str, str]:
    """ "Old name=New name" pairs (one per line or argument) as a map; ValueError names a bad one."""
    mapping = {}
    for line in lines:
        for part in line.splitlines():
            if not part.strip():
                continue
            old, sep, new = part.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise ValueError(f"“{part.strip()}” is not “Heading in the export=Section here”.")
            mapping[_key(old)] = new.strip()[:100]
    return mapping


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


class _Importer:
    def __init__(
        self,
        source: Source,
        dry_run: bool,
        section_map: dict[str, str],
        user: User | None,
        source_name: str,
        progress: ProgressCallback | None,
    ) -> None:
        self.source = source
        self.dry_run = dry_run
        self.section_map = section_map
        self.user = user if user is not None and user.pk is not None else None
        self.source_name = source_name or f"{source.platform} export"
        self.progress = progress
        self.report = Report(dry_run=dry_run, platform=source.platform)
        self.fetcher = ImageFetcher()
        self.sections: dict[str, Section] = {}
        self.planned_images: set[str] = set()
        self.done = 0
        self.total = 0

    def run(self) -> Report:
        posts = list(self.source.posts())  # a few fields per post: the bodies are read one at a time
        issues = [post for post in posts if post.kind == "newsletter"]
        for post in posts:
            if post.kind != "newsletter":
                reason = NOT_ISSUES.get(post.kind, f"a post of type “{post.kind}”, not an issue")
                self._not_imported(post, reason)
        mapped = dict(
            ImportedPost.objects.filter(
                platform=self.source.platform, source_id__in=[post.source_id for post in issues]
            ).values_list("source_id", "issue_id")
        )
        fresh = [post for post in issues if post.source_id not in mapped]
        numbers = self._numbers(fresh)
        readers = self.source.count_readers() if self.progress is not None else 0
        self.total = len(issues) + readers
        self._tick(0)
        for post in issues:
            if post.source_id in mapped:
                self._unchanged(post, mapped[post.source_id])
            else:
                self._import_post(post, numbers[post.source_id])
            self._tick(1)
        self._import_readers()
        return self.report

    def _tick(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)

    def _not_imported(self, post: PostRecord, reason: str) -> None:
        self.report.not_imported.append(
            {"source_id": post.source_id, "title": post.title, "kind": post.kind, "reason": reason}
        )

    # Numbers ------------------------------------------------------------------------------

    def _numbers(self, posts: list[PostRecord]) -> dict[str, int]:
        """Each new post's issue number: its title's, else the next free one in date order."""
        taken = set(Issue.objects.values_list("number", flat=True))
        from_title: dict[str, int] = {}
        for post in posts:
            number = title_number(post.title)
            if number is None or number < 1:
                continue
            if number in taken:
                self.report.notes.append(
                    f"“{post.title}”: issue #{number} already exists here; "
                    "the post gets the next free number."
                )
                continue
            taken.add(number)
            from_title[post.source_id] = number
        numbers = dict(from_title)
        previous = 0
        for post in sorted(posts, key=_date_order):
            if post.source_id in numbers:
                previous = numbers[post.source_id]
                continue
            number = previous + 1
            while number in taken:
                number += 1
            taken.add(number)
            numbers[post.source_id] = previous = number
        return numbers

    # One post -----------------------------------------------------------------------------

    def _unchanged(self, post: PostRecord, issue_id: int) -> None:
        issue = Issue.objects.filter(pk=issue_id).first()
        self.report.unchanged.append(
            {"source_id": post.source_id, "number": issue.number if issue else None, "title": post.title}
        )
        if issue is not None:
            for path in post.old_paths:
                self._redirect(path, issue)

    def _import_post(self, post: PostRecord, number: int) -> None:
        html = self.source.post_html(post)
        if html is None:
            self._not_imported(post, "the export has no HTML file for it")
            return
        root = structure.parse(html)
        self.source.remove_chrome(root)
        known = [*self.section_map, *Section.objects.values_list("name", flat=True)]
        recovered = structure.recover(root, known_sections=known)
        self.report.notes += [f"{post.source_id}: {note}" for note in recovered.notes]
        self._fetch_images(post, recovered)
        with transaction.atomic():
            issue = self._write_issue(post, number, recovered)
        self.report.issues.append(
            {
                "source_id": post.source_id,
                "number": issue.number,
                "title": issue.title,
                "status": issue.status,
                "summaries": sum(len(section.summaries) for section in recovered.sections),
                "sections": [section.heading for section in recovered.sections],
            }
        )

    def _fetch_images(self, post: PostRecord, recovered: structure.RecoveredIssue) -> None:
        urls = list(recovered.intro_images)
        for summary in recovered.summaries:
            if summary.figure is not None:
                urls.append(summary.figure.url)
            urls += summary.images
        for url in dict.fromkeys(urls):
            if self.dry_run:
                if url in self.planned_images:
                    continue
                self.planned_images.add(url)
                if ImportedImage.objects.filter(url_hash=url_hash(url)).exists():
                    self.report.images_reused += 1
                else:
                    self.report.images_to_fetch += 1
                continue
            known = url in self.fetcher.stored or url in self.fetcher.failed
            image = self.fetcher.get(url)
            if known:
                continue
            if image is None:
                self.report.images_failed.append(
                    {"url": url, "post": post.source_id, "reason": self.fetcher.failed[url]}
                )
        if not self.dry_run:
            self.report.images_stored = self.fetcher.fetched
            self.report.images_reused = self.fetcher.reused

    def _write_issue(self, post: PostRecord, number: int, recovered: structure.RecoveredIssue) -> Issue:
        published = post.published
        published_at = post.date if published else None
        if published and published_at is None:
            published_at = timezone.now()
            self.report.notes.append(f"{post.source_id}: published without a date; dated now.")
        issue = Issue(
            number=number,
            title=clean_title(post.title, post.subtitle) or post.slug,
            slug=slugify(post.slug or post.title)[:200],
            preheader=" ".join(post.subtitle.split())[:200],
            intro=self._local_images(recovered.intro),
            status=Issue.Status.PUBLISHED if published else Issue.Status.DRAFT,
            published_at=published_at,
            created_by=self.user,
            last_edited_by=self.user,
        )
        issue.save()
        for section_content in recovered.sections:
            section = self._section(section_content.heading)
            for position, summary in enumerate(section_content.summaries):
                self._write_summary(issue, section, position, summary, post)
        ImportedPost.objects.create(platform=self.source.platform, source_id=post.source_id, issue=issue)
        for path in post.old_paths:
            self._redirect(path, issue)
        return issue

    def _write_summary(
        self,
        issue: Issue,
        section: Section,
        position: int,
        content: structure.RecoveredSummary,
        post: PostRecord,
    ) -> None:
        summary = PaperSummary(
            issue=issue,
            section=section,
            position=position,
            kind=content.kind,
            headline=content.headline[:300],
            body=self._local_images(content.body),
            paper=self._paper(content, post),
        )
        if content.figure is not None:
            summary.figure_caption = content.figure.caption[:500]
            summary.figure_alt = content.figure.alt[:500]
            image = self.fetcher.stored.get(content.figure.url)
            if image is not None:
                summary.figure = image.name
        summary.save()
        self.report.summaries[content.kind] = self.report.summaries.get(content.kind, 0) + 1

    def _local_images(self, markdown: str) -> str:
        for url in self.fetcher.stored:
            local = self.fetcher.local_url(url)
            if local:
                markdown = markdown.replace(f"]({url})", f"]({local})")
        return markdown

    def _paper(self, content: structure.RecoveredSummary, post: PostRecord) -> Paper | None:
        if not content.paper_link:
            return None
        try:
            link = parse_paper_link(content.paper_link)
            reference = dataclasses.replace(link, title=" ".join(content.paper_title.split())[:500])
            paper, created = find_or_create_paper(reference)
        except InvalidPaperReference as exc:
            self.report.notes.append(f"{post.source_id}: “{content.headline[:80]}”: no paper ({exc.message})")
            return None
        if created:
            self.report.papers_created += 1
        else:
            self.report.papers_reused += 1
        return paper

    # Sections and redirects ---------------------------------------------------------------

    def _section(self, heading: str) -> Section:
        key = _key(heading)
        if key in self.sections:
            return self.sections[key]
        name = self.section_map.get(key, heading)[:100]
        slug = slugify(name)[:100] or "section"
        section = (
            Section.objects.filter(name__iexact=name).first() or Section.objects.filter(slug=slug).first()
        )
        if section is None:
            position = (Section.objects.aggregate(top=Max("position"))["top"] or 0) + 1
            section = Section.objects.create(name=name, slug=_free_slug(slug), position=position)
            self.report.sections_created.append(section.name)
        elif (
            section.name not in self.report.sections_matched
            and section.name not in self.report.sections_created
        ):
            self.report.sections_matched.append(section.name)
        self.sections[key] = section
        return section

    def _redirect(self, path: str, issue: Issue) -> None:
        path = normalise_path(path)
        existing = Redirect.objects.filter(old_path=path).first()
        if existing is None:
            Redirect.objects.create(old_path=path, issue=issue, platform=self.source.platform)
            self.report.redirects_created += 1
        elif existing.issue_id == issue.pk:
            self.report.redirects_kept += 1
        else:
            self.report.notes.append(f"{path} already redirects to {existing.target()}; left as it is.")

    # Readers ------------------------------------------------------------------------------

    def _import_readers(self) -> None:
        counts: ReaderCounts = import_readers(
            self.source.readers(),
            platform=self.source.platform.capitalize(),
            source_name=self.source_name,
            progress=(lambda count: self._tick(count)) if self.progress is not None else None,
        )
        self.report.readers = dict(counts.__dict__)


def title_number(title: str) -> int | None:
    match = _NUMBER.search(title or "")
    return int(match.group(1)) if match else None


def clean_title(title: str, subtitle: str = "") -> str:
    """The title without its issue number ("ML Safety Newsletter #4: Agents" is "Agents"); the
    subtitle when nothing but the publication's name is left."""
    title = " ".join((title or "").split())
    cleaned = _NUMBER.sub("", title).strip(_SEPARATORS)
    site = settings.SITE_NAME.casefold()
    if cleaned.casefold().startswith(site):
        cleaned = cleaned[len(site) :].strip(_SEPARATORS)
    if not cleaned:
        cleaned = " ".join(subtitle.split()) or title
    return cleaned[:200]


def normalise_path(path: str) -> str:
    path = "/" + path.split("?", 1)[0].split("#", 1)[0].strip().strip("/")
    return path[:500]


def _date_order(post: PostRecord) -> tuple[bool, datetime, int]:
    return (post.date is None, post.date or datetime.max.replace(tzinfo=UTC), post.sort_key)


def _free_slug(slug: str) -> str:
    candidate, suffix = slug, 2
    while Section.objects.filter(slug=candidate).exists():
        candidate = f"{slug[:95]}-{suffix}"
        suffix += 1
    return candidate
