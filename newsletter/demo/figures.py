"""Placeholder figures for the demo publication, drawn with Pillow.

Each drawing is a simple chart or diagram at 1600x900, deterministic for the same parameters (same
bytes every run), and marked "Illustrative placeholder" so nobody mistakes it for a paper's result.
`render(figure)` returns PNG bytes; the loader saves them through `PaperSummary.figure`.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Sequence
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from .records import FigureRecord

WIDTH, HEIGHT = 1600, 900
BACKGROUND = (255, 255, 255)
INK = (31, 41, 55)
MUTED = (107, 114, 128)
GRID = (229, 231, 235)
PALETTE = [(37, 99, 235), (234, 88, 12), (22, 163, 74), (124, 58, 237), (219, 39, 119)]
NEUTRAL = (156, 163, 175)
STAMP = "Illustrative placeholder"

Box = tuple[int, int, int, int]


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same glyphs on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def render(figure: FigureRecord) -> bytes:
    """The PNG bytes of `figure`."""
    try:
        draw_figure = DRAWINGS[figure.kind]
    except KeyError as exc:
        raise ValueError(f"Unknown figure kind {figure.kind!r}; expected one of {sorted(DRAWINGS)}.") from exc
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw_figure(image, draw, figure.params)
    draw.text((WIDTH - 24, HEIGHT - 18), STAMP, font=_font(22), fill=MUTED, anchor="rs")
    buffer = BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# --- building blocks ---------------------------------------------------------------------------


def _title(draw: ImageDraw.ImageDraw, text: str) -> None:
    if not text:
        return
    size = 40
    while size > 24 and draw.textlength(text, font=_font(size)) > WIDTH - 80:
        size -= 2  # long titles shrink rather than run off the canvas
    draw.text((WIDTH // 2, 48), text, font=_font(size), fill=INK, anchor="mm")


def _nice_step(span: float) -> float:
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _format_tick(value: float) -> str:
    return f"{value:g}"


def _value_axis(
    image: Image.Image, draw: ImageDraw.ImageDraw, box: Box, y_range: Sequence[float], y_label: str
) -> Callable[[float], float]:
    """Horizontal grid lines, tick labels and the y-axis label; returns value -> pixel y."""
    left, top, right, bottom = box
    low, high = y_range

    def to_y(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    step = _nice_step(high - low)
    tick = math.ceil(low / step) * step
    while tick <= high + 1e-9:
        y = to_y(tick)
        draw.line([(left, y), (right, y)], fill=GRID, width=2)
        draw.text((left - 14, y), _format_tick(tick), font=_font(24), fill=MUTED, anchor="rm")
        tick += step
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=INK, width=3)
    if y_label:
        label = Image.new("RGBA", (bottom - top, 40), (0, 0, 0, 0))
        ImageDraw.Draw(label).text(((bottom - top) // 2, 20), y_label, font=_font(26), fill=INK, anchor="mm")
        rotated = label.rotate(90, expand=True)
        image.paste(rotated, (left - 110, top), rotated)
    return to_y


def _legend(
    draw: ImageDraw.ImageDraw, names: Sequence[str], origin: tuple[int, int], first_is_baseline: bool = False
) -> None:
    x, y = origin
    for index, name in enumerate(names):
        colour = _series_colour(index, first_is_baseline)
        draw.rectangle([x, y - 12, x + 28, y + 12], fill=colour)
        draw.text((x + 40, y), name, font=_font(26), fill=INK, anchor="lm")
        x += 40 + int(draw.textlength(name, font=_font(26))) + 48


def _colour(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


def _series_colour(index: int, first_is_baseline: bool) -> tuple[int, int, int]:
    """A baseline series is grey, so the eye goes to the method the figure is about."""
    if first_is_baseline:
        return NEUTRAL if index == 0 else _colour(index - 1)
    return _colour(index)


def _bar_chart(image: Image.Image, draw: ImageDraw.ImageDraw, box: Box, legend_y: int, params: dict) -> None:
    """Grouped bars in `box`, their legend at height `legend_y` above it: params groups, series
    {name: values}, y_range, y_label and first_is_baseline (the first series drawn grey)."""
    left, top, right, bottom = box
    groups, series = params["groups"], params["series"]
    first_is_baseline = params.get("first_is_baseline", False)
    _legend(draw, list(series), (left, legend_y), first_is_baseline=first_is_baseline)
    to_y = _value_axis(image, draw, box, params.get("y_range", (0, 100)), params.get("y_label", ""))
    group_width = (right - left) / len(groups)
    bar_width = group_width * 0.7 / len(series)
    for group_index, group in enumerate(groups):
        start = left + group_index * group_width + group_width * 0.15
        for series_index, values in enumerate(series.values()):
            colour = _series_colour(series_index, first_is_baseline)
            x0 = start + series_index * bar_width
            draw.rectangle([x0 + 3, to_y(values[group_index]), x0 + bar_width - 3, bottom - 2], fill=colour)
        draw.text(
            (left + (group_index + 0.5) * group_width, bottom + 22),
            group,
            font=_font(26),
            fill=INK,
            anchor="mt",
        )


def _noise_tile(rng: random.Random, size: int, block: int, base: tuple[int, int, int]) -> Image.Image:
    """A size x size tile of coloured blocks `block` pixels wide around `base`."""
    cells = max(1, size // block)
    small = Image.new("RGB", (cells, cells))
    small.putdata(
        [
            tuple(max(0, min(255, channel + rng.randint(-90, 90))) for channel in base)
            for _ in range(cells * cells)
        ]
    )
    return small.resize((size, size), Image.Resampling.NEAREST)


def _box_text(draw: ImageDraw.ImageDraw, box: Box, text: str, fill, outline, size: int = 28) -> None:
    draw.rounded_rectangle(box, radius=18, fill=fill, outline=outline, width=4)
    centre = ((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)
    draw.multiline_text(centre, text, font=_font(size), fill=INK, anchor="mm", align="center", spacing=8)


def _arrow(draw: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float]) -> None:
    draw.line([start, end], fill=INK, width=5)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    head = [
        end,
        (end[0] - 22 * math.cos(angle - 0.45), end[1] - 22 * math.sin(angle - 0.45)),
        (end[0] - 22 * math.cos(angle + 0.45), end[1] - 22 * math.sin(angle + 0.45)),
    ]
    draw.polygon(head, fill=INK)


# --- drawings ----------------------------------------------------------------------------------


def draw_bars(image: Image.Image, draw: ImageDraw.ImageDraw, params: dict) -> None:
    """Grouped bar chart: params title, groups, series {name: values}, y_label, y_range and
    first_is_baseline (the first series drawn grey)."""
    _title(draw, params.get("title", ""))
    _bar_chart(image, draw, (200, 170, 1520, 740), 120, params)


def draw_lines(image: Image.Image, draw: ImageDraw.ImageDraw, params: dict) -> None:
    """Line chart: params title, x, series {name: values}, x_label, y_label, y_range."""
    _title(draw, params.get("title", ""))
    series = params["series"]
    _legend(draw, list(series), (200, 120))
    left, top, right, bottom = box = (200, 170, 1520, 740)
    to_y = _value_axis(image, draw, box, params.get("y_range", (0, 100)), params.get("y_label", ""))
    xs = params["x"]
    x_low, x_high = xs[0], xs[-1]

    def to_x(value: float) -> float:
        return left + 30 + (value - x_low) / (x_high - x_low) * (right - left - 60)

    for value in xs:
        draw.text((to_x(value), bottom + 16), _format_tick(value), font=_font(24), fill=MUTED, anchor="mt")
    draw.text(
        ((left + right) // 2, bottom + 62), params.get("x_label", ""), font=_font(26), fill=INK, anchor="mt"
    )
    for index, values in enumerate(series.values()):
        points = [(to_x(x), to_y(y)) for x, y in zip(xs, values, strict=True)]
        draw.line(points, fill=_colour(index), width=6, joint="curve")
        for x, y in points:
            draw.ellipse([x - 8, y - 8, x + 8, y + 8], fill=_colour(index))


def draw_heatmap(image: Image.Image, draw: ImageDraw.ImageDraw, params: dict) -> None:
    """Grid of coloured cells: params title, rows, columns, values (rows x columns, 0..1), legend."""
    _title(draw, params.get("title", ""))
    rows, columns, values = params["rows"], params["columns"], params["values"]
    left, top, right, bottom = 380, 150, 1480, 760
    cell_w = (right - left) / len(columns)
    cell_h = (bottom - top) / len(rows)
    low, high = (239, 246, 255), PALETTE[0]
    for r, row in enumerate(rows):
        draw.text((left - 18, top + (r + 0.5) * cell_h), row, font=_font(26), fill=INK, anchor="rm")
        for c in range(len(columns)):
            value = values[r][c]
            colour = tuple(round(a + (b - a) * value) for a, b in zip(low, high, strict=True))
            box = (
                left + c * cell_w + 3,
                top + r * cell_h + 3,
                left + (c + 1) * cell_w - 3,
                top + (r + 1) * cell_h - 3,
            )
            draw.rectangle(box, fill=colour)
            text_colour = BACKGROUND if value > 0.55 else INK
            draw.text(
                ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
                f"{value:.2f}",
                font=_font(26),
                fill=text_colour,
                anchor="mm",
            )
    for c, column in enumerate(columns):
        draw.text((left + (c + 0.5) * cell_w, bottom + 18), column, font=_font(26), fill=INK, anchor="mt")
    if params.get("legend"):
        draw.text((left, bottom + 70), params["legend"], font=_font(24), fill=MUTED, anchor="lt")


def draw_flow(image: Image.Image, draw: ImageDraw.ImageDraw, params: dict) -> None:
    """Boxes joined by arrows, left to right, with an optional loop back: params title, steps, loop_label."""
    _title(draw, params.get("title", ""))
    steps = params["steps"]
    margin, gap, top, bottom = 60, 60, 300, 560
    width = (WIDTH - 2 * margin - gap * (len(steps) - 1)) / len(steps)
    fills = [(239, 246, 255), (255, 247, 237), (240, 253, 244), (245, 243, 255), (253, 242, 248)]
    boxes = []
    for index, step in enumerate(steps):
        x0 = margin + index * (width + gap)
        box = (round(x0), top, round(x0 + width), bottom)
        _box_text(draw, box, step, fill=fills[index % len(fills)], outline=_colour(index))
        boxes.append(box)
    for current, following in zip(boxes, boxes[1:], strict=False):
        _arrow(draw, (current[2] + 4, (top + bottom) / 2), (following[0] - 6, (top + bottom) / 2))
    if params.get("loop_label"):
        first, last = boxes[0], boxes[-1]
        loop_y = bottom + 110
        first_x, last_x = (first[0] + first[2]) / 2, (last[0] + last[2]) / 2
        draw.line([(last_x, bottom + 4), (last_x, loop_y), (first_x, loop_y)], fill=INK, width=5)
        _arrow(draw, (first_x, loop_y), (first_x, bottom + 8))
        draw.text(
            ((first_x + last_x) / 2, loop_y + 18),
            params["loop_label"],
            font=_font(26),
            fill=MUTED,
            anchor="mt",
        )


def draw_pyramid(image: Image.Image, draw: ImageDraw.ImageDraw, params: dict) -> None:
    """Top: one perturbation at three scales and their sum. Bottom: grouped bars (params groups, series)."""
    rng = random.Random(params.get("seed", 2))
    tile, gap = 230, 110
    left = (WIDTH - (4 * tile + 3 * gap)) // 2
    scales = [("Coarse", 58, (120, 140, 200)), ("Medium", 23, (120, 170, 160)), ("Fine", 4, (160, 150, 150))]
    tiles = [_noise_tile(rng, tile, block, base) for _, block, base in scales]
    total = Image.blend(Image.blend(tiles[0], tiles[1], 0.5), tiles[2], 0.33)
    for index, (picture, label) in enumerate(
        [*zip(tiles, [s[0] for s in scales], strict=True), (total, "Sum")]
    ):
        x = left + index * (tile + gap)
        image.paste(picture, (x, 60))
        draw.rectangle([x, 60, x + tile, 60 + tile], outline=INK, width=2)
        draw.text((x + tile // 2, 60 + tile + 14), label, font=_font(26), fill=INK, anchor="mt")
        if index < 3:
            sign = "+" if index < 2 else "="
            draw.text((x + tile + gap // 2, 60 + tile // 2), sign, font=_font(56), fill=INK, anchor="mm")
    chart = {**params, "y_range": (0, 100), "y_label": "Accuracy", "first_is_baseline": True}
    _bar_chart(image, draw, (200, 440, 1520, 790), 395, chart)


def draw_occlusion(image: Image.Image, draw: ImageDraw.ImageDraw, params: dict) -> None:
    """The feature-visualization study's task: reference tiles on the left, two occluded queries right."""
    rng = random.Random(params.get("seed", 7))
    tile = 170
    draw.text((60, 130), "Feature visualizations", font=_font(30), fill=INK, anchor="lm")
    draw.text((60, 470), "Natural image exemplars", font=_font(30), fill=INK, anchor="lm")
    for column in range(4):
        x = 60 + column * (tile + 24)
        swirl = Image.new("RGB", (tile, tile))
        phase = rng.uniform(0, math.tau)
        swirl.putdata(
            [
                (
                    round(128 + 110 * math.sin(0.09 * math.hypot(px - 85, py - 85) + phase)),
                    round(128 + 110 * math.sin(0.07 * px + phase * 2)),
                    round(128 + 110 * math.cos(0.08 * py - phase)),
                )
                for py in range(tile)
                for px in range(tile)
            ]
        )
        image.paste(swirl, (x, 170))
        image.paste(_noise_tile(rng, tile, 34, (150, 130, 100)), (x, 510))
        for y in (170, 510):
            draw.rectangle([x, y, x + tile, y + tile], outline=INK, width=2)
    for index, label in enumerate(("A", "B")):
        x = 940 + index * 300
        image.paste(_noise_tile(rng, 260, 26, (110, 140, 120)), (x, 310))
        draw.rectangle([x + 80, 390, x + 180, 490], fill=(75, 85, 99))
        draw.rectangle([x, 310, x + 260, 570], outline=INK, width=3)
        draw.text((x + 130, 595), f"Query {label}", font=_font(30), fill=INK, anchor="mt")
    draw.text((1220, 230), "Which query activates the unit more?", font=_font(32), fill=INK, anchor="mm")
    draw.text((1220, 690), "The grey square is the occluded patch.", font=_font(26), fill=MUTED, anchor="mm")


DRAWINGS: dict[str, Callable[[Image.Image, ImageDraw.ImageDraw, dict], None]] = {
    "bars": draw_bars,
    "lines": draw_lines,
    "heatmap": draw_heatmap,
    "flow": draw_flow,
    "pyramid": draw_pyramid,
    "occlusion": draw_occlusion,
}
