"""The ledger (台账), the evaluation table and the negative list (负面清单) as CSV and Excel.

Headers are Chinese: these are the sheets offices print. Every text cell that starts with
``= + - @`` (or a tab / carriage return) gets a leading ``'`` so neither Excel nor LibreOffice
runs it as a formula (CSV/formula injection); openpyxl would otherwise store such a string as a
formula. CSV is UTF-8 with a BOM, which Excel on Chinese Windows needs to read it as UTF-8.

Writers cope with whatever is stored: a text cell loses control characters and lone surrogates
(``gridmap.core.boundary.printable``; an Excel file cannot hold them and UTF-8 cannot encode a
lone surrogate), and a time a spreadsheet cannot hold (before 1900, or one that cannot be moved
to local time) is left empty rather than failing the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import IO, Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gridmap.core.boundary import printable
from gridmap.evaluation.metrics import UnitStats
from gridmap.problems.models import Problem, Status
from layers.io import code_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
CODE_HEADERS = frozenset({"编号", "网格", "编码"})  # case numbers, grid and unit codes: text in CSV

LEDGER_HEADERS = ["编号", "类别", "描述", "网格", "社区", "上报时间", "立案时间", "派遣时间", "处置部门", "期限",
                  "处置时间", "结案时间", "是否按期", "返工次数", "延期次数", "复发次数", "状态", "回头看到期日",
                  "回头看完成时间", "回头看结果"]  # fmt: skip
EVALUATION_HEADERS = ["层级", "排名", "编码", "名称", "综合得分", "立案数", "结案数", "结案率", "按期结案率", "返工率",
                      "返工次数", "延期率", "平均结案时长(小时)", "结案时长中位数(小时)", "在办数", "当前超期数",
                      "复发数", "满意度(1-5)", "满意度评价数"]  # fmt: skip
NEGATIVE_HEADERS = ["编号", "类别", "描述", "网格", "社区", "上报时间", "状态", "处置部门", "期限", "是否超期",
                    "销号(结案)时间", "整改说明", "核查意见", "整改后照片"]  # fmt: skip
LEVEL_NAMES = {
    "grid": "网格",
    "community": "社区",
    "department": "部门",
    "handler": "处置人",
    "leader": "网格长",
}
STATUS_NAMES = {Status.REPORTED: "已上报", Status.FILED: "已立案", Status.REJECTED: "不予立案",
                Status.DUPLICATE: "重复合并", Status.DISPATCHED: "已派遣", Status.HANDLED: "已处置",
                Status.CLOSED: "已结案"}  # fmt: skip


def neutralise(value: Any) -> Any:
    """A text cell made printable; one a spreadsheet would run as a formula gets a leading
    apostrophe."""
    if isinstance(value, str):
        value = printable(value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def local(moment: datetime | None) -> datetime | None:
    """Local wall-clock time without tzinfo (what a spreadsheet cell holds); None for a time a
    spreadsheet cannot hold."""
    if not moment:
        return None
    try:
        value = timezone.localtime(moment).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None
    return value if value.year >= 1900 else None


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100.0 * rate, 1)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _places(p: Problem) -> list[str]:
    return [p.grid.code if p.grid else "", p.community.name if p.community else ""]


# 回头看 results as the ledger states them (the site's words: 已超期 for overdue).
LOOKBACK_PASSED, LOOKBACK_FAILED, LOOKBACK_WAITING, LOOKBACK_OVERDUE = (
    "通过",
    "不通过（重新派遣）",
    "待回头看",
    "已超期",
)


def lookback_result(p: Problem, today: date | None = None) -> str:
    """The look-back's result read from the case itself: a look-back that passed leaves the case
    closed with its done time; one that failed sends it back (not closed, done time kept until it
    is closed again, which sets a new due date and clears the done time). Empty: none due."""
    if p.lookback_done_at is not None:
        return LOOKBACK_PASSED if p.status == Status.CLOSED else LOOKBACK_FAILED
    if p.lookback_due is None or p.status != Status.CLOSED:
        return ""
    return LOOKBACK_OVERDUE if p.lookback_due < (today or timezone.localdate()) else LOOKBACK_WAITING


def ledger_row(p: Problem, today: date | None = None) -> list[Any]:
    return [
        p.pk, p.category.name, p.description, *_places(p), local(p.reported_at), local(p.filed_at),
        local(p.dispatched_at), p.department.name if p.department else "", local(p.deadline),
        local(p.handled_at), local(p.closed_at), _yes_no(p.closed_on_time), p.rework_count,
        p.extension_count, p.recurrence_count, STATUS_NAMES.get(p.status, p.status),
        p.lookback_due, local(p.lookback_done_at), lookback_result(p, today),
    ]  # fmt: skip


def evaluation_rows(tables: Mapping[str, list[UnitStats]]) -> Iterable[list[Any]]:
    for level, units in tables.items():
        for u in units:
            yield [
                LEVEL_NAMES.get(level, level), u.rank, u.code, u.name, _round(u.score, 2), u.filed, u.closed,
                _percent(u.closure_rate), _percent(u.on_time_rate), _percent(u.rework_rate), u.reworks,
                _percent(u.extension_rate), _round(u.mean_hours), _round(u.median_hours), u.open_now,
                u.overdue_now, u.recurrences, _round(u.satisfaction, 2), u.rated,
            ]  # fmt: skip


def negative_row(p: Problem, evidence: Mapping[str, str], now: datetime) -> list[Any]:
    overdue = _yes_no(p.deadline is not None and p.deadline < now) if p.is_open else ""
    return [
        p.pk, p.category.name, p.description, *_places(p), local(p.reported_at),
        STATUS_NAMES.get(p.status, p.status), p.department.name if p.department else "", local(p.deadline),
        overdue, local(p.closed_at), evidence.get("fix_note", ""), evidence.get("check_note", ""),
        evidence.get("photos", ""),
    ]  # fmt: skip


def write_csv(out: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """CRLF line ends, formulas neutralised, times as local ``YYYY-MM-DD HH:MM:SS``, codes as text
    (``layers.io.code_text``: a leading tab), row by row (``out`` opened with the ``utf-8-sig``
    encoding gets the BOM)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    codes = [header in CODE_HEADERS for header in headers]
    for row in rows:
        writer.writerow([
            code_text(v) if code else v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else neutralise(v)
            for v, code in zip(row, codes, strict=True)
        ])  # fmt: skip


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM (see ``write_csv``)."""
    out = io.StringIO()
    write_csv(out, headers, rows)
    return out.getvalue().encode("utf-8-sig")


def _sheet(book: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet: WriteOnlyWorksheet = book.create_sheet(title)
    for i, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = 10 if len(header) <= 4 else 18
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(sheet, value=h)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        # a cell object (and its style) only where a format is set: plain values cost far less
        sheet.append([_time_cell(sheet, v) if isinstance(v, datetime) else neutralise(v) for v in row])


def _time_cell(sheet: WriteOnlyWorksheet, value: datetime) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = DATETIME_FORMAT
    return cell


def write_xlsx(
    target: str | IO[bytes], sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]
) -> None:
    """A workbook of (title, headers, rows) sheets, written in openpyxl's write-only mode: each
    sheet's rows go to a temporary file as they come, so memory stays flat whatever the rows."""
    book = Workbook(write_only=True)
    for title, headers, rows in sheets:
        _sheet(book, title, headers, rows)
    book.save(target)


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, sheets)
    return buf.getvalue()
