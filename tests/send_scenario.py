"""The send tests' scenario: what goes into a throwaway database, and what is read back from it.

- Run inside a project process (`python -m tests.send_scenario COMMAND`, with DATABASE_URL of a
  throwaway database from tests/processes.py): `seed` (a published issue and subscribers),
  `dispatch` (enqueue a send's batches once more), `claim-race` (claim rows as fast as possible).
- Used by the test process: `SendObserver`, which reads sends, deliveries and task results with
  plain SQL on the models' own table names, and `cron()`, which runs the documented periodic step
  (`manage.py send_issue --reap --every N`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.processes import DEFER_DOMAIN, MANAGE, REJECT_DOMAIN, ThrowawayDatabase, Worker, WorkerPool

# Reading a send's state (from the test process) --------------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    status: str
    email: str
    esp_message_id: str
    attempts: int
    error: str


class SendObserver:
    """Reads sends, deliveries and task results from a throwaway database with plain SQL, on the
    models' own table names (so the test never shares a connection with the workers)."""

    def __init__(self, db: ThrowawayDatabase) -> None:
        from django_tasks_db.models import DBTaskResult

        from subscribers.models import Delivery, Send, Subscriber

        self.db = db
        self.send_table = Send._meta.db_table
        self.delivery_table = Delivery._meta.db_table
        self.subscriber_table = Subscriber._meta.db_table
        self.task_table = DBTaskResult._meta.db_table

    def send(self, issue_number: int, kind: str = "full") -> tuple[int, str]:
        """(id, status) of the issue's send of `kind`."""
        rows = self.db.query(
            f"SELECT s.id, s.status FROM {self.send_table} s JOIN newsletter_issue i ON i.id = s.issue_id "
            "WHERE i.number = ? AND s.kind = ?",
            [issue_number, kind],
        )
        assert len(rows) == 1, f"expected one {kind} send of issue {issue_number}, found {rows}"
        return rows[0]

    def counts(self, send_id: int) -> dict[str, int]:
        rows = self.db.query(
            f"SELECT status, count(*) FROM {self.delivery_table} WHERE send_id = ? GROUP BY status", [send_id]
        )
        return dict(rows)

    def pending(self, send_id: int, limit: int = 10) -> str:
        """The counts by status, and the first deliveries still queued or in flight (for failures)."""
        rows = self.db.query(
            "SELECT id, status, attempts, next_attempt_at, lease_expires_at, error "
            f"FROM {self.delivery_table} WHERE send_id = ? AND status IN ('queued', 'sending') "
            "ORDER BY id LIMIT ?",
            [send_id, limit],
        )
        columns = "(id, status, attempts, next attempt, lease, error)"
        return f"{self.counts(send_id)}; first pending {columns}: {rows}"

    def in_flight(self, send_id: int) -> set[tuple[int, str]]:
        """(id, claim token) of the send's deliveries that are "sending" now."""
        rows = self.db.query(
            f"SELECT id, claim_token FROM {self.delivery_table} WHERE send_id = ? AND status = 'sending'",
            [send_id],
        )
        return {(row[0], row[1]) for row in rows}

    def deliveries(self, send_id: int) -> dict[int, DeliveryRow]:
        rows = self.db.query(
            "SELECT d.id, d.status, s.email, d.esp_message_id, d.attempts, d.error "
            f"FROM {self.delivery_table} d JOIN {self.subscriber_table} s ON s.id = d.subscriber_id "
            "WHERE d.send_id = ?",
            [send_id],
        )
        return {row[0]: DeliveryRow(*row) for row in rows}

    def tasks(self) -> dict[str, int]:
        """How many task results there are in each status (READY, RUNNING, SUCCESSFUL, FAILED)."""
        return dict(self.db.query(f"SELECT status, count(*) FROM {self.task_table} GROUP BY status"))

    def failed_tasks(self) -> list[str]:
        """The traceback of every task that failed (a worker killed mid-task leaves it RUNNING)."""
        rows = self.db.query(
            f"SELECT task_path, traceback FROM {self.task_table} WHERE status = ?", ["FAILED"]
        )
        return [f"{path}: {traceback}" for path, traceback in rows]


def cron(env: dict[str, str], directory: Path, interval: float = 1.0) -> WorkerPool:
    """The documented periodic step every `interval` seconds, in one long-lived process:
    `manage.py send_issue --reap --every <interval>`."""
    args = [MANAGE, "send_issue", "--reap", "--every", str(interval)]
    return WorkerPool([Worker("cron", args, env, directory / "cron.log")])


# Seeding (runs inside a project process) -------------------------------------------------------


