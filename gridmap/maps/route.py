"""The route page: the signed-in user's stops in walking order on a map, and the same route as GPX.

Whose stops: the open problems and due look-backs (``route_stops_queryset``) among the problems
the user acts on through their role (``problems_in_role_scope``): an inspector's assignments and
patrol communities, a grid leader's grids, a community head's community. Other roles have no
route of their own (403). Query: ``start=LON,LAT`` (checked as raw numbers; the walk begins
there), ``budget_min`` (minutes; the most urgent stops that fit are kept) and ``remaining=1``
(the rest of the walk: the stops ticked off as visited today are left out, so with the walker's
position as ``start`` it is the remaining walk from where they stand). Stops are ticked off by a
POST to ``/route/visits/`` (:func:`route_visit`), kept on the server per user and day. Bad input is 400;
too many problems never is: the plan (:mod:`gridmap.analysis.route_plans`) narrows them to those
the budget reaches, most urgent first, and the page says how many were in scope, how many the
walk takes and how many were out of reach. The page and the GPX read the same cached plan.

The walk follows the town's street network where it joins two places and is a straight line
where it does not (:mod:`layers.routes.legs`); the page says how many legs are straight.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models import Extent
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from shapely.geometry import LineString

from gridmap.accounts.selectors import role_of
from gridmap.analysis.route_gpx import route_gpx, stop_descriptions
from gridmap.analysis.route_plans import (
    DEFAULT_BUDGET_MIN,
    ROUTE_ROLES,
    SERVICE_MIN,
    SPEED_KMH,
    RoutePlan,
    user_route_plan,
)
from gridmap.analysis.routes import RouteInputError, parse_lonlat
from gridmap.analysis.visits import NotAStop, route_visit_set, visited_ids
from gridmap.core.basemap import tile_source
from gridmap.core.boundary import BoundaryError, whole_number
from gridmap.core.gdf import to_gdf
from gridmap.geography.selectors import grids_visible_to
from gridmap.maps.selectors import category_name
from gridmap.maps.tiles import add_overlays
from gridmap.problems.models import OPEN_STATUSES, Status
from gridmap.problems.selectors import problems_in_role_scope
from layers.maps import MapAssets, route_map
from layers.routes import RouteError, StreetWalk

BUDGET_CHOICES = (30, 60, 120, 240, 480)
MAX_BUDGET_MIN = 24 * 60
POPUP_DESCRIPTION_CHARS = 300  # the problem page has the whole text
_VIEWPORT_META = re.compile(r"<meta\s+name=\"viewport\"[^>]*>", re.IGNORECASE)
FIELDS = ["pk", "status", "deadline", "lookback_due", "description", "category__code", "category_label"]


class BadRouteInput(ValueError):
    """A query the route cannot be planned from; the message is shown with a 400."""


@dataclass(frozen=True)
class PlannedStops:
    stops: pd.DataFrame  # the stops in walking order: seq, id, task, category, ..., geometry
    walk: StreetWalk
    dropped: pd.DataFrame  # stops within reach left out by the budget (the most urgent first)
    start: tuple[float, float] | None
    budget_min: float | None
    route: RoutePlan  # the cached plan both the page and the GPX are drawn from
    remaining: bool = False  # the rest of the walk: the stops visited today left out
    visited: frozenset[int] = frozenset()  # the stops ticked off as visited today


def _check_role(user: Any) -> None:
    if role_of(user) not in ROUTE_ROLES:
        raise PermissionDenied(_("Only inspectors, grid leaders and community heads have a route."))


def _remaining(request: HttpRequest) -> bool:
    raw = request.GET.get("remaining")
    if raw not in (None, "", "0", "1"):
        raise BadRouteInput(_("remaining must be 0 or 1."))
    return raw == "1"


def _query(request: HttpRequest) -> tuple[tuple[float, float] | None, float | None]:
    start = None
    raw_start = request.GET.get("start")
    if raw_start not in (None, ""):
        try:
            start = parse_lonlat(raw_start, what="start")
        except RouteInputError as exc:
            raise BadRouteInput(str(exc)) from None
    budget: float | None = DEFAULT_BUDGET_MIN
    raw_budget = request.GET.get("budget_min")
    if raw_budget == "all":
        budget = None
    elif raw_budget not in (None, ""):
        try:
            budget = float(raw_budget)
        except ValueError:
            raise BadRouteInput(_("budget_min must be a number of minutes.")) from None
        if not (math.isfinite(budget) and 1 <= budget <= MAX_BUDGET_MIN):
            raise BadRouteInput(
                _("budget_min must be between 1 and %(max)s minutes.") % {"max": MAX_BUDGET_MIN}
            )
    return start, budget


def _describe(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Task (overdue, open, look-back) and the texts shown for each problem."""
    now = timezone.now()
    is_open = frame["status"].isin([str(s) for s in OPEN_STATUSES])
    deadline = pd.to_datetime(frame["deadline"], utc=True)
    overdue = is_open & deadline.notna() & (deadline < now)
    task = pd.Series("lookback", index=frame.index).where(~is_open, "open").where(~overdue, "overdue")
    labels = dict(Status.choices)
    due = [
        (timezone.localtime(d).strftime("%Y-%m-%d %H:%M") if pd.notna(d) else None)
        if t != "lookback"
        else (f"{_('look-back due')} {lb:%Y-%m-%d}" if pd.notna(lb) else None)
        for t, d, lb in zip(task, frame["deadline"], frame["lookback_due"], strict=True)
    ]
    return frame.assign(
        id=frame["pk"].astype(int),
        task=task,
        category=[" ".join(t for t in (_text(c), _text(n)) if t) for c, n in
                  zip(frame["category__code"], frame["category_label"], strict=True)],
        status=[_text(labels.get(s, s)) for s in frame["status"]],
        deadline=pd.Series([_text(d) for d in due], index=frame.index, dtype=object),
        description=[(_text(d) or "")[:POPUP_DESCRIPTION_CHARS] for d in frame["description"]],
        url=[reverse("problem-detail", args=[int(pk)]) for pk in frame["pk"]],
    )  # fmt: skip


