"""Computing the coverage sets (``gridmap.analysis.models``): which are stale, and a refresh.

A set covers one facility kind with a service radius in one town. It is computed with the same
layers functions as the on-request services of ``gridmap.analysis.coverage`` (``building_coverage``,
``gap_table``, ``uncovered_area``), on an administrator's view of the town: the town's served
buildings (``building_uses_by_kind``) against every facility of the kind, wherever it stands.

Stamps: the town's ``buildings`` and ``grids`` stamps, the whole ``facilities`` stamp (facilities
serve across a town's edge, and the kinds with their radii are in it) and the ``streets`` stamp,
read before the rows they cover (a change committed meanwhile leaves the set stale, never a stale
set looking fresh), plus the settings that change what a set holds (``config``).

The ``facilities`` stamp moves with a change of any facility, of any kind. So that an edited
hydrant does not recompute every kind, a set also keeps a digest of its own kind's facilities
(ids, keys, points: one read of the kind's rows); a set whose stamps differ in ``facilities``
only, and whose kind's digest is unchanged, is stamped anew instead of computed again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from gridmap.analysis.coverage import coverage_settings, facilities_frame, rule_for
from gridmap.analysis.models import METRICS, BuildingCoverage, CoverageSet, GridCoverage
from gridmap.analysis.network_cache import street_network
from gridmap.core.gdf import to_gdf
from gridmap.core.geoinput import geos_from_shapely
from gridmap.core.stamps import stamps_of
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Grid, Subdistrict
from layers.coverage import building_coverage, gap_table, uncovered_area

TOWN_KINDS = ("buildings", "grids")
WHOLE_KINDS = ("facilities", "streets")
NO_TOWN = 0
BATCH = 2000
# degrees per metre, generous (longitude degrees shrink to 0.5 of latitude's at 60° N)
DEG_PER_M = 1 / (111_320 * 0.5)


def radius_kinds() -> list[FacilityKind]:
    """The kinds whose coverage is a service radius: those that have sets."""
    return [
        k for k in FacilityKind.objects.order_by("code") if rule_for(k) == "radius" and k.service_radius_m
    ]


def towns() -> list[int]:
    return [*Subdistrict.objects.order_by("pk").values_list("pk", flat=True), NO_TOWN]


def served_uses(kind: FacilityKind) -> list[str]:
    return sorted(coverage_settings()["building_uses_by_kind"].get(kind.code) or [])


def current_stamps(
    kind: FacilityKind, town: int, whole: dict[str, Any] | None = None, here: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a set of ``kind`` in ``town`` computed now would be stamped with (``whole``, ``here``:
    the whole-kind and the town's stamps already read, when checking many sets)."""
    whole = whole if whole is not None else stamps_of(WHOLE_KINDS)
    here = here if here is not None else stamps_of(TOWN_KINDS, town)
    config = json.dumps({"uses": served_uses(kind), "radius": kind.service_radius_m}, sort_keys=True)
    return {
        **{k: here[k] for k in TOWN_KINDS},
        **{k: whole[k] for k in WHOLE_KINDS},
        "config": hashlib.sha1(config.encode()).hexdigest()[:16],
    }


def buildings_of_town(town: int) -> QuerySet[Building]:
    """A building's town is its grid's, else its community's; town 0 has buildings in neither."""
    if town == NO_TOWN:
        return Building.objects.filter(grid=None, community=None)
    return Building.objects.filter(
        Q(grid__community__subdistrict_id=town) | Q(grid=None, community__subdistrict_id=town)
    )


def grids_of_town(town: int) -> QuerySet[Grid]:
    return Grid.objects.filter(community__subdistrict_id=town)


@dataclass
class Stale:
    kind: FacilityKind
    town: int
    missing: bool


def facilities_digest(kind: FacilityKind) -> str:
    """What of ``kind``'s facilities a set depends on (their ids, keys and points), hashed."""
    digest = hashlib.sha1(str(kind.service_radius_m).encode())
    rows = Facility.objects.filter(kind=kind).order_by("pk").annotate(_wkb=AsWKB("geom"))
    for pk, key, wkb in rows.values_list("pk", "source_key", "_wkb").iterator(chunk_size=5000):
        digest.update(f"{pk}:{key}:".encode() + bytes(wkb or b""))
    return digest.hexdigest()


