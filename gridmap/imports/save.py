"""Writing a planned batch: counted as created, updated or unchanged by key, and with ``commit``
saved (bulk update of changed rows, bulk insert of new ones; problems through the intake's batch
entry, ``problems_insert``). Called by ``core.import_frames`` inside its one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import shapely
from django.contrib.gis.db.models.functions import AsWKB

from gridmap.core.geoinput import geos_from_shapely
from gridmap.geography.models import Community, District, Subdistrict
from gridmap.imports.targets import Target
from gridmap.problems.intake import problems_insert
from gridmap.problems.models import Problem

if TYPE_CHECKING:
    from gridmap.imports.core import ImportReport, Planned

REGION_ORDER = (District, Subdistrict, Community)


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
            p.fields[attr] = ids.get(p.key[:length], -1)  # a dry run did not save the parent


def _save(model: type, rows: list[Planned], existing: dict[str, int], key_field: str, *, multi: bool) -> None:
    if not rows:
        return
    objects, updates, directs = [], [], []
    new_problems = []
    for p in rows:
        direct = p.fields.pop("_direct", None)
        if model is Problem and p.key not in existing:
            new_problems.append({**p.fields, key_field: p.key, "geom": p.geom})
            continue
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
    problems_insert(new_problems)  # the intake's batch entry: each with its report event
    model.objects.bulk_create(objects, batch_size=500)
    if directs:
        if not all(o.pk for o, _ in directs):  # backends that do not return ids from bulk_create
            ids = dict(model.objects.filter(code__in=[o.code for o, _ in directs]).values_list("code", "pk"))
            for o, _ in directs:
                o.pk = ids[o.code]
        for obj, users in directs:
            obj.direct_responsible.set([u for u in users if u])
