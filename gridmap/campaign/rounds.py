"""Creating a mock evaluation: which points (all, or a stratified sample reproducible from a
seed), which inspector visits each (a community's points stay with one inspector where
possible), and each inspector's walk, planned by the route planner (``analysis.routes``)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction

from gridmap.analysis.routes import RouteInputError, route_plan
from gridmap.campaign.models import InspectionPoint, Round, RoundPoint
from gridmap.campaign.points import representative_point
from gridmap.geography.models import Street
from layers.routes import PlannedRoute, RouteStop


def sample_points(
    points: Sequence[tuple[int, int, int | None]], *, share: float | None, seed: int
) -> list[int]:
    """The ids drawn from ``points`` (id, type id, community id): all of them without ``share``;
    else, in each stratum (type, community), ``ceil(share × n)`` points drawn at random from
    ``seed``. The same points and seed always give the same sample."""
    ids = sorted(p[0] for p in points)
    if share is None:
        return ids
    if not 0 < share <= 1:
        raise ValueError("the share sampled must be above 0 and at most 1")
    strata: dict[tuple[int, int], list[int]] = defaultdict(list)
    for pk, type_id, community_id in points:
        strata[(type_id, community_id or 0)].append(pk)
    rng = random.Random(seed)
    chosen: list[int] = []
    for key in sorted(strata):
        members = sorted(strata[key])
        chosen += rng.sample(members, math.ceil(share * len(members)))
    return sorted(chosen)


def assign_inspectors(
    points: Sequence[tuple[int, int | None]], inspectors: Sequence[int]
) -> dict[int, int | None]:
    """Point id → inspector id: each community's points go together to the inspector with the
    fewest points so far (largest communities first), so walks stay compact and loads even."""
    if not inspectors:
        return {pk: None for pk, _ in points}
    by_community: dict[int, list[int]] = defaultdict(list)
    for pk, community_id in points:
        by_community[community_id or 0].append(pk)
    load = {i: 0 for i in inspectors}
    out: dict[int, int | None] = {}
    for community in sorted(by_community, key=lambda c: (-len(by_community[c]), c)):
        who = min(inspectors, key=lambda i: (load[i], i))
        for pk in by_community[community]:
            out[pk] = who
        load[who] += len(by_community[community])
    return out


def planned_walk(points: Sequence[InspectionPoint]) -> PlannedRoute:
    """The route planner's walk through ``points`` (along the streets when the town has some,
    else straight; each stop a point on the place's surface)."""
    stops = []
    for p in points:
        where = representative_point(p.geom)
        stops.append(RouteStop(id=p.pk, lon=where.x, lat=where.y, desc=p.name))
    metric = "network" if Street.objects.exists() else "straight"
    try:
        return route_plan(stops, metric=metric)
    except RouteInputError:
        return route_plan(stops, metric="straight")


def walk_order(points: Sequence[InspectionPoint]) -> list[int]:
    """The ids of ``points`` in the order the route planner walks them."""
    if len(points) < 2:
        return [p.pk for p in points]
    order = [s.id for s in planned_walk(points).stops]
    return order + [p.pk for p in points if p.pk not in set(order)]


@transaction.atomic
def round_create(
    *,
    name: str,
    created_by: Any,
    inspectors: Sequence[Any] = (),
    share: float | None = None,
    seed: int = 0,
    held_on: date | None = None,
    points: Any = None,
) -> Round:
    """A round over ``points`` (every active point by default), sampled, assigned and planned."""
    pool = (points if points is not None else InspectionPoint.objects.all()).filter(active=True)
    rows = list(pool.values_list("pk", "type_id", "community_id"))
    chosen = set(sample_points(rows, share=share, seed=seed))
    fields: dict[str, Any] = {"name": name, "created_by": created_by, "seed": seed, "sample_share": share}
    if held_on is not None:
        fields["held_on"] = held_on
    round_ = Round.objects.create(**fields)
    who = assign_inspectors([(pk, c) for pk, _t, c in rows if pk in chosen], [u.pk for u in inspectors])
    by_inspector: dict[int | None, list[int]] = defaultdict(list)
    for pk, inspector in who.items():
        by_inspector[inspector].append(pk)
    geoms = InspectionPoint.objects.in_bulk(list(chosen))
    visits = []
    for inspector, ids in by_inspector.items():
        order = walk_order([geoms[i] for i in sorted(ids)])
        visits += [RoundPoint(round=round_, point_id=pk, inspector_id=inspector, walk_order=n + 1)
                   for n, pk in enumerate(order)]  # fmt: skip
    RoundPoint.objects.bulk_create(visits)
    return round_
