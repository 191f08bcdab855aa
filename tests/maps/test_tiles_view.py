"""The /tiles/ view: a folder and an MBTiles file (built here with sqlite3), and everything it refuses."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import LAT0, LON0

# 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
JPG = b"\xff\xd8\xff\xe0" + b"\0" * 16


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile (x, y counted from the north) holding (lon, lat) at zoom z."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def tiles_around(
    levels: Iterable[int], lon: float = LON0, lat: float = LAT0, margin: int = 4
) -> list[tuple[int, int, int]]:
    """(z, x, y) of the tiles within ``margin`` tiles of (lon, lat) at each zoom of ``levels``."""
    out = []
    for z in levels:
        cx, cy = tile_xy(lon, lat, z)
        n = 1 << z
        out += [
            (z, x, y)
            for x in range(max(0, cx - margin), min(n, cx + margin + 1))
            for y in range(max(0, cy - margin), min(n, cy + margin + 1))
        ]
    return out


def make_folder(
    root: Path,
    data: bytes | Callable[[int, int, int], bytes],
    *,
    ext: str = "png",
    levels: Iterable[int] = range(0, 3),
    margin: int = 4,
) -> Path:
    """An XYZ folder ``root/z/x/y.ext`` around the test town."""
    for z, x, y in tiles_around(levels, margin=margin):
        path = root / str(z) / str(x) / f"{y}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data(z, x, y) if callable(data) else data)
    return root


def make_mbtiles(
    path: Path, tiles: Mapping[tuple[int, int, int], bytes | None], *, metadata: Mapping[str, str]
) -> Path:
    """An MBTiles file; ``tiles`` keys are XYZ (z, x, y), stored with the TMS row flip."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
        )
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", list(metadata.items()))
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],
        )
    db.close()
    return path


def marked(z: int, x: int, y: int) -> bytes:
    """A PNG-signed body that says which tile it is."""
    return PNG[:8] + f"{z}/{x}/{y}".encode()


@pytest.fixture
def folder(settings, tmp_path: Path) -> Path:
    root = make_folder(tmp_path / "tiles", marked, levels=[0, 1, 2, 16])
    (tmp_path / "secret.png").write_bytes(PNG[:8] + b"secret")
    (root / "16" / "0").mkdir(parents=True)
    (root / "16" / "0" / "0.png").mkdir()  # a folder where a tile should be
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": f"folder:{root}"}
    return root


@pytest.fixture
def mbtiles(settings, tmp_path: Path) -> Path:
    z, x, y = 16, *tile_xy(LON0, LAT0, 16)
    path = make_mbtiles(
        tmp_path / "town.mbtiles",
        {(0, 0, 0): marked(0, 0, 0), (1, 0, 0): marked(1, 0, 0), (1, 1, 1): marked(1, 1, 1),
         (2, 1, 3): marked(2, 1, 3), (z, x, y): marked(z, x, y), (3, 0, 0): b"<html>not an image",
         (3, 0, 1): None, (3, 1, 0): JPG},
        metadata={"format": "png", "maxzoom": "16", "minzoom": "0"},
    )  # fmt: skip
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": f"mbtiles:{path}"}
    return path


def get(path: str, **headers: str):
    return Client().get(path, headers=headers)


def test_folder_tiles_are_served_with_type_and_cache_headers(folder: Path) -> None:
    x, y = tile_xy(LON0, LAT0, 16)
    response = get(f"/tiles/16/{x}/{y}.png")
    assert response.status_code == 200 and response.content == marked(16, x, y)
    assert response["Content-Type"] == "image/png"
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]
    assert response["ETag"] and response["Last-Modified"]
    assert get(f"/tiles/16/{x}/{y}.png", if_none_match=response["ETag"]).status_code == 304
    assert get(f"/tiles/16/{x}/{y}.png", if_modified_since=response["Last-Modified"]).status_code == 304
    assert get("/tiles/0/0/0.png").content == marked(0, 0, 0)
    assert Client().head("/tiles/0/0/0.png").status_code == 200


