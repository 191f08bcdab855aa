"""The negative list (负面清单) export of a grid or community, one writer for both ways it is
served, like the ledger (``ledger``): directly in the response for a short list, and as a
background job (``tasks.export_negative_list``) above ``ledger.DIRECT_LIMIT`` items, whose page the
user follows and where the file is offered. Rows stream into openpyxl's write-only mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from gridmap.evaluation import exports
from gridmap.evaluation.ledger import CHUNK, DIRECT_LIMIT, PROGRESS_EVERY, Report
from gridmap.evaluation.metrics import Period
from gridmap.evaluation.selectors import Area, closing_evidence, negative_list_problems


def is_large(user: Any, area: Area, period: Period) -> bool:
    """Whether the list holds more than ``DIRECT_LIMIT`` items (counted no further than that)."""
    items = negative_list_problems(user, area, period).order_by()
    return items[: DIRECT_LIMIT + 1].count() > DIRECT_LIMIT


def negative_rows(
    user: Any, area: Area, period: Period, now: datetime, progress: Report | None = None, total: int = 0
) -> Iterator[list[Any]]:
    problems = negative_list_problems(user, area, period)
    evidence = closing_evidence(problems)
    done = 0
    for problem in problems.iterator(chunk_size=CHUNK):
        yield exports.negative_row(problem, evidence.get(problem.pk, {}), now)
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total, f"{done} of {total} items")
    if progress is not None:
        progress(done, total, f"{done} of {total} items")


def write_negative_list(
    target: str | IO[bytes], *, user: Any, area: Area, period: Period, now: datetime,
    progress: Report | None = None,
) -> None:  # fmt: skip
    total = negative_list_problems(user, area, period).count() if progress is not None else 0
    rows = negative_rows(user, area, period, now, progress, total)
    exports.write_xlsx(target, [("负面清单", exports.NEGATIVE_HEADERS, rows)])
