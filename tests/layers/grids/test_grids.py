"""Tests of layers.grids.check and layers.grids.partition on tiny inline GeoDataFrames.

Geometry is drawn in metres, in the community's Gauss-Krüger zone (EPSG:4549, CM 120E) relative to
lon 120.87, lat 31.63 (Changshu), then converted to EPSG:4326 as the functions expect.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from layers.grids import KINDS, check_grids, partition_community
from layers.projection import metric_crs_for

CRS_M = metric_crs_for((120.87, 31.63))
X0, Y0 = gpd.GeoSeries([Point(120.87, 31.63)], crs=4326).to_crs(CRS_M).iloc[0].coords[0]
COMMUNITY = "320581001001"


def lonlat(geoms: Sequence[BaseGeometry]) -> list[BaseGeometry]:
    """Local metre geometries (origin at lon 120.87, lat 31.63) to EPSG:4326."""
    shifted = [shapely.transform(g, lambda xy: xy + [X0, Y0]) for g in geoms]
    return list(gpd.GeoSeries(shifted, crs=CRS_M).to_crs(4326))


def local(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """EPSG:4326 geometries back to local metres."""
    return frame.geometry.to_crs(CRS_M).transform(lambda xy: xy - [X0, Y0])


def communities_frame(*geoms: BaseGeometry, codes: tuple[str, ...] = (COMMUNITY,)) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": list(codes)}, geometry=lonlat(list(geoms)), crs=4326)


def grids_frame(cells: list[BaseGeometry], *, community: str = COMMUNITY) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [f"{community}{i:03d}" for i in range(1, len(cells) + 1)],
            "community_code": community,
            "leader": [f"leader {i}" for i in range(1, len(cells) + 1)],
        },
        geometry=lonlat(cells),
        crs=4326,
    )


SQUARE = box(0, 0, 400, 300)  # 120,000 m²
CELLS = [box(x, y, x + 100, y + 100) for y in (200, 100, 0) for x in (0, 100, 200, 300)]


def kinds(findings: gpd.GeoDataFrame) -> list[str]:
    return list(findings["kind"])


# --- check_grids ----------------------------------------------------------------------------------


def test_clean_tiling_has_no_findings() -> None:
    findings = check_grids(grids_frame(CELLS), communities_frame(SQUARE))
    assert findings.empty
    assert list(findings.columns) == ["kind", "grid_code", "community_code", "area_m2", "detail", "geometry"]
    assert findings.crs.to_epsg() == 4326


def test_planted_gap() -> None:
    findings = check_grids(grids_frame(CELLS[:5] + CELLS[6:]), communities_frame(SQUARE))
    assert kinds(findings) == ["gap"]
    gap = findings.iloc[0]
    assert gap.grid_code is None and gap.community_code == COMMUNITY
    assert gap.area_m2 == pytest.approx(10_000, rel=1e-6)
    assert local(findings).iloc[0].symmetric_difference(CELLS[5]).area < 1e-6
    assert findings.crs.to_epsg() == 4326


def test_planted_overlap() -> None:
    cells = list(CELLS)
    cells[5] = box(100, 100, 215, 200)  # reaches 15 m into its eastern neighbour
    findings = check_grids(grids_frame(cells), communities_frame(SQUARE))
    assert kinds(findings) == ["overlap"]
    overlap = findings.iloc[0]
    assert overlap.area_m2 == pytest.approx(1_500, rel=1e-6)
    assert overlap.grid_code == f"{COMMUNITY}006"
    assert f"{COMMUNITY}007" in overlap.detail
    assert local(findings).iloc[0].bounds == pytest.approx((200, 100, 215, 200), abs=1e-6)


def test_sliver_is_reported_once() -> None:
    cells = CELLS[:-1] + [box(300, 0, 399, 100), box(399, 0, 400, 100)]  # a 1 m × 100 m strip
    findings = check_grids(grids_frame(cells), communities_frame(SQUARE))
    assert kinds(findings) == ["sliver"]
    assert findings.iloc[0].grid_code == f"{COMMUNITY}013"
    assert findings.iloc[0].area_m2 == pytest.approx(100, rel=1e-6)


def test_tiny_compact_grid_is_a_sliver() -> None:
    corner = Polygon([(300, 95), (305, 100), (300, 100)])  # 12.5 m², compact but tiny
    cells = CELLS[:-1] + [Polygon([(300, 0), (400, 0), (400, 100), (305, 100), (300, 95)]), corner]
    findings = check_grids(grids_frame(cells), communities_frame(SQUARE))
    assert kinds(findings) == ["sliver"]
    assert findings.iloc[0].area_m2 == pytest.approx(12.5, rel=1e-6)


def test_codes() -> None:
    grids = grids_frame(CELLS)
    grids.loc[0, "code"] = "32058100100"  # too short
    grids.loc[1, "code"] = f"{COMMUNITY}000"  # sequence 000
    grids.loc[2, "code"] = f"320581001002{3:03d}"  # another community's prefix
    grids.loc[4, "code"] = f"{COMMUNITY}004"  # duplicates grid 4
    findings = check_grids(grids, communities_frame(SQUARE))
    by_kind = findings.groupby("kind")["grid_code"].apply(list).to_dict()
    assert by_kind == {
        "bad_code": ["32058100100", f"{COMMUNITY}000"],
        "code_not_in_community": ["320581001002003"],
        "duplicate_code": [f"{COMMUNITY}004", f"{COMMUNITY}004"],
    }
    assert "not 15 digits" in findings.loc[findings["kind"] == "bad_code", "detail"].iloc[0]


def test_missing_leader() -> None:
    grids = grids_frame(CELLS)
    grids.loc[2, "leader"] = None
    grids.loc[3, "leader"] = "  "
    grids.loc[7, "leader"] = np.nan
    findings = check_grids(grids, communities_frame(SQUARE))
    assert kinds(findings) == ["no_leader"] * 3
    assert list(findings["grid_code"]) == [f"{COMMUNITY}{i:03d}" for i in (3, 4, 8)]
    assert check_grids(grids_frame(CELLS).drop(columns="leader"), communities_frame(SQUARE)).shape[0] == 12


def test_area_far_from_norm() -> None:
    cells = [box(0, 0, 200, 200)] + [box(200, 0, 250, 50), box(250, 0, 300, 50), box(200, 50, 300, 200)]
    community = box(0, 0, 300, 200)
    findings = check_grids(grids_frame(cells), communities_frame(community), norm_area_m2=10_000)
    assert sorted(zip(findings["kind"], findings["grid_code"], strict=True)) == [
        ("area_large", f"{COMMUNITY}001"),
        ("area_small", f"{COMMUNITY}002"),
        ("area_small", f"{COMMUNITY}003"),
    ]


def test_outside_community_and_unknown_community() -> None:
    cells = list(CELLS)
    cells[3] = box(300, 200, 400, 320)  # 20 m beyond the northern boundary
    grids = grids_frame(cells)
    other = grids_frame([box(1000, 0, 1100, 100)], community="320581001009")
    findings = check_grids(pd.concat([grids, other], ignore_index=True), communities_frame(SQUARE))
    outside = findings[findings["kind"] == "outside_community"]
    assert list(outside["grid_code"]) == [f"{COMMUNITY}004", "320581001009001"]
    assert outside.iloc[0].area_m2 == pytest.approx(2_000, rel=1e-6)
    assert "not among the communities" in outside.iloc[1].detail
    assert set(kinds(findings)) == {"outside_community"}


def test_invalid_geometry_is_reported_and_repaired() -> None:
    cells = list(CELLS)
    cells[0] = Polygon([(0, 200), (100, 300), (100, 200), (0, 300)])  # bow-tie
    findings = check_grids(grids_frame(cells), communities_frame(SQUARE))
    assert findings.iloc[0].kind == "invalid_geometry"
    assert "Self-intersection" in findings.iloc[0].detail
    assert findings.iloc[0].area_m2 == pytest.approx(5_000, rel=1e-6)  # the repaired bow-tie
    assert "gap" in kinds(findings)


def test_community_without_grids_is_one_gap() -> None:
    findings = check_grids(
        grids_frame(CELLS),
        communities_frame(SQUARE, box(400, 0, 500, 100), codes=(COMMUNITY, "320581001002")),
    )
    assert kinds(findings) == ["gap"]
    assert findings.iloc[0].community_code == "320581001002"
    assert "no grids" in findings.iloc[0].detail


def test_findings_sorted_by_kind() -> None:
    grids = grids_frame(CELLS[1:])
    grids.loc[0, "leader"] = None
    grids.loc[1, "code"] = "x"
    findings = check_grids(grids, communities_frame(SQUARE))
    order = [KINDS.index(k) for k in kinds(findings)]
    assert order == sorted(order) and kinds(findings) == ["bad_code", "gap", "no_leader"]


def test_thousand_grids_quickly() -> None:
    """A clean 40 × 25 tiling of 100 m cells with jittered shared vertices, over four communities."""
    rng = np.random.default_rng(7)
    xs, ys = np.meshgrid(np.arange(41) * 100.0, np.arange(26) * 100.0)
    xs[1:-1, 1:-1] += rng.uniform(-20, 20, (24, 39))
    ys[1:-1, 1:-1] += rng.uniform(-20, 20, (24, 39))
    xs[:, ::10] = np.arange(0, 4001, 1000)  # community borders stay straight
    cells, owners = [], []
    for row, col in itertools.product(range(25), range(40)):
        ring = [(row, col), (row, col + 1), (row + 1, col + 1), (row + 1, col)]
        cells.append(Polygon([(xs[r, c], ys[r, c]) for r, c in ring]))
        owners.append(f"32058100100{col // 10 + 1}")
    codes = [f"{owner}{i % 250 + 1:03d}" for i, owner in enumerate(sorted(owners))]
    order = np.argsort(owners, kind="stable")
    grids = gpd.GeoDataFrame(
        {"code": codes, "community_code": sorted(owners), "leader": "x"},
        geometry=lonlat([cells[i] for i in order]),
        crs=4326,
    )
    communities = communities_frame(
        *[box(1000 * k, 0, 1000 * k + 1000, 2500) for k in range(4)],
        codes=tuple(f"32058100100{k + 1}" for k in range(4)),
    )
    started = time.perf_counter()
    findings = check_grids(grids, communities)
    elapsed = time.perf_counter() - started
    assert findings.empty, findings[["kind", "grid_code", "detail"]]
    assert elapsed < 5.0


# --- partition_community ---------------------------------------------------------------------------


STREETS = [LineString([(150, -20), (150, 320)]), LineString([(-20, 200), (420, 200)])]
BUILDING_SPOTS = [(20, 250, 12), (120, 280, 30), (300, 250, 8), (380, 220, 5), (30, 30, 40), (90, 150, 18)]
BUILDING_SPOTS += [(200, 50, 22), (260, 120, 9), (350, 30, 14), (320, 170, 11), (180, 180, 7), (60, 100, 25)]


def streets_frame(lines: Sequence[LineString] = STREETS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [f"road {i}" for i in range(len(lines))]}, geometry=lonlat(lines), crs=4326
    )


def buildings_frame(spots: Sequence[tuple[float, float, float]] = BUILDING_SPOTS) -> gpd.GeoDataFrame:
    footprints = [box(x - 6, y - 4, x + 6, y + 4) for x, y, _ in spots]
    return gpd.GeoDataFrame({"households": [h for _, _, h in spots]}, geometry=lonlat(footprints), crs=4326)


def partition(**kwargs: object) -> gpd.GeoDataFrame:
    community = lonlat([kwargs.pop("community", SQUARE)])[0]  # type: ignore[list-item]
    streets = kwargs.pop("streets", streets_frame())
    buildings = kwargs.pop("buildings", buildings_frame())
    return partition_community(community, streets, buildings, community_code=COMMUNITY, **kwargs)  # type: ignore[arg-type]


def assert_tiles(grids: gpd.GeoDataFrame, community: BaseGeometry) -> None:
    cells = list(local(grids))
    assert all(c.is_valid for c in grids.geometry) and all(c.is_valid for c in cells)
    union = shapely.union_all(cells)
    assert union.area == pytest.approx(community.area, abs=0.05)
    assert union.symmetric_difference(community).area < 0.05
    worst = max((a.intersection(b).area for a, b in itertools.combinations(cells, 2)), default=0.0)
    assert worst < 1e-6


def test_partition_tiles_the_community() -> None:
    grids = partition()
    assert list(grids.columns) == ["code", "name", "community_code", "area_m2", "households", "geometry"]
    assert grids.crs.to_epsg() == 4326
    assert_tiles(grids, SQUARE)
    assert set(grids.geom_type) == {"Polygon"}
    assert grids["area_m2"].sum() == pytest.approx(SQUARE.area, abs=0.05)


def test_partition_follows_streets_and_target_area() -> None:
    grids = partition()
    assert 10 <= len(grids) <= 14
    assert grids["area_m2"].between(5_000, 15_000).all()
    cells = list(local(grids))
    for street in STREETS:  # no grid crosses a street
        assert not any(cell.buffer(-0.01).intersects(street) for cell in cells)
    assert check_grids(grids.assign(leader="x"), communities_frame(SQUARE)).empty


def test_partition_codes_run_west_to_east_then_north_to_south() -> None:
    grids = partition()
    assert list(grids["code"]) == [f"{COMMUNITY}{i:03d}" for i in range(1, len(grids) + 1)]
    assert list(grids["name"]) == [f"第{i}网格" for i in range(1, len(grids) + 1)]
    reps = shapely.get_coordinates(shapely.point_on_surface(local(grids).values))
    rows = np.floor((300 - reps[:, 1]) / math.sqrt(10_000))  # rows of 100 m from the north edge
    keys = list(zip(rows, reps[:, 0], strict=True))
    assert keys == sorted(keys)
    cells = list(local(grids))
    assert cells[0].contains(Point(1, 299))  # north-west corner first
    assert cells[-1].contains(Point(399, 1))  # south-east corner last


def test_partition_counts_every_household_once() -> None:
    buildings = buildings_frame()
    grids = partition(buildings=buildings)
    assert grids["households"].sum() == buildings["households"].sum()
    reps = shapely.point_on_surface(buildings.to_crs(CRS_M).geometry.values)
    cells = grids.to_crs(CRS_M).geometry.values
    for cell, households in zip(cells, grids["households"], strict=True):
        assert households == buildings.loc[shapely.contains(cell, reps), "households"].sum()


def test_partition_is_deterministic() -> None:
    first, second = partition(), partition()
    pd.testing.assert_frame_equal(first.drop(columns="geometry"), second.drop(columns="geometry"))
    assert all(a.equals_exact(b, 0) for a, b in zip(first.geometry, second.geometry, strict=True))


def test_partition_splits_towards_the_households() -> None:
    block = box(0, 0, 200, 100)  # 20,000 m², no streets: cut in two across the long (east-west) axis
    spots = [(x, y, 20) for x in (10, 30, 50) for y in (20, 50, 80)] + [(190, 50, 1)]
    grids = partition(community=block, streets=None, buildings=buildings_frame(spots))
    assert len(grids) == 2
    west, east = local(grids)
    assert west.bounds[0] == pytest.approx(0, abs=1e-3) and east.bounds[2] == pytest.approx(200, abs=1e-3)
    assert west.area < east.area  # the crowded west side gets the smaller grid ...
    assert west.area >= 0.75 * 10_000  # ... but no less than 75 % of its area share
    assert_tiles(grids, block)


def test_partition_max_households() -> None:
    grids = partition(max_households=40)
    assert grids["households"].max() <= 40
    assert_tiles(grids, SQUARE)


def test_partition_merges_small_blocks() -> None:
    lanes = [LineString([(x, -20), (x, 320)]) for x in (40, 80, 120, 160, 200, 240, 280, 320, 360)]
    grids = partition(streets=streets_frame(lanes), target_area_m2=30_000)  # lanes cut 12,000 m² strips
    assert 3 <= len(grids) <= 5
    assert grids["area_m2"].between(15_000, 45_000).all()
    assert_tiles(grids, SQUARE)


def test_partition_snaps_streets_that_stop_short() -> None:
    short = [LineString([(200, 3), (200, 297)])]  # 3 m short of both edges
    snapped = partition(streets=streets_frame(short), target_area_m2=100_000)
    assert len(snapped) == 2
    assert [round(a) for a in snapped["area_m2"]] == [60_000, 60_000]
    assert len(partition(streets=streets_frame(short), target_area_m2=100_000, street_snap_m=0)) == 1


def test_partition_leaves_holes_empty() -> None:
    holed = SQUARE.difference(box(180, 120, 220, 160))
    grids = partition(community=holed)
    assert_tiles(grids, holed)
    assert not any(cell.intersects(Point(200, 140)) for cell in local(grids))


def test_partition_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        partition_community(lonlat([SQUARE])[0], None, None, community_code="3205")
    with pytest.raises(ValueError, match="polygon"):
        partition_community(Point(120.87, 31.63), None, None, community_code=COMMUNITY)
