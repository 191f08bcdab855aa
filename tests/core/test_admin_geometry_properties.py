"""Property tests: hostile geometry text against the admin's geometry field and its add view.

Generated: GeoJSON with huge, NaN, infinite, boolean, textual or bignum coordinates, wrong
nesting or types, ``crs`` members; WKT/EWKT of the same; self-intersecting rings; empty
geometries; deep nesting; arbitrary text. Property: no 5xx (the field raises only
ValidationError), nothing stored on refusal, anything stored is valid lon/lat, and the process
lives (GEOS aborting would take pytest down). Outcomes are tallied; run with ``-s`` to see them.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core.geofields import CheckedGeometryField
from gridmap.core.widgets import OfflineMapWidget
from gridmap.geography.models import Community, Subdistrict
from tests.factories import LAT0, LON0, region_tree

pytestmark = pytest.mark.django_db

TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
         "GeometryCollection", "Feature", "Circle", "", None, 5]  # fmt: skip
DEPTH = {"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4}

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e300, 2e7, 200.0, -91.0, 0.0, LON0, LAT0, 13455000.0, 3710000.0]),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(min_value=LON0 - 0.01, max_value=LON0 + 0.01),
    st.just(True),
    st.just(None),
    st.text(max_size=5),
)
positions = st.lists(numbers, min_size=0, max_size=4)


def nest(depth: int):
    if depth <= 1:
        return positions
    return st.lists(nest(depth - 1), min_size=0, max_size=5)


@st.composite
def geojson_objects(draw):
    gtype = draw(st.sampled_from(TYPES))
    depth = draw(st.integers(0, 7)) if draw(st.booleans()) else DEPTH.get(gtype, 2)
    obj = {"type": gtype, "coordinates": draw(nest(depth)) if depth else draw(numbers)}
    if draw(st.integers(0, 4)) == 0:
        obj["crs"] = draw(st.sampled_from([
            {"type": "name", "properties": {"name": "EPSG:4326"}},
            {"type": "link", "properties": {"href": "http://127.0.0.1:9/crs", "type": "proj4"}},
        ]))  # fmt: skip
    return obj


@st.composite
def bowties(draw):
    x0 = draw(st.floats(LON0 - 0.01, LON0 + 0.01))
    y0 = draw(st.floats(LAT0 - 0.01, LAT0 + 0.01))
    d = draw(st.floats(1e-6, 0.01))
    ring = [[x0, y0], [x0 + d, y0 + d], [x0 + d, y0], [x0, y0 + d], [x0, y0]]
    if draw(st.booleans()):
        return "SRID=4326;POLYGON((" + ",".join(f"{x!r} {y!r}" for x, y in ring) + "))"
    return json.dumps({"type": "MultiPolygon", "coordinates": [[[mercator(x, y) for x, y in ring]]]})


@st.composite
def shapes(draw):
    """A well-formed point, line or box near the town (lon/lat EWKT or the map's GeoJSON), with one
    coordinate replaced by a hostile number half of the time."""
    x0 = draw(st.floats(LON0 - 0.01, LON0 + 0.01))
    y0 = draw(st.floats(LAT0 - 0.01, LAT0 + 0.01))
    d = draw(st.floats(1e-5, 0.01))
    gtype = draw(st.sampled_from(["Point", "LineString", "Polygon", "MultiPolygon"]))
    ring = [[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]
    lonlat = draw(st.booleans())
    pos = [list(p) if lonlat else mercator(*p) for p in ring]
    if draw(st.booleans()):
        pos[draw(st.integers(0, 3))][draw(st.integers(0, 1))] = draw(numbers)
    coords = {"Point": pos[0], "LineString": pos[:2], "Polygon": [pos], "MultiPolygon": [[pos]]}[gtype]
    if lonlat:
        return wkt_from({"type": gtype, "coordinates": coords}, srid=4326)
    return json.dumps({"type": gtype, "coordinates": coords}, allow_nan=True)


def mercator(lon: float, lat: float) -> list[float]:
    r = 6378137.0
    return [math.radians(lon) * r, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * r]


def wkt_from(obj: dict, srid: int | None = None) -> str:
    def body(c):
        if isinstance(c, list) and c and not isinstance(c[0], list):
            return " ".join(repr(v) if not isinstance(v, str) else (v or "x") for v in c)
        if isinstance(c, list):
            return "(" + ", ".join(body(p) for p in c) + ")"
        return repr(c)

    odd = isinstance(obj["coordinates"], list) and len(obj["coordinates"]) % 2
    prefix = f"SRID={srid};" if srid else "SRID=4326;" if odd else ""
    return f"{prefix}{str(obj['type']).upper()} {body(obj['coordinates'])}"


texts = st.one_of(
    shapes(),
    geojson_objects().map(lambda o: json.dumps(o, allow_nan=True)),
    geojson_objects().map(wkt_from),
    bowties(),
    st.sampled_from(
        [
            "MULTIPOLYGON EMPTY",
            "POINT EMPTY",
            '{"type":"MultiPolygon","coordinates":[]}',
            "[" * 5000 + "]" * 5000,
            '{"a":' * 3000,
            "POINT(" + "(" * 3000,
            "SRID=900913;POINT(1 2)",
            "0101000020E6100000000000000000F03F000000000000F03F",
            "{",
            "null",
            "1e308",
        ]
    ),  # fmt: skip
    st.text(max_size=60),
)


def assert_sane(geom) -> None:
    assert geom.srid == 4326 and geom.valid and not geom.empty
    x0, y0, x1, y1 = geom.extent
    assert -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90


FIELD_OUTCOMES: Counter = Counter()
VIEW_OUTCOMES: Counter = Counter()


@pytest.mark.parametrize("geom_type", ["MULTIPOLYGON", "POINT", "LINESTRING", "GEOMETRY"])
@given(text=texts)
def test_checked_field_gives_a_sane_geometry_or_a_validation_error(geom_type, text):
    field = CheckedGeometryField(geom_type=geom_type, srid=4326, widget=OfflineMapWidget())
    try:
        geom = field.clean(text)
    except ValidationError as exc:
        FIELD_OUTCOMES[f"{geom_type} refused: {exc.code or exc.error_list[0].code}"] += 1
        return
    FIELD_OUTCOMES[f"{geom_type} accepted"] += 1
    assert_sane(geom)


@given(text=texts)
def test_admin_add_view_never_fails_and_stores_nothing_on_refusal(client, text):
    user = get_user_model().objects.filter(
        username="root"
    ).first() or get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")
    client.force_login(user)
    if not Subdistrict.objects.exists():
        region_tree()
    Community.objects.filter(code="320581107099").delete()
    before = Community.objects.count()
    sub = Subdistrict.objects.get()
    response = client.post(
        reverse("admin:geography_community_add"),
        {"code": "320581107099", "name": "新社区", "subdistrict": str(sub.pk), "geom": text},
    )
    VIEW_OUTCOMES[response.status_code] += 1
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert response.context["adminform"].form.errors
        assert Community.objects.count() == before
    else:
        stored = Community.objects.get(code="320581107099").geom  # a boundary is optional
        assert stored is None if not text.strip() else assert_sane(stored) is None


def teardown_module(module):
    print("\nadmin geometry field outcomes:", dict(sorted(FIELD_OUTCOMES.items())))
    print("admin add view status codes:", dict(sorted(VIEW_OUTCOMES.items())))
