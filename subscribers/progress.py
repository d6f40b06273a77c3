"""A send's progress as the admin's progress bar shows it: counts by status, the recent rate, an ETA."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from .models import Delivery, Send

Status = Delivery.Status
RATE_WINDOW = timedelta(minutes=5)


def progress(send: Send) -> dict[str, Any]:
    """Counts by status, the recent rate and an ETA, as the admin's progress bar shows them."""
    counts = dict(
        Delivery.objects.filter(send=send)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    now = timezone.now()
    data: dict[str, Any] = {status.value: counts.get(status.value, 0) for status in Status}
    total = sum(counts.values())
    remaining = data[Status.QUEUED] + data[Status.SENDING]
    recent = Delivery.objects.filter(send=send, status=Status.SENT, sent_at__gte=now - RATE_WINDOW).count()
    per_second = recent / RATE_WINDOW.total_seconds()
    eta = None
    if remaining and send.status == Send.Status.SENDING and per_second > 0:
        eta = round(remaining / per_second)
    send.refresh_from_db(fields=["status", "finished_at"])
    data.update(
        {
            "id": send.pk,
            "status": send.status,
            "status_label": send.get_status_display(),
            "total": total,
            "remaining": remaining,
            "done": total - remaining,
            "percent": round(100 * (total - remaining) / total, 1) if total else 100.0,
            "rate_per_minute": round(per_second * 60, 1),
            "eta_seconds": eta,
            "finished_at": send.finished_at.isoformat() if send.finished_at else None,
        }
    )
    return data
