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
import math
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from shapely.geometry import mapping

from gridmap.analysis.hotspots import (
    CELLS,
    STATUSES,
    CellOptions,
    ProblemFilter,
    hotspots_clusters,
    hotspots_emerging,
    hotspots_gistar,
)
from gridmap.problems.models import EventCategory
from layers.hotspots import METHODS, NORMALISE, OUTLINES, WEIGHTS

FORMATS = ("geojson", "csv", "json")
GISTAR_CONVENTION = (
    "Getis-Ord Gi* with the self weight (star=True) and binary weights; z equals esda "
    "G_Local(y, w, star=True, transform='B').Zs; p_value two-sided normal (2 x esda p_norm); "
    "hot/cold at 90/95/99 % when p < 0.10/0.05/0.01"
)
EMERGING_RULE = (
    "new: hot now, not before; intensifying: hot in both, share rose; diminishing: hot before and "
    "now not hot or share fell; persistent: hot in both, no significant change; sporadic: hot in "
    "neither, share rose; none: otherwise (hot = Gi* z > 0, p < 1 - confidence)"
)


class Command(BaseCommand):
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
        parser.add_argument("--format", choices=FORMATS, default="geojson")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, **opts):
        mode = _mode(opts)
        admin = get_user_model()(username="manage.py", is_superuser=True)  # unsaved: city-wide scope
        filters = ProblemFilter(
            categories=_categories(opts["category"]),
            status=opts["status"],
            start=_when(opts["start"], "--start"),
            end=_when(opts["end"], "--end"),
        )
        if filters.start and filters.end and filters.start >= filters.end:
            raise CommandError("--start must come before --end")
        try:
            frame, params = _run(mode, admin, filters, opts)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        extra = {k: v for k, v in _attrs(frame).items() if k not in params}
        meta = {"analysis": mode, "parameters": params, **extra}
        text = _render(frame, meta, opts["format"])
        if opts["output"]:
            try:
                Path(opts["output"]).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot write {opts['output']}: {exc}") from exc
            self.stdout.write(f"{len(frame)} rows ({mode}) written to {opts['output']}")
        else:
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")


def _mode(opts: dict) -> str:
    chosen = [m for m, on in (("clusters", opts["clusters"]), ("gistar", opts["gistar"])) if on]
    if len(chosen) > 1:
        raise CommandError("choose one of --clusters or --gistar")
    if opts["emerging"]:
        if opts["clusters"]:
            raise CommandError("--emerging works on cells (--gistar options), not with --clusters")
        mode = "emerging"
    elif chosen:
        mode = chosen[0]
    else:
        raise CommandError("choose an analysis: --clusters dbscan|hdbscan, --gistar or --emerging")
    misplaced = {
        "--eps-m": opts["eps_m"] is not None and opts["clusters"] != "dbscan",
        "--min-samples": opts["min_samples"] is not None and opts["clusters"] != "dbscan",
        "--min-cluster-size": opts["min_cluster_size"] is not None and opts["clusters"] != "hdbscan",
        "--cells": opts["cells"] is not None and mode == "clusters",
        "--h3-res": opts["h3_res"] is not None and opts["cells"] != "h3",
        "--cell-m": opts["cell_m"] is not None and opts["cells"] != "square",
        "--band-m": opts["band_m"] is not None and opts["weights"] not in (None, "band"),
        "--k": opts["k"] is not None and opts["weights"] != "knn",
        "--days": opts["days"] is not None and mode != "emerging",
        "--confidence": opts["confidence"] is not None and mode != "emerging",
        "--start": opts["start"] is not None and mode == "emerging",
        "--weights": opts["weights"] is not None and mode == "clusters",
        "--fdr": opts["fdr"] and mode == "clusters",
    }
    bad = [name for name, wrong in misplaced.items() if wrong]
    if bad:
        raise CommandError(f"{', '.join(bad)} does not apply here (see manage.py hotspots --help)")
    return mode