def stale_sets(*, kinds: Iterable[str] | None = None, only_towns: Iterable[int] | None = None) -> list[Stale]:
    """Every (kind, town) whose set is missing or computed from other stamps than today's; sets
    that differ only by another kind's facilities are stamped anew on the way."""
    wanted = set(kinds) if kinds is not None else None
    chosen = [k for k in radius_kinds() if wanted is None or k.code in wanted]
    places = [t for t in towns() if only_towns is None or t in set(only_towns)]
    have = {(s.kind_id, s.town): s for s in CoverageSet.objects.filter(kind__in=chosen)}
    whole = stamps_of(WHOLE_KINDS)  # before the digests' rows
    digests: dict[int, str] = {}
    out = []
    for town in places:
        here = stamps_of(TOWN_KINDS, town)
        for kind in chosen:
            stored, now = have.get((kind.pk, town)), current_stamps(kind, town, whole, here)
            if stored is not None and stored.stamps == now:
                continue
            if stored is not None and _others_moved(stored, now, digests, kind):
                CoverageSet.objects.filter(pk=stored.pk).update(stamps=now)
                continue
            out.append(Stale(kind, town, stored is None))
    return out


def _others_moved(
    stored: CoverageSet, now: dict[str, Any], digests: dict[int, str], kind: FacilityKind
) -> bool:
    """True when only the facilities stamp moved and this kind's facilities are as they were."""
    if {k: v for k, v in stored.stamps.items() if k != "facilities"} != {
        k: v for k, v in now.items() if k != "facilities"
    }:
        return False
    if kind.pk not in digests:
        digests[kind.pk] = facilities_digest(kind)
    return bool(stored.facilities_digest) and stored.facilities_digest == digests[kind.pk]


def drop_orphans() -> int:
    """Sets of kinds without a radius any more, or of towns that are gone."""
    gone = CoverageSet.objects.exclude(kind__in=radius_kinds()) | CoverageSet.objects.exclude(
        town__in=towns()
    )
    return gone.delete()[0]


def _building_frame(kind: FacilityKind, town: int) -> gpd.GeoDataFrame:
    buildings = buildings_of_town(town).order_by("pk")
    uses = served_uses(kind)
    if uses:
        buildings = buildings.filter(use__in=uses)
    frame = to_gdf(buildings.annotate(grid_code=F("grid__code")), ["pk", "households", "grid_code"])
    return frame.rename(columns={"grid_code": "grid"})


def _nearby(facilities: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, radius_m: float) -> gpd.GeoDataFrame:
    """The facilities that can cover part of ``areas`` (nearer than the radius to their extent):
    the rest only make the union of discs longer to compute."""
    if not len(areas) or not len(facilities):
        return facilities
    x0, y0, x1, y1 = areas.total_bounds
    pad = radius_m * DEG_PER_M
    return facilities[facilities.intersects(shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad))]


def _grid_rows(
    grids: gpd.GeoDataFrame, table: pd.DataFrame, areas: dict[str, gpd.GeoDataFrame]
) -> list[GridCoverage]:
    by_code = table.set_index("grid") if len(table) else pd.DataFrame()
    rows = []
    for metric, area in areas.items():
        area = area.set_index("code")
        for gid, code in zip(grids["id"], grids["code"], strict=True):
            t = by_code.loc[code] if code in by_code.index else None
            geom = area.geometry.get(code)
            rows.append(
                GridCoverage(
                    grid_id=int(gid),
                    metric=metric,
                    buildings=int(t["buildings"]) if t is not None else 0,
                    households=_num(t, "households") or 0.0,
                    uncovered=int(t[f"uncovered_{metric}"]) if t is not None else 0,
                    uncovered_households=_num(t, f"uncovered_households_{metric}") or 0.0,
                    building_share=_num(t, f"building_share_{metric}"),
                    household_share=_num(t, f"household_share_{metric}"),
                    max_m=_num(t, f"max_{metric}_m"),
                    area_m2=_num(area.loc[code], "area_m2") if code in area.index else None,
                    uncovered_m2=_num(area.loc[code], "uncovered_m2") if code in area.index else None,
                    uncovered_share=_num(area.loc[code], "uncovered_share") if code in area.index else None,
                    geom=_geos(geom),
                )  # fmt: skip
            )
    return rows


def _num(row: Any, column: str) -> float | None:
    if row is None or column not in row:
        return None
    value = float(row[column])
    return value if np.isfinite(value) else None


