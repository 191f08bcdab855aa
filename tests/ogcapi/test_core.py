"""OGC API – Features Part 1 and 2 through Django's test client: documents, scopes, paging, bbox,
datetime, CRS, formats, anonymous access and the OpenAPI document."""

from __future__ import annotations

import pytest
from django.test import override_settings
from drf_spectacular.validation import validate_schema
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer
from rest_framework.test import APIClient

from gridmap.api.ogc.crs import CRS84, epsg
from gridmap.problems.models import Problem
from gridmap.problems.selectors import problems_visible_to
from tests.hostile import hostile_bbox, hostile_page, hostile_text, hostile_time

pytestmark = pytest.mark.django_db
ITEMS = "/ogc/collections/{}/items"


def get(client, url, **kw):
    return client.get(url, **kw)


def test_landing_links_the_definition_conformance_and_collections(ogc_town, as_user):
    body = as_user(ogc_town["leader"]).get("/ogc/").json()
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert rels["service-desc"].endswith("/ogc/api")
    assert rels["conformance"].endswith("/ogc/conformance")
    assert rels["data"].endswith("/ogc/collections")
    conf = as_user(ogc_town["leader"]).get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in conf


def test_openapi_document_is_valid_and_types_each_collection(ogc_town, as_user):
    response = as_user(ogc_town["admin"]).get("/ogc/api")
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.json()
    validate_schema(doc)  # raises on an invalid OpenAPI 3.0 document
    feature = doc["components"]["schemas"]["problems_feature"]["properties"]["properties"]["properties"]
    assert feature["status"]["enum"] and feature["reported_at"]["format"] == "date-time"
    assert feature["deadline"]["nullable"] is True
    assert "/collections/facilities-line/items" in doc["paths"]
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (10, 10_000)


def test_collections_and_counts_follow_the_users_scope(ogc_town, as_user):
    leader, admin = as_user(ogc_town["leader"]), as_user(ogc_town["admin"])
    for client, user in ((leader, ogc_town["leader"]), (admin, ogc_town["admin"])):
        body = client.get(ITEMS.format("problems") + "?limit=100").json()
        assert body["numberMatched"] == problems_visible_to(user).count() == len(body["features"])
    assert leader.get(ITEMS.format("grids")).json()["numberMatched"] == 1
    assert admin.get(ITEMS.format("grids")).json()["numberMatched"] == 3
    # another grid's problem is not there for the leader, as in the REST API
    other = Problem.objects.filter(grid=ogc_town["g2"]).first()
    assert leader.get(f"{ITEMS.format('problems')}/{other.pk}").status_code == 404
    assert admin.get(f"{ITEMS.format('problems')}/{other.pk}").status_code == 200
    reporter = as_user(ogc_town["reporter2"])
    assert reporter.get(ITEMS.format("grids")).json()["numberMatched"] == 0
    assert reporter.get(ITEMS.format("streets")).json()["numberMatched"] == 0


def test_paging_by_next_links_reads_every_feature_once(ogc_town, as_user):
    client = as_user(ogc_town["admin"])
    url, seen = ITEMS.format("problems") + "?limit=3", []
    while url:
        body = client.get(url).json()
        assert body["numberReturned"] == len(body["features"]) <= 3
        assert body["numberMatched"] == 7
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert sorted(seen) == sorted(Problem.objects.values_list("pk", flat=True))
    last = client.get(ITEMS.format("problems") + "?limit=3&offset=6").json()
    assert any(link["rel"] == "prev" for link in last["links"])
    assert client.get(ITEMS.format("problems")).json()["numberReturned"] == 7  # default limit 10
    beyond = client.get(ITEMS.format("problems") + "?offset=100").json()
    assert (beyond["numberMatched"], beyond["numberReturned"]) == (7, 0)


@pytest.mark.parametrize("query", ["limit=0", "limit=10001", "limit=-1", "limit=abc", "offset=-5", "offset=1e3",
                                   "limit=1&limit=2", "unknown=1", "bbox=1,2,3", "bbox=10,10,0,0",
                                   "bbox=0,0,1,nan", "crs=EPSG:2385", "bbox-crs=urn:x",
                                   "bbox=0,0,1,1&bbox-crs=urn:x", "datetime=yesterday", "datetime=../..",
                                   "datetime=2025-02-01/2024-01-01", "filter-lang=cql2-json", "f=xml"])  # fmt: skip
