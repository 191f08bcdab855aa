"""manage.py hotspots on the demo town: the planted hotspots come out as clusters, as hot cells,
and the construction-dust site of the last month as a new hotspot; bad options are refused.

The demo town is the session's (tests/conftest.py), loaded once; each test's writes are rolled back.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import shape

from gridmap.analysis.hotspots import CellOptions, ProblemFilter, hotspots_clusters, hotspots_gistar
from gridmap.geography.models import Grid
from gridmap.imports.demo import DEMO_DIR
from gridmap.problems.models import EventCategory, Problem
from layers.projection import metric_crs_for

TZ = ZoneInfo("Asia/Shanghai")
PLANTED = json.loads((DEMO_DIR / "planted.json").read_text(encoding="utf-8"))["hotspots"]
ALL_PERIOD = [h for h in PLANTED if h["since"] == "2026-05-16"]
(DUST,) = [h for h in PLANTED if h["since"] != "2026-05-16"]
CRS = metric_crs_for((120.873, 31.62))


@pytest.fixture
def demo(demo_town):
    """The session's demo town (tests/conftest.py); each test's writes are rolled back."""


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("hotspots", *args, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def metric(geom):
    """A lon/lat shapely geometry in the demo's metric CRS (metres)."""
    return gpd.GeoSeries([geom], crs=4326).to_crs(CRS).iloc[0]


def main_cell(rows: list[dict], cells_geojson: dict, region: dict) -> dict:
    """The row of the cell overlapping the planted region most."""
    reg = shape(region)
    overlap = [shape(f["geometry"]).intersection(reg).area for f in cells_geojson["features"]]
    return rows[int(np.argmax(overlap))]


def run_cells(*args: str) -> tuple[list[dict], dict]:
    out = io.StringIO()
    call_command("hotspots", *args, "--format", "geojson", stdout=out)
    fc = json.loads(out.getvalue())
    return [f["properties"] for f in fc["features"]], fc


@pytest.mark.parametrize(
    "args",
    [
        ("--clusters", "dbscan", "--eps-m", "20", "--min-samples", "15"),
        ("--clusters", "hdbscan", "--min-cluster-size", "30"),
    ],
)
def test_clusters_find_each_planted_hotspot(demo, db, args):
    result = run(*args)
    rows = result["rows"]
    assert result["analysis"] == "clusters" and rows == sorted(rows, key=lambda r: -r["size"])
    for spot in PLANTED:
        region = metric(shape(spot["region"])).buffer(20)
        found = [
            r
            for r in rows
            if region.contains(metric(shapely.Point(r["centroid_lon"], r["centroid_lat"])))
            and r["size"] >= 0.8 * spot["problems_inside"]
        ]
        assert found, spot["name"]
        best = found[0]
        assert best["top_category"] in spot["categories"], spot["name"]
        assert sum(best["category_counts"].values()) == best["size"]
        assert abs(sum(best["category_shares"].values()) - 1) < 1e-3
        assert (
            best["first_reported_at"] >= spot["since"]
            and best["first_reported_at"] <= best["last_reported_at"]
        )


@pytest.mark.parametrize(
    "args",
    [
        ("--cells", "square", "--cell-m", "100", "--band-m", "300"),
        ("--cells", "h3", "--h3-res", "10", "--band-m", "300"),
    ],
)
def test_gistar_planted_hotspots_are_hot_cells(demo, db, args):
    rows, fc = run_cells("--gistar", *args)
    assert fc["gridmap"]["parameters"]["weights"] == "band"
    for spot in ALL_PERIOD:
        cell = main_cell(rows, fc, spot["region"])
        assert cell["gi_bin"] >= 2 and cell["hotspot"] in ("hot_95", "hot_99"), (spot["name"], cell)
    assert all(r["p_value"] is None or 0 <= r["p_value"] <= 1 for r in rows)


def test_gistar_on_grids_finds_the_market_street_and_the_school(demo, db):
    rows, fc = run_cells("--gistar")
    assert fc["gridmap"]["parameters"]["weights"] == "queen"
    assert len(rows) == Grid.objects.count() and all(r["cell_id"] for r in rows)
    for spot in ALL_PERIOD[0], ALL_PERIOD[2]:  # 新街与农贸市场, 古里中心小学门口
        assert main_cell(rows, fc, spot["region"])["gi_bin"] >= 2, spot["name"]


def test_street_normalisation_counts_per_street_km(demo, db):
    rows, _ = run_cells("--gistar", "--normalise", "street")
    tested = [r for r in rows if r["tested"]]
    assert tested and all(r["street_m"] >= 20 for r in tested)
    for r in tested:
        assert r["problems_per_street_km"] == pytest.approx(r["count"] / (r["street_m"] / 1000))


@pytest.mark.parametrize(
    "args", [("--cells", "h3", "--h3-res", "10"), ("--cells", "square", "--cell-m", "100")]
)
def test_emerging_construction_dust_is_new(demo, db, args):
    rows, fc = run_cells("--emerging", "--days", "30", "--end", "2026-11-16", *args)
    assert fc["gridmap"]["parameters"]["end"].startswith("2026-11-16T00:00:00+08:00")
    dust = main_cell(rows, fc, DUST["region"])
    assert dust["emerging"] == "new" and dust["count_now"] > 50 and dust["count_before"] <= 5
    for spot in ALL_PERIOD:  # present in both months: never "new"
        assert main_cell(rows, fc, spot["region"])["emerging"] != "new", spot["name"]


