"""Hotspots of problems (administrator scope): density clusters, Gi* hot cells, emerging hotspots.

manage.py hotspots --clusters dbscan [--eps-m 50 --min-samples 5]
manage.py hotspots --clusters hdbscan [--min-cluster-size 10]
manage.py hotspots --gistar [--cells grids|h3|square] [--h3-res 10] [--cell-m 200]
                   [--normalise area|street|none] [--weights queen|band|knn] [--band-m 300] [--k 8]
manage.py hotspots --emerging [--days 30] [--end DATE] [cell options as --gistar]
common: [--category 0101,0302] [--status open|all] [--start DATE] [--end DATE]
        [--format geojson|csv|json] [--output PATH]
"""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
from django.core.management.base import CommandError

from gridmap.analysis.coverage import cli_user
from gridmap.analysis.hotspots import (
    CELLS,
    STATUSES,
    CellOptions,
    ClusterOptions,
    EmergingOptions,
    ProblemFilter,
    hotspots_report,
)
from gridmap.core.management.cli import (
    CSV_CODE_COLUMNS,
    NoWebCommand,
    add_output_arguments,
    emit,
    parse_when,
    plain,
    positive,
    records,
)
from gridmap.problems.models import EventCategory
from layers.hotspots import METHODS, NORMALISE, OUTLINES, WEIGHTS
from layers.io import code_text, collection, dumps, frame_features

FORMATS = ("geojson", "csv", "json")
# An option given where it does not apply is refused: option -> (what it depends on, values it needs).
APPLIES_WHEN = {
    "eps_m": ("clusters", {"dbscan"}),
    "min_samples": ("clusters", {"dbscan"}),
    "min_cluster_size": ("clusters", {"hdbscan"}),
    "cells": ("mode", {"gistar", "emerging"}),
    "h3_res": ("cells", {"h3"}),
    "cell_m": ("cells", {"square"}),
    "band_m": ("weights", {None, "band"}),
    "k": ("weights", {"knn"}),
    "days": ("mode", {"emerging"}),
    "confidence": ("mode", {"emerging"}),
    "start": ("mode", {"clusters", "gistar"}),
    "weights": ("mode", {"gistar", "emerging"}),
    "fdr": ("mode", {"gistar", "emerging"}),
}


