"""What each import target accepts: column names (Chinese and English), attribute checks, keys.

A target turns one accepted row of a layer (already in EPSG:4326, geometry checked) into model
field values, or rejects it with a reason. Lookups (communities, users, kinds, categories) are
loaded once per import into ``Lookups``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from gridmap.accounts.models import Department
from gridmap.campaign.models import InspectionPoint, PointType
from gridmap.core.boundary import BoundaryError, check_text, check_time
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Community, District, Grid, Street, Subdistrict
from gridmap.problems.models import EventCategory, Problem, Status

# The choices as sets, made once: an enum's ``values`` is rebuilt on every access (per row).
BUILDING_USES = frozenset(Building.Use.values)
CONDITIONS = frozenset(Facility.Condition.values)
STATUSES = frozenset(Status.values)


class Reject(Exception):
    """A row that cannot be imported; the message is its reason."""


ALIASES: dict[str, list[str]] = {
    "code": ["code", "grid_code", "编码", "网格编码", "wgbm", "bm"],
    "name": ["name", "名称", "mc", "网格名称"],
    "community_code": ["community_code", "社区编码", "sqbm"],
    "parent_code": ["parent_code", "上级编码"],
    "level": ["level", "级别"],
    "leader": ["leader", "first_responsible", "网格长", "第一责任人"],
    "direct": ["direct", "direct_responsible", "直接责任人"],
    "address": ["address", "地址", "addr", "dz"],
    "use": ["use", "用途", "building"],
    "floors": ["floors", "层数", "building:levels", "cs"],
    "households": ["households", "户数", "hs"],
    "population": ["population", "人口", "rk"],
    "kind": ["kind", "类型", "部件类型"],
    "condition": ["condition", "状态", "完好情况"],
    "last_inspected": ["last_inspected", "巡检日期"],
    "capacity": ["capacity", "泊位数"],
    "accessible_spaces": ["accessible_spaces", "capacity:disabled", "无障碍泊位"],
    "category": ["category", "category_code", "事件类别", "类别编码"],
    "description": ["description", "描述", "问题描述"],
    "reporter": ["reporter", "上报人"],
    "reported_at": ["reported_at", "上报时间", "time"],
    "status": ["status", "状态"],
    "highway": ["highway", "road_class", "道路等级"],
    "point_type": ["point_type", "type", "点位类型"],
    "department": ["department", "department_code", "责任部门", "部门编码"],
}
KEY_COLUMNS = ["source_key", "id", "fid", "source_id", "osm_id", "编号", "bh", "code"]


def pick(row: dict[str, Any], name: str) -> Any:
    """The row's value for a field under any of its aliases; None when absent or empty."""
    for alias in ALIASES.get(name, [name]):
        value = row.get(alias)
        if value is None or (isinstance(value, float) and value != value):
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        return value
    return None


