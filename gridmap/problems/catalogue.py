"""Default event categories, seeded by a data migration; administrators extend them.

Codes: two-digit class (市容环境 01, 宣传广告 02, 街面秩序 03, 施工管理 04, 突发事件 05, 其他 06)
plus a two-digit item. A category that concerns a kind of facility links a problem to the
nearest such facility.
"""

# code, name, English name, facility kind code or None
DEFAULT_CATEGORIES: list[tuple[str, str, str, str | None]] = [
    ("0101", "暴露垃圾", "exposed rubbish", None),
    ("0102", "垃圾桶满溢", "overflowing bin", "litter_bin"),
    ("0103", "违法建设", "illegal construction", None),
    ("0104", "果皮箱破损", "damaged litter bin", "litter_bin"),
    ("0201", "小广告", "illegal small ads", None),
    ("0202", "涂鸦", "graffiti", None),
    ("0301", "占道经营", "street vending", None),
    ("0302", "乱停车", "disorderly parking", None),
    ("0303", "盲道被占", "blocked tactile paving", "tactile_paving"),
    ("0304", "消防通道堵塞", "blocked fire lane", "fire_lane"),
    ("0305", "缘石坡道损坏", "damaged curb ramp", "curb_ramp"),
    ("0401", "施工扬尘", "construction dust", None),
    ("0501", "道路塌陷", "road collapse", None),
    ("0601", "其他", "other", None),
    ("0602", "消火栓损坏", "damaged fire hydrant", "hydrant"),
    ("0603", "灭火器缺失", "missing fire extinguisher", "extinguisher"),
]


def seed_categories(category_model, kind_model) -> None:
    """Create or update the default categories (used by the data migration)."""
    kinds = {k.code: k for k in kind_model.objects.all()}
    for code, name, name_en, kind in DEFAULT_CATEGORIES:
        category_model.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "event_class": code[:2],
                "facility_kind": kinds.get(kind) if kind else None,
            },
        )
