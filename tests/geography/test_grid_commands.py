"""check_grids and generate_grids on the database."""

import json
from io import StringIO

import pytest
from django.contrib.gis.geos import LineString
from django.core.management import CommandError, call_command

from gridmap.geography.models import Building, Grid, Street
from tests.factories import LAT0, LON0, box, grid, region_tree, user

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_check_grids_finds_a_gap_an_overlap_and_a_missing_leader():
    (community,) = region_tree()
    leader = user("leader")
    grid(
        community, 1, (LON0, LAT0, LON0 + 0.0022, LAT0 + 0.002), leader=leader
    )  # overlaps the next by 0.0002°
    grid(
        community, 2, (LON0 + 0.002, LAT0, LON0 + 0.0035, LAT0 + 0.002), leader=leader
    )  # gap to the east edge
    grid(community, 3, (LON0 + 0.0035, LAT0, LON0 + 0.004, LAT0 + 0.001))  # no leader; gap above it
    findings = json.loads(run("check_grids", "--format", "geojson"))["features"]
    kinds = {(f["properties"]["kind"], f["properties"]["grid_code"]) for f in findings}
    assert ("no_leader", "320581107001003") in kinds
    assert any(k == "overlap" for k, _ in kinds) and any(k == "gap" for k, _ in kinds)
    text = run("check_grids", "--community", community.code)
    assert "overlap" in text and "gap" in text
    with pytest.raises(CommandError):
        run("check_grids", "--community", "999999999999")


def test_generate_grids_tiles_a_community_and_moves_its_buildings():
    (community,) = region_tree(community_box=(LON0, LAT0, LON0 + 0.008, LAT0 + 0.004))
    for x in (0.0027, 0.0054):
        Street.objects.create(geom=LineString((LON0 + x, LAT0 - 0.001), (LON0 + x, LAT0 + 0.005), srid=4326))
    Street.objects.create(
        geom=LineString((LON0 - 0.001, LAT0 + 0.002), (LON0 + 0.009, LAT0 + 0.002), srid=4326)
    )
    for i in range(12):
        Building.objects.create(
            geom=box(LON0 + 0.0005 + i * 0.0006, LAT0 + 0.0005, LON0 + 0.0008 + i * 0.0006, LAT0 + 0.0008),
            households=10,
            community=community,
        )
    dry = run("generate_grids", community.code)
    assert "dry run" in dry and Grid.objects.count() == 0
    run("generate_grids", community.code, "--commit")
    grids = list(Grid.objects.filter(community=community))
    assert len(grids) >= 6
    assert all(g.code.startswith(community.code) and len(g.code) == 15 for g in grids)
    union = grids[0].geom
    for g in grids[1:]:
        union = union.union(g.geom)
    assert abs(union.area - community.geom.area) / community.geom.area < 1e-6
    assert Building.objects.filter(grid__isnull=True).count() == 0
    with pytest.raises(CommandError, match="--replace"):
        run("generate_grids", community.code, "--commit")
