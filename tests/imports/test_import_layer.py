"""import_layer on real files: every format, CRS transforms, bad rows, dry runs, re-imports."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import geopandas as gpd
import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import Point, box

from gridmap.facilities.models import Facility
from gridmap.geography.models import Building, Community, Grid
from gridmap.imports import core, save
from gridmap.problems.models import Problem
from tests.factories import LAT0, LON0

pytestmark = pytest.mark.django_db

REGIONS = [
    ("district", "320581", "常熟市", None, (LON0 - 0.01, LAT0 - 0.01, LON0 + 0.02, LAT0 + 0.02)),
    ("subdistrict", "320581107", "古里镇", "320581", (LON0 - 0.01, LAT0 - 0.01, LON0 + 0.02, LAT0 + 0.02)),
    ("community", "320581107001", "古里社区", "320581107", (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002)),
]


def run(*args: str, code: int = 0) -> str:
    """The command's output; ``code`` is the exit code it must end with (3: rows rejected)."""
    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as exc:
        if exc.returncode != code or code == 0:
            raise
    else:
        assert code == 0, f"expected exit code {code}"
    return out.getvalue()


@pytest.fixture
def regions(tmp_path: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "level": [r[0] for r in REGIONS],
            "code": [r[1] for r in REGIONS],
            "name": [r[2] for r in REGIONS],
            "parent_code": [r[3] for r in REGIONS],
        },
        geometry=[box(*r[4]) for r in REGIONS],
        crs="EPSG:4326",
    )
    path = tmp_path / "regions.geojson"
    frame.to_file(path, driver="GeoJSON")
    run("import_layer", "regions", str(path), "--commit")
    return path


