"""Default Open311 service attributes (extra questions) for a few categories; seeded by a data
migration, edited in the admin (*Open311 service attributes*)."""

from __future__ import annotations

from typing import Any

# category code, attribute code, datatype, required, order, question, English question, values
DEFAULT_ATTRIBUTES: list[tuple[str, str, str, bool, int, str, str, list[list[str]]]] = [
    ("0303", "obstruction", "singlevaluelist", False, 1, "盲道被什么占用？", "What blocks the tactile paving?",
     [["vehicle", "车辆", "vehicle"], ["goods", "堆放物品", "stacked goods"], ["stall", "摊位", "stall"],
      ["other", "其他", "other"]]),
    ("0304", "fully_blocked", "singlevaluelist", True, 1, "消防通道是否完全堵塞？", "Is the fire lane fully blocked?",
     [["yes", "完全堵塞", "fully blocked"], ["no", "部分堵塞", "partly blocked"]]),
    ("0501", "danger", "singlevaluelist", True, 1, "是否已危及行人或车辆安全？",
     "Does it endanger pedestrians or vehicles now?", [["yes", "是", "yes"], ["no", "否", "no"]]),
    ("0501", "size_m", "number", False, 2, "塌陷范围大约几米？", "About how many metres across is it?", []),
]  # fmt: skip


def seed_attributes(attribute_model: Any, category_model: Any) -> None:
    """Create or update the default attributes of the categories that exist."""
    categories = {c.code: c for c in category_model.objects.all()}
    for code, attr, datatype, required, order, question, question_en, values in DEFAULT_ATTRIBUTES:
        if code in categories:
            attribute_model.objects.update_or_create(
                category=categories[code],
                code=attr,
                defaults={"datatype": datatype, "required": required, "order": order, "description": question,
                          "description_en": question_en, "values": values},
            )  # fmt: skip