def test_bad_queries_are_400(ogc_town, as_user, query):
    response = as_user(ogc_town["admin"]).get(ITEMS.format("problems") + "?" + query)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]


@pytest.mark.parametrize("query", ["bbox-crs=EPSG:4326", "filter-lang=cql2-text", "filter-crs=OGC:CRS84"])
def test_a_parameter_for_another_one_absent_is_checked_and_unused(ogc_town, as_user, query):
    """What the OpenAPI document can say: each parameter's own rule, none about another's."""
    response = as_user(ogc_town["admin"]).get(ITEMS.format("problems") + "?" + query)
    assert response.status_code == 200, response.content
    assert response.json()["numberMatched"] == 7


def test_bbox_in_each_crs_selects_the_same_features(ogc_town, as_user):
    client = as_user(ogc_town["admin"])
    g1 = ogc_town["g1"].geom.extent  # lon/lat
    lonlat = ",".join(map(str, g1))
    latlon = ",".join(map(str, (g1[1], g1[0], g1[3], g1[2])))
    to_m = Transformer.from_crs(4326, 3857, always_xy=True)
    x0, y0 = to_m.transform(g1[0], g1[1])
    x1, y1 = to_m.transform(g1[2], g1[3])
    metres = f"{x0},{y0},{x1},{y1}"
    ids = []
    for box, crs in ((lonlat, CRS84), (latlon, epsg(4326)), (latlon, epsg(4490)), (metres, epsg(3857))):
        body = client.get(ITEMS.format("problems"), {"bbox": box, "bbox-crs": crs, "limit": 100}).json()
        ids.append(sorted(f["id"] for f in body["features"]))
    assert ids[0] == ids[1] == ids[2] == ids[3]
    assert len(ids[0]) == Problem.objects.filter(grid=ogc_town["g1"]).count() == 5


def test_crs_writes_axes_and_units_and_says_so(ogc_town, as_user):
    client = as_user(ogc_town["admin"])
    problem = Problem.objects.filter(grid=ogc_town["g2"]).get()
    url = f"{ITEMS.format('problems')}/{problem.pk}"
    lon, lat = problem.geom.x, problem.geom.y
    plain = client.get(url)
    assert plain["Content-Crs"] == f"<{CRS84}>"
    assert plain.json()["geometry"]["coordinates"] == pytest.approx([lon, lat])
    for code in (4326, 4490):
        answer = client.get(url, {"crs": epsg(code)})
        assert answer["Content-Crs"] == f"<{epsg(code)}>"
        assert answer.json()["geometry"]["coordinates"] == pytest.approx([lat, lon])  # latitude first
    mercator = client.get(
        ITEMS.format("problems"),
        {"crs": "EPSG:3857", "bbox": f"{lon - 1e-6},{lat - 1e-6},{lon + 1e-6},{lat + 1e-6}"},
    )
    assert mercator["Content-Crs"] == f"<{epsg(3857)}>"
    x, y = mercator.json()["features"][0]["geometry"]["coordinates"]
    assert (x, y) == pytest.approx(
        Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat), abs=0.01
    )


def test_cgcs2000_is_wgs84_numbers_in_proj():
    """Why EPSG:4490 answers WGS84's numbers: PROJ's own transformation between them is the null one."""
    x, y = Transformer.from_crs(4326, 4490, always_xy=True).transform(120.87, 31.62)
    assert (x, y) == (120.87, 31.62)


def test_datetime_instants_and_intervals(ogc_town, as_user):
    client = as_user(ogc_town["admin"])
    first = Problem.objects.order_by("reported_at").first()
    count = Problem.objects.count()

    def matched(value):
        return client.get(ITEMS.format("problems"), {"datetime": value}).json()["numberMatched"]

    stamp = first.reported_at.isoformat()
    assert matched(stamp) == 1
    assert matched(f"{stamp}/..") == count
    assert matched(f"../{stamp}") == 1
    assert matched(f"/{stamp}") == 1
    assert matched("2000-01-01/2001-01-01") == 0
    assert matched(f"{first.reported_at.date().isoformat()}/..") == count
    response = client.get(ITEMS.format("grids"), {"datetime": stamp})
    assert response.status_code == 400  # grids have no time


