"""Background tasks of the patrols (``gridmap.core.jobs``)."""

from __future__ import annotations

from gridmap.core.jobs import Progress, task
from gridmap.patrols.schedule import create_due_tasks


@task("patrols.create_tasks")
def create_tasks(progress: Progress) -> dict[str, int]:
    """The schedule's patrol tasks (every 15 minutes by default): see patrols/schedule.py."""
    found = create_due_tasks()
    progress(1, 1, f"created {found['created']}, missed {found['missed']}")
    return found
