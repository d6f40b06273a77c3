"""Background work of operations: the workers' heartbeat (health.py enqueues it)."""

from __future__ import annotations

from django_tasks import task

from . import health


@task()
def worker_heartbeat(queue_name: str) -> None:
    health.record_heartbeat(queue_name)
