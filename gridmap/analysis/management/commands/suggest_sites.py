"""Suggest new sites for a facility kind in one grid or community (administrator scope)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from gridmap.analysis.coverage import cli_user
from gridmap.analysis.siting import SitingError, sites_suggest
from gridmap.core.management.cli import (
    DocumentedCommand,
    NoWebCommand,
    add_metric_argument,
    add_output_arguments,
    emit,
    plain,
)
from layers.io import geometry_mapping
from layers.siting import METHODS, SitingResult

HELP = """Suggest where new facilities of KIND would cover the buildings left uncovered.

  --cover-all   the fewest new sites covering every uncovered building a candidate can reach
  --best P      the P new sites covering the most households (a building with none counts 1)

Candidates are points along the streets in the area, at most --candidate-spacing-m apart
(crossings included). Existing facilities keep covering what they cover. Coverage is within
--radius-m (default: the kind's service radius) straight (footprint to point) or walking
along the streets (--metric network). Buildings no candidate reaches are listed as
unreachable. Optimal by integer programming (CBC); "method" and "bound" in the summary say so,
or give the greedy guarantee on very large areas.

  geojson  a FeatureCollection of the sites (points, EPSG:4326) with site, candidate, street,
           street_name, buildings and households newly covered (each building at its nearest
           new site), building_ids, reaches (uncovered buildings within reach), max_distance_m;
           plus "summary" and "unreachable" (id, households, lon, lat) members.
  json     {summary, sites (as above with lon/lat), unreachable, uncovered}."""


def _rows(frame: Any) -> list[dict[str, Any]]:
    """Records with lon/lat of each geometry's representative point (7 decimals) instead of it."""
    points = frame.geometry.representative_point()
    cols = [c for c in frame.columns if c != "geometry"]
    out = []
    for i, row in enumerate(frame[cols].itertuples(index=False)):
        record = {c: plain(v) for c, v in zip(cols, row, strict=True)}
        record["lon"], record["lat"] = round(points.iloc[i].x, 7), round(points.iloc[i].y, 7)
        out.append(record)
    return out


def render(result: SitingResult, fmt: str) -> dict[str, Any]:
    summary = plain(result.summary)
    unreachable = _rows(result.unreachable)
    if fmt == "json":
        return {
            "summary": summary,
            "sites": _rows(result.sites),
            "unreachable": unreachable,
            "uncovered": _rows(result.uncovered),
        }
    features = []
    for record, geom in zip(_rows(result.sites), result.sites.geometry, strict=True):
        props = {k: v for k, v in record.items() if k not in ("lon", "lat")}
        shape = geometry_mapping(geom)  # the one writer's rule (sites are points, never empty)
        if shape is not None:
            features.append({"type": "Feature", "properties": props, "geometry": shape})
    return {"type": "FeatureCollection", "features": features, "summary": summary, "unreachable": unreachable}


class Command(DocumentedCommand, NoWebCommand):
    help = HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help="facility kind code, e.g. hydrant, refuse_point, toilet")
        area = parser.add_mutually_exclusive_group(required=True)
        area.add_argument("--grid", help="15-digit grid code")
        area.add_argument("--community", help="12-digit community code")
        goal = parser.add_mutually_exclusive_group(required=True)
        goal.add_argument("--cover-all", action="store_true", help="fewest sites covering everything")
        goal.add_argument("--best", type=int, metavar="P", help="the P sites covering the most households")
        parser.add_argument("--candidate-spacing-m", type=float, default=25.0, help="metres (default 25)")
        parser.add_argument("--radius-m", type=float, help="service radius (default: the kind's)")
        add_metric_argument(parser)
        parser.add_argument("--method", choices=METHODS, default="auto", help="auto: ILP unless huge")
        parser.add_argument("--time-limit-s", type=float, default=60.0, help="ILP time limit (default 60)")
        add_output_arguments(parser, ("geojson", "json"), default="geojson")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["best"] is not None and opts["best"] < 0:
            raise CommandError("--best must be 0 or more")
        try:
            result = sites_suggest(
                user=cli_user(),
                kind=opts["kind"],
                grid=opts["grid"],
                community=opts["community"],
                best=opts["best"],
                candidate_spacing_m=opts["candidate_spacing_m"],
                radius_m=opts["radius_m"],
                metric=opts["metric"],
                method=opts["method"],
                time_limit_s=opts["time_limit_s"],
            )
        except SitingError as exc:
            raise CommandError(str(exc)) from exc
        s = result.summary
        done = (
            f"{s['sites']} sites, {s['covered_buildings']} of {s['demand_buildings']} uncovered "
            f"buildings covered, {s['unreachable_buildings']} unreachable → {opts['output']}"
        )
        emit(
            self, json.dumps(render(result, opts["format"]), ensure_ascii=False) + "\n", opts["output"], done
        )
