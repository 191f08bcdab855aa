"""Background tasks of the analyses (``gridmap.core.jobs``)."""

from __future__ import annotations

import time
from typing import Any

from gridmap.analysis.coverage_rows import refresh_started
from gridmap.analysis.precompute import drop_orphans, refresh_set, stale_sets
from gridmap.core.jobs import Progress, task


@task("analysis.refresh_coverage")
def refresh_coverage(progress: Progress, kind: str | None = None, town: int | None = None) -> dict[str, Any]:
    """Recompute the coverage sets that are stale or missing (of ``kind`` / ``town`` when given):
    run by the schedule ("analysis-refresh"), after an import and after facility edits."""
    refresh_started()
    stale = stale_sets(kinds=None if kind is None else [kind], only_towns=None if town is None else [town])
    dropped = drop_orphans()
    seconds: dict[str, float] = {}
    for done, item in enumerate(stale):
        progress(done, len(stale), f"{item.kind.code} in town {item.town}")
        started = time.monotonic()
        refresh_set(item.kind, item.town)
        seconds[f"{item.kind.code}@{item.town}"] = round(time.monotonic() - started, 3)
    progress(len(stale), len(stale), f"{len(stale)} coverage sets refreshed")
    return {"refreshed": len(stale), "dropped": dropped, "seconds": seconds}
