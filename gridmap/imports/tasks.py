"""Background work of the imports: a large file imported by a worker, its progress on the job
(the import page at /imports/ submits it; ``gridmap.core.jobs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridmap.core.jobs import task
from gridmap.imports.core import ImportRefused, ImportReport
from gridmap.imports.files import import_file

REPORT_LINES = 200  # the job's result keeps the headline, counts and the first rejections


@task("imports.import_layer_file")
def import_layer_file(
    progress: Any, *, target: str, path: str, remove: bool = False, **options: Any
) -> dict[str, Any]:
    """``import_layer`` as a job: options as the command's (``commit``, ``strict``, ``kind`` …).
    A file that cannot be read fails the job; otherwise the result is the report. ``remove``:
    the file was uploaded for this job and is deleted when it ends, whatever the outcome."""
    report = ImportReport()
    try:
        import_file(Path(path), target=target, report=report, progress=progress, **options)
    except ImportRefused:
        pass  # the report says so: nothing written
    except (ValueError, OSError) as exc:
        raise UnreadableFile(str(exc)) from None
    finally:
        if remove:
            _remove_upload(Path(path))
    lines = report.lines()
    return {"outcome": report.outcome, "exit_code": report.exit_code(), "report": lines[:REPORT_LINES],
            "rejected": len(report.rejected)}  # fmt: skip


class UnreadableFile(ValueError):
    """The file cannot be imported at all; its reason is safe to show (it names the file's
    problem, e.g. "no layer named …", never a query)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.public_message = reason[:300]


def _remove_upload(path: Path) -> None:
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()  # the upload's own folder
    except OSError:
        pass
