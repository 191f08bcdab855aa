"""The raster path gives exactly the STRtree path's answer (smallest code on shared edges)."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import Voronoi

import layers.assign.areas as assign
from layers.assign.areas import assign_areas, assign_areas_strtree
from layers.assign.raster import GridLocator, assign_areas_fast, locator_for

LON0, LAT0 = 120.87, 31.62
STEP = 2.0**-10  # exactly representable, so points can sit exactly on shared edges


def squares(n=6, seed=1):
    """n × n square grids; codes shuffled so that code order is not the geometry order."""
    rng = np.random.default_rng(seed)
    cells = [
        shapely.box(LON0 + i * STEP, LAT0 + j * STEP, LON0 + (i + 1) * STEP, LAT0 + (j + 1) * STEP)
        for j in range(n)
        for i in range(n)
    ]
    codes = [f"320581107001{k:03d}" for k in rng.permutation(len(cells)) + 1]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs="EPSG:4326")


def voronoi(n=80, seed=2, side=0.01):
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, side, size=(n, 2))
    mirrored = np.vstack(
        [
            seeds,
            seeds * [-1, 1],
            seeds * [-1, 1] + [2 * side, 0],
            seeds * [1, -1],
            seeds * [1, -1] + [0, 2 * side],
        ]
    )
    vor = Voronoi(mirrored)
    cells = [shapely.Polygon(vor.vertices[vor.regions[vor.point_region[i]]] + [LON0, LAT0]) for i in range(n)]
    cells = shapely.intersection(np.array(cells), shapely.box(LON0, LAT0, LON0 + side, LAT0 + side))
    codes = [f"320581107002{k:03d}" for k in rng.permutation(n) + 1]
    return gpd.GeoDataFrame({"code": codes}, geometry=list(cells), crs="EPSG:4326")


def tricky_points(areas, n_random=4000, seed=3):
    """Random points, every vertex, points along every edge, and points just off the edges."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = areas.total_bounds
    pad = (maxx - minx) * 0.05
    random_xy = rng.uniform([minx - pad, miny - pad], [maxx + pad, maxy + pad], size=(n_random, 2))
    rings = shapely.get_parts(shapely.boundary(areas.geometry.values))
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    t = rng.uniform(0, 1, size=(len(a), 1))
    along = a + t * (b - a)  # on the edge up to rounding: either answer, as long as both paths agree
    nudge = rng.normal(0, 1e-12, size=along.shape)
    xy = np.vstack([random_xy, coords, along, along + nudge, along + nudge * 1e4])
    return gpd.GeoSeries(shapely.points(xy), crs="EPSG:4326")


def assert_same(fast, plain):
    assert fast.index.equals(plain.index)
    assert fast.dtype == object and plain.dtype == object
    assert [None if pd.isna(v) else v for v in fast] == [None if pd.isna(v) else v for v in plain]


@pytest.mark.parametrize("cell_size", [None, STEP / 3, STEP * 2.5, 1e-5])
@pytest.mark.parametrize("make", [squares, voronoi])
def test_fast_path_equals_the_strtree_path(make, cell_size):
    areas = make()
    points = tricky_points(areas)
    fast = assign_areas_fast(points, areas, cell_size=cell_size)
    assert_same(fast, assign_areas_strtree(points, areas))
    assert fast.notna().sum() > len(points) * 0.5


def test_points_exactly_on_shared_edges_and_corners_go_to_the_smallest_code():
    areas = squares(n=3)
    bounds = areas.geometry.bounds
    cols = np.round((bounds["minx"] - LON0) / STEP).astype(int)
    rows = np.round((bounds["miny"] - LAT0) / STEP).astype(int)
    code = {(i, j): c for i, j, c in zip(cols, rows, areas["code"], strict=True)}
    xy, expected = [], []
    for i in range(1, 3):
        for j in range(3):  # on the vertical edge between (i-1, j) and (i, j)
            xy.append((LON0 + i * STEP, LAT0 + (j + 0.37) * STEP))
            expected.append(min(code[(i - 1, j)], code[(i, j)]))
    xy.append((LON0 + STEP, LAT0 + STEP))  # a corner of four squares
    expected.append(min(code[(0, 0)], code[(1, 0)], code[(0, 1)], code[(1, 1)]))
    xy.append((LON0, LAT0 + 0.5 * STEP))  # the outer edge: inside (closed polygon)
    expected.append(code[(0, 0)])
    xy.append((LON0 - 1e-9, LAT0 + 0.5 * STEP))  # just outside
    expected.append(None)
    points = gpd.GeoSeries(shapely.points(xy), crs="EPSG:4326")
    locator = GridLocator(areas)
    assert list(locator.assign(points)) == expected
    assert [locator.locate(x, y) for x, y in xy] == expected
    assert list(assign_areas_strtree(points, areas)) == expected


