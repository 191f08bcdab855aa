"""The hotspots the API answers, kept in the shared cache and refreshed by the workers
(``gridmap.core.kept``).

Density clusters or Gi* cells over a city's open problems take seconds (3 s at the city bench's
1M problems), and every new report moves the problems' change stamp: a request gets the kept
result of its scope and parameters ("current"), or, after a change, the last one ("updating",
with its time) while a worker computes the new one. The look-back window ends today, so the
day is part of the parameters.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import geopandas as gpd
from django.utils import timezone

from gridmap.analysis.hotspots import CellOptions, ProblemFilter, hotspots_clusters, hotspots_gistar
from gridmap.core.kept import Kept, keeper
from gridmap.problems.selectors import scope_signature

STAMP_KINDS = ("problems", "grids", "categories")


def hotspot_frame(*, user: Any, params: dict[str, Any]) -> gpd.GeoDataFrame:
    """Compute the hotspots of ``params`` (checked by the caller: method, eps_m, min_samples,
    status, days) for ``user``."""
    end = timezone.now()
    filters = ProblemFilter(status=params["status"], start=end - timedelta(days=params["days"]), end=end)
    if params["method"] == "gistar":
        return hotspots_gistar(user=user, filters=filters, options=CellOptions(cells="grids"))
    return hotspots_clusters(user=user, filters=filters, method="dbscan", eps_m=params["eps_m"],
                             min_samples=params["min_samples"])  # fmt: skip


@keeper("analysis.hotspots", scope=scope_signature, stamps=STAMP_KINDS)
def kept_hotspots(user: Any, params: dict[str, Any]) -> gpd.GeoDataFrame:
    return hotspot_frame(user=user, params=params)


def hotspot_result(*, user: Any, params: dict[str, Any]) -> Kept[gpd.GeoDataFrame]:
    """The hotspots for ``user`` and ``params``: kept, kept while a refresh runs, or computed."""
    return kept_hotspots.get(user, {**params, "day": timezone.localdate().isoformat()})
