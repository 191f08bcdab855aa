"""Inspection walks: which stops, in which order, along which streets, written out how.

- order a distance matrix: ``plan_route`` (fast-tsp, exact for few stops), ``held_karp``,
  ``nearest_neighbour_route``, ``route_length_m`` (:mod:`layers.routes.order`,
  :mod:`layers.routes.exact`); within a time budget: ``plan_route_with_budget``
  (:mod:`layers.routes.budget`);
- a walk from places: ``plan_walk`` and ``stop_distances_m`` (:mod:`layers.routes.walk`), leg
  by leg along the streets: ``plan_street_walk`` (:mod:`layers.routes.legs`); for any number of
  stops, narrowed first to those the budget can reach, best first: ``reach_from``,
  ``narrow_stops``, ``plan_narrowed_walk`` (:mod:`layers.routes.narrow`);
- output: ``route_json``, ``route_geojson``, ``route_gpx``, ``route_text``
  (:mod:`layers.routes.output`) and GPX 1.1 documents (:mod:`layers.routes.gpx`).
"""

from layers.routes.budget import plan_route_with_budget, route_duration_min
from layers.routes.exact import HELD_KARP_MAX_N, held_karp, route_length_m
from layers.routes.gpx import GPX_NS, Waypoint, gpx_document, read_gpx
from layers.routes.legs import StreetWalk, plan_street_walk
from layers.routes.narrow import MAX_CANDIDATES, candidate_cap, narrow_stops, plan_narrowed_walk, reach_from
from layers.routes.order import nearest_neighbour_route, plan_route, reachable_mask
from layers.routes.output import route_geojson, route_gpx, route_json, route_text
from layers.routes.walk import Metric, PlannedRoute, RouteError, RouteStop, plan_walk, stop_distances_m

__all__ = [
    "GPX_NS",
    "HELD_KARP_MAX_N",
    "MAX_CANDIDATES",
    "Metric",
    "PlannedRoute",
    "RouteError",
    "RouteStop",
    "StreetWalk",
    "Waypoint",
    "candidate_cap",
    "gpx_document",
    "held_karp",
    "narrow_stops",
    "nearest_neighbour_route",
    "plan_route",
    "plan_route_with_budget",
    "plan_street_walk",
    "plan_narrowed_walk",
    "plan_walk",
    "reach_from",
    "reachable_mask",
    "read_gpx",
    "route_duration_min",
    "route_geojson",
    "route_gpx",
    "route_json",
    "route_length_m",
    "route_text",
    "stop_distances_m",
]