def as_int(value: Any, what: str, *, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise Reject(f"{what} is not a number: {str(value)[:30]!r}") from None
    if number != number or not number.is_integer() or not minimum <= number <= maximum:
        raise Reject(f"{what} must be a whole number in {minimum}..{maximum}: {str(value)[:30]!r}")
    return int(number)


def as_text(value: Any, limit: int, what: str = "text") -> str:
    """The value as text of at most ``limit`` characters; text the boundary refuses (control
    characters, lone surrogates) rejects the row."""
    if value is None:
        return ""
    text = str(value)[:limit]
    try:
        return check_text(text)
    except BoundaryError as exc:
        raise Reject(f"{what}: {exc}") from None


def key_text(value: str) -> str:
    """A row's key as read from its key column; one the boundary refuses rejects the row."""
    try:
        return check_text(value)
    except BoundaryError as exc:
        raise Reject(f"key: {exc}") from None


def in_window(when: datetime, what: str) -> datetime:
    """A time inside the boundary's window (not before 2000, not in the future), else the row is
    rejected with the reason: the same rule on the dry run and the commit."""
    try:
        return check_time(when)
    except BoundaryError as exc:
        raise Reject(f"{what} {when.isoformat()[:25]}: {exc}") from None


def as_date(value: Any, what: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = parse_date(str(value)[:10])
        except ValueError:
            parsed = None
        if parsed is None:
            raise Reject(f"{what} is not a date (YYYY-MM-DD): {str(value)[:30]!r}")
    in_window(datetime.combine(parsed, time.min), what)
    return parsed


def as_datetime(value: Any, what: str) -> datetime | None:
    """ISO 8601; a time without an offset is taken as the site's time zone (Asia/Shanghai)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(str(value).strip().replace(" ", "T", 1))
        except ValueError:
            parsed = None
        if parsed is None:
            raise Reject(f"{what} is not an ISO 8601 time: {str(value)[:40]!r}")
    if timezone.is_naive(parsed):
        try:
            parsed = timezone.make_aware(parsed)
        except (OverflowError, ValueError):
            raise Reject(f"{what} is not a usable time: {str(value)[:40]!r}") from None
    return in_window(parsed, what)


def digits(value: Any, length: int, what: str) -> str:
    text = str(value).strip() if value is not None else ""
    if text.endswith(".0"):  # numeric columns read as floats
        text = text[:-2]
    if not re.fullmatch(rf"[0-9]{{{length}}}", text):
        raise Reject(f"{what} must be {length} digits: {text[:30]!r}")
    return text


@dataclass
class Lookups:
    districts: dict[str, int] = field(default_factory=dict)
    subdistricts: dict[str, int] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, FacilityKind] = field(default_factory=dict)
    categories: dict[str, EventCategory] = field(default_factory=dict)
    point_types: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Lookups:
        user_model = get_user_model()
        return cls(
            districts=dict(District.objects.values_list("code", "pk")),
            subdistricts=dict(Subdistrict.objects.values_list("code", "pk")),
            communities=dict(Community.objects.values_list("code", "pk")),
            users=dict(user_model.objects.values_list(user_model.USERNAME_FIELD, "pk")),
            kinds={k.code: k for k in FacilityKind.objects.all()},
            categories={c.code: c for c in EventCategory.objects.select_related("facility_kind")},
            point_types=dict(PointType.objects.values_list("code", "pk")),
            departments=dict(Department.objects.values_list("code", "pk")),
        )

    def user(self, username: Any, what: str) -> int | None:
        if username is None:
            return None
        try:
            return self.users[str(username)]
        except KeyError:
            raise Reject(f"{what} {str(username)[:40]!r} is not a user") from None


# -- per-target row converters: (row, lookups, options) -> model field values -----------------


def grid_fields(row: dict[str, Any], lk: Lookups, opts: dict[str, Any]) -> dict[str, Any]:
    code = digits(pick(row, "code"), 15, "grid code")
    community = lk.communities.get(code[:12])
    if community is None:
        raise Reject(f"grid {code}: community {code[:12]} does not exist (import regions first)")
    direct = pick(row, "direct")
    names = [n.strip() for n in re.split(r"[,;，、]", str(direct))] if direct else []
    return {
        "code": code,
        "name": as_text(pick(row, "name") or code, 100, "name"),
        "community_id": community,
        "first_responsible_id": lk.user(pick(row, "leader"), "leader"),
        "_direct": [lk.user(n, "direct responsible person") for n in names if n],
    }


def region_fields(row: dict[str, Any], lk: Lookups, opts: dict[str, Any]) -> dict[str, Any]:
    level = as_text(pick(row, "level"), 20, "level")
    name = as_text(pick(row, "name"), 100, "name")
    if level == "district":
        return {"_model": District, "code": digits(pick(row, "code"), 6, "district code"), "name": name}
    parent = pick(row, "parent_code")
    if level == "subdistrict":
        code = digits(pick(row, "code"), 9, "street/town code")
        district = lk.districts.get(code[:6])
        if district is None or (parent and str(parent) != code[:6]):
            raise Reject(f"street/town {code}: district {code[:6]} is not imported")
        return {"_model": Subdistrict, "code": code, "name": name, "district_id": district}
    if level == "community":
        code = digits(pick(row, "code"), 12, "community code")
        sub = lk.subdistricts.get(code[:9])
        if sub is None or (parent and str(parent) != code[:9]):
            raise Reject(f"community {code}: street/town {code[:9]} is not imported")
        return {"_model": Community, "code": code, "name": name, "subdistrict_id": sub}
    raise Reject(f"level must be district, subdistrict or community, not {level[:20]!r}")


def building_fields(row: dict[str, Any], lk: Lookups, opts: dict[str, Any]) -> dict[str, Any]:
    use = as_text(pick(row, "use"), 20, "use").lower()
    return {
        "address": as_text(pick(row, "address"), 200, "address"),
        "use": use if use in BUILDING_USES else Building.Use.OTHER,
        "floors": as_int(pick(row, "floors"), "floors", maximum=300),
        "households": as_int(pick(row, "households"), "households", maximum=100_000) or 0,
        "population": as_int(pick(row, "population"), "population", maximum=1_000_000) or 0,
    }


def facility_fields(row: dict[str, Any], lk: Lookups, opts: dict[str, Any]) -> dict[str, Any]:
    kind_code = opts.get("kind") or pick(row, "kind")
    kind = lk.kinds.get(str(kind_code)) if kind_code else None
    if kind is None:
        raise Reject(f"facility kind {str(kind_code)[:40]!r} is not in the catalogue (give --kind)")
    condition = as_text(pick(row, "condition"), 10, "condition") or "good"
    if condition not in CONDITIONS:
        raise Reject(f"condition must be one of {', '.join(Facility.Condition.values)}: {condition!r}")
    capacity = as_int(pick(row, "capacity"), "capacity")
    accessible = as_int(pick(row, "accessible_spaces"), "accessible spaces")
    if capacity is not None and accessible is not None and accessible > capacity:
        raise Reject(f"accessible spaces ({accessible}) exceed capacity ({capacity})")
    return {
        "kind_id": kind.pk,
        "_geom_type": kind.geom_type,
        "name": as_text(pick(row, "name"), 200, "name"),
        "condition": condition,
        "last_inspected": as_date(pick(row, "last_inspected"), "last inspection"),
        "capacity": capacity,
        "accessible_spaces": accessible,
    }


def problem_fields(row: dict[str, Any], lk: Lookups, opts: dict[str, Any]) -> dict[str, Any]:
    code = pick(row, "category")
    category = lk.categories.get(str(code).removesuffix(".0")) if code is not None else None
    if category is None:
        raise Reject(f"event category {str(code)[:20]!r} is not in the catalogue")
    status = as_text(pick(row, "status"), 12, "status") or Status.REPORTED
    if status not in STATUSES:
        raise Reject(f"status must be one of {', '.join(Status.values)}: {status[:20]!r}")
    reported_at = as_datetime(pick(row, "reported_at"), "reported time") or timezone.now()
    return {
        "category_id": category.pk,
        "_category": category,
        "description": as_text(pick(row, "description"), 4000, "description"),
        "reporter_id": lk.user(pick(row, "reporter"), "reporter"),
        "reported_at": reported_at,
        "status": status,
    }


def street_fields(row: dict[str, Any], lk: Lookups, opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": as_text(pick(row, "name"), 200, "name"),
        "highway": as_text(pick(row, "highway"), 40, "highway"),
    }


def inspection_point_fields(row: dict[str, Any], lk: Lookups, opts: dict[str, Any]) -> dict[str, Any]:
    """An inspection point: its type (``--kind`` or a column), name, address and the code of the
    department answering for it (optional; unknown codes reject the row)."""
    type_code = opts.get("kind") or pick(row, "point_type")
    type_id = lk.point_types.get(str(type_code)) if type_code else None
    if type_id is None:
        raise Reject(f"inspection point type {str(type_code)[:40]!r} is not in the catalogue (give --kind)")
    department = pick(row, "department")
    department_id = None
    if department is not None:
        department_id = lk.departments.get(str(department).removesuffix(".0"))
        if department_id is None:
            raise Reject(f"department {str(department)[:20]!r} does not exist")
    name = as_text(pick(row, "name"), 200, "name")
    if not name:
        raise Reject("an inspection point needs a name")
    return {
        "type_id": type_id,
        "name": name,
        "address": as_text(pick(row, "address"), 200, "address"),
        "department_id": department_id,
    }


@dataclass(frozen=True)
class Target:
    name: str
    model: type
    convert: Any
    geom_types: frozenset[str]
    key_field: str = "source_key"


POLYGONS = frozenset({"Polygon", "MultiPolygon"})
LINES = frozenset({"LineString", "MultiLineString"})
ANY = frozenset({"Point", "MultiPoint"}) | LINES | POLYGONS

TARGETS: dict[str, Target] = {
    "regions": Target("regions", Community, region_fields, POLYGONS, key_field="code"),
    "grids": Target("grids", Grid, grid_fields, POLYGONS, key_field="code"),
    "buildings": Target("buildings", Building, building_fields, POLYGONS),
    "facilities": Target("facilities", Facility, facility_fields, ANY),
    "problems": Target("problems", Problem, problem_fields, frozenset({"Point"})),
    "streets": Target("streets", Street, street_fields, LINES),
    "inspection_points": Target(
        "inspection_points",
        InspectionPoint,
        inspection_point_fields,
        frozenset({"Point", "MultiPoint"}) | POLYGONS,
    ),
}
