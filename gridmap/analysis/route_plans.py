"""A user's route, planned once and kept in the shared cache for the page, the GPX and the command.

Whose stops: the open problems and due look-backs among the problems the user acts on through
their role (``problems_in_role_scope``: the selector that authorizes every output). However
many there are, the work that grows with the square of the stops only ever sees a few:

1. **SQL, one query.** The stops in scope as five numbers each (``ST_X``/``ST_Y``, the urgency
   as a ``CASE``: overdue 3, open 2, look-back 1; no geometry objects), unordered, then ordered
   here: most urgent first, then nearest the start (without one, the oldest); at most
   ``FETCH_MAX`` go on. (A scope past ``SCOPE_READ_MAX`` is ordered and cut in SQL and counted
   apart.) The origin is the start, else the most urgent stop.
2. **Street network** (:mod:`layers.routes.narrow`): one search from the origin measures the
   walk to each; those the budget reaches, heaviest first, at most a few tens over what the
   budget could serve, are planned. Weight: overdue 3, open 2, look-back 1, plus up to
   ``AGE_WEIGHT`` for age (full at ``AGE_FULL_DAYS``).
3. **Cache.** The plan (stop ids in walking order, legs, the drawn path, counts) is kept in the
   Django cache (Redis in production) under a key of everything it depends on: the user and
   their scope, the query, the speed and stop minutes, and the ``problems``, ``grids`` and
   ``streets`` change stamps; so the page, ``/route.gpx`` and ``plan_route --user`` show the
   same stops in the same order, and any data change gives a new plan. Deadlines passing make
   no stamp move: a plan lives at most ``PLAN_TTL_S``. With no stamp (no triggers) nothing is
   cached.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import Case, F, FloatField, Func, Q, QuerySet, Value, When
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.analysis.network_cache import street_network
from gridmap.analysis.routes import WEIGHT_LOOKBACK, WEIGHT_OPEN, WEIGHT_OVERDUE, stop_filter
from gridmap.core.stamps import stamps_of
from gridmap.problems.models import OPEN_STATUSES, Problem
from gridmap.problems.selectors import problems_in_role_scope
from layers.routes import (
    PlannedRoute,
    RouteError,
    RouteStop,
    StreetWalk,
    narrow_stops,
    plan_narrowed_walk,
    reach_from,
)

__all__ = [
    "FETCH_MAX",
    "PLAN_TTL_S",
    "DEFAULT_BUDGET_MIN",
    "SERVICE_MIN",
    "SPEED_KMH",
    "ROUTE_ROLES",
    "RouteError",
    "RoutePlan",
    "compute_plan",
    "plan_as_route",
    "plan_key",
    "user_route_plan",
]

ROUTE_ROLES = frozenset({Role.INSPECTOR, Role.GRID_LEADER, Role.COMMUNITY_HEAD})  # who has a route
SPEED_KMH = 4.5
SERVICE_MIN = 3.0
# Unless asked otherwise, a route is half a working day: the most urgent stops that fit
DEFAULT_BUDGET_MIN = 240
LEFT_OUT = "no time left in the budget (more urgent stops went first)"
FETCH_MAX = 10_000
SCOPE_READ_MAX = 50_000  # stops of a scope read whole (five numbers each) and ordered in Python
PLAN_TTL_S = 600
AGE_WEIGHT, AGE_FULL_DAYS = 0.5, 30.0
SHOWN_LEFT_OUT = 100  # left-out stops listed by id (the counts cover the rest)
PLAN_VERSION = 1
STAMP_KINDS = ("problems", "grids", "streets")
LonLat = tuple[float, float]


@dataclass(frozen=True)
class RoutePlan:
    """The stops of a walk (ids in walking order, their lon/lat), the walk, and what it left out.

    Counts: ``in_scope`` stops in the user's area; ``beyond_reach`` of them measured farther
    than the budget allows; ``left_out`` the ids of
    planned-for stops within reach that did not fit (most urgent first, at most SHOWN_LEFT_OUT);
    the rest, ``in_scope - beyond_reach - len(ids)``, are within reach but not in this walk.
    """

    ids: list[int]
    lonlat: list[LonLat]
    walk: StreetWalk  # its ``order`` is positions in ``ids``
    start: LonLat | None
    budget_min: float | None
    in_scope: int
    beyond_reach: int
    left_out: list[int] = field(default_factory=list)
    planned_at: str = ""

    @property
    def not_in_walk(self) -> int:
        """Stops not in the walk and not measured out of reach: the time ran out (or, past
        FETCH_MAX, they were not read)."""
        return max(0, self.in_scope - self.beyond_reach - len(self.ids))


def _scope_key(user: Any) -> dict[str, Any]:
    profile = getattr(user, "profile", None)
    patrol = sorted(profile.patrol_communities.values_list("pk", flat=True)) if profile else []
    return {
        "user": user.pk,
        "role": str(role_of(user)),
        "community": getattr(profile, "community_id", None),
        "department": getattr(profile, "department_id", None),
        "patrol": patrol,
    }


def plan_key(
    user: Any, *, start: LonLat | None, budget_min: float | None, skip: frozenset[int] = frozenset()
) -> str | None:
    """The cache key of this user's plan for this query; None when a stamp is missing."""
    stamps = stamps_of(STAMP_KINDS)
    if any(v is None for v in stamps.values()):
        return None
    parts = {
        "v": PLAN_VERSION, "scope": _scope_key(user), "stamps": stamps, "budget": budget_min,
        "start": [round(c, 7) for c in start] if start else None,
        "speed": SPEED_KMH, "service": SERVICE_MIN, "today": str(timezone.localdate()),
        "skip": sorted(skip),
    }  # fmt: skip
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return f"gridmap:route-plan:{digest}"


