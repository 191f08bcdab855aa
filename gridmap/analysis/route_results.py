"""The API's inspection route (``/api/v1/analysis/route/``), kept in the shared cache and
refreshed by the workers (``gridmap.core.kept``).

Ordering a grid's open problems along its streets takes about a second at city scale (the
street network, the walking matrix, the tour) and depends on the problems, the streets and the
areas: once the view has checked the grid is in the user's scope, the kept route of the grid and
parameters answers; after a change the last route is answered ("updating", with its time) while
a worker plans again. An inspector's route over their own assignments is kept per inspector.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from gridmap.analysis.routes import _problem_stops, route_plan, route_stops_queryset
from gridmap.core.kept import Kept, keeper
from gridmap.geography.models import Grid
from gridmap.problems.selectors import problems_in_role_scope, scope_signature
from layers.routes import route_geojson

STAMP_KINDS = ("problems", "streets", "grids")
EMPTY = {"type": "FeatureCollection", "features": [], "length_m": 0, "duration_min": 0}


def _scope(user: Any) -> Any:
    return scope_signature(user)


@keeper("analysis.route", scope=_scope, stamps=STAMP_KINDS)
def kept_route(user: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The route's GeoJSON for ``params`` (grid: a code the caller checked, or None for an
    inspector's own assignments; metric; budget_min)."""
    if params["grid"] is not None:
        scope = Grid.objects.get(code=params["grid"]).problems.all()
    else:
        scope = problems_in_role_scope(get_user_model().objects.select_related("profile").get(pk=user.pk))
    stops = _problem_stops(route_stops_queryset(scope))
    if not stops:
        return EMPTY
    return route_geojson(route_plan(stops, metric=params["metric"], budget_min=params["budget_min"]))


def route_result(*, user: Any, params: dict[str, Any]) -> Kept[dict[str, Any]]:
    return kept_route.get(user, params)
