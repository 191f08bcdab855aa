"""Default facility kinds, seeded by a data migration; administrators extend them in the admin.

Class codes follow GB/T 30428.2's six component classes (first two digits) with our own item
numbers. Radii and spacings are DOMAIN.md's standards, editable per town.
"""

# code, name, English name, class code, geometry, colour, service radius m, max spacing m
DEFAULT_KINDS: list[tuple[str, str, str, str, str, str, float | None, float | None]] = [
    ("hydrant", "消火栓", "fire hydrant", "0101", "Point", "#d62728", 150, 120),
    ("extinguisher", "灭火器箱", "fire extinguisher station", "0102", "Point", "#ff7f0e", 25, None),
    ("fire_lane", "消防通道", "fire lane", "0103", "LineString", "#e377c2", None, None),
    ("street_light", "路灯", "street light", "0104", "Point", "#bcbd22", None, None),
    ("curb_ramp", "缘石坡道", "curb ramp", "0201", "Point", "#17becf", None, None),
    ("tactile_paving", "盲道", "tactile paving", "0202", "LineString", "#ffbf00", None, None),
    ("accessible_entrance", "无障碍出入口", "barrier-free entrance", "0203", "Point", "#1f77b4", None, None),
    ("car_park", "停车场", "car park", "0204", "Polygon", "#7f7f7f", None, None),
    ("car_park_point", "停车场（点位）", "car park (point only)", "0206", "Point", "#7f7f7f", None, None),
    ("bicycle_parking", "非机动车停放点", "bicycle parking", "0205", "Point", "#8c564b", None, None),
    ("litter_bin", "果皮箱", "litter bin", "0301", "Point", "#2ca02c", None, 100),
    ("refuse_point", "垃圾收集点", "refuse collection point", "0302", "Point", "#006400", 70, None),
    ("recycling", "再生资源回收点", "recycling point", "0303", "Point", "#98df8a", None, None),
    ("toilet", "公共厕所", "public toilet", "0304", "Point", "#9467bd", 300, None),
    ("notice_board", "宣传栏", "notice board", "0601", "Point", "#aec7e8", None, None),
]


def seed_kinds(kind_model) -> None:
    """Create or update the default kinds (used by the data migration, with its historical model)."""
    for code, name, name_en, class_code, geom, color, radius, spacing in DEFAULT_KINDS:
        kind_model.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "class_code": class_code,
                "component_class": class_code[:2],
                "geom_type": geom,
                "color": color,
                "service_radius_m": radius,
                "max_spacing_m": spacing,
            },
        )
