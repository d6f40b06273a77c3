"""Is the site ready? The database, the cache, the task queue and its workers, each checked cheaply.

`readiness()` runs four checks and says which fail:

- database: `SELECT 1`, timed;
- cache: a value written and read back (Redis when REDIS_URL is set);
- queue: how many tasks are due and how long the oldest has waited (django-tasks-db's table, or
  the RQ queue); it fails when that wait passes HEALTH_QUEUE_MAX_AGE;
- workers: a heartbeat canary. At most once a minute a check enqueues `tasks.worker_heartbeat`
  on the queue the send pipeline uses (at its front on the database backend; RQ has no
  priorities), and a worker that runs it stamps the WorkerHeartbeat row. It fails when a heartbeat
  has been waiting for a worker longer than HEALTH_HEARTBEAT_MAX_AGE: no worker is taking tasks.
  An idle worker is thus seen alive without any task of its own, and a busy one within one task's
  time.

A poll costs three queries (one more, and an enqueue, once a minute). Reports carry statuses,
counts and ages only: never an error's message (it may name a host or a password), only its class.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, F, Min, Q, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django_tasks import DEFAULT_TASK_QUEUE_NAME, TaskResultStatus, task_backends
from django_tasks.base import TASK_MAX_PRIORITY

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

QUEUE = DEFAULT_TASK_QUEUE_NAME  # every task of the project, the send pipeline's included
HEARTBEAT_EVERY = timedelta(minutes=1)
# A heartbeat task lost on the way (a flushed Redis, a failed task) is enqueued again this often.
HEARTBEAT_RETRY = timedelta(minutes=10)
OK = "ok"
FAILING = "failing"
ERROR = "error"


@dataclass
class Check:
    name: str
    status: str = OK
    # What the check measured: numbers and short words, safe to show anyone.
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, **self.values}


@dataclass
class Report:
    checked_at: datetime
    checks: list[Check]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]

    def check(self, name: str) -> Check:
        return next(check for check in self.checks if check.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checked_at": self.checked_at.isoformat(),
            "failing": self.failing,
            "components": {check.name: check.as_dict() for check in self.checks},
        }


def readiness() -> Report:
    now = timezone.now()
    return Report(now, [_guarded("database", _database), _guarded("cache", _cache), *_queue_checks(now)])


def _guarded(name: str, measure: Any, *args: Any) -> Check:
    """Run one check; an exception is the component's failure, named by its class only."""
    try:
        return measure(*args)  # type: ignore[no-any-return]
    except Exception as exc:
        logger.warning(
            "Health check %s failed: %s", name, type(exc).__name__, extra={"event": "health.error"}
        )
        return Check(name, ERROR, {"error": type(exc).__name__})


def _database() -> Check:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check("database", values={"ms": round((time.perf_counter() - started) * 1000, 1)})


def _cache() -> Check:
    key, value = "operations:health:cache", uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        return Check("cache", FAILING, {"error": "the value written was not read back"})
    return Check("cache")


def _queue_checks(now: datetime) -> list[Check]:
    return [_guarded("queue", _queue, now), _guarded("workers", _workers, now)]


# The queue ---------------------------------------------------------------------------------------


def backend_kind() -> str:
    """ "db", "rq", "immediate" or the backend's class name."""
    backend = task_backends["default"]
    name = type(backend).__name__
    return {"DatabaseBackend": "db", "RQBackend": "rq", "ImmediateBackend": "immediate"}.get(name, name)


def _queue(now: datetime) -> Check:
    kind = backend_kind()
    if kind == "db":
        depth, oldest = _db_queue(now)
    elif kind == "rq":
        depth, oldest = _rq_queue()
    else:  # tasks run inline (or nowhere, in tests): there is no queue to wait in
        return Check("queue", values={"backend": kind, "depth": 0, "oldest_age_seconds": None})
    age = round(max((now - oldest).total_seconds(), 0.0), 1) if oldest else None
    status = FAILING if age is not None and age > settings.HEALTH_QUEUE_MAX_AGE else OK
    return Check(
        "queue",
        status,
        {
            "backend": kind,
            "depth": depth,
            "oldest_age_seconds": age,
            "max_age_seconds": settings.HEALTH_QUEUE_MAX_AGE,
        },
    )


