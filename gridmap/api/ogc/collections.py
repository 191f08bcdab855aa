"""The collections of the OGC API: the API's layers, each read through its scoping selector.

A collection is data: its selector (the same ``*_visible_to(user)`` the REST API and the pages
use), the columns and row builder of its features (the REST API's ``FeatureSpec`` where one
exists, so a feature here has the properties it has there), the JSON Schema of each property,
the queryables a CQL2 filter may name (each mapped to an ORM lookup) and its time property.

Facilities are one collection per geometry type (``facilities-point``, ``-line``, ``-polygon``):
desktop GIS and GDAL want one geometry type per layer. The analysis outputs (``gaps-<kind>``,
``hotspots``) are in ``api.ogc.analysis``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gridmap.api.features import BUILDING, FACILITY, GRID, PROBLEM, FeatureSpec, RowContext
from gridmap.facilities.models import Facility, GeomType
from gridmap.facilities.selectors import facilities_visible_to
from gridmap.geography.models import Building
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to, streets_visible_to
from gridmap.problems.models import Status
from gridmap.problems.selectors import problems_visible_to

User = AbstractBaseUser | AnonymousUser

STRING = {"type": "string"}
NSTRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
NINTEGER = {"type": ["integer", "null"]}
NUMBER = {"type": "number"}
NNUMBER = {"type": ["number", "null"]}
BOOLEAN = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}
NDATETIME = {"type": ["string", "null"], "format": "date-time"}
NDATE = {"type": ["string", "null"], "format": "date"}
OBJECT = {"type": "object"}
STRINGS = {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Queryable:
    lookup: str  # the ORM path it filters
    schema: dict[str, Any]


def q(lookup: str, schema: dict[str, Any], **extra: Any) -> Queryable:
    return Queryable(lookup, {**schema, **extra})


@dataclass(frozen=True)
class Collection:
    id: str
    title: Any
    description: Any
    geometry: str  # GeoJSON geometry type of every feature
    selector: Callable[[User], QuerySet]
    spec: FeatureSpec
    properties: dict[str, dict[str, Any]]  # property -> JSON Schema (the features' typed schema)
    queryables: dict[str, Queryable] = field(default_factory=dict)
    ordering: tuple[str, ...] = ("pk",)
    temporal: str | None = None  # the time lookup ``datetime`` filters
    temporal_is_date: bool = False
    id_lookup: str = "pk"  # what a feature id is (and ``/items/{fid}`` looks up)
    id_schema: dict[str, Any] = field(default_factory=lambda: dict(INTEGER))

    def queryset(self, user: User) -> QuerySet:
        return self.selector(user)

    def rows(self, qs: QuerySet, geojson: Any, ctx: RowContext) -> QuerySet:
        """The feature id, the geometry as GeoJSON text and the spec's columns."""
        extra = {name: make(ctx) for name, make in self.spec.annotations}
        return qs.annotate(_gj=geojson, **extra).values_list(self.id_lookup, "_gj", *self.spec.columns)

    def features(self, rows: Sequence[Sequence[Any]], ctx: RowContext) -> list[dict[str, Any]]:
        return self.spec.features(rows, ctx)


def _with_geom_type(geom_type: str) -> Callable[[User], QuerySet[Facility]]:
    def selector(user: User) -> QuerySet[Facility]:
        return facilities_visible_to(user).filter(kind__geom_type=geom_type)

    return selector


def _street(r: Sequence[Any], ctx: RowContext) -> dict[str, Any]:
    return {"name": r[2], "highway": r[3], "length_m": r[4]}


STREET = FeatureSpec(("name", "highway", "length_m"), _street)

GRID_PROPERTIES = {"code": STRING, "name": STRING, "community": STRING, "community_name": STRING,
                   "area_m2": NNUMBER, "leader": NSTRING}  # fmt: skip
BUILDING_PROPERTIES = {"address": STRING, "use": {"type": "string", "enum": list(Building.Use.values)},
                       "floors": NINTEGER, "households": INTEGER, "population": INTEGER, "grid": NSTRING,
                       "community": NSTRING}  # fmt: skip
FACILITY_PROPERTIES = {"kind": STRING, "kind_name": STRING, "name": STRING,
                       "condition": {"type": "string", "enum": list(Facility.Condition.values)},
                       "last_inspected": NDATE, "capacity": NINTEGER, "accessible_spaces": NINTEGER,
                       "grid": NSTRING, "attrs": OBJECT}  # fmt: skip
