"""The planner map builder: natural-break classes, legends, escaping, what the page embeds."""

import itertools
import json
import re

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from layers.maps.assets import MapAssets
from layers.maps.bbox import BboxSource
from layers.maps.planner import (
    COVERAGE_COLORS,
    NO_DATA_COLOR,
    class_legend,
    classify,
    natural_breaks,
    palette,
    planner_map,
)

X0, Y0 = 120.87, 31.62


def _ssd(groups):
    return sum(float(((g - g.mean()) ** 2).sum()) for g in groups)


def _brute_force(values, k):
    """The least within-class squared deviation over every way to cut the sorted values."""
    x = np.sort(np.asarray(values, dtype=float))
    cuts_at = [i for i in range(1, len(x)) if x[i] != x[i - 1]]  # never split equal values
    best = None
    for m in range(0, min(k, len(cuts_at) + 1)):
        for cuts in itertools.combinations(cuts_at, m):
            groups = np.split(x, list(cuts))
            cost = _ssd(groups)
            if best is None or cost < best[0] - 1e-12:
                best = (cost, [float(g.max()) for g in groups])
    return best


@pytest.mark.parametrize("seed", range(12))
def test_natural_breaks_are_the_optimal_cuts(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    values = np.round(rng.gamma(2.0, 3.0, n), int(rng.integers(0, 2)))  # with ties now and then
    k = int(rng.integers(1, 6))
    breaks = natural_breaks(values, k)
    cost, _ = _brute_force(values, k)
    groups = [values[classify(values, breaks) == i] for i in range(len(breaks))]
    assert len(breaks) <= k and all(len(g) for g in groups)
    assert _ssd(groups) == pytest.approx(cost, abs=1e-9)


def test_breaks_separate_a_low_grid_from_many_full_ones():
    shares = [1.0] * 40 + [0.98, 0.95, 0.79, 0.607, np.nan]
    breaks = natural_breaks(shares, 5)
    classes = classify(shares, breaks)
    assert breaks[-1] == 1.0 and classes[-1] == -1  # missing: no class
    assert len({classes[40], classes[42], classes[43]}) == 3  # 98 %, 79 %, 60.7 % apart
    assert natural_breaks([], 5) == [] and natural_breaks([np.nan], 5) == []
    assert natural_breaks([2, 2, 2], 5) == [2.0]


def test_classify_bounds_are_inclusive():
    assert classify([0, 1, 1.5, 2, 9, np.inf], [1, 2, 3]).tolist() == [0, 0, 1, 1, 2, -1]


def test_legend_names_each_class_by_its_values_then_no_data():
    values = [0.5, 0.6, 1.0, 1.0, np.nan]
    breaks = natural_breaks(values, 2)
    entries = class_legend(
        values, breaks, palette(COVERAGE_COLORS, len(breaks)), lambda x: f"{x:.1f}", "none"
    )
    assert entries == [
        ("0.5 – 0.6", COVERAGE_COLORS[0]),
        ("1.0", COVERAGE_COLORS[-1]),
        ("none", NO_DATA_COLOR),
    ]
    assert palette(COVERAGE_COLORS, 3) == [COVERAGE_COLORS[0], COVERAGE_COLORS[2], COVERAGE_COLORS[4]]


def _grids(n=3, name="网格"):
    cells = [box(X0 + i * 0.002, Y0, X0 + (i + 1) * 0.002, Y0 + 0.002) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "code": [f"3205811070010{i:02d}" for i in range(n)],
            "name": [name] * n,
            "community": ["社区"] * n,
            "coverage": [0.5, 1.0, np.nan][:n],
            "coverage_text": ["50%", "100%", "—"][:n],
            "rate": [1.0, np.nan, 3.0][:n],
            "rate_text": ["1.0", "—", "3.0"][:n],
            "gap_text": ["10%", "0%", "100%"][:n],
        },
        geometry=cells,
        crs=4326,
    )


