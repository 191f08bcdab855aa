"""Hostile files for import_layer: nothing fetched from the network, memory bounded, sizes first.

- A GeoJSON whose ``crs`` is a link made GDAL fetch the URL even on a dry run (a request to any
  address the server can reach). A local HTTP server started here counts requests: it must see
  none, whether the link is refused before GDAL opens the file or GDAL is made to read it.
- A zip that understates its members' sizes is refused with a clear message; a sparse file
  larger than the limit is refused by its size, unread. Peak memory is measured in a subprocess.
"""

from __future__ import annotations

import http.server
import json
import os
import struct
import subprocess
import sys
import threading
import zipfile
from io import StringIO
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from django.core.management import CommandError, call_command

from gridmap.facilities.models import Facility
from layers.io.offline import gdal_offline
from tests.factories import LAT0, LON0

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def http_server():
    """A local HTTP server that counts the requests it gets (GDAL would fetch a CRS from it)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"+proj=longlat +datum=WGS84 +no_defs")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def hydrants(crs=None, geometry_crs=None) -> dict:
    geometry = {"type": "Point", "coordinates": [LON0 + 0.001, LAT0 + 0.001]}
    if geometry_crs is not None:
        geometry["crs"] = geometry_crs
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"id": 1}, "geometry": geometry}],
    }
    if crs is not None:
        doc["crs"] = crs
    return doc


def link(url: str) -> dict:
    return {"type": "link", "properties": {"href": f"{url}/crs.proj4", "type": "proj4"}}


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["top", "geometry", "escaped key", "upper-case key", "name is a URL"])
def test_a_crs_link_is_refused_before_gdal_opens_the_file(tmp_path, http_server, where):
    url, hits = http_server
    doc = {
        "top": hydrants(crs=link(url)),
        "geometry": hydrants(geometry_crs=link(url)),
        "upper-case key": {**hydrants(), "CRS": link(url)},
        "name is a URL": hydrants(crs={"type": "name", "properties": {"name": f"{url}/def/crs/EPSG/0/4326"}}),
    }.get(where)
    path = tmp_path / "hydrants.geojson"
    if where == "escaped key":
        path.write_text(
            json.dumps(hydrants()).replace("{", '{"\\u0063rs": ' + json.dumps(link(url)) + ", ", 1)
        )
    else:
        path.write_text(json.dumps(doc))
    with pytest.raises(CommandError, match="crs member"):
        call_command("import_layer", "facilities", str(path), "--kind", "hydrant", stdout=StringIO())
    assert hits == [] and Facility.objects.count() == 0


@pytest.mark.django_db
def test_a_plain_epsg_crs_name_is_still_read(tmp_path, http_server):
    _, hits = http_server
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(LON0, LAT0)], crs="EPSG:4326").to_crs(4549)
    path = tmp_path / "hydrants.geojson"
    frame.to_file(path, driver="GeoJSON")
    assert "EPSG::4549" in path.read_text()
    out = StringIO()
    call_command("import_layer", "facilities", str(path), "--kind", "hydrant", "--commit", stdout=out)
    assert "EPSG:4549" in out.getvalue()
    assert Facility.objects.get().geom.coords == pytest.approx((LON0, LAT0), abs=1e-7)
    assert hits == []


def test_gdal_reads_with_the_network_off_even_past_the_check(tmp_path, http_server, monkeypatch):
    """The second wall: GDAL itself opening a file with a crs link makes no request, even with
    the server's address in no_proxy (libcurl would otherwise go to it directly)."""
    url, hits = http_server
    path = tmp_path / "linked.geojson"
    path.write_text(json.dumps(hydrants(crs=link(url))))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with gdal_offline():
        pyogrio.raw.read(str(path))
    assert hits == []
    assert os.environ["no_proxy"] == "127.0.0.1,localhost"  # put back afterwards
    assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") is None
    pyogrio.raw.read(str(path))  # outside the block GDAL is as it was: the control fetches
    assert len(hits) == 1


def understated_zip(folder: Path, real_mib: int = 300) -> Path:
    """A zipped shapefile (no .cpg, so its .dbf is read for the encoding) whose .dbf holds
    ``real_mib`` MiB but whose zip headers say 1,000 bytes."""
    shp = folder / "p.shp"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(LON0, LAT0)], crs="EPSG:4326").to_file(shp)
    path = folder / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for ext in ("shp", "shx", "prj"):
            archive.write(shp.with_suffix(f".{ext}"), f"p.{ext}")
        with archive.open("p.dbf", "w", force_zip64=False) as member:
            member.write(shp.with_suffix(".dbf").read_bytes())
            for _ in range(real_mib):
                member.write(b" " * 1024**2)
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # central directory entry, then its local header: uncompressed size 1,000
        n = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + n]) == b"p.dbf":
            struct.pack_into("<I", data, at + 24, 1000)
            struct.pack_into("<I", data, struct.unpack_from("<I", data, at + 42)[0] + 22, 1000)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(data)
    return path


PROBE = """
import json, resource, sys
from io import StringIO
import django
django.setup()
from django.core.management import CommandError, call_command
import layers.io.vector, gridmap.imports.core  # everything the command loads, before the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = {}
for name, path in json.loads(sys.argv[1]).items():
    try:
        call_command("import_layer", "facilities", path, "--kind", "hydrant", stdout=StringIO())
        results[name] = [0, ""]
    except CommandError as exc:
        results[name] = [exc.returncode, str(exc)]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"results": results, "grew_kib": peak - base}))
"""


def test_understated_zip_and_sparse_csv_are_refused_with_bounded_memory(tmp_path):
    sparse = tmp_path / "huge.csv"
    with sparse.open("wb") as f:
        f.write(b"lon,lat\n120.9,31.6\n")
        f.truncate(2 * 1024**3 + 1)  # 2 GiB, sparse: no disk used
    sparse_json = tmp_path / "huge.geojson"
    with sparse_json.open("wb") as f:
        f.truncate(3 * 1024**3)
    files = {"zip": str(understated_zip(tmp_path)), "csv": str(sparse), "geojson": str(sparse_json)}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"spatialite:///{tmp_path}/x.db",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(files)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    results = report["results"]
    assert results["zip"][0] == 1 and "does not match its header" in results["zip"][1], results
    assert results["csv"][0] == 1 and "larger than 512 MiB" in results["csv"][1], results
    assert results["geojson"][0] == 1 and "larger than 2048 MiB" in results["geojson"][1], results
    # The zip holds 300 MiB and the CSV 2 GiB: neither was read into memory.
    assert report["grew_kib"] < 64 * 1024, report


def test_a_sparse_osm_extract_beyond_the_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.osm.pbf"
    with path.open("wb") as f:
        f.truncate(3 * 1024**3)
    with pytest.raises(CommandError, match="larger than 1024 MiB") as caught:
        call_command("import_osm", str(path), stdout=StringIO(), stderr=StringIO())
    assert caught.value.returncode == 1
