"""Numbers for the subscribers admin page: counts per status and section, and weekly growth.

The growth chart is an SVG drawn on the server from `growth_chart(weeks)` (with charts.py): bars
for new subscribers (confirmations) and unsubscribes per week, no JavaScript, no CDN. Erased subscribers
leave no row behind, so they drop out of past weeks too; that is the point of erasing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from newsletter.models import Section

from . import charts
from .models import Subscriber

Status = Subscriber.Status

_FRAME = charts.Frame(left=40, right=8)


def status_counts() -> list[tuple[str, int]]:
    """(label, count) for every status, zeros included, in the order of Status."""
    counts = dict(Subscriber.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return [(label, counts.get(value, 0)) for value, label in Status.choices]


@dataclass(frozen=True)
class SectionCount:
    section: Section
    chose: int  # active subscribers who picked it
    receiving: int  # those plus active subscribers who take every section


def section_counts() -> list[SectionCount]:
    everything = Subscriber.objects.filter(status=Status.ACTIVE, sections=None).count()
    sections = Section.objects.annotate(
        chose=Count("subscribers", filter=Q(subscribers__status=Status.ACTIVE), distinct=True)
    )
    return [SectionCount(section, section.chose, section.chose + everything) for section in sections]


@dataclass(frozen=True)
class Week:
    start: date
    joined: int
    left: int


def weekly_growth(weeks: int = 26, today: date | None = None) -> list[Week]:
    """Confirmations and unsubscribes per week (weeks start on Monday), oldest first."""
    today = today or timezone.localdate()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    joined = _per_week(Subscriber.objects.filter(confirmed_at__gte=since), "confirmed_at", first)
    left = _per_week(Subscriber.objects.filter(unsubscribed_at__gte=since), "unsubscribed_at", first)
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    return [Week(start, joined.get(start, 0), left.get(start, 0)) for start in starts]


def _per_week(queryset, field: str, first: date) -> dict[date, int]:
    # Grouping by day in the database and by week here works the same on SQLite and PostgreSQL.
    per_day = queryset.annotate(day=TruncDate(field)).values_list("day").annotate(n=Count("pk")).order_by()
    totals: dict[date, int] = {}
    for day, n in per_day:
        start = day - timedelta(days=day.weekday())
        totals[start] = totals.get(start, 0) + n
    return totals


@dataclass(frozen=True)
class Chart:
    axes: charts.Axes
    joined_bars: list[charts.Bar]
    left_bars: list[charts.Bar]
    weeks: list[Week]
    total_joined: int
    total_left: int

    @property
    def baseline(self) -> float:
        """Where every bar stands."""
        return self.axes.baseline


def growth_chart(weeks: list[Week]) -> Chart:
    """Geometry for the SVG bar chart of `weeks`; the template only draws it."""
    joined = charts.Series("joined", [week.joined for week in weeks])
    left = charts.Series("left", [week.left for week in weeks])
    ceiling = charts.ceiling_for(joined.values, left.values)
    titles = [f"Week of {week.start:%d %b %Y}" for week in weeks]
    (joined_bars, left_bars), middles = charts.bars(_FRAME, titles, [joined, left], ceiling)
    x_labels = [(middles[index], f"{week.start:%d %b}") for index, week in enumerate(weeks) if index % 4 == 0]
    return Chart(
        axes=charts.axes(_FRAME, ceiling, x_labels),
        joined_bars=joined_bars,
        left_bars=left_bars,
        weeks=weeks,
        total_joined=sum(joined.values),
        total_left=sum(left.values),
    )
