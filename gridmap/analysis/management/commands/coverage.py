"""Coverage of a facility kind against its standard: per building, per grid, or the defects."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from gridmap.analysis.coverage import (
    RULES,
    CoverageError,
    CoverageResult,
    cli_user,
    coverage_area,
    coverage_run,
)
from gridmap.core.management.cli import (
    CSV_CODE_COLUMNS,
    DocumentedCommand,
    NoWebCommand,
    add_metric_argument,
    add_output_arguments,
    emit,
    plain,
    records,
)
from layers.io import code_text, collection, dumps, frame_features

HELP = """Check a facility kind against its standard and print the result.

Which rule runs (default by kind, or --rule):
  radius     kinds with a service radius (hydrant 150 m, refuse_point 70 m, toilet ...) or with
             --radius-m: every building's nearest facility and distance, straight (footprint
             to facility) and walking along the streets; covered = within the radius by --metric.
  spacing    kinds with a maximum spacing (litter_bin by road class 100/200/400 m, or
             --spacing-m): stretches of street longer than the rule with no facility within 20 m.
  crossings  curb_ramp: footway crossings with no curb ramp within 20 m.
  tactile    tactile_paving: breaks, broken/blocked pieces, open 0303 obstruction reports nearby.
  parking    car_park: accessible spaces against GB 50763 (>= 2 %, >= 2 from 50 spaces).

What each format holds:
  geojson  radius: one feature per building (EPSG:4326 footprint; id, grid, households,
           straight_/network_ facility, distance _m, _covered, and covered by --metric);
           with --area: the uncovered part of each grid instead (code, area_m2, uncovered_m2).
           Other rules: one feature per finding (the gap stretch, crossing, defect, car park).
  csv      radius: the per-grid gap table (buildings, households, uncovered buildings and
           households, household-weighted coverage share and farthest building per metric),
           sorted by uncovered households. Other rules: one row per finding, with lon/lat of
           a point on it instead of the geometry; lists joined with ";".
  json     {kind, rule, metric, limit_m, summary, grids (the gap table, radius only),
           uncovered (ids of uncovered buildings, radius) or findings (without geometry)}.
Distances are metres. Unknown kinds or grids are errors."""


def _geojson(frame: gpd.GeoDataFrame) -> str:
    """The one writer's FeatureCollection: right-hand winding; a row without a geometry (a grid
    left wholly covered by --area) is left out and counted under ``dropped_empty``."""
    plain = frame.copy()
    columns = [c for c in frame.columns if c != frame.geometry.name]
    plain[columns] = pd.DataFrame(records(frame), index=frame.index, columns=columns)
    written = frame_features(plain)
    return dumps(collection(written.features, dropped_empty=written.dropped_empty)).decode()


def _csv(frame: pd.DataFrame) -> str:
    out = frame.copy()
    if isinstance(out, gpd.GeoDataFrame):
        points = out.geometry.representative_point()
        out = pd.DataFrame(out.drop(columns="geometry"))
        out["lon"], out["lat"] = points.x.round(7), points.y.round(7)
    for col in out.columns:
        if col.endswith(("_m", "_m2")):
            out[col] = out[col].round(3)
        elif "share" in col:
            out[col] = out[col].round(4)
        if out[col].map(lambda v: isinstance(v, (list, tuple))).any():
            out[col] = out[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    for col in CSV_CODE_COLUMNS.intersection(out.columns):  # grid codes: text for spreadsheets
        out[col] = out[col].map(code_text)
    return out.replace([np.inf, -np.inf], np.nan).to_csv(index=False)


class Command(DocumentedCommand, NoWebCommand):
    help = HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help="facility kind code, e.g. hydrant, litter_bin, curb_ramp")
        add_metric_argument(parser)
        parser.add_argument("--radius-m", type=float, help="service radius (default: the kind's)")
        parser.add_argument("--spacing-m", type=float, help="one maximum spacing for every road class")
        parser.add_argument("--grid", help="15-digit grid code (default: every grid in scope)")
        parser.add_argument("--rule", choices=RULES, help="rule to run (default: by kind)")
        add_output_arguments(parser, ("geojson", "csv", "json"), default="json")
        parser.add_argument("--area", action="store_true", help="geojson of the uncovered area per grid")
        parser.add_argument("--uncovered-only", action="store_true", help="radius geojson: uncovered only")
        parser.add_argument(
            "--exclude-condition",
            action="append",
            default=[],
            choices=["good", "damaged", "broken", "blocked", "missing"],
            help="facilities in this condition do not count (repeatable)",
        )
        parser.add_argument(
            "--use",
            action="append",
            help="radius: only buildings of this use (repeatable; default: residential for "
            "refuse_point, commercial and public for toilet, else all)",
        )
        parser.add_argument("--user", help="run in this user's scope (default: administrator)")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = cli_user()
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user {opts['user']!r}")
        try:
            text = self._render(user, opts)
        except CoverageError as exc:
            raise CommandError(str(exc)) from None
        emit(self, text, opts["output"], f"wrote {opts['output']}")

    def _render(self, user: Any, opts: dict[str, Any]) -> str:
        common = {"user": user, "kind": opts["kind"], "metric": opts["metric"], "grid": opts["grid"]}
        if opts["area"]:
            if opts["format"] != "geojson":
                raise CoverageError("--area prints polygons: use --format geojson")
            area = coverage_area(radius_m=opts["radius_m"], **common)
            return _geojson(area)
        result = coverage_run(
            both_metrics=True,  # the report shows the walking figures beside the straight ones
            radius_m=opts["radius_m"],
            spacing_m=opts["spacing_m"],
            rule=opts["rule"],
            exclude_conditions=tuple(opts["exclude_condition"]),
            building_uses=tuple(opts["use"]) if opts["use"] else None,
            **common,
        )
        if opts["format"] == "geojson":
            items = result.items
            if opts["uncovered_only"] and result.rule == "radius":
                items = items[~items["covered"]]
            return _geojson(items)
        if opts["format"] == "csv":
            return _csv(result.grids if result.grids is not None else result.items)
        return json.dumps(self._summary(result), ensure_ascii=False, indent=1)

    @staticmethod
    def _summary(result: CoverageResult) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "kind": result.kind,
            "rule": result.rule,
            "metric": result.metric,
            "limit_m": result.limit_m,
            "summary": {k: plain(v) for k, v in result.summary.items()},
        }
        if result.grids is not None:
            doc["grids"] = records(result.grids)
            doc["uncovered"] = [plain(v) for v in result.items.loc[~result.items["covered"], "id"]]
        else:
            doc["findings"] = records(result.items)
        return doc