def gbk_grid_shapefile(tmp_path: Path) -> Path:
    """Grids in a CGCS2000 Gauss-Krüger zone, GBK attributes, no .cpg (as offices send them)."""
    frame = gpd.GeoDataFrame(
        {"wgbm": ["320581107001001", "320581107001002"], "mc": ["古里第一网格", "古里第二网格"]},
        geometry=[
            box(LON0, LAT0, LON0 + 0.002, LAT0 + 0.002),
            box(LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002),
        ],
        crs="EPSG:4326",
    ).to_crs(4549)
    path = tmp_path / "grids.shp"
    frame.to_file(path, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert "古里".encode("gbk") in path.with_suffix(".dbf").read_bytes()
    return path


def test_regions_then_a_gbk_shapefile_in_a_gauss_kruger_zone(tmp_path, regions):
    assert Community.objects.get().name == "古里社区"
    path = gbk_grid_shapefile(tmp_path)
    dry = run("import_layer", "grids", str(path))
    assert "dry run" in dry and Grid.objects.count() == 0
    out = run("import_layer", "grids", str(path), "--commit")
    assert "created 2" in out and "EPSG:4549" in out
    first = Grid.objects.get(code="320581107001001")
    assert first.name == "古里第一网格"
    x0, y0, x1, y1 = first.geom.extent
    assert abs(x0 - LON0) < 1e-6 and abs(y1 - (LAT0 + 0.002)) < 1e-6
    assert 35_000 < first.area_m2 < 45_000  # 0.002° × 0.002° at 31.6°N ≈ 190 m × 222 m


def test_reimport_updates_instead_of_duplicating(tmp_path, regions):
    path = gbk_grid_shapefile(tmp_path)
    run("import_layer", "grids", str(path), "--commit")
    out = run("import_layer", "grids", str(path), "--commit")
    assert "created 0, updated 0, unchanged 2" in out and Grid.objects.count() == 2
    frame = gpd.read_file(path, encoding="GBK")
    frame.loc[0, "mc"] = "改名网格"
    frame.to_file(path, driver="ESRI Shapefile", encoding="GBK")
    out = run("import_layer", "grids", str(path), "--encoding", "GBK", "--commit")
    assert "created 0, updated 1, unchanged 1" in out
    assert Grid.objects.get(code="320581107001001").name == "改名网格" and Grid.objects.count() == 2


def test_buildings_from_a_web_mercator_geopackage_get_their_grid(tmp_path, regions):
    run("import_layer", "grids", str(gbk_grid_shapefile(tmp_path)), "--commit")
    frame = gpd.GeoDataFrame(
        {
            "id": [1, 2, 3],
            "地址": ["古里路1号", "古里路2号", "远方路9号"],
            "户数": [12, 30, 4],
            "use": ["residential"] * 3,
        },
        geometry=[
            box(LON0 + 0.0005, LAT0 + 0.0005, LON0 + 0.0007, LAT0 + 0.0007),
            box(LON0 + 0.0025, LAT0 + 0.0005, LON0 + 0.0027, LAT0 + 0.0007),
            box(LON0 + 0.05, LAT0 + 0.05, LON0 + 0.0502, LAT0 + 0.0502),
        ],
        crs="EPSG:4326",
    ).to_crs(3857)
    path = tmp_path / "buildings.gpkg"
    frame.to_file(path, layer="footprints", driver="GPKG")
    frame.iloc[:1].to_file(path, layer="other", driver="GPKG")
    with pytest.raises(CommandError, match="layer"):
        run("import_layer", "buildings", str(path), "--commit")
    run("import_layer", "buildings", str(path), "--layer", "footprints", "--commit")
    got = {
        b.address: (b.grid.code if b.grid else None, b.community_id, b.households)
        for b in Building.objects.all()
    }
    assert got["古里路1号"][0] == "320581107001001" and got["古里路1号"][2] == 12
    assert got["古里路2号"][0] == "320581107001002"
    assert got["远方路9号"] == (None, None, 4)


def test_csv_with_bad_rows_reports_each_and_imports_the_rest(tmp_path, regions):
    path = tmp_path / "hydrants.csv"
    path.write_text(
        "编号,经度,纬度,name\n"
        f"h1,{LON0 + 0.001},{LAT0 + 0.001},东消火栓\n"
        "h2,abc,31.6,坏\n"
        "h3,1e308,31.6,大\n"
        f"h4,{LON0},95,北极\n"
        "h5,,,空\n"
        f"h6,{LON0 + 0.003},{LAT0 + 0.001},西消火栓\n",
        encoding="utf-8",
    )
    out = run("import_layer", "facilities", str(path), "--kind", "hydrant", "--commit", code=3)
    assert "rejected 4" in out
    for row in (2, 3, 4, 5):
        assert f"row {row}:" in out
    assert sorted(Facility.objects.values_list("name", flat=True)) == ["东消火栓", "西消火栓"]
    with pytest.raises(CommandError, match="strict"):
        run(
            "import_layer",
            "facilities",
            str(path),
            "--kind",
            "hydrant",
            "--commit",
            "--strict",
            "--source",
            "x",
        )
    assert Facility.objects.count() == 2


def test_a_facility_of_the_wrong_geometry_for_its_kind_is_rejected(tmp_path, regions):
    path = tmp_path / "ramps.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": "a", "kind": "curb_ramp"},
                        "geometry": {"type": "Point", "coordinates": [LON0 + 0.001, LAT0 + 0.001]},
                    },
                    {
                        "type": "Feature",
                        "properties": {"id": "b", "kind": "curb_ramp"},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[LON0, LAT0], [LON0 + 0.001, LAT0]],
                        },
                    },
                    {
                        "type": "Feature",
                        "properties": {"id": "c", "kind": "no_such_kind"},
                        "geometry": {"type": "Point", "coordinates": [LON0, LAT0]},
                    },
                ],
            }
        )
    )
    out = run("import_layer", "facilities", str(path), "--commit", code=3)
    assert "takes Point geometry" in out and "not in the catalogue" in out
    assert Facility.objects.count() == 1