def _build(grids, **kw):
    gaps = gpd.GeoDataFrame({"code": ["x"]}, geometry=[Point(X0, Y0).buffer(0.0005)], crs=4326)
    args = dict(
        grids=grids,
        gaps=gaps,
        coverage_title="Coverage of hydrants",
        rate_title="Problems per 1,000 residents",
        grid_url="/grids/{code}/",
        bbox_sources=[BboxSource("buildings", "Buildings", "/api/v1/buildings/", {"color": "#888"})],
        sites_url="/api/v1/analysis/suggestions/?kind=hydrant",
        communities=[("320581107001", "社区")],
        assets=MapAssets(base_url="/static/vendor/"),
        tiles=None,
    )
    return planner_map(**(args | kw)).get_root().render()


def _layer_data(page, count):
    """The packed data of the embedded layers, in page order."""
    return [json.loads(m) for m in re.findall(r"gridmap\.unpack\((\{.*?\})\)\);", page)][:count]


def test_the_page_embeds_the_grids_once_and_registers_every_layer():
    page = _build(_grids())
    coverage, gaps = _layer_data(page, 2)
    assert coverage["n"] == 3 and coverage["props"]["coverage_class"] == [0, 1, -1]
    assert coverage["props"]["rate_class"] == [0, -1, 1]
    assert gaps["n"] == 1
    for key in ("coverage", "problem-rate", "gaps", "buildings", "sites"):
        assert f'gridmap.layers["{key}"]' in page
    assert page.count("gridmap.unpack(") == 3  # coverage, gaps and the (empty) sites; no copy
    assert '"minZoom": 16' in page and "/api/v1/buildings/" in page
    assert '"animate": false' in page  # the first view is set at once, not animated
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", page)
    assert refs and all(r.startswith("/static/") for r in refs), refs


def test_text_is_escaped_and_never_run_as_a_template():
    evil = "<img src=x onerror=alert(1)>{{ 7*7 }}{% x"
    page = _build(
        _grids(name=evil),
        coverage_title=evil,
        communities=[("1", evil)],
        labels={"coverage": evil, "open_grid": evil},
    )
    assert "<img src=x" not in page
    assert "{{ 7*7 }}" in page or "&#123;&#123; 7*7 &#125;&#125;" in page
    assert ">49<" not in page


def test_no_sites_control_without_a_url():
    page = _build(_grids(), sites_url=None)
    assert 'gridmap.layers["sites"]' not in page and "gridmap.sites" not in page


def test_the_page_grows_with_the_grids_only():
    small = len(_build(_grids(3)))
    grids = gpd.GeoDataFrame(
        {
            "code": [f"c{i}" for i in range(300)],
            "name": ["n"] * 300,
            "coverage": np.linspace(0, 1, 300),
            "rate": np.linspace(0, 9, 300),
        },
        geometry=[box(X0 + i * 1e-4, Y0, X0 + (i + 1) * 1e-4, Y0 + 1e-4) for i in range(300)],
        crs=4326,
    )
    per_grid = (len(_build(grids)) - small) / 297
    assert per_grid < 200, per_grid  # a few coordinates and two class numbers per grid


def test_over_gcj02_tiles_the_embedded_layers_move_and_the_page_moves_the_rest():
    from layers.chinacoords import wgs84_to_gcj02
    from layers.maps.assets import TileSource
    from layers.maps.packing import unpack_features

    plain = _build(_grids())
    assert "gridmap.gcj02 =" not in plain
    tiles = TileSource("/tiles/{z}/{x}/{y}.png", "", datum="gcj02")
    page = _build(_grids(), tiles=tiles)
    assert "gridmap.gcj02 =" in page and "&&" in page  # the script as written, not escaped
    (coverage,) = _layer_data(page, 1)
    ring = np.asarray(unpack_features(coverage)[0]["geometry"]["coordinates"][0])
    xy = np.asarray(_grids().geometry.iloc[0].exterior.coords)
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    assert np.abs(ring - np.column_stack([lon, lat])).max() < 1e-6  # packed to 1e-6 degrees
    assert np.abs(ring - xy).max() > 1e-3  # a few hundred metres off WGS84
