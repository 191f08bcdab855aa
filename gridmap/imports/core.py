"""The one import core behind ``import_layer``, ``import_osm`` and ``load_demo``.

Flow: a reader from ``layers`` gives rows in EPSG:4326 with raw coordinates already checked →
each row is converted by its target (attributes checked, lookups resolved) or rejected with a
reason → places are derived in batch (grid, community; problems placed and later inserted by the
intake's batch entry, ``gridmap.problems.intake``) → the plan is counted
(create vs update, by key) → with ``commit`` everything is written in one transaction, otherwise
nothing is. Importing the same file again updates the rows it created.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.db import transaction

from gridmap.core.gdf import to_gdf
from gridmap.core.geoinput import geos_from_shapely, service_area
from gridmap.geography.models import Community, District, Grid, Subdistrict
from gridmap.imports.targets import KEY_COLUMNS, TARGETS, Lookups, Reject, Target, key_text
from gridmap.problems.intake import problems_insert, problems_place
from gridmap.problems.models import Problem
from layers.assign import assign_areas
from layers.projection import metric_crs_for
from layers.validate import GeometryInputError, check_lonlat

REGION_ORDER = (District, Subdistrict, Community)


# Exit codes of the import commands (README, "Importing real data").
EXIT_REFUSED = 1  # nothing written: refused by --strict, stopped (Ctrl-C) or the file cannot be read
EXIT_REJECTED = 3  # some rows rejected: with --commit every other row was written


@dataclass
class ImportReport:
    """What an import did. ``outcome``: "committed", "dry run", "refused" (--strict found rejected
    rows) or "stopped" (interrupted); only "committed" wrote anything."""

    committed: bool = False
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    rejected: list[tuple[str, Any, str]] = field(default_factory=list)
    outcome: str = "dry run"

    def reject(self, kind: str, row: Any, reason: str) -> None:
        self.counts[kind]["rejected"] += 1
        self.rejected.append((kind, row, reason))

    def stop(self) -> None:
        """Interrupted inside the import call: its transaction was rolled back, nothing written."""
        self.committed = False
        self.outcome = "stopped"

    def headline(self) -> str:
        n = len(self.rejected)
        if self.outcome == "committed":
            return "import committed" + (f"; {n} rejected rows were not written" if n else "")
        if self.outcome == "refused":
            return f"import refused by --strict ({n} rows rejected); nothing written"
        if self.outcome == "stopped":
            return "import stopped (interrupted) before the end; nothing written"
        return "dry run (nothing written; add --commit)"

    def lines(self) -> list[str]:
        out = [self.headline()]
        done = self.outcome == "committed"
        create, update = ("created", "updated") if done else ("would create", "would update")
        for kind, c in sorted(self.counts.items()):
            out.append(
                f"  {kind}: read {c['read']}, {create} {c['created']}, {update} {c['updated']}, "
                f"unchanged {c['unchanged']}, rejected {c['rejected']}"
            )
        if self.outcome == "stopped":
            out.append("  (counted before the stop)")
        out += [f"  rejected {kind} row {row}: {reason}" for kind, row, reason in self.rejected]
        return out

    def exit_code(self) -> int:
        if self.outcome in ("refused", "stopped"):
            return EXIT_REFUSED
        return EXIT_REJECTED if self.rejected else 0


@dataclass
class Planned:
    kind: str
    row: Any
    key: str
    model: type
    fields: dict[str, Any]
    geom: Any  # shapely, EPSG:4326


def geometry_key(geom: Any) -> str:
    # Rounded to ~1 cm so a re-export with other float noise keeps its key.
    rounded = shapely.set_precision(geom, 1e-7)
    return "g" + hashlib.sha1(shapely.to_wkb(rounded)).hexdigest()[:16]


def shape_geometry(geom: Any, target: Target, fields: dict[str, Any]) -> list[Any]:
    """The parts to store: polygons are kept whole (stored as MultiPolygon); multi-part lines,
    points and facility polygons are split into one stored feature per part."""
    if target.name in {"regions", "grids", "buildings"}:
        return [geom]
    want = fields.pop("_geom_type", None)
    parts = list(getattr(geom, "geoms", [geom]))
    if want and parts[0].geom_type != want:
        raise Reject(f"this kind takes {want} geometry, not {geom.geom_type}")
    return parts


def _row_key(row: dict[str, Any], key_column: str | None) -> str | None:
    columns = [key_column] if key_column else KEY_COLUMNS
    for col in columns:
        value = row.get(col)
        if value is not None and str(value).strip() and str(value) != "nan":
            return key_text(str(value).strip().removesuffix(".0"))
    return None


def plan_rows(
    target: Target,
    frame: gpd.GeoDataFrame,
    *,
    kind: str,
    source: str,
    key_column: str | None,
    options: dict[str, Any],
    lookups: Lookups,
    report: ImportReport,
) -> list[Planned]:
    planned: list[Planned] = []
    seen: set[str] = set()
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    area = service_area()
    for rec, geom in zip(records, frame.geometry.values, strict=True):
        row = rec.get("_row", "?")
        report.counts[kind]["read"] += 1
        try:
            if area is not None:
                _check_in_area(geom, area)
            fields = target.convert(rec, lookups, options)
            model = fields.pop("_model", target.model)
            parts = shape_geometry(geom, target, fields)
            base = fields["code"] if target.key_field == "code" else _row_key(rec, key_column)
            for i, part in enumerate(parts):
                key = base or geometry_key(part)
                if target.key_field != "code":
                    key = (f"{source}:{key}" if source else key) + (f"#{i + 1}" if len(parts) > 1 else "")
                if key in seen:
                    raise Reject(f"duplicate key {key!r} in this file")
                seen.add(key)
                planned.append(Planned(kind, row, key, model, dict(fields), part))
        except Reject as exc:
            report.reject(kind, row, str(exc))
        if target.name == "regions" and planned and planned[-1].row == row:
            _remember_region(planned[-1], lookups)
    return planned


def _check_in_area(geom: Any, area: Any) -> None:
    """The configured service area holds every door's positions, imported rows' too."""
    x0, y0, x1, y1 = geom.bounds
    try:
        check_lonlat(x0, y0, area=area)
        check_lonlat(x1, y1, area=area)
    except GeometryInputError as exc:
        raise Reject(str(exc)) from None


def _remember_region(p: Planned, lookups: Lookups) -> None:
    # Lets a community row name a street/town planned earlier in the same file (dry runs too).
    table = {District: lookups.districts, Subdistrict: lookups.subdistricts, Community: lookups.communities}
    table[p.model].setdefault(p.key, -1)


def derive_places(target: Target, planned: list[Planned]) -> None:
    """Grid/community by representative point, facility link and metric area/length, in batch."""
    if not planned or target.name == "regions":
        return
    geoms = gpd.GeoSeries([p.geom for p in planned], crs="EPSG:4326")
    if target.name in {"grids", "streets"}:
        metric = geoms.to_crs(metric_crs_for(geoms))
        attr, values = ("area_m2", metric.area) if target.name == "grids" else ("length_m", metric.length)
        for p, v in zip(planned, values, strict=True):
            p.fields[attr] = round(float(v), 2)
        return
    if target.name == "problems":
        _place_problems(planned)
        return
    points = gpd.GeoSeries(shapely.point_on_surface(geoms.values), index=geoms.index, crs="EPSG:4326")
    grids = to_gdf(Grid.objects.all(), ["code", "id", "community_id"])
    grid_codes = assign_areas(points, grids)
    by_code = grids.set_index("code")
    communities = to_gdf(Community.objects.all(), ["code", "id"]).set_index("code", drop=False)
    comm_codes = assign_areas(points, communities.reset_index(drop=True))
    for i, p in enumerate(planned):
        gcode = grid_codes.iloc[i]
        p.fields["grid_id"] = int(by_code.at[gcode, "id"]) if gcode else None
        if target.name == "buildings":
            ccode = comm_codes.iloc[i]
            community = (
                by_code.at[gcode, "community_id"]
                if gcode
                else (communities.at[ccode, "id"] if ccode else None)
            )
            p.fields["community_id"] = int(community) if community is not None else None


def _place_problems(planned: list[Planned]) -> None:
    """Grid, community and facility of imported problems, as the intake decides them."""
    categories = [p.fields.pop("_category") for p in planned]
    places = problems_place([(p.geom.x, p.geom.y) for p in planned], categories)
    for p, (grid_id, community_id, facility_id) in zip(planned, places, strict=True):
        p.fields.update(grid_id=grid_id, community_id=community_id, facility_id=facility_id)


def write(target: Target, planned: list[Planned], report: ImportReport, *, commit: bool) -> None:
    by_model: dict[type, list[Planned]] = defaultdict(list)
    for p in planned:
        by_model[p.model].append(p)
    models = [m for m in REGION_ORDER if m in by_model] if target.name == "regions" else list(by_model)
    multi = target.name in {"regions", "grids", "buildings"}
    for model in models:
        rows = by_model[model]
        key_field = "code" if target.key_field == "code" else "source_key"
        existing = dict(
            model.objects.filter(**{f"{key_field}__in": [p.key for p in rows]}).values_list(key_field, "pk")
        )
        _resolve_parents(model, rows)
        same = unchanged_keys(model, [p for p in rows if p.key in existing], key_field, multi=multi)
        for p in rows:
            state = "unchanged" if p.key in same else "updated" if p.key in existing else "created"
            report.counts[p.kind][state] += 1
        if commit:
            _save(model, [p for p in rows if p.key not in same], existing, key_field, multi=multi)


def _comparable(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def unchanged_keys(model: type, rows: list[Planned], key_field: str, *, multi: bool) -> set[str]:
    """Keys of stored rows whose attributes, geometry and responsible people equal the plan's,
    so a re-import rewrites only what changed."""
    if not rows:
        return set()
    fields = [f for f in rows[0].fields if not f.startswith("_") and f != key_field]
    stored = {
        r[key_field]: r
        for r in model.objects.filter(**{f"{key_field}__in": [p.key for p in rows]})
        .annotate(_wkb=AsWKB("geom"))
        .values(key_field, "pk", "_wkb", *fields)
    }
    direct: dict[int, set[int]] = defaultdict(set)
    if "_direct" in rows[0].fields:
        through = model.direct_responsible.through
        for grid_id, user_id in through.objects.filter(
            grid_id__in=[r["pk"] for r in stored.values()]
        ).values_list("grid_id", "user_id"):
            direct[grid_id].add(user_id)
    same = set()
    for p in rows:
        old = stored.get(p.key)
        if old is None or any(_comparable(old[f]) != _comparable(p.fields[f]) for f in fields):
            continue
        if "_direct" in p.fields and direct[old["pk"]] != {u for u in p.fields["_direct"] if u}:
            continue
        new_geom = shapely.MultiPolygon([p.geom]) if multi and p.geom.geom_type == "Polygon" else p.geom
        old_geom = shapely.force_2d(shapely.from_wkb(bytes(old["_wkb"])))
        if shapely.equals_exact(old_geom, new_geom, tolerance=1e-9):
            same.add(p.key)
    return same


def _resolve_parents(model: type, rows: list[Planned]) -> None:
    """Regions planned in the same file as their parent get the parent's id once it is saved."""
    parent = {Subdistrict: ("district_id", District, 6), Community: ("subdistrict_id", Subdistrict, 9)}
    if model not in parent:
        return
    attr, parent_model, length = parent[model]
    ids = dict(parent_model.objects.values_list("code", "pk"))
    for p in rows:
        if p.fields[attr] == -1:
            p.fields[attr] = ids[p.key[:length]]