def test_problems_from_geojson_are_placed_and_bad_rows_named(tmp_path, regions):
    run("import_layer", "grids", str(gbk_grid_shapefile(tmp_path)), "--commit")
    feats = [
        (
            {
                "id": "p1",
                "category": "0201",
                "reported_at": "2026-10-01T09:00:00+08:00",
                "description": "<b>小广告</b>",
            },
            [LON0 + 0.001, LAT0 + 0.001],
        ),
        ({"id": "p2", "category": "9999"}, [LON0 + 0.001, LAT0 + 0.001]),
        ({"id": "p3", "category": "0201", "reported_at": "yesterday"}, [LON0 + 0.001, LAT0 + 0.001]),
        ({"id": "p4", "category": "0201", "reported_at": "2026-10-01 09:00"}, [LON0 - 1, LAT0]),
        ({"id": "p5", "category": "0201", "status": "weird"}, [LON0, LAT0]),
    ]
    path = tmp_path / "problems.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": p, "geometry": {"type": "Point", "coordinates": c}}
                    for p, c in feats
                ],
            },
            ensure_ascii=False,
        )
    )
    out = run("import_layer", "problems", str(path), "--commit", code=3)
    assert "rejected 3" in out and "9999" in out and "ISO 8601" in out and "weird" in out
    p1 = Problem.objects.get(source_key="problems:p1")
    assert p1.grid.code == "320581107001001" and p1.description == "<b>小广告</b>"
    p4 = Problem.objects.get(source_key="problems:p4")
    assert p4.unassigned and p4.reported_at.utcoffset() is not None
    assert p4.reported_at.isoformat().startswith("2026-10-01T01:00:00")  # 09:00 Shanghai time, stored in UTC


def test_a_zipped_shapefile_and_a_zip_with_a_traversal_name(tmp_path, regions):
    import zipfile

    shp = gbk_grid_shapefile(tmp_path)
    good = tmp_path / "grids.zip"
    with zipfile.ZipFile(good, "w") as z:
        for f in shp.parent.glob("grids.*"):
            z.write(f, f.name)
    run("import_layer", "grids", str(good), "--commit")
    assert Grid.objects.count() == 2
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        for f in shp.parent.glob("grids.*"):
            z.write(f, "../" + f.name)
    with pytest.raises(CommandError):
        run("import_layer", "grids", str(evil), "--commit")


def test_a_crash_in_the_middle_of_a_commit_leaves_nothing(tmp_path, regions, monkeypatch):
    path = tmp_path / "bins.geojson"
    gpd.GeoDataFrame(
        {"id": range(5)}, geometry=[Point(LON0 + i * 1e-4, LAT0) for i in range(5)], crs="EPSG:4326"
    ).to_file(path, driver="GeoJSON")
    calls = {"n": 0}
    real = save._save

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(save, "_save", crash_on_second)
    with pytest.raises(RuntimeError):
        core.import_frames(
            "facilities",
            {
                "litter_bin": gpd.read_file(path).assign(_row=range(1, 6)),
                "hydrant": gpd.read_file(path).assign(_row=range(1, 6)),
            },
            source="crash",
            commit=True,
        )
    assert Facility.objects.count() == 0


def test_a_missing_file_and_a_bad_srid_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("import_layer", "grids", str(tmp_path / "nope.gpkg"))
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    with pytest.raises(CommandError, match="srid"):
        run("import_layer", "facilities", str(tmp_path / "a.csv"), "--srid", "7")


def test_only_an_import_of_what_coverage_reads_asks_for_its_refresh(tmp_path, regions, monkeypatch):
    """Grids (and buildings, facilities, streets) move the coverage sets; problems do not, so a
    problems import (a million rows at city scale) leaves the workers alone."""
    from gridmap.imports import core

    asked = []
    monkeypatch.setattr(core, "dispatch", lambda name, **kw: asked.append(name))
    run("import_layer", "grids", str(gbk_grid_shapefile(tmp_path)), "--commit")
    assert asked == ["analysis.refresh_coverage"]
    path = tmp_path / "problems.geojson"
    feature = {"type": "Feature", "properties": {"id": "p1", "category": "0201"},
               "geometry": {"type": "Point", "coordinates": [LON0 + 0.001, LAT0 + 0.001]}}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    run("import_layer", "problems", str(path), "--commit")
    assert asked == ["analysis.refresh_coverage"] and Problem.objects.count() == 1