def _text(value: Any) -> str | None:
    """A shown text, or None for nothing (None, NaN, NaT): never the word "nan" on a page."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _rows(user: Any, ids: list[int]) -> gpd.GeoDataFrame:
    """The problems ``ids`` (read through the user's scope), described, indexed by id."""
    queryset = problems_in_role_scope(user).filter(pk__in=ids).annotate(category_label=category_name())
    frame = to_gdf(queryset, FIELDS)
    return _describe(frame).set_index("id", drop=False)


def plan_for(request: HttpRequest) -> PlannedStops:
    """The signed-in user's route for this request's query (the shared plan, see route_plans)."""
    start, budget = _query(request)
    remaining = _remaining(request)
    _check_role(request.user)
    visited = frozenset(visited_ids(request.user))
    try:
        plan = user_route_plan(
            request.user, start=start, budget_min=budget, skip=visited if remaining else frozenset()
        )
    except RouteError as exc:
        raise BadRouteInput(str(exc)) from None
    frame = _rows(request.user, plan.ids + plan.left_out)
    legs = dict(zip(plan.ids, plan.walk.legs, strict=True))
    shown = [i for i in plan.ids if i in frame.index]
    ordered = frame.loc[shown].reset_index(drop=True)
    ordered = ordered.assign(
        seq=range(1, len(ordered) + 1),
        leg_m=pd.Series([round(legs[i].length_m) if legs[i] else None for i in shown], dtype=object),
        straight=[bool(legs[i] and not legs[i].on_streets) for i in shown],
        visited=[i in visited for i in shown],
    )
    left = [i for i in plan.left_out if i in frame.index]
    dropped = frame.loc[left].reset_index(drop=True)
    return PlannedStops(ordered, plan.walk, dropped, start, budget, plan, remaining, visited)


def _bad(exc: Exception) -> HttpResponse:
    return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")


def _map_labels() -> dict[str, str]:
    return {
        "stops": _("Stops"), "path": _("Route"), "street": _("Walk along streets"),
        "straight": _("Straight line (no street path)"), "start": _("Start"),
        "overdue": _("Overdue"), "open": _("Open problem"), "lookback": _("Look-back due"),
        "category": _("Category"), "status": _("Status"), "deadline": _("Due"),
        "description": _("Description"), "open_problem": _("Open the problem page"),
        "locate": _("Show my position"), "locating": _("Finding your position…"),
        "accuracy": _("Accuracy ± %(m)s m"), "replan": _("Plan the route from here"),
        "locate_failed": _("Position not available"),
        "no_geolocation": _("This browser cannot tell its position"), "position": _("My position"),
        "visited": _("Visited"), "legend": pgettext("leader map", "Legend"),
        "visit": _("Mark as visited"), "unvisit": _("Not visited after all"),
        "replan_rest": _("Plan the rest of the walk from here"),
    }  # fmt: skip


def _path_frame(walk: StreetWalk) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"kind": ["street" if p.on_streets else "straight" for p in walk.pieces]},
        geometry=[LineString(p.coords) for p in walk.pieces],
        crs=4326,
    )


def _fallback_bounds(user: Any) -> list[list[float]] | None:
    extent = grids_visible_to(user).aggregate(e=Extent("geom"))["e"]
    return [[extent[1], extent[0]], [extent[3], extent[2]]] if extent else None


