"""Charts as inline SVG, drawn on the server: no script, no font and no file from anywhere else.

Each chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` name it for screen readers,
with axes, tick labels, a legend and a ``<title>`` on every bar or point (a tooltip saying the
label, the series and the value). Every text that reaches the SVG — titles, labels, series names
— is escaped here, so a grid named ``<script>`` is drawn as text. Missing values (``None``) draw
no bar and break a line; a chart with no data says so instead of drawing empty axes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#c2185b", "#1a9850", "#2c7fb8", "#f46d43", "#756bb1")
_COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
_ids = count(1)

LEFT, RIGHT, TOP, BOTTOM = 48, 12, 30, 44
TICK_LABEL_PX = 52  # room one x label needs; labels are thinned to fit
ROW_PX, LABEL_PX = 22, 170


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str = ""


def nice_ticks(top: float, n: int = 5) -> list[float]:
    """0 and about ``n`` round steps (1, 2, 2.5 or 5 × 10^k) reaching at least ``top``."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / n
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def fmt(value: float | None) -> str:
    """A number as a label: whole numbers bare, others to one decimal; None as a dash."""
    if value is None:
        return "—"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _color(series: Series, i: int) -> str:
    return series.color if _COLOR.match(series.color or "") else PALETTE[i % len(PALETTE)]


def _open(title: str, desc: str, width: int, height: int, cls: str) -> tuple[list[str], str]:
    cid = f"chart{next(_ids)}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{cid}-t {cid}-d"><title id="{cid}-t">{escape(title)}</title>'
        f'<desc id="{cid}-d">{escape(desc)}</desc>'
    )
    return [head], cid


def _empty(title: str, empty_text: str, width: int, height: int, cls: str) -> SafeString:
    parts, _ = _open(title, empty_text, width, height, cls)
    parts.append(
        f'<text x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" class="empty">'
        f"{escape(empty_text)}</text></svg>"
    )
    return mark_safe("".join(parts))


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _legend(parts: list[str], series: Sequence[Series], x0: float) -> None:
    x = x0
    for i, s in enumerate(series):
        parts.append(
            f'<rect x="{x:.1f}" y="8" width="12" height="12" fill="{_color(s, i)}"/>'
            f'<text x="{x + 16:.1f}" y="18" class="legend">{escape(s.name)}</text>'
        )
        x += 28 + 13 * len(s.name)


