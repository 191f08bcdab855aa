"""The walkable street network of the town, built from Street rows and kept in process memory.

Building the graph costs a read of every street and a noding pass (tens of milliseconds for a
town, about a second for a city); a request only needs it when the streets changed. Each call
reads the change stamp of the streets (``gridmap.core.stamps``: one indexed query) and rebuilds
when it differs from the one the cached network was built at, so any write of a street (an
import, an edit that keeps every length, raw SQL, another process) is seen on the next call in
every process. With no stamp (no triggers) the network is built on every call.
``network_cache_clear`` drops the cache (tests).

Streets have no town: the cache is keyed by the database alias.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import geopandas as gpd
from django.db.models import QuerySet

from gridmap.core.gdf import to_gdf
from gridmap.core.stamps import stamp_of
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

Fingerprint = int | None  # the streets' change stamp


@dataclass(frozen=True)
class CachedNetwork:
    fingerprint: Fingerprint
    network: StreetNetwork | None  # None when there is no walkable street
    streets: gpd.GeoDataFrame  # the rows the network was built from (edge_street positions)


log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[str, CachedNetwork] = {}


def walkable_streets() -> QuerySet[Street]:
    return Street.objects.exclude(highway__in=NOT_WALKABLE).order_by("pk")


def streets_fingerprint(*, using: str = "default") -> Fingerprint:
    """The change stamp of the streets (None when there is none)."""
    return stamp_of("streets", using=using)


def street_network(*, using: str = "default") -> CachedNetwork:
    """The network of the walkable streets, rebuilt only when their change stamp moved.

    Returns
    -------
    CachedNetwork
        ``network`` (metres, in the town's metric CRS) and ``streets`` (EPSG:4326 frame with
        ``id``, ``source_key``, ``name``, ``highway``, ``length_m``; edge ``k`` comes from row
        ``network.edge_street[k]``).
    """
    fingerprint = streets_fingerprint(using=using)  # read before the streets: never newer than them
    cached = _cache.get(using)
    if cached is not None and fingerprint is not None and cached.fingerprint == fingerprint:
        return cached
    with _lock:
        cached = _cache.get(using)
        if cached is not None and fingerprint is not None and cached.fingerprint == fingerprint:
            return cached
        frame = to_gdf(walkable_streets().using(using), ["pk", "source_key", "name", "highway", "length_m"])
        frame = frame.rename(columns={"pk": "id"})
        network = build_network(frame) if len(frame) else None
        cached = CachedNetwork(fingerprint, network, frame)
        _cache[using] = cached
        return cached


def network_cache_clear() -> None:
    """Forget every cached network (the next call rebuilds)."""
    with _lock:
        _cache.clear()


def network_warm() -> bool:
    """Build the street network now, before any request asks for it (the WSGI module calls this
    in gunicorn's master under ``--preload``, so every worker forks with it: a city's network
    takes seconds to build, which each worker's first route request used to pay). A database
    that cannot be read leaves it to the first request. Closes the connections it opened, which
    must not cross a fork. True when a network was built."""
    from django.db import DatabaseError, connections

    try:
        return street_network().network is not None
    except DatabaseError as exc:
        log.warning("street network not built at start (%s): the first route request builds it", exc)
        return False
    finally:
        connections.close_all()
