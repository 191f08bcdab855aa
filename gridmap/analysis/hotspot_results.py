"""The hotspots the API answers, kept in the shared cache and refreshed by the workers.

Density clusters or Gi* cells over a city's open problems take seconds (3 s at the city bench's
1M problems), and every new report moves the problems' change stamp. So a result is kept in the
cache under the user's scope and the parameters, with the stamps it was computed at: a request
whose stamps match gets it as it is ("current"); one whose stamps moved gets the last result
("updating", with its time) and starts one refresh on the workers
(``analysis.refresh_hotspots``); only a scope and parameters never computed are computed on the
request. The look-back window ends today, so a result is kept for the day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import geopandas as gpd
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from gridmap.accounts.selectors import role_of
from gridmap.analysis.hotspots import CellOptions, ProblemFilter, hotspots_clusters, hotspots_gistar
from gridmap.core.jobs import dispatch
from gridmap.core.stamps import stamps_of

STAMP_KINDS = ("problems", "grids", "categories")
KEEP_S = 26 * 3600
REFRESH_LOCK_S = 600


@dataclass(frozen=True)
class HotspotResult:
    frame: gpd.GeoDataFrame
    state: str  # "current" or "updating"
    computed_at: str


def hotspot_frame(*, user: Any, params: dict[str, Any]) -> gpd.GeoDataFrame:
    """Compute the hotspots of ``params`` (checked by the caller: method, eps_m, min_samples,
    status, days) for ``user``."""
    end = timezone.now()
    filters = ProblemFilter(status=params["status"], start=end - timedelta(days=params["days"]), end=end)
    if params["method"] == "gistar":
        return hotspots_gistar(user=user, filters=filters, options=CellOptions(cells="grids"))
    return hotspots_clusters(user=user, filters=filters, method="dbscan", eps_m=params["eps_m"],
                             min_samples=params["min_samples"])  # fmt: skip


def _key(user: Any, params: dict[str, Any]) -> str:
    profile = getattr(user, "profile", None)
    scope = (
        user.pk,
        role_of(user),
        getattr(profile, "community_id", None),
        getattr(profile, "department_id", None),
    )
    day = timezone.localdate().isoformat()
    digest = hashlib.sha1(repr((scope, sorted(params.items()), day)).encode()).hexdigest()
    return f"gridmap:hotspots:v1:{digest}"


def _store(key: str, stamps: dict[str, Any], frame: gpd.GeoDataFrame) -> dict[str, Any]:
    value = {"stamps": stamps, "frame": frame, "computed_at": timezone.now().isoformat(timespec="seconds")}
    cache.set(key, value, KEEP_S)
    return value


def hotspot_result(*, user: Any, params: dict[str, Any]) -> HotspotResult:
    """The hotspots for ``user`` and ``params``: kept, kept but being refreshed, or computed now."""
    key = _key(user, params)
    stamps = stamps_of(STAMP_KINDS)  # read before the data: never newer than the result
    kept = cache.get(key)
    if kept is None:
        kept = _store(key, stamps, hotspot_frame(user=user, params=params))
        return HotspotResult(kept["frame"], "current", kept["computed_at"])
    if kept["stamps"] == stamps and None not in stamps.values():
        return HotspotResult(kept["frame"], "current", kept["computed_at"])
    if cache.add(f"{key}:refreshing", 1, REFRESH_LOCK_S):  # one refresh at a time per result
        dispatch("analysis.refresh_hotspots", user_id=user.pk, params=params)
    return HotspotResult(kept["frame"], "updating", kept["computed_at"])


def hotspots_refresh(*, user_id: int, params: dict[str, Any]) -> int:
    """Compute the result again and keep it (the workers' task); returns its feature count."""
    user = get_user_model().objects.select_related("profile").get(pk=user_id)
    key = _key(user, params)
    try:
        stamps = stamps_of(STAMP_KINDS)
        return len(_store(key, stamps, hotspot_frame(user=user, params=params))["frame"])
    finally:
        cache.delete(f"{key}:refreshing")
