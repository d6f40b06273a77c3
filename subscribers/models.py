"""Subscribers and the suppression list.

A Subscriber is one person on the list: their normalised address, what they receive and the record
of their consent. A Suppression is an address we must never mail again, kept only as a hash so
that erasing a person's data does not erase our promise not to write to them.
"""

from __future__ import annotations

import uuid
from typing import TypeAlias

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from newsletter.models import Section

from .addresses import address_hash

# The states, kinds and reasons that check constraints are built from are defined at module level
# and nested in their model under the usual name (Subscriber.Status, Send.Kind, ...): a Meta class
# cannot see its model's body.


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    ACTIVE = "active", "Active"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"


class SubscriberFormat(models.TextChoices):
    HTML = "html", "HTML (with figures)"
    TEXT = "text", "Plain text"


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
    Status: TypeAlias = SubscriberStatus
    Format: TypeAlias = SubscriberFormat

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
        ESP = "esp", "The email provider (its unsubscribe link or feedback)"

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
                condition=~Q(status=SubscriberStatus.ACTIVE) | Q(confirmed_at__isnull=False),
                name="subscriber_active_is_confirmed",
            ),
            # An unsubscribe is always recorded with its time.
            models.CheckConstraint(
                condition=~Q(status=SubscriberStatus.UNSUBSCRIBED) | Q(unsubscribed_at__isnull=False),
                name="subscriber_unsubscribed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubscriberStatus.values), name="subscriber_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=SubscriberFormat.values), name="subscriber_format_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email_hash = address_hash(self.email)
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    DELETED = "deleted", "Asked for their data to be deleted"
    MANUAL = "manual", "Added by staff"


class Suppression(models.Model):
    Reason: TypeAlias = SuppressionReason

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
                condition=Q(reason__in=SuppressionReason.values), name="suppression_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.email_hash[:12]}…)"


# The send pipeline ------------------------------------------------------------------------------
# An outbox: a Send freezes its audience into Delivery rows (one INSERT ... SELECT), batch tasks
# claim queued rows atomically, send them and record each outcome. subscribers/sending/__init__.py holds the
# logic; docs/send-pipeline-models.md describes the states.


class SendKind(models.TextChoices):
    FULL = "full", "All mailable subscribers"
    RESEND = "resend", "Again, to those who did not get it"
    TEST = "test", "Test send to editors"


class SendStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    FINISHED = "finished", "Finished"


