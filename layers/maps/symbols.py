"""Point symbols of the leader map: a shape per facility kind and per problem class, drawn on canvas.

Thousands of DOM markers (``L.Marker`` with a ``divIcon``) cost a DOM node each and make a page
slow; these symbols are canvas paths instead: :data:`GLYPH_JS` adds ``gridmap.Glyph``, a Leaflet
``CircleMarker`` whose path is the polygon :data:`SHAPES` names (a unit outline scaled by the
radius), with an optional ring around it (overdue problems). The legend draws the same outlines
as small inline SVGs (:func:`swatch`), from the same vertex lists.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence

from layers.maps.elements import script_json
from layers.maps.labels import class_name


def _regular(n: int, *, start_deg: float = 90.0, scale: float = 1.0) -> list[list[float]]:
    return [
        [
            round(scale * math.cos(math.radians(start_deg + 360.0 * i / n)), 4),
            round(scale * math.sin(math.radians(start_deg + 360.0 * i / n)), 4),
        ]
        for i in range(n)
    ]


def _star(points: int = 5, inner: float = 0.45) -> list[list[float]]:
    out = []
    for i in range(2 * points):
        r = 1.15 if i % 2 == 0 else 1.15 * inner
        a = math.radians(90.0 + 180.0 * i / points)
        out.append([round(r * math.cos(a), 4), round(r * math.sin(a), 4)])
    return out


_T = 0.36  # half width of the arms of the plus and the cross
_PLUS = [[-_T, 1], [_T, 1], [_T, _T], [1, _T], [1, -_T], [_T, -_T], [_T, -1], [-_T, -1],
         [-_T, -_T], [-1, -_T], [-1, _T], [-_T, _T]]  # fmt: skip
_C = math.sqrt(0.5)
_CROSS = [[round(_C * (x - y), 4), round(_C * (x + y), 4)] for x, y in _PLUS]

# shape name -> outline for radius 1 (x right, y up), or None for a circle
SHAPES: dict[str, list[list[float]] | None] = {
    "circle": None,
    "square": [[-0.85, -0.85], [0.85, -0.85], [0.85, 0.85], [-0.85, 0.85]],
    "triangle": _regular(3, scale=1.2),
    "diamond": _regular(4, scale=1.15),
    "triangle_down": _regular(3, start_deg=-90.0, scale=1.2),
    "star": _star(),
    "plus": _PLUS,
    "hexagon": _regular(6, start_deg=0.0, scale=1.05),
    "cross": _CROSS,
    "pentagon": _regular(5, scale=1.05),
}
# The campaign's kinds keep the same shape on every map; other kinds take the shapes in order.
KIND_SHAPES = {
    "hydrant": "diamond",
    "extinguisher": "triangle",
    "street_light": "star",
    "curb_ramp": "triangle_down",
    "accessible_entrance": "pentagon",
    "bicycle_parking": "square",
    "car_park_point": "square",
    "litter_bin": "circle",
    "refuse_point": "hexagon",
    "recycling": "cross",
    "toilet": "plus",
    "notice_board": "pentagon",
}
# Problem classes (first two digits of the category code, GB/T 30428 style) -> shape
CLASS_SHAPES = {
    "01": "circle",  # 市容环境
    "02": "square",  # 宣传广告
    "03": "triangle",  # 街面秩序
    "04": "diamond",  # 施工管理
    "05": "star",  # 突发事件
    "06": "hexagon",  # 其他
}
CLASS_NAMES = {code: class_name(code) for code in CLASS_SHAPES}  # the Chinese defaults (layers.maps.labels)


def kind_shapes(codes: Iterable[str]) -> dict[str, str]:
    """A shape per facility kind code on one map: its :data:`KIND_SHAPES` entry unless another
    kind of the map took it, else the first shape not used yet (shapes repeat only past ten)."""
    out: dict[str, str] = {}
    codes = list(codes)
    used: set[str] = set()
    for code in sorted(codes, key=lambda c: c not in KIND_SHAPES):  # the known kinds choose first
        wanted = KIND_SHAPES.get(code)
        if wanted is None or wanted in used:
            free = [s for s in SHAPES if s not in used]
            wanted = free[0] if free else list(SHAPES)[len(out) % len(SHAPES)]
        out[code] = wanted
        used.add(wanted)
    return {code: out[code] for code in codes}


def class_shape(category: object) -> str:
    """The shape of a problem category code (its first two digits); unknown classes: pentagon."""
    return CLASS_SHAPES.get(str(category or "")[:2], "pentagon")


def swatch(shape: str, fill: str, *, stroke: str = "#ffffff", ring: str | None = None, size: int = 14) -> str:
    """A small inline SVG of ``shape`` for the legend. Colours must already be checked."""
    c = size / 2
    r = size / 2 - (3.5 if ring else 1.5)
    outline = SHAPES.get(shape)
    fill_, stroke_ = html.escape(fill), html.escape(stroke)
    if outline is None:
        body = f'<circle cx="{c}" cy="{c}" r="{r:.2f}"'
    else:
        points = " ".join(f"{c + x * r * 0.85:.2f},{c - y * r * 0.85:.2f}" for x, y in outline)
        body = f'<polygon points="{points}"'
    body += f' fill="{fill_}" stroke="{stroke_}" stroke-width="1"/>'
    if ring:
        body += f'<circle cx="{c}" cy="{c}" r="{c - 1.2:.2f}" fill="none" stroke="{html.escape(ring)}" stroke-width="2"/>'
    return f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" aria-hidden="true">{body}</svg>'


def line_swatch(color: str, *, dash: str | None = None, width: float = 3) -> str:
    dash_attr = f' stroke-dasharray="{html.escape(dash)}"' if dash else ""
    return (
        f'<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true"><line x1="1" y1="7" x2="13" '
        f'y2="7" stroke="{html.escape(color)}" stroke-width="{width}"{dash_attr}/></svg>'
    )


def box_swatch(fill: str, *, stroke: str | None = None, opacity: float = 0.75) -> str:
    stroke_ = html.escape(stroke or fill)
    return (
        f'<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true"><rect x="1" y="1" width="12" '
        f'height="12" fill="{html.escape(fill)}" fill-opacity="{opacity}" stroke="{stroke_}"/></svg>'
    )


def glyph_js(shapes: Mapping[str, Sequence[Sequence[float]] | None] = SHAPES) -> str:
    """The canvas symbol class ``gridmap.Glyph`` (needs the registry script before it)."""
    return GLYPH_JS.replace("__SHAPES__", script_json(dict(shapes)))


GLYPH_JS = """
gridmap.shapes = __SHAPES__;
gridmap.Glyph = L.CircleMarker.extend({
    _updateBounds: function () {
        var r = this._radius + (this.options.ring ? 5 : 0) + this._clickTolerance();
        this._pxBounds = L.bounds(this._point.subtract([r, r]), this._point.add([r, r]));
    },
    _updatePath: function () {
        var rd = this._renderer, ctx = rd._ctx;
        if (!ctx) { return rd._updateCircle(this); }  // an SVG renderer: a plain circle
        if (!rd._drawing || this._empty()) { return; }
        var p = this._point, s = Math.max(Math.round(this._radius), 1);
        var pts = gridmap.shapes[this.options.shape];
        ctx.beginPath();
        if (!pts) {
            ctx.arc(p.x, p.y, s, 0, Math.PI * 2, false);
        } else {
            ctx.moveTo(p.x + pts[0][0] * s, p.y - pts[0][1] * s);
            for (var i = 1; i < pts.length; i++) { ctx.lineTo(p.x + pts[i][0] * s, p.y - pts[i][1] * s); }
            ctx.closePath();
        }
        rd._fillStroke(ctx, this);
        if (this.options.ring) {
            if (ctx.setLineDash) { ctx.setLineDash([]); }
            ctx.beginPath();
            ctx.arc(p.x, p.y, s + 3.5, 0, Math.PI * 2, false);
            ctx.globalAlpha = 1;
            ctx.lineWidth = 2.5;
            ctx.strokeStyle = this.options.ring;
            ctx.stroke();
        }
    }
});
"""
