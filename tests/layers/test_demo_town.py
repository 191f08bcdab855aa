"""Checks on the committed SYNTHETIC demo town fixture (fixtures/demo_town/), without Django.

Metric checks run in CGCS2000 / 3-degree Gauss-Krüger CM 120E (EPSG:4549), from the published
lon/lat coordinates, as any consumer of the files would compute them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_town"
SCRIPT = ROOT / "fixtures" / "make_demo_town.py"
LAYERS = ["regions", "streets", "grids", "buildings", "facilities", "problems"]
FILES = [f"{name}.geojson" for name in LAYERS] + ["users.json", "planted.json", "README.md"]
POINT_KINDS = {
    "hydrant",
    "extinguisher",
    "curb_ramp",
    "litter_bin",
    "refuse_point",
    "recycling",
    "bicycle_parking",
    "toilet",
    "street_light",
    "notice_board",
}
LINE_KINDS = {"tactile_paving", "fire_lane"}
CATEGORY_KIND = {
    "0102": "litter_bin",
    "0104": "litter_bin",
    "0303": "tactile_paving",
    "0304": "fire_lane",
    "0305": "curb_ramp",
    "0602": "hydrant",
    "0603": "extinguisher",
}
CATEGORIES = [
    "0101",
    "0102",
    "0103",
    "0104",
    "0201",
    "0202",
    "0301",
    "0302",
    "0303",
    "0304",
    "0305",
    "0401",
    "0501",
    "0601",
    "0602",
    "0603",
]
HALF_WIDTH = {
    "primary": 12.0,
    "secondary": 9.0,
    "tertiary": 7.0,
    "residential": 5.0,
    "pedestrian": 6.0,
    "footway": 2.0,
}
END = dt.datetime(2026, 11, 15, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
_TO_METRIC = Transformer.from_crs(4326, 4549, always_xy=True)


def metric(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))


@functools.cache
def features(layer: str) -> list[dict[str, Any]]:
    return json.loads((DEMO / f"{layer}.geojson").read_text(encoding="utf-8"))["features"]


@functools.cache
def geoms(layer: str) -> list[BaseGeometry]:
    """Published geometries of a layer, in EPSG:4549 metres."""
    return [metric(shape(f["geometry"])) for f in features(layer)]


@functools.cache
def planted() -> dict[str, Any]:
    return json.loads((DEMO / "planted.json").read_text(encoding="utf-8"))


@functools.cache
def users() -> list[dict[str, Any]]:
    return json.loads((DEMO / "users.json").read_text(encoding="utf-8"))


def region(level: str, code: str | None = None) -> BaseGeometry:
    for f, g in zip(features("regions"), geoms("regions"), strict=True):
        if f["properties"]["level"] == level and code in (None, f["properties"]["code"]):
            return g
    raise KeyError((level, code))


def communities() -> dict[str, BaseGeometry]:
    return {
        f["properties"]["code"]: g
        for f, g in zip(features("regions"), geoms("regions"), strict=True)
        if f["properties"]["level"] == "community"
    }


def of_kind(kind: str) -> list[tuple[dict[str, Any], BaseGeometry]]:
    return [
        (f["properties"], g)
        for f, g in zip(features("facilities"), geoms("facilities"), strict=True)
        if f["properties"]["kind"] == kind
    ]


def nearest_distances(targets: list[BaseGeometry], sources: list[BaseGeometry]) -> np.ndarray:
    tree = shapely.STRtree(sources)
    idx = tree.nearest(targets)
    return shapely.distance(np.array(targets, dtype=object), np.array(sources, dtype=object)[idx])


# ---------------------------------------------------------------- files and format


def test_files_present_and_small() -> None:
    for name in FILES:
        assert (DEMO / name).is_file(), name
    total = sum(p.stat().st_size for p in DEMO.iterdir() if p.is_file())
    assert total < 10_000_000


def test_readme_says_synthetic() -> None:
    text = (DEMO / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text and "make_demo_town.py" in text
    for gap in ("Hydrants", "Litter bins", "Accessible parking", "Tactile paving", "Refuse collection"):
        assert gap in text


@pytest.mark.parametrize("layer", LAYERS)
def test_geojson_is_rfc7946(layer: str) -> None:
    text = (DEMO / f"{layer}.geojson").read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert not re.search(r"\d\.\d{8,}", text), "coordinates must be rounded to 7 decimals"
    assert "\\u" not in text, "UTF-8 text, not ASCII escapes"
    for f in doc["features"]:
        g = shape(f["geometry"])
        assert g.is_valid and not g.is_empty, f["properties"]
        minx, miny, maxx, maxy = g.bounds
        assert 120.5 < minx and maxx < 121.1 and 31.4 < miny and maxy < 31.9
        for poly in getattr(g, "geoms", [g]) if g.geom_type.endswith("Polygon") else []:
            assert poly.exterior.is_ccw and all(not ring.is_ccw for ring in poly.interiors)


# ---------------------------------------------------------------- regions and grids


def test_regions() -> None:
    props = [f["properties"] for f in features("regions")]
    levels = Counter(p["level"] for p in props)
    assert levels == {"district": 1, "subdistrict": 1, "community": 4}
    by_level = {p["level"]: p for p in props}
    assert (by_level["district"]["code"], by_level["district"]["name"]) == ("320581", "常熟市")
    assert by_level["subdistrict"] == {
        "level": "subdistrict",
        "code": "320581107",
        "name": "古里镇",
        "parent_code": "320581",
    }
    for p in props:
        if p["level"] == "community":
            assert (
                re.fullmatch(r"320581107\d{3}", p["code"]) and p["parent_code"] == "320581107" and p["name"]
            )
    town = region("subdistrict")
    assert region("district").contains(town)
    comms = list(communities().values())
    assert sum(c.area for c in comms) == pytest.approx(shapely.unary_union(comms).area, rel=1e-6)
    for c in comms:
        assert c.difference(town).area < 1.0


def test_communities_plus_unassigned_area_tile_the_town() -> None:
    town, comms = region("subdistrict"), shapely.unary_union(list(communities().values()))
    rest = town.difference(comms)
    assert rest.area == pytest.approx(planted()["unassigned_area"]["area_m2"], rel=1e-3)
    assert rest.area > 50_000


def test_grid_codes_names_and_people() -> None:
    grids = [f["properties"] for f in features("grids")]
    assert len(grids) >= 30
    usernames = {u["username"]: u for u in users()}
    by_comm: dict[str, list[str]] = {}
    for g in grids:
        assert re.fullmatch(r"\d{15}", g["code"]) and g["code"][:12] == g["community_code"]
        assert g["name"]
        by_comm.setdefault(g["community_code"], []).append(g["code"][12:])
        assert usernames[g["leader"]]["role"] == "grid_leader"
        assert usernames[g["leader"]]["community_code"] == g["community_code"]
        for name in filter(None, g["direct"].split(",")):
            assert name in usernames
    assert set(by_comm) == set(communities())
    for seqs in by_comm.values():
        assert sorted(seqs) == [f"{i:03d}" for i in range(1, len(seqs) + 1)]


def test_grid_sequence_runs_west_east_north_south() -> None:
    comms = communities()
    for code, comm in comms.items():
        mine = [
            (f["properties"]["code"], g)
            for f, g in zip(features("grids"), geoms("grids"), strict=True)
            if f["properties"]["community_code"] == code
        ]
        top = comm.bounds[3]

        def key(item: tuple[str, BaseGeometry], top: float = top) -> tuple[int, float]:
            rep = item[1].representative_point()
            return int((top - rep.y) // 100.0), rep.x

        assert [c for c, _ in sorted(mine, key=key)] == sorted(c for c, _ in mine)


def test_grids_tile_their_community() -> None:
    """Union equals the community within 0.1 %, no overlaps; 坞坵社区 minus the planted ungridded estate."""
    ungridded = planted()["ungridded_area"]
    grids = list(zip(features("grids"), geoms("grids"), strict=True))
    for code, comm in communities().items():
        mine = [g for f, g in grids if f["properties"]["community_code"] == code]
        union = shapely.unary_union(mine)
        assert union.difference(comm).area < 1.0
        expected = comm.area - (ungridded["area_m2"] if code == ungridded["community_code"] else 0.0)
        assert union.area == pytest.approx(expected, rel=1e-3)
        assert sum(g.area for g in mine) == pytest.approx(union.area, abs=1.0), "grids overlap"
    areas = np.array([g.area for _, g in grids])
    assert areas.min() > 5000 and 8000 < np.median(areas) < 25000


def test_ungridded_estate_is_one_gap() -> None:
    code = planted()["ungridded_area"]["community_code"]
    comm = communities()[code]
    union = shapely.unary_union(
        [
            g
            for f, g in zip(features("grids"), geoms("grids"), strict=True)
            if f["properties"]["community_code"] == code
        ]
    )
    gap = comm.difference(union)
    parts = [p for p in getattr(gap, "geoms", [gap]) if p.area > 1.0]
    assert len(parts) == 1
    rep = metric(Point(planted()["ungridded_area"]["representative_point"]))
    assert parts[0].contains(rep)


# ---------------------------------------------------------------- streets and buildings


def test_streets_are_noded_and_classified() -> None:
    props = [f["properties"] for f in features("streets")]
    lines = geoms("streets")
    assert [p["id"] for p in props] == [f"st-{i:04d}" for i in range(1, len(props) + 1)]
    cls = {
        "primary": "main",
        "secondary": "main",
        "tertiary": "branch",
        "residential": "branch",
        "pedestrian": "commercial",
        "footway": "branch",
    }
    for p in props:
        assert p["name"] and cls[p["highway"]] == p["class"]
    assert {p["highway"] for p in props} == set(cls)
    assert {p["name"] for p in props if p["class"] == "commercial"} == {"新街"}
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        ends = {lines[i].coords[0], lines[i].coords[-1]} & {lines[j].coords[0], lines[j].coords[-1]}
        inter = lines[i].intersection(lines[j])
        assert inter.geom_type in ("Point", "MultiPoint"), (props[i]["id"], props[j]["id"])
        for pt in getattr(inter, "geoms", [inter]):
            assert any(pt.distance(Point(e)) < 1e-3 for e in ends), (props[i]["id"], props[j]["id"])


def test_buildings() -> None:
    props = [f["properties"] for f in features("buildings")]
    polys = geoms("buildings")
    assert len(props) >= 1500
    assert [p["id"] for p in props] == [f"bd-{i:05d}" for i in range(1, len(props) + 1)]
    assert len({p["address"] for p in props}) == len(props)
    for p in props:
        assert re.fullmatch(r"\D+[1-9]\d*号", p["address"]), p
        assert p["use"] in {"residential", "commercial", "public", "industrial"} and 1 <= p["floors"] <= 18
        if p["use"] == "residential":
            assert p["households"] >= 1 and p["population"] >= p["households"]
        else:
            assert p["households"] == 0
    for poly in polys:
        c = np.array(poly.exterior.coords)[:4]
        edges = np.roll(c, -1, axis=0) - c
        cos = [
            abs(np.dot(edges[k], edges[(k + 1) % 4]))
            / np.linalg.norm(edges[k])
            / np.linalg.norm(edges[(k + 1) % 4])
            for k in range(4)
        ]
        assert len(poly.exterior.coords) == 5 and max(cos) < 0.01, "footprints are rectangles"
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="dwithin", distance=1.9)
    assert all(i == j for i, j in zip(left, right, strict=True)), "footprints keep 2 m apart"
    town = region("subdistrict")
    assert all(town.contains(p) for p in polys)


def test_buildings_stay_off_the_streets() -> None:
    streets = [
        (f["properties"]["highway"], g) for f, g in zip(features("streets"), geoms("streets"), strict=True)
    ]
    buildings = geoms("buildings")
    tree = shapely.STRtree(buildings)
    for highway, line in streets:
        near = tree.query(line, predicate="dwithin", distance=HALF_WIDTH[highway] + 1.9)
        assert len(near) == 0, highway


# ---------------------------------------------------------------- facilities and planted gaps


def test_facilities_schema() -> None:
    props = [f["properties"] for f in features("facilities")]
    assert [p["id"] for p in props] == [f"fc-{i:05d}" for i in range(1, len(props) + 1)]
    kinds = Counter(p["kind"] for p in props)
    assert set(kinds) == POINT_KINDS | LINE_KINDS | {"car_park"}
    for p, g in zip(props, geoms("facilities"), strict=True):
        expected = (
            "Point" if p["kind"] in POINT_KINDS else "LineString" if p["kind"] in LINE_KINDS else "Polygon"
        )
        assert g.geom_type == expected, p
        assert p["condition"] in {"good", "damaged", "broken", "blocked", "missing"} and p["name"]
        dt.date.fromisoformat(p["last_inspected"])
        assert (p["accessible_spaces"] is None) == (p["kind"] != "car_park")
        assert (p["capacity"] is None) == (p["kind"] not in ("car_park", "bicycle_parking"))
    assert Counter(p["condition"] for p in props)["good"] > 0.8 * len(props)


def test_hydrant_gap() -> None:
    """Some buildings are > 150 m from every hydrant, all inside the planted circle."""
    gap = planted()["hydrant_gap"]
    hydrants = [g for _, g in of_kind("hydrant")]
    far = {
        f["properties"]["id"]: g
        for f, g, d in zip(
            features("buildings"),
            geoms("buildings"),
            nearest_distances(geoms("buildings"), hydrants),
            strict=True,
        )
        if d > 150
    }
    assert far and sorted(far) == gap["buildings_over_150m"]
    centre = metric(Point(gap["centre"]))
    assert all(g.centroid.distance(centre) < gap["radius_m"] for g in far.values())
    assert min(h.distance(centre) for h in hydrants) > gap["radius_m"] - 1


def test_litter_bin_gaps() -> None:
    """Main/commercial segments of >= 200 m without a bin within 20 m are exactly the planted ones."""
    bins = [g for _, g in of_kind("litter_bin")]
    bare = [
        f["properties"]["id"]
        for f, g in zip(features("streets"), geoms("streets"), strict=True)
        if f["properties"]["class"] in ("main", "commercial")
        and g.length >= 200
        and min(g.distance(b) for b in bins) > 20
    ]
    assert len(bare) >= 2
    assert sorted(bare) == sorted(s["street_id"] for s in planted()["litter_bin_gaps"])


def test_car_park_without_accessible_spaces() -> None:
    parks = of_kind("car_park")
    bad = [p for p, _ in parks if p["accessible_spaces"] == 0 and p["capacity"] >= 50]
    assert [p["id"] for p in bad] == [planted()["car_park_without_accessible_spaces"]["id"]]
    for p, _ in parks:
        if p is not bad[0]:
            need = max(2 if p["capacity"] >= 50 else 1, -(-p["capacity"] * 2 // 100))
            assert p["accessible_spaces"] >= need, p


def test_tactile_paving_break_and_broken_segment() -> None:
    lines = of_kind("tactile_paving")
    broken = [p["id"] for p, _ in lines if p["condition"] == "broken"]
    assert broken == [planted()["tactile_broken"]["id"]]
    brk = planted()["tactile_break"]
    pieces = {p["id"]: g for p, g in lines if p["id"] in brk["piece_ids"]}
    a, b = (pieces[i] for i in brk["piece_ids"])
    assert 25 <= a.distance(b) <= 35
    mid = metric(Point(brk["midpoint"]))
    assert min(g.distance(mid) for _, g in lines) > 10, "nothing covers the missing stretch"
    street = min(
        (
            g
            for f, g in zip(features("streets"), geoms("streets"), strict=True)
            if f["properties"]["name"] == "古里路"
        ),
        key=lambda g: g.distance(mid),
    )
    assert street.distance(a) == pytest.approx(street.distance(b), abs=1.0) and street.distance(mid) < 15


def test_refuse_point_gap() -> None:
    gap = planted()["refuse_gap"]
    points = [g for _, g in of_kind("refuse_point")]
    homes = [
        (f["properties"]["id"], g)
        for f, g in zip(features("buildings"), geoms("buildings"), strict=True)
        if f["properties"]["use"] == "residential"
    ]
    dist = nearest_distances([g for _, g in homes], points)
    far = [(bid, g) for (bid, g), d in zip(homes, dist, strict=True) if d > 70]
    assert far and sorted(bid for bid, _ in far) == gap["houses_over_70m"]
    centre = metric(Point(gap["centre"]))
    assert all(g.centroid.distance(centre) < gap["radius_m"] for _, g in far)
    assert sum(1 for p in points if p.distance(centre) < gap["radius_m"]) == 1


# ---------------------------------------------------------------- problems


def test_problem_attributes() -> None:
    props = [f["properties"] for f in features("problems")]
    assert len(props) >= 3000
    assert [p["id"] for p in props] == [f"pb-{i:06d}" for i in range(1, len(props) + 1)]
    names = {u["username"] for u in users()}
    times = []
    for p in props:
        assert p["category"] in CATEGORIES and p["description"] and p["reporter"] in names
        assert p["status"] in {"reported", "filed", "dispatched", "handled", "closed", "rejected"}
        assert p["reported_at"].endswith("+08:00")
        times.append(dt.datetime.fromisoformat(p["reported_at"]))
    assert times == sorted(times) and times[-1] <= END and times[0] >= END - dt.timedelta(days=185)
    old = [p["status"] for p, t in zip(props, times, strict=True) if (END - t).days > 60]
    new = [p["status"] for p, t in zip(props, times, strict=True) if (END - t).days < 7]
    assert Counter(old)["closed"] > 0.7 * len(old)
    assert Counter(new)["closed"] + Counter(new)["rejected"] < 0.2 * len(new)


def test_problems_lie_in_the_town() -> None:
    town = region("subdistrict")
    assert all(town.covers(p) for p in geoms("problems"))


def test_assignment_edge_cases() -> None:
    """Outside every grid but inside a community; outside every community; exactly on grid edges."""
    grids = [shape(f["geometry"]) for f in features("grids")]
    comms = [shape(f["geometry"]) for f in features("regions") if f["properties"]["level"] == "community"]
    no_grid, no_comm, on_edge = [], [], []
    for f in features("problems"):
        pt = shape(f["geometry"])
        if any(g.contains(pt) for g in grids):
            continue
        touching = [g for g in grids if g.intersects(pt)]
        if len(touching) >= 2:
            on_edge.append(f["properties"]["id"])
        elif any(c.contains(pt) for c in comms):
            no_grid.append(f["properties"]["id"])
        elif not any(c.intersects(pt) for c in comms):
            no_comm.append(f["properties"]["id"])
    p = planted()
    assert 5 <= len(no_grid) <= 20 and sorted(no_grid) == p["ungridded_area"]["problem_ids"]
    assert 5 <= len(no_comm) <= 20 and sorted(no_comm) == p["unassigned_area"]["problem_ids"]
    assert len(on_edge) >= 3 and sorted(on_edge) == sorted(e["id"] for e in p["grid_edge_problems"])


def test_facility_problems_are_near_their_facilities() -> None:
    pts = list(zip(features("problems"), geoms("problems"), strict=True))
    for code, kind in CATEGORY_KIND.items():
        mine = [g for f, g in pts if f["properties"]["category"] == code]
        dist = nearest_distances(mine, [g for _, g in of_kind(kind)])
        assert np.mean(dist <= 20) >= 0.8, (code, kind, np.mean(dist <= 20))


def test_hotspots_are_dense() -> None:
    town_area = region("subdistrict").area
    props = [f["properties"] for f in features("problems")]
    times = [dt.datetime.fromisoformat(p["reported_at"]) for p in props]
    pts = geoms("problems")
    for spot in planted()["hotspots"]:
        reg = metric(shape(spot["region"]))
        since = dt.datetime.fromisoformat(spot["since"] + "T00:00:00+08:00")
        recent = [p for p, t in zip(pts, times, strict=True) if t >= since]
        inside = sum(1 for p in recent if reg.contains(p))
        ratio = inside / reg.area / (len(recent) / town_area)
        assert ratio >= 5, (spot["name"], ratio)
        before = sum(1 for p, t in zip(pts, times, strict=True) if t < since and reg.contains(p))
        assert before == spot["problems_inside_before"]
    emerging = [s for s in planted()["hotspots"] if s["since"] > "2026-10-01"]
    assert emerging and all(s["problems_inside_before"] == 0 and s["planted"] >= 50 for s in emerging)


# ---------------------------------------------------------------- users


def test_users() -> None:
    us = users()
    names = [u["username"] for u in us]
    assert len(names) == len(set(names))
    roles = Counter(u["role"] for u in us)
    for role in ("admin", "planner", "community_head", "grid_leader", "department", "inspector", "reporter"):
        assert roles[role] >= 1, role
    assert {"demo_admin", "demo_planner", "dept_cg", "dept_fire", "inspector_1", "inspector_2"} <= set(names)
    assert {f"reporter_{i}" for i in range(1, 6)} <= set(names)
    heads = {u["community_code"] for u in us if u["role"] == "community_head"}
    assert heads == set(communities())
    base = {"username", "display_name", "role", "community_code", "department", "categories"}
    for u in us:
        extra = (
            {"patrol_communities"}
            if u["role"] == "inspector"
            else {"signs_for"}
            if "signs_for" in u
            else set()
        )
        assert set(u) == base | extra
        assert re.search(r"[\u4e00-\u9fff]", u["display_name"])
    patrols = [c for u in us if u["role"] == "inspector" for c in u["patrol_communities"]]
    assert sorted(patrols) == sorted(communities())  # every community has exactly one inspector
    dept = {u["username"]: u for u in us if u["role"] == "department"}
    assert dept["dept_fire"]["categories"] == ["0304", "0602", "0603"]
    cg = set(dept["dept_cg"]["categories"])
    assert cg == {c for c in CATEGORIES if c[:2] in ("01", "02", "03")} - {"0304"}


# ---------------------------------------------------------------- determinism


def test_regenerating_gives_identical_bytes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True, timeout=300
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name