PROBLEM_PROPERTIES = {"uuid": {"type": "string", "format": "uuid"}, "category": NSTRING, "category_name": NSTRING,
                      "status": {"type": "string", "enum": list(Status.values)}, "description": STRING,
                      "reported_at": DATETIME, "deadline": NDATETIME, "closed_at": NDATETIME, "overdue": BOOLEAN,
                      "grid": NSTRING, "community": NSTRING, "department": NSTRING, "facility": NINTEGER,
                      "rework_count": INTEGER, "extension_count": INTEGER, "reopen_count": INTEGER,
                      "actions": STRINGS}  # fmt: skip
STREET_PROPERTIES = {"name": STRING, "highway": STRING, "length_m": NNUMBER}

GRID_CODE = {"type": "string", "pattern": "^[0-9]{1,15}$"}
AREA_QUERYABLES = {"grid": q("grid__code", GRID_CODE), "community": q("community__code", STRING)}
FACILITY_QUERYABLES = {
    "kind": q("kind__code", STRING),
    "name": q("name", STRING),
    "condition": q("condition", FACILITY_PROPERTIES["condition"]),
    "last_inspected": q("last_inspected", {"type": "string", "format": "date"}),
    "capacity": q("capacity", INTEGER),
    "grid": q("grid__code", GRID_CODE),
    "community": q("grid__community__code", STRING),
}


def _facilities(suffix: str, geom_type: str, geometry: str, title: Any) -> Collection:
    return Collection(
        f"facilities-{suffix}", title, _("Facilities (部件) of the kinds drawn as this geometry type."),
        geometry, _with_geom_type(geom_type), FACILITY, FACILITY_PROPERTIES, FACILITY_QUERYABLES,
        temporal="last_inspected", temporal_is_date=True,
    )  # fmt: skip


LAYERS: tuple[Collection, ...] = (
    Collection(
        "grids",
        _("Unit grids"),
        _("Unit grids (单元网格) with their community and leader."),
        "MultiPolygon",
        grids_visible_to,
        GRID,
        GRID_PROPERTIES,
        {
            "code": q("code", GRID_CODE),
            "name": q("name", STRING),
            "community": q("community__code", STRING),
            "area_m2": q("area_m2", NUMBER),
        },
        ordering=("code",),
    ),  # fmt: skip
    Collection(
        "buildings",
        _("Buildings"),
        _("Building footprints in the grids you may see."),
        "MultiPolygon",
        buildings_visible_to,
        BUILDING,
        BUILDING_PROPERTIES,
        {
            **AREA_QUERYABLES,
            "use": q("use", BUILDING_PROPERTIES["use"]),
            "floors": q("floors", INTEGER),
            "households": q("households", INTEGER),
            "population": q("population", INTEGER),
            "address": q("address", STRING),
        },
    ),  # fmt: skip
    _facilities("point", GeomType.POINT, "Point", _("Facilities: points")),
    _facilities("line", GeomType.LINE, "LineString", _("Facilities: lines")),
    _facilities("polygon", GeomType.POLYGON, "Polygon", _("Facilities: polygons")),
    Collection(
        "problems",
        _("Problems"),
        _("Reported problems (事部件问题) you may see, with their state."),
        "Point",
        problems_visible_to,
        PROBLEM,
        PROBLEM_PROPERTIES,
        {
            **AREA_QUERYABLES,
            "category": q("category__code", STRING),
            "status": q("status", PROBLEM_PROPERTIES["status"]),
            "department": q("department__code", STRING),
            "reported_at": q("reported_at", DATETIME),
            "deadline": q("deadline", DATETIME),
            "closed_at": q("closed_at", DATETIME),
            "rework_count": q("rework_count", INTEGER),
            "reopen_count": q("reopen_count", INTEGER),
        },
        ordering=("-reported_at", "-id"),
        temporal="reported_at",
    ),  # fmt: skip
    Collection(
        "streets",
        _("Streets"),
        _("Street centrelines (the walkable network)."),
        "LineString",
        streets_visible_to,
        STREET,
        STREET_PROPERTIES,
        {"name": q("name", STRING), "highway": q("highway", STRING), "length_m": q("length_m", NUMBER)},
    ),  # fmt: skip
)
