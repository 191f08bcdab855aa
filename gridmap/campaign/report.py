"""The campaign office's workbook of a round (xlsx, by the evaluation's writer: write-only,
formula-like text neutralised): point scores, scores per type / grid / community / department,
the items against the round before, and what is still open."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from gridmap.campaign.models import InspectionPoint, Round, RoundPoint
from gridmap.campaign.results import readiness as readiness_rows
from gridmap.campaign.results import round_compared, round_results
from gridmap.evaluation.exports import xlsx_bytes

LEVEL_TITLES = {"type": "点位类型", "grid": "网格", "community": "社区", "department": "责任部门"}
TREND = {"better": "好转", "worse": "变差", "same": "持平", "new": "无上轮"}


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def round_workbook(round_: Round, visits: QuerySet[RoundPoint], points: QuerySet[InspectionPoint]) -> bytes:
    results = round_results(round_, visits)
    point_rows = (
        [r.name, r.type, r.grid, r.community, r.department, r.inspector, r.score, " ".join(r.failed_items)]
        for r in results.points
    )
    group_rows: list[list[Any]] = []
    for level, groups in results.groups.items():
        for name, g in sorted(groups.items(), key=lambda kv: str(kv[0])):
            group_rows.append([LEVEL_TITLES[level], name or "—", g.score, g.points, _percent(g.pass_rate)])
    compare_rows = (
        [c["code"], c["text"], _percent(c["rate"]), c["answers"], _percent(c["before"]), TREND[c["trend"]]]
        for c in round_compared(round_, visits)
    )
    open_rows: Iterable[list[Any]] = (
        [e["point"].name, e["point"].type.name, i["item"].code, i["item"].text, i["problem"].pk,
         i["problem"].get_status_display()]
        for e in readiness_rows(points) for i in e["items"]
    )  # fmt: skip
    return xlsx_bytes([
        ("点位得分", ["点位", "类型", "网格", "社区", "责任部门", "测评员", "得分", "不合格项"], point_rows),
        ("分类汇总", ["层级", "名称", "平均得分", "点位数", "达标率(%)"], group_rows),
        ("逐项对比", ["编码", "测评项", "不合格率(%)", "测评次数", "上轮不合格率(%)", "变化"], compare_rows),
        ("待整改", ["点位", "类型", "编码", "测评项", "问题编号", "状态"], open_rows),
    ])  # fmt: skip
