"""Claiming deliveries and recording their outcomes, in bulk: no query per recipient.

- `claim_batch` moves up to n due, queued deliveries of a sending Send to "sending" with one
  conditional UPDATE (`... WHERE status = 'queued'`), so two workers never hold the same row.
  On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take
  different rows instead of queueing on each other's locks; SQLite has no row locks, and its
  IMMEDIATE transactions serialise the UPDATE. The claim writes a random token and a lease.
- `record_outcomes` writes every outcome of a batch (sent with its ESP message id, failed with
  its reason, unknown, or back to the queue) with one UPDATE ... FROM (VALUES ...), on both
  databases; it only touches rows still holding the batch's token.
- `reap_expired_leases` turns rows whose lease ran out (the worker died or hung) into "unknown".
  A late batch may still record its real outcome over "unknown" (the token matches).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from newsletter.models import Section

from .models import Delivery, Send, Suppression

Status = Delivery.Status


@dataclass
class Outcome:
    delivery_id: int
    status: str  # a Delivery.Status: sent, failed, unknown, skipped or queued (retry)
    message_id: str = ""
    error: str = ""
    tried: bool = False  # counts as an attempt
    variant_key: str = ""


def _table() -> str:
    return connection.ops.quote_name(Delivery._meta.db_table)


def _dt(value: datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def claim_batch(send: Send, limit: int, lease_seconds: int, now: datetime | None = None) -> str:
    """Claim up to `limit` deliveries for this worker; returns the claim token (empty if none)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    send_table = connection.ops.quote_name(Send._meta.db_table)
    pick = (
        f"SELECT d.id FROM {_table()} d WHERE d.send_id = %s AND d.status = %s "
        f"AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= %s) "
        f"AND EXISTS (SELECT 1 FROM {send_table} s WHERE s.id = d.send_id AND s.status = %s) "
        f"ORDER BY d.id LIMIT %s"
    )
    pick_params = [send.pk, Status.QUEUED, _dt(now), Send.Status.SENDING, int(limit)]
    update = f"UPDATE {_table()} SET status = %s, claim_token = %s, claimed_at = %s, lease_expires_at = %s "
    update_params = [Status.SENDING, token, _dt(now), _dt(now + timedelta(seconds=lease_seconds))]
    if connection.features.has_select_for_update_skip_locked:
        # A materialised CTE: PostgreSQL may re-run an IN (subquery ... LIMIT) and take more rows.
        sql = f"WITH picked AS MATERIALIZED ({pick} FOR UPDATE SKIP LOCKED) {update}"
        sql += "WHERE id IN (SELECT id FROM picked) AND status = %s"
        params = pick_params + update_params + [Status.QUEUED]
    else:
        sql = f"{update}WHERE id IN ({pick}) AND status = %s"
        params = update_params + pick_params + [Status.QUEUED]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return token if cursor.rowcount > 0 else ""


def load_claimed(send: Send, token: str) -> list[Delivery]:
    """The claimed rows with their subscriber, chosen section ids and suppression state (2 queries)."""
    return list(
        Delivery.objects.filter(send=send, status=Status.SENDING, claim_token=token)
        .select_related("subscriber")
        .prefetch_related(Prefetch("subscriber__sections", queryset=Section.objects.only("pk")))
        .annotate(
            suppressed=Exists(Suppression.objects.filter(email_hash=OuterRef("subscriber__email_hash")))
        )
        .order_by("pk")
    )


def record_outcomes(
    token: str, outcomes: list[Outcome], now: datetime | None = None, retry_at: datetime | None = None
) -> int:
    """Write every outcome of a batch with one statement; returns the rows changed."""
    if not outcomes:
        return 0
    now = now or timezone.now()
    table = _table()
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(outcomes))
    value_params: list = []
    for outcome in outcomes:
        value_params += [
            outcome.delivery_id,
            outcome.status,
            outcome.message_id[:255],
            outcome.error[:2000],
            1 if outcome.tried else 0,
            outcome.variant_key[:200],
        ]
    set_params: list = [Status.SENT, _dt(now)]
    next_attempt = "NULL"
    if retry_at is not None:
        next_attempt = "CASE WHEN v.column2 = %s THEN %s ELSE NULL END"
        set_params += [Status.QUEUED, _dt(retry_at)]
    sql = (
        f"UPDATE {table} SET status = v.column2, "
        f"esp_message_id = CASE WHEN v.column3 = '' THEN {table}.esp_message_id ELSE v.column3 END, "
        f"error = v.column4, attempts = {table}.attempts + v.column5, "
        f"variant_key = CASE WHEN v.column6 = '' THEN {table}.variant_key ELSE v.column6 END, "
        f"sent_at = CASE WHEN v.column2 = %s THEN %s ELSE {table}.sent_at END, "
        f"next_attempt_at = {next_attempt}, lease_expires_at = NULL "
        f"FROM (VALUES {values}) AS v "
        f"WHERE {table}.id = v.column1 AND {table}.claim_token = %s AND {table}.status IN (%s, %s)"
    )
    params = set_params + value_params + [token, Status.SENDING, Status.UNKNOWN]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def reap_expired_leases(now: datetime | None = None) -> int:
    """Deliveries still in flight after their lease: the worker died or hung. Shown as unknown."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=Status.SENDING, lease_expires_at__lt=now).update(
        status=Status.UNKNOWN,
        lease_expires_at=None,
        error="The worker sending this message stopped before recording the outcome; it may or may not "
        "have been sent.",
    )
