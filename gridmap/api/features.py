"""GeoJSON features built from rows of columns (``values_list``, or the same columns read by
``rowsql`` for the problem list): one query per page, the geometry written as GeoJSON by the
database (``gridmap.core.geojson.geojson_column``: RFC 7946 winding, on SpatiaLite and PostGIS alike) and spliced into the output unparsed, no
model instance or serializer per row.

Each layer is a tuple of columns and a function turning one row into its properties; the row
order is the column order. Problems go further (``ProblemSpec``): one table, codes from the code
books, times and uuid as text from the database (``expressions``). A test holds the problem
features equal to what djangorestframework-gis's GeoFeatureModelSerializer writes for the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from orjson import Fragment

from gridmap.api.codebook import books_many
from gridmap.api.expressions import IsoUTC, UUIDText
from gridmap.api.renderers import iso
from gridmap.core.geojson import PRECISION
from gridmap.core.language import english, local_name
from gridmap.problems.lifecycle import TRANSITIONS
from gridmap.problems.models import OPEN_STATUSES, Problem, Status

fromisoformat = datetime.fromisoformat
GEOJSON = "_geojson"


@dataclass(frozen=True)
class RowContext:
    """What every feature of one response shares: the time it is computed at and the steps the
    requesting user's role may take from each status."""

    now: datetime
    actions: dict[str, list[str]]


@lru_cache(maxsize=16)
def actions_by_status(role: str | None) -> dict[str, list[str]]:
    """The steps a role may take from each status (what ``lifecycle.allowed_actions`` answers for
    one problem, computed once per role instead of once per row)."""
    return {
        status: [a for a, t in TRANSITIONS.items() if status in t.sources and role in t.roles]
        for status in Status.values
    }


def _feature(fid: Any, geojson: str | None, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": Fragment(geojson) if geojson else None,
        "properties": properties,
    }


@dataclass(frozen=True)
class FeatureSpec:
    columns: tuple[str, ...]  # after "id" and the GeoJSON geometry
    build: Callable[[Sequence[Any], RowContext], dict[str, Any]] | None = None  # row -> properties
    annotations: tuple[tuple[str, Callable[[RowContext], Any]], ...] = ()  # computed columns in ``columns``

    def features(self, rows: Iterable[Sequence[Any]], ctx: RowContext) -> list[dict[str, Any]]:
        build = self.build
        assert build is not None
        return [_feature(r[0], r[1], build(r, ctx)) for r in rows]


# -- grids ------------------------------------------------------------------------------------
def _grid(r: Sequence[Any], ctx: RowContext) -> dict[str, Any]:
    return {"code": r[2], "name": r[3], "community": r[4], "community_name": r[5], "area_m2": r[6],
            "leader": r[8] or r[7]}  # fmt: skip


GRID = FeatureSpec(
    (
        "code",
        "name",
        "community__code",
        "community__name",
        "area_m2",
        "first_responsible__username",
        "first_responsible__profile__display_name",
    ),  # fmt: skip
    _grid,
)


# -- buildings --------------------------------------------------------------------------------
def _building(r: Sequence[Any], ctx: RowContext) -> dict[str, Any]:
    return {"address": r[2], "use": r[3], "floors": r[4], "households": r[5], "population": r[6],
            "grid": r[7], "community": r[8]}  # fmt: skip


BUILDING = FeatureSpec(
    ("address", "use", "floors", "households", "population", "grid__code", "community__code"), _building
)


# -- facilities -------------------------------------------------------------------------------
def _facility(r: Sequence[Any], ctx: RowContext) -> dict[str, Any]:
    return {"kind": r[2], "kind_name": local_name(r[3], r[11]), "name": r[4], "condition": r[5], "last_inspected": r[6],
            "capacity": r[7], "accessible_spaces": r[8], "grid": r[9], "attrs": r[10]}  # fmt: skip


FACILITY = FeatureSpec(
    (
        "kind__code",
        "kind__name",
        "name",
        "condition",
        "last_inspected",
        "capacity",
        "accessible_spaces",
        "grid__code",
        "attrs",
        "kind__name_en",
    ),  # fmt: skip
    _facility,
)


# -- positive-list sites ---------------------------------------------------------------------
def _site(r: Sequence[Any], ctx: RowContext) -> dict[str, Any]:
    return {"name": r[2], "description": r[3], "grid": r[4], "community": r[5], "created_at": r[6],
            "created_by": r[8] or r[7], "photo_url": site_photo_url(r[0]) if r[9] else None}  # fmt: skip