class Send(models.Model):
    """One issue to one audience: every mailable subscriber, those who did not get it yet, or editors."""

    Kind: TypeAlias = SendKind
    Status: TypeAlias = SendStatus

    issue = models.ForeignKey("newsletter.Issue", on_delete=models.PROTECT, related_name="sends")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FULL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sends_started",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The audience's size when it was frozen.
    recipient_count = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set once, by the batch that finishes the send: paused subscribers then skip one issue less.
    pauses_counted = models.BooleanField(default=False)
    note = models.TextField(blank=True, help_text="Why the send was paused or cancelled, or what went wrong.")
    # SITE_URL where the send started (its variants' links): every batch builds the recipients'
    # links on it too, so an email never mixes two sites' addresses. Blank: settings.SITE_URL.
    site_url = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # "Send the issue" happens once; sending again is an explicit resend to those who
            # did not get it (kind=resend), never a second full send.
            models.UniqueConstraint(
                fields=["issue"], condition=Q(kind=SendKind.FULL), name="send_one_full_per_issue"
            ),
            models.CheckConstraint(condition=Q(kind__in=SendKind.values), name="send_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=SendStatus.values), name="send_status_valid"),
            # A finished send says when it finished (the progress page's ETA ends there).
            models.CheckConstraint(
                condition=~Q(status=SendStatus.FINISHED) | Q(finished_at__isnull=False),
                name="send_finished_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue} → {self.get_kind_display().lower()} ({self.get_status_display().lower()})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.SENDING, self.Status.PAUSED)


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending (claimed by a worker)"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown (may or may not have been sent)"
    SKIPPED = "skipped", "Skipped (no longer subscribed)"
    CANCELLED = "cancelled", "Cancelled"


class Delivery(models.Model):
    """One recipient of one send, with the outcome of handing their copy to the mail server.

    The subscriber's address is not stored: a batch reads it from the subscriber row when it
    claims the delivery, so erasing a subscriber (SET_NULL) leaves no address behind, and an
    address changed or unsubscribed after the snapshot is honoured. Test sends to editors, who are
    not subscribers, keep their address in `address`.
    """

    Status: TypeAlias = DeliveryStatus

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # The normalised address's hash (addresses.address_hash): one copy per person per send.
    email_hash = models.CharField(max_length=64)
    address = models.CharField(max_length=254, blank=True, help_text="Test sends only.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # How many times a message was handed to the mail server (or a connection was tried for it).
    attempts = models.PositiveSmallIntegerField(default=0)
    # Not to be claimed before this (a transient error's backoff).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The claim (claims.py): which batch holds the row, since when its message is in hand (NULL
    # while the batch only reserves it), and until when; a working batch renews the lease. A lease
    # that runs out means the worker died or hung: the reaper turns a row in hand into "unknown"
    # (never resent by itself) and puts a reserved one back in the queue (it never left).
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    variant_key = models.CharField(max_length=200, blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Filled by the ESP's tracking webhooks (DeliveryEvent).
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    first_click_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            # The outbox's promise: one copy per person per send, however many rows or section
            # choices they have.
            models.UniqueConstraint(fields=["send", "email_hash"], name="delivery_one_per_address_per_send"),
            models.UniqueConstraint(
                fields=["send", "subscriber"],
                condition=Q(subscriber__isnull=False),
                name="delivery_one_per_subscriber_per_send",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            # A row in flight always has a lease, so a dead worker's rows are always found.
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENDING) | Q(lease_expires_at__isnull=False),
                name="delivery_sending_has_lease",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
        ]
        indexes = [
            # Claims take a send's queued rows in id order; with the id in the index PostgreSQL
            # reads them in order instead of sorting every queued row of a large send.
            models.Index(fields=["send", "status", "id"], name="delivery_send_status_id"),
            models.Index(fields=["status", "lease_expires_at"], name="delivery_status_lease"),
            models.Index(fields=["esp_message_id"], name="delivery_esp_message_id"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of send {self.send_id} ({self.get_status_display().lower()})"

    @property
    def message_id(self) -> str:
        """The Message-ID header of this delivery's message: unique per recipient, stable across retries."""
        from .sending.headers import message_id

        return message_id(self.send_id, self.pk)


class SendVariant(models.Model):
    """The issue rendered once for one (format, sections) combination of a send's audience,
    with placeholders for per-recipient values (newsletter.rendering.personalize)."""

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="variants")
    # "html:all", "text:1,3": the format and the sorted section ids (all = none chosen).
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=1000)
    html = models.TextField(blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["send", "key"]
        constraints = [
            # Each combination is rendered once per send, however many workers need it.
            models.UniqueConstraint(fields=["send", "key"], name="sendvariant_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of send {self.send_id}"


class SendThrottle(models.Model):
    """The global send rate limit's clock: the next free sending slot, shared by every worker.

    A batch reserves a window of slots with a conditional UPDATE on this row
    (subscribers/sending/throttle.py)."""

    name = models.CharField(max_length=40, primary_key=True)
    # Microseconds since the epoch: exact equality for the conditional UPDATE on every database.
    next_slot_us = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class DeliveryEventType(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    DEFERRED = "deferred", "Deferred"
    BOUNCED = "bounced", "Bounced"
    REJECTED = "rejected", "Rejected"
    COMPLAINED = "complained", "Complained"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"


class DeliveryEvent(models.Model):
    """One event an ESP reported about a message (Anymail's tracking webhooks), kept as received."""

    EventType: TypeAlias = DeliveryEventType

    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    send = models.ForeignKey(Send, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    esp_name = models.CharField(max_length=50, blank=True)
    # The ESP's id for the event; blank when the ESP gives none.
    esp_event_id = models.CharField(max_length=255, blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    # addresses.address_hash of the recipient: events are kept without the address itself.
    recipient_hash = models.CharField(max_length=64, blank=True, db_index=True)
    url = models.URLField(max_length=2000, blank=True, help_text="The link clicked.")
    reject_reason = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # ESPs retry webhooks; an event they identify is recorded once.
            models.UniqueConstraint(
                fields=["esp_name", "esp_event_id"],
                condition=~Q(esp_event_id=""),
                name="deliveryevent_unique_esp_event",
            ),
            models.CheckConstraint(
                condition=Q(event_type__in=DeliveryEventType.values), name="deliveryevent_type_valid"
            ),
        ]
        indexes = [models.Index(fields=["send", "event_type"], name="deliveryevent_send_type")]

    def __str__(self) -> str:
        when = self.occurred_at or self.received_at
        return f"{self.get_event_type_display()} ({self.esp_name or 'ESP'}, {when})"


class RateLimitCounter(models.Model):
    """The hits of one key in one fixed window of one rate limit (subscribers/ratelimit.py), kept
    in the database so that every worker and machine counts against the same number.

    A hit is a conditional UPDATE (`hits < max`), so the count never passes the limit however many
    processes hit at once. Rows whose window has ended are deleted as new windows start."""

    bucket = models.CharField(max_length=40)
    # A hash of the key (an address, an IP): no personal data is stored in clear.
    key = models.CharField(max_length=64)
    # The window's number: epoch seconds // the limit's period.
    window = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            # One counter per key and window: concurrent first hits race on this, and one wins.
            models.UniqueConstraint(
                fields=["bucket", "key", "window"], name="ratelimitcounter_unique_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bucket} {self.key[:8]}: {self.hits} in window {self.window}"
