"""The geometry of the admin's SVG charts (subscribers/charts.py), without a database or a template."""

from __future__ import annotations

import pytest

from subscribers import charts

FRAME = charts.Frame(left=40, right=8)  # 760 × 240: a plot 712 wide and 188 high, baseline at 204


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 0), (1, 2), (2, 2), (7, 8), (10, 10), (11, 20), (20, 20), (21, 40), (41, 50), (51, 100), (120, 200)],
)
def test_the_ceiling_is_a_round_number_at_least_the_value(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def test_an_empty_chart_still_has_an_axis():
    assert charts.ceiling_for([], [0, 0]) == 2
    assert charts.ceiling_for([3, 17], [5]) == 20


def test_the_axes_tick_the_bottom_the_middle_and_the_top():
    axes = charts.axes(FRAME, 20, [(60.0, "06 Jan")])
    assert axes.y_ticks == [(204.0, 0), (110.0, 10), (16.0, 20)]
    assert (axes.width, axes.height, axes.baseline) == (760, 240, 204)
    assert (axes.plot_left, axes.plot_right) == (40, 752)
    assert (axes.y_label_x, axes.x_label_y) == (34, 220)
    assert axes.x_labels == [(60.0, "06 Jan")]


def test_bars_stand_side_by_side_on_the_baseline():
    joined = charts.Series("joined", [10, 0, 20, 5])
    left = charts.Series("left", [2, 4, 0, 1])
    (joined_bars, left_bars), middles = charts.bars(
        FRAME, ["Week 1", "Week 2", "Week 3", "Week 4"], [joined, left], 20
    )
    assert [bar.value for bar in joined_bars] == [10, 0, 20, 5]
    assert all(bar.y + bar.height == FRAME.baseline for bar in joined_bars + left_bars)
    assert joined_bars[2].y == FRAME.top  # the top of the axis
    assert joined_bars[0].height == 94.0  # half the plot
    # A slot is 178 wide: a gap of 12%, then two bars of 36% each.
    assert [bar.x for bar in joined_bars] == [61.4, 239.4, 417.4, 595.4]
    assert all(bar.width == 64.1 for bar in joined_bars + left_bars)
    assert left_bars[0].x == 125.4
    assert middles == [125.4, 303.4, 481.4, 659.4]
    assert joined_bars[0].label == "Week 1: 10 joined"
    assert left_bars[3].label == "Week 4: 1 left"


def test_a_bar_is_at_least_one_unit_wide():
    (bars,), _ = charts.bars(FRAME, [str(n) for n in range(1000)], [charts.Series("n", [1] * 1000)], 2)
    assert all(bar.width == 1 for bar in bars)


def test_points_run_from_the_y_axis_to_the_plots_right_edge():
    opens = charts.Series("opens", [0, 5, 10])
    clicks = charts.Series("clicks", [1, 0, 2])
    (open_points, click_points), xs = charts.points(FRAME, ["9:00", "10:00", "11:00"], [opens, clicks], 10)
    assert xs == [40.0, 396.0, 752.0]
    assert [(point.x, point.y) for point in open_points] == [(40.0, 204.0), (396.0, 110.0), (752.0, 16.0)]
    assert [point.y for point in click_points] == [185.2, 204.0, 166.4]
    assert click_points[2].label == "11:00: 2 clicks"
    assert click_points[2].square == (749.0, 163.4)
    assert charts.polyline(open_points) == "40.0,204.0 396.0,110.0 752.0,16.0"


def test_a_single_point_stands_on_the_y_axis():
    (line,), xs = charts.points(FRAME, ["only"], [charts.Series("opens", [3])], 4)
    assert xs == [40.0]
    assert line[0].y == 63.0
