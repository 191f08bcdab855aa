"""The ledger (台账) export, one writer for both ways it is served: directly in the response for
a small scope, and as a background job (``tasks.export_ledger``) above ``DIRECT_LIMIT`` cases,
whose page the user follows and where the file is offered. The per-case rows stream from the
database (``iterator``: a server-side cursor on PostgreSQL) into openpyxl's write-only mode or
the CSV writer, so memory does not grow with the cases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import IO, Any

from django.utils import timezone

from gridmap.evaluation import exports
from gridmap.evaluation.kept_figures import evaluation_of
from gridmap.evaluation.metrics import Period
from gridmap.evaluation.selectors import ledger_problems

# More rows than this: the ledger (or a negative list) is written by a worker, not in the request
# (openpyxl writes about 2,000 rows a second: 1,000 rows of a city-wide ledger took 1.2 s).
DIRECT_LIMIT = 500
CHUNK = 2000
PROGRESS_EVERY = 1000

Report = Callable[[int, int, str], Any]


def stem(name: str, period: Period) -> str:
    """The file name's stem: ``name-first day-last day`` in local dates."""
    last = timezone.localtime(period.end) - timedelta(days=1)
    return f"{name}-{timezone.localtime(period.start):%Y%m%d}-{last:%Y%m%d}"


def is_large(user: Any, period: Period) -> bool:
    """Whether the ledger holds more than ``DIRECT_LIMIT`` cases (counts no further than that)."""
    return ledger_problems(user, period).order_by()[: DIRECT_LIMIT + 1].count() > DIRECT_LIMIT


def ledger_rows(
    user: Any, period: Period, progress: Report | None = None, total: int = 0
) -> Iterator[list[Any]]:
    done = 0
    for problem in ledger_problems(user, period).iterator(chunk_size=CHUNK):
        yield exports.ledger_row(problem)
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total, f"{done} of {total} cases")
    if progress is not None:
        progress(done, total, f"{done} of {total} cases")


def write_ledger(
    target: str | IO[Any],
    *,
    user: Any,
    period: Period,
    fmt: str,
    now: datetime,
    progress: Report | None = None,
) -> None:
    """The ledger as ``fmt`` ("xlsx": the cases and the evaluation table; "csv": the cases) into
    ``target`` (a path or a file: binary for xlsx, text in ``utf-8-sig`` for csv)."""
    total = ledger_problems(user, period).count() if progress is not None else 0
    rows = ledger_rows(user, period, progress, total)
    if fmt == "csv":
        exports.write_csv(target, exports.LEDGER_HEADERS, rows)
        return
    tables = evaluation_of(user, period, now, may_defer=False).tables  # a file is never half made
    exports.write_xlsx(
        target,
        [
            ("台账", exports.LEDGER_HEADERS, rows),
            ("综合评价", exports.EVALUATION_HEADERS, exports.evaluation_rows(tables)),
        ],
    )
