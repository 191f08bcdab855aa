"""manage.py suggest_sites on the demo town: new hydrants in 李市社区 cover every building that
is more than 150 m from a hydrant (the planted gap), by straight line and by walking; scope and
bad input. The demo town is the session's (tests/conftest.py); each test's writes are rolled back."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pytest
import shapely
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import shape

from gridmap.analysis.siting import SitingError, sites_suggest
from gridmap.core.gdf import to_gdf
from gridmap.facilities.models import Facility
from gridmap.geography.models import Building, Grid, Street
from gridmap.imports.demo import DEMO_DIR
from layers.coverage import building_coverage
from layers.network import build_network

LI_SHI = "320581107003"
GAP = json.loads((DEMO_DIR / "planted.json").read_text(encoding="utf-8"))["hydrant_gap"]


@pytest.fixture
def demo(demo_town):
    """The session's demo town (tests/conftest.py); each test's writes are rolled back."""


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("suggest_sites", *args, stdout=out)
    return json.loads(out.getvalue())


def community_buildings(code: str = LI_SHI) -> gpd.GeoDataFrame:
    return to_gdf(Building.objects.filter(community__code=code).order_by("pk"), ["source_key", "households"])


def with_sites(points: list[shapely.Point]) -> gpd.GeoDataFrame:
    hydrants = to_gdf(Facility.objects.filter(kind__code="hydrant").order_by("pk"), ["pk"])
    return gpd.GeoDataFrame(
        {"id": [*hydrants["pk"].astype(str), *[f"new{i}" for i in range(len(points))]]},
        geometry=[*hydrants.geometry, *points],
        crs="EPSG:4326",
    )


def test_cover_all_hydrants_cover_every_building_beyond_150_m(demo, db):
    fc = run("hydrant", "--community", LI_SHI, "--cover-all", "--format", "geojson")
    summary = fc["summary"]
    assert summary["method"] == "ilp" and summary["optimal"] and summary["metric"] == "straight"
    assert summary["area"] == {"type": "community", "code": LI_SHI, "name": "李市社区"}
    # Exactly the planted buildings are uncovered; one new hydrant reaches them all.
    newly = sorted(b for f in fc["features"] for b in f["properties"]["building_ids"])
    assert [k.split(":")[-1] for k in newly] == sorted(GAP["buildings_over_150m"])
    assert (
        summary["demand_buildings"] == len(GAP["buildings_over_150m"])
        and summary["unreachable_buildings"] == 0
    )
    assert len(fc["features"]) == 1 and fc["unreachable"] == []
    sites = [shape(f["geometry"]) for f in fc["features"]]
    before = building_coverage(community_buildings(), with_sites([]), radius_m=150)
    after = building_coverage(community_buildings(), with_sites(sites), radius_m=150)
    assert (~before["straight_covered"]).sum() == len(GAP["buildings_over_150m"])
    assert after["straight_covered"].all()
    props = fc["features"][0]["properties"]
    assert props["site"] == 1 and props["street_name"] and props["max_distance_m"] <= 150
    assert props["households"] == summary["covered_households"]


def test_walking_metric_json_output_and_best_p(demo, db, tmp_path):
    path = tmp_path / "sites.json"
    out = io.StringIO()
    call_command(
        "suggest_sites",
        "hydrant",
        "--community",
        LI_SHI,
        "--cover-all",
        "--metric",
        "network",
        "--format",
        "json",
        "--output",
        str(path),
        stdout=out,
    )
    assert str(path) in out.getvalue()
    result = json.loads(path.read_text(encoding="utf-8"))
    summary = result["summary"]
    assert summary["metric"] == "network" and summary["optimal"] and summary["unreachable_buildings"] == 0
    # Walking is never shorter: at least the planted buildings are in demand, and all get covered.
    assert summary["demand_buildings"] >= len(GAP["buildings_over_150m"])
    sites = [shapely.Point(s["lon"], s["lat"]) for s in result["sites"]]
    net = build_network(to_gdf(Street.objects.order_by("pk"), ["pk"]))
    after = building_coverage(community_buildings(), with_sites(sites), radius_m=150, net=net)
    assert after["network_covered"].all()
    assert result["uncovered"] == [] and len(sites) == summary["sites"] >= 1
    # The best p: none, one (fewer households than everything), and enough (the same count).
    total = summary["covered_households"]
    assert run("hydrant", "--community", LI_SHI, "--best", "0", "--metric", "network")["features"] == []
    one = run("hydrant", "--community", LI_SHI, "--best", "1", "--metric", "network")
    assert len(one["features"]) == 1 and one["summary"]["covered_households"] <= total
    plenty = run("hydrant", "--community", LI_SHI, "--best", "50", "--metric", "network")
    assert len(plenty["features"]) == len(sites) and plenty["summary"]["covered_households"] == total


def test_grid_scope_and_visibility(demo, db):
    centre = shapely.Point(GAP["centre"])
    gap_grid = next(
        g
        for g in Grid.objects.filter(community__code=LI_SHI)
        if shapely.from_wkb(bytes(g.geom.wkb)).intersects(centre)
    )
    fc = run("hydrant", "--grid", gap_grid.code, "--cover-all", "--candidate-spacing-m", "10")
    assert fc["summary"]["area"]["code"] == gap_grid.code and fc["summary"]["candidate_spacing_m"] == 10
    in_grid = Building.objects.filter(grid=gap_grid).count()
    assert fc["summary"]["buildings"] == in_grid and fc["summary"]["demand_buildings"] >= 1
    assert fc["summary"]["covered_buildings"] == fc["summary"]["demand_buildings"]
    # A grid leader sees their own grids only.
    leader = gap_grid.first_responsible or get_user_model().objects.get(
        username=gap_grid.direct_responsible.first()
    )
    mine = sites_suggest(user=leader, kind="hydrant", community=LI_SHI)
    led = Grid.objects.filter(first_responsible=leader) | Grid.objects.filter(direct_responsible=leader)
    visible = Building.objects.filter(community__code=LI_SHI, grid__in=led.values("pk"))
    assert (
        0
        < mine.summary["buildings"]
        == visible.count()
        < Building.objects.filter(community__code=LI_SHI).count()
    )
    other = Grid.objects.exclude(community__code=LI_SHI).exclude(first_responsible=leader).first()
    with pytest.raises(SitingError):
        sites_suggest(user=leader, kind="hydrant", grid=other.code)
    with pytest.raises(SitingError):
        sites_suggest(user=leader, kind="hydrant", community="320581107001")


@pytest.mark.parametrize(
    "args, message",
    [
        (["nosuchkind", "--community", LI_SHI, "--cover-all"], "unknown facility kind"),
        (["hydrant", "--cover-all"], "one of the arguments --grid --community is required"),
        (["hydrant", "--community", LI_SHI], "one of the arguments --cover-all --best is required"),
        (["hydrant", "--grid", "1", "--community", LI_SHI, "--cover-all"], "not allowed with"),
        (["hydrant", "--community", LI_SHI, "--best", "-1"], "--best must be 0 or more"),
        (["hydrant", "--community", LI_SHI, "--cover-all", "--candidate-spacing-m", "0"], "spacing"),
        (["hydrant", "--community", LI_SHI, "--cover-all", "--radius-m", "-5"], "radius"),
        (["street_light", "--community", LI_SHI, "--cover-all"], "no service radius"),
        (["hydrant", "--grid", "320581107003999", "--cover-all"], "no grid"),
        (["hydrant", "--community", "999999999999", "--cover-all"], "no community"),
        (["hydrant", "--community", LI_SHI, "--cover-all", "--metric", "crow"], "invalid choice"),
        (
            ["hydrant", "--community", LI_SHI, "--cover-all", "--output", "/nonexistent/dir/x.json"],
            "cannot write",
        ),
    ],
)
def test_bad_input_is_a_command_error(demo, db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("suggest_sites", *args, stdout=io.StringIO())


def test_no_streets_is_a_command_error(demo, db):
    Street.objects.all().delete()  # rolled back after the test
    with pytest.raises(CommandError, match="no streets"):
        call_command("suggest_sites", "hydrant", "--community", LI_SHI, "--cover-all", stdout=io.StringIO())
