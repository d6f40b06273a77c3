"""The admin's charts, drawn on the server as SVG: the geometry is computed here, templates only draw it.

Two charts use it: the subscribers list's weekly growth (bars, `stats.growth_chart`) and a send's
opens and clicks over time (lines, `tracking.analytics.timeline_chart`). Both are drawn by
templates/admin/subscribers/_chart.svg (a title for screen readers, gridlines at the y ticks, a
baseline, x labels) with their marks in between, each mark titled with its count; the figure's
caption carries the legend (static/css/charts.css) and a table of the figures follows the chart.
No JavaScript, no CDN.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WIDTH = 760
HEIGHT = 240


@dataclass(frozen=True)
class Frame:
    """A chart's size, and the margins around its plot that leave room for the axis labels."""

    left: int
    right: int
    top: int = 16
    bottom: int = 36
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> int:
        return self.top + self.plot_height

    def rise(self, value: int, ceiling: int) -> float:
        """How far above the baseline `value` stands on an axis from 0 to `ceiling`."""
        return self.plot_height * value / ceiling

    def y(self, value: int, ceiling: int) -> float:
        return round(self.baseline - self.rise(value, ceiling), 1)


@dataclass(frozen=True)
class Axes:
    """What surrounds a chart's marks: the SVG's size, gridlines at the y ticks, the baseline and
    the x labels ((x, text) pairs)."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    baseline: float
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    y_label_x: float
    x_label_y: float


def axes(frame: Frame, ceiling: int, x_labels: list[tuple[float, str]]) -> Axes:
    """The axes of a chart from 0 to `ceiling`, ticked at 0, half way and the top."""
    return Axes(
        width=frame.width,
        height=frame.height,
        plot_left=frame.left,
        plot_right=frame.width - frame.right,
        baseline=frame.baseline,
        y_ticks=[(frame.y(value, ceiling), value) for value in (0, ceiling // 2, ceiling)],
        x_labels=x_labels,
        y_label_x=frame.left - 6,
        x_label_y=frame.baseline + 16,
    )


def nice_ceiling(value: int) -> int:
    """The smallest of 2, 4, 10, 20, 40, 100, ... (or an even number below 10) at least `value`."""
    if value <= 10:
        return value + (value % 2)
    magnitude: int = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 4, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def ceiling_for(*series: Iterable[int]) -> int:
    """The top of a y axis that every count of `series` fits under (at least 2: an empty chart
    still has an axis)."""
    return nice_ceiling(max([1, *(value for values in series for value in values)]))


@dataclass(frozen=True)
class Series:
    """One thing counted per slot of the x axis: `name` ends each mark's title ("…: 4 joined")."""

    name: str
    values: Sequence[int]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


def bars(
    frame: Frame, slots: Sequence[str], series: Sequence[Series], ceiling: int
) -> tuple[list[list[Bar]], list[float]]:
    """Bars side by side in each slot, one per series: (each series' bars, each slot's middle for its
    x label). `slots` name the slots in the bars' titles ("Week of 03 Mar 2025: 4 joined")."""
    slot = frame.plot_width / max(len(slots), 1)
    # The group of bars fills 72% of its slot, with a gap of 12% before it.
    bar_width = max(slot * 0.72 / len(series), 1)
    drawn: list[list[Bar]] = [[] for _ in series]
    middles = []
    for index, title in enumerate(slots):
        x = frame.left + index * slot + slot * 0.12
        for offset, (marks, counted) in enumerate(zip(drawn, series, strict=True)):
            value = counted.values[index]
            height = frame.rise(value, ceiling)
            marks.append(
                Bar(
                    round(x + offset * bar_width, 1),
                    round(frame.baseline - height, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    value,
                    f"{title}: {value} {counted.name}",
                )
            )
        middles.append(round(x + bar_width * len(series) / 2, 1))
    return drawn, middles


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    label: str

    @property
    def square(self) -> tuple[float, float]:
        """The top-left corner of a 6-unit square marker centred on the point."""
        return round(self.x - 3, 1), round(self.y - 3, 1)


def points(
    frame: Frame, slots: Sequence[str], series: Sequence[Series], ceiling: int
) -> tuple[list[list[Point]], list[float]]:
    """A point per slot and series, the first slot on the y axis and the last at the plot's right:
    (each series' points, each slot's x). `slots` name the slots in the points' titles."""
    step = frame.plot_width / max(len(slots) - 1, 1)
    xs = [round(frame.left + index * step, 1) for index in range(len(slots))]
    drawn = [
        [
            Point(x, frame.y(value, ceiling), value, f"{title}: {value} {counted.name}")
            for x, title, value in zip(xs, slots, counted.values, strict=True)
        ]
        for counted in series
    ]
    return drawn, xs


def polyline(line: Iterable[Point]) -> str:
    """The `points` attribute of an SVG polyline through `line`."""
    return " ".join(f"{point.x},{point.y}" for point in line)
