"""The example catalogue shipped with the campaign: point types and a checklist for each, written
for this project after the structure of the public national evaluation (on-site inspection by
point type, item by item), not its text. Loaded by migration 0002; the campaign office edits it
in the admin. Item: (code, Chinese text, English text, weight, rule, deduction per finding,
fails at findings, problem category code)."""

from __future__ import annotations

TYPES = [
    ("main_street", "主次干道", "main and secondary roads", "#2b83ba"),
    ("back_street", "背街小巷", "back streets and alleys", "#abdda4"),
    ("market", "农贸市场", "farmers' markets", "#d7191c"),
    ("old_compound", "老旧小区", "old residential compounds", "#fdae61"),
    ("square", "广场公园", "squares and parks", "#1a9641"),
    ("bus_stop", "公交站点", "bus stops", "#5e3c99"),
    ("school", "校园周边", "school surroundings", "#e66101"),
    ("hospital", "医院", "hospitals", "#c51b7d"),
    ("toilet", "公共厕所", "public toilets", "#4d9221"),
    ("building_site", "建筑工地", "building sites", "#8c510a"),
    ("service_hall", "政务服务大厅", "public service halls", "#01665e"),
]

CLEAN = ("clean", "地面干净，无暴露垃圾、无积存污水", "Ground clean: no exposed rubbish, no standing dirty water",
         10, "per_finding", 2, 3, "0101")  # fmt: skip
BINS = ("bins", "果皮箱、垃圾收集容器齐全完好，无满溢", "Litter bins and refuse containers present, intact, not overflowing",
        8, "per_finding", 2, 2, "0102")  # fmt: skip
ADS = (
    "ads",
    "无乱张贴、乱涂写、乱刻画",
    "No fly-posting, graffiti or carving",
    8,
    "per_finding",
    2,
    2,
    "0201",
)
POSTERS = ("posters", "公益广告、宣传栏内容齐全、画面完好", "Public-service posters and notice boards complete and intact",
           10, "all", 0, 1, "0601")  # fmt: skip
VENDING = ("vending", "无占道经营、出店经营", "No vending on the road or trading outside shop fronts",
           10, "per_finding", 5, 1, "0301")  # fmt: skip
PARKING = ("parking", "车辆停放有序，无乱停乱放", "Vehicles parked in order, none left anywhere", 8, "per_finding", 2, 3,
           "0302")  # fmt: skip
TACTILE = ("tactile", "盲道连续、无占用，缘石坡道完好", "Tactile paving continuous and clear; curb ramps intact",
           6, "all", 0, 1, "0303")  # fmt: skip
FIRE = ("fire_lane", "消防通道畅通，消防设施完好", "Fire lanes clear; fire equipment in working order", 8, "all", 0, 1,
        "0304")  # fmt: skip
BUILD = ("no_illegal", "无违法搭建", "No illegal building", 8, "all", 0, 1, "0103")

