"""Tests of layers.io.osm against an independent read of the same file with pyosmium.

The pyosmium side re-implements the tag rules of layers/io/osm.py (and of pyrosm's "walking"
network filter) from scratch and assembles areas with libosmium, so the two readers share no
code. Where they differ for a known reason the rule is asserted explicitly:

- a way with nodes missing from the extract is rejected as incomplete by layers.io.osm when
  pyrosm could still build it (>= 3 nodes present for an area, >= 2 for a line); pyrosm drops
  it silently otherwise;
- a way that is a member of a relation of the same kind is left to the relation (pyrosm);
- pyrosm assembles a multipolygon relation from the member nodes present even when members
  are cut by the extract edge; libosmium refuses it. Such extra relations must be incomplete.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium
import pyrosm
import pytest
import shapely
from osmium.osm import mutable

from layers.io.osm import KINDS, OsmReadError, OsmResult, read_osm
from layers.io.osm_tags import format_address, parse_accessible_spaces, parse_count

HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"

# ---------------------------------------------------------------- independent pyosmium reader
NOT_WALKABLE = {
    "abandoned",
    "construction",
    "no",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
    "bus_guideway",
    "cycleway",
    "motor",
    "motorway",
    "motorway_link",
}


def _has(value: str | None, values: set[str]) -> bool:
    return value is not None and (value in values or any(p.strip() in values for p in value.split(";")))


def walkable(t: dict[str, str]) -> bool:
    if "highway" not in t or _has(t.get("highway"), NOT_WALKABLE):
        return False
    if _has(t.get("area"), {"yes"}) or _has(t.get("service"), {"private"}):
        return False
    if any(
        _has(t.get(k), {"separate"}) for k in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
    ):
        return False
    for key in ("foot", "access"):  # the most specific access tag decides
        if key in t:
            return not _has(t[key], {"no", "private"})
    return True


# kind -> (tag rule, element types n/w/r, geometry: "point" | "area" | "line")
RULES: dict[str, tuple[Any, str, str]] = {
    "buildings": (lambda t: "building" in t and t["building"] != "no", "wr", "area"),
    "litter_bin": (lambda t: t.get("amenity") == "waste_basket", "nwr", "point"),
    "recycling": (lambda t: t.get("amenity") == "recycling", "nwr", "point"),
    "refuse_point": (lambda t: t.get("amenity") == "waste_disposal", "nwr", "point"),
    "hydrant": (lambda t: t.get("emergency") == "fire_hydrant", "nwr", "point"),
    "toilet": (lambda t: t.get("amenity") == "toilets", "nwr", "point"),
    "car_park": (lambda t: t.get("amenity") == "parking", "wr", "area"),
    "car_park_point": (lambda t: t.get("amenity") == "parking", "n", "point"),
    "tactile_paving": (lambda t: t.get("tactile_paving") == "yes", "w", "line"),
    "curb_ramp": (lambda t: t.get("kerb") in ("lowered", "flush"), "n", "point"),
    "streets": (walkable, "w", "line"),
}


@dataclass
class Expected:
    accepted: set[str] = field(default_factory=set)
    cut_ways: set[str] = field(default_factory=set)  # incomplete ways pyrosm can still build
    cut_relations: set[str] = field(default_factory=set)  # relations with missing members/nodes


def osmium_expected(path: Path) -> dict[str, Expected]:
    nodes: set[int] = set()
    tagged: dict[int, dict[str, str]] = {}
    ways: dict[int, tuple[dict[str, str], list[int]]] = {}
    relations: dict[int, tuple[dict[str, str], list[tuple[str, int]]]] = {}
    for o in osmium.FileProcessor(str(path)):
        if o.is_node():
            nodes.add(o.id)
            if len(o.tags):
                tagged[o.id] = dict(o.tags)
        elif o.is_way():
            ways[o.id] = (dict(o.tags), [n.ref for n in o.nodes])
        elif o.is_relation():
            relations[o.id] = (dict(o.tags), [(m.type, m.ref) for m in o.members])
    assembled = {
        a.orig_id() for a in osmium.FileProcessor(str(path)).with_areas() if a.is_area() and not a.from_way()
    }
    out = {}
    for kind, (rule, types, geom) in RULES.items():
        exp = Expected()
        if "n" in types:
            exp.accepted |= {f"osm:node/{i}" for i, t in tagged.items() if rule(t)}
        kept_relations = {i for i, (t, _) in relations.items() if rule(t)} if "r" in types else set()
        members = {ref for i in kept_relations for typ, ref in relations[i][1] if typ == "w"}
        for i, (t, refs) in ways.items() if "w" in types else ():
            if not rule(t) or i in members:
                continue
            present = [r for r in refs if r in nodes]
            closed = len(refs) >= 4 and refs[0] == refs[-1]
            if len(present) == len(refs) >= 2:
                if geom != "area" or closed:
                    exp.accepted.add(f"osm:way/{i}")
            elif len(present) >= (3 if closed and geom != "line" else 2):
                exp.cut_ways.add(f"osm:way/{i}")
        for i in kept_relations:
            if i in assembled:
                exp.accepted.add(f"osm:relation/{i}")
            elif any(
                typ != "w" or ref not in ways or not set(ways[ref][1]) <= nodes
                for typ, ref in relations[i][1]
            ):
                exp.cut_relations.add(f"osm:relation/{i}")
        out[kind] = exp
    return out


def compare(result: OsmResult, expected: dict[str, Expected]) -> dict[str, int]:
    """Assert every kind matches the pyosmium read under the stated rules; return the counts."""
    counts = {}
    for kind in KINDS:
        exp = expected[kind]
        got = set(result.frames[kind]["source_key"])
        assert len(got) == len(result.frames[kind]), f"{kind}: duplicate source keys"
        rejected = {key: why for key, why in result.rejected if why.startswith(f"{kind}:")}
        cut = {key for key, why in rejected.items() if "incomplete" in why}
        refused = set(rejected) - cut
        extra = got - exp.accepted
        assert cut == exp.cut_ways, kind
        assert extra <= exp.cut_relations, kind
        assert got - extra == exp.accepted - refused, kind
        assert len(got) == len(exp.accepted - refused) + len(extra), kind
        counts[kind] = len(got)
    return counts


# ---------------------------------------------------------------- Helsinki
HELSINKI_COUNTS = {
    "buildings": 446,
    "litter_bin": 36,
    "recycling": 2,
    "refuse_point": 14,
    "hydrant": 37,
    "toilet": 18,
    "car_park": 26,
    "car_park_point": 13,
    "tactile_paving": 0,
    "curb_ramp": 0,
    "streets": 2236,
}


@pytest.fixture(scope="module")
def helsinki() -> tuple[OsmResult, float]:
    start = time.perf_counter()
    result = read_osm(HELSINKI)
    return result, time.perf_counter() - start


def test_helsinki_matches_pyosmium(helsinki: tuple[OsmResult, float]) -> None:
    result, _ = helsinki
    expected = osmium_expected(HELSINKI)
    assert compare(result, expected) == HELSINKI_COUNTS
    extra_relations = set(result.frames["buildings"]["source_key"]) - expected["buildings"].accepted
    assert extra_relations == {"osm:relation/1691380", "osm:relation/6077"}  # members cut by the edge
    cut = sum("incomplete" in why for _, why in result.rejected)
    assert cut == 40 + 4 + 85  # buildings, car parks, streets


def test_helsinki_frames_shape(helsinki: tuple[OsmResult, float]) -> None:
    result, seconds = helsinki
    assert seconds < 5  # about 0.5 s on the build machine
    for kind, frame in result.frames.items():
        assert frame.crs.to_epsg() == 4326
        assert {"source_key", "name", "geometry"} <= set(frame.columns)
        if len(frame):
            minx, miny, maxx, maxy = frame.total_bounds
            assert 24.9 < minx and maxx < 25.0 and 60.1 < miny and maxy < 60.2, kind
    assert set(result.frames["streets"].geom_type) == {"LineString"}
    assert set(result.frames["buildings"].geom_type) <= {"Polygon", "MultiPolygon"}
    buildings = result.frames["buildings"]
    assert buildings["floors"].dropna().between(1, 30).all()
    assert buildings["address"].str.contains(r"\w+ \d", regex=True, na=False).any()


# ---------------------------------------------------------------- a small file written here
SQUARES = {
    1: (120.150, 30.250),
    5: (120.152, 30.250),
    9: (120.154, 30.250),
    13: (120.156, 30.250),
    21: (120.160, 30.250),
    25: (120.162, 30.250),
    60: (120.164, 30.250),
}
SIDE = 0.0005


def _write_pbf(path: Path) -> None:
    writer = osmium.SimpleWriter(str(path))
    meta = {"version": 1, "timestamp": "2024-01-01T00:00:00Z"}

    def node(i: int, lon: float, lat: float, **tags: str) -> None:
        writer.add_node(mutable.Node(id=i, location=(lon, lat), tags=tags, **meta))

    for first, (x, y) in SQUARES.items():
        for k, (dx, dy) in enumerate(((0, 0), (SIDE, 0), (SIDE, SIDE), (0, SIDE))):
            node(first + k, x + dx, y + dy)
    for k, (dx, dy) in enumerate(((0.0002, 0.0002), (0.0003, 0.0002), (0.0003, 0.0003), (0.0002, 0.0003))):
        node(17 + k, SQUARES[13][0] + dx, SQUARES[13][1] + dy)  # inner ring of the relation
    for i in range(30, 38):
        node(i, 120.17 + (i - 30) * 0.001, 30.26)
    tagged: dict[int, dict[str, str]] = {
        40: {"amenity": "parking", "capacity": "50", "capacity:disabled": "2"},
        41: {"amenity": "parking", "capacity:disabled": "yes"},
        42: {"amenity": "parking", "capacity": "12.0", "capacity:disabled": "no"},
        43: {"amenity": "parking", "capacity": "abc", "capacity:disabled": "-3"},
        44: {"kerb": "lowered", "barrier": "kerb", "tactile_paving": "yes"},
        45: {"kerb": "flush"},
        46: {"kerb": "raised"},
        47: {"highway": "crossing", "tactile_paving": "yes"},
        48: {"amenity": "waste_basket", "name": "垃圾桶"},
        49: {"amenity": "recycling"},
        50: {"amenity": "waste_disposal"},
        51: {"emergency": "fire_hydrant"},
        52: {"amenity": "toilets", "name": "公厕"},
        53: {"building": "yes"},
    }
    for i, tags in tagged.items():
        node(i, 120.18 + i * 1e-4, 30.27, **tags)

    def way(i: int, refs: list[int], **tags: str) -> None:
        writer.add_way(mutable.Way(id=i, nodes=refs, tags=tags, **meta))

    way(
        100,
        [1, 2, 3, 4, 1],
        building="residential",
        name="一号楼",
        **{"addr:street": "解放路", "addr:housenumber": "12号", "building:levels": "2.5"},
    )
    way(101, [5, 6, 8, 7, 5], building="yes")  # bow-tie
    way(102, [9, 10, 11, 12, 9], amenity="parking", capacity="100", **{"capacity:disabled": "3"})
    way(103, [21, 22, 23, 24, 21], amenity="toilets")
    way(104, [25, 26, 27, 28, 25], emergency="fire_hydrant")  # closed, but a line for pyrosm
    way(105, [30, 31], highway="footway", tactile_paving="yes")
    way(106, [32, 33], highway="residential", name="解放路")
    way(107, [34, 35], highway="cycleway")
    way(108, [36, 37], highway="footway", foot="no")
    way(109, [9, 10, 11], amenity="parking")  # open
    way(
        110,
        [60, 61, 62, 63, 60],
        building="yes",
        **{"addr:street": "Main St", "addr:housenumber": "5", "building:levels": "6"},
    )
    way(111, [60, 61, 62, 63, 60], building="no")
    way(112, [60, 61, 999, 62, 63, 60], building="yes")  # node 999 is not in the file
    way(113, [31, 32], highway="footway", tactile_paving="no")
    way(200, [13, 14, 15, 16, 13], building="yes")  # the relation's outer: left to the relation
    way(201, [17, 18, 19, 20, 17])
    writer.add_relation(
        mutable.Relation(
            id=300,
            members=[("w", 200, "outer"), ("w", 201, "inner")],
            tags={"type": "multipolygon", "building": "apartments"},
            **meta,
        )
    )
    writer.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, OsmResult]:
    path = tmp_path_factory.mktemp("osm") / "small.osm.pbf"
    _write_pbf(path)
    return path, read_osm(path)


def _rows(result: OsmResult, kind: str) -> dict[str, dict[str, Any]]:
    frame = result.frames[kind]
    return {row["source_key"]: row for row in frame.to_dict("records")}


def test_small_file_matches_pyosmium(small: tuple[Path, OsmResult]) -> None:
    path, result = small
    compare(result, osmium_expected(path))


def test_small_file_kinds(small: tuple[Path, OsmResult]) -> None:
    _, result = small
    keys = {kind: set(frame["source_key"]) for kind, frame in result.frames.items()}
    assert keys["buildings"] == {"osm:way/100", "osm:way/110", "osm:relation/300"}
    assert keys["car_park"] == {"osm:way/102"}
    assert keys["car_park_point"] == {f"osm:node/{i}" for i in (40, 41, 42, 43)}
    assert keys["curb_ramp"] == {"osm:node/44", "osm:node/45"}
    assert keys["tactile_paving"] == {"osm:way/105"}
    assert keys["toilet"] == {"osm:node/52", "osm:way/103"}
    assert keys["hydrant"] == {"osm:node/51", "osm:way/104"}
    assert keys["litter_bin"] == {"osm:node/48"}
    assert keys["recycling"] == {"osm:node/49"} and keys["refuse_point"] == {"osm:node/50"}
    assert keys["streets"] == {"osm:way/105", "osm:way/106", "osm:way/113"}
    rejected = dict(result.rejected)
    assert "not valid" in rejected["osm:way/101"] and "Self-intersection" in rejected["osm:way/101"]
    assert "incomplete" in rejected["osm:way/112"]
    assert rejected["osm:way/109"].startswith("car_park: LineString")


def test_small_file_attributes(small: tuple[Path, OsmResult]) -> None:
    _, result = small
    buildings = _rows(result, "buildings")
    assert buildings["osm:way/100"]["address"] == "解放路12号"
    assert buildings["osm:way/100"]["name"] == "一号楼" and buildings["osm:way/100"]["use"] == "residential"
    assert buildings["osm:way/100"]["floors"] is None
    assert buildings["osm:way/110"]["address"] == "Main St 5" and buildings["osm:way/110"]["floors"] == 6
    hole = buildings["osm:relation/300"]["geometry"]
    assert hole.geom_type == "Polygon" and len(hole.interiors) == 1
    parks = _rows(result, "car_park_point")
    assert {k: (v["capacity"], v["accessible_spaces"]) for k, v in parks.items()} == {
        "osm:node/40": (50, 2),
        "osm:node/41": (None, None),
        "osm:node/42": (12, 0),
        "osm:node/43": (None, None),
    }
    assert _rows(result, "car_park")["osm:way/102"]["accessible_spaces"] == 3
    ramps = _rows(result, "curb_ramp")
    assert (ramps["osm:node/44"]["kerb"], ramps["osm:node/44"]["tactile_paving"]) == ("lowered", True)
    assert (ramps["osm:node/45"]["kerb"], ramps["osm:node/45"]["tactile_paving"]) == ("flush", None)
    assert _rows(result, "streets")["osm:way/106"]["name"] == "解放路"
    assert _rows(result, "litter_bin")["osm:node/48"]["name"] == "垃圾桶"


def test_area_features_become_points_inside(small: tuple[Path, OsmResult]) -> None:
    _, result = small
    for kind, key, first in (("toilet", "osm:way/103", 21), ("hydrant", "osm:way/104", 25)):
        point = _rows(result, kind)[key]["geometry"]
        x, y = SQUARES[first]
        assert point.geom_type == "Point"
        assert shapely.box(x, y, x + SIDE, y + SIDE).contains(point)


def test_kinds_subset_and_unknown(small: tuple[Path, OsmResult]) -> None:
    path, _ = small
    result = read_osm(path, kinds=["hydrant", "car_park_point"])
    assert list(result.frames) == ["hydrant", "car_park_point"]
    assert result.rejected == []  # the open car park way belongs to car_park, not requested
    with pytest.raises(ValueError, match="unknown kinds"):
        read_osm(path, kinds=["bench"])
    with pytest.raises(FileNotFoundError):
        read_osm(path.with_name("missing.osm.pbf"))
    garbage = path.with_name("garbage.osm.pbf")
    garbage.write_bytes(b"not a pbf file at all")
    with pytest.raises(OsmReadError, match="not a readable OSM PBF file"):
        read_osm(garbage)


@pytest.mark.parametrize(
    ("value", "count", "accessible"),
    [
        ("12", 12, 12),
        ("12.0", 12, 12),
        (" 7 ", 7, 7),
        ("yes", None, None),
        ("no", None, 0),
        ("-3", None, None),
        ("2.5", None, None),
        ("1e308", None, None),
        ("nan", None, None),
        ("", None, None),
        (None, None, None),
        (float("nan"), None, None),
    ],
)
def test_parse_counts(value: Any, count: int | None, accessible: int | None) -> None:
    assert parse_count(value) == count
    assert parse_accessible_spaces(value) == accessible


def test_format_address() -> None:
    assert format_address("解放路", "12号") == "解放路12号"
    assert format_address("Mannerheimintie", "5") == "Mannerheimintie 5"
    assert format_address(None, "5") == "5" and format_address(float("nan"), None) is None