def _save(model: type, rows: list[Planned], existing: dict[str, int], key_field: str, *, multi: bool) -> None:
    if not rows:
        return
    objects, updates, directs = [], [], []
    for p in rows:
        direct = p.fields.pop("_direct", None)
        obj = model(**{**p.fields, key_field: p.key}, geom=geos_from_shapely(p.geom, multi=multi))
        if p.key in existing:
            obj.pk = existing[p.key]
            updates.append(obj)
        else:
            objects.append(obj)
        if direct is not None:
            directs.append((obj, direct))
    fields = [f for f in {**rows[0].fields, "geom": 1} if f not in {"code", "source_key"}]
    if updates:
        model.objects.bulk_update(updates, fields, batch_size=500)
    if model is Problem:
        problems_insert(objects)  # the intake's batch entry: each with its report event
    else:
        model.objects.bulk_create(objects, batch_size=500)
    if directs:
        if not all(o.pk for o, _ in directs):  # backends that do not return ids from bulk_create
            ids = dict(model.objects.filter(code__in=[o.code for o, _ in directs]).values_list("code", "pk"))
            for o, _ in directs:
                o.pk = ids[o.code]
        for obj, users in directs:
            obj.direct_responsible.set([u for u in users if u])


class ImportRefused(Exception):
    """--strict and some rows were rejected: nothing was written."""


