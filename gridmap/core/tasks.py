"""Background tasks of the house itself (``gridmap.core.jobs``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from gridmap.core import kept  # noqa: F401  (its task: core.refresh_kept)
from gridmap.core.jobs import Progress, task
from gridmap.core.models import Job

KEEP_DAYS = 7


@task("core.jobs_cleanup")
def jobs_cleanup(progress: Progress, keep_days: int = KEEP_DAYS) -> dict[str, int]:
    """Forget the jobs that finished more than ``keep_days`` ago, and delete their files."""
    old = Job.objects.filter(finished_at__lt=timezone.now() - timedelta(days=keep_days))
    removed = 0
    for job in old.exclude(file="").only("id", "file").iterator():
        job.file.delete(save=False)
        removed += 1
    deleted, _ = old.delete()
    progress(1, 1, f"{deleted} jobs and {removed} files removed")
    return {"jobs": deleted, "files": removed}
