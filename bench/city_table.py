"""The city bench's table: figures beside their targets, misses flagged (nothing asserted)."""

from __future__ import annotations

from typing import Any

WARM_S = 1.0
COLD_S = 2.0
SIZE_MB = 2.0
WORKER_MB = 1024.0
IMPORT_ROWS_S = 5000.0  # the target of the problems' import (1M rows); the other layers have none
SPEED_TARGETED = ("import problems",)
IMPORT_MB = 1024.0
COMMAND_START_S = 1.0


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def page_misses(row: dict[str, Any]) -> list[str]:
    """Why a timed page misses its targets; empty when it meets them all."""
    status = row["status"]
    if not 200 <= status < 300:
        return ["no answer (timeout)" if status == 0 else f"HTTP {status}"]
    misses = []
    if row["cold_s"] is not None and row["cold_s"] > COLD_S:
        misses.append(f"cold > {COLD_S:g} s")
    if row["warm_s"] is not None and row["warm_s"] > WARM_S:
        misses.append(f"warm > {WARM_S:g} s")
    if not row["is_file"] and row["size_bytes"] > SIZE_MB * 1e6:
        misses.append(f"> {SIZE_MB:g} MB")
    return misses


def not_for_role(row: dict[str, Any]) -> bool:
    """Refused because of who asks (403) or out of the role's scope (404): not a page they open."""
    return row["status"] in (403, 404)


def _town_cell(town: dict[tuple[str, str], dict[str, Any]], row: dict[str, Any]) -> str:
    t = town.get((row["work"], row["role"]))
    if t is None or not 200 <= t["status"] < 300:
        return "—" if t is None else f"HTTP {t['status']}"
    return f"{_s(t['cold_s'])} / {_s(t['warm_s'])}"


def page_rows(pages: list[dict[str, Any]], town_pages: list[dict[str, Any]]) -> list[list[str]]:
    town = {(t["work"], t["role"]): t for t in town_pages}
    rows = []
    for row in pages:
        if not_for_role(row):
            continue
        misses = page_misses(row)
        size = f"{row['size_bytes'] / 1e6:.2f} MB" + (" (file)" if row["is_file"] else "")
        cold = (
            _s(row["cold_s"])
            if 200 <= row["status"] < 300
            else f"HTTP {row['status']} after {_s(row['cold_s'])}"
        )
        rows.append([row["work"], row["role"], _town_cell(town, row), _s(row.get("first_s")), cold, _s(row["warm_s"]), size,
                     "yes" if not misses else "**NO**: " + ", ".join(misses)])  # fmt: skip
    return rows


def import_rows(stages: dict[str, dict[str, Any]]) -> list[list[str]]:
    rows = []
    for name, s in stages.items():
        if "rows" not in s:
            peak = "" if s.get("peak_mb") is None else f"peak {s['peak_mb']:,.0f} MB"
            rows.append([name, "—", "—", "", _s(s["seconds"]), "", peak, ""])
            continue
        misses = []
        if name in SPEED_TARGETED and s["rows_per_s"] < IMPORT_ROWS_S:
            misses.append(f"< {IMPORT_ROWS_S:,.0f} rows/s")
        if s["peak_mb"] > IMPORT_MB:
            misses.append(f"> {IMPORT_MB:,.0f} MB")
        rows.append([name, "—", "—", "", f"{s['rows']:,} rows in {_s(s['seconds'])}", f"{s['rows_per_s']:,.0f} rows/s",
                     f"peak {s['peak_mb']:,.0f} MB", "yes" if not misses else "**NO**: " + ", ".join(misses)])  # fmt: skip
    return rows


def memory_rows(
    workers_mb: list[float], town_workers_mb: list[float], what: str = "gunicorn worker"
) -> list[list[str]]:
    if not workers_mb:
        return []
    peak = max(workers_mb)
    town = f"max {max(town_workers_mb):,.0f} MB" if town_workers_mb else "—"
    return [[f"{what} peak memory (VmHWM)", "all", town, "", f"max {peak:,.0f} MB",
             f"sum {sum(workers_mb):,.0f} MB", "", "yes" if peak <= WORKER_MB else f"**NO**: > {WORKER_MB:,.0f} MB"]]  # fmt: skip


def command_rows(starts: dict[str, float]) -> list[list[str]]:
    return [[f"`manage.py {name}` start", "—", "—", "", _s(s), "", "",
             "yes" if s <= COMMAND_START_S else f"**NO**: > {COMMAND_START_S:g} s"] for name, s in starts.items()]  # fmt: skip


# "city first": the run's first request of the page for the role, before any edit, with nothing
# kept for it in the shared cache (no target: the targets are for warm requests and for cold
# ones after a data change; a kept result is computed once per scope and parameters).
HEADER = ["work", "role", "town cold / warm", "city first", "city cold", "city warm", "size", "target met?"]


def markdown(rows: list[list[str]], header: list[str] = HEADER) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def denied_lines(pages: list[dict[str, Any]]) -> list[str]:
    """Per role, what it may not open (so 'skip nothing a role can open' can be checked)."""
    by_role: dict[str, list[str]] = {}
    for row in pages:
        if not_for_role(row):
            by_role.setdefault(row["role"], []).append(f"{row['work']} ({row['status']})")
    return [f"- {role}: {', '.join(works)}" for role, works in by_role.items()]


def misses_count(rows: list[list[str]]) -> int:
    return sum(1 for row in rows if row[-1].startswith("**NO**"))