def _y_axis(parts: list[str], ticks: list[float], width: int, height: int, y_label: str) -> None:
    plot_h = height - TOP - BOTTOM
    for t in ticks:
        y = TOP + plot_h - t / ticks[-1] * plot_h
        parts.append(
            f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{fmt(t)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" class="axis"/>'
        f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" class="axis"/>'
    )
    if y_label:
        parts.append(
            f'<text transform="translate(12 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
            f'class="axis-label">{escape(y_label)}</text>'
        )


def _x_labels(parts: list[str], labels: Sequence[str], width: int, height: int, x_label: str) -> None:
    band = (width - LEFT - RIGHT) / len(labels)
    step = max(1, math.ceil(TICK_LABEL_PX / band))
    base = height - BOTTOM
    for i in range(0, len(labels), step):
        x = LEFT + (i + 0.5) * band
        parts.append(
            f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle" class="tick">{escape(labels[i])}</text>'
        )
    if x_label:
        parts.append(
            f'<text x="{LEFT + (width - LEFT - RIGHT) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
            f'class="axis-label">{escape(x_label)}</text>'
        )


def _check(labels: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(labels)} labels")


def _plot(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    width: int,
    height: int,
    y_label: str,
    empty_text: str,
    kind: str,
) -> tuple[list[str], list[float], float, float] | SafeString:
    """The chart's opening and y axis (parts, ticks, plot height, band width per label), or the
    finished empty chart when there is nothing to draw."""
    _check(labels, series)
    values = [v for s in series for v in _finite(s.values)]
    if not labels or not series or not values:
        return _empty(title, empty_text, width, height, kind)
    parts, _ = _open(title, ", ".join(s.name for s in series), width, height, kind)
    ticks = nice_ticks(max(values))
    _y_axis(parts, ticks, width, height, y_label)
    return parts, ticks, height - TOP - BOTTOM, (width - LEFT - RIGHT) / len(labels)


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    width: int = 640,
    height: int = 280,
    x_label: str = "",
    y_label: str = "",
    empty_text: str = "No data",
) -> SafeString:
    """Vertical bars, grouped per label (one bar per series)."""
    plot = _plot(title, labels, series, width, height, y_label, empty_text, "bars")
    if isinstance(plot, SafeString):
        return plot  # nothing to draw
    parts, ticks, plot_h, band = plot
    bar_w = band * 0.8 / len(series)
    for j, s in enumerate(series):
        color = _color(s, j)
        for i, v in enumerate(s.values):
            if v is None or not math.isfinite(float(v)):
                continue
            h = max(float(v), 0.0) / ticks[-1] * plot_h
            x = LEFT + i * band + band * 0.1 + j * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{escape(labels[i])} · {escape(s.name)}: '
                f"{fmt(v)}</title></rect>"
            )
    _x_labels(parts, labels, width, height, x_label)
    _legend(parts, series, LEFT)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    width: int = 640,
    height: int = 280,
    x_label: str = "",
    y_label: str = "",
    empty_text: str = "No data",
) -> SafeString:
    """One line per series with a marked point per value; ``None`` breaks the line."""
    plot = _plot(title, labels, series, width, height, y_label, empty_text, "lines")
    if isinstance(plot, SafeString):
        return plot  # nothing to draw
    parts, ticks, plot_h, band = plot
    for j, s in enumerate(series):
        color = _color(s, j)
        runs: list[list[str]] = [[]]
        points: list[str] = []
        for i, v in enumerate(s.values):
            if v is None or not math.isfinite(float(v)):
                runs.append([])
                continue
            x, y = LEFT + (i + 0.5) * band, TOP + plot_h - max(float(v), 0.0) / ticks[-1] * plot_h
            runs[-1].append(f"{x:.1f},{y:.1f}")
            points.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(labels[i])} · '
                f"{escape(s.name)}: {fmt(v)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" stroke-width="2"/>'
                )
        parts.extend(points)
    _x_labels(parts, labels, width, height, x_label)
    _legend(parts, series, LEFT)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def hbar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    width: int = 640,
    max_value: float | None = None,
    color: str = PALETTE[2],
    empty_text: str = "No data",
    max_label_chars: int = 14,
) -> SafeString:
    """Horizontal bars, one row per label in the given order (a ranking); long labels are cut on
    the chart and given whole in the row's ``<title>``."""
    if len(values) != len(labels):
        raise ValueError(f"{len(values)} values for {len(labels)} labels")
    finite = _finite(values)
    height = TOP + max(len(labels), 1) * ROW_PX + 24
    if not labels or not finite:
        return _empty(title, empty_text, width, max(height, 120), "hbars")
    parts, _ = _open(title, title, width, height, "hbars")
    top = max_value if max_value and max_value > 0 else nice_ticks(max(finite))[-1]
    plot_w = width - LABEL_PX - RIGHT - 40
    fill = color if _COLOR.match(color) else PALETTE[2]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * ROW_PX
        short = label if len(label) <= max_label_chars else label[: max_label_chars - 1] + "…"
        w = 0.0 if v is None else max(min(float(v), top), 0.0) / top * plot_w
        parts.append(
            f'<g class="row"><title>{escape(label)}: {fmt(v)}</title>'
            f'<text x="{LABEL_PX - 6}" y="{y + 15}" text-anchor="end" class="tick">{escape(short)}</text>'
            f'<rect x="{LABEL_PX}" y="{y + 3}" width="{w:.1f}" height="{ROW_PX - 6}" fill="{fill}"/>'
            f'<text x="{LABEL_PX + w + 4:.1f}" y="{y + 15}" class="value">{fmt(v)}</text></g>'
        )
    base = TOP + len(labels) * ROW_PX
    parts.append(
        f'<line x1="{LABEL_PX}" x2="{LABEL_PX}" y1="{TOP}" y2="{base}" class="axis"/>'
        f'<line x1="{LABEL_PX}" x2="{LABEL_PX + plot_w}" y1="{base}" y2="{base}" class="axis"/>'
        f'<text x="{LABEL_PX}" y="{base + 16}" text-anchor="middle" class="tick">0</text>'
        f'<text x="{LABEL_PX + plot_w:.1f}" y="{base + 16}" text-anchor="middle" class="tick">{fmt(top)}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))
