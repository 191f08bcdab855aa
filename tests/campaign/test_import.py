"""Inspection points through the import engine from a real GeoPackage: placed in grid and
community, owned by their department, re-imported in place, bad rows rejected with a reason."""

import geopandas as gpd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from shapely.geometry import Point, box

from gridmap.campaign.models import InspectionPoint
from gridmap.core.stamps import stamp_of
from gridmap.imports.core import ImportReport
from gridmap.imports.files import import_file
from tests.factories import LAT0, LON0

pytestmark = pytest.mark.django_db


def _gpkg(tmp_path, rows):
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows], crs="EPSG:4326",
    )  # fmt: skip
    path = tmp_path / "points.gpkg"
    frame.to_file(path, driver="GPKG", layer="points")
    return path


def test_import_places_points_and_areas(town, tmp_path):
    InspectionPoint.objects.all().delete()
    path = _gpkg(tmp_path, [
        {"id": "m1", "名称": "西门市场", "点位类型": "market", "部门编码": "scjg",
         "geometry": box(LON0 + 0.0005, LAT0 + 0.0005, LON0 + 0.001, LAT0 + 0.001)},
        {"id": "s1", "名称": "北站", "点位类型": "bus_stop", "部门编码": "cg",
         "geometry": Point(LON0 + 0.006, LAT0 + 0.001)},
        {"id": "x1", "名称": "无类型", "点位类型": "castle", "部门编码": "cg",
         "geometry": Point(LON0 + 0.006, LAT0 + 0.001)},
        {"id": "x2", "名称": "无部门", "点位类型": "toilet", "部门编码": "nope",
         "geometry": Point(LON0 + 0.006, LAT0 + 0.001)},
    ])  # fmt: skip
    town_id = town.grids["A"].community.subdistrict_id
    before = stamp_of("campaign", town_id)
    report = import_file(path, target="inspection_points", report=ImportReport(), commit=True)
    assert stamp_of("campaign", town_id) != before  # the change stamp of the kind moved with the import
    assert report.counts["inspection_points"]["created"] == 2
    reasons = sorted(r for _k, _row, r in report.rejected)
    assert "castle" in reasons[1] or "castle" in reasons[0]
    assert any("nope" in r for r in reasons)
    market = InspectionPoint.objects.get(source_key="points:m1")
    assert market.geom.geom_type == "Polygon" and market.type.code == "market"
    assert market.grid == town.grids["A"] and market.community == town.grids["A"].community
    assert market.department == town.departments["scjg"]
    stop = InspectionPoint.objects.get(source_key="points:s1")
    assert stop.grid == town.grids["B"] and stop.department == town.departments["cg"]
    again = import_file(path, target="inspection_points", report=ImportReport(), commit=True)
    assert again.counts["inspection_points"]["unchanged"] == 2
    assert InspectionPoint.objects.count() == 2


def test_import_command(town, tmp_path, capsys):
    path = _gpkg(tmp_path, [{"id": "t1", "name": "公厕一", "geometry": Point(LON0 + 0.001, LAT0 + 0.001)}])
    with pytest.raises(CommandError) as stopped:
        call_command("import_layer", "inspection_points", str(path))  # no type: the row is rejected
    assert (
        stopped.value.returncode == 3 and not InspectionPoint.objects.filter(source_key="points:t1").exists()
    )
    call_command("import_layer", "inspection_points", str(path), "--kind", "toilet", "--commit")
    point = InspectionPoint.objects.get(source_key="points:t1")
    assert point.type.code == "toilet" and point.grid == town.grids["A"]


def test_import_page(client, town, tmp_path, django_capture_on_commit_callbacks):
    path = _gpkg(tmp_path, [{"id": "q1", "名称": "中心广场", "点位类型": "square",
                             "geometry": box(LON0 + 0.005, LAT0 + 0.0005, LON0 + 0.006, LAT0 + 0.001)}])  # fmt: skip
    client.force_login(town.people["admin"])
    form = {"target": "inspection_points", "commit": "on",
            "file": SimpleUploadedFile("squares.gpkg", path.read_bytes())}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/imports/", form).status_code == 302
    square = InspectionPoint.objects.get(source_key="squares:q1")
    assert square.type.code == "square" and square.grid == town.grids["B"] and square.department is None
