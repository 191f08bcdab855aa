"""Every text the leader map shows, by key: the Chinese defaults and the field lists built from them.

``layers`` has no Django and so no gettext; :func:`layers.maps.grid.grid_map` takes a ``labels``
mapping instead and merges it over :data:`DEFAULT_LABELS` (:func:`merged_labels`), so a caller
with translations (``gridmap.maps.labels.map_labels``) can show the map in the user's language.
Texts with a variable part hold ``%(name)s`` placeholders, filled by :func:`label`.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LABELS: dict[str, str] = {
    # layer names and legend titles
    "base_map": "底图",
    "grid_section": "网格",
    "boundary": "网格边界",
    "buildings": "建筑物",
    "buildings_by_households": "建筑物（按户数）",
    "buildings_by_population": "建筑物（按人口）",
    "households_value": "%(count)s 户",
    "population_value": "%(count)s 人",
    "facilities": "设施",
    "inspection_points": "测评点位",
    "problems": "问题",
    "problems_closed": "已结束的问题（已结案、不予立案、重复）",
    "problem_status": "问题状态",
    "problem_class": "问题类别",
    "overdue": "已超期",
    "legend": "图例",
    "streets": "街道",
    "place_labels": "街道名称与网格编码",
    "heat": "热力图（未结问题）",
    "hotspots": "热点分析（Gi*）",
    "hotspots_legend": "热点分析（Gi*，问题密度）",
    "hot_99": "热点（99% 置信）",
    "hot_95": "热点（95% 置信）",
    "hot_90": "热点（90% 置信）",
    "not_significant": "不显著",
    "cold_90": "冷点（90% 置信）",
    "cold_95": "冷点（95% 置信）",
    "cold_99": "冷点（99% 置信）",
    "coverage_gaps": "%(kind)s：未覆盖区域",
    "uncovered_buildings": "%(kind)s：未覆盖建筑",
    "coverage_legend": "覆盖缺口（直线距离）",
    "negative_list": "负面清单（未结问题）",
    "negative_title": "负面清单",
    "negative_more": "最早的 %(shown)s 项，共 %(total)s 项：查看全部",
    "days_value": "%(days)s 天",
    "problem_link": "查看问题详情",
    "positive_sites": "正面清单（示范点位）",
    # problem classes (first two digits of the category code)
    "class_01": "市容环境",
    "class_02": "宣传广告",
    "class_03": "街面秩序",
    "class_04": "施工管理",
    "class_05": "突发事件",
    "class_06": "其他",
    # popup field labels
    "field_grid_code": "网格编码",
    "field_grid_name": "网格名称",
    "field_name": "名称",
    "field_address": "地址",
    "field_point_type": "点位类型",
    "field_department": "责任部门",
    "field_use": "用途",
    "field_floors": "层数",
    "field_households": "户数",
    "field_population": "人口",
    "field_condition": "状况",
    "field_id": "编号",
    "field_category": "类别",
    "field_status": "状态",
    "field_reported_at": "上报时间",
    "field_deadline": "处置时限",
    "field_overdue": "超期",
    "field_description": "描述",
    "field_days_open": "已过天数",
    "field_significance": "显著性",
    "field_count": "问题数",
    "field_z": "Gi* z 值",
    "field_p_value": "p 值",
    "field_facility": "设施",
    "field_radius_m": "服务半径（米）",
    "field_uncovered_m2": "未覆盖面积（平方米）",
    "field_uncovered_pct": "未覆盖比例（%）",
    "field_distance_m": "最近距离（米）",
}

# Gi* class (layers.analysis) -> its label key
HOTSPOT_KEYS = {
    "hot_99": "hot_99",
    "hot_95": "hot_95",
    "hot_90": "hot_90",
    "none": "not_significant",
    "cold_90": "cold_90",
    "cold_95": "cold_95",
    "cold_99": "cold_99",
}

# popup of each layer: column -> label key, in the popup's order
_PROBLEM = {"id": "field_id", "category_name": "field_category", "status_name": "field_status",
            "reported_at": "field_reported_at"}  # fmt: skip
FIELD_KEYS: dict[str, dict[str, str]] = {
    "boundary": {"code": "field_grid_code", "name": "field_grid_name"},
    "building": {
        "name": "field_name",
        "address": "field_address",
        "use": "field_use",
        "floors": "field_floors",
        "households": "field_households",
        "population": "field_population",
    },  # fmt: skip
    "facility": {"name": "field_name", "condition": "field_condition"},
    "positive": {"name": "field_name", "description": "field_description"},
    "inspection_point": {
        "name": "field_name",
        "type_name": "field_point_type",
        "department": "field_department",
    },
    "problem": _PROBLEM
    | {
        "deadline": "field_deadline",
        "overdue_label": "field_overdue",
        "description": "field_description",
    },  # fmt: skip
    "hotspot": {
        "hotspot_name": "field_significance",
        "count": "field_count",
        "z": "field_z",
        "p_value": "field_p_value",
    },  # fmt: skip
    "gap": {
        "kind_name": "field_facility",
        "radius_m": "field_radius_m",
        "uncovered_m2": "field_uncovered_m2",
        "uncovered_pct": "field_uncovered_pct",
    },  # fmt: skip
    "uncovered": {
        "kind_name": "field_facility",
        "address": "field_address",
        "households": "field_households",
        "distance_m": "field_distance_m",
    },  # fmt: skip
    "negative": _PROBLEM
    | {
        "days_open": "field_days_open",
        "deadline": "field_deadline",
        "overdue_label": "field_overdue",
        "description": "field_description",
    },  # fmt: skip
}


def merged_labels(labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`DEFAULT_LABELS` with ``labels`` over them (keys it does not know are kept, unused)."""
    return {**DEFAULT_LABELS, **{k: str(v) for k, v in (labels or {}).items()}}


def label(labels: Mapping[str, str], key: str, **values: object) -> str:
    """``labels[key]`` with its ``%(name)s`` placeholders filled from ``values``."""
    return labels[key] % values if values else labels[key]


def fields(layer: str, labels: Mapping[str, str] = DEFAULT_LABELS) -> dict[str, str]:
    """Column -> popup label of ``layer`` (a key of :data:`FIELD_KEYS`)."""
    return {column: labels[key] for column, key in FIELD_KEYS[layer].items()}


def class_name(code: str, labels: Mapping[str, str] = DEFAULT_LABELS) -> str:
    """The name of a problem class (two digits); unknown classes by their code, none as a dash."""
    return labels.get(f"class_{code}", code or "—")