def _weighted(stops: QuerySet[Problem], now: datetime) -> QuerySet[Problem]:
    is_open = Q(status__in=OPEN_STATUSES)
    return stops.annotate(
        base=Case(
            When(is_open & Q(deadline__lt=now), then=Value(WEIGHT_OVERDUE)),
            When(is_open, then=Value(WEIGHT_OPEN)),
            default=Value(WEIGHT_LOOKBACK),
            output_field=FloatField(),
        ),
        lon=Func(F("geom"), function="ST_X", output_field=FloatField()),
        lat=Func(F("geom"), function="ST_Y", output_field=FloatField()),
    )


def _urgent_first(rows: list[tuple[Any, ...]], start: LonLat | None) -> list[tuple[Any, ...]]:
    """``rows`` most urgent first, then nearest the start (without one, oldest), then by key."""
    base = np.array([r[3] for r in rows], dtype=np.float64)
    pk = np.array([r[0] for r in rows], dtype=np.int64)
    if start is None:
        then = np.array([r[4].timestamp() if r[4] else 0.0 for r in rows])
    else:
        x0, y0 = start
        lon, lat = (np.array([r[i] for r in rows], dtype=np.float64) for i in (1, 2))
        then = (lon - x0) ** 2 * np.cos(np.radians(y0)) ** 2 + (lat - y0) ** 2
    return [rows[i] for i in np.lexsort((pk, then, -base))]


def _fetch(
    stops: QuerySet[Problem], start: LonLat | None, now: datetime
) -> tuple[int, list[tuple[Any, ...]]]:
    """How many stops the scope holds, and at most FETCH_MAX of them as (pk, lon, lat, base
    weight, reported_at), most urgent first, then nearest the start (without one, oldest).

    One query, unordered (ordered, the database sorts every open problem of the city before the
    scope's joins drop most): a scope of up to SCOPE_READ_MAX stops is read whole and ordered
    here; a larger one is ordered and cut in SQL, and counted apart.
    """
    weighted = _weighted(stops, now)
    fields = ("pk", "lon", "lat", "base", "reported_at")
    rows = list(weighted.order_by().values_list(*fields)[: SCOPE_READ_MAX + 1])
    if len(rows) <= SCOPE_READ_MAX:
        return len(rows), _urgent_first(rows, start)[:FETCH_MAX]
    order: list[Any] = ["-base", "reported_at", "pk"]
    if start is not None:
        x0, y0 = start
        coslat2 = float(np.cos(np.radians(y0)) ** 2)
        weighted = weighted.annotate(
            d2=(F("lon") - x0) * (F("lon") - x0) * coslat2 + (F("lat") - y0) * (F("lat") - y0)
        )  # fmt: skip
        order = ["-base", "d2", "pk"]
    return stops.count(), list(weighted.order_by(*order).values_list(*fields)[:FETCH_MAX])


def _weights(rows: list[tuple[Any, ...]], now: datetime) -> np.ndarray:
    base = np.array([r[3] for r in rows], dtype=np.float64)
    age_days = np.array([(now - r[4]).total_seconds() / 86400 if r[4] else 0.0 for r in rows])
    return base + AGE_WEIGHT * np.clip(age_days / AGE_FULL_DAYS, 0.0, 1.0)