def _db_queue(now: datetime) -> tuple[int, datetime | None]:
    """Due tasks (ready, and not deferred to later) and when the oldest became due, one query."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    never = get_date_max()  # django-tasks-db's "run as soon as possible"
    due = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, backend_name="default", queue_name=QUEUE
    ).filter(Q(run_after=never) | Q(run_after__lte=now))
    row = due.aggregate(
        depth=Count("pk"),
        oldest=Min(
            Case(When(run_after=never, then=F("enqueued_at")), default=Greatest("enqueued_at", "run_after"))
        ),
    )
    return row["depth"], row["oldest"]


def _rq_queue() -> tuple[int, datetime | None]:
    import django_rq

    queue = django_rq.get_queue(QUEUE)
    depth = queue.count
    first = queue.get_job_ids(0, 1)
    job = queue.fetch_job(first[0]) if first else None
    enqueued = job.enqueued_at if job is not None else None
    if enqueued is not None and timezone.is_naive(enqueued):
        enqueued = enqueued.replace(tzinfo=UTC)  # RQ keeps UTC
    return depth, enqueued


# The workers' heartbeat ------------------------------------------------------------------------


def _workers(now: datetime) -> Check:
    beat = WorkerHeartbeat.objects.filter(queue_name=QUEUE).first()
    waiting = _waiting(beat, now)
    if _heartbeat_due(beat, waiting, now):
        request_heartbeat(beat, now)
    max_age = settings.HEALTH_HEARTBEAT_MAX_AGE
    last = round((now - beat.beat_at).total_seconds(), 1) if beat and beat.beat_at else None
    values = {
        "last_heartbeat_age_seconds": last,
        "waiting_seconds": round(waiting.total_seconds(), 1) if waiting is not None else None,
        "max_wait_seconds": max_age,
    }
    status = FAILING if waiting is not None and waiting.total_seconds() > max_age else OK
    return Check("workers", status, values)


def _waiting(beat: WorkerHeartbeat | None, now: datetime) -> timedelta | None:
    """How long the last heartbeat task has waited for a worker (None when one ran it)."""
    if beat is None or beat.requested_at is None:
        return None
    if beat.beat_at is not None and beat.beat_at >= beat.requested_at:
        return None
    return now - beat.requested_at


def _heartbeat_due(beat: WorkerHeartbeat | None, waiting: timedelta | None, now: datetime) -> bool:
    if beat is None or beat.requested_at is None:
        return True
    if waiting is None:
        return now - beat.requested_at >= HEARTBEAT_EVERY
    # Still waiting: workers are busy or gone. Only a heartbeat lost on the way is sent again, and
    # the wait keeps counting from the first.
    if waiting < HEARTBEAT_RETRY:
        return False
    try:
        return bool(
            cache.add("operations:health:heartbeat-retry", 1, timeout=HEARTBEAT_RETRY.total_seconds())
        )
    except Exception:  # the cache check reports a broken cache; the heartbeat waits for it
        return False


def request_heartbeat(beat: WorkerHeartbeat | None, now: datetime) -> bool:
    """Enqueue a heartbeat task unless another check just did; True if this one did."""
    from . import tasks

    if beat is None:
        beat, claimed = WorkerHeartbeat.objects.get_or_create(
            queue_name=QUEUE, defaults={"requested_at": now}
        )
    elif _waiting(beat, now) is not None:
        claimed = True  # a retry: requested_at stays, so the wait is not hidden
    else:  # the conditional UPDATE lets one of several concurrent checks enqueue
        claimed = bool(
            WorkerHeartbeat.objects.filter(pk=beat.pk, requested_at=beat.requested_at).update(
                requested_at=now
            )
        )
    if not claimed:
        return False
    heartbeat = tasks.worker_heartbeat
    if heartbeat.get_backend().supports_priority:
        heartbeat = heartbeat.using(priority=TASK_MAX_PRIORITY)  # ahead of a long send's batches
    heartbeat.enqueue(QUEUE)
    return True


def record_heartbeat(queue_name: str) -> None:
    """What the heartbeat task does, in whichever worker runs it."""
    now = timezone.now()
    worker = f"{socket.gethostname()}:{os.getpid()}"[:200]
    if not WorkerHeartbeat.objects.filter(queue_name=queue_name).update(beat_at=now, worker=worker):
        WorkerHeartbeat.objects.get_or_create(
            queue_name=queue_name, defaults={"requested_at": now, "beat_at": now, "worker": worker}
        )


def heartbeat_row() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.filter(queue_name=QUEUE).first()