def _map_parts(plan: PlannedStops, user: Any) -> dict[str, str]:
    """The folium map's head, body and script, to place inside the site's page."""
    tiles = tile_source()
    m = route_map(
        stops=gpd.GeoDataFrame(plan.stops, geometry="geometry", crs=4326),
        path=_path_frame(plan.walk),
        start=plan.start,
        assets=MapAssets(base_url=static("vendor/")),
        tiles=tiles,
        labels=_map_labels(),
        fallback_bounds=None if len(plan.stops) else _fallback_bounds(user),
    )
    add_overlays(m, tiles)  # e.g. Tianditu's labels over its map
    figure = m.get_root()
    figure.render()  # renders every element into the figure's header, html and script parts
    return {
        # the site's page has its own viewport (zoomable); folium's would forbid zooming the list
        "head": mark_safe(_VIEWPORT_META.sub("", figure.header.render())),
        "html": mark_safe(figure.html.render()),
        "script": mark_safe(figure.script.render()),
    }


def _same_query(plan: PlannedStops) -> str:
    params = {}
    if plan.start:
        params["start"] = f"{plan.start[0]:.6f},{plan.start[1]:.6f}"
    params["budget_min"] = "all" if plan.budget_min is None else f"{plan.budget_min:g}"
    if plan.remaining:
        params["remaining"] = "1"
    return ("?" + urlencode(params)) if params else ""


@login_required
def route_page(request: HttpRequest) -> HttpResponse:
    """The route map with the stop list (and a GPX link for the same route)."""
    try:
        plan = plan_for(request)
    except BadRouteInput as exc:
        return _bad(exc)
    walk = plan.walk
    context = {
        "plan": plan,
        "rows": plan.stops.drop(columns="geometry").to_dict("records"),
        "dropped": plan.dropped.drop(columns="geometry").to_dict("records"),
        "length_km": walk.length_m / 1000,
        "walk_min": walk.walk_min,
        "total_min": walk.duration_min,
        "speed_kmh": SPEED_KMH,
        "service_min": SERVICE_MIN,
        "straight_legs": walk.straight_legs,
        "no_network": bool(len(plan.stops)) and not walk.network,
        "in_scope": plan.route.in_scope,
        "beyond_reach": plan.route.beyond_reach,
        "not_in_walk": plan.route.not_in_walk,
        "gpx_url": reverse("route-gpx") + _same_query(plan),
        "budget_choices": BUDGET_CHOICES,
        "visited_count": len(plan.visited),
        "visited_in_walk": int(plan.stops["visited"].sum()) if len(plan.stops) else 0,
        "rest_url": reverse("route") + "?" + urlencode({"budget_min": _budget_param(plan), "remaining": "1"}),
        "self_url": reverse("route") + _same_query(plan),
        "map": _map_parts(plan, request.user),
    }
    return render(request, "maps/route.html", context)


@login_required
def route_gpx_file(request: HttpRequest) -> HttpResponse:
    """The same route as GPX 1.1 (``gridmap.analysis.route_gpx``, as plan_route writes it)."""
    try:
        plan = plan_for(request)
    except BadRouteInput as exc:
        return _bad(exc)
    stops = [(int(row.id), row.geometry.x, row.geometry.y) for row in plan.stops.itertuples(index=False)]
    descriptions = stop_descriptions(problems_in_role_scope(request.user), [i for i, _x, _y in stops])
    body = route_gpx(stops, plan.walk.path_lonlat, descriptions, planned_at=plan.route.planned_at)
    response = HttpResponse(body, content_type="application/gpx+xml; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="route-{stamp}.gpx"'
    return response


def _budget_param(plan: PlannedStops) -> str:
    return "all" if plan.budget_min is None else f"{plan.budget_min:g}"


MAX_PROBLEM_ID = 2**63 - 1


@login_required
def route_visit(request: HttpRequest) -> HttpResponse:
    """Tick off (``visited=1``) or untick (``visited=0``) the stop ``problem`` of the user's
    route today. JSON for the page's script; without script, back to the route page (``next``,
    a path of this site's route page only). 400 for bad input, 404 for a problem that is not
    one of the user's stops, 403 for a role without a route."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _check_role(request.user)
    try:
        problem_id = whole_number(request.POST.get("problem", ""), lo=1, hi=MAX_PROBLEM_ID)
    except BoundaryError as exc:
        return _bad(BadRouteInput(_("problem: %(error)s") % {"error": exc.message}))
    raw = request.POST.get("visited", "1")
    if raw not in ("0", "1"):
        return _bad(BadRouteInput(_("visited must be 0 or 1.")))
    try:
        ticked = route_visit_set(user=request.user, problem_id=problem_id, visited=raw == "1")
    except NotAStop:
        raise Http404(_("This problem is not a stop of your route today.")) from None
    wants_json = "application/json" in request.headers.get("Accept", "")
    if wants_json:
        return JsonResponse(
            {"problem": problem_id, "visited": ticked, "visited_today": len(visited_ids(request.user))}
        )
    back = request.POST.get("next", "")
    if not (back.startswith(reverse("route")) and "//" not in back and "\\" not in back):
        back = reverse("route")
    return HttpResponseRedirect(back)
