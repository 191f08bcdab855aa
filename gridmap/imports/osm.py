"""An OpenStreetMap extract into the database: streets, buildings and the campaign's facilities.

Keys are OSM ids ("osm:way/123"), so importing a newer extract updates in place; with ``commit``
everything is written in one transaction, otherwise nothing is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import geopandas as gpd
from django.db import transaction

from gridmap.imports.core import ImportRefused, ImportReport, import_frames
from gridmap.imports.targets import Lookups

TARGETS = ("streets", "buildings", "facilities")


def osm_import(
    frames: Mapping[str, gpd.GeoDataFrame],
    rejected: Iterable[tuple[Any, ...]],
    *,
    commit: bool,
    strict: bool,
    report: ImportReport,
    warn: Callable[[str], Any] = lambda _: None,
) -> ImportReport:
    """Import what ``layers.io.read_osm`` read (its ``frames`` by kind, its ``rejected`` rows)
    into ``report``; kinds not in the facility catalogue are skipped with a ``warn``ing.

    Raises ImportRefused (nothing written) as ``import_frames`` does.
    """
    for kind, row, reason in _rejections(rejected):
        report.counts[kind]["read"] += 1
        report.reject(kind, row, reason)
    groups = _by_target(frames, Lookups.load().kinds, warn)
    try:
        with transaction.atomic():
            for target in TARGETS:
                if groups[target]:
                    import_frames(
                        target,
                        groups[target],
                        source="",
                        key_column="source_key",
                        commit=commit,
                        strict=strict,
                        report=report,
                    )
    except ImportRefused:
        report.committed = False
        raise
    return report


def _by_target(
    frames: Mapping[str, gpd.GeoDataFrame], kinds: Mapping[str, Any], warn: Callable[[str], Any]
) -> dict[str, dict[str, gpd.GeoDataFrame]]:
    groups: dict[str, dict[str, gpd.GeoDataFrame]] = {target: {} for target in TARGETS}
    for kind, frame in frames.items():
        if kind in groups:
            groups[kind][kind] = frame
        elif kind in kinds:
            groups["facilities"][kind] = frame
        else:
            warn(f"skipping {kind}: not a facility kind in the catalogue")
    return groups


def _rejections(rejected: Iterable[tuple[Any, ...]]):
    """Reader rejections as (kind, row, reason), whatever tuple shape the reader gives."""
    for item in rejected:
        if len(item) == 3:
            yield item
        else:
            row, reason = item
            yield "osm", row, reason