class Command(NoWebCommand):
    help = "Hotspots of problems: --clusters dbscan|hdbscan, --gistar, or --emerging (see the module doc)."

    def add_arguments(self, parser):
        parser.add_argument("--clusters", choices=METHODS, help="density clusters in metres")
        parser.add_argument("--gistar", action="store_true", help="Getis-Ord Gi* hot and cold cells")
        parser.add_argument("--emerging", action="store_true", help="this period against the last")
        parser.add_argument("--eps-m", type=float, help="DBSCAN radius in metres (default 50)")
        parser.add_argument("--min-samples", type=int, help="DBSCAN core size, itself included (default 5)")
        parser.add_argument("--min-cluster-size", type=int, help="HDBSCAN smallest cluster (default 10)")
        parser.add_argument("--outline", choices=OUTLINES, default="convex")
        parser.add_argument("--cells", choices=CELLS, help="unit grids (default), H3 hexagons or squares")
        parser.add_argument("--h3-res", type=int, help="H3 resolution 0-15 (default 10)")
        parser.add_argument("--cell-m", type=float, help="square cell side in metres (default 200)")
        parser.add_argument("--normalise", choices=NORMALISE, default="area", help="per km², per street km")
        parser.add_argument("--weights", choices=WEIGHTS, help="queen (default), band, knn")
        parser.add_argument("--band-m", type=float, help="distance band in metres (implies --weights band)")
        parser.add_argument("--k", type=int, help="neighbours for --weights knn (default 8)")
        parser.add_argument("--fdr", action="store_true", help="false discovery rate thresholds")
        parser.add_argument("--days", type=float, help="--emerging window length in days (default 30)")
        parser.add_argument("--confidence", type=float, help="--emerging confidence (default 0.95)")
        parser.add_argument("--category", help="category codes, comma-separated (default: all)")
        parser.add_argument("--status", choices=STATUSES, default="all", help="all: not rejected/duplicate")
        parser.add_argument("--start", help="reported on or after (date or ISO time, local)")
        parser.add_argument("--end", help="reported before (exclusive; with --emerging: end of now)")
        add_output_arguments(parser, FORMATS, default="geojson")

    def handle(self, *args, **opts):
        mode = _mode(opts)
        filters = _filters(opts)
        try:
            frame, params = hotspots_report(
                mode,
                user=cli_user(),
                filters=filters,
                clusters=_cluster_options(opts) if mode == "clusters" else None,
                cells=_cell_options(opts) if mode != "clusters" else None,
                emerging=_emerging_options(opts) if mode == "emerging" else None,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        extra = {k: plain(v) for k, v in frame.attrs.items() if k not in params}
        text = _render(frame, {"analysis": mode, "parameters": params, **extra}, opts["format"])
        emit(self, text, opts["output"], f"{len(frame)} rows ({mode}) written to {opts['output']}")


def _mode(opts: dict) -> str:
    if opts["clusters"] and opts["gistar"]:
        raise CommandError("choose one of --clusters or --gistar")
    if opts["clusters"] and opts["emerging"]:
        raise CommandError("--emerging works on cells (--gistar options), not with --clusters")
    chosen = [m for m in ("emerging", "gistar", "clusters") if opts[m]]  # --emerging reads --gistar's
    if not chosen:
        raise CommandError("choose an analysis: --clusters dbscan|hdbscan, --gistar or --emerging")
    mode = chosen[0]
    if bad := _misplaced(opts, mode):
        raise CommandError(f"{', '.join(bad)} does not apply here (see manage.py hotspots --help)")
    return mode


def _misplaced(opts: dict, mode: str) -> list[str]:
    """The options given that do not apply to this analysis (APPLIES_WHEN)."""
    context = {**opts, "mode": mode}
    given = [
        name for name in APPLIES_WHEN if opts[name] is not None and opts[name] is not False
    ]  # 0 is given
    return [
        "--" + name.replace("_", "-")
        for name in given
        if context[APPLIES_WHEN[name][0]] not in APPLIES_WHEN[name][1]
    ]


def _filters(opts: dict) -> ProblemFilter:
    filters = ProblemFilter(
        categories=_categories(opts["category"]),
        status=opts["status"],
        start=parse_when(opts["start"], "--start"),
        end=parse_when(opts["end"], "--end"),
    )
    if filters.start and filters.end and filters.start >= filters.end:
        raise CommandError("--start must come before --end")
    return filters


def _categories(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    codes = tuple(sorted({c.strip() for c in raw.split(",") if c.strip()}))
    known = set(EventCategory.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise CommandError(f"unknown category code(s): {', '.join(unknown)}")
    return codes


def _cluster_options(opts: dict) -> ClusterOptions:
    minimum = opts["min_samples"] if opts["min_samples"] is not None else 5
    size = opts["min_cluster_size"] if opts["min_cluster_size"] is not None else 10
    if minimum < 1 or size < 2:
        raise CommandError("--min-samples must be >= 1 and --min-cluster-size >= 2")
    return ClusterOptions(
        method=opts["clusters"],
        eps_m=positive(opts["eps_m"], "--eps-m", 50.0),
        min_samples=minimum,
        min_cluster_size=size,
        outline=opts["outline"],
    )


def _cell_options(opts: dict) -> CellOptions:
    weights = opts["weights"] or ("band" if opts["band_m"] is not None else "queen")
    if weights == "band" and opts["band_m"] is None:
        raise CommandError("--weights band needs --band-m (metres)")
    h3_res = 10 if opts["h3_res"] is None else opts["h3_res"]
    if not 0 <= h3_res <= 15:
        raise CommandError("--h3-res must be from 0 to 15")
    k = 8 if opts["k"] is None else opts["k"]
    if k < 1:
        raise CommandError("--k must be at least 1")
    return CellOptions(
        cells=opts["cells"] or "grids",
        h3_res=h3_res,
        cell_m=positive(opts["cell_m"], "--cell-m", 200.0),
        normalise=opts["normalise"],
        weights=weights,
        band_m=None if opts["band_m"] is None else positive(opts["band_m"], "--band-m", 0),
        k=k,
        fdr=opts["fdr"],
    )


def _emerging_options(opts: dict) -> EmergingOptions:
    confidence = 0.95 if opts["confidence"] is None else opts["confidence"]
    if not 0 < confidence < 1:
        raise CommandError("--confidence must lie between 0 and 1, e.g. 0.95")
    return EmergingOptions(days=positive(opts["days"], "--days", 30.0), confidence=confidence)


def _render(frame: gpd.GeoDataFrame, meta: dict, fmt: str) -> str:
    rows = records(frame)
    if fmt == "json":
        return json.dumps({**meta, "rows": rows}, ensure_ascii=False, indent=1)
    if fmt == "geojson":  # the one writer: right-hand winding, no null geometry
        written = frame_features(frame)
        meta = {**meta, "dropped_empty": written.dropped_empty} if written.dropped_empty else meta
        return dumps(collection(written.features, gridmap=meta)).decode()
    out = io.StringIO()
    columns = [c for c in frame.columns if c != frame.geometry.name]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:  # codes as text for spreadsheets, mappings as JSON
        writer.writerow({
            k: code_text(v) if k in CSV_CODE_COLUMNS else json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
            for k, v in row.items()
        })  # fmt: skip
    return out.getvalue()