def seed(*, subscribers: int, issue_number: int, refused_every: int = 0, greylisted_every: int = 0) -> dict:
    """A published issue in three sections and `subscribers` active, confirmed subscribers
    (see `add_subscribers`)."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from newsletter.models import Issue, PaperSummary, Section

    with transaction.atomic():
        sections = [
            Section.objects.create(name=name, slug=name.lower(), position=index)
            for index, name in enumerate(["Robustness", "Monitoring", "Alignment"])
        ]
        issue = Issue.objects.create(
            number=issue_number,
            title=f"Crash-proof sending, issue {issue_number}",
            subject=f"ML Safety Newsletter #{issue_number}",
            preheader="Robustness, monitoring and alignment research.",
            intro="This week: *adversarial robustness* and anomaly detection.",
            status=Issue.Status.PUBLISHED,
            published_at=timezone.now() - timedelta(hours=1),
        )
        for position, section in enumerate(sections):
            PaperSummary.objects.create(
                issue=issue,
                section=section,
                position=position,
                kind=PaperSummary.Kind.NEWS,
                headline=f"News in {section.name}",
                body=f"Something happened in **{section.name.lower()}** ([link](https://example.org/{position})).",
            )
        created = add_subscribers(
            subscribers, sections, refused_every=refused_every, greylisted_every=greylisted_every
        )
    return {"issue": issue.number, "subscribers": created}


def add_subscribers(
    count: int, sections: Sequence, *, refused_every: int = 0, greylisted_every: int = 0, chunk: int = 5000
) -> int:
    """`count` active, confirmed subscribers, inserted `chunk` at a time (never all in memory).

    One in five reads plain text; one in four chose the first two of `sections` (more rendering
    variants). Every `refused_every`-th address is at REJECT_DOMAIN, which the sink refuses for
    good, and every `greylisted_every`-th at DEFER_DOMAIN, which it refuses once (0: none).
    """
    from django.utils import timezone

    from subscribers.addresses import address_hash
    from subscribers.models import Subscriber

    now = timezone.now()
    through = Subscriber.sections.through
    for first in range(0, count, chunk):
        rows = []
        for index in range(first, min(first + chunk, count)):
            domain = "example.com"
            if refused_every and index % refused_every == refused_every - 1:
                domain = REJECT_DOMAIN
            elif greylisted_every and index % greylisted_every == greylisted_every - 2:
                domain = DEFER_DOMAIN
            email = f"reader{index:06d}@{domain}"
            rows.append(
                Subscriber(
                    email=email,
                    email_hash=address_hash(email),
                    name=f"Reader {index}",
                    status=Subscriber.Status.ACTIVE,
                    format=Subscriber.Format.TEXT if index % 5 == 0 else Subscriber.Format.HTML,
                    confirmed_at=now,
                    consent_at=now,
                )
            )
        created = Subscriber.objects.bulk_create(rows)
        picks = [
            through(subscriber_id=subscriber.pk, section_id=section.pk)
            for subscriber in created[::4]
            for section in sections[:2]
        ]
        through.objects.bulk_create(picks)
    return count


def claim_race(send_id: int, limit: int, start_at: float) -> dict:
    """Claim batches of the send until none is left, starting at `start_at` (epoch seconds, so that
    several processes start together); returns the ids this process claimed, batch by batch.

    Only claims: nothing is sent or recorded, so every row claimed stays "sending" and a row
    claimed twice can only mean two claims took it."""
    from django.conf import settings
    from django.db import connection

    from subscribers.models import Delivery, Send
    from subscribers.sending.claims import claim_batch

    send = Send.objects.get(pk=send_id)
    connection.ensure_connection()
    time.sleep(max(start_at - time.time(), 0))
    batches = []
    while token := claim_batch(send, limit, settings.SEND_LEASE_SECONDS):
        batches.append(list(Delivery.objects.filter(claim_token=token).values_list("pk", flat=True)))
    return {"pid": os.getpid(), "batches": batches}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Helpers run inside a project process.")
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help=seed.__doc__.splitlines()[0])
    seeding.add_argument("--subscribers", type=int, required=True)
    seeding.add_argument("--issue", type=int, required=True)
    seeding.add_argument("--refused-every", type=int, default=0)
    seeding.add_argument("--greylisted-every", type=int, default=0)
    dispatching = commands.add_parser("dispatch", help="enqueue the send's batches again (a duplicated task)")
    dispatching.add_argument("--send", type=int, required=True)
    racing = commands.add_parser("claim-race", help=claim_race.__doc__.splitlines()[0])
    racing.add_argument("--send", type=int, required=True)
    racing.add_argument("--limit", type=int, required=True)
    racing.add_argument("--start-at", type=float, required=True)
    args = parser.parse_args(argv)

    import django

    django.setup()
    if args.command == "dispatch":
        from subscribers import tasks

        result = {"task": tasks.dispatch_send.enqueue(args.send).id}
    elif args.command == "claim-race":
        result = claim_race(args.send, args.limit, args.start_at)
    elif args.command == "seed":
        result = seed(
            subscribers=args.subscribers,
            issue_number=args.issue,
            refused_every=args.refused_every,
            greylisted_every=args.greylisted_every,
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
