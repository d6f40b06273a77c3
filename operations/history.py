"""The readiness history: a sample at most once a minute, kept HEALTH_HISTORY_DAYS, and its chart.

Every readiness check offers its report (`offer`); a cache key lets through one a minute per
process, and the newest sample in the database decides across processes, so polling /readyz every
few seconds from several places still stores one row a minute. Storing a sample deletes those past
the history's length. The status page charts the last day in half-hour slots with
subscribers/charts.py: the longest wait of a due task and of a heartbeat in each slot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from subscribers import charts

from .health import Report
from .models import HealthSample

logger = logging.getLogger(__name__)

EVERY = timedelta(minutes=1)
CHART_SPAN = timedelta(days=1)
CHART_SLOT = timedelta(minutes=30)
_FRAME = charts.Frame(left=52, right=24)


def offer(report: Report) -> HealthSample | None:
    """Store `report` as a sample if none was stored in the last minute; the sample, or None."""
    try:
        if not cache.add("operations:history:gate", 1, timeout=EVERY.total_seconds()):
            return None
        if HealthSample.objects.filter(taken_at__gt=report.checked_at - EVERY).exists():
            return None
        sample = HealthSample.objects.create(**_fields(report))
        HealthSample.objects.filter(
            taken_at__lt=report.checked_at - timedelta(days=settings.HEALTH_HISTORY_DAYS)
        ).delete()
    except Exception:  # the database or the cache failed: the report says so, and nothing is kept
        return None
    return sample


def _fields(report: Report) -> dict[str, object]:
    database = report.check("database").values
    queue = report.check("queue").values
    workers = report.check("workers").values
    return {
        "taken_at": report.checked_at,
        "ready": report.ready,
        "failing": ",".join(report.failing)[:200],
        "database_ms": database.get("ms"),
        "queue_depth": queue.get("depth"),
        "oldest_task_age": queue.get("oldest_age_seconds"),
        "heartbeat_wait": workers.get("waiting_seconds"),
    }


def recent(now: datetime, span: timedelta = CHART_SPAN) -> list[HealthSample]:
    """The samples of the last `span`, oldest first."""
    return list(HealthSample.objects.filter(taken_at__gte=now - span).order_by("taken_at"))


def failures(limit: int = 20) -> list[HealthSample]:
    """The latest samples that were not ready, newest first."""
    return list(HealthSample.objects.filter(ready=False)[:limit])


# The chart ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    start: datetime
    samples: int
    not_ready: int
    # The longest waits in the slot, in whole seconds (0 where nothing waited).
    task_wait: int
    heartbeat_wait: int


@dataclass(frozen=True)
class Chart:
    axes: charts.Axes
    task_points: list[charts.Point]
    heartbeat_points: list[charts.Point]
    task_path: str
    heartbeat_path: str
    slots: list[Slot]
    samples: int
    not_ready: int


def slots(samples: list[HealthSample], now: datetime) -> list[Slot]:
    """The last day in half-hour slots, empty ones included, oldest first."""
    local_now = timezone.localtime(now)
    end = local_now.replace(minute=0 if local_now.minute < 30 else 30, second=0, microsecond=0) + CHART_SLOT
    count = int(CHART_SPAN / CHART_SLOT)
    starts = [end - CHART_SLOT * (count - index) for index in range(count)]
    grouped: list[list[HealthSample]] = [[] for _ in starts]
    for sample in samples:
        index = int((sample.taken_at - starts[0]) / CHART_SLOT)
        if 0 <= index < count:
            grouped[index].append(sample)
    return [
        Slot(
            start=start,
            samples=len(group),
            not_ready=sum(1 for sample in group if not sample.ready),
            task_wait=round(max([sample.oldest_task_age or 0 for sample in group], default=0)),
            heartbeat_wait=round(max([sample.heartbeat_wait or 0 for sample in group], default=0)),
        )
        for start, group in zip(starts, grouped, strict=True)
    ]


def chart(samples: list[HealthSample], now: datetime) -> Chart:
    """Geometry of the status page's line chart; the template only draws it."""
    day = slots(samples, now)
    tasks = charts.Series("s for the oldest due task", [slot.task_wait for slot in day])
    heartbeats = charts.Series("s for a heartbeat", [slot.heartbeat_wait for slot in day])
    ceiling = charts.ceiling_for(tasks.values, heartbeats.values)
    titles = [slot.start.strftime("%d %b %H:%M") for slot in day]
    (task_points, heartbeat_points), xs = charts.points(_FRAME, titles, [tasks, heartbeats], ceiling)
    x_labels = [(xs[index], day[index].start.strftime("%H:%M")) for index in range(0, len(day), 6)]
    return Chart(
        axes=charts.axes(_FRAME, ceiling, x_labels),
        task_points=task_points,
        heartbeat_points=heartbeat_points,
        task_path=charts.polyline(task_points),
        heartbeat_path=charts.polyline(heartbeat_points),
        slots=day,
        samples=len(samples),
        not_ready=sum(1 for sample in samples if not sample.ready),
    )