def test_formats_by_f_and_by_accept(ogc_town, as_user):
    client = as_user(ogc_town["leader"])
    assert client.get(ITEMS.format("grids"))["Content-Type"] == "application/geo+json"
    assert (
        client.get(ITEMS.format("grids"), HTTP_ACCEPT="application/json")["Content-Type"]
        == "application/geo+json"
    )
    html = client.get(ITEMS.format("grids"), HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert html["Content-Type"].startswith("text/html") and b"<h1>" in html.content
    assert client.get("/ogc/collections?f=html")["Content-Type"].startswith("text/html")
    assert client.get("/ogc/collections", {"f": "json"})["Content-Type"] == "application/json"
    assert client.get("/ogc/collections/nothing").status_code == 404
    assert client.get("/ogc/collections/grids/items/99999").status_code == 404
    assert client.get("/ogc/collections/grids/items/abc").status_code == 404
    missing = client.get("/ogc/nowhere")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"


def test_anonymous_sees_nothing_unless_configured(ogc_town):
    anonymous = APIClient()
    assert anonymous.get("/ogc/").status_code == 200  # the landing page and the definition are open
    assert anonymous.get("/ogc/collections").json()["collections"] == []
    for cid in ("problems", "grids", "streets"):
        assert anonymous.get(ITEMS.format(cid)).status_code == 401
    with override_settings(OGCAPI_PUBLIC_COLLECTIONS=["streets"]):
        assert [c["id"] for c in anonymous.get("/ogc/collections").json()["collections"]] == ["streets"]
        assert anonymous.get(ITEMS.format("streets")).json()["numberMatched"] == 1
        assert anonymous.get(ITEMS.format("problems")).status_code == 401
    bad_token = APIClient(HTTP_AUTHORIZATION="Token 0123abc")
    assert bad_token.get(ITEMS.format("grids")).status_code == 401


def test_collection_document_has_crs_lists_and_extent(ogc_town, as_user):
    doc = as_user(ogc_town["leader"]).get("/ogc/collections/grids").json()
    assert doc["storageCrs"] == CRS84 and epsg(4490) in doc["crs"] and epsg(3857) in doc["crs"]
    assert doc["extent"]["spatial"]["bbox"][0] == pytest.approx(list(ogc_town["g1"].geom.extent))
    schema = as_user(ogc_town["leader"]).get("/ogc/collections/problems/schema").json()
    assert schema["properties"]["reported_at"] == {"type": "string", "format": "date-time"}


@given(
    bbox=hostile_bbox,
    limit=hostile_page,
    when=st.one_of(hostile_time, hostile_text, st.builds("{}/{}".format, hostile_time, hostile_time)),
    crs=st.one_of(hostile_text, st.sampled_from([CRS84, epsg(3857), "EPSG:4490", "[EPSG:4326]"])),
)
def test_hostile_item_queries_are_answered_or_refused(ogc_town, as_user, bbox, limit, when, crs):
    query = {"bbox": bbox, "limit": limit, "datetime": when, "bbox-crs": crs, "crs": crs}
    query = {k: v for k, v in query.items() if not any(0xD800 <= ord(c) <= 0xDFFF for c in str(v))}
    response = as_user(ogc_town["leader"]).get(ITEMS.format("problems"), query)
    assert response.status_code in (200, 400), (query, response.content)
    if response.status_code == 200:
        ids = {f["id"] for f in response.json()["features"]}
        assert ids <= set(problems_visible_to(ogc_town["leader"]).values_list("pk", flat=True))


def test_pages_and_messages_in_chinese_by_default(ogc_town, as_user, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client = as_user(ogc_town["leader"])
    page = client.get("/ogc/collections?f=html").content.decode()
    assert "数据集" in page and "单元网格" in page
    refused = client.get(ITEMS.format("problems"), {"limit": "0"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 400 and "limit 须在" in refused.json()["detail"]
