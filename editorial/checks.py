"""Pre-publish checks: what must hold before an issue goes public.

`run_checks(issue)` returns every check with its verdict (the admin lists them green or red);
`workflow.publish` and `workflow.schedule` refuse while one fails. Each check is a small function
returning the problems it found, in sentences an editor can act on.

Decisions:
- "No section is empty": the issue has at least one summary, and no feature summary has an
  empty body (a feature without text is a section block with nothing to read).
- Alt text: every figure has its alt text, and so does every image in the intro and in the
  summaries' text; the placeholder the editor inserts with a dropped image counts as none.
- Links: every link in the intro and summaries, and every paper link, is an absolute https URL
  with a host. In-page anchors ("#notes") and mailto: links are allowed as they are.
- The issue number: not taken by another issue, and exactly one more than the highest number
  already published or scheduled to go out before this one (with none, any positive number).
  An issue that was published before (and unpublished) may come back under its own number.
- Math: every `$...$` and `$$...$$` in the intro and the summaries is TeX that latex2mathml
  renders. Invalid TeX shows on the page as its source (newsletter/math.py), and, like a broken
  link, fails the check until it is fixed or its dollars are escaped (`\\$`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.db.models import Max, Q

from newsletter.checks import PREHEADER_MAX, SUBJECT_MAX, subject_and_preheader_fit
from newsletter.models import Issue, PaperSummary
from newsletter.rendering import math_problems
from newsletter.uploads import ALT_PLACEHOLDER

_HREF = re.compile(r'\shref="([^"]*)"')
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", re.IGNORECASE)


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def run_checks(issue: Issue, as_of: datetime | None = None) -> list[CheckResult]:
    """Every check on `issue`; `as_of` is when it would go public (for the numbering check)."""
    summaries = list(
        PaperSummary.objects.filter(issue=issue)
        .select_related("section", "paper")
        .order_by("section__position", "position", "pk")
    )
    return [CheckResult(name, label, check(issue, summaries, as_of)) for name, label, check in CHECKS]


def failing(results: list[CheckResult]) -> list[CheckResult]:
    return [result for result in results if not result.passed]


def _label(summary: PaperSummary) -> str:
    return f"“{summary.headline}” ({summary.section.name})"


def papers_linked(issue: Issue, summaries: list[PaperSummary], as_of: datetime | None) -> list[str]:
    needs_paper = {PaperSummary.Kind.FEATURE, PaperSummary.Kind.BRIEF}
    return [
        f"{_label(summary)} links no paper."
        for summary in summaries
        if summary.kind in needs_paper and summary.paper_id is None
    ]


class _Images(HTMLParser):
    """The (src, alt) of every <img> in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            self.found.append((values.get("src") or "", values.get("alt") or ""))


def _images(html: str) -> list[tuple[str, str]]:
    parser = _Images()
    parser.feed(html)
    parser.close()
    return parser.found


def _is_placeholder(alt: str) -> bool:
    return " ".join(alt.split()).casefold() == ALT_PLACEHOLDER.casefold()


def figures_described(issue: Issue, summaries: list[PaperSummary], as_of: datetime | None) -> list[str]:
    problems = [
        f"The figure of {_label(summary)} has no alt text."
        for summary in summaries
        if summary.figure and not summary.figure_alt.strip()
    ]
    places = [("the intro", issue.intro_html)] + [
        (f"the text of {_label(summary)}", summary.body_html) for summary in summaries
    ]
    for place, html in places:
        for src, alt in _images(html):
            if not alt.strip():
                problems.append(f"An image in {place} has no alt text ({src}).")
            elif _is_placeholder(alt):
                problems.append(
                    f"An image in {place} still has the placeholder alt text ({src}): describe what it shows."
                )
    return problems


