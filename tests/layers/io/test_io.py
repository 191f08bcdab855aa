"""Tests of layers.io.vector.read_layer on real files written with GDAL (pyogrio) in tmp dirs."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from layers.io.vector import LayerReadError, read_layer

HANGZHOU = (120.1551, 30.2741)
SHANGHAI = (121.4737, 31.2304)
BOW_TIE = shapely.Polygon([(120.0, 30.0), (120.01, 30.01), (120.01, 30.0), (120.0, 30.01), (120.0, 30.0)])
# Self-touching ring that make_valid repairs into a Polygon with a hole (type kept).
REPAIRABLE = shapely.Polygon(
    [
        (120, 30),
        (120.04, 30),
        (120.04, 30.04),
        (120.02, 30.04),
        (120.03, 30.02),
        (120.01, 30.02),
        (120.02, 30.04),
        (120, 30.04),
        (120, 30),
    ]
)
CGCS2000_A, CGCS2000_F = 6378137.0, 1 / 298.257222101


def meridian_arc_m(lat_deg: float) -> float:
    """Meridian arc length from the equator on the CGCS2000 ellipsoid, by numeric integration (no PROJ)."""
    e2 = CGCS2000_F * (2 - CGCS2000_F)
    phi = np.linspace(0.0, math.radians(lat_deg), 200_001)
    radius = CGCS2000_A * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    return float(np.sum((radius[1:] + radius[:-1]) / 2 * np.diff(phi)))


def mercator_xy(lon: float, lat: float) -> tuple[float, float]:
    r = 6378137.0
    return r * math.radians(lon), r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def frame(geoms: list, crs: int | None = 4326, **columns: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=crs)


def gbk_shapefile(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bins.shp"
    data = frame(
        [shapely.Point(*HANGZHOU), shapely.Point(*SHANGHAI)],
        4326,
        名称=["垃圾桶一号", "消防栓"],
        地址=["解放路12号", "南京东路"],
    )
    pyogrio.write_dataframe(data, path, encoding="GBK")
    (folder / "bins.cpg").unlink()
    return path


def zip_dir(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for f in sorted(folder.iterdir()):
            archive.write(f, prefix + f.name)
    return target


# ---------------------------------------------------------------- shapefiles and encodings
def test_gbk_shapefile_without_cpg(tmp_path: Path) -> None:
    path = gbk_shapefile(tmp_path / "shp")
    assert b"\xc0\xac" in (tmp_path / "shp" / "bins.dbf").read_bytes()  # GBK for 垃, not UTF-8
    result = read_layer(path)
    assert list(result.frame["名称"]) == ["垃圾桶一号", "消防栓"]
    assert list(result.frame["地址"]) == ["解放路12号", "南京东路"]
    assert list(result.frame["_row"]) == [1, 2] and result.rejected == []
    assert result.source_crs == "EPSG:4326" and result.layer == "bins"


def test_utf8_shapefile_with_cpg_and_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "u.shp"
    pyogrio.write_dataframe(frame([shapely.Point(*HANGZHOU)], 名称=["公厕"]), path, encoding="UTF-8")
    assert read_layer(path).frame["名称"][0] == "公厕"
    gbk = gbk_shapefile(tmp_path / "g")
    assert read_layer(gbk, encoding="GBK").frame["名称"][0] == "垃圾桶一号"


def test_zipped_gbk_shapefile(tmp_path: Path) -> None:
    gbk_shapefile(tmp_path / "shp")
    archive = zip_dir(tmp_path / "shp", tmp_path / "bins.zip", prefix="data/")
    result = read_layer(archive)
    assert list(result.frame["名称"]) == ["垃圾桶一号", "消防栓"]
    assert result.frame.geometry[0].equals(shapely.Point(*HANGZHOU))


class _GbkNameInfo(zipfile.ZipInfo):
    """A member whose name is stored as GBK bytes without the UTF-8 flag, as Chinese Windows zips do."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's hook
        return self.filename.encode("cp437"), self.flag_bits & ~0x800


