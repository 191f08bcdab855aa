"""manage.py export_maps: one offline HTML map and one GeoPackage per grid leader, scoped to them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from django.contrib.gis.geos import LineString, Point
from django.core.management import CommandError, call_command

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Grid
from gridmap.geography.selectors import grids_visible_to
from gridmap.maps.management.commands.export_maps import file_names, write_geopackage
from gridmap.maps.selectors import area_layers
from gridmap.problems.models import EventCategory, Problem
from layers.io import layer_name, split_by_geometry
from tests.factories import LAT0, LON0, box, grid, region_tree, user
from tests.maps.test_tiles_view import PNG, make_folder

pytestmark = pytest.mark.django_db
XSS = "<img src=x onerror=alert(1)>"
FILES = ["ann.gpkg", "ann.html", "ann.shp.zip", "bob.gpkg", "bob.html", "bob.shp.zip"]


@pytest.fixture
def town():
    """Leader "ann" has two grids, "bob" one, "cat" none; a community head and a grid nobody leads."""
    c1, c2 = region_tree(n=2)
    ann, bob = user("ann", Role.GRID_LEADER), user("bob", Role.GRID_LEADER)
    user("cat", Role.GRID_LEADER)
    user("head", Role.COMMUNITY_HEAD, community=c1)
    w = 0.002
    grids = [
        grid(c1, 1, (LON0, LAT0, LON0 + w, LAT0 + w), leader=ann),
        grid(c1, 2, (LON0 + w, LAT0, LON0 + 2 * w, LAT0 + w), leader=ann),
        grid(c2, 1, (LON0 + 2 * w, LAT0, LON0 + 3 * w, LAT0 + w), leader=bob),
        grid(c2, 2, (LON0 + 3 * w, LAT0, LON0 + 4 * w, LAT0 + w)),
    ]
    kinds = {k.code: k for k in FacilityKind.objects.all()}
    category = EventCategory.objects.get(code="0201")
    for i, g in enumerate(grids):
        x0 = LON0 + i * w
        for j in range(i + 2):
            x = x0 + 0.0002 + j * 0.0003
            Building.objects.create(
                geom=box(x, LAT0 + 0.0002, x + 0.0001, LAT0 + 0.0003), grid=g, households=j
            )
            Problem.objects.create(
                geom=Point(x, LAT0 + 0.0015), grid=g, community=g.community, category=category,
                description=XSS if j == 0 else f"第{j}处",
            )  # fmt: skip
        Facility.objects.create(kind=kinds["hydrant"], geom=Point(x0 + 0.001, LAT0 + 0.001))
    # a tactile-paving line crossing from bob's grid into the unled one
    Facility.objects.create(
        kind=kinds["tactile_paving"],
        geom=LineString((LON0 + 2.5 * w, LAT0 + 0.0005), (LON0 + 3.5 * w, LAT0 + 0.0005)),
    )
    return {"ann": ann, "bob": bob, "grids": grids}


def export(out: Path, *args: str) -> str:
    stdout = io.StringIO()
    call_command("export_maps", "--out", str(out), *args, stdout=stdout)
    return stdout.getvalue()


def gpkg_counts(path: Path) -> dict[str, int]:
    return {name: pyogrio.read_info(path, layer=name)["features"] for name, _ in pyogrio.list_layers(path)}


def test_one_html_and_one_geopackage_per_leader_with_a_grid(tmp_path: Path, town) -> None:
    out = tmp_path / "maps"
    summary = export(out)
    assert sorted(p.name for p in out.iterdir()) == [
        "ann.gpkg", "ann.html", "ann.shp.zip", "bob.gpkg", "bob.html", "bob.shp.zip"]  # fmt: skip
    assert "ann: 2 grid(s)" in summary and "bob: 1 grid(s)" in summary and "Wrote 2 offline map(s)" in summary
    for name in ("ann", "bob"):
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html), "every asset is inlined"
        assert "L.map(" in html or "L.Map(" in html or "leaflet" in html.lower()
        assert XSS not in html, "user text travels as escaped JSON"


@pytest.mark.parametrize("name", ["ann", "bob"])
def test_every_layer_holds_the_leaders_scope_and_nothing_else(tmp_path: Path, town, name: str) -> None:
    export(tmp_path)
    leader = town[name]
    grids = list(grids_visible_to(leader).order_by("code"))
    path = tmp_path / f"{name}.gpkg"
    counts = gpkg_counts(path)
    expected = {k: len(v) for k, v in split_by_geometry(area_layers(grids)).items()}
    assert counts == expected, "one GeoPackage layer per map layer and geometry type, empty ones included"
    assert counts["boundary"] == len(grids) == Grid.objects.filter(first_responsible=leader).count()
    assert counts["buildings"] == Building.objects.filter(grid__in=grids).count()
    problems = pyogrio.read_dataframe(path, layer="problems")
    db = Problem.objects.filter(grid__in=grids)
    assert sorted(problems["id"]) == sorted(db.values_list("id", flat=True))
    for row in problems.itertuples():
        problem = db.get(pk=row.id)
        assert shapely.equals_exact(
            row.geometry, shapely.Point(problem.geom.x, problem.geom.y), tolerance=1e-12
        )
        assert abs(pd.Timestamp(row.reported_at) - pd.Timestamp(problem.reported_at)) < pd.Timedelta("1ms")
    assert XSS in set(problems["description"]) or name == "bob"
    boundary = pyogrio.read_dataframe(path, layer="boundary")
    assert sorted(boundary["code"]) == [g.code for g in grids] and boundary.crs.to_epsg() == 4326


def test_the_crossing_line_goes_to_the_grid_it_touches(tmp_path: Path, town) -> None:
    export(tmp_path)
    facilities = pyogrio.read_dataframe(tmp_path / "bob.gpkg", layer="facilities_line")
    assert "tactile_paving" in set(facilities["kind"])
    ann = pyogrio.read_dataframe(tmp_path / "ann.gpkg", layer="facilities")
    assert "tactile_paving" not in set(ann["kind"]) and len(ann) == 2


def test_named_leaders_only(tmp_path: Path, town) -> None:
    summary = export(tmp_path, "--leader", "bob")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bob.gpkg", "bob.html", "bob.shp.zip"]
    assert "ann" not in summary


@pytest.mark.parametrize(
    "args,message",
    [
        (["--leader", "nobody"], "unknown user: 'nobody'"),
        (["--leader", "head"], "'head' is not a grid leader"),
        (["--leader", "cat"], "with no grid: cat"),
    ],
)
def test_a_wrong_leader_is_a_clear_error_and_writes_nothing(tmp_path: Path, town, args, message) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        export(tmp_path / "maps", "--leader", "ann", *args)
    assert not (tmp_path / "maps").exists() or not list((tmp_path / "maps").iterdir())


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path, town) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CommandError, match="cannot write into"):
        export(blocker / "maps")
    with pytest.raises(CommandError, match="cannot write into"):
        export(blocker)


def test_files_are_replaced_whole_and_no_temporary_file_is_left(tmp_path: Path, town) -> None:
    (tmp_path / "ann.html").write_text("old")
    export(tmp_path)
    export(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == FILES
    assert (tmp_path / "ann.html").read_text(encoding="utf-8") != "old"

    before = (tmp_path / "ann.gpkg").read_bytes()
    good = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326)
    unwritable = gpd.GeoDataFrame({"a": np.array([1 + 2j])}, geometry=[shapely.Point(0, 0)], crs=4326)
    with pytest.raises(NotImplementedError):  # pyogrio cannot store complex numbers
        write_geopackage(tmp_path / "ann.gpkg", {"boundary": good, "figures": {"n": 1}, "bad": unwritable})
    assert (tmp_path / "ann.gpkg").read_bytes() == before, "a failed write leaves the old file whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == FILES


def test_tiles_only_when_asked_and_only_a_remote_source(settings, tmp_path: Path, town) -> None:
    url = "https://tiles.intranet.example/{z}/{x}/{y}.png"
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": url}
    export(tmp_path / "plain", "--leader", "bob")
    assert "tiles.intranet.example" not in (tmp_path / "plain" / "bob.html").read_text(encoding="utf-8")
    export(tmp_path / "tiled", "--leader", "bob", "--tiles")
    assert url in (tmp_path / "tiled" / "bob.html").read_text(encoding="utf-8")
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": f"folder:{make_folder(tmp_path / 't', PNG)}"}
    with pytest.raises(CommandError, match="cannot reach"):
        export(tmp_path / "x", "--tiles")
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": "none"}
    with pytest.raises(CommandError, match="no tile source"):
        export(tmp_path / "x", "--tiles")


def test_file_names_are_safe_and_distinct() -> None:
    assert file_names(["leader_01", "..", ".", "a/b", "a_b", "张三"]) == [
        "leader_01", "__", "_", "a_b-4", "a_b-5", "张三",
    ]  # fmt: skip
    assert layer_name("facility:hydrant", {}) == "facility_hydrant"
    assert layer_name("boundary", {"boundary": 1}) == "boundary_2"


def test_every_feature_converts_to_shapefile_and_the_zip_keeps_chinese(tmp_path: Path, town) -> None:
    """Points, lines and polygons of one map layer go to one layer each, so GDAL's own converter
    writes every feature to Shapefile; the zipped Shapefiles say UTF-8 and read back in Chinese."""
    import shutil
    import subprocess
    import zipfile

    from django.contrib.gis.geos import Polygon

    kind = FacilityKind.objects.get(code="car_park")
    x, y = LON0 + 2.2 * 0.002, LAT0 + 0.0005
    Facility.objects.create(kind=kind, name="东门停车场",
                            geom=Polygon.from_bbox((x, y, x + 0.0002, y + 0.0002)))  # fmt: skip
    Facility.objects.create(
        kind=FacilityKind.objects.get(code="hydrant"), name="消火栓甲", geom=Point(x, y + 0.0004)
    )
    export(tmp_path, "--leader", "bob")
    gpkg = tmp_path / "bob.gpkg"
    counts = gpkg_counts(gpkg)
    assert {"facilities_point", "facilities_line", "facilities_polygon"} <= set(counts), counts
    assert "facilities" not in counts
    for name in ("facilities_point", "facilities_line", "facilities_polygon"):
        types = set(pyogrio.read_dataframe(gpkg, layer=name).geometry.geom_type)
        assert len({t.removeprefix("Multi") for t in types}) == 1, (name, types)
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr:  # GDAL's own converter, as a GIS user runs it
        shp_dir = tmp_path / "shp"
        subprocess.run(
            [ogr2ogr, "-f", "ESRI Shapefile", str(shp_dir), str(gpkg)], check=True, capture_output=True
        )
        for layer, n in counts.items():
            if n:
                assert pyogrio.read_info(shp_dir / f"{layer}.shp")["features"] == n, layer
    archive = tmp_path / "bob.shp.zip"
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        for layer, n in counts.items():
            if n:
                assert {f"{layer}.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= names, layer
                assert z.read(f"{layer}.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
    polygons = pyogrio.read_dataframe(f"/vsizip/{archive}/facilities_polygon.shp")
    assert "东门停车场" in set(polygons["name"])
    points = pyogrio.read_dataframe(f"/vsizip/{archive}/facilities_point.shp")
    assert "消火栓甲" in set(points["name"]) and len(points) == counts["facilities_point"]
