"""Subscribers and the suppression list.

A Subscriber is one person on the list: their normalised address, what they receive and the record
of their consent. A Suppression is an address we must never mail again, kept only as a hash so
that erasing a person's data does not erase our promise not to write to them.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from newsletter.models import Section

from .addresses import address_hash


class SubscriberQuerySet(models.QuerySet):
    def mailable(self) -> SubscriberQuerySet:
        """Who an issue may go to: active, confirmed, not paused and not on the suppression list."""
        return self.filter(
            status=Subscriber.Status.ACTIVE, confirmed_at__isnull=False, paused_issues=0
        ).exclude(email_hash__in=Suppression.objects.values("email_hash"))

    def receiving_section(self, section: Section) -> SubscriberQuerySet:
        """Subscribers who get `section`: those who chose it and those who chose none (= all)."""
        return self.filter(Q(sections=None) | Q(sections=section)).distinct()


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    class Format(models.TextChoices):
        HTML = "html", "HTML (with figures)"
        TEXT = "text", "Plain text"

    class Source(models.TextChoices):
        FORM = "form", "Sign-up form"
        IMPORT = "import", "CSV import"
        ADMIN = "admin", "Added by staff"

    class Channel(models.TextChoices):
        """How an unsubscribe reached us."""

        ONE_CLICK = "one_click", "One-click (RFC 8058, from the mail client)"
        LINK = "link", "Unsubscribe page"
        PREFERENCES = "preferences", "Preferences page"
        MAILTO = "mailto", "Email to the unsubscribe address"
        ADMIN = "admin", "Staff"

    # Lower-cased and IDN-normalised by subscribers/addresses.py before it gets here.
    email = models.CharField(max_length=254)
    # SHA-256 of the normalised address; compared against the suppression list on every send.
    email_hash = models.CharField(max_length=64, editable=False, db_index=True)
    # What links carry instead of the row id (which would reveal the size of the list).
    key = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    sections = models.ManyToManyField(
        Section,
        blank=True,
        related_name="subscribers",
        help_text="None chosen means every section, including sections added later.",
    )
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.HTML)
    paused_issues = models.PositiveIntegerField(
        default=0, help_text="How many of the next issues to skip; counts down with each issue sent."
    )
    # Bumping it revokes every link we ever sent this subscriber.
    token_version = models.PositiveIntegerField(default=1)

    # The consent record: when and how the person agreed (or, for imports, the basis staff stated).
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField("consent IP address", null=True, blank=True)
    consent_user_agent = models.CharField(max_length=500, blank=True)
    consent_wording_version = models.CharField(max_length=40, blank=True)
    consent_source = models.CharField(max_length=10, choices=Source.choices, default=Source.FORM)
    consent_basis = models.TextField(blank=True, help_text="For imports and staff additions.")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The last unsubscribe; kept after a resubscribe so the growth chart still counts it.
    unsubscribed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    unsubscribe_channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One person, one row, however they typed the address's case.
            models.UniqueConstraint(
                Lower("email"),
                name="subscriber_unique_email_ci",
                violation_error_message="This address is already on the list.",
            ),
            models.UniqueConstraint(fields=["key"], name="subscriber_unique_key"),
            # Only someone who confirmed (or was imported with a stated basis) is ever active.
            models.CheckConstraint(
                condition=~Q(status="active") | Q(confirmed_at__isnull=False),
                name="subscriber_active_is_confirmed",
            ),
            # An unsubscribe is always recorded with its time.
            models.CheckConstraint(
                condition=~Q(status="unsubscribed") | Q(unsubscribed_at__isnull=False),
                name="subscriber_unsubscribed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "unsubscribed", "bounced", "complained"]),
                name="subscriber_status_valid",
            ),
            models.CheckConstraint(condition=Q(format__in=["html", "text"]), name="subscriber_format_valid"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email_hash = address_hash(self.email)
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Suppression(models.Model):
    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        DELETED = "deleted", "Asked for their data to be deleted"
        MANUAL = "manual", "Added by staff"

    # Reasons the person may lift themselves by confirming a new sign-up (double opt-in);
    # the others are lifted only by staff deleting the row.
    OPT_OUT_REASONS = (Reason.UNSUBSCRIBED, Reason.DELETED)

    email_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One entry per address: "is it suppressed?" is one indexed lookup.
            models.UniqueConstraint(fields=["email_hash"], name="suppression_unique_hash"),
            models.CheckConstraint(
                condition=Q(reason__in=["unsubscribed", "hard_bounce", "complaint", "deleted", "manual"]),
                name="suppression_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.email_hash[:12]}…)"
