"""The one set of factories for tests: content (sections, issues, papers, summaries, whole
archives), subscribers and staff users in a role, each with sensible defaults."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Iterable
from datetime import timedelta
from io import BytesIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from newsletter.models import Author, Issue, Paper, PaperSummary, Section
from subscribers.models import Subscriber

_numbers = itertools.count(1000)
_arxiv = itertools.count(10000)
_addresses = itertools.count(1)

SECTION_NAMES = ("Robustness", "Monitoring", "Alignment")
ARCHIVE_SECTION_NAMES = (*SECTION_NAMES, "Other News")  # the archive also shows a news section

# Content ---------------------------------------------------------------------------------------


def make_section(name: str = "Robustness", position: int = 0, **fields) -> Section:
    slug = fields.pop("slug", name.lower().replace(" ", "-"))
    return Section.objects.create(name=name, slug=slug, position=position, **fields)


def make_sections(*names: str) -> dict[str, Section]:
    """Sections named `names` (default: Robustness, Monitoring, Alignment) in that order, by slug."""
    sections = [make_section(name, position) for position, name in enumerate(names or SECTION_NAMES, 1)]
    return {section.slug: section for section in sections}


def make_author(name: str = "Dan Hendrycks", **fields) -> Author:
    return Author.objects.create(name=name, **fields)


def make_issue(number: int | None = None, published: bool = True, **fields) -> Issue:
    number = number if number is not None else next(_numbers)
    fields.setdefault("title", f"Issue number {number}")
    fields.setdefault("intro", f"Welcome to issue {number}.")
    if published:
        fields.setdefault("status", Issue.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now() - timedelta(days=1))
    return Issue.objects.create(number=number, **fields)


def make_issues(count: int, start: int = 1, **fields) -> list[Issue]:
    """`count` published issues numbered from `start`, a week apart, the newest last."""
    now = timezone.now()
    return [
        make_issue(number, published_at=now - timedelta(days=7 * (start + count - number)), **fields)
        for number in range(start, start + count)
    ]


def make_ready_issue(
    number: int = 1, created_by: User | None = None, status=Issue.Status.DRAFT, **fields
) -> Issue:
    """An issue that passes every pre-publish check, in `status`, written by `created_by`."""
    section = make_section(f"Section {number}", slug=f"section-{number}")
    fields.setdefault("preheader", "Robust vision transformers and more.")
    issue = make_issue(
        number, published=False, status=status, created_by=created_by, last_edited_by=created_by, **fields
    )
    paper = make_paper(url=f"https://arxiv.org/abs/2111.{15100 + number}")
    make_summary(issue, section, kind=PaperSummary.Kind.FEATURE, headline="Pyramid training", paper=paper)
    return issue


def make_paper(title: str = "Pyramid Adversarial Training Improves ViT Performance", **fields) -> Paper:
    fields.setdefault("url", "https://arxiv.org/abs/2111.15121")
    return Paper.objects.create(title=title, **fields)


def unique_paper(title: str = "A paper", **fields) -> Paper:
    """A paper with its own arXiv id, so any number of them can exist side by side."""
    fields.setdefault("url", f"https://arxiv.org/abs/2112.{next(_arxiv):05d}")
    return make_paper(title, **fields)


def make_summary(issue: Issue, section: Section, **fields) -> PaperSummary:
    fields.setdefault("headline", "A summary")
    fields.setdefault("body", "Some **findings**.")
    return PaperSummary.objects.create(issue=issue, section=section, **fields)


def fill_issue(
    issue: Issue,
    sections: Iterable[Section],
    summaries: int,
    *,
    writer: Author | None = None,
    tags: tuple[str, ...] = ("robustness",),
    figures: int = 2,
) -> list[PaperSummary]:
    """`summaries` summaries spread over `sections`: features first, then briefs and news items,
    each with its own paper; the first `figures` features get a figure."""
    sections = list(sections)
    made = []
    for index in range(summaries):
        section = sections[index % len(sections)]
        kind = (PaperSummary.Kind.FEATURE, PaperSummary.Kind.BRIEF, PaperSummary.Kind.NEWS)[index % 3]
        fields = {}
        if kind == PaperSummary.Kind.FEATURE and index // 3 < figures:
            fields.update(
                figure=image_upload(f"figure-{index}.png", size=(320, 180)),
                figure_caption=f"Caption {index}",
                figure_alt=f"Alt text {index}",
            )
        summary = make_summary(
            issue,
            section,
            kind=kind,
            position=index,
            headline=f"Headline {issue.number}-{index}",
            body=f"Body of summary **{index}** with a [link](https://example.org/{index}).",
            paper=unique_paper(f"Paper {issue.number}-{index}", authors="Ada Lovelace, Alan Turing"),
            writer=writer,
            **fields,
        )
        summary.tags.add(*tags)
        made.append(summary)
    return made


def image_upload(name: str = "figure.png", size: tuple[int, int] = (1600, 900), fmt: str = "PNG"):
    buffer = BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(buffer, fmt)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg"}.get(fmt, "application/octet-stream")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


# Subscribers -----------------------------------------------------------------------------------


def make_subscriber(email: str | None = None, sections: Iterable[Section] = (), **fields) -> Subscriber:
    """A subscriber, active and confirmed now unless `status` or `confirmed_at` say otherwise
    (an unsubscribed one left now), receiving `sections` (none: every section)."""
    fields.setdefault("status", Subscriber.Status.ACTIVE)
    if fields["status"] == Subscriber.Status.ACTIVE:
        fields.setdefault("confirmed_at", timezone.now())
    if fields["status"] == Subscriber.Status.UNSUBSCRIBED:
        fields.setdefault("unsubscribed_at", timezone.now())
    email = email or f"reader{next(_addresses)}@example.org"
    subscriber = Subscriber.objects.create(email=email, **fields)
    if sections:
        subscriber.sections.set(sections)
    return subscriber


# Staff users -----------------------------------------------------------------------------------


def make_user(username: str, role: str | None = None, **fields) -> User:
    """A staff user (email `username@example.org`) in the group `role` (Writer, Editor, Managing
    editor; none: no group); `password=` to sign in with a form rather than force_login."""
    fields.setdefault("email", f"{username}@example.org")
    user = User.objects.create_user(username, is_staff=True, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def user_fixture(username: str, role: str | None = None, *, logged_in: bool = False) -> Callable[..., User]:
    """A pytest fixture giving `make_user(username, role)`, signed in on the `client` fixture if
    `logged_in`: `writer = user_fixture("wanda", "Writer")` in a test module makes its `writer`."""

    @pytest.fixture
    def user(request: pytest.FixtureRequest) -> User:
        made = make_user(username, role)
        if logged_in:
            request.getfixturevalue("client").force_login(made)
        return made

    return user


# Every migration that writes the roles' permissions, in the order they run.
ROLE_MIGRATIONS = [
    ("editorial.migrations.0002_roles", "create_roles"),
    ("editorial.migrations.0003_roles_by_what_they_do", "roles_by_what_they_do"),
    ("importers.migrations.0002_managing_editor_imports", "grant"),
    ("operations.migrations.0002_status_permission_for_managing_editors", "grant"),
]


def create_roles() -> None:
    """A transactional test starts from an empty database: make the roles as the migrations do."""
    for module, function in ROLE_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