def no_empty_section(issue: Issue, summaries: list[PaperSummary], as_of: datetime | None) -> list[str]:
    if not summaries:
        return ["The issue has no summaries."]
    return [
        f"The feature {_label(summary)} has no text."
        for summary in summaries
        if summary.kind == PaperSummary.Kind.FEATURE and not summary.body.strip()
    ]


def is_https_url(url: str) -> bool:
    """An absolute https URL with a well-formed host and no spaces."""
    if not url or any(character.isspace() for character in url):
        return False
    try:
        parts = urlsplit(url)
        hostname = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme == "https" and bool(_HOST.match(hostname))


def _links(html: str) -> list[str]:
    return [unescape(match) for match in _HREF.findall(html)]


def links_well_formed(issue: Issue, summaries: list[PaperSummary], as_of: datetime | None) -> list[str]:
    problems = []
    places = [("the intro", issue.intro_html, "")] + [
        (_label(summary), summary.body_html, summary.paper.link if summary.paper else "")
        for summary in summaries
    ]
    for place, html, paper_link in places:
        links = _links(html) + ([paper_link] if paper_link else [])
        for link in links:
            if link.startswith("#") or link.startswith("mailto:"):
                continue
            if not is_https_url(link):
                problems.append(
                    f"{place.capitalize() if place == 'the intro' else place}: “{link}” is not an https link."
                )
    return problems


def math_is_valid(issue: Issue, summaries: list[PaperSummary], as_of: datetime | None) -> list[str]:
    places = [("the intro", issue.intro, issue.intro_html)] + [
        (_label(summary), summary.body, summary.body_html) for summary in summaries
    ]
    return [
        f"Math in {place} is not valid TeX and shows as its source: {problem}"
        for place, text, html in places
        # Only a text whose stored HTML shows a math error is rendered again, to say why.
        if 'class="math-error"' in html
        for problem in math_problems(text)
    ]


def no_unresolved_comments(issue: Issue, summaries: list[PaperSummary], as_of: datetime | None) -> list[str]:
    from .models import ReviewComment

    count = ReviewComment.objects.unresolved().filter(issue=issue).count()
    if not count:
        return []
    return [f"{count} review comment{' is' if count == 1 else 's are'} not resolved."]


def number_is_next(issue: Issue, summaries: list[PaperSummary], as_of: datetime | None) -> list[str]:
    from .models import Transition

    others = Issue.objects.exclude(pk=issue.pk)
    if others.filter(number=issue.number).exists():
        return [f"Issue number {issue.number} is taken by another issue."]
    before = Q(status=Issue.Status.PUBLISHED)
    if issue.is_published:  # an issue already out is judged against those that went out before it
        before &= Q(published_at__lt=issue.published_at)
    if as_of is not None:
        before |= Q(status=Issue.Status.SCHEDULED, scheduled_for__lt=as_of)
    highest = others.filter(before).aggregate(highest=Max("number"))["highest"]
    if highest is None or issue.number == highest + 1:
        return []
    was_published = Transition.objects.filter(issue=issue, to_status=Issue.Status.PUBLISHED).exists()
    if was_published and issue.number < highest:
        return []
    return [f"The issue number should be {highest + 1}, the next after #{highest}; it is {issue.number}."]


Check = Callable[[Issue, list[PaperSummary], "datetime | None"], list[str]]
CHECKS: list[tuple[str, str, Check]] = [
    ("papers", "Every feature and brief links its paper", papers_linked),
    ("alt_text", "Every figure and image has alt text", figures_described),
    ("sections", "No section is empty", no_empty_section),
    (
        "lengths",
        f"Subject fits {SUBJECT_MAX} characters, preheader {PREHEADER_MAX}",
        subject_and_preheader_fit,
    ),
    ("links", "Every link is a well-formed https URL", links_well_formed),
    ("math", "All math is valid TeX", math_is_valid),
    ("comments", "No unresolved review comments", no_unresolved_comments),
    ("number", "The issue number is the next free one", number_is_next),
]