def test_emerging_on_grids_flags_the_dust_grid_as_rising(demo, db):
    rows, fc = run_cells("--emerging", "--end", "2026-11-16")
    dust = main_cell(rows, fc, DUST["region"])
    # One grid holds the whole site: a rise in a single cell, hot by Gi* only with hot neighbours.
    assert dust["emerging"] in ("new", "sporadic") and dust["change_p"] < 0.01 and dust["change"] > 50


def test_a_big_grid_is_not_hot_for_being_big_per_area(demo, db):
    """Evenly spread reports (a 10 m lattice over the grids) in January: by raw count the largest
    grid and its large neighbours are hot; per km² nothing is."""
    grids = Grid.objects.order_by("code")
    union = shapely.union_all([shapely.from_wkb(bytes(g.geom.wkb)) for g in grids])
    x0, y0, x1, y1 = union.bounds
    xs, ys = (a.ravel() for a in np.meshgrid(np.arange(x0, x1, 1e-4), np.arange(y0, y1, 1e-4)))
    inside = shapely.contains_xy(union, xs, ys)
    category = EventCategory.objects.get(code="0601")
    when = datetime(2026, 1, 10, 9, tzinfo=TZ)
    Problem.objects.bulk_create(
        Problem(
            geom=Point(float(x), float(y), srid=4326), category=category, reported_at=when, status="closed"
        )
        for x, y in zip(xs[inside], ys[inside], strict=True)
    )
    period = ("--start", "2026-01-01", "--end", "2026-02-01")
    biggest = max(
        grids, key=lambda g: shapely.from_wkb(bytes(g.geom.transform(CRS.to_epsg(), clone=True).wkb)).area
    )
    raw = {r["cell_id"]: r for r in run("--gistar", "--normalise", "none", *period)["rows"]}
    dense = {r["cell_id"]: r for r in run("--gistar", "--normalise", "area", *period)["rows"]}
    assert raw[biggest.code]["gi_bin"] >= 2
    assert dense[biggest.code]["gi_bin"] == 0 and abs(dense[biggest.code]["z"]) < 1.0
    assert all(r["gi_bin"] == 0 for r in dense.values())


def test_formats_and_output_file(demo, db, tmp_path):
    out = io.StringIO()
    call_command(
        "hotspots", "--clusters", "hdbscan", "--min-cluster-size", "30", "--format", "csv", stdout=out
    )
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert table and {"cluster_id", "size", "category_counts", "centroid_lon"} <= set(table[0])
    assert isinstance(json.loads(table[0]["category_counts"]), dict)
    target = tmp_path / "hot.geojson"
    call_command("hotspots", "--gistar", "--category", "0302,0301", "--status", "open",
                 "--output", str(target), stdout=io.StringIO())  # fmt: skip
    fc = json.loads(target.read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and fc["features"][0]["geometry"]["type"] in (
        "Polygon",
        "MultiPolygon",
    )
    assert fc["gridmap"]["parameters"]["categories"] == ["0301", "0302"]
    open_0301 = Problem.objects.filter(category__code__in=["0301", "0302"], status__in=["reported", "filed",
                                       "dispatched", "handled"], grid__isnull=False).count()  # fmt: skip
    assert sum(f["properties"]["count"] for f in fc["features"]) == open_0301


def test_a_grid_leader_sees_only_their_grids(demo, db):
    leader = get_user_model().objects.get(username="leader_01")
    own = set(Grid.objects.filter(first_responsible=leader).values_list("code", flat=True)) | set(
        Grid.objects.filter(direct_responsible=leader).values_list("code", flat=True)
    )
    cells = hotspots_gistar(user=leader, filters=ProblemFilter(), options=CellOptions())
    assert set(cells["cell_id"]) == own
    hexes = hotspots_gistar(user=leader, filters=ProblemFilter(), options=CellOptions(cells="h3"))
    area = shapely.union_all([shapely.from_wkb(bytes(g.geom.wkb)) for g in Grid.objects.filter(code__in=own)])
    assert hexes.geometry.union_all().buffer(-1e-7).within(area.buffer(1e-7))
    clusters = hotspots_clusters(user=leader, filters=ProblemFilter(), eps_m=20, min_samples=15)
    assert clusters.attrs["problems"] < Problem.objects.count() / 3


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--clusters", "kmeans"),
        ("--clusters", "dbscan", "--gistar"),
        ("--clusters", "dbscan", "--emerging"),
        ("--clusters", "hdbscan", "--eps-m", "50"),
        ("--clusters", "dbscan", "--min-cluster-size", "10"),
        ("--clusters", "dbscan", "--eps-m", "-5"),
        ("--clusters", "dbscan", "--eps-m", "abc"),
        ("--clusters", "dbscan", "--cells", "h3"),
        ("--gistar", "--h3-res", "9"),
        ("--gistar", "--cells", "h3", "--h3-res", "16"),
        ("--gistar", "--cells", "square", "--cell-m", "0"),
        ("--gistar", "--weights", "band"),
        ("--gistar", "--weights", "queen", "--band-m", "300"),
        ("--gistar", "--k", "5"),
        ("--gistar", "--normalise", "people"),
        ("--gistar", "--days", "30"),
        ("--gistar", "--start", "2026-13-01"),
        ("--gistar", "--start", "2026-06-01", "--end", "2026-05-01"),
        ("--gistar", "--category", "9999"),
        ("--gistar", "--format", "shp"),
        ("--emerging", "--start", "2026-06-01"),
        ("--emerging", "--days", "0"),
        ("--emerging", "--confidence", "95"),
    ],
)
def test_bad_options_are_refused(db, args):
    with pytest.raises(CommandError):
        call_command("hotspots", *args, stdout=io.StringIO())
