"""What operations keeps: each queue's worker heartbeat, a bounded history of readiness samples,
and the request id of each task enqueued during a request."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The canary of one task queue: `requested_at` is when a heartbeat task was last enqueued,
    `beat_at` when a worker last ran one. A request newer than the last beat is outstanding."""

    queue_name = models.CharField(max_length=32, unique=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)
    # host:pid of the worker that ran the last heartbeat; shown to staff only, never by /readyz.
    worker = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"Heartbeat of the {self.queue_name} queue"


class HealthSample(models.Model):
    """One readiness check, kept for the status page's history (at most one a minute)."""

    taken_at = models.DateTimeField(db_index=True)
    ready = models.BooleanField()
    # The failing components, comma-separated ("" when ready).
    failing = models.CharField(max_length=200, blank=True)
    database_ms = models.FloatField(null=True, blank=True)
    queue_depth = models.IntegerField(null=True, blank=True)
    oldest_task_age = models.FloatField(null=True, blank=True, help_text="seconds")
    heartbeat_wait = models.FloatField(null=True, blank=True, help_text="seconds")

    class Meta:
        ordering = ["-taken_at"]
        # The status page is for managing editors (migration 0002 gives them this permission).
        permissions = [("view_status", "Can see the operations status page")]

    def __str__(self) -> str:
        return f"{'ready' if self.ready else 'not ready'} at {self.taken_at:%Y-%m-%d %H:%M:%S}"


class TaskOrigin(models.Model):
    """The request id of a task enqueued while one was set, until a worker picks the task up."""

    task_id = models.CharField(max_length=64, unique=True)
    request_id = models.CharField(max_length=64)
    enqueued_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"task {self.task_id} from request {self.request_id}"