def test_zip_with_gbk_member_names(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    pyogrio.write_dataframe(frame([shapely.Point(*HANGZHOU)], n=[1]), folder / "垃圾桶.shp")
    pyogrio.write_dataframe(frame([shapely.Point(*SHANGHAI)], n=[2]), folder / "消防栓.shp")
    archive = tmp_path / "gbk.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.iterdir()):
            z.writestr(_GbkNameInfo(f.name.encode("gbk").decode("cp437")), f.read_bytes())
    with pytest.raises(LayerReadError, match="choose one of: 垃圾桶, 消防栓"):
        read_layer(archive)
    result = read_layer(archive, layer="消防栓")
    assert result.layer == "消防栓" and result.frame["n"].tolist() == [2]


@pytest.mark.parametrize(
    "member", ["../evil.shp", "/abs/evil.shp", "a/../../evil.shp", "C:/evil.shp", "a\\..\\e.shp"]
)
def test_zip_with_unsafe_member_is_refused(tmp_path: Path, member: str) -> None:
    gbk_shapefile(tmp_path / "shp")
    archive = zip_dir(tmp_path / "shp", tmp_path / "evil.zip")
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr(zipfile.ZipInfo(member), (tmp_path / "shp" / "bins.shp").read_bytes())
    with pytest.raises(LayerReadError, match="'..'") as info:
        read_layer(archive)
    assert info.value.code == "zip_unsafe"


def test_zip_with_two_shapefiles_needs_layer(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    pyogrio.write_dataframe(frame([shapely.Point(*HANGZHOU)], n=[1]), folder / "a.shp")
    pyogrio.write_dataframe(frame([shapely.Point(*SHANGHAI)], n=[2]), folder / "b.shp")
    archive = zip_dir(folder, tmp_path / "two.zip")
    with pytest.raises(LayerReadError, match="choose one of: a, b"):
        read_layer(archive)
    assert read_layer(archive, layer="b").frame["n"][0] == 2
    with pytest.raises(LayerReadError, match="no shapefile named 'c'"):
        read_layer(archive, layer="c")
    zipfile.ZipFile(tmp_path / "empty.zip", "w").close()
    with pytest.raises(LayerReadError, match="no .shp file"):
        read_layer(tmp_path / "empty.zip")
    (tmp_path / "junk.zip").write_bytes(b"PK junk")
    with pytest.raises(LayerReadError, match="not a readable zip") as info:
        read_layer(tmp_path / "junk.zip")
    assert info.value.code == "bad_zip"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_uses_srid(tmp_path: Path) -> None:
    x, y = 500_000.0, meridian_arc_m(30.0)  # 120°E, 30°N in EPSG:4549 (CGCS2000 GK CM 120E)
    path = tmp_path / "gk.shp"
    pyogrio.write_dataframe(frame([shapely.Point(x, y)], crs=None, n=[1]), path)
    assert not (tmp_path / "gk.prj").exists()
    result = read_layer(path, srid=4549)
    lon, lat = result.frame.geometry[0].coords[0]
    assert abs(lon - 120.0) < 1e-6 and abs(lat - 30.0) < 1e-6
    assert result.source_crs == "EPSG:4549" and not result.crs_assumed
    with pytest.raises(LayerReadError, match="--srid") as info:
        read_layer(path)
    assert info.value.code == "crs_missing"
    for bad in (999_999, 0, "4549", True):
        with pytest.raises(LayerReadError, match="srid|EPSG"):
            read_layer(path, srid=bad)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_in_lonlat_is_assumed_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "ll.shp"
    pyogrio.write_dataframe(frame([shapely.Point(*HANGZHOU)], crs=None, n=[1]), path)
    result = read_layer(path)
    assert result.crs_assumed and result.source_crs == "EPSG:4326"
    assert result.frame.geometry[0].equals(shapely.Point(*HANGZHOU))


# ---------------------------------------------------------------- GeoPackage and CRSs
def test_geopackage_in_web_mercator(tmp_path: Path) -> None:
    path = tmp_path / "m.gpkg"
    points = [shapely.Point(*mercator_xy(*HANGZHOU)), shapely.Point(*mercator_xy(*SHANGHAI))]
    pyogrio.write_dataframe(frame(points, 3857, n=[1, 2]), path, layer="pts")
    result = read_layer(path)
    assert result.source_crs == "EPSG:3857" and result.layer == "pts"
    got = shapely.get_coordinates(result.frame.geometry.values)
    assert np.abs(got - np.array([HANGZHOU, SHANGHAI])).max() < 1e-6


def test_geopackage_in_cgcs2000_gauss_kruger_zone(tmp_path: Path) -> None:
    path = tmp_path / "gk.gpkg"
    line = shapely.LineString([(500_000.0, meridian_arc_m(30.0)), (500_000.0, meridian_arc_m(31.0))])
    pyogrio.write_dataframe(frame([line], 4549, 名称=["中山路"]), path, layer="roads")
    result = read_layer(path, geometry_types={"LineString", "MultiLineString"})
    assert result.source_crs == "EPSG:4549"
    got = shapely.get_coordinates(result.frame.geometry.values)
    assert np.abs(got - np.array([(120.0, 30.0), (120.0, 31.0)])).max() < 1e-6
    assert result.frame["名称"][0] == "中山路" and result.frame.crs.to_epsg() == 4326


def test_multi_layer_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "multi.gpkg"
    pyogrio.write_dataframe(frame([shapely.Point(*HANGZHOU)], kind=["bin"]), path, layer="bins")
    pyogrio.write_dataframe(
        frame([BOW_TIE, REPAIRABLE, shapely.Point(*SHANGHAI), shapely.Polygon()], kind=["a", "b", "c", "d"]),
        path,
        layer="areas",
        geometry_type="Unknown",
    )
    with pytest.raises(LayerReadError, match="choose one of: bins, areas") as info:
        read_layer(path)
    assert info.value.code == "layer_choice"
    assert read_layer(path, layer="bins").frame["kind"].tolist() == ["bin"]
    with pytest.raises(LayerReadError, match="no layer 'roads'; layers: bins, areas"):
        read_layer(path, layer="roads")
    result = read_layer(path, layer="areas", geometry_types={"Polygon", "MultiPolygon"})
    assert result.frame["kind"].tolist() == ["b"]  # repaired, still a Polygon
    assert result.frame.geometry[0].geom_type == "Polygon" and result.frame.geometry[0].is_valid
    assert result.rejected[0][0] == 1 and "not valid: Self-intersection" in result.rejected[0][1]
    assert result.rejected[1:] == [
        (3, "Point is not accepted; expected MultiPolygon, Polygon"),
        (4, "geometry is empty"),
    ]


# ---------------------------------------------------------------- GeoJSON
def test_geojson_rows_checked_one_by_one(tmp_path: Path) -> None:
    features = [
        {"type": "Point", "coordinates": [*HANGZHOU, 12.5]},
        {"type": "LineString", "coordinates": [list(HANGZHOU), list(SHANGHAI)]},
        None,
        {"type": "Point", "coordinates": [200.0, 10.0]},
        {"type": "Point", "coordinates": [1e308, 0.0]},
        json.loads(shapely.to_geojson(BOW_TIE)),
        {"type": "Polygon", "coordinates": []},
    ]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"名称": f"要素{i}"}, "geometry": g}
            for i, g in enumerate(features)
        ],
    }
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = read_layer(path)
    assert result.frame["名称"].tolist() == ["要素0", "要素1"]
    assert result.frame.geometry[0].equals(shapely.Point(*HANGZHOU)) and not result.frame.geometry[0].has_z
    reasons = dict(result.rejected)
    assert reasons[3] == "no geometry"
    assert reasons[4] == "longitude 200 is outside -180..180"
    assert reasons[5].startswith("coordinates must be finite numbers")
    assert reasons[6].startswith("geometry is not valid: Self-intersection")
    assert reasons[7] == "no geometry"  # GDAL reads an empty GeoJSON polygon as null
    assert result.frame["_row"].tolist() == [1, 2]


