"""Parsing OpenStreetMap tag values into typed attributes (pure; no I/O).

Values come from pyrosm frames, where a missing tag is None or NaN.
"""

from __future__ import annotations

import math
import re
from typing import Any

_CJK = re.compile(r"[\u3400-\u9fff]$")


def tag_text(value: Any) -> str | None:
    """A tag value as stripped text; None for a missing (None/NaN) or blank value."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def parse_count(value: Any, *, maximum: int = 100_000) -> int | None:
    """A whole, non-negative number from an OSM tag value (``"12"``, ``"12.0"``), else None."""
    text = tag_text(value)
    if text is None or len(text) > 12:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or not number.is_integer() or not 0 <= number <= maximum:
        return None
    return int(number)


def parse_accessible_spaces(value: Any) -> int | None:
    """``capacity:disabled``: a number -> int, ``no`` -> 0, ``yes`` (count unknown) or other -> None."""
    text = tag_text(value)
    if text is not None and text.lower() == "no":
        return 0
    return parse_count(text)


def parse_yes_no(value: Any) -> bool | None:
    """``yes`` -> True, ``no`` -> False, anything else -> None."""
    text = tag_text(value)
    return {"yes": True, "no": False}.get(text.lower()) if text else None


def format_address(street: Any, housenumber: Any) -> str | None:
    """``addr:street`` + ``addr:housenumber``; no space after a Chinese street name."""
    street, number = tag_text(street), tag_text(housenumber)
    if street and number:
        return f"{street}{'' if _CJK.search(street) else ' '}{number}"
    return street or number
