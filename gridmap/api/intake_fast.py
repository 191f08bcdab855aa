"""The intake's fast path: a JSON report with a token, on PostGIS, in one statement and without
DRF's request machinery.

``POST /api/v1/problems/`` is the service's hot write (a town's reporters and the offline queues
of phones replaying). Through the DRF view a report costs about 1.9 ms of Python: DRF's request,
negotiation and parsing, the token's three objects, two round trips. Here the plain case goes
straight: the body checked as the view checks it, the grid and community located in memory
(``geography.locator``), then one statement (``intake_sql.insert_decided``) that finds the
token's user and role (``auth.identity_query``), decides the facility and recurrence links and
the duplicates in PostGIS as ``services`` decides them in Python, and writes the problem, its
event and the recurrence count; the answer is the problem's feature, as the view writes it.

Only that case: PostGIS, nobody listening to the problem models' signals, ``Authorization:
Token <key>``, a UTF-8 JSON body. Every request this path would not answer 201 — a malformed or
unknown token, an inactive user, a user with no role, a body that fails a check, an unknown
category, a client_uuid seen before, areas changed since this process read them — goes on to the
DRF view, which answers it as it always has; nothing has been written when it does. Tests hold
the answers and rows equal to the DRF view's, and the links decided in SQL equal to Python's.
"""

from __future__ import annotations

import dataclasses
import uuid
from types import SimpleNamespace
from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework import exceptions

from gridmap.api import inputs
from gridmap.api.auth import TOKEN_KEY, identity_query
from gridmap.api.codebook import CATEGORIES
from gridmap.api.features import RowContext, actions_by_status, problem_feature
from gridmap.api.renderers import geojson_response
from gridmap.core.geoinput import service_area
from gridmap.geography.locator import areas_cached
from gridmap.problems import intake_sql, services
from gridmap.problems.models import Problem
from layers.validate import GeometryInputError, check_lonlat

_UTF8 = frozenset({"utf-8", "utf8"})


def _token(request: HttpRequest) -> str | None:
    """The key of ``Authorization: Token <key>`` if it can be a key (as DRF splits the header)."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) == 2 and parts[0].lower() == "token" and TOKEN_KEY.fullmatch(parts[1]):
        return parts[1]
    return None


def _fields(request: HttpRequest) -> inputs.Intake | None:
    if request.content_type != "application/json":
        return None
    if request.content_params.get("charset", "utf-8").lower() not in _UTF8:
        return None
    try:
        return inputs.intake(orjson.loads(request.body))
    except (orjson.JSONDecodeError, RequestDataTooBig, exceptions.ValidationError):
        return None


def report(request: HttpRequest, allow: str) -> HttpResponse | None:
    """The 201 answer to a new report, or None: the DRF view answers this request."""
    if connection.vendor != "postgresql" or not services.one_statement():
        return None
    key = _token(request)
    fields = _fields(request) if key is not None else None
    if fields is None:
        return None
    category = CATEGORIES.get(fields.category)
    if category is None:
        return None
    try:
        x, y = check_lonlat(fields.lon, fields.lat, area=service_area())
    except GeometryInputError:
        return None
    areas = areas_cached()
    if areas is None:
        return None

    grid_id, community_id = areas.locate(x, y)
    new = intake_sql.Report(
        uuid=fields.client_uuid or uuid.uuid4(), x=x, y=y, category_id=category.pk,
        description=fields.description, reporter_id=None, reported_at=fields.reported_at or timezone.now(),
        grid_id=grid_id, community_id=community_id, facility_id=None, recurrence_of_id=None,
    )  # fmt: skip
    done = intake_sql.insert_decided(
        new, services.around(category, x, y), identity_query(key), area_stamp=areas.stamp
    )
    if done.new_id is None:  # no such user or role, a replay, or the areas changed: the view answers
        return None
    new = dataclasses.replace(new, reporter_id=done.user_id, facility_id=done.facility_id,
                              recurrence_of_id=done.recurrence_of_id)  # fmt: skip
    feature = problem_feature(
        _as_problem(done.new_id, new), RowContext(timezone.now(), actions_by_status(done.role))
    )
    feature["possible_duplicates"] = [{"id": i, "distance_m": round(m, 1)} for i, m in done.duplicates]
    response = geojson_response(feature, status=201)
    response["Allow"] = allow
    return response


def _blank() -> dict[str, Any]:
    """The attributes a new problem has that a report does not set (its fields' defaults)."""
    names = (
        "status",
        "deadline",
        "closed_at",
        "department_id",
        "rework_count",
        "extension_count",
        "reopen_count",
    )
    return {n: Problem._meta.get_field(n.removesuffix("_id")).get_default() for n in names}


_BLANK = _blank()


def _as_problem(pk: int, new: intake_sql.Report) -> SimpleNamespace:
    """What ``problem_feature`` reads of a problem, for the one just written."""
    return SimpleNamespace(**_BLANK, pk=pk, uuid=new.uuid, category_id=new.category_id, description=new.description,
                           reported_at=new.reported_at, grid_id=new.grid_id, community_id=new.community_id,
                           facility_id=new.facility_id, geom=SimpleNamespace(coords=(new.x, new.y)))  # fmt: skip