def _geos(geom: Any) -> Any:
    """The uncovered part as stored: always a MultiPolygon (one geometry type for every layer that
    serves it: GIS clients and Shapefiles want one), None when there is none."""
    if geom is None or shapely.is_missing(geom) or shapely.is_empty(geom):
        return None
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return geos_from_shapely(geom)


def _building_rows(items: gpd.GeoDataFrame, has_network: bool) -> list[BuildingCoverage]:
    def cols(metric: str) -> tuple[list[str], list[float | None]]:
        if not has_network and metric == "network":
            return [""] * len(items), [None] * len(items)
        labels = ["" if f is None else str(f)[:120] for f in items[f"{metric}_facility"]]
        dist = [float(d) if np.isfinite(d) else None for d in items[f"{metric}_m"]]
        return labels, dist

    (sf, sm), (nf, nm) = cols("straight"), cols("network")
    return [
        BuildingCoverage(
            building_id=int(pk),
            straight_facility=sf[i],
            straight_m=sm[i],
            network_facility=nf[i],
            network_m=nm[i],
        )  # fmt: skip
        for i, pk in enumerate(items["pk"])
    ]


def refresh_set(kind: FacilityKind, town: int) -> CoverageSet:
    """Compute the set of ``kind`` in ``town`` and replace the stored one (see refresh_sets)."""
    return refresh_sets(kind, [town])[0]


def refresh_sets(
    kind: FacilityKind, places: list[int], progress: Callable[[str], None] | None = None
) -> list[CoverageSet]:
    """Compute the sets of ``kind`` in ``places`` and replace the stored ones, each town in one
    transaction. The buildings of every town are measured in one pass (one snapping to the
    streets, one walk from the facilities), then cut by town."""
    started = time.monotonic()
    whole = stamps_of(WHOLE_KINDS)
    stamps = {t: current_stamps(kind, t, whole) for t in places}  # before any row they cover
    digest = facilities_digest(kind)
    radius = float(kind.service_radius_m)
    net = street_network().network
    facilities = facilities_frame(kind)
    frames = [_building_frame(kind, t).assign(town=t) for t in places]
    items = building_coverage(pd.concat(frames, ignore_index=True), facilities, radius_m=radius, net=net)
    shared_s = time.monotonic() - started
    out = []
    for town in places:
        begun = time.monotonic()
        if progress is not None:
            progress(f"{kind.code} in town {town}")
        mine = items[items["town"] == town]
        grid_rows = _town_grid_rows(kind, town, mine, facilities, net)
        fields = {
            "radius_m": radius, "building_uses": served_uses(kind), "stamps": stamps[town],
            "facilities_digest": digest, "buildings": len(mine), "has_network": net is not None,
        }  # fmt: skip
        seconds = shared_s * len(mine) / max(len(items), 1) + time.monotonic() - begun
        try:
            out.append(
                _replace(kind, town, fields, grid_rows, _building_rows(mine, net is not None), seconds)
            )
        except IntegrityError:  # another worker wrote this set meanwhile: theirs is as current
            out.append(CoverageSet.objects.get(kind=kind, town=town))
    return out


def _town_grid_rows(
    kind: FacilityKind, town: int, items: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, net: Any
) -> list[GridCoverage]:
    if town == NO_TOWN:
        return []
    grids = to_gdf(grids_of_town(town).order_by("code"), ["id", "code"])
    if not len(grids):
        return []
    radius = float(kind.service_radius_m)
    table = gap_table(items) if len(items) else pd.DataFrame()
    near = _nearby(facilities, grids, radius)
    areas = {
        metric: uncovered_area(grids, near, radius_m=radius, metric=metric, net=net)
        for metric in METRICS[: 1 + (net is not None)]
    }
    return _grid_rows(grids, table, areas)


def _replace(
    kind: FacilityKind,
    town: int,
    fields: dict[str, Any],
    grid_rows: list[GridCoverage],
    building_rows: list[BuildingCoverage],
    seconds: float,
) -> CoverageSet:
    with transaction.atomic():
        CoverageSet.objects.filter(kind=kind, town=town).delete()
        found = CoverageSet.objects.create(
            kind=kind, town=town, computed_at=timezone.now(), seconds=round(seconds, 3), **fields
        )
        for row in (*grid_rows, *building_rows):
            row.set = found
        GridCoverage.objects.bulk_create(grid_rows, batch_size=BATCH)
        BuildingCoverage.objects.bulk_create(building_rows, batch_size=BATCH)
    return found
