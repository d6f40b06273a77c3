"""Claiming deliveries, holding them while their messages go out, and recording outcomes.

- `claim_batch` *reserves* up to n due, queued deliveries of a sending Send for one batch: one
  conditional UPDATE (`... WHERE status = 'queued'`) moves them to "sending" with a random token
  and a lease, so two workers never hold the same row. On PostgreSQL the rows are picked with
  `FOR UPDATE SKIP LOCKED`, so concurrent workers take different rows instead of queueing on each
  other's locks; SQLite has no row locks, and its IMMEDIATE transactions serialise the UPDATE.
- `Claim` is the batch's hold on those rows while it hands them over (handover.py). Just before a
  message goes to the mail server its rows are *taken in hand* (`claimed_at` set); each outcome
  is written as soon as the backend answers, in the same statement that takes the next message in
  hand, so at any moment at most one message (one ESP API call) of a batch is in hand and
  unrecorded. While the batch works, `Claim` renews the lease of every row it still holds every
  quarter lease (a heartbeat that beats as long as the worker makes progress), so the lease can be
  short (SEND_LEASE_SECONDS, 40 s).
- `reap_expired_leases` releases the rows of a worker that died or hung (lease run out): a row
  that was in hand may or may not have reached the server and becomes "unknown" (never resent by
  itself); a row that was only reserved never left and goes back to the queue. A late batch may
  still record the real outcome over "unknown" (its token matches); a row back in the queue is no
  longer its to take.
- `record_outcomes` writes a list of outcomes with one UPDATE ... FROM (VALUES ...), on both
  databases; it only touches rows still holding the batch's token.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from newsletter.models import Section

from ..models import Delivery, Send, Suppression

Status = Delivery.Status
# How often a working batch renews its lease, as a fraction of the lease.
HEARTBEAT_FRACTION = 0.25
UNKNOWN_ERROR = (
    "The worker sending this message stopped before recording the outcome; it may or may not have been sent."
)
REQUEUED_ERROR = "Back in the queue: the worker that claimed it stopped before handing it over."


@dataclass
class Outcome:
    delivery_id: int
    status: str  # a Delivery.Status: sent, failed, unknown, skipped or queued (retry)
    message_id: str = ""
    error: str = ""
    tried: bool = False  # counts as an attempt
    variant_key: str = ""
    retry_at: datetime | None = None  # for a retry (queued): not to be claimed before


def _table() -> str:
    return connection.ops.quote_name(Delivery._meta.db_table)


def _dt(value: datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def claim_batch(send: Send, limit: int, lease_seconds: float, now: datetime | None = None) -> str:
    """Reserve up to `limit` deliveries for this worker; returns the claim token (empty if none).
    The rows are "sending", with a lease, but not yet in hand (`claimed_at` is NULL)."""
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
    update = f"UPDATE {_table()} SET status = %s, claim_token = %s, claimed_at = NULL, lease_expires_at = %s "
    update_params = [Status.SENDING, token, _dt(now + timedelta(seconds=lease_seconds))]
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


@dataclass
class Claim:
    """One batch's hold on the rows it claimed, while it hands them over.

    `note()` the outcomes as the backend answers; `take(ids)` writes what was noted and takes the
    next message's rows in hand, in one statement, and returns the ids it took (a row whose lease
    ran out and went back to the queue is no longer this batch's: never send it); `flush()` writes
    what is left. `recorded` holds every outcome written. The lease of every row still held is
    renewed every quarter lease, whenever the batch takes the next message in hand."""

    send_id: int
    token: str
    lease_seconds: float
    recorded: list[Outcome] = field(default_factory=list, init=False)
    _noted: list[Outcome] = field(default_factory=list, init=False)
    _renewed: float = field(default_factory=time.time, init=False)

    def note(self, outcomes: Outcome | Iterable[Outcome]) -> None:
        self._noted.extend([outcomes] if isinstance(outcomes, Outcome) else outcomes)

    def take(self, ids: list[int]) -> set[int]:
        self.renew_if_due()
        now = timezone.now()
        noted, self._noted = self._noted, []
        lease_until = now + timedelta(seconds=self.lease_seconds)
        taken = _write(self.token, noted, take=ids, now=now, lease_until=lease_until)
        self.recorded += noted
        return taken

    def flush(self) -> None:
        noted, self._noted = self._noted, []
        if noted:
            _write(self.token, noted, now=timezone.now())
            self.recorded += noted

    def renew_if_due(self) -> None:
        if time.time() - self._renewed >= self.lease_seconds * HEARTBEAT_FRACTION:
            self.renew()

    def renew(self) -> int:
        """Extend the lease of every row this batch still holds; returns how many."""
        self._renewed = time.time()
        return Delivery.objects.filter(
            send_id=self.send_id, status=Status.SENDING, claim_token=self.token
        ).update(lease_expires_at=timezone.now() + timedelta(seconds=self.lease_seconds))


def record_outcomes(
    token: str, outcomes: list[Outcome], now: datetime | None = None, retry_at: datetime | None = None
) -> int:
    """Write every outcome of a batch with one statement; returns the rows changed."""
    if retry_at is not None:
        for outcome in outcomes:
            if outcome.status == Status.QUEUED and outcome.retry_at is None:
                outcome.retry_at = retry_at
    return len(_write(token, outcomes, now=now or timezone.now(), returning="all"))


def _write(
    token: str,
    outcomes: list[Outcome],
    *,
    now: datetime,
    take: list[int] = (),
    lease_until: datetime | None = None,
    returning: str = "taken",
) -> set[int]:
    """One UPDATE ... FROM (VALUES ...): the outcomes, and the rows `take` put in hand (status stays
    "sending", `claimed_at` and the lease set). Only rows holding `token` change: an outcome may land
    on a row the reaper made "unknown" meanwhile, but only a row still "sending" is taken.
    Returns the ids taken (or, with returning="all", every id changed)."""
    rows = [
        (
            o.delivery_id,
            o.status,
            o.message_id[:255],
            o.error[:2000],
            1 if o.tried else 0,
            o.variant_key[:200],
        )
        for o in outcomes
    ] + [(pk, Status.SENDING, "", "", 0, "") for pk in take]
    if not rows:
        return set()
    table = _table()
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    value_params = [value for row in rows for value in row]
    # One retry time per statement (a statement usually carries one message's outcome).
    retry_at = max((o.retry_at for o in outcomes if o.status == Status.QUEUED and o.retry_at), default=None)
    next_attempt, next_params = "NULL", []
    if retry_at is not None:
        next_attempt, next_params = (
            "CASE WHEN v.column2 = %s THEN %s ELSE NULL END",
            [
                Status.QUEUED,
                _dt(retry_at),
            ],
        )
    lease = "NULL"
    lease_params: list = []
    if take:
        lease, lease_params = (
            "CASE WHEN v.column2 = %s THEN %s ELSE NULL END",
            [
                Status.SENDING,
                _dt(lease_until),
            ],
        )
    sql = (
        f"UPDATE {table} SET status = v.column2, "
        f"esp_message_id = CASE WHEN v.column3 = '' THEN {table}.esp_message_id ELSE v.column3 END, "
        f"error = CASE WHEN v.column2 = %s THEN {table}.error ELSE v.column4 END, "
        f"attempts = {table}.attempts + v.column5, "
        f"variant_key = CASE WHEN v.column6 = '' THEN {table}.variant_key ELSE v.column6 END, "
        f"sent_at = CASE WHEN v.column2 = %s THEN %s ELSE {table}.sent_at END, "
        f"claimed_at = CASE WHEN v.column2 = %s THEN %s ELSE {table}.claimed_at END, "
        f"next_attempt_at = {next_attempt}, lease_expires_at = {lease} "
        f"FROM (VALUES {values}) AS v "
        f"WHERE {table}.id = v.column1 AND {table}.claim_token = %s "
        f"AND ({table}.status = %s OR ({table}.status = %s AND v.column2 <> %s)) "
        f"RETURNING {table}.id, {table}.status"
    )
    params = [Status.SENDING, Status.SENT, _dt(now), Status.SENDING, _dt(now)]
    params += next_params + lease_params + value_params
    params += [token, Status.SENDING, Status.UNKNOWN, Status.SENDING]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed = cursor.fetchall()
    if returning == "all":
        return {pk for pk, _ in changed}
    return {pk for pk, status in changed if status == Status.SENDING}


def reap_expired_leases(now: datetime | None = None) -> tuple[int, int]:
    """Release the rows of batches whose lease ran out (the worker died or hung): those in hand
    become "unknown", those only reserved go back to the queue. Returns (unknown, requeued)."""
    now = now or timezone.now()
    expired = Delivery.objects.filter(status=Status.SENDING, lease_expires_at__lt=now)
    unknown = expired.filter(claimed_at__isnull=False).update(
        status=Status.UNKNOWN, lease_expires_at=None, error=UNKNOWN_ERROR
    )
    requeued = expired.filter(claimed_at__isnull=True).update(
        status=Status.QUEUED,
        claim_token="",
        lease_expires_at=None,
        next_attempt_at=None,
        error=REQUEUED_ERROR,
    )
    return unknown, requeued
