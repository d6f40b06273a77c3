"""A send's progress as the admin's progress bar shows it: counts by status, the recent rate, an ETA.

The rate is the messages sent over the time they took: over the last RATE_WINDOW (5 minutes) of a
running send, or of the last stretch of a finished one, but never over time before the send
started. So five messages sent in the first two seconds read "2.5 per second", not "1 per minute"
(five spread over the whole window). It is shown in the unit that reads best: per second from
one a second, else per minute, else per hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from ..models import Delivery, Send

Status = Delivery.Status
RATE_WINDOW = timedelta(minutes=5)


def progress(send: Send) -> dict[str, Any]:
    """Counts by status, the recent rate and an ETA, as the admin's progress bar shows them."""
    send.refresh_from_db(fields=["status", "created_at", "finished_at", "cancelled_at"])
    counts = dict(
        Delivery.objects.filter(send=send)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    data: dict[str, Any] = {status.value: counts.get(status.value, 0) for status in Status}
    total = sum(counts.values())
    remaining = data[Status.QUEUED] + data[Status.SENDING]
    per_second = sending_rate(send)
    eta = None
    if remaining and send.status == Send.Status.SENDING and per_second > 0:
        eta = round(remaining / per_second)
    data.update(
        {
            "id": send.pk,
            "status": send.status,
            "status_label": send.get_status_display(),
            "total": total,
            "remaining": remaining,
            "done": total - remaining,
            "percent": round(100 * (total - remaining) / total, 1) if total else 100.0,
            "rate_per_second": round(per_second, 2),
            "rate_per_minute": round(per_second * 60, 1),
            "rate": describe_rate(per_second),
            "eta_seconds": eta,
            "finished_at": send.finished_at.isoformat() if send.finished_at else None,
        }
    )
    return data


def sending_rate(send: Send, now: datetime | None = None) -> float:
    """Messages per second over the recent stretch of the send (see the module docstring)."""
    end = now or timezone.now()
    if send.status not in (Send.Status.SENDING, Send.Status.PAUSED):
        end = min(end, send.finished_at or send.cancelled_at or end)
    start = max(end - RATE_WINDOW, send.created_at)
    sent = Delivery.objects.filter(
        send=send, status=Status.SENT, sent_at__gte=start, sent_at__lte=end
    ).count()
    elapsed = max((end - start).total_seconds(), 1.0)
    return sent / elapsed


def describe_rate(per_second: float) -> str:
    """ "2.5 per second", "40 per minute", "3 per hour"; "–" when nothing is going out."""
    for unit, factor in (("second", 1), ("minute", 60), ("hour", 3600)):
        value = per_second * factor
        if value >= 1 or unit == "hour":
            break
    if value < 0.05:
        return "–"
    shown = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
    return f"{shown} per {unit}"