def test_matches_geopandas_sjoin_where_no_point_lies_on_an_edge():
    areas = voronoi(n=120, seed=5)
    rng = np.random.default_rng(6)
    minx, miny, maxx, maxy = areas.total_bounds
    points = gpd.GeoSeries(
        shapely.points(rng.uniform([minx, miny], [maxx, maxy], size=(20_000, 2))),
        crs="EPSG:4326",
        index=pd.RangeIndex(20_000) * 3,
    )
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=points), areas, predicate="intersects", how="left")
    assert not joined.index.duplicated().any()  # no ties in this sample
    fast = assign_areas_fast(points, areas)
    assert fast.index.equals(points.index)
    assert (fast.fillna("-") == joined["code"].reindex(points.index).fillna("-")).all()


def test_overlapping_areas_holes_and_multipolygons():
    big = shapely.box(LON0, LAT0, LON0 + 8 * STEP, LAT0 + 8 * STEP)
    hole = shapely.box(LON0 + 2 * STEP, LAT0 + 2 * STEP, LON0 + 4 * STEP, LAT0 + 4 * STEP)
    areas = gpd.GeoDataFrame(
        {"code": ["900", "100", "500", "200"]},
        geometry=[
            big.difference(hole),  # a polygon with a hole
            hole,  # fills the hole
            shapely.box(LON0 + 3 * STEP, LAT0 + 3 * STEP, LON0 + 6 * STEP, LAT0 + 6 * STEP),  # overlaps both
            shapely.MultiPolygon(
                [
                    shapely.box(LON0 + 6.5 * STEP, LAT0, LON0 + 7 * STEP, LAT0 + STEP),
                    shapely.box(LON0 + 9 * STEP, LAT0, LON0 + 10 * STEP, LAT0 + STEP),
                ]
            ),
        ],
        crs="EPSG:4326",
    )
    points = tricky_points(areas, n_random=6000, seed=7)
    for cell_size in (None, STEP / 2, STEP * 3):
        assert_same(
            assign_areas_fast(points, areas, cell_size=cell_size), assign_areas_strtree(points, areas)
        )


def test_missing_empty_and_non_point_geometries_are_checked_exactly():
    areas = squares(n=4)
    geoms = [
        None,
        shapely.Point(),
        shapely.Point(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP),
        shapely.LineString([(LON0 - STEP, LAT0 + 0.5 * STEP), (LON0 + 2.5 * STEP, LAT0 + 0.5 * STEP)]),
        shapely.MultiPoint([(LON0 + 1.5 * STEP, LAT0 + 0.5 * STEP)]),
        shapely.Point(LON0 - 1, LAT0),
    ]
    points = gpd.GeoSeries(geoms, crs="EPSG:4326", index=list("abcdef"))
    fast = assign_areas_fast(points, areas)
    assert_same(fast, assign_areas_strtree(points, areas))
    assert fast["a"] is None and fast["b"] is None and fast["f"] is None and fast["c"] is not None


def test_empty_inputs():
    areas = squares(n=2)
    empty_points = gpd.GeoSeries([], crs="EPSG:4326")
    assert assign_areas_fast(empty_points, areas).empty
    point = gpd.GeoSeries([shapely.Point(LON0, LAT0)], crs="EPSG:4326")
    assert list(assign_areas_fast(point, areas.iloc[:0])) == [None]
    no_geoms = gpd.GeoDataFrame({"code": ["1"]}, geometry=[None], crs="EPSG:4326")
    assert list(assign_areas_fast(point, no_geoms)) == [None]
    assert GridLocator(no_geoms).locate(LON0, LAT0) is None


def test_locator_locate_equals_the_batch_answer_and_rejects_non_finite_input():
    areas = voronoi(n=50, seed=8)
    points = tricky_points(areas, n_random=2000, seed=9)
    locator = GridLocator(areas)
    batch = locator.assign(points)
    one_by_one = [locator.locate(p.x, p.y) for p in points]
    assert one_by_one == list(batch)
    assert locator.locate(float("nan"), LAT0) is None and locator.locate(LON0, float("inf")) is None
    assert 0 < locator.boundary_share < 0.5


def test_assign_areas_switches_to_the_raster_above_the_threshold(monkeypatch):
    areas = voronoi(n=60, seed=10)
    points = tricky_points(areas, n_random=3000, seed=11)
    calls = []
    monkeypatch.setattr(
        assign, "assign_areas_fast", lambda *a, **k: calls.append(1) or assign_areas_fast(*a, **k)
    )
    monkeypatch.setattr(assign, "FAST_MIN_POINTS", len(points))
    assert_same(assign_areas(points, areas), assign_areas_strtree(points, areas))
    assert calls == [1]
    assign_areas(points.iloc[:10], areas)
    assert calls == [1]


def test_locator_is_cached_by_content():
    areas = squares(n=3)
    first = locator_for(areas)
    assert locator_for(areas.copy()) is first
    changed = areas.copy()
    changed.loc[0, "code"] = "999"
    assert locator_for(changed) is not first
