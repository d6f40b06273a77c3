"""What the editorial workflow records: transitions (the audit trail), review comments, what each
reviewer last saw, share-preview links, scheduled publications, and the notifications staff get
(with the kinds each one turned off).

The rules that create and change these rows live in workflow.py, review.py, previews.py,
scheduling.py and notifications.py; the models hold data, constraints and small derived properties.
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import TypeAlias

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from newsletter.models import Issue, PaperSummary


class Transition(models.Model):
    """One move of an issue between states: who, when, from, to and why. Never edited."""

    class Action(models.TextChoices):
        """What made the move: a workflow action (workflow.py), labelled as its button reads."""

        SUBMIT = "submit", "Submit for review"
        REQUEST_CHANGES = "request_changes", "Request changes"
        APPROVE = "approve", "Approve"
        BACK_TO_DRAFT = "back_to_draft", "Back to draft"
        SCHEDULE = "schedule", "Schedule"
        RESCHEDULE = "reschedule", "Reschedule"
        CANCEL_SCHEDULE = "cancel_schedule", "Cancel the schedule"
        PUBLISH = "publish", "Publish now"
        UNPUBLISH = "unpublish", "Unpublish"
        # Not buttons: saving an approved issue's content, and the system's scheduled moves.
        EDITED_AFTER_APPROVAL = "edited_after_approval", "Edited after approval"
        SCHEDULED_PUBLISH = "scheduled_publish", "Published as scheduled"
        SCHEDULED_PUBLISH_FAILED = "scheduled_publish_failed", "Scheduled publication failed"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="transitions")
    # Null for moves the system made on its own (a scheduled publication).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    from_status = models.CharField(max_length=20, choices=Issue.Status.choices)
    to_status = models.CharField(max_length=20, choices=Issue.Status.choices)
    action = models.CharField(max_length=40, choices=Action.choices)
    comment = models.TextField(blank=True)
    # The issue's version after the move: a form loaded before it is stale (optimistic locking).
    issue_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "pk"]
        # The roles' permissions. They name workflow actions, not a model, so they live here.
        permissions = [
            ("submit_issue", "Can submit an issue for review"),
            ("review_issue", "Can review, request changes to and approve issues"),
            ("edit_any_issue", "Can edit any draft, not only one's own"),
            ("publish_issue", "Can publish, schedule and unpublish issues"),
            ("send_issue", "Can send issues to subscribers"),
        ]

    def __str__(self) -> str:
        return f"{self.issue}: {self.get_from_status_display()} → {self.get_to_status_display()}"


class ReviewCommentQuerySet(models.QuerySet):
    def threads(self) -> ReviewCommentQuerySet:
        return self.filter(parent__isnull=True)

    def unresolved(self) -> ReviewCommentQuerySet:
        return self.filter(parent__isnull=True, resolved_at__isnull=True)


class ReviewComment(models.Model):
    """A review comment on an issue or on one of its summaries; replies point at their thread's
    first comment, and a thread is resolved as a whole."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="review_comments")
    summary = models.ForeignKey(
        PaperSummary, null=True, blank=True, on_delete=models.CASCADE, related_name="review_comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReviewCommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # Only a thread is resolved, never a single reply.
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(resolved_at__isnull=True),
                name="reviewcomment_only_threads_resolve",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.issue}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class ReviewMark(models.Model):
    """What a reviewer saw when they last reviewed an issue (a snapshot of its content), so that
    the next review shows only what changed since."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="review_marks")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    snapshot = models.JSONField()

    class Meta:
        constraints = [
            # One mark per reviewer and issue: the latest review replaces the one before.
            models.UniqueConstraint(fields=["issue", "reviewer"], name="reviewmark_one_per_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} reviewed {self.issue} at {self.reviewed_at:%Y-%m-%d %H:%M}"


class PreviewLink(models.Model):
    """A share-preview link. The URL carries a signed token naming this row; revoking the row
    kills the link even before the signature expires."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="preview_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Preview of {self.issue} ({self.created_at:%Y-%m-%d})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class Schedule(models.Model):
    """How a scheduled issue goes public: in whose time zone, whether its send then starts, and
    the token of the task that publishes it. The time itself is the issue's `scheduled_for`, set
    exactly while the issue is scheduled (a check constraint on Issue holds it to that).

    The task that publishes it carries the row's token: rescheduling or cancelling gives the row a
    new token or deletes it, so an older task that runs later does nothing. A publication that
    failed its checks keeps the row with the reasons, for the managing editor to see.
    """

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="schedule")
    # The scheduler's time zone, to show the time as they meant it.
    time_zone = models.CharField(max_length=64, default="UTC")
    start_send = models.BooleanField(
        default=False, help_text="Start sending to subscribers once the issue is published."
    )
    token = models.UUIDField(default=uuid.uuid4)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ["issue__scheduled_for", "pk"]

    def __str__(self) -> str:
        local = self.local_publish_at
        if local is None:
            return f"{self.issue}, no longer scheduled"
        return f"{self.issue} at {local:%Y-%m-%d %H:%M} {self.time_zone}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def local_publish_at(self) -> datetime | None:
        """The publication time in the time zone of the editor who scheduled it (None once the
        issue is not scheduled any more: a failed publication's row)."""
        publish_at = self.issue.scheduled_for
        return timezone.localtime(publish_at, self.zone) if publish_at is not None else None


class NotificationKind(models.TextChoices):
    """What a notification is about; each staff member may turn each kind off. The labels are
    what the preferences page lists."""

    SUBMITTED = "submitted", "An issue is submitted for review (or is back in review after an edit)"
    CHANGES_REQUESTED = "changes_requested", "A reviewer requests changes to an issue I write"
    COMMENTED = "commented", "A new review comment on an issue I write, or a reply in a thread I am in"
    APPROVED = "approved", "An issue is approved"
    SCHEDULED = "scheduled", "An issue is scheduled, rescheduled or its schedule is cancelled"
    PUBLISHED = "published", "An issue is published or unpublished, or its scheduled publication fails"
    SEND_FINISHED = "send_finished", "A send to subscribers finished with every message sent or skipped"
    SEND_PROBLEM = (
        "send_problem",
        (
            "A send failed to start, finished with failed or unknown deliveries, or was paused with "
            "unknown deliveries"
        ),
    )


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One thing a staff member is told about, made by editorial/notifications.py after the action
    it reports committed: listed on their dashboard until they mark it read, and emailed."""

    Kind: TypeAlias = NotificationKind

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    issue = models.ForeignKey(
        Issue, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # Who did it; null for what the system did (a scheduled publication, a send finishing).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500)
    # The words that came with it: the review comment, the transition's comment, a refusal.
    detail = models.TextField(blank=True)
    # Where to look, a path on this site (the issue's or the send's admin page).
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"To {self.recipient}: {self.message}"


class NotificationPreference(models.Model):
    """Whether a staff member gets one kind of notification; without a row they do."""

    Kind: TypeAlias = NotificationKind

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            # One switch per person and kind.
            models.UniqueConstraint(fields=["user", "kind"], name="notificationpreference_one_per_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notificationpreference_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} {'on' if self.enabled else 'off'}"