ITEMS: dict[str, list[tuple]] = {
    "main_street": [CLEAN, BINS, ADS, POSTERS, VENDING, PARKING, TACTILE],
    "back_street": [
        CLEAN,
        BINS,
        ADS,
        VENDING,
        PARKING,
        BUILD,
        (
            "wires",
            "线缆规整，无乱拉乱挂",
            "Cables tidy, nothing strung or hung across",
            4,
            "per_finding",
            2,
            2,
            "0601",
        ),
    ],  # fmt: skip
    "market": [
        CLEAN,
        BINS,
        POSTERS,
        FIRE,
        (
            "zones",
            "分区经营，无出摊占道",
            "Trade kept to its zones, no stalls in the aisles or on the road",
            10,
            "per_finding",
            5,
            1,
            "0301",
        ),
        (
            "scales",
            "设有公平秤，价格明码标示",
            "A public check scale in place, prices marked",
            6,
            "all",
            0,
            1,
            "0601",
        ),
        ("drains", "排水通畅，无异味", "Drains flowing, no foul smell", 6, "all", 0, 1, "0101"),
    ],  # fmt: skip
    "old_compound": [
        CLEAN,
        BINS,
        ADS,
        POSTERS,
        PARKING,
        FIRE,
        BUILD,
        (
            "greens",
            "绿地无毁绿种菜、无杂物堆放",
            "Green spaces kept: no vegetable plots, no piled junk",
            6,
            "per_finding",
            2,
            2,
            "0101",
        ),
    ],  # fmt: skip
    "square": [
        CLEAN,
        BINS,
        POSTERS,
        TACTILE,
        ("fitness", "健身器材完好、安全", "Exercise equipment intact and safe", 6, "all", 0, 1, "0601"),
        (
            "order",
            "无违规经营、游商",
            "No unlicensed trading or roaming vendors",
            8,
            "per_finding",
            4,
            1,
            "0301",
        ),
    ],  # fmt: skip
    "bus_stop": [
        CLEAN,
        ADS,
        POSTERS,
        ("shelter", "候车亭、站牌完好洁净", "Shelter and stop sign intact and clean", 8, "all", 0, 1, "0601"),
    ],  # fmt: skip
    "school": [
        CLEAN,
        ADS,
        VENDING,
        PARKING,
        POSTERS,
        (
            "safe_way",
            "上下学通道安全有序",
            "The way to and from school safe and orderly",
            8,
            "all",
            0,
            1,
            "0302",
        ),
    ],  # fmt: skip
    "hospital": [
        CLEAN,
        BINS,
        PARKING,
        POSTERS,
        TACTILE,
        ("access", "无障碍出入口通畅", "Barrier-free entrance clear", 6, "all", 0, 1, "0305"),
    ],  # fmt: skip
    "toilet": [
        (
            "toilet_clean",
            "厕位洁净、无明显异味",
            "Cubicles clean, no strong smell",
            10,
            "per_finding",
            3,
            2,
            "0101",
        ),
        (
            "supplies",
            "洗手设施、手纸等用品齐全",
            "Hand-washing and paper supplies provided",
            6,
            "all",
            0,
            1,
            "0601",
        ),
        ("signs", "指示标志清晰，开放时间公示", "Clear signs; opening hours posted", 4, "all", 0, 1, "0601"),
        ("accessible", "设无障碍厕位", "An accessible cubicle provided", 6, "all", 0, 1, "0601"),
    ],  # fmt: skip
    "building_site": [
        POSTERS,
        (
            "hoarding",
            "围挡完整，公益广告上墙",
            "Hoarding complete, public-service posters on it",
            8,
            "all",
            0,
            1,
            "0401",
        ),
        (
            "dust",
            "裸土覆盖、洒水降尘",
            "Bare soil covered, dust kept down with water",
            10,
            "per_finding",
            5,
            1,
            "0401",
        ),
        (
            "wash",
            "出入口车辆冲洗，道路无带泥",
            "Vehicles washed at the gate, no mud on the road",
            8,
            "all",
            0,
            1,
            "0401",
        ),
    ],  # fmt: skip
    "service_hall": [
        POSTERS,
        (
            "guide",
            "办事指南公开，服务窗口标识清楚",
            "Service guides public, counters clearly signed",
            8,
            "all",
            0,
            1,
            "0601",
        ),
        (
            "manners",
            "文明用语，设意见箱或评价器",
            "Courteous service; a comment box or rating device",
            6,
            "all",
            0,
            1,
            "0601",
        ),
        ("access", "无障碍设施齐全", "Barrier-free facilities complete", 6, "all", 0, 1, "0305"),
    ],  # fmt: skip
}

# The line department (条) answering for each type in the demo town (codes of accounts.Department).
DEPARTMENTS = {
    "market": ("scjg", "市场监管所"),
    "school": ("jy", "教育办"),
    "building_site": ("zj", "住建办"),
    "hospital": ("wj", "卫健办"),
    "service_hall": ("zw", "政务服务办"),
}
DEFAULT_DEPARTMENT = "cg"


def catalogue_load(point_type_model: type, item_model: type, category_model: type) -> None:
    """Create what is missing of the example catalogue (a type or item already there is left as
    the office edited it). Takes the models so a migration can pass its historical ones."""
    categories = {c.code: c for c in category_model.objects.all()}
    for order, (code, name, name_en, color) in enumerate(TYPES, start=1):
        ptype, _ = point_type_model.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "color": color, "order": order}
        )
        for n, (icode, text, text_en, weight, rule, deduction, fail_at, category) in enumerate(
            ITEMS[code], 1
        ):
            if category not in categories:
                continue
            item_model.objects.get_or_create(
                point_type=ptype, code=icode,
                defaults={"text": text, "text_en": text_en, "weight": weight, "rule": rule,
                          "deduction": deduction, "fail_at": fail_at, "category": categories[category],
                          "order": n},
            )  # fmt: skip
