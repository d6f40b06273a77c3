"""What an import leaves behind: its run (upload, report, progress), the map from the source's
ids to what they became here (so a second run changes nothing), the images already fetched, and
the redirect table that keeps a publication's old links working."""

from __future__ import annotations

from typing import TypeAlias

from django.conf import settings
from django.db import models
from django.db.models import Q

from newsletter.models import Issue


class Platform(models.TextChoices):
    SUBSTACK = "substack", "Substack"
    GHOST = "ghost", "Ghost"


class RunStatus(models.TextChoices):
    CHECKING = "checking", "Dry run under way"
    CHECKED = "checked", "Dry run done: ready to import"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


# Who may upload an export and run it (the managing editor's role; migration 0002 grants it).
RUN_PERMISSION = "importers.run_import"


class ImportRun(models.Model):
    """One uploaded export: its dry run, then (when a managing editor says so) its import."""

    Status: TypeAlias = RunStatus

    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.SUBSTACK)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CHECKING)
    # The upload's own name, for people; the file itself is kept in the private import folder
    # (importers/uploads.py) under `stored_name` until the import ends.
    upload_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=255, blank=True)
    options = models.JSONField(default=dict, blank=True)
    dry_run_report = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    # Progress of the import: items (posts and readers) done out of `total`.
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("run_import", "Can import a publication from another platform")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="importrun_status_valid"),
            models.CheckConstraint(
                condition=Q(platform__in=Platform.values), name="importrun_platform_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} import of {self.upload_name}"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


class ImportedPost(models.Model):
    """A post of the source platform and the issue it became: re-running an import finds it here."""

    platform = models.CharField(max_length=20, choices=Platform.choices)
    source_id = models.CharField(max_length=200)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "source_id"]
        constraints = [
            # One post, one issue: a second run of the same export skips what it finds here.
            models.UniqueConstraint(fields=["platform", "source_id"], name="importedpost_unique_source"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} post {self.source_id} → {self.issue}"


class ImportedImage(models.Model):
    """An image fetched from a URL and stored here (decoded and re-encoded): fetched once per URL."""

    url_hash = models.CharField(max_length=64)
    url = models.URLField(max_length=2000)
    name = models.CharField(max_length=255, help_text="The stored file, in the default storage.")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["url_hash"], name="importedimage_unique_url")]

    def __str__(self) -> str:
        return self.url


class Redirect(models.Model):
    """An old address of the publication (`/p/<slug>` on Substack) and where it lives now.

    The target is an issue (followed to wherever the issue's page is) or a path on this site.
    RedirectMiddleware answers 301 for a path only when nothing else answered it (a 404), so a
    redirect never shadows a page of this site."""

    old_path = models.CharField(max_length=500, help_text="Starts with /, without query string.")
    issue = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_path = models.CharField(max_length=500, blank=True)
    platform = models.CharField(max_length=20, choices=Platform.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_path"]
        constraints = [
            # One old address answers one way.
            models.UniqueConstraint(fields=["old_path"], name="redirect_unique_old_path"),
            # Exactly one target: an issue or a path.
            models.CheckConstraint(
                condition=(Q(issue__isnull=False) & Q(target_path=""))
                | (Q(issue__isnull=True) & ~Q(target_path="")),
                name="redirect_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.old_path} → {self.target()}"

    def target(self) -> str:
        return self.issue.get_absolute_url() if self.issue is not None else self.target_path
