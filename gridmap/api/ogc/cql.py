"""CQL2 text filters (OGC API – Features Part 3) as a ``Q`` on a collection's scoped queryset.

pygeofilter parses the text (``parsers.cql2_text``) and its Django backend turns the tree into a
``Q`` (``backends.django.to_filter``), which is applied to the queryset the collection's selector
already scoped to the user: a filter can only narrow what the user may see.

Before the tree reaches the backend it is walked here (without recursion) and refused with a 400
unless every node is one this service answers: comparisons, ``BETWEEN``, ``LIKE``, ``IN``,
``IS NULL``, ``AND``/``OR``/``NOT`` and the spatial predicates on ``geometry``; every attribute a
queryable of the collection (the backend would otherwise pass an unknown name to the ORM as a
field path); every literal of the queryable's type, numbers finite and within 2**53, and every
coordinate checked as a raw number (``layers.validate``) before the backend builds a GEOS object.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.backends.django import to_filter
from pygeofilter.parsers.cql2_text import parse

from gridmap.api.errors import bad_request
from gridmap.api.ogc.collections import Queryable
from gridmap.api.params import parse_when
from layers.validate import BBox, GeometryInputError, check_geojson_geometry

LANGUAGES = {"cql2-text", "cql-text"}  # the second is the draft's name, which GDAL 3.6 sends
GEOMETRY = "geometry"
MAX_NODES = 500
MAX_DEPTH = 40
BIG = 2**53
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")  # JSON's numbers
LOGICAL = (ast.And, ast.Or, ast.Not)
ON_ATTRIBUTE = (ast.Comparison, ast.Between, ast.Like, ast.In, ast.IsNull)
SPATIAL = (ast.SpatialComparisonPredicate, ast.BBox)


def _refuse(message: str) -> Exception:
    return bad_request(_("filter: %(reason)s") % {"reason": message})


def _check_literal(value: Any, name: str, schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    wanted = schema.get("format")
    if wanted in ("date-time", "date"):
        ok = isinstance(value, datetime | date)
        if isinstance(value, datetime | date) and not 1970 <= value.year <= 2100:
            raise _refuse(_("%(name)s: times must be between 1970 and 2100.") % {"name": name})
    elif kind in ("integer", "number"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not (math.isfinite(value) and abs(value) <= BIG):
            raise _refuse(_("%(name)s: the number is out of range.") % {"name": name})
        if ok and kind == "integer" and isinstance(value, float) and not value.is_integer():
            ok = False
    elif kind == "boolean":
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str)
        if ok and "pattern" in schema and not re.search(schema["pattern"], value):
            raise _refuse(
                _("%(name)s: %(value)s is not one of its values.") % {"name": name, "value": value[:40]}
            )
        if ok and "enum" in schema and value not in schema["enum"]:
            raise _refuse(
                _("%(name)s: unknown value %(value)s; accepted: %(allowed)s.")
                % {"name": name, "value": value[:40], "allowed": ", ".join(schema["enum"])}
            )
    if not ok:
        raise _refuse(_("%(name)s is compared with a value of another type.") % {"name": name})


def _check_geometry(node: Any) -> None:
    try:
        if isinstance(node, values.Envelope):
            BBox.parse([node.x1, node.y1, node.x2, node.y2])
        elif isinstance(node, values.Geometry):
            check_geojson_geometry(node.geometry)
        else:
            raise _refuse(_("a spatial predicate compares geometry with a geometry literal."))
    except GeometryInputError as exc:
        raise _refuse(str(exc)) from None


def _attribute(node: Any, queryables: dict[str, Queryable]) -> tuple[str, dict[str, Any]]:
    if not isinstance(node, ast.Attribute):
        raise _refuse(_("the left side of a comparison must be a queryable."))
    if node.name not in queryables:
        raise _refuse(
            _("unknown queryable %(name)s; queryables: %(known)s.")
            % {"name": node.name[:40], "known": ", ".join(sorted(queryables)) or "-"}
        )
    return node.name, queryables[node.name].schema


def _check_node(node: Any, queryables: dict[str, Queryable], spatial: bool) -> list[Any]:
    """Check one node; the nodes below it that must be checked in turn."""
    if isinstance(node, LOGICAL):
        return node.get_sub_nodes()
    if isinstance(node, SPATIAL):
        if not spatial or not isinstance(node.lhs, ast.Attribute) or node.lhs.name != GEOMETRY:
            raise _refuse(_("spatial predicates take the queryable geometry first."))
        if isinstance(node, ast.BBox):
            _check_geometry(values.Envelope(node.minx, node.maxx, node.miny, node.maxy))
        else:
            _check_geometry(node.rhs)
        return []
    if not isinstance(node, ON_ATTRIBUTE):
        raise _refuse(_("%(what)s is not supported here.") % {"what": type(node).__name__})
    name, schema = _attribute(node.lhs, queryables)
    if isinstance(node, ast.Comparison):
        literals = [node.rhs]
    elif isinstance(node, ast.Between):
        literals = [node.low, node.high]
    elif isinstance(node, ast.In):
        literals = list(node.sub_nodes)
    elif isinstance(node, ast.Like):
        literals = [node.pattern]
        if schema.get("type") not in ("string", ["string", "null"]) or "format" in schema:
            raise _refuse(_("LIKE compares text queryables only."))
        return []
    else:  # IS NULL
        return []
    for value in literals:
        _check_literal(value, name, schema)
    return []


def check_tree(root: Any, queryables: dict[str, Queryable], *, spatial: bool = True) -> None:
    stack, seen = [(root, 0)], 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES or depth > MAX_DEPTH:
            raise _refuse(_("the expression is too large."))
        stack += [(sub, depth + 1) for sub in _check_node(node, queryables, spatial)]


def equals(name: str, raw: str, schema: dict[str, Any]) -> str:
    """``name=raw`` given as a query parameter, as a CQL2 equality (checked as any filter)."""
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if schema.get("format") in ("date-time", "date"):
        return f"{name} = TIMESTAMP('{parse_when(raw, name).astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}')"
    if kind in ("integer", "number"):
        text = raw.strip()
        try:
            value = Decimal(text) if len(text) <= 40 and NUMBER.fullmatch(text) else None
        except InvalidOperation:
            value = None
        if value is None:
            raise bad_request(_("%(name)s must be a number.") % {"name": name})
        if abs(value) > BIG:
            raise bad_request(_("%(name)s: the number is out of range.") % {"name": name})
        return f"{name} = {int(value) if value == value.to_integral_value() else float(value)!r}"
    if "'" in raw:
        raise bad_request(_("%(name)s: give a value with a quote in a filter instead.") % {"name": name})
    return f"{name} = '{raw}'"


def check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise bad_request(_("filter-lang: only cql2-text is offered."))


def filter_q(text: str, language: str | None, queryables: dict[str, Queryable], *, spatial: bool = True) -> Q:
    """The ``Q`` of a CQL2 text filter over ``queryables`` (``geometry`` is the feature's)."""
    check_language(language)
    if not text.strip():
        raise _refuse(_("the filter is empty."))
    try:
        root = parse(text)
    except LarkError as exc:
        where = getattr(exc, "column", None)
        message = _("it could not be read near character %(n)s.") % {"n": where} if where else str(exc)[:200]
        raise _refuse(message) from None
    except (ValueError, TypeError, ArithmeticError, RecursionError, AttributeError) as exc:
        raise _refuse(_("it could not be read (%(reason)s).") % {"reason": str(exc)[:200]}) from None
    check_tree(root, queryables, spatial=spatial)
    mapping = {name: qb.lookup for name, qb in queryables.items()} | {GEOMETRY: "geom"}
    try:
        return to_filter(root, mapping)
    except (ValueError, TypeError, AssertionError, KeyError, AttributeError, RecursionError) as exc:
        raise _refuse(str(exc)[:200]) from None
