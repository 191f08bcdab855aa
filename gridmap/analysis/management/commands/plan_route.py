"""An inspection walk through a scope's open problems and due look-backs (or a file's stops).

manage.py plan_route (--grid CODE | --inspector USER | --stops FILE.geojson)
                     [--start LON,LAT] [--end LON,LAT] [--round-trip] [--budget-min N]
                     [--speed-kmh 4.5] [--service-min 3] [--metric network|straight]
                     [--format json|gpx|geojson|text] [--language zh-hans|en] [--output PATH]
manage.py plan_route --user USER [--start LON,LAT] [--budget-min N] [--format ...] [--output PATH]

The stops are ordered to walk as little as possible (layers.routes); with --budget-min only
the stops of most priority that fit are kept, the rest are listed as dropped. ``--user`` writes
the route page of that user (an inspector, grid leader or community head) for the same start and
budget (default: the page's 240 min): the same plan, from the same cache, as ``/route/`` and
``/route.gpx`` show, for any number of problems. Everything is checked and computed before
anything is written; --output is replaced in one step. GPX comes from the one writer
(``gridmap.analysis.route_gpx``): waypoints named ``1. #2070`` in walking order, described in
``--language`` (default zh-hans); with ``--user`` the file is the one ``/route.gpx`` gives that user
in that language.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError

from gridmap.core.management.cli import NoWebCommand, add_metric_argument, add_output_arguments, emit

FORMATS = ("json", "gpx", "geojson", "text")
LANGUAGES = ("zh-hans", "en")


class Command(NoWebCommand):
    help = "Order the stops of a grid, an inspector or a GeoJSON file into the shortest walk."

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--grid", help="grid code: its open problems and due look-backs")
        scope.add_argument("--inspector", help="username: their assigned problems and patrol communities")
        scope.add_argument("--stops", help="GeoJSON FeatureCollection of Points with an id property")
        scope.add_argument(
            "--user", help="username: the route their route page shows (same stops, same order)"
        )
        parser.add_argument("--start", help="LON,LAT where the walk begins")
        parser.add_argument("--end", help="LON,LAT where the walk ends (default: at the last stop)")
        parser.add_argument("--round-trip", action="store_true", help="come back to the start")
        parser.add_argument("--budget-min", type=float, help="minutes available: keep the stops that fit")
        parser.add_argument("--speed-kmh", type=float, default=4.5, help="walking speed (default 4.5)")
        parser.add_argument("--service-min", type=float, default=3.0, help="minutes at each stop (default 3)")
        add_metric_argument(parser, help="distances (default straight)")
        add_output_arguments(parser, FORMATS, default="json")
        parser.add_argument(
            "--language", choices=LANGUAGES, default="zh-hans", help="language of the GPX (default zh-hans)"
        )

    def handle(self, *args, **opts):
        from django.utils import translation

        with translation.override(opts["language"]):
            self._handle(opts)

    def _handle(self, opts):
        from gridmap.analysis.route_plans import plan_as_route
        from gridmap.analysis.routes import RouteInputError, route_plan, route_stops

        if opts["user"] is not None:
            user, plan = _user_route(opts)
            route = plan_as_route(plan)
            done = f"{len(route.stops)} stops, {route.length_m:.0f} m written to {opts['output']}"
            if opts["format"] == "gpx":
                text = _user_gpx(user, plan)
            else:
                text = _render(route, opts["format"], f"route: user {opts['user']}")
            emit(self, text, opts["output"], done)
            return
        try:
            start, end = _lonlat(opts["start"], "--start"), _lonlat(opts["end"], "--end")
            route = route_plan(
                route_stops(grid=opts["grid"], inspector=opts["inspector"], path=opts["stops"]),
                start=start, end=end, closed=opts["round_trip"], metric=opts["metric"],
                speed_kmh=opts["speed_kmh"], service_min=opts["service_min"], budget_min=opts["budget_min"],
            )  # fmt: skip
        except RouteInputError as exc:
            raise CommandError(str(exc)) from None
        done = (
            f"{len(route.stops)} stops, {route.length_m:.0f} m, {route.duration_min:.0f} min "
            f"written to {opts['output']}" + (f" ({len(route.dropped)} left out)" if route.dropped else "")
        )
        if opts["format"] == "gpx":
            text = _gpx(route, from_file=opts["stops"] is not None)
        else:
            text = _render(route, opts["format"], f"route: {_title(opts)}")
        emit(self, text, opts["output"], done)


def _user_route(opts: dict):
    """The user and their route page plan (shared cache)."""
    from django.contrib.auth import get_user_model

    from gridmap.accounts.selectors import role_of
    from gridmap.analysis.route_plans import (
        DEFAULT_BUDGET_MIN,
        ROUTE_ROLES,
        RouteError,
        user_route_plan,
    )
    from gridmap.analysis.routes import RouteInputError

    if opts["end"] is not None or opts["round_trip"]:
        raise CommandError("--user plans the route page's walk: it takes no --end or --round-trip")
    budget = opts["budget_min"] if opts["budget_min"] is not None else DEFAULT_BUDGET_MIN
    if not (1 <= budget <= 24 * 60):  # the page's range (a NaN fails too)
        raise CommandError("--budget-min must be between 1 and 1440 minutes with --user")
    user = get_user_model().objects.filter(username=str(opts["user"])).select_related("profile").first()
    if user is None:
        raise CommandError(f"no user {str(opts['user'])[:40]!r}")
    if role_of(user) not in ROUTE_ROLES:
        raise CommandError(
            f"user {user.get_username()!r} has no route (inspectors, grid leaders, community heads)"
        )
    try:
        start = _lonlat(opts["start"], "--start")
        return user, user_route_plan(user, start=start, budget_min=float(budget))
    except (RouteInputError, RouteError) as exc:
        raise CommandError(str(exc)) from None


def _lonlat(raw: str | None, what: str) -> tuple[float, float] | None:
    from gridmap.analysis.routes import parse_lonlat

    return parse_lonlat(raw, what=what) if raw is not None else None


def _title(opts: dict) -> str:
    if opts["grid"] is not None:
        return f"grid {opts['grid']}"
    if opts["inspector"] is not None:
        return f"inspector {opts['inspector']}"
    return Path(opts["stops"]).name


def _render(route, fmt: str, title: str) -> str:
    from layers.routes import route_geojson, route_json, route_text

    if fmt == "text":
        return route_text(route, title=title)
    data = route_geojson(route) if fmt == "geojson" else route_json(route)
    return json.dumps(data, ensure_ascii=False) + "\n"


def _user_gpx(user, plan) -> str:
    """The GPX ``/route.gpx`` gives ``user`` for this plan (same stops read through the same scope)."""
    from gridmap.analysis.route_gpx import route_gpx, stop_descriptions
    from gridmap.problems.selectors import problems_in_role_scope

    descriptions = stop_descriptions(problems_in_role_scope(user), plan.ids)
    stops = [(i, x, y) for i, (x, y) in zip(plan.ids, plan.lonlat, strict=True) if i in descriptions]
    return route_gpx(stops, plan.walk.path_lonlat, descriptions, planned_at=plan.planned_at)


def _gpx(route, *, from_file: bool) -> str:
    """A grid's, an inspector's or a file's walk as GPX (the problems described as on the page)."""
    from gridmap.analysis.route_gpx import route_gpx, stop_descriptions
    from gridmap.problems.models import Problem

    stops = [(s.id, s.lon, s.lat) for s in route.stops]
    if from_file:
        descriptions = {s.id: s.desc for s in route.stops}
    else:
        descriptions = stop_descriptions(Problem.objects.all(), [s.id for s in route.stops])
    return route_gpx(stops, route.path_lonlat, descriptions)
