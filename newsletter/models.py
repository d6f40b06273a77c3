"""The content: sections, authors, issues, papers and the summaries that tie them together."""

from __future__ import annotations

import re
from typing import TypeAlias

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from markdownx.models import MarkdownxField
from taggit.managers import TaggableManager

from .images import validate_figure, web_rendition
from .rendering import html_to_text, markdown_to_html


class Section(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            # Section URLs and subscriber preferences are keyed by slug.
            models.UniqueConstraint(fields=["slug"], name="section_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("section_detail", args=[self.slug])


class Author(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    bio = models.TextField(blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True, validators=[validate_figure])
    website = models.URLField(blank=True)
    links = models.TextField(blank=True, help_text="Other profile links, one URL per line.")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="author"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["slug"], name="author_unique_slug")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = slugify(self.name)[:200]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("author_detail", args=[self.slug])

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]


# The states and kinds are defined at module level, and nested in their model under the usual
# name (Issue.Status, PaperSummary.Kind), because a Meta class cannot see its model's body and
# the check constraints are built from them.


class IssueStatus(models.TextChoices):
    # editorial/workflow.py owns the moves between these states.
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"


class SummaryKind(models.TextChoices):
    FEATURE = "feature", "Feature (full summary)"
    BRIEF = "brief", "Brief (other recent papers)"
    NEWS = "news", "News"


class IssueQuerySet(models.QuerySet):
    def published(self) -> IssueQuerySet:
        """What the public may see: published issues whose publication time has come."""
        return self.filter(status=Issue.Status.PUBLISHED, published_at__lte=timezone.now())


class Issue(models.Model):
    Status: TypeAlias = IssueStatus

    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, blank=True)
    subject = models.CharField("email subject", max_length=200, blank=True)
    preheader = models.CharField(
        max_length=200, blank=True, help_text="The line mail clients show after the subject."
    )
    intro = MarkdownxField(blank=True)
    intro_html = models.TextField(blank=True, editable=False)
    authors = models.ManyToManyField(Author, blank=True, related_name="issues")
    tags = TaggableManager(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # When a scheduled issue goes public: set exactly while the issue is scheduled. Its
    # editorial.Schedule row keeps the rest (time zone, whether the send starts, the task's token).
    scheduled_for = models.DateTimeField(null=True, blank=True, db_index=True)
    # Optimistic locking: every save bumps it; editorial/ refuses a save from a stale form.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Who started the issue (a writer edits only their own drafts) and who changed its content
    # last (approval needs someone else: four eyes). editorial/workflow.py sets both
    # (create_issue, record_edit).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="issues_created",
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="issues_last_edited",
    )
    # Plain text of the intro for full-text search; the summaries carry their own.
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            # "Issue #12" must mean one issue, in URLs and in email subjects.
            models.UniqueConstraint(fields=["number"], name="issue_unique_number"),
            # A published issue always has the time it went public.
            models.CheckConstraint(
                condition=~Q(status=IssueStatus.PUBLISHED) | Q(published_at__isnull=False),
                name="issue_published_has_date",
            ),
            # A scheduled issue always has its time (nothing would publish it otherwise), and only
            # a scheduled one: the time is never left over from a cancelled schedule.
            models.CheckConstraint(
                condition=Q(status=IssueStatus.SCHEDULED, scheduled_for__isnull=False)
                | (~Q(status=IssueStatus.SCHEDULED) & Q(scheduled_for__isnull=True)),
                name="issue_scheduled_has_time",
            ),
            # The workflow's states only: a status nobody handles would hide the issue for good.
            models.CheckConstraint(condition=Q(status__in=IssueStatus.values), name="issue_status_valid"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = slugify(self.title)[:200]
        self.intro_html = markdown_to_html(self.intro)
        self.search_text = html_to_text(self.intro_html)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("issue_detail", args=[self.number])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at is not None

    @property
    def email_subject(self) -> str:
        return self.subject or f"{settings.SITE_NAME} #{self.number}: {self.title}"

    @property
    def description(self) -> str:
        text = self.preheader or self.search_text
        return text[:197] + "…" if len(text) > 200 else text


_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf|html)/([^\s?#]+?)(?:\.pdf)?(?:[?#].*)?$", re.IGNORECASE)


def parse_arxiv_id(value: str) -> str:
    """The bare arXiv id (without version) in an arXiv URL or id, or "" if there is none."""
    value = (value or "").strip()
    if not value:
        return ""
    url_match = _ARXIV_URL.search(value)
    candidate = url_match.group(1) if url_match else value.removeprefix("arXiv:").removeprefix("arxiv:")
    match = _ARXIV_ID.fullmatch(candidate.strip("/"))
    return match.group(1) if match else ""


class Paper(models.Model):
    title = models.CharField(max_length=500)
    url = models.URLField(max_length=500, blank=True)
    authors = models.CharField(max_length=1000, blank=True, help_text="As the paper lists them.")
    venue = models.CharField(max_length=200, blank=True)
    year = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    arxiv_id = models.CharField("arXiv id", max_length=50, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True)
    # As its source gives it (newsletter/paper_lookup/), for the editors' reference.
    abstract = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            # One paper, one row: the paper index links every issue that covered it.
            models.UniqueConstraint(
                fields=["arxiv_id"], condition=~Q(arxiv_id=""), name="paper_unique_arxiv_id"
            ),
            models.UniqueConstraint(fields=["doi"], condition=~Q(doi=""), name="paper_unique_doi"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.arxiv_id = parse_arxiv_id(self.arxiv_id) or parse_arxiv_id(self.url) or self.arxiv_id.strip()
        self.doi = self.doi.strip().removeprefix("https://doi.org/").removeprefix("doi:")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("paper_detail", args=[self.pk])

    @property
    def link(self) -> str:
        if self.url:
            return self.url
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return ""


class PaperSummary(models.Model):
    Kind: TypeAlias = SummaryKind

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="summaries")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="summaries")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FEATURE)
    headline = models.CharField(max_length=300)
    body = MarkdownxField(blank=True)
    body_html = models.TextField(blank=True, editable=False)
    paper = models.ForeignKey(
        Paper, null=True, blank=True, on_delete=models.PROTECT, related_name="summaries"
    )
    figure = models.ImageField(upload_to="figures/", blank=True, validators=[validate_figure])
    figure_web = models.ImageField(upload_to="figures/web/", blank=True, editable=False)
    figure_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    figure_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    figure_caption = models.CharField(max_length=500, blank=True)
    figure_alt = models.CharField("figure alt text", max_length=500, blank=True)
    writer = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="summaries"
    )
    tags = TaggableManager(blank=True)
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["issue", "section__position", "position", "pk"]
        verbose_name_plural = "paper summaries"
        indexes = [models.Index(fields=["issue", "section", "position"], name="summary_issue_order")]
        constraints = [
            # The kinds the templates and the checks know how to show and judge.
            models.CheckConstraint(condition=Q(kind__in=SummaryKind.values), name="summary_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.headline

    def save(self, *args, **kwargs) -> None:
        self.body_html = markdown_to_html(self.body)
        self.search_text = html_to_text(self.body_html)
        self._derive_figure_rendition()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return f"{self.issue.get_absolute_url()}#{self.anchor}"

    @property
    def anchor(self) -> str:
        return f"summary-{self.pk}"

    def _derive_figure_rendition(self) -> None:
        if not self.figure:
            self.figure_web = ""
            self.figure_width = self.figure_height = None
            return
        if getattr(self.figure, "_committed", True) and self.figure_web:
            return  # unchanged upload: keep the rendition we made
        rendition, self.figure_width, self.figure_height = web_rendition(self.figure.file)
        self.figure_web.save(rendition.name, rendition, save=False)


class OutboxMessage(models.Model):
    """An email the default backend kept instead of sending, shown to staff at /outbox/."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    from_email = models.CharField(max_length=500)
    to = models.TextField(help_text="Recipients, one per line.")
    subject = models.CharField(max_length=1000)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict)
    raw = models.TextField(help_text="The whole message as it would go on the wire.")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"

    def get_absolute_url(self) -> str:
        return reverse("outbox_detail", args=[self.pk])