def test_no_login_is_needed_and_only_reads_are_allowed(folder: Path) -> None:
    assert get("/tiles/1/1/0.png").status_code == 200  # anonymous
    assert Client().post("/tiles/1/1/0.png").status_code == 405


def test_mbtiles_rows_are_flipped_from_tms(mbtiles: Path) -> None:
    for z, x, y in [(0, 0, 0), (1, 0, 0), (1, 1, 1), (2, 1, 3)]:
        response = get(f"/tiles/{z}/{x}/{y}.png")
        assert response.status_code == 200 and response.content == marked(z, x, y), (z, x, y)
    assert get("/tiles/1/0/1.png").status_code == 404  # (1, 0, 0) in TMS rows, not in XYZ
    response = get("/tiles/3/1/0.png")  # a jpeg stored in a png file: typed by its bytes
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert get("/tiles/0/0/0.png", if_none_match=get("/tiles/0/0/0.png")["ETag"]).status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/17/0/0.png",  # deeper than the source
        "/tiles/2/4/0.png",  # x = 2^z
        "/tiles/2/0/4.png",  # y = 2^z
        "/tiles/-1/0/0.png",
        "/tiles/1/-1/0.png",
        "/tiles/99999999999999999999/0/0.png",
        "/tiles/" + "9" * 5000 + "/0/0.png",
        "/tiles/1.5/0/0.png",
        "/tiles/a/0/0.png",
        "/tiles/0/0/0.jpg",  # another format than the source's
        "/tiles/0/0/0.PNG",
        "/tiles/0/0/0.gif",
        "/tiles/0/0/0",
        "/tiles/0/0/0.png/",
        "/tiles/16/1/1.png",  # in range, not in the source
        "/tiles/16/0/0.png",  # a folder where the tile should be (folder source)
        "/tiles/3/0/0.png",  # bytes that are not an image (MBTiles)
        "/tiles/3/0/1.png",  # NULL tile data (MBTiles)
    ],
)
@pytest.mark.parametrize("source", ["folder", "mbtiles"])
def test_bad_or_missing_tiles_are_404(request, source: str, path: str) -> None:
    request.getfixturevalue(source)
    assert get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/../secret.png",
        "/tiles/0/../../secret.png",
        "/tiles/0/0/..%2F..%2F..%2Fsecret.png",
        "/tiles/0/0/%2e%2e%2f%2e%2e%2fsecret.png",
        "/tiles/0/0/0.png%00",
        "/tiles/0/0/0.png/../../../secret.png",
        "/tiles/0/0/0.png%2F..%2F..%2F..%2Fsecret",
        "/tiles/0/0/0.%2e%2e%2fsecret.png",
        "/tiles//etc/passwd",
        "/tiles/0/0/%252e%252e%252fsecret.png",
    ],
)
def test_path_traversal_is_404(folder: Path, path: str) -> None:
    response = get(path)
    assert response.status_code == 404 and b"secret" not in response.content


def test_without_a_local_source_every_tile_is_404(settings, folder: Path) -> None:
    for raw in ("none", "https://t.example/{z}/{x}/{y}.png", "tianditu:0123456789abcdef"):
        settings.GRIDMAP = {**settings.GRIDMAP, "TILES": raw}
        assert get("/tiles/0/0/0.png").status_code == 404, raw


def test_a_corrupt_or_vanished_mbtiles_is_404_not_500(mbtiles: Path) -> None:
    assert get("/tiles/0/0/0.png").status_code == 200  # parsed and cached while it was good
    mbtiles.write_bytes(b"\0" * 4096)
    assert get("/tiles/0/0/0.png").status_code == 404
    mbtiles.unlink()
    assert get("/tiles/0/0/0.png").status_code == 404


def test_mbtiles_is_opened_read_only(mbtiles: Path) -> None:
    before = mbtiles.stat().st_mtime_ns, mbtiles.read_bytes()
    for _ in range(3):
        get("/tiles/0/0/0.png")
    assert (mbtiles.stat().st_mtime_ns, mbtiles.read_bytes()) == before
    assert not list(mbtiles.parent.glob("*-journal")) and not list(mbtiles.parent.glob("*-wal"))