def _empty(start: LonLat | None, budget_min: float | None, in_scope: int, net: bool) -> RoutePlan:
    walk = StreetWalk([], start, [], [], SPEED_KMH, SERVICE_MIN, net, budget_min=budget_min)
    return RoutePlan(
        [], [], walk, start, budget_min, in_scope, in_scope, planned_at=timezone.now().isoformat()
    )


def compute_plan(
    user: Any, *, start: LonLat | None, budget_min: float | None, skip: frozenset[int] = frozenset()
) -> RoutePlan:
    """Plan the user's walk (no cache) over their stops but those of ``skip`` (the stops already
    visited, when the rest of a walk is planned); RouteError when the query cannot be walked."""
    now = timezone.now()
    stops = problems_in_role_scope(user).filter(stop_filter(timezone.localdate()))
    if skip:
        stops = stops.exclude(pk__in=sorted(skip))
    in_scope, rows = _fetch(stops, start, now)
    network = street_network().network if rows else None
    if not rows:
        return _empty(start, budget_min, 0, network is not None)
    origin = start or (float(rows[0][1]), float(rows[0][2]))  # else the most urgent stop
    lonlat = np.array([[r[1], r[2]] for r in rows], dtype=np.float64)
    weights = _weights(rows, now)
    reach, on = reach_from(origin, lonlat, network)
    best, within = narrow_stops(
        reach, weights, budget_min=budget_min, speed_kmh=SPEED_KMH, service_min=SERVICE_MIN
    )
    chosen = [
        RouteStop(id=int(rows[i][0]), lon=lonlat[i, 0], lat=lonlat[i, 1], weight=float(weights[i]))
        for i in best
    ]
    walk = plan_narrowed_walk(
        chosen, start=start, origin_m=reach[best], origin_on_streets=on[best], network=network,
        speed_kmh=SPEED_KMH, service_min=SERVICE_MIN, budget_min=budget_min,
    )  # fmt: skip
    ids = [chosen[i].id for i in walk.order]
    lonlat_walked = [(chosen[i].lon, chosen[i].lat) for i in walk.order]
    walk = StreetWalk(
        list(range(len(ids))), walk.start, walk.legs, walk.pieces, walk.speed_kmh, walk.service_min,
        walk.network, [], walk.budget_min,
    )  # fmt: skip
    taken = set(ids)
    return RoutePlan(
        ids=ids,
        lonlat=lonlat_walked,
        walk=walk,
        start=start,
        budget_min=budget_min,
        in_scope=in_scope,
        beyond_reach=len(rows) - within,
        left_out=[s.id for s in chosen if s.id not in taken][:SHOWN_LEFT_OUT],
        planned_at=now.isoformat(),
    )


def user_route_plan(
    user: Any, *, start: LonLat | None, budget_min: float | None, skip: frozenset[int] = frozenset()
) -> RoutePlan:
    """The user's plan for this query: from the shared cache, else planned and kept there.
    ``skip``: stops left out (those visited, for the rest of a walk; part of the key).

    Raises RouteError when the query cannot be walked (the message is for the user).
    """
    key = plan_key(user, start=start, budget_min=budget_min, skip=skip)
    if key is not None:
        plan = cache.get(key)
        if isinstance(plan, RoutePlan):
            return plan
    plan = compute_plan(user, start=start, budget_min=budget_min, skip=skip)
    if key is not None:
        cache.set(key, plan, PLAN_TTL_S)
    return plan


def plan_as_route(plan: RoutePlan) -> PlannedRoute:
    """The plan as :class:`layers.routes.PlannedRoute` (for the command's json/gpx/geojson/text):
    the same stops in the same order, each described by its category and status."""
    info = {
        pk: f"{code} {name}: {status}"
        for pk, code, name, status in Problem.objects.filter(pk__in=plan.ids + plan.left_out).values_list(
            "pk", "category__code", "category__name", "status"
        )
    }
    stops = [
        RouteStop(id=i, lon=x, lat=y, desc=info.get(i, ""))
        for i, (x, y) in zip(plan.ids, plan.lonlat, strict=True)
    ]
    walk = plan.walk
    return PlannedRoute(
        stops=stops,
        start=plan.start,
        end=None,
        closed=False,
        metric="network" if walk.network else "straight",
        speed_kmh=walk.speed_kmh,
        service_min=walk.service_min,
        leg_m=[leg.length_m if leg is not None else 0.0 for leg in walk.legs],
        length_m=walk.length_m,
        duration_min=walk.duration_min,
        path_lonlat=walk.path_lonlat,
        dropped=[(RouteStop(id=i, lon=0.0, lat=0.0, desc=info.get(i, "")), LEFT_OUT) for i in plan.left_out],
        budget_min=plan.budget_min,
    )