def _categories(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    codes = tuple(sorted({c.strip() for c in raw.split(",") if c.strip()}))
    known = set(EventCategory.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise CommandError(f"unknown category code(s): {', '.join(unknown)}")
    return codes


def _when(raw: str | None, name: str) -> datetime | None:
    """A date (local midnight) or an ISO date-time (local when it has no offset)."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw) if "T" in raw or " " in raw.strip() else None
        if value is None:
            day = date.fromisoformat(raw)
            value = datetime(day.year, day.month, day.day)
    except ValueError as exc:
        raise CommandError(f"{name}: {raw!r} is not a date (YYYY-MM-DD) or ISO date-time") from exc
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _positive(value: float | None, name: str, default: float) -> float:
    value = default if value is None else value
    if not (math.isfinite(value) and value > 0):
        raise CommandError(f"{name} must be a positive number")
    return value


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
        cell_m=_positive(opts["cell_m"], "--cell-m", 200.0),
        normalise=opts["normalise"],
        weights=weights,
        band_m=None if opts["band_m"] is None else _positive(opts["band_m"], "--band-m", 0),
        k=k,
        fdr=opts["fdr"],
    )


def _run(mode: str, user, filters: ProblemFilter, opts: dict) -> tuple[gpd.GeoDataFrame, dict]:
    params: dict[str, Any] = {
        "categories": list(filters.categories),
        "status": filters.status,
        "start": filters.start.isoformat() if filters.start else None,
        "end": filters.end.isoformat() if filters.end else None,
    }
    if mode == "clusters":
        minimum = opts["min_samples"] if opts["min_samples"] is not None else 5
        size = opts["min_cluster_size"] if opts["min_cluster_size"] is not None else 10
        if minimum < 1 or size < 2:
            raise CommandError("--min-samples must be >= 1 and --min-cluster-size >= 2")
        settings_ = {
            "method": opts["clusters"],
            "eps_m": _positive(opts["eps_m"], "--eps-m", 50.0),
            "min_samples": minimum,
            "min_cluster_size": size,
            "outline": opts["outline"],
        }
        return hotspots_clusters(user=user, filters=filters, **settings_), params | settings_
    options = _cell_options(opts)
    params |= asdict(options) | {"convention": GISTAR_CONVENTION}
    if mode == "gistar":
        return hotspots_gistar(user=user, filters=filters, options=options), params
    confidence = 0.95 if opts["confidence"] is None else opts["confidence"]
    if not 0 < confidence < 1:
        raise CommandError("--confidence must lie between 0 and 1, e.g. 0.95")
    days = _positive(opts["days"], "--days", 30.0)
    end = filters.end or timezone.now()
    params |= {"days": days, "end": end.isoformat(), "confidence": confidence, "rule": EMERGING_RULE}
    frame = hotspots_emerging(
        user=user, filters=filters, end=end, days=days, options=options, confidence=confidence
    )
    return frame, params


def _attrs(frame: gpd.GeoDataFrame) -> dict:
    return {k: _plain(v) for k, v in frame.attrs.items()}


def _plain(value: Any) -> Any:
    """A JSON-ready value: NaN/NaT → None, numpy scalars → Python, times → local ISO 8601."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        return stamp.tz_convert(settings.TIME_ZONE).isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _records(frame: gpd.GeoDataFrame) -> list[dict]:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    return [
        {c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in frame[columns].itertuples(False)
    ]


def _render(frame: gpd.GeoDataFrame, meta: dict, fmt: str) -> str:
    rows = _records(frame)
    if fmt == "json":
        return json.dumps({**meta, "rows": rows}, ensure_ascii=False, indent=1)
    if fmt == "geojson":
        features = [
            {"type": "Feature", "properties": row, "geometry": mapping(geom) if geom is not None else None}
            for row, geom in zip(rows, frame.geometry.values, strict=True)
        ]
        return json.dumps(
            {"type": "FeatureCollection", "gridmap": meta, "features": features}, ensure_ascii=False
        )
    out = io.StringIO()
    columns = [c for c in frame.columns if c != frame.geometry.name]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for k, v in row.items()}
        )
    return out.getvalue()
