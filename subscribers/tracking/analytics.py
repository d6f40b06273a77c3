"""Send analytics: what happened to one send's messages, from its deliveries and the ESP's events.

Each function is a constant number of aggregate queries, whatever the size of the send:
`send_totals` (two), `clicks_per_link` (one), `timeline` (one). `analytics_context` gathers them
for the send's admin page, whose chart is an SVG drawn on the server with subscribers/charts.py (no
JavaScript, no CDN).

What the numbers mean:
- *sent*: handed to the ESP (status sent). *delivered*: the ESP reported a delivery, or the person
  opened, clicked or complained (each proves it arrived), and it did not bounce.
- *bounced*: the ESP reported a bounce or a rejection (hard or soft; only hard bounces suppress).
- *opened*, *clicked*: unique, per delivery. Opens are a lower bound (images blocked) and an upper
  bound at once (privacy proxies fetch every image), so they are counted but never relied on.
- *unsubscribed*: the ESP reported an unsubscribe, or the person unsubscribed after this message
  was sent and before any later one was.
- Rates are over *delivered* (over *sent* while no delivery has been reported, e.g. with an ESP
  whose delivery webhook is off); bounce and delivery rates are over *sent*.

Open and click tracking are off unless settings.TRACK_OPENS / TRACK_CLICKS turn them on for the
publication; `tracking_options()` is what the send pipeline passes to Anymail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from .. import charts
from ..models import Delivery, DeliveryEvent, Send

Status = Delivery.Status
EventType = DeliveryEvent.EventType

HOUR, DAY, WEEK = "hour", "day", "week"
# The timeline picks the finest bucket that keeps the chart readable.
_MAX_HOURS = 72
_MAX_DAYS = 120

_FRAME = charts.Frame(left=44, right=24)  # room on the right for the last x label, centred on the last point


def tracking_options() -> dict[str, bool]:
    """Anymail's per-message tracking options for issue emails: both off unless the publication
    turns them on (settings.TRACK_OPENS, TRACK_CLICKS); the hand-over asks only for enabled ones."""
    return {
        "track_opens": bool(getattr(settings, "TRACK_OPENS", False)),
        "track_clicks": bool(getattr(settings, "TRACK_CLICKS", False)),
    }


# Totals ------------------------------------------------------------------------------------------


def _delivered() -> Q:
    proof = (
        Q(delivered_at__isnull=False)
        | Q(opened_at__isnull=False)
        | Q(first_click_at__isnull=False)
        | Q(complained_at__isnull=False)
    )
    return proof & Q(bounced_at__isnull=True)


def send_totals(send: Send) -> dict[str, Any]:
    """Counts for the send, and rates (fractions, None where the base is zero)."""
    totals = Delivery.objects.filter(send=send).aggregate(
        recipients=Count("pk"),
        queued=Count("pk", filter=Q(status__in=[Status.QUEUED, Status.SENDING])),
        sent=Count("pk", filter=Q(status=Status.SENT)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        unknown=Count("pk", filter=Q(status=Status.UNKNOWN)),
        skipped=Count("pk", filter=Q(status__in=[Status.SKIPPED, Status.CANCELLED])),
        delivered=Count("pk", filter=_delivered()),
        bounced=Count("pk", filter=Q(bounced_at__isnull=False)),
        complained=Count("pk", filter=Q(complained_at__isnull=False)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(first_click_at__isnull=False)),
    )
    totals["unsubscribed"] = _unsubscribed(send)
    totals["rates"] = _rates(totals)
    return totals


def _unsubscribed(send: Send) -> int:
    reported_by_esp = Exists(
        DeliveryEvent.objects.filter(delivery=OuterRef("pk"), event_type=EventType.UNSUBSCRIBED)
    )
    # The person's last unsubscribe came after this message and before any later one reached them.
    later_message = Delivery.objects.filter(
        subscriber=OuterRef("subscriber"),
        sent_at__gt=OuterRef("sent_at"),
        sent_at__lte=OuterRef("subscriber__unsubscribed_at"),
    )
    after_this_message = Q(subscriber__unsubscribed_at__gte=F("sent_at")) & ~Exists(later_message)
    return (
        Delivery.objects.filter(send=send, sent_at__isnull=False)
        .filter(Q(reported_by_esp) | after_this_message)
        .count()
    )


def _rates(totals: dict[str, int]) -> dict[str, float | None]:
    def ratio(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    sent, delivered = totals["sent"], totals["delivered"]
    base = delivered or sent
    return {
        "base": "delivered" if delivered else "sent",
        "delivered": ratio(delivered, sent),
        "bounced": ratio(totals["bounced"], sent),
        "complained": ratio(totals["complained"], base),
        "unsubscribed": ratio(totals["unsubscribed"], base),
        "opened": ratio(totals["opened"], base),
        "clicked": ratio(totals["clicked"], base),
        "click_to_open": ratio(totals["clicked"], totals["opened"]),
    }


# Links -------------------------------------------------------------------------------------------


def clicks_per_link(send: Send, limit: int = 100) -> list[dict[str, Any]]:
    """[{"url", "clicks", "clickers"}], most clicked first; clickers are unique deliveries."""
    rows = (
        DeliveryEvent.objects.filter(send=send, event_type=EventType.CLICKED)
        .exclude(url="")
        .values("url")
        .annotate(clicks=Count("pk"), clickers=Count("delivery", distinct=True))
        .order_by("-clicks", "url")[:limit]
    )
    return list(rows)


# Timeline ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start: datetime
    opens: int
    clicks: int


def timeline(send: Send, bucket: str | None = None) -> tuple[str, list[Bucket]]:
    """Opens and clicks per hour, day or week since the send started: (bucket, buckets), oldest
    first, empty buckets included. Without `bucket`, the finest that keeps the chart readable."""
    when = Coalesce("occurred_at", "received_at")
    tz = timezone.get_current_timezone()
    rows = (
        DeliveryEvent.objects.filter(send=send, event_type__in=[EventType.OPENED, EventType.CLICKED])
        .annotate(hour=TruncHour(when, tzinfo=tz))
        .values_list("hour", "event_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    start = timezone.localtime(send.created_at, tz)
    now = timezone.localtime(timezone.now(), tz)
    per_hour: dict[tuple[datetime, str], int] = {}
    for hour, event_type, n in rows:
        # An ESP's clock can be off: events are kept between the send's start and now.
        key = (min(max(timezone.localtime(hour, tz), start), now), event_type)
        per_hour[key] = per_hour.get(key, 0) + n
    last = max([start, *(hour for hour, _ in per_hour)])
    if bucket is None:
        span = last - start
        bucket = (
            HOUR
            if span <= timedelta(hours=_MAX_HOURS)
            else DAY
            if span <= timedelta(days=_MAX_DAYS)
            else WEEK
        )
    counts: dict[datetime, list[int]] = {}
    for (hour, event_type), n in per_hour.items():
        slot = counts.setdefault(_bucket_start(hour, bucket), [0, 0])
        slot[0 if event_type == EventType.OPENED else 1] += n
    buckets = []
    current, end = _bucket_start(start, bucket), _bucket_start(last, bucket)
    while current <= end:
        opens, clicks = counts.get(current, (0, 0))
        buckets.append(Bucket(current, opens, clicks))
        current = _next_bucket(current, bucket)
    return bucket, buckets


def _bucket_start(moment: datetime, bucket: str) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    if bucket == HOUR:
        return moment
    day = moment.replace(hour=0)
    if bucket == DAY:
        return day
    return day - timedelta(days=day.weekday())


def _next_bucket(moment: datetime, bucket: str) -> datetime:
    if bucket == HOUR:  # an hour of elapsed time, also across a daylight-saving change
        return (moment.astimezone(UTC) + timedelta(hours=1)).astimezone(moment.tzinfo)
    # Aware arithmetic is wall-clock time: the next day starts at midnight whatever the offset.
    return moment + (timedelta(days=1) if bucket == DAY else timedelta(weeks=1))


# The chart ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    axes: charts.Axes
    bucket: str
    opens: list[charts.Point]
    clicks: list[charts.Point]
    opens_path: str
    clicks_path: str
    buckets: list[Bucket]
    total_opens: int
    total_clicks: int


_LABEL_FORMATS = {
    HOUR: ("%d %b %H:00", "%H:00"),
    DAY: ("%d %b %Y", "%d %b"),
    WEEK: ("week of %d %b %Y", "%d %b"),
}


def timeline_chart(bucket: str, buckets: list[Bucket]) -> Chart:
    """Geometry for the SVG line chart of opens and clicks; the template only draws it."""
    opens = charts.Series("opens", [item.opens for item in buckets])
    clicks = charts.Series("clicks", [item.clicks for item in buckets])
    ceiling = charts.ceiling_for(opens.values, clicks.values)
    long_format, short_format = _LABEL_FORMATS[bucket]
    titles = [item.start.strftime(long_format) for item in buckets]
    (open_points, click_points), xs = charts.points(_FRAME, titles, [opens, clicks], ceiling)
    label_every = max(1, -(-len(buckets) // 8))
    x_labels = []
    last_day: date | None = None
    for index in range(0, len(buckets), label_every):
        start = buckets[index].start
        # An hourly axis names the day where it changes.
        new_day = bucket == HOUR and start.date() != last_day
        x_labels.append((xs[index], start.strftime("%d %b" if new_day else short_format)))
        last_day = start.date()
    return Chart(
        axes=charts.axes(_FRAME, ceiling, x_labels),
        bucket=bucket,
        opens=open_points,
        clicks=click_points,
        opens_path=charts.polyline(open_points),
        clicks_path=charts.polyline(click_points),
        buckets=buckets,
        total_opens=sum(opens.values),
        total_clicks=sum(clicks.values),
    )


def analytics_context(send: Send) -> dict[str, Any]:
    """What the send's admin page shows in its analytics panel: the template reads it as
    `analytics` ({% include "admin/subscribers/send/_analytics.html" %})."""
    totals = send_totals(send)
    bucket, buckets = timeline(send)
    rates = totals["rates"]
    rows = [
        ("Recipients", totals["recipients"], None, ""),
        ("Sent", totals["sent"], None, ""),
        ("Delivered", totals["delivered"], rates["delivered"], "of sent"),
        ("Bounced", totals["bounced"], rates["bounced"], "of sent"),
        ("Complained (spam)", totals["complained"], rates["complained"], f"of {rates['base']}"),
        ("Unsubscribed", totals["unsubscribed"], rates["unsubscribed"], f"of {rates['base']}"),
        ("Opened (unique)", totals["opened"], rates["opened"], f"of {rates['base']}"),
        ("Clicked (unique)", totals["clicked"], rates["clicked"], f"of {rates['base']}"),
        ("Failed", totals["failed"], None, ""),
        ("Unknown (may have been sent)", totals["unknown"], None, ""),
    ]
    return {
        "totals": totals,
        "rows": [
            {"label": label, "count": count, "percent": _percent(rate), "base": base}
            for label, count, rate, base in rows
        ],
        "click_to_open": _percent(rates["click_to_open"]),
        "links": clicks_per_link(send),
        "chart": timeline_chart(bucket, buckets),
        "tracking": tracking_options(),
    }


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"