def import_frames(
    target_name: str,
    frames: dict[str, gpd.GeoDataFrame],
    *,
    source: str,
    commit: bool,
    strict: bool = False,
    key_column: str | None = None,
    options: dict[str, Any] | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import frames (kind label → rows in EPSG:4326) into a target, all or nothing.

    Every frame is planned first; only then, with ``commit``, is anything written, in one
    transaction. With ``strict``, any rejected row (including those ``report`` already holds
    from reading) refuses the whole import.
    """
    target = TARGETS[target_name]
    report = report or ImportReport()
    lookups = Lookups.load()
    plans: list[list[Planned]] = []
    for kind, frame in frames.items():
        opts = dict(options or {})
        if target_name == "facilities" and kind in lookups.kinds:
            opts.setdefault("kind", kind)
        planned = plan_rows(
            target,
            frame,
            kind=kind,
            source=source,
            key_column=key_column,
            options=opts,
            lookups=lookups,
            report=report,
        )
        derive_places(target, planned)
        plans.append(planned)
    refused = strict and bool(report.rejected)
    commit = commit and not refused
    with transaction.atomic():
        for planned in plans:
            write(target, planned, report, commit=commit)
    report.committed = commit
    report.outcome = "committed" if commit else "refused" if refused else "dry run"
    if refused:
        raise ImportRefused(f"{len(report.rejected)} rows rejected with --strict; nothing was written")
    return report


def frame_from_records(records: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
    """A frame in the shape the readers give (used by tests and by load_demo's users)."""
    frame = pd.DataFrame(records)
    frame["_row"] = range(1, len(records) + 1)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
