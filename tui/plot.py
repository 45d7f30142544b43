"""Line plots drawn with braille characters (2×4 dots per cell), e.g. loss curves.

``braille_plot`` is pure (series in, Rich ``Text`` out); ``LinePlot`` is the widget that redraws it at
its current size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from rich.text import Text
from textual.widget import Widget

# bit of each dot in a braille cell, indexed [row][column]
_DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE = 0x2800
AXIS_WIDTH = 8


@dataclass(frozen=True)
class Series:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    color: str


def _finite(series: Sequence[Series], log_y: bool) -> list[tuple[Series, list[tuple[float, float]]]]:
    out = []
    for s in series:
        pts = [(float(x), float(y)) for x, y in zip(s.xs, s.ys)
               if math.isfinite(x) and math.isfinite(y) and (y > 0 or not log_y)]
        if log_y:
            pts = [(x, math.log10(y)) for x, y in pts]
        out.append((s, pts))
    return out


def _fmt(value: float, log_y: bool) -> str:
    value = 10 ** value if log_y else value
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.1e}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def log_scale_possible(series: Sequence[Series]) -> bool:
    """A log axis needs every finite value positive (a loss such as -PSNR is negative throughout)."""
    ys = [float(y) for s in series for y in s.ys if math.isfinite(y)]
    return bool(ys) and min(ys) > 0


def braille_plot(series: Sequence[Series], width: int, height: int, log_y: bool = False) -> Text:
    """A plot ``width`` × ``height`` cells: y labels on the left, the x range and legend underneath.

    ``log_y`` asks for a log axis; where a value is not positive the axis stays linear (and says so),
    so every point is drawn."""
    plot_w, plot_h = max(2, width - AXIS_WIDTH), max(1, height - 1)
    linear_instead = log_y and not log_scale_possible(series) and any(s.ys for s in series)
    log_y = log_y and not linear_instead
    data = _finite(series, log_y)
    points = [p for _, pts in data for p in pts]
    if not points:
        return Text("\n" * (plot_h // 2) + "waiting for data…".center(width), style="dim")
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    if x1 == x0:
        x1 = x0 + 1
    pad = (y1 - y0) * 0.05 or abs(y0) * 0.1 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    dots_w, dots_h = plot_w * 2, plot_h * 4
    cells = [[0] * plot_w for _ in range(plot_h)]
    colors: list[list[str | None]] = [[None] * plot_w for _ in range(plot_h)]

    def to_dot(x: float, y: float) -> tuple[int, int]:
        dx = round((x - x0) / (x1 - x0) * (dots_w - 1))
        dy = round((y1 - y) / (y1 - y0) * (dots_h - 1))
        return dx, min(dots_h - 1, max(0, dy))

    for s, pts in data:
        dots = [to_dot(x, y) for x, y in pts]
        if len(dots) == 1:
            dots = dots * 2
        for (ax, ay), (bx, by) in zip(dots, dots[1:]):
            steps = max(abs(bx - ax), abs(by - ay), 1)
            for i in range(steps + 1):
                px, py = ax + (bx - ax) * i // steps, ay + (by - ay) * i // steps
                cells[py // 4][px // 2] |= _DOT_BITS[py % 4][px % 2]
                colors[py // 4][px // 2] = s.color

    text = Text(no_wrap=True, overflow="crop")
    for row in range(plot_h):
        if row == 0:
            label = _fmt(y1, log_y)
        elif row == plot_h - 1:
            label = _fmt(y0, log_y)
        elif row == plot_h // 2 and plot_h >= 5:
            label = _fmt((y0 + y1) / 2, log_y)
        else:
            label = ""
        text.append(f"{label:>{AXIS_WIDTH - 1}}┤", style="dim")
        for col in range(plot_w):
            bits = cells[row][col]
            text.append(chr(_BRAILLE + bits) if bits else " ", style=colors[row][col] or "")
        text.append("\n")
    legend = Text("  ").join(Text(f"━ {s.label}", style=s.color) for s, pts in data if pts)
    span = f"{AXIS_WIDTH * ' '}{_fmt(x0, False)} … {_fmt(x1, False)}  "
    text.append(span, style="dim")
    text.append_text(legend)
    if linear_instead:
        text.append("  linear y: values ≤ 0", style="dim")
    return text


class LinePlot(Widget):
    """Redraws ``braille_plot`` for its series whenever they or the widget's size change."""

    DEFAULT_CSS = "LinePlot { height: 10; }"

    def __init__(self, *, log_y: bool = False, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.series: list[Series] = []
        self.log_y = log_y

    def set_series(self, series: list[Series]) -> None:
        self.series = series
        self.refresh()

    @property
    def log_shown(self) -> bool:
        """Whether the axis drawn now is logarithmic (asked for, and every value positive)."""
        return self.log_y and log_scale_possible(self.series)

    def toggle_log(self) -> None:
        self.log_y = not self.log_y
        self.refresh()

    def render(self) -> Text:
        return braille_plot(self.series, self.size.width, self.size.height, self.log_y)