def site_photo_url(site_id: int) -> str:
    """The scoped API URL of a positive-list site's photo (media URLs are not served scoped)."""
    return f"{_api_root()}positive-sites/{site_id}/photo/"


def problem_photo_url(problem_id: int, photo_id: int) -> str:
    """The scoped API URL of one problem photo."""
    return f"{_api_root()}problems/{problem_id}/photos/{photo_id}/"


@lru_cache(maxsize=1)
def _api_root() -> str:
    from django.urls import reverse

    return reverse("api:grids").removesuffix("grids/")


SITE = FeatureSpec(
    (
        "name",
        "description",
        "grid__code",
        "community__code",
        "created_at",
        "created_by__username",
        "created_by__profile__display_name",
        "photo",
    ),  # fmt: skip
    _site,
)


# -- problems ---------------------------------------------------------------------------------
_OPEN = frozenset(OPEN_STATUSES)
_NO_CODE = (None, None, None)


class ProblemSpec(FeatureSpec):
    """Problems read one table: the codes of their category, grid, community and department come
    from the code books (``codebook``), not from joins; times and the uuid arrive as text.
    ``overdue`` is decided here (only open rows with a deadline parse it)."""

    def features(self, rows: Iterable[Sequence[Any]], ctx: RowContext) -> list[dict[str, Any]]:
        rows = rows if isinstance(rows, list) else list(rows)
        books = books_many({
            "category": {r[3] for r in rows}, "grid": {r[9] for r in rows},
            "community": {r[10] for r in rows}, "department": {r[11] for r in rows},
        })  # fmt: skip
        categories, grids, communities = books["category"], books["grid"], books["community"]
        departments = books["department"]
        actions, now, no_actions = ctx.actions, ctx.now, []
        en = english()  # names in the request's language (the English name where there is one)
        out = []
        for (pid, geojson, uuid, category_id, status, description, reported_at, deadline, closed_at, grid_id,
             community_id, department_id, facility_id, rework, extension, reopen) in rows:  # fmt: skip
            category = categories.get(category_id, _NO_CODE)
            properties = {
                "uuid": uuid,
                "category": category[0],
                "category_name": (category[2] or category[1]) if en else category[1],
                "status": status,
                "description": description,
                "reported_at": reported_at,
                "deadline": deadline,
                "closed_at": closed_at,
                "overdue": status in _OPEN and deadline is not None and fromisoformat(deadline) < now,
                "grid": grids.get(grid_id),
                "community": communities.get(community_id),
                "department": departments.get(department_id),
                "facility": facility_id,
                "rework_count": rework,
                "extension_count": extension,
                "reopen_count": reopen,
                "actions": actions.get(status, no_actions),
            }
            geometry = Fragment(geojson) if geojson else None
            out.append({"type": "Feature", "id": pid, "geometry": geometry, "properties": properties})
        return out


PROBLEM = ProblemSpec(
    ("_uuid", "category_id", "status", "description", "_reported_at", "_deadline", "_closed_at", "grid_id", "community_id", "department_id", "facility_id", "rework_count", "extension_count",
     "reopen_count"),
    annotations=(
        ("_uuid", lambda ctx: UUIDText("uuid")),
        ("_reported_at", lambda ctx: IsoUTC("reported_at")),
        ("_deadline", lambda ctx: IsoUTC("deadline")),
        ("_closed_at", lambda ctx: IsoUTC("closed_at")),
    ),
)  # fmt: skip


def problem_feature(problem: Problem, ctx: RowContext) -> dict[str, Any]:
    """The feature of one problem already in memory (the intake answer), the same as a listed one;
    reads no relation, so no query is made beyond the code books'."""
    row = (problem.pk, None, str(problem.uuid), problem.category_id, problem.status, problem.description,
           iso(problem.reported_at), iso(problem.deadline), iso(problem.closed_at), problem.grid_id,
           problem.community_id, problem.department_id, problem.facility_id, problem.rework_count,
           problem.extension_count, problem.reopen_count)  # fmt: skip
    (feature,) = PROBLEM.features([row], ctx)
    x, y = problem.geom.coords
    feature["geometry"] = {"type": "Point", "coordinates": [round(x, PRECISION), round(y, PRECISION)]}
    return feature
