"""The periodic jobs run in one process (``manage.py run_schedule``), for a service with no
Celery beat: each entry of ``GRIDMAP_SCHEDULE`` runs at its interval, one after another, and a
failing job is logged and tried again at its next time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from gridmap.core import jobs

log = logging.getLogger("gridmap.jobs")


class Schedule:
    def __init__(self, table: dict[str, dict[str, Any]], *, report: Callable[[str], Any] = print) -> None:
        self.entries = {name: spec for name, spec in table.items() if spec["every_s"] > 0}
        self.next_at = dict.fromkeys(self.entries, 0.0)  # every entry runs once at the start
        self.report = report

    def run_due(self, *, now: float) -> float:
        """Run every entry due at ``now`` (monotonic seconds); return the seconds to the next."""
        for name, spec in self.entries.items():
            if self.next_at[name] > now:
                continue
            started = time.monotonic()
            try:
                result = jobs.run_fresh(spec["task"], None, dict(spec.get("kwargs", {})))
            except Exception:  # logged by jobs.run; the schedule goes on
                self.report(f"{name}: failed (see the log)")
            else:
                self.report(f"{name}: {result}")
            self.next_at[name] = started + spec["every_s"]
        if not self.entries:
            return 3600.0
        return max(0.0, min(self.next_at.values()) - time.monotonic())
