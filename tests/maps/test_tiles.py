"""Parsing GRIDMAP_TILES: every source kind, and a clear refusal of what cannot work."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import folium
import geopandas as gpd
import pytest
from django.core.exceptions import ImproperlyConfigured
from shapely.geometry import Point

from gridmap.core.basemap import local_template, openlayers_tile_url, parse_tiles, source_of, tile_source
from gridmap.maps.tiles import add_overlays, display_frames, to_wgs84
from layers.chinacoords import wgs84_to_gcj02
from layers.maps import TileSource
from tests.maps.test_tiles_view import PNG, make_folder, make_mbtiles

KEY = "0123456789abcdef0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]


def use(settings, raw: str, **extra: str) -> None:
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": raw, **extra}


def test_none_is_the_default_and_draws_no_tiles(settings) -> None:
    assert parse_tiles(None).kind == parse_tiles("").kind == parse_tiles(" NONE ").kind == "none"
    use(settings, "none")
    assert tile_source() is None and openlayers_tile_url() is None


def test_an_xyz_template_is_drawn_as_given(settings) -> None:
    url = "https://tiles.intranet.example/osm/{z}/{x}/{y}.png"
    use(settings, url, TILES_ATTRIBUTION="&copy; 测绘院", TILES_MAX_ZOOM="17")
    source = tile_source()
    assert source == TileSource(url, "&copy; 测绘院", max_zoom=17, subdomains="abc")
    assert source.datum == "wgs84" and source.overlays == ()
    assert parse_tiles("/basemap/{z}/{x}/{-y}.jpg").template == "/basemap/{z}/{x}/{-y}.jpg"
    assert parse_tiles("https://{s}.t/{z}/{x}/{y}.png", subdomains="1234").subdomains == "1234"


def test_tianditu_draws_its_wgs84_map_with_the_label_layer_over_it(settings) -> None:
    use(settings, f"tianditu:{KEY}")
    source = tile_source()
    assert "T=vec_w" in source.url_template and f"tk={KEY}" in source.url_template
    assert len(source.overlays) == 1 and "T=cva_w" in source.overlays[0] and f"tk={KEY}" in source.overlays[0]
    assert source.subdomains == "01234567" and "{s}" in source.url_template and source.datum == "wgs84"
    assert source.max_zoom == 18 and "天地图" in source.attribution
    assert openlayers_tile_url() == source.url_template.replace("{s}", "{0-7}")
    html = add_overlays(folium.Map(tiles=None), source).get_root().render()
    assert html.count("L.tileLayer") == 1 and "cva_w" in html


def test_gcj02_marks_the_source_and_its_layers_move(settings, tmp_path: Path) -> None:
    url = "https://webrd0{s}.is.autonavi.example/appmaptile?x={x}&y={y}&z={z}&style=8"
    use(settings, f"gcj02:{url}", TILES_SUBDOMAINS="1234")
    source = tile_source()
    assert source.datum == "gcj02" and source.url_template == url and source.subdomains == "1234"
    assert openlayers_tile_url() is None, "the admin edits WGS84: no shifted background there"
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(120.87, 31.62)], crs=4326)
    shown = display_frames({"problems": frame, "figures": {"n": 1}}, source)
    glon, glat = wgs84_to_gcj02([120.87], [31.62])
    assert shown["figures"] == {"n": 1}
    assert shown["problems"].geometry.iloc[0].equals_exact(Point(glon[0], glat[0]), 1e-12)
    assert display_frames({"problems": frame}, None)["problems"] is frame
    lon, lat = to_wgs84(float(glon[0]), float(glat[0]), source)
    assert abs(lon - 120.87) < 1e-9 and abs(lat - 31.62) < 1e-9
    assert to_wgs84(120.0, 31.0, None) == (120.0, 31.0)
    assert parse_tiles(f"gcj02:folder:{make_folder(tmp_path / 't', PNG)}").datum == "gcj02"


def test_a_folder_is_served_by_our_view_with_its_format_and_depth(settings, tmp_path: Path) -> None:
    root = make_folder(tmp_path / "tiles", b"\xff\xd8\xff" + b"0" * 20, ext="jpg", levels=range(3, 15))
    use(settings, f"folder:{root}")
    source = tile_source()
    assert source.url_template == local_template("jpg") == "/tiles/{z}/{x}/{y}.jpg"
    assert source.max_zoom == 14 and source.attribution == ""
    assert openlayers_tile_url() == "/tiles/{z}/{x}/{y}.jpg"


def test_mbtiles_format_zoom_and_attribution_come_from_its_metadata(settings, tmp_path: Path) -> None:
    path = make_mbtiles(
        tmp_path / "town.mbtiles", {(16, 0, 0): PNG},
        metadata={"format": "png", "maxzoom": "18", "attribution": "<b>测绘</b>"},
    )  # fmt: skip
    config = parse_tiles(f"mbtiles:{path}")
    assert (config.kind, config.fmt, config.max_zoom) == ("mbtiles", "png", 18)
    assert config.attribution == "&lt;b&gt;测绘&lt;/b&gt;", "text from a file is escaped"
    bare = make_mbtiles(tmp_path / "bare.mbtiles", {(12, 1, 1): b"RIFF\0\0\0\0WEBPVP8 "}, metadata={})
    assert (parse_tiles(f"mbtiles:{bare}").fmt, parse_tiles(f"mbtiles:{bare}").max_zoom) == ("webp", 12)
    use(settings, f"mbtiles:{path}", TILES_ATTRIBUTION="本地影像")
    assert tile_source().attribution == "本地影像" and tile_source().url_template == "/tiles/{z}/{x}/{y}.png"


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("https://t.example/{z}/{x}.png", "needs {z}, {x} and {y}"),
        ("https://t.example/{z}/{x}/{y}/{lang}.png", "unknown placeholder"),
        ("ftp://t.example/{z}/{x}/{y}.png", "must be none"),
        ("//t.example/{z}/{x}/{y}.png", "must be none"),
        ("osm", "must be none"),
        ('https://t.example/{z}/{x}/{y}.png"><script>', "not allowed"),
        ("tianditu:", "key"),
        ("tianditu:abc/../x", "key"),
        ("gcj02:tianditu:" + KEY, "gcj02"),
        ("gcj02:none", "gcj02"),
        ("folder:relative/tiles", "absolute path"),
        ("folder:/nonexistent/tiles", "does not exist"),
        ("mbtiles:/nonexistent/town.mbtiles", "does not exist"),
    ],
)
def test_a_bad_setting_is_refused_with_its_reason(raw: str, reason: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=reason.replace("{", r"\{").replace("}", r"\}")):
        parse_tiles(raw)


def test_bad_files_and_options_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "3").mkdir()
    with pytest.raises(ImproperlyConfigured, match="no {z}/{x}/{y}"):
        parse_tiles(f"folder:{tmp_path / 'empty'}")
    (tmp_path / "not.mbtiles").write_bytes(b"just text, not SQLite" * 100)
    with pytest.raises(ImproperlyConfigured, match="not a readable MBTiles"):
        parse_tiles(f"mbtiles:{tmp_path / 'not.mbtiles'}")
    sqlite3.connect(tmp_path / "other.sqlite").execute("CREATE TABLE t (a)").connection.close()
    with pytest.raises(ImproperlyConfigured, match="not a readable MBTiles"):
        parse_tiles(f"mbtiles:{tmp_path / 'other.sqlite'}")
    vector = make_mbtiles(tmp_path / "v.mbtiles", {(1, 0, 0): b"\x1f\x8b"}, metadata={"format": "pbf"})
    with pytest.raises(ImproperlyConfigured, match="vector tiles"):
        parse_tiles(f"mbtiles:{vector}")
    with pytest.raises(ImproperlyConfigured, match="MAX_ZOOM"):
        parse_tiles("https://t.example/{z}/{x}/{y}.png", max_zoom="99")
    with pytest.raises(ImproperlyConfigured, match="SUBDOMAINS"):
        parse_tiles("https://{s}.t.example/{z}/{x}/{y}.png", subdomains="a,b")


def test_a_bad_setting_stops_the_start_naming_the_problem(tmp_path: Path) -> None:
    env = {**os.environ, "GRIDMAP_TILES": "folder:/nonexistent/tiles", "SECRET_KEY": "x"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "-c", "import gridmap.settings"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "ImproperlyConfigured: GRIDMAP_TILES: tile folder /nonexistent/tiles does not exist" in run.stderr


def test_a_wgs84_source_leaves_frames_as_they_are() -> None:
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(120.87, 31.62)], crs=4326)
    source = source_of(parse_tiles("https://t.example/{z}/{x}/{y}.png"))
    assert display_frames({"problems": frame}, source)["problems"] is frame
    with pytest.raises(ValueError):
        TileSource("https://t.example/{z}/{x}/{y}.png", "", datum="bd09")
