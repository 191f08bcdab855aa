"""manage.py coverage on the demo town: it finds the planted gaps (fixtures/demo_town/README.md),
on SpatiaLite and PostGIS alike, and keeps to the user's scope."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO
from typing import Any

import geopandas as gpd
import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import LineString
from django.core.management import CommandError, call_command
from django.db.models import Count

from gridmap.analysis import network_cache
from gridmap.analysis.coverage import coverage_run
from gridmap.core.gdf import to_gdf
from gridmap.geography.models import Grid, Street
from gridmap.imports.demo import DEMO_DIR

pytestmark = pytest.mark.django_db

PLANTED = json.loads((DEMO_DIR / "planted.json").read_text(encoding="utf-8"))


def demo_key(key: str) -> str:
    return f"demo:{key}"


def run(*args: str) -> str:
    out = StringIO()
    call_command("coverage", *args, stdout=out)
    return out.getvalue()


def run_json(*args: str) -> Any:
    return json.loads(run(*args))


@pytest.fixture
def demo(demo_town) -> None:
    """The session's demo town (tests/conftest.py); each test's writes are rolled back."""


def test_planted_gaps_are_found(demo: None) -> None:
    # hydrants, 150 m straight: exactly the planted buildings
    doc = run_json("hydrant", "--format", "json")
    assert (doc["rule"], doc["metric"], doc["limit_m"]) == ("radius", "straight", 150.0)
    planted = {demo_key(b) for b in PLANTED["hydrant_gap"]["buildings_over_150m"]}
    assert set(doc["uncovered"]) == planted
    assert doc["summary"]["uncovered_straight"] == len(planted)
    # walking is never shorter: the network finds at least these
    walk = run_json("hydrant", "--metric", "network", "--format", "json")
    assert set(walk["uncovered"]) >= planted and walk["summary"]["uncovered_network"] > len(planted)
    # the gap table: the planted grids on top, household shares in [0, 1]
    rows = list(csv.DictReader(io.StringIO(run("hydrant", "--format", "csv"))))
    assert sum(int(r["uncovered_straight"]) for r in rows) == len(planted)
    assert int(rows[0]["uncovered_households_straight"]) == max(
        int(r["uncovered_households_straight"]) for r in rows
    )
    assert all(0 <= float(r["household_share_network"]) <= 1 for r in rows if r["household_share_network"])
    assert all(r["grid"].startswith("\t") and len(r["grid"].strip()) == 15 for r in rows if r["grid"])
    # refuse collection points serve houses: exactly the planted 29
    refuse = run_json("refuse_point")
    assert set(refuse["uncovered"]) == {demo_key(b) for b in PLANTED["refuse_gap"]["houses_over_70m"]}
    # litter bins: the two bin-less main-road segments
    bins = run_json("litter_bin")
    assert bins["rule"] == "spacing"
    without = {s for f in bins["findings"] for s in f["segments_without"]}
    assert {demo_key(g["street_id"]) for g in PLANTED["litter_bin_gaps"]} <= without
    # the car park with no accessible space, and only it
    parks = run_json("car_park")
    assert [f["id"] for f in parks["findings"] if f["compliant"] is False] == [
        demo_key(PLANTED["car_park_without_accessible_spaces"]["id"])
    ]
    assert parks["summary"]["non_compliant"] == 1
    # tactile paving: the break between the two planted pieces, the broken and the blocked piece
    tactile = run_json("tactile_paving")["findings"]
    breaks = [f for f in tactile if f["defect"] == "break"]
    assert len(breaks) == 1 and set(breaks[0]["facilities"]) == {
        demo_key(k) for k in PLANTED["tactile_break"]["piece_ids"]
    }
    assert [f["facilities"] for f in tactile if f["defect"] == "broken"] == [
        [demo_key(PLANTED["tactile_broken"]["id"])]
    ]
    assert [f["facilities"] for f in tactile if f["defect"] == "blocked"] == [
        [demo_key(k) for k in PLANTED["tactile_blocked"]]
    ]
    assert any(f["defect"] == "reported_obstruction" and f["problems"] > 10 for f in tactile)
    # every footway crossing of the demo has its curb ramps
    assert run_json("curb_ramp")["findings"] == []


def test_formats_grid_filter_and_area(demo: None, tmp_path: Any) -> None:
    grid = "320581107003014"  # the planted hydrant gap lies here
    features = json.loads(run("hydrant", "--grid", grid, "--format", "geojson"))["features"]
    assert features and all(f["properties"]["grid"] == grid for f in features)
    assert {"straight_m", "network_m", "straight_facility", "covered"} <= set(features[0]["properties"])
    assert features[0]["geometry"]["type"] == "MultiPolygon"
    gaps = json.loads(run("hydrant", "--format", "geojson", "--uncovered-only"))["features"]
    assert len(gaps) == len(PLANTED["hydrant_gap"]["buildings_over_150m"])
    out = tmp_path / "area.geojson"
    assert "wrote" in run(
        "hydrant", "--area", "--metric", "network", "--format", "geojson", "--output", str(out)
    )
    area = gpd.read_file(out).set_index("code")
    straight = gpd.GeoDataFrame.from_features(
        json.loads(run("hydrant", "--area", "--format", "geojson"))["features"], crs=4326
    ).set_index("code")
    assert area.loc[grid, "uncovered_share"] > 0.5
    # a grid left wholly covered has no feature (no null geometry), so 0 m² uncovered
    assert area.geometry.notna().all() and straight.geometry.notna().all()
    assert (area["uncovered_m2"] >= straight["uncovered_m2"].reindex(area.index, fill_value=0.0) - 1e-3).all()
    centre = gpd.points_from_xy([PLANTED["hydrant_gap"]["centre"][0]], [PLANTED["hydrant_gap"]["centre"][1]])[
        0
    ]
    assert straight.geometry.contains(centre).any()
    # csv of findings carries a point, lists joined by ";"
    rows = list(csv.DictReader(io.StringIO(run("litter_bin", "--format", "csv"))))
    assert rows and {"lon", "lat", "gap_m"} <= set(rows[0]) and ";" in rows[0]["segments"]
    spacing = run_json("hydrant", "--rule", "spacing")
    assert {f["name"] for f in spacing["findings"]} >= {"铁琴路", "李市路"}  # README: no hydrant there
    assert run_json("hydrant", "--radius-m", "300")["summary"]["uncovered_straight"] == 0


def test_bad_input_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="unknown facility kind"):
        run("no_such_kind")
    with pytest.raises(CommandError, match="no grid"):
        run("hydrant", "--grid", "999999999999999")
    with pytest.raises(CommandError, match="no coverage rule"):
        run("notice_board")
    with pytest.raises(CommandError, match="--area"):
        run("hydrant", "--area", "--format", "csv")
    with pytest.raises(CommandError, match="no user"):
        run("hydrant", "--user", "nobody")
    assert run_json("notice_board", "--radius-m", "200")["rule"] == "radius"


def test_grid_leader_scope(demo: None) -> None:
    grid = (
        Grid.objects.annotate(n=Count("buildings")).filter(first_responsible__isnull=False, n__gt=0).first()
    )
    leader = grid.first_responsible
    visible = set(Grid.objects.filter(first_responsible=leader).values_list("code", flat=True)) | set(
        leader.direct_grids.values_list("code", flat=True)
    )
    result = coverage_run(user=leader, kind="hydrant")
    assert set(result.items["grid"]) <= visible and len(result.items) > 0
    assert set(result.grids["grid"]) <= visible
    doc = run_json("hydrant", "--user", leader.username)
    assert {r["grid"] for r in doc["grids"]} <= visible
    other = Grid.objects.exclude(code__in=visible).first()
    with pytest.raises(CommandError, match="no grid"):
        run("hydrant", "--user", leader.username, "--grid", other.code)
    spacing = coverage_run(user=leader, kind="litter_bin")
    mine = to_gdf(Grid.objects.filter(code__in=visible), ["code"]).union_all()
    assert spacing.items.intersects(mine).all()
    reporter = get_user_model().objects.filter(profile__role="reporter").first()
    assert coverage_run(user=reporter, kind="hydrant").items.empty


def test_network_is_rebuilt_when_the_streets_change() -> None:
    network_cache.network_cache_clear()
    assert network_cache.street_network().network is None  # no streets yet
    for i, highway in enumerate(["residential", "residential", "footway"]):
        x = 120.87 + 0.001 * i
        Street.objects.create(
            source_key=f"t:{i}",
            highway=highway,
            geom=LineString((x, 31.62), (x + 0.001, 31.62)),
            length_m=95.0,
        )
    first = network_cache.street_network()
    assert first.network is not None and first.network.n_edges == 3
    assert network_cache.street_network() is first  # cached while nothing changes
    Street.objects.filter(source_key="t:0").update(length_m=96.0)  # an import reshaped it
    second = network_cache.street_network()
    assert second is not first and second.fingerprint != first.fingerprint
    Street.objects.filter(source_key="t:1").delete()
    assert network_cache.street_network().network.n_edges == 2
    Street.objects.filter(highway="footway").update(highway="construction")  # no longer walkable
    assert network_cache.street_network().network.n_edges == 1


def test_network_follows_an_edit_that_keeps_every_count_and_length() -> None:
    for i in range(2):
        x = 120.87 + 0.001 * i
        Street.objects.create(source_key=f"k:{i}", highway="residential",
                              geom=LineString((x, 31.62), (x + 0.001, 31.62)), length_m=95.0)  # fmt: skip
    first = network_cache.street_network()
    assert network_cache.street_network() is first
    moved = LineString((120.87, 31.63), (120.871, 31.63))  # the same street a kilometre north
    Street.objects.filter(source_key="k:0").update(geom=moved)
    second = network_cache.street_network()
    assert second is not first
    assert second.streets.set_index("source_key").geometry["k:0"].coords[0][1] == pytest.approx(31.63)


@pytest.mark.django_db(transaction=True)
def test_the_network_built_at_start_is_the_one_requests_get(monkeypatch) -> None:
    network_cache.network_cache_clear()
    for i in range(2):
        x = 120.87 + 0.001 * i
        Street.objects.create(source_key=f"w:{i}", highway="residential",
                              geom=LineString((x, 31.62), (x + 0.001, 31.62)), length_m=95.0)  # fmt: skip
    assert network_cache.network_warm() is True
    warmed = network_cache._cache["default"]
    assert network_cache.street_network() is warmed  # no request builds it again
    from django.db import DatabaseError

    def unreadable(**kwargs):
        raise DatabaseError("no such table: geography_street")

    monkeypatch.setattr(network_cache, "street_network", unreadable)
    assert network_cache.network_warm() is False  # the start goes on; the first request builds it
