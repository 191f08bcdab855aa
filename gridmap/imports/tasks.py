"""Background work of the imports: a large file imported by a worker, its progress on the job.

Plain functions taking ``progress`` first, to be registered with ``core.jobs.task``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridmap.imports.core import ImportRefused, ImportReport
from gridmap.imports.files import import_file

REPORT_LINES = 200  # the job's result keeps the headline, counts and the first rejections


def import_layer_file(progress: Any, *, target: str, path: str, **options: Any) -> dict[str, Any]:
    """``import_layer`` as a job: options as the command's (``commit``, ``strict``, ``kind`` …).
    A file that cannot be read fails the job; otherwise the result is the report."""
    report = ImportReport()
    try:
        import_file(Path(path), target=target, report=report, progress=progress, **options)
    except ImportRefused:
        pass  # the report says so: nothing written
    lines = report.lines()
    return {"outcome": report.outcome, "exit_code": report.exit_code(), "report": lines[:REPORT_LINES],
            "rejected": len(report.rejected)}  # fmt: skip
