"""``POST requests``: check the form fields, locate the request and create the problem once.

Location: ``lat`` and ``long`` (checked as raw numbers before any geometry exists), else
``address_id`` (a building id), else ``address_string`` matching one building's address exactly,
then case-insensitively; the building's point on surface is the position.

Text and times: every parameter has passed the boundary's text rule in ``views.endpoint``
(control characters and lone surrogates are a 400); a datetime attribute must lie in the
boundary's window (``gridmap.core.boundary.check_time``).

Idempotence: a POST with the same content from the same key within
``GRIDMAP_OPEN311_DEDUP_SECONDS`` (120) answers with the first request (200 instead of 201);
concurrent double POSTs meet on a client id derived from key, content and time window, which
``problem_create`` (``gridmap.problems.intake``) treats as one submission. A client may also send its own ``client_uuid``
(an extension of the spec): a replay with the same value, at any time, returns the first request.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.core.boundary import BoundaryError, check_time
from gridmap.core.geoinput import point_from_lonlat
from gridmap.geography.models import Building, District
from gridmap.geography.selectors import community_for_point
from gridmap.open311.access import Caller, param, setting
from gridmap.open311.formats import Open311Error
from gridmap.open311.models import ServiceAttribute, Submission
from gridmap.open311.queries import parse_when
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory, Problem
from gridmap.problems.photos import photo_check, problem_photo_attach

MAX_DESCRIPTION = 4000
MAX_ADDRESS = 200
MAX_CLIENT_ID = 100
MAX_NUMBER = 1e15  # a number attribute's magnitude
MAX_TEXT = {"string": 300, "text": 2000}
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")
NAMESPACE = uuid.UUID("6f0e3c1e-3b0a-4d55-9a43-311311311311")


@dataclass
class Intake:
    problem: Problem
    submission: Submission
    created: bool


def bad(message: str) -> Open311Error:
    return Open311Error(400, message)


def _check_value(attribute: ServiceAttribute, values: list[str]) -> Any:
    kind = attribute.datatype
    if kind == ServiceAttribute.Datatype.MULTI:
        if any(v not in attribute.value_keys() for v in values):
            raise bad(_("attribute[%(code)s] has a value not in its list.") % {"code": attribute.code})
        return sorted(set(values))
    if len(values) != 1:
        raise bad(_("attribute[%(code)s] takes one value.") % {"code": attribute.code})
    value = values[0]
    if kind == ServiceAttribute.Datatype.SINGLE and value not in attribute.value_keys():
        raise bad(_("attribute[%(code)s] has a value not in its list.") % {"code": attribute.code})
    if kind == ServiceAttribute.Datatype.NUMBER:
        try:
            number = float(value) if len(value) <= 40 else float("nan")
        except ValueError:
            number = float("nan")
        if number != number or abs(number) > MAX_NUMBER:  # NaN, infinite or beyond any measure
            raise bad(_("attribute[%(code)s] must be a number.") % {"code": attribute.code})
        return number
    if kind == ServiceAttribute.Datatype.DATETIME:
        when = parse_when(value, f"attribute[{attribute.code}]")
        try:
            return check_time(when).isoformat()
        except BoundaryError as exc:
            raise bad(f"attribute[{attribute.code}]: {exc.message}") from None
    if len(value) > MAX_TEXT.get(kind, MAX_TEXT["text"]):
        raise bad(_("attribute[%(code)s] is too long.") % {"code": attribute.code})
    return value


def parse_attributes(request: HttpRequest, category: EventCategory) -> dict[str, Any]:
    defined = {a.code: a for a in category.open311_attributes.all()}
    given: dict[str, list[str]] = {}
    for name in request.POST:
        match = ATTRIBUTE.match(name)
        if match:
            values = [v.strip() for v in request.POST.getlist(name) if v.strip()]
            given.setdefault(match.group(1), []).extend(values)
    unknown = sorted(set(given) - set(defined))
    if unknown:
        raise bad(_("Unknown attribute for this service: %(codes)s") % {"codes": ", ".join(unknown[:5])})
    out: dict[str, Any] = {}
    for code, attribute in defined.items():
        values = given.get(code, [])
        if not values:
            if attribute.required:
                raise bad(_("attribute[%(code)s] is required.") % {"code": code})
            continue
        out[code] = _check_value(attribute, values)
    return out


def locate(request: HttpRequest) -> tuple[Any, Any, Building | None, str]:
    """(lon, lat, building, address text) from the form, not yet checked as numbers."""
    lat, lon = param(request, "lat"), param(request, "long")
    address, address_id = param(request, "address_string"), param(request, "address_id")
    if len(address) > MAX_ADDRESS:
        raise bad(_("address_string is too long (at most 200 characters)."))
    if address_id and not (address_id.isascii() and address_id.isdigit() and len(address_id) < 18):
        raise bad(_("address_id must be a whole number."))  # checked even when lat and long are given
    if any(name in request.POST or name in request.GET for name in ("lat", "long")):
        return lon, lat, None, address  # given, even empty: both are checked as the point
    if address_id:
        building = Building.objects.filter(pk=int(address_id)).first()
        if building is None:  # a reference to nothing: 404, as an unknown jurisdiction_id
            raise Open311Error(404, _("Unknown address_id."))
    elif address:
        matches = list(Building.objects.filter(address=address)[:2]) or list(
            Building.objects.filter(address__iexact=address)[:2]
        )
        if not matches:
            raise Open311Error(404, _("The address could not be found; send lat and long instead."))
        if len(matches) > 1:
            raise bad(_("The address matches several buildings; send lat and long instead."))
        building = matches[0]
    else:
        raise bad(_("A location is required: lat and long, address_string or address_id."))
    point = building.geom.point_on_surface
    return point.x, point.y, building, address or building.address


def _client_text(request: HttpRequest, name: str) -> str:
    value = param(request, name)
    if len(value) > MAX_CLIENT_ID:
        raise bad(_("%(name)s is too long (at most 100 characters).") % {"name": name})
    return value


def _media_url(request: HttpRequest) -> str:
    value = param(request, "media_url")
    if value:
        try:
            if len(value) > 500:
                raise ValidationError("too long")
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise bad(_("media_url must be an http or https URL of at most 500 characters.")) from None
    return value


def _client_uuid(request: HttpRequest, key_id: int, digest: str, window: int) -> uuid.UUID:
    given = param(request, "client_uuid")
    if given:
        try:
            return uuid.uuid5(NAMESPACE, f"{key_id}:{uuid.UUID(given if len(given) <= 45 else '')}")
        except ValueError:
            raise bad(_("client_uuid must be a UUID.")) from None
    bucket = int(timezone.now().timestamp()) // window
    return uuid.uuid5(NAMESPACE, f"{key_id}:{digest}:{bucket}")


# The fields of a POST: GeoReport v2's, and ours (client_uuid, lang); attribute[...] besides.
FIELDS = frozenset({"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                    "email", "device_id", "account_id", "first_name", "last_name", "phone", "description",
                    "media_url", "media", "client_uuid", "lang"})  # fmt: skip


def check_fields(request: HttpRequest) -> None:
    unknown = sorted(n for n in [*request.POST, *request.FILES] if n not in FIELDS and not ATTRIBUTE.match(n))
    if unknown:
        raise bad(_("Unknown field: %(names)s") % {"names": ", ".join(n[:40] for n in unknown[:5])})


def submit(request: HttpRequest, caller: Caller, district: District | None) -> Intake:
    check_fields(request)
    code = param(request, "service_code")
    if not code:
        raise bad(_("service_code is required."))
    category = EventCategory.objects.filter(code=code[:20], active=True).first()
    if category is None:
        raise bad(_("Unknown service_code: %(codes)s") % {"codes": code[:20]})
    description = param(request, "description")
    if len(description) > MAX_DESCRIPTION:
        raise bad(_("description is too long (at most 4000 characters)."))
    attributes = parse_attributes(request, category)
    media_url = _media_url(request)
    device_id, account_id = _client_text(request, "device_id"), _client_text(request, "account_id")
    lon, lat, building, address = locate(request)
    point = point_from_lonlat(lon, lat)  # raw numbers first; ValidationError → 400
    if district is not None:
        community = community_for_point(point)
        if community is None or community.subdistrict.district_id != district.pk:
            raise bad(_("The location is outside jurisdiction_id."))
    media = request.FILES.get("media")
    photo = photo_check(media, size=media.size) if media is not None else None
    content = [code, str(lon), str(lat), address, building.pk if building else None, description,
               attributes, media_url, device_id, account_id, param(request, "client_uuid")]  # fmt: skip
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
    window = max(1, int(setting("GRIDMAP_OPEN311_DEDUP_SECONDS", 120)))
    since = timezone.now() - timedelta(seconds=window)
    recent = Submission.objects.filter(api_key=caller.key, content_hash=digest, created_at__gte=since)
    first = recent.select_related("problem__category").order_by("created_at").first()
    if first is not None:
        return Intake(first.problem, first, False)
    client_uuid = _client_uuid(request, caller.key.pk, digest, window)
    fields = {"api_key": caller.key, "content_hash": digest, "address_string": address, "building": building,
              "attributes": attributes, "media_url": media_url, "device_id": device_id,
              "account_id": account_id}  # fmt: skip
    with transaction.atomic():
        problem, created = problem_create(lon=lon, lat=lat, category=category, description=description,
                                          reporter=caller.user, client_uuid=client_uuid)  # fmt: skip
        submission, _new = Submission.objects.get_or_create(problem=problem, defaults=fields)
        if not created:
            return Intake(problem, submission, False)
        if media is not None and photo is not None:
            problem_photo_attach(problem, media, event=problem.events.get(action="report"), user=caller.user,
                                 where=problem.geom, info=photo)  # fmt: skip
    return Intake(problem, submission, True)
