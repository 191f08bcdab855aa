"""Clients other people wrote, against a live server: GDAL's OAPIF driver (``ogr2ogr``), OWSLib's
``Features`` and GDAL's GeoJSON reader on a REST list.

GDAL 3.6 (Debian 12) sends ``-where`` to the server as CQL text when the API definition offers
``filter-lang=cql-text`` and lists the attributes as query parameters of the items path. It has
no CRS open option for OAPIF (3.7 added one); it repeats the query of the URL it was given on
every request, which is how a ``crs`` (and any CQL2 ``filter`` written by hand) reaches the server.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from pyproj import Transformer
from rest_framework.authtoken.models import Token

from gridmap.analysis.coverage_rows import coverage_state, grid_rows
from gridmap.analysis.precompute import refresh_sets, towns
from gridmap.api.ogc.analysis import gap_kinds
from gridmap.facilities.models import GeomType
from gridmap.facilities.selectors import facilities_visible_to
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to, streets_visible_to
from gridmap.problems.selectors import problems_visible_to

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="needs GDAL's ogr2ogr (gdal-bin)")

EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


def _token(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def ogr_read(dataset: str, layer: str | None, key: str, *options: str) -> dict:
    """``ogr2ogr`` from ``dataset`` (a layer of it) to GeoJSON on stdout, with the token header."""
    args = ["ogr2ogr", "-f", "GeoJSON", "-preserve_fid", "/vsistdout/", dataset, *([layer] if layer else []), *options,
            "--config", "GDAL_HTTP_HEADERS", f"Authorization: Token {key}", "--config", "GDAL_HTTP_TIMEOUT", "60"]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def expected_ids(user) -> dict[str, set]:
    """Each collection's feature ids as the scoping selectors give them (the stored coverage
    computed first, as the workers would)."""
    for kind in gap_kinds():
        refresh_sets(kind, towns())
    ids = {
        "grids": set(grids_visible_to(user).values_list("pk", flat=True)),
        "buildings": set(buildings_visible_to(user).values_list("pk", flat=True)),
        "problems": set(problems_visible_to(user).values_list("pk", flat=True)),
        "streets": set(streets_visible_to(user).values_list("pk", flat=True)),
    }
    for suffix, geom_type in (
        ("point", GeomType.POINT),
        ("line", GeomType.LINE),
        ("polygon", GeomType.POLYGON),
    ):
        qs = facilities_visible_to(user).filter(kind__geom_type=geom_type)
        ids[f"facilities-{suffix}"] = set(qs.values_list("pk", flat=True))
    for kind in gap_kinds():
        rows = grid_rows(coverage_state(user, kind), user, metric="straight")
        ids[f"gaps-{kind.code}"] = set(rows.values_list("grid__code", flat=True))
    return ids


@pytest.mark.parametrize("who", ["leader", "admin"])
def test_gdal_reads_every_feature_of_every_collection(live_server, catalogues, ogc_town, who):
    user = ogc_town[who]
    key = _token(user)
    landing = f"OAPIF:{live_server.url}/ogc/"
    expected = expected_ids(user)
    assert expected["problems"] and expected["grids"] and expected["streets"] and expected["gaps-toilet"]
    if who == "leader":  # the leader's grid only: fewer than the town has
        assert len(expected["grids"]) == 1 and len(expected["problems"]) == 5
    for layer, ids in expected.items():
        # a page of 2 makes GDAL follow the next links
        read = ogr_read(landing, layer, key, "-oo", "PAGE_SIZE=2")
        # whole-number ids are GDAL's feature ids (-preserve_fid); a gap's id is its grid code
        got = [f["properties"]["grid"] if layer.startswith("gaps-") else f["id"] for f in read["features"]]
        assert sorted(map(str, got)) == sorted(map(str, ids)), layer
    hotspots = ogr_read(landing, "hotspots", key)
    assert len(hotspots["features"]) == 1  # the five problems at one spot
    assert hotspots["features"][0]["properties"]["size"] == 5


def test_gdal_with_a_cql2_filter_and_web_mercator(live_server, catalogues, ogc_town):
    key = _token(ogc_town["admin"])
    g2 = ogc_town["g2"].code
    where = quote(f"grid = '{g2}' OR category IN ('0602')", safe="")
    url = f"OAPIF:{live_server.url}/ogc/collections/problems?filter={where}&crs={EPSG3857}"
    read = ogr_read(url, None, key, "-oo", "PAGE_SIZE=1")
    expected = problems_visible_to(ogc_town["admin"]).filter(grid=ogc_town["g2"])
    assert [f["id"] for f in read["features"]] == list(expected.values_list("pk", flat=True))
    to_metres = Transformer.from_crs(4326, 3857, always_xy=True)
    for feature, problem in zip(read["features"], expected, strict=True):
        x, y = feature["geometry"]["coordinates"]
        ex, ey = to_metres.transform(problem.geom.x, problem.geom.y)
        assert abs(x - ex) < 0.01 and abs(y - ey) < 0.01  # metres, not degrees
    # the same through the leader: the filter narrows the leader's scope, never widens it
    leader = ogr_read(url.replace(quote(f"grid = '{g2}'", safe=""), quote("status = 'reported'", safe="")),
                      None, _token(ogc_town["leader"]))  # fmt: skip
    assert {f["id"] for f in leader["features"]} <= set(
        problems_visible_to(ogc_town["leader"]).values_list("pk", flat=True)
    )


def test_gdal_sends_where_to_the_server_as_cql(live_server, catalogues, ogc_town):
    leader = ogc_town["leader"]
    where = f"status = 'reported' AND grid = '{ogc_town['g1'].code}' AND rework_count >= 0"
    args = ["ogr2ogr", "-f", "GeoJSON", "-preserve_fid", "/vsistdout/", f"OAPIF:{live_server.url}/ogc/", "problems",
            "-where", where, "--debug", "ON", "--config", "GDAL_HTTP_HEADERS", f"Authorization: Token {_token(leader)}"]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, check=True)
    fetched = [line for line in out.stderr.splitlines() if "Fetch(" in line and "/items?" in line]
    assert any("filter=" in line and "filter-lang=cql-text" in line for line in fetched), fetched
    got = sorted(f["id"] for f in json.loads(out.stdout)["features"])
    assert got == sorted(problems_visible_to(leader).filter(grid=ogc_town["g1"]).values_list("pk", flat=True))


def test_owslib_lists_collections_and_reads_items(live_server, catalogues, ogc_town):
    from owslib.ogcapi.features import Features

    api = Features(
        f"{live_server.url}/ogc/", headers={"Authorization": f"Token {_token(ogc_town['leader'])}"}
    )
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"grids", "buildings", "problems", "streets", "facilities-point", "hotspots"} <= ids
    assert set(api.feature_collections()) == ids
    page = api.collection_items("problems", limit=3)
    assert page["numberMatched"] == 5 and page["numberReturned"] == 3
    assert any(link["rel"] == "next" for link in page["links"])
    one = api.collection_item("problems", str(page["features"][0]["id"]))
    assert one["properties"]["grid"] == ogc_town["g1"].code
    queryables = api.collection_queryables("problems")
    assert {"category", "status", "grid", "community", "reported_at"} <= set(queryables["properties"])
    filtered = api.collection_items("problems", filter="status = 'reported'", limit=100)
    assert filtered["numberMatched"] == 5
    by_parameter = api.collection_items("problems", status="reported", grid=ogc_town["g1"].code)
    assert by_parameter["numberMatched"] == 5


def documented_page_size(base: str, key: str) -> int:
    """The largest ``page_size`` the REST API's OpenAPI document gives for the problem list (its
    schema's maximum, or the number its description states)."""
    request = urllib.request.Request(
        f"{base}/api/v1/schema/?format=json", headers={"Authorization": f"Token {key}"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        doc = json.loads(answer.read())
    (param,) = [p for p in doc["paths"]["/api/v1/problems/"]["get"]["parameters"] if p["name"] == "page_size"]
    if "maximum" in param.get("schema", {}):
        return int(param["schema"]["maximum"])
    return int(re.search(r"1 to (\d+)", param["description"]).group(1))


def test_gdal_geojson_reader_reads_a_whole_rest_list(live_server, catalogues, ogc_town):
    """GDAL's GeoJSON reader reads one document: it does not follow ``next`` links. Asked with the
    largest page the REST API's document gives (``page_size``, 1000), it reads the whole list of
    a town of up to that many problems; past that (the demo town has 3,304) only the OGC API
    gives a GIS client every row."""
    from gridmap.api.params import MAX_PAGE_SIZE

    key = _token(ogc_town["admin"])
    size = documented_page_size(live_server.url, key)
    assert size == MAX_PAGE_SIZE  # the document tells the limit the API holds
    read = ogr_read(f"{live_server.url}/api/v1/problems/?page_size={size}", None, key)
    assert len(read["features"]) == problems_visible_to(ogc_town["admin"]).count() == 7
    short = ogr_read(f"{live_server.url}/api/v1/problems/?page_size=3", None, key)
    assert len(short["features"]) == 3  # the first page only: why the OGC API exists
    too_big = urllib.request.Request(f"{live_server.url}/api/v1/problems/?page_size={size + 1}",
                                     headers={"Authorization": f"Token {key}"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(too_big, timeout=60)
    assert refused.value.code == 400
