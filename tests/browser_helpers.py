"""Helpers for the browser tests: content to browse, and one audit of a page as a reader meets it.

`audit_page` opens a URL the way a reader would, on a desktop and on a 390-px phone, and gathers
what the browser tests assert on: the status, console errors, axe-core violations and whether the
page scrolls sideways on the phone. It also leaves screenshots for a person to look at.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command, get_commands
from django.db.models import Count
from django.utils import timezone
from taggit.models import Tag

from newsletter.models import Author, Issue, Paper, Section
from tests import factories

PHONE_WIDTH = 390
PHONE_VIEWPORT = {"width": PHONE_WIDTH, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}
# axe-core impacts that fail a page; "moderate" and "minor" are reported but do not fail it.
BLOCKING_IMPACTS = {"serious", "critical"}


def load_content() -> str:
    """The demo publication when its loader exists, else a small stand-in; returns which it used."""
    if "load_demo" in get_commands():
        call_command("load_demo", stdout=io.StringIO(), stderr=io.StringIO())
        return "load_demo"
    build_small_content()
    return "factories"


def build_small_content() -> None:
    """Two published issues with adversarial-robustness summaries: enough for every kind of page."""
    robustness = factories.make_section("Robustness", position=0)
    monitoring = factories.make_section("Monitoring", position=1)
    author = factories.make_author("Dan Hendrycks", bio="Director of the Center for AI Safety.")
    for number in (1, 2):
        issue = factories.make_issue(
            number,
            title=f"Adversarial robustness, issue {number}",
            intro="Welcome to the **ML Safety Newsletter**.",
            published_at=timezone.now() - timedelta(days=30 * (3 - number)),
        )
        issue.authors.add(author)
        issue.tags.add("robustness")
        for position, section in enumerate([robustness, monitoring]):
            paper = factories.make_paper(
                f"Adversarial training paper {number}.{position}",
                url=f"https://arxiv.org/abs/2111.1512{number}{position}",
            )
            summary = factories.make_summary(
                issue,
                section,
                position=position,
                headline=f"Adversarial examples, part {number}.{position}",
                body="Adversarial training improves **robustness** on ImageNet.",
                paper=paper,
                writer=author,
            )
            summary.tags.add("adversarial", "robustness")


def public_paths() -> list[tuple[str, str]]:
    """(name, path) for one page of every kind of public page, picked from what is in the database."""
    published = Issue.objects.published()
    issue_number = 2 if published.filter(number=2).exists() else published.values_list("number", flat=True)[0]
    section = (
        Section.objects.filter(summaries__issue__in=published)
        .annotate(n=Count("summaries"))
        .order_by("-n", "position")
        .first()
    )
    author = (
        Author.objects.filter(summaries__issue__in=published).order_by("name").first()
        or Author.objects.filter(issues__in=published).order_by("name").first()
    )
    tag = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n", "slug").first()
    paper = Paper.objects.filter(summaries__issue__in=published).order_by("pk").first()
    paths = [
        ("home", "/"),
        ("issue-archive", "/issues/"),
        ("issue", f"/issues/{issue_number}/"),
        ("section", section.get_absolute_url()),
        ("author", author.get_absolute_url()),
        ("tag", f"/tags/{tag.slug}/"),
        ("paper-index", "/papers/"),
        ("paper", paper.get_absolute_url()),
        ("search", "/search/?q=adversarial"),
    ]
    return paths


@dataclass
class PageAudit:
    name: str
    url: str
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    phone_scroll_width: int = 0

    @property
    def blocking_violations(self) -> list[dict]:
        return [v for v in self.violations if v.get("impact") in BLOCKING_IMPACTS]

    def problems(self) -> list[str]:
        found = []
        if self.status != 200:
            found.append(f"status {self.status}")
        found += [f"console error: {message}" for message in self.console_errors]
        for violation in self.blocking_violations:
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            found.append(f"axe {violation['impact']} {violation['id']}: {violation['help']} [{targets}]")
        if self.phone_scroll_width > PHONE_WIDTH:
            found.append(f"scrolls sideways at {PHONE_WIDTH}px: scrollWidth {self.phone_scroll_width}")
        return found


def audit_page(page, name: str, url: str, artifacts_dir: Path) -> PageAudit:
    """Open `url` on a desktop and on a phone viewport and collect what a reader would trip over."""
    audit = PageAudit(name=name, url=url)
    errors_before = len(page.console_errors)
    page.set_viewport_size(DESKTOP_VIEWPORT)
    response = page.goto(url, wait_until="load")
    audit.status = response.status if response else None
    results = Axe().run(page)
    audit.violations = results.response["violations"]
    page.screenshot(path=str(artifacts_dir / f"public-{name}-desktop.png"), full_page=True)

    page.set_viewport_size(PHONE_VIEWPORT)
    page.wait_for_timeout(50)  # let the layout settle at the new width
    audit.phone_scroll_width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(artifacts_dir / f"public-{name}-phone.png"))
    audit.console_errors = page.console_errors[errors_before:]
    return audit


def minor_violations_report(audits: list[PageAudit]) -> list[str]:
    """The non-blocking axe findings, one line each, to print beside a passing test."""
    return [
        f"{audit.name}: axe {v['impact']} {v['id']} ({len(v['nodes'])} nodes)"
        for audit in audits
        for v in audit.violations
        if v.get("impact") not in BLOCKING_IMPACTS
    ]
