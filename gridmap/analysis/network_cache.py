"""The walkable street network of the town, built from Street rows and kept in process memory.

Building the graph costs a read of every street and a noding pass (tens of milliseconds for a
town, about a second for a city); a request only needs it when the streets changed. Each call
asks the database for a cheap fingerprint of the walkable streets (row count, largest id,
sum of ``length_m``: three aggregates over columns, no geometry read) and rebuilds when it
differs from the cached one, so an import that adds, removes or reshapes streets (imports
set ``length_m``) is seen on the next call in every process. ``network_cache_clear`` drops
the cache explicitly (e.g. after an edit that keeps every length).

One database is one town, so the cache is keyed by the database alias.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import geopandas as gpd
from django.db.models import Count, Max, QuerySet, Sum

from gridmap.core.gdf import to_gdf
from gridmap.geography.models import Street
from layers.network import StreetNetwork, build_network

# highway values nobody walks along (OSM); every other value, and an empty one, is walkable
NOT_WALKABLE = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "construction",
        "cycleway",
        "motorway",
        "motorway_link",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "services",
    }
)

Fingerprint = tuple[int, int, float]


@dataclass(frozen=True)
class CachedNetwork:
    fingerprint: Fingerprint
    network: StreetNetwork | None  # None when there is no walkable street
    streets: gpd.GeoDataFrame  # the rows the network was built from (edge_street positions)


_lock = threading.Lock()
_cache: dict[str, CachedNetwork] = {}


def walkable_streets() -> QuerySet[Street]:
    return Street.objects.exclude(highway__in=NOT_WALKABLE).order_by("pk")


def streets_fingerprint(streets: QuerySet[Street] | None = None) -> Fingerprint:
    """(count, max id, rounded sum of length_m) of the walkable streets."""
    agg = (streets if streets is not None else walkable_streets()).aggregate(
        n=Count("pk"), top=Max("pk"), total=Sum("length_m")
    )
    return int(agg["n"] or 0), int(agg["top"] or 0), round(float(agg["total"] or 0.0), 3)


def street_network(*, using: str = "default") -> CachedNetwork:
    """The network of the walkable streets, rebuilt only when their fingerprint changed.

    Returns
    -------
    CachedNetwork
        ``network`` (metres, in the town's metric CRS) and ``streets`` (EPSG:4326 frame with
        ``id``, ``source_key``, ``name``, ``highway``, ``length_m``; edge ``k`` comes from row
        ``network.edge_street[k]``).
    """
    streets = walkable_streets().using(using)
    fingerprint = streets_fingerprint(streets)
    cached = _cache.get(using)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached
    with _lock:
        cached = _cache.get(using)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        frame = to_gdf(streets, ["pk", "source_key", "name", "highway", "length_m"])
        frame = frame.rename(columns={"pk": "id"})
        network = build_network(frame) if fingerprint[0] else None
        cached = CachedNetwork(fingerprint, network, frame)
        _cache[using] = cached
        return cached


def network_cache_clear() -> None:
    """Forget every cached network (the next call rebuilds)."""
    with _lock:
        _cache.clear()
