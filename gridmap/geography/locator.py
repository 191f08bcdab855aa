"""Where a point falls, answered in process: the grids and communities kept in memory as
``layers.assign.GridLocator`` rasters (about 2 µs a point, against a database round trip of
about 170 µs), rebuilt when the area stamp (``gridmap.geography.stamp``) says they changed.

The rule is ``selectors.grid_for_point`` and ``community_for_point``'s: the grid whose closed
polygon intersects the point, the smallest code on a shared edge; with no grid, the community
the same way; else nothing. A test holds the two equal on random and boundary points.

Callers either read the stamp (``areas_now``: one cheap query) or use the areas they hold
(``areas_cached``) and check the stamp in the same statement as their write, as the PostGIS
intake does. A missing stamp (no triggers on this backend, or a table just emptied) is never
trusted: the callers fall back to the selectors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import geopandas as gpd
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Point
from django.db import connection

from gridmap.core.stamps import stamp_of
from gridmap.geography import stamp as area_stamp
from gridmap.geography.models import Community, Grid
from gridmap.geography.selectors import community_for_point, grid_for_point
from layers.assign import GridLocator

BUILD_TRIES = 3


@dataclass(frozen=True)
class Areas:
    """The grids and communities as of ``stamp``."""

    stamp: int
    grids: GridLocator
    grid_ids: dict[str, tuple[int, int]]  # code → (grid id, its community id)
    communities: GridLocator
    community_ids: dict[str, int]  # code → community id

    def locate(self, lon: float, lat: float) -> tuple[int | None, int | None]:
        """(grid id, community id) of the point; (None, community id) in a community with no
        grid there (属地兜底); (None, None) outside every community."""
        code = self.grids.locate(lon, lat)
        if code is not None:
            return self.grid_ids[code]
        code = self.communities.locate(lon, lat)
        return None, (None if code is None else self.community_ids[code])


def read_stamp() -> int | None:
    """The current area stamp (None when there is no stamp row)."""
    return stamp_of(area_stamp.KIND, using=connection.alias)


def _frame(rows: list[tuple]) -> gpd.GeoDataFrame:
    geoms = shapely.from_wkb([bytes(r[-1]) for r in rows])
    return gpd.GeoDataFrame({"code": [r[0] for r in rows]}, geometry=geoms, crs="EPSG:4326")


def _build(stamp: int) -> Areas | None:
    """The areas read now, if the stamp is still ``stamp`` after reading them (no change was
    committed in between: every change draws a new stamp)."""
    grids = list(Grid.objects.annotate(_wkb=AsWKB("geom")).values_list("code", "pk", "community_id", "_wkb"))
    communities = list(
        Community.objects.filter(geom__isnull=False)
        .annotate(_wkb=AsWKB("geom"))
        .values_list("code", "pk", "_wkb")
    )
    if read_stamp() != stamp:
        return None
    return Areas(
        stamp=stamp,
        grids=GridLocator(_frame(grids)),
        grid_ids={code: (pk, community_id) for code, pk, community_id, _ in grids},
        communities=GridLocator(_frame(communities)),
        community_ids={code: pk for code, pk, _ in communities},
    )


class _Cache:
    """The areas of one process (one database alias), shared by its threads."""

    def __init__(self) -> None:
        self.areas: Areas | None = None
        self.lock = threading.Lock()

    def at(self, stamp: int | None) -> Areas | None:
        """The areas as of ``stamp`` (built if the cached ones are older); None for no stamp."""
        if stamp is None:
            return None
        areas = self.areas
        if areas is not None and areas.stamp == stamp:
            return areas
        with self.lock:
            areas = self.areas
            if areas is not None and areas.stamp == stamp:
                return areas
            for _ in range(BUILD_TRIES):
                built = _build(stamp)
                if built is not None:
                    self.areas = built
                    return built
                stamp = read_stamp()
                if stamp is None:
                    return None
            return None

    def clear(self) -> None:
        self.areas = None


_CACHES: dict[str, _Cache] = {}


def _cache() -> _Cache:
    alias = connection.alias
    if alias not in _CACHES:
        _CACHES[alias] = _Cache()
    return _CACHES[alias]


def areas_now() -> Areas | None:
    """The areas as the database has them now (one query for the stamp; a rebuild if it moved)."""
    return _cache().at(read_stamp())


def areas_cached() -> Areas | None:
    """The areas this process holds, without asking the database whether they are current (built
    on first use). Callers must check ``stamp`` where they write."""
    cache = _cache()
    return cache.areas or cache.at(read_stamp())


def areas_at(stamp: int | None) -> Areas | None:
    """The areas as of ``stamp`` (a stamp the caller just read from the database)."""
    return _cache().at(stamp)


def forget() -> None:
    """Drop this process's areas (tests; the stamp makes this unnecessary otherwise)."""
    for cache in _CACHES.values():
        cache.clear()


def locate_point(point: Point) -> tuple[int | None, int | None]:
    """(grid id, community id) of ``point`` by the location rule, in process when the stamp is
    known, else by the selectors' queries."""
    areas = areas_now()
    if areas is not None:
        return areas.locate(point.x, point.y)
    grid = grid_for_point(point)
    if grid is not None:
        return grid.pk, grid.community_id
    community = community_for_point(point)
    return None, (community.pk if community is not None else None)
