"""Reading items: the query parameters of ``/collections/{id}/items`` parsed strictly, then a page
of features read from the collection's scoped queryset (or kept frame).

``limit`` (default 10, at most 10,000: the figures of the standard's own OpenAPI fragment) and
``offset`` page; the ``next``/``prev`` links carry the offset. ``bbox`` goes through the REST API's
own bbox check and filter (``api.filters.bbox``) after ``bbox-crs`` turned it into longitude and
latitude; ``datetime`` is an instant or a closed interval with open ends (``..`` or empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import shapely
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from gridmap.api import filters as api_filters
from gridmap.api.analysis_features import frame_features
from gridmap.api.errors import bad_request
from gridmap.api.features import PRECISION, RowContext
from gridmap.api.ogc import cql
from gridmap.api.ogc.analysis import FrameCollection
from gridmap.api.ogc.collections import Collection
from gridmap.api.ogc.crs import DEFAULT, Crs, bbox_lonlat, parse_crs, swap_geometry
from gridmap.api.params import parse_bbox, parse_when
from gridmap.core.boundary import BoundaryError, whole_number

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 10**9
ITEM_PARAMS = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang",
                         "filter-crs"})  # fmt: skip
METRE_PRECISION = 3  # mm in Web Mercator


@dataclass(frozen=True)
class ItemsQuery:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: str | None = None  # minlon,minlat,maxlon,maxlat
    period: tuple[datetime | None, datetime | None] | None = None  # closed; None: open end
    filter: Q | None = None
    crs: Crs = DEFAULT


def _count(values: dict[str, str], name: str, default: int) -> int:
    if name not in values:
        return default
    try:
        return whole_number(values[name], lo=0, hi=10**12 - 1, max_digits=12)
    except BoundaryError:
        raise bad_request(_("%(name)s must be a positive whole number.") % {"name": name}) from None


def _bound(raw: str, *, end: bool) -> datetime | None:
    text = raw.strip()
    if text in ("", ".."):
        return None
    value = parse_when(text, "datetime")
    if end and parse_date(text) is not None:  # a date alone ends at the end of that day
        value = value + timedelta(days=1) - timedelta(microseconds=1)
    return value


def parse_period(raw: str) -> tuple[datetime | None, datetime | None]:
    if "/" not in raw:
        start = _bound(raw, end=False)
        if start is None:
            raise bad_request(_("datetime: give a time, or an interval start/end."))
        return start, _bound(raw, end=True)
    first, _sep, last = raw.partition("/")
    start, stop = _bound(first, end=False), _bound(last, end=True)
    if start is None and stop is None:
        raise bad_request(_("datetime: an interval needs at least one end."))
    if start is not None and stop is not None and start > stop:
        raise bad_request(_("datetime: the start is after the end."))
    return start, stop


def parse_items_query(values: dict[str, str], collection: Collection | FrameCollection) -> ItemsQuery:
    limit = _count(values, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(_("limit must be between 1 and %(max)s.") % {"max": MAX_LIMIT})
    offset = _count(values, "offset", 0)
    if offset > MAX_OFFSET:
        raise bad_request(_("offset is too large."))
    crs = parse_crs(values.get("crs"))
    bbox = None
    bbox_crs = parse_crs(values.get("bbox-crs"), "bbox-crs")  # checked even alone (then unused)
    if "bbox" in values:
        bbox = bbox_lonlat(values["bbox"], bbox_crs)
        parse_bbox(bbox)  # the API's range checks, with its messages
    period = None
    if "datetime" in values:
        if collection.temporal is None:
            raise bad_request(_("datetime: this collection has no time property."))
        period = parse_period(values["datetime"])
    where = None
    equal = [
        cql.equals(name, values[name], qb.schema)
        for name, qb in collection.queryables.items()
        if name in values
    ]
    cql.check_language(values.get("filter-lang"))  # checked even alone (then unused)
    if parse_crs(values.get("filter-crs"), "filter-crs") is not DEFAULT:
        raise bad_request(_("filter-crs: filters are read in CRS84 only."))
    if "filter" in values:
        if not collection.queryables:
            raise bad_request(_("filter: this collection has no queryables."))
        text = " AND ".join([f"({values['filter']})", *equal]) if equal else values["filter"]
        where = cql.filter_q(text, values.get("filter-lang"), collection.queryables)
    elif equal:  # queryables as query parameters (Part 3): each an equality
        where = cql.filter_q(" AND ".join(equal), None, collection.queryables)
    return ItemsQuery(limit, offset, bbox, period, where, crs)


def _period_q(collection: Collection, period: tuple[datetime | None, datetime | None]) -> Q:
    start, stop = period
    lookup = collection.temporal
    assert lookup is not None
    if collection.temporal_is_date:
        start_v: Any = start.date() if start else None
        stop_v: Any = stop.date() if stop else None
    else:
        start_v, stop_v = start, stop
    where = Q()
    if start_v is not None:
        where &= Q(**{f"{lookup}__gte": start_v})
    if stop_v is not None:
        where &= Q(**{f"{lookup}__lte": stop_v})
    return where


def _geojson(crs: Crs) -> AsGeoJSON:
    if crs.transformed:
        return AsGeoJSON(Transform("geom", crs.srid), precision=METRE_PRECISION)
    return AsGeoJSON("geom", precision=PRECISION)


def _swapped(rows: list[tuple]) -> list[tuple]:
    return [(r[0], orjson.dumps(swap_geometry(orjson.loads(r[1]))) if r[1] else None, *r[2:]) for r in rows]


def filtered(collection: Collection, user: Any, query: ItemsQuery, now: datetime) -> QuerySet:
    qs = collection.queryset(user)
    if query.bbox is not None:
        qs = api_filters.bbox(qs, query.bbox, now)
    try:
        if query.period is not None:
            qs = qs.filter(_period_q(collection, query.period))
        if query.filter is not None:
            qs = qs.filter(query.filter)
    except (ValidationError, ValueError, TypeError, FieldError) as exc:
        raise bad_request(_("filter: %(reason)s") % {"reason": str(exc)[:200]}) from None
    return qs


def _guarded(read: Any) -> Any:
    """Run a read; a value the database refuses (a filter it cannot compare) is a 400."""
    try:
        with transaction.atomic():
            return read()
    except DatabaseError as exc:
        raise bad_request(
            _("filter: the database refused it (%(reason)s).") % {"reason": str(exc)[:120]}
        ) from None


def read_page(collection: Collection, user: Any, query: ItemsQuery, ctx: RowContext) -> tuple[list, int]:
    """A page of features and the number matched. One row more than the page is read: when it
    is not there, the number matched follows from the offset and no COUNT is made (as the REST
    API's pages do); a COUNT runs when there are more rows, or for an empty page past the first."""
    qs = filtered(collection, user, query, ctx.now)
    start, stop = query.offset, query.offset + query.limit
    ordered = collection.rows(qs.order_by(*collection.ordering), _geojson(query.crs), ctx)
    rows = _guarded(lambda: list(ordered[start : stop + 1]))
    if len(rows) <= query.limit and (rows or start == 0):
        matched = start + len(rows)
    else:
        rows = rows[: query.limit]
        counted = qs.values("pk") if qs.query.distinct else qs.order_by()  # a DISTINCT scope by ids
        matched = _guarded(counted.count)
    if query.crs.lat_first:
        rows = _swapped(rows)
    return collection.features(rows, ctx), matched


def read_one(collection: Collection, user: Any, fid: str, crs: Crs, ctx: RowContext) -> dict[str, Any] | None:
    key: Any = fid
    if collection.id_schema.get("type") == "integer":
        if not fid.isascii() or not fid.isdigit() or len(fid) > 12:
            return None
        key = int(fid)
    qs = collection.queryset(user).filter(**{collection.id_lookup: key})
    rows = list(collection.rows(qs, _geojson(crs), ctx)[:1])
    if not rows:
        return None
    if crs.lat_first:
        rows = _swapped(rows)
    return collection.features(rows, ctx)[0]


# -- collections read from a kept frame ---------------------------------------------------------
def frame_page(collection: FrameCollection, user: Any, query: ItemsQuery) -> tuple[list, int]:
    frame = collection.frame(user)
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)] if len(frame) else frame
    ids = list(range(1, len(frame) + 1))
    if query.bbox is not None and len(frame):
        box = shapely.box(*(float(v) for v in query.bbox.split(",")))
        keep = frame.intersects(box).to_numpy()
        frame, ids = frame[keep], [i for i, k in zip(ids, keep, strict=True) if k]
    page = frame.iloc[query.offset : query.offset + query.limit]
    return _frame_features(page, ids[query.offset : query.offset + query.limit], query.crs), len(frame)


def frame_one(collection: FrameCollection, user: Any, fid: str, crs: Crs) -> dict[str, Any] | None:
    if not fid.isascii() or not fid.isdigit() or len(fid) > 9:
        return None
    frame = collection.frame(user)
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)] if len(frame) else frame
    n = int(fid)
    if not 1 <= n <= len(frame):
        return None
    return _frame_features(frame.iloc[n - 1 : n], [n], crs)[0]


def _frame_features(frame: Any, ids: list[int], crs: Crs) -> list[dict[str, Any]]:
    if crs.transformed and len(frame):
        frame = frame.to_crs(crs.srid)
    features = frame_features(frame) if len(frame) else []
    for fid, feature in zip(ids, features, strict=True):
        feature["id"] = fid
        if crs.lat_first and feature["geometry"] is not None:
            # frame_features splices shapely's text in; read it back to swap the axes
            geom = frame.geometry.iloc[ids.index(fid)]
            feature["geometry"] = swap_geometry(orjson.loads(shapely.to_geojson(geom)))
    return features