# ---------------------------------------------------------------- CSV
CSV = (
    "名称,经度,纬度,备注\n"
    "一号桶,120.1551,30.2741,ok\n"
    "坏经度,abc,30.2,x\n"
    "太大,1e308,30.2,x\n"
    "非数,NaN,30.2,x\n"
    "纬度超界,120.1,95,x\n"
    "空,,30.2,x\n"
    "\n"
    "二号桶, 121.4737 ,31.2304,ok\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_with_bad_rows(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "pts.csv"
    path.write_bytes(CSV.encode(encoding))
    result = read_layer(path)
    assert result.frame["名称"].tolist() == ["一号桶", "二号桶"]
    assert result.frame["_row"].tolist() == [1, 8]
    assert (
        np.abs(shapely.get_coordinates(result.frame.geometry.values) - np.array([HANGZHOU, SHANGHAI])).max()
        == 0
    )
    assert result.rejected == [
        (2, "longitude is not a number: 'abc'"),
        (3, "longitude 1e+308 is out of range"),
        (4, "longitude must be a finite number"),
        (5, "latitude 95 is outside -90..90"),
        (6, "longitude is empty"),
    ]
    assert result.source_crs == "EPSG:4326"


def test_csv_projected_xy_columns(tmp_path: Path) -> None:
    path = tmp_path / "xy.csv"
    path.write_text(f"id,X,Y\n1,500000,{meridian_arc_m(30.0)!r}\n2,1e12,3\n", encoding="utf-8")
    with pytest.raises(LayerReadError, match="--srid"):
        read_layer(path)
    result = read_layer(path, srid=4549)
    lon, lat = result.frame.geometry[0].coords[0]
    assert abs(lon - 120) < 1e-6 and abs(lat - 30) < 1e-6
    assert result.rejected == [(2, "x 1e+12 is out of range")]


def test_csv_named_columns_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("where_e,where_n,_row\n120.1,30.2,7\n120.2,30.3,8,extra\n", encoding="utf-8")
    with pytest.raises(LayerReadError, match="no longitude column found") as info:
        read_layer(path)
    assert info.value.code == "csv_columns"
    result = read_layer(path, lon_col="where_e", lat_col="WHERE_N")
    assert result.frame["_row_src"].tolist() == ["7"] and result.frame["_row"].tolist() == [1]
    assert result.rejected == [(2, "row has 4 fields but the header has 3")]
    with pytest.raises(LayerReadError, match="no longitude column named 'lng'"):
        read_layer(path, lon_col="lng", lat_col="where_n")


def test_whole_file_errors(tmp_path: Path) -> None:
    with pytest.raises(LayerReadError, match="file not found"):
        read_layer(tmp_path / "missing.gpkg")
    (tmp_path / "a.kml").write_text("<kml/>")
    with pytest.raises(LayerReadError, match="unsupported file type .kml") as info:
        read_layer(tmp_path / "a.kml")
    assert info.value.code == "unsupported_format"
    (tmp_path / "broken.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(LayerReadError, match="cannot"):
        read_layer(tmp_path / "broken.gpkg")
    with pytest.raises(ValueError, match="unknown geometry types"):
        read_layer(tmp_path / "broken.gpkg", geometry_types={"Circle"})
