"""Numbers for the subscribers admin page: counts per status and section, and weekly growth.

The growth chart is an SVG drawn on the server from `growth_chart(weeks)`: bars for new
subscribers (confirmations) and unsubscribes per week, no JavaScript, no CDN. Erased subscribers
leave no row behind, so they drop out of past weeks too; that is the point of erasing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from newsletter.models import Section

from .models import Subscriber

Status = Subscriber.Status

CHART_WIDTH = 760
CHART_HEIGHT = 240
_PLOT_LEFT = 40
_PLOT_TOP = 16
_PLOT_BOTTOM = 36
_PLOT_RIGHT = 8


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
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    joined_bars: list[Bar]
    left_bars: list[Bar]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, int]]
    baseline: float
    x_label_y: float
    y_label_x: float
    plot_left: float
    plot_right: float
    weeks: list[Week]
    total_joined: int
    total_left: int


def growth_chart(weeks: list[Week]) -> Chart:
    """Geometry for the SVG bar chart of `weeks`; the template only draws it."""
    plot_width = CHART_WIDTH - _PLOT_LEFT - _PLOT_RIGHT
    plot_height = CHART_HEIGHT - _PLOT_TOP - _PLOT_BOTTOM
    baseline = _PLOT_TOP + plot_height
    top = max([1, *(w.joined for w in weeks), *(w.left for w in weeks)])
    top = _nice_ceiling(top)
    slot = plot_width / max(len(weeks), 1)
    bar_width = max(slot * 0.36, 1)
    joined_bars, left_bars, x_labels = [], [], []
    for index, week in enumerate(weeks):
        x = _PLOT_LEFT + index * slot + slot * 0.12
        label = week.start.strftime("%d %b %Y")
        for bars, value, offset, what in (
            (joined_bars, week.joined, 0, "joined"),
            (left_bars, week.left, bar_width, "left"),
        ):
            height = plot_height * value / top
            bars.append(
                Bar(
                    round(x + offset, 1),
                    round(baseline - height, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    value,
                    f"Week of {label}: {value} {what}",
                )
            )
        if index % 4 == 0:
            x_labels.append((round(x + bar_width, 1), week.start.strftime("%d %b")))
    y_ticks = [(round(baseline - plot_height * value / top, 1), value) for value in (0, top // 2, top)]
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        joined_bars=joined_bars,
        left_bars=left_bars,
        x_labels=x_labels,
        y_ticks=y_ticks,
        baseline=baseline,
        x_label_y=baseline + 16,
        y_label_x=_PLOT_LEFT - 6,
        plot_left=_PLOT_LEFT,
        plot_right=CHART_WIDTH - _PLOT_RIGHT,
        weeks=weeks,
        total_joined=sum(w.joined for w in weeks),
        total_left=sum(w.left for w in weeks),
    )


def _nice_ceiling(value: int) -> int:
    """The smallest of 2, 4, 10, 20, 40, 100, ... (or an even number below 10) at least `value`."""
    if value <= 10:
        return value + (value % 2)
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 4, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude
