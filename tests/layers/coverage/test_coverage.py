"""Tests of layers.coverage: coverage by radius (straight and walking), gap tables, uncovered
areas, spacing along streets, curb ramps, tactile paving, accessible parking.

Inline data is drawn in metres (EPSG:4549, see test_network) and converted to EPSG:4326.
Straight distances are held equal to geopandas.sjoin_nearest and, on the Helsinki extract, to
an independent numpy brute force (pyproj + even-odd rule + point-segment distances, no GEOS);
walking distances to networkx. The demo town's planted gaps are found from its files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.affinity import translate
from shapely.geometry import LineString, Point, Polygon, box

from layers.coverage.access import accessible_parking, curb_ramp_gaps, tactile_defects
from layers.coverage.area import uncovered_area
from layers.coverage.buildings import building_coverage, gap_table, nearest_straight, nearest_straight_metric
from layers.coverage.spacing import BIN_SPACING_M, road_class, spacing_gaps
from layers.network import build_network, snap
from tests.layers.network.test_network import GK, HELSINKI, X0, Y0, nx_nearest, streets

DEMO = Path(__file__).resolve().parents[3] / "fixtures" / "demo_town"


def frame(geoms: list, crs: pyproj.CRS = GK, **cols: list) -> gpd.GeoDataFrame:
    """A GeoDataFrame of local-metre geometries (origin X0, Y0) as EPSG:4326."""
    moved = [translate(g, X0, Y0) for g in geoms]
    return gpd.GeoDataFrame(cols, geometry=moved, crs=crs).to_crs(4326)


# ---------------------------------------------------------------- straight line


def test_nearest_straight_equals_sjoin_nearest() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    centre = rng.uniform(0, 3000, (n, 2))
    size = rng.uniform(5, 40, (n, 2))
    angle = rng.uniform(0, 90, n)
    houses = [
        shapely.affinity.rotate(box(x - w / 2, y - h / 2, x + w / 2, y + h / 2), a)
        for (x, y), (w, h), a in zip(centre, size, angle, strict=True)
    ]
    bins = [Point(p) for p in rng.uniform(0, 3000, (40, 2))]
    bins.append(houses[7].centroid)  # a bin inside a footprint: distance 0
    bins.append(Point(houses[7].centroid.x + 0.0, houses[7].centroid.y))  # and a tie with it
    idx, dist = nearest_straight_metric(
        np.array(houses, dtype=object), shapely.get_coordinates(np.array(bins))
    )
    h = gpd.GeoDataFrame(geometry=houses, crs=GK)
    b = gpd.GeoDataFrame({"bin": range(len(bins))}, geometry=bins, crs=GK)
    joined = gpd.sjoin_nearest(h, b, distance_col="d").reset_index()
    best = joined.sort_values(["index", "d", "bin"]).drop_duplicates("index").set_index("index")
    assert (best["bin"].to_numpy() == idx).all()
    assert np.array_equal(best["d"].to_numpy(), dist)
    assert idx[7] == len(bins) - 2 and dist[7] == 0


def sjoin_reference(geoms: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """geopandas.sjoin_nearest's nearest point to each geometry (smallest row on ties; -1 and
    inf for a missing or empty geometry)."""
    h = gpd.GeoDataFrame(geometry=list(geoms), crs=GK)
    b = gpd.GeoDataFrame({"bin": range(len(xy))}, geometry=shapely.points(xy), crs=GK)
    joined = gpd.sjoin_nearest(h, b, distance_col="d").reset_index()
    best = joined.sort_values(["index", "d", "bin"]).drop_duplicates("index").set_index("index")
    idx = best["bin"].reindex(range(len(geoms))).fillna(-1).to_numpy(dtype=np.int64)
    dist = best["d"].reindex(range(len(geoms))).fillna(np.inf).to_numpy(dtype=float)
    return idx, dist


def town_footprints(rng: np.random.Generator, n: int, side: float) -> list:
    """Rotated rectangles 5-40 m, a few L-shapes, points and lines, clustered around 6 centres."""
    centres = rng.uniform(0, side, (6, 2))
    xy = centres[rng.integers(0, 6, n)] + rng.normal(0, side / 6, (n, 2))
    out = []
    for i, ((x, y), (w, h), a) in enumerate(
        zip(xy, rng.uniform(5, 40, (n, 2)), rng.uniform(0, 90, n), strict=True)
    ):
        if i % 50 == 1:
            out.append(Point(x, y))
        elif i % 50 == 2:
            out.append(LineString([(x, y), (x + w, y + h)]))
        elif i % 50 == 3:  # an L whose box centre lies outside it
            out.append(
                Polygon([(x, y), (x + 40, y), (x + 40, y + 5), (x + 5, y + 5), (x + 5, y + 40), (x, y + 40)])
            )
        else:
            out.append(shapely.affinity.rotate(box(x - w / 2, y - h / 2, x + w / 2, y + h / 2), a))
    return out


@pytest.mark.parametrize(
    ("n_houses", "n_bins", "cluster", "kd_only"),
    [
        (2000, 60, 0, False),
        (2000, 60, 0, True),
        (3000, 160, 60, False),  # 60 bins in a 60 m square: cells whose lists need 4 rounds
        (300, 3000, 0, False),  # bins far denser than the cells: the KD-tree fallback
        (500, 1, 0, False),
        (1, 5, 0, False),
    ],
)
def test_nearest_straight_metric_equals_sjoin_nearest_on_both_paths(
    n_houses: int, n_bins: int, cluster: int, kd_only: bool
) -> None:
    """The grid-of-cells candidates and the KD-tree fallback (facilities much denser than the
    cells, or forced) both give sjoin_nearest's answer: same nearest point, same distance to
    the last bit, on footprints, L-shapes, points, lines, missing and empty geometries, points
    inside footprints, duplicated points (ties) and a footprint larger than the cells."""
    rng = np.random.default_rng(n_houses * 7 + n_bins)
    houses = np.array(town_footprints(rng, n_houses, 4000.0), dtype=object)
    bins = rng.uniform(-200, 4200, (n_bins, 2))
    bins[n_bins - cluster :] = rng.uniform(1980, 2040, (cluster, 2))
    if n_houses > 10:
        houses[4] = None
        houses[5] = Polygon()
        houses[6] = box(1000, 1000, 2500, 1800)  # a works site over many cells
        if n_bins > 10:
            bins[3] = shapely.get_coordinates(houses[10].centroid)[0]  # inside a footprint
            bins[4] = bins[3]  # and a duplicate of it: a tie
            bins[7] = bins[8]  # a duplicate anywhere
            # inside the works site: two far corners (smaller rows) and its middle: all at 0
            bins[0], bins[1], bins[9] = (1010, 1010), (2490, 1790), (1750, 1400)
    idx, dist = nearest_straight_metric(houses, bins, cells=not kd_only)
    ref_idx, ref_dist = sjoin_reference(houses, bins)
    assert np.array_equal(idx, ref_idx)
    assert np.array_equal(dist, ref_dist)
    if n_houses > 10:
        assert idx[4] == idx[5] == -1 and np.isinf(dist[4])
        if n_bins > 10:
            assert idx[10] == 3 and dist[10] == 0
            assert idx[6] == 0 and dist[6] == 0


def test_nearest_straight_with_lines_and_missing_geometries() -> None:
    houses = frame([box(0, 0, 10, 10), box(100, 0, 110, 10)])
    houses.loc[2, "geometry"] = None
    lanes = frame([LineString([(0, 30), (50, 30)]), LineString([(130, 0), (130, 50)])])
    idx, dist = nearest_straight(houses, lanes)
    assert list(idx) == [0, 1, -1]
    assert dist[:2] == pytest.approx([20, 20], abs=1e-6) and np.isinf(dist[2])
    idx, dist = nearest_straight(houses, gpd.GeoSeries([], crs=4326))
    assert list(idx) == [-1, -1, -1]


DIAMOND = Polygon([(0, 0), (10, -10), (0, -20), (-10, -10)])  # one point nearest a street above


def river_town() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Two streets 40 m apart across a river, joined by a bridge 500 m east; a hydrant on the
    north bank, houses on the south bank right opposite it and beside the bridge."""
    roads = streets([(0, 40), (600, 40)], [(0, 0), (600, 0)], [(500, 0), (500, 40)])
    houses = frame(
        [translate(DIAMOND, 100, -10), translate(DIAMOND, 485, -10)],
        id=["opposite", "by_bridge"],
        households=[4, 6],
    )
    hydrant = frame([Point(100, 45)], id=["h1"])
    return roads, houses, hydrant


def test_river_gap_straight_covers_but_walking_does_not() -> None:
    roads, houses, hydrant = river_town()
    net = build_network(roads)
    cov = building_coverage(houses, hydrant, radius_m=150, net=net)
    assert cov["straight_m"].tolist() == pytest.approx(
        [55, translate(DIAMOND, 485, -10).distance(Point(100, 45))], abs=1e-6
    )
    assert cov["straight_covered"].tolist() == [True, False]
    # 10 to the street, 5 + 400 along it, 40 over the bridge, 400 - 5 back west ... for "opposite"
    assert cov["network_m"].iloc[0] == pytest.approx(10 + 400 + 40 + 400 + 5, abs=1e-6)
    assert cov["network_covered"].tolist() == [False, False]
    assert list(cov["straight_facility"]) == ["h1", "h1"]


def test_both_metrics_project_buildings_and_facilities_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a network, the straight and the walking metric share one projection of the
    buildings and one of the facilities (a city's 100,000 footprints are not moved twice)."""
    roads, houses, hydrant = river_town()
    net = build_network(roads)
    calls = []
    to_crs = gpd.GeoSeries.to_crs

    def counting(self: gpd.GeoSeries, *args: object, **kwargs: object) -> gpd.GeoSeries:
        calls.append(len(self))
        return to_crs(self, *args, **kwargs)

    monkeypatch.setattr(gpd.GeoSeries, "to_crs", counting)
    cov = building_coverage(houses, hydrant, radius_m=150, net=net)
    assert sorted(calls) == [1, 2]  # the hydrant once, the two houses once
    assert cov["straight_covered"].tolist() == [True, False]


def test_gap_table_weights_by_households() -> None:
    cov = pd.DataFrame(
        {
            "grid": ["A", "A", "A", "B", None],
            "households": [10, 30, 0, 5, 2],
            "straight_covered": [True, False, False, True, True],
            "straight_m": [10.0, 200.0, 300.0, 5.0, 1.0],
            "network_covered": [False, False, False, True, True],
            "network_m": [160.0, 400.0, np.inf, 8.0, 2.0],
        }
    )
    table = gap_table(cov).set_index("grid")
    assert list(table.index) == ["A", "", "B"]  # most uncovered households first
    a = table.loc["A"]
    assert (a["buildings"], a["households"], a["uncovered_straight"], a["uncovered_network"]) == (3, 40, 2, 3)
    assert a["household_share_straight"] == pytest.approx(0.25) and a["household_share_network"] == 0
    assert a["building_share_straight"] == pytest.approx(1 / 3) and a["max_straight_m"] == 300
    assert table.loc["B", "household_share_network"] == 1


# ---------------------------------------------------------------- uncovered area


def test_uncovered_area_straight_and_network() -> None:
    roads, _, hydrant = river_town()
    banks = frame([box(0, 20, 600, 100), box(0, -60, 600, 20)], code=["north", "south"])
    straight = uncovered_area(banks, hydrant, radius_m=150).set_index("code")
    # covered part of the north bank (y 20..100) by integration of the disc's chord widths
    y = np.linspace(20, 100, 200_001)
    half = np.sqrt(np.maximum(150**2 - (y - 45) ** 2, 0))
    covered = np.trapezoid(np.clip(100 + half, 0, 600) - np.clip(100 - half, 0, 600), y)
    assert straight.loc["north", "uncovered_m2"] == pytest.approx(48000 - covered, rel=2e-3)
    net = build_network(roads)
    walk = uncovered_area(banks, hydrant, radius_m=150, metric="network", net=net, piece_m=5).set_index(
        "code"
    )
    # the south bank's own street is 445 m of walk away: nothing there is covered (but for
    # slivers of the cell approximation along the mid-river line, < 0.1 m deep)
    assert walk.loc["south", "uncovered_share"] > 0.9999
    assert straight.loc["south", "uncovered_share"] < 0.8
    north = walk.loc["north"]
    assert straight.loc["north", "uncovered_m2"] <= north["uncovered_m2"] < 48000
    s_metric = gpd.GeoSeries([straight.loc["north", "geometry"]], crs=4326).to_crs(GK).iloc[0]
    w_metric = gpd.GeoSeries([north["geometry"]], crs=4326).to_crs(GK).iloc[0]
    assert s_metric.difference(w_metric.buffer(1e-6)).area < 1e-3  # walking gaps contain straight gaps
    # a point 5 m off the street 100 m along it from the hydrant's street point is covered
    assert not w_metric.contains(Point(X0 + 200, Y0 + 45))
    with pytest.raises(ValueError, match="network"):
        uncovered_area(banks, hydrant, radius_m=150, metric="network")


# ---------------------------------------------------------------- spacing


def test_spacing_finds_a_planted_250_m_stretch() -> None:
    # one 1000 m main road in four rows; bins every 100 m except none between 300 and 550
    road = streets([(0, 0), (300, 0)], [(300, 0), (400, 0)], [(400, 0), (520, 0)], [(520, 0), (1000, 0)])
    road["name"], road["highway"] = "Main Rd", ["primary", "primary", "secondary", "primary"]
    at = [50, 150, 250, 300, 550, 650, 750, 850, 950]
    bins = frame([Point(x, 6) for x in at], id=[f"b{x}" for x in at])
    gaps = spacing_gaps(road, bins, max_spacing_m=BIN_SPACING_M)
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert gap["gap_m"] == pytest.approx(250, abs=1e-6) and gap["rule_m"] == 200
    assert (gap["from_facility"], gap["to_facility"]) == ("b300", "b550")
    assert gap["segments_without"] == ["s1", "s2"] and gap["segments"] == ["s1", "s2", "s3"]
    assert gpd.GeoSeries([gap.geometry], crs=4326).to_crs(GK).length.iloc[0] == pytest.approx(250, abs=1e-6)
    # a bin 25 m off the road does not count (snap 20 m); hydrant rule 120 m everywhere
    assert len(spacing_gaps(road, frame([Point(425, 25)]), max_spacing_m=120).query("gap_m > 400")) == 1
    assert spacing_gaps(road, bins, max_spacing_m=260).empty


def test_road_classes() -> None:
    hw = pd.Series(["primary", "pedestrian", "residential", "service", None, "trunk_link"])
    assert road_class(hw).tolist() == ["main", "commercial", "branch", None, None, "main"]
    lane = streets([(0, 0), (900, 0)])
    lane["name"], lane["highway"] = "", "service"
    assert spacing_gaps(lane, frame([]), max_spacing_m=100).empty  # service roads are not checked


# ---------------------------------------------------------------- curb ramps


def test_crossings_without_curb_ramps() -> None:
    net_streets = streets(
        [(0, 0), (400, 0)], [(100, 0), (100, 80)], [(300, -60), (300, 0)], [(200, 0), (200, 90)]
    )
    net_streets["highway"] = ["secondary", "footway", "footway", "residential"]
    ramps = frame([Point(96, -9), Point(104, 9), Point(320, 30)], id=["r1", "r2", "r3"])
    found = curb_ramp_gaps(net_streets, ramps, within_m=15, only_gaps=False)
    assert len(found) == 2  # a road-road junction at x=200 is not a footway crossing
    gaps = curb_ramp_gaps(net_streets, ramps, within_m=15)
    assert len(gaps) == 1 and gaps.iloc[0]["highways"] == "footway,secondary"
    xy = gpd.GeoSeries(gaps.geometry, crs=4326).to_crs(GK).iloc[0]
    assert (xy.x - X0, xy.y - Y0) == pytest.approx((300, 0), abs=1e-6)
    assert gaps.iloc[0]["nearest_ramp"] == "r3" and gaps.iloc[0]["nearest_ramp_m"] == pytest.approx(
        math.hypot(20, 30)
    )


# ---------------------------------------------------------------- tactile paving


def test_tactile_break_condition_and_reports() -> None:
    # a street crossed at x=200; paving on its north side stops 10 m short of the crossing on
    # both sides (a crossing, not a break) and misses 12 m at x=100 (a break)
    road = streets([(0, 0), (400, 0)], [(200, -100), (200, 100)])
    pieces = [
        LineString([(5, 5), (94, 5)]),
        LineString([(106, 5), (190, 5)]),
        LineString([(210, 5), (330, 5)]),
        LineString([(395, 5), (333, 5)]),  # drawn backwards, 3 m after the previous: no break
        LineString([(5, -5), (190, -5)]),  # south side, continuous
    ]
    tactile = frame(
        pieces, id=["t1", "t2", "t3", "t4", "t5"], condition=["good", "good", "broken", "good", "good"]
    )
    problems = frame([Point(150, -7), Point(150, -40)])
    found = tactile_defects(road, tactile, problems, max_gap_m=5)
    breaks = found[found["defect"] == "break"]
    assert len(breaks) == 1
    brk = breaks.iloc[0]
    assert brk["facilities"] == ["t1", "t2"] and brk["length_m"] == pytest.approx(12, abs=1e-6)
    mid = gpd.GeoSeries([brk.geometry], crs=4326).to_crs(GK).iloc[0].centroid
    assert (mid.x - X0, mid.y - Y0) == pytest.approx((100, 5), abs=1e-6)
    rest = found[found["defect"] != "break"].set_index("defect")
    assert rest.loc["broken", "facilities"] == ["t3"]
    assert (
        rest.loc["reported_obstruction", "facilities"] == ["t5"]
        and rest.loc["reported_obstruction", "problems"] == 1
    )
    assert len(tactile_defects(road, tactile, max_gap_m=15)) == 1  # only the broken piece


# ---------------------------------------------------------------- accessible parking


def test_accessible_parking_share_rule() -> None:
    parks = pd.DataFrame(
        {
            "id": ["p20", "p49", "p50", "p70", "p120", "p300", "unknown", "no_count"],
            "capacity": [20, 49, 50, 70, 120, 300, None, 80],
            "accessible_spaces": [0, 1, 1, 2, 2, 6, 3, None],
        }
    )
    out = accessible_parking(parks).set_index("id")
    assert out["required"].tolist()[:6] == [1, 1, 2, 2, 3, 6]
    assert out["shortfall"].tolist()[:6] == [1, 0, 1, 0, 1, 0]
    assert out["compliant"].tolist() == [False, True, False, True, False, True, None, None]
    strict = accessible_parking(parks, share=0.05, min_spaces=3, min_spaces_from_capacity=100).set_index("id")
    assert strict.loc["p120", "required"] == 6 and strict.loc["p70", "required"] == 4


# ---------------------------------------------------------------- real data: Helsinki


def brute_force_nearest(footprints: gpd.GeoSeries, facilities: gpd.GeoSeries, crs: pyproj.CRS) -> tuple:
    """Footprint-to-point distances by numpy alone: pyproj coordinates, even-odd inside test,
    point-to-segment distances over every ring edge; then the nearest (smallest index on ties)."""
    to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    fx, fy = to_m.transform(*np.array([(p.x, p.y) for p in facilities]).T)
    best_i, best_d = [], []
    for poly in footprints:
        rings = [r for part in getattr(poly, "geoms", [poly]) for r in (part.exterior, *part.interiors)]
        d_edge = np.full(len(fx), np.inf)
        inside = np.zeros(len(fx), dtype=bool)
        for ring in rings:
            x, y = to_m.transform(*np.asarray(ring.coords).T)
            ax, ay, bx, by = x[:-1, None], y[:-1, None], x[1:, None], y[1:, None]
            t = np.clip(
                ((fx - ax) * (bx - ax) + (fy - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2), 0, 1
            )
            d_edge = np.minimum(
                d_edge, np.hypot(fx - (ax + t * (bx - ax)), fy - (ay + t * (by - ay))).min(axis=0)
            )
            crosses = ((ay > fy) != (by > fy)) & (fx < ax + (fy - ay) * (bx - ax) / (by - ay))
            inside ^= (crosses.sum(axis=0) % 2).astype(bool)
        d = np.where(inside, 0.0, d_edge)
        best_i.append(int(np.argmin(d)))
        best_d.append(float(d.min()))
    return np.array(best_i), np.array(best_d)


@pytest.fixture(scope="module")
def helsinki() -> dict[str, gpd.GeoDataFrame]:
    from layers.io.osm import read_osm

    return read_osm(HELSINKI, kinds=["streets", "buildings", "hydrant", "litter_bin"]).frames


@pytest.mark.parametrize(("kind", "radius_m"), [("hydrant", 150.0), ("litter_bin", 100.0)])
def test_helsinki_coverage_building_by_building(helsinki: dict, kind: str, radius_m: float) -> None:
    buildings, facilities = helsinki["buildings"], helsinki[kind]
    net = build_network(helsinki["streets"])
    cov = building_coverage(buildings, facilities, radius_m=radius_m, net=net, facility_id_col="source_key")
    idx, dist = brute_force_nearest(buildings.geometry, facilities.geometry, net.crs)
    assert np.abs(cov["straight_m"].to_numpy() - dist).max() < 1e-6
    assert (cov["straight_facility"].to_numpy() == facilities["source_key"].to_numpy()[idx]).all()
    assert (cov["straight_covered"].to_numpy() == (dist <= radius_m)).all()
    assert 0 < cov["straight_covered"].sum() < len(cov)
    walk = nx_nearest(net, snap(net, buildings), snap(net, facilities))
    finite = np.isfinite(walk)
    assert np.abs(cov["network_m"].to_numpy()[finite] - walk[finite]).max() < 1e-6
    assert (cov["network_m"].to_numpy() >= cov["straight_m"].to_numpy() - 1e-6).all()
    assert (cov["network_covered"].to_numpy() == (walk <= radius_m)).all()


# ---------------------------------------------------------------- the demo town's planted gaps


@pytest.fixture(scope="module")
def demo() -> dict:
    layers = {
        n: gpd.read_file(DEMO / f"{n}.geojson") for n in ("streets", "buildings", "facilities", "problems")
    }
    layers["planted"] = json.loads((DEMO / "planted.json").read_text(encoding="utf-8"))
    return layers


def kind(demo: dict, code: str) -> gpd.GeoDataFrame:
    f = demo["facilities"]
    return f[f["kind"] == code]


def test_demo_hydrant_and_refuse_gaps(demo: dict) -> None:
    net = build_network(demo["streets"])
    cov = building_coverage(demo["buildings"], kind(demo, "hydrant"), radius_m=150, net=net)
    planted = demo["planted"]["hydrant_gap"]
    assert set(cov.loc[~cov["straight_covered"], "id"]) == set(planted["buildings_over_150m"])
    assert cov["straight_m"].max() == pytest.approx(planted["max_distance_m"], abs=0.05)
    assert set(cov.loc[~cov["network_covered"], "id"]) >= set(planted["buildings_over_150m"])
    houses = demo["buildings"][demo["buildings"]["use"] == "residential"]
    refuse = building_coverage(houses, kind(demo, "refuse_point"), radius_m=70)
    assert set(refuse.loc[~refuse["straight_covered"], "id"]) == set(
        demo["planted"]["refuse_gap"]["houses_over_70m"]
    )


def test_demo_bin_spacing_tactile_and_parking(demo: dict) -> None:
    gaps = spacing_gaps(demo["streets"], kind(demo, "litter_bin"), max_spacing_m=BIN_SPACING_M)
    planted = {g["street_id"] for g in demo["planted"]["litter_bin_gaps"]}
    without = {s for row in gaps["segments_without"] for s in row}
    assert planted <= without
    # every gap touches a planted segment: the generator also removed the bins of the crossing
    # roads within 25 m of them, which lengthens those roads' stretches at the junctions
    planted_lines = demo["streets"][demo["streets"]["id"].isin(planted)].to_crs(4549).union_all()
    assert (gaps.to_crs(4549).distance(planted_lines) < 1).all()
    found = tactile_defects(demo["streets"], kind(demo, "tactile_paving"))
    brk = found[found["defect"] == "break"]
    assert len(brk) == 1 and set(brk.iloc[0]["facilities"]) == set(
        demo["planted"]["tactile_break"]["piece_ids"]
    )
    mid = gpd.GeoSeries([brk.iloc[0].geometry], crs=4326).to_crs(4549).iloc[0].centroid
    target = (
        gpd.GeoSeries([Point(demo["planted"]["tactile_break"]["midpoint"])], crs=4326).to_crs(4549).iloc[0]
    )
    assert mid.distance(target) < 5
    assert found.loc[found["defect"] == "broken", "facilities"].tolist() == [
        [demo["planted"]["tactile_broken"]["id"]]
    ]
    parks = accessible_parking(kind(demo, "car_park"))
    assert parks.loc[parks["compliant"] == False, "id"].tolist() == ["fc-01043"]  # noqa: E712


def test_the_walking_cover_keeps_its_polygons_only() -> None:
    """Snap-rounding can leave a line where a cell touches a disc; an overlay with a mixed
    collection fails in GEOS ("mixed-dimension"), so the cover keeps its polygons (same area)."""
    from layers.coverage.area import polygonal

    square = shapely.box(0, 0, 10, 10)
    mixed = shapely.GeometryCollection([square, shapely.LineString([(20, 0), (30, 0)])])
    with pytest.raises(shapely.errors.GEOSException):
        shapely.difference(shapely.box(-5, -5, 40, 40), mixed, grid_size=1e-3)  # as the network overlay
    kept = polygonal(mixed)
    assert kept.geom_type == "Polygon" and kept.area == square.area
    assert shapely.difference(shapely.box(-5, -5, 40, 40), kept).area == 45 * 45 - 100
    assert polygonal(square) is square
