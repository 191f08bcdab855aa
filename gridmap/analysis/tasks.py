"""Background tasks of the analyses (``gridmap.core.jobs``)."""

from __future__ import annotations

import time
from typing import Any

from gridmap.analysis import hotspot_results, route_results, site_results  # noqa: F401  (kept results: core.refresh_kept)
from gridmap.analysis.coverage_rows import refresh_started
from gridmap.analysis.precompute import Stale, drop_orphans, refresh_sets, stale_sets
from gridmap.core.jobs import Progress, task


@task("analysis.refresh_coverage")
def refresh_coverage(progress: Progress, kind: str | None = None, town: int | None = None) -> dict[str, Any]:
    """Recompute the coverage sets that are stale or missing (of ``kind`` / ``town`` when given),
    a kind's stale towns in one pass: run by the schedule ("analysis-refresh"), after an import
    and after facility edits. ``seconds``: per kind, and per set (its share of the pass)."""
    refresh_started()
    stale = stale_sets(kinds=None if kind is None else [kind], only_towns=None if town is None else [town])
    dropped = drop_orphans()
    by_kind: dict[int, list[Stale]] = {}
    for item in stale:
        by_kind.setdefault(item.kind.pk, []).append(item)
    seconds: dict[str, float] = {}
    done = 0
    for items in by_kind.values():
        started = time.monotonic()

        def report(message: str) -> None:
            nonlocal done
            progress(done, len(stale), message)
            done += 1

        sets = refresh_sets(items[0].kind, [i.town for i in items], report)
        seconds[items[0].kind.code] = round(time.monotonic() - started, 3)
        seconds |= {f"{s.kind.code}@{s.town}": s.seconds for s in sets}
    progress(len(stale), len(stale), f"{len(stale)} coverage sets refreshed")
    return {"refreshed": len(stale), "dropped": dropped, "seconds": seconds}
