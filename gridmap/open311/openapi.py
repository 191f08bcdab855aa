"""The OpenAPI 3.0 document of Open311's JSON endpoints (``/open311/v2/openapi.json``, linked from
``discovery.json``), with GeoReport v2's own names: discovery, services, a service definition,
requests (list, one, and POST as a form), their parameters and the spec's errors (a JSON list of
``{code, description}``). schemathesis holds it to the views (tests/open311/
test_openapi_schemathesis.py).

It is built per request from what is configured, so that its rules are the server's: the service
codes in service, each service's attributes (required ones required, lists as enums), the
district codes of ``jurisdiction_id`` (required when there are several), the service area's box
for ``lat``/``long``, whether reading requests needs an ``api_key``. What JSON Schema cannot say
is said in words: ``end_date`` after ``start_date`` and at most 90 days later; ``media`` a JPEG
or PNG photo. The XML twins (``.xml``) take the same parameters and are not described here.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from gridmap.core.geoinput import service_area
from gridmap.geography.models import District
from gridmap.open311.access import MAX_KEY_LENGTH, public_read
from gridmap.open311.documents import services_queryset
from gridmap.open311.intake import MAX_ADDRESS, MAX_CLIENT_ID, MAX_DESCRIPTION, MAX_NUMBER, MAX_TEXT
from gridmap.open311.models import ServiceAttribute
from gridmap.open311.queries import MAX_ID_DIGITS, MAX_RESULTS

JSON = "application/json"
_CHARS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"  # core.boundary.check_text refuses these
TEXT = {"type": "string", "pattern": f"^[^{_CHARS}]*$"}
# A value kept after stripping its ends (access.param): something besides white space.
FILLED = f"^[^{_CHARS}]*[^\\s{_CHARS}][^{_CHARS}]*$"
_DAY = r"(19[0-9][0-9]|2[0-9][0-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
# W3C datetimes with their offset, or a day (queries.parse_when); years 1900–2999
W3C = {
    "type": "string",
    "pattern": rf"^$|^{_DAY}(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]))?$",
}
# An attribute's time lies in the boundary's window (core.boundary.check_time): 2000 to now.
PAST = {"type": "string", "pattern": r"^20(0[0-9]|1[0-9]|2[0-5])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
                                     r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"}  # fmt: skip
URL = {"type": "string", "maxLength": 500,
       "pattern": r"^$|^https?://([a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\.)+[a-z]{2,6}(/[A-Za-z0-9._~-]*)*$"}  # fmt: skip
UUID = {"type": "string", "pattern": "^$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
NTEXT = {"type": "string", "nullable": True}


def _list(item: str) -> str:
    """A comma list of ``item`` (or nothing), as ``queries`` reads it."""
    return f"^(({item})(,({item}))*)?$"


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _error(description: str, **headers: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description,
                           "content": {JSON: {"schema": {"$ref": "#/components/schemas/Errors"}}}}  # fmt: skip
    if headers:
        out["headers"] = {name: {"schema": {"type": "string"}} for name in headers}
    return out


ERRORS = {
    "400": _error("A parameter is missing or refused (the description says which and why)."),
    "403": _error("api_key was not provided or is invalid (or reading needs one)."),
    "404": _error("No such service, request, jurisdiction_id or address."),
    "405": _error("Another method than the endpoint's.", Allow=True),
    "413": _error("The request body is too large."),
    "429": _error("Too many requests from this key or address; retry in a minute."),
    "500": _error("A fault of the server."),
    "503": _error("The database is unavailable; retry later.", **{"Retry-After": True}),
}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _op(op_id: str, summary: str, params: list[dict[str, Any]], responses: dict[str, Any],
        errors: tuple[str, ...], security: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:  # fmt: skip
    out = {"operationId": op_id, "summary": summary, "parameters": params, "security": security,
           "responses": {**responses, **{code: ERRORS[code] for code in errors}}}  # fmt: skip
    return {**out, **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _attribute_fields(attribute: ServiceAttribute) -> tuple[str, dict[str, Any]]:
    kind = attribute.datatype
    keys = attribute.value_keys()
    if kind == ServiceAttribute.Datatype.MULTI:
        return f"attribute[{attribute.code}][]", {"type": "array", "minItems": 1, "uniqueItems": True,
                                                  "items": {"type": "string", "enum": keys}}  # fmt: skip
    if kind == ServiceAttribute.Datatype.SINGLE:
        schema: dict[str, Any] = {"type": "string", "enum": keys}
    elif kind == ServiceAttribute.Datatype.NUMBER:
        schema = {"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER}
    elif kind == ServiceAttribute.Datatype.DATETIME:
        schema = PAST
    else:
        schema = {"type": "string", "maxLength": MAX_TEXT.get(kind, MAX_TEXT["text"]), "pattern": FILLED}
    return f"attribute[{attribute.code}]", {**schema, "description": attribute.description}


def _district(districts: list[str], several: bool) -> dict[str, Any]:
    return {"type": "string", "enum": districts if several else ["", *districts]}


def _place(districts: list[str], several: bool) -> dict[str, Any]:
    area = service_area()
    lon = (area.min_lon, area.max_lon) if area else (-180.0, 180.0)
    lat = (area.min_lat, area.max_lat) if area else (-90.0, 90.0)
    return {
        "jurisdiction_id": _district(districts, several),
        "lat": {"type": "number", "minimum": lat[0], "maximum": lat[1]},
        "long": {"type": "number", "minimum": lon[0], "maximum": lon[1]},
        "address_string": {**TEXT, "maxLength": MAX_ADDRESS,
                           "description": "A building's address, exactly (else 404)."},
        "address_id": {"type": "string", "pattern": "^([0-9]{1,17})?$", "description": "A building's id (else 404)."},
    }  # fmt: skip


# lat and long together (either given, even empty, means both), else address_id or
# address_string (intake.locate)
_ADDRESS = [{"required": ["address_id"], "properties": {"address_id": {"pattern": "^[0-9]{1,17}$"}}},
            {"required": ["address_string"], "properties": {"address_string": {"pattern": FILLED}}}]  # fmt: skip
LOCATION = {"anyOf": [
    {"required": ["lat", "long"]},
    {"not": {"anyOf": [{"required": ["lat"]}, {"required": ["long"]}]}, "anyOf": _ADDRESS},
]}  # fmt: skip
# The same without "not" (schemathesis 4.32.5 cannot judge "not" beside a file: "Unsupported type
# 'Binary'"), for the photo form: a looser rule, and each service's attributes not required there.
LOCATION_LOOSE = {"anyOf": [{"required": ["lat", "long"]}, *_ADDRESS]}


def _post_body(districts: list[str], several: bool, multipart: bool) -> dict[str, Any]:
    common = {
        **_place(districts, several),
        "description": {**TEXT, "maxLength": MAX_DESCRIPTION},
        "media_url": URL,
        "device_id": {**TEXT, "maxLength": MAX_CLIENT_ID},
        "account_id": {**TEXT, "maxLength": MAX_CLIENT_ID},
        "client_uuid": {**UUID, "description": "Replays with the same value answer the first request."},
        "email": {**TEXT, "description": "Accepted and not stored."},
        "first_name": {**TEXT, "description": "Accepted and not stored."},
        "last_name": {**TEXT, "description": "Accepted and not stored."},
        "phone": {**TEXT, "description": "Accepted and not stored."},
        "lang": {**TEXT, "description": "en for English messages (else Chinese)."},
    }
    plain, variants = [], []
    for category in services_queryset():
        attributes = list(category.open311_attributes.all())
        if not attributes:
            plain.append(category.code)
            continue
        fields = dict(map(_attribute_fields, attributes))
        required = [name for name, a in zip(fields, attributes, strict=True) if a.required]
        variants.append((category.code, fields, required))
    required = ["service_code", *(["jurisdiction_id"] if several else [])]
    out = [{"type": "object", "additionalProperties": False, "required": [*required, *extra],
            "properties": {"service_code": {"type": "string", "enum": [code]}, **common, **fields}, **LOCATION}
           for code, fields, extra in variants]  # fmt: skip
    if plain:
        out.append({"type": "object", "additionalProperties": False, "required": required,
                    "properties": {"service_code": {"type": "string", "enum": plain}, **common}, **LOCATION})  # fmt: skip
    if multipart:  # for a photo: the same fields, each service's attributes as in the form
        media = {"type": "string", "format": "binary", "description": "A JPEG or PNG photo."}
        return {"type": "object", "required": required, **LOCATION_LOOSE,
                "properties": {"service_code": {"type": "string", "enum": [c for c, _f, _r in variants] + plain},
                               **common, "media": media}}  # fmt: skip
    return {"oneOf": out} if len(out) > 1 else out[0]


REQUEST = {"type": "object", "required": ["service_request_id", "status", "service_code", "requested_datetime",
                                          "lat", "long"],
           "properties": {"service_request_id": {"type": "string"},
                          "status": {"type": "string", "enum": ["open", "closed"]},
                          "status_notes": {"type": "string"}, "service_name": {"type": "string"},
                          "service_code": {"type": "string"}, "description": {"type": "string"},
                          "agency_responsible": NTEXT, "service_notice": {"type": "string"},
                          "requested_datetime": {"type": "string", "format": "date-time"},
                          "updated_datetime": {"type": "string", "format": "date-time"},
                          "expected_datetime": {**NTEXT, "format": "date-time"}, "address": NTEXT,
                          "address_id": NTEXT, "zipcode": NTEXT, "lat": {"type": "number"},
                          "long": {"type": "number"}, "media_url": NTEXT}}  # fmt: skip
SCHEMAS = {
    "Errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}},
    "Discovery": {"type": "object", "required": ["changeset", "endpoints"], "properties": {
        "changeset": {"type": "string"}, "contact": {"type": "string"}, "key_service": {"type": "string"},
        "endpoints": {"type": "array", "items": {"type": "object", "required": ["specification", "url"],
                                                 "properties": {"specification": {"type": "string"},
                                                                "url": {"type": "string"},
                                                                "changeset": {"type": "string"},
                                                                "type": {"type": "string"},
                                                                "formats": {"type": "array",
                                                                            "items": {"type": "string"}}}}}}},
    "Service": {"type": "object", "required": ["service_code", "service_name", "metadata", "type"], "properties": {
        "service_code": {"type": "string"}, "service_name": {"type": "string"}, "description": {"type": "string"},
        "metadata": {"type": "boolean"}, "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": {"type": "string"}, "group": {"type": "string"}}},
    "ServiceDefinition": {"type": "object", "required": ["service_code", "attributes"], "properties": {
        "service_code": {"type": "string"}, "attributes": {"type": "array", "items": {
            "type": "object", "required": ["variable", "code", "datatype", "required", "order", "description"],
            "properties": {"variable": {"type": "boolean"}, "code": {"type": "string"},
                           "datatype": {"type": "string", "enum": list(ServiceAttribute.Datatype.values)},
                           "required": {"type": "boolean"}, "datatype_description": NTEXT,
                           "order": {"type": "integer"}, "description": {"type": "string"},
                           "values": {"type": "array", "items": {"type": "object", "required": ["key", "name"],
                                                                 "properties": {"key": {"type": "string"},
                                                                                "name": {"type": "string"}}}}}}}}},
    "Request": REQUEST,
    "Created": {"type": "object", "required": ["service_request_id"], "properties": {
        "service_request_id": {"type": "string"}, "service_notice": {"type": "string"}, "account_id": NTEXT}},
}  # fmt: skip


def openapi_doc(request: HttpRequest) -> dict[str, Any]:
    base = request.build_absolute_uri(request.path.rsplit("openapi.json", 1)[0]).rstrip("/")
    districts = sorted(District.objects.values_list("code", flat=True))
    several = len(districts) > 1
    codes = [c.code for c in services_queryset()]
    lang = _query("lang", TEXT, "en for English messages (else Chinese).")
    where = [_query("jurisdiction_id", _district(districts, several), "The district's code.", several),
             lang]  # fmt: skip
    key = [{"api_key": []}, {"session": []}]
    optional = [{}, *key]
    reading = optional if public_read() else key
    requests_params = [
        *where,
        _query("service_request_id", {"type": "string", "pattern": f"^([0-9]{{1,{MAX_ID_DIGITS}}}(,[0-9]{{1,{MAX_ID_DIGITS}}}){{0,{MAX_RESULTS - 1}}})?$"},
               "Request ids, comma separated (then the other filters are not applied)."),
        _query("service_code", {"type": "string", "pattern": _list("|".join(map(re.escape, codes)))}, "Service codes, comma separated."),
        _query("start_date", W3C, "Requested at or after (default: end_date less 90 days)."),
        _query("end_date", W3C, "Requested at or before (default: now); at most 90 days after start_date."),
        _query("status", {"type": "string", "pattern": _list("open|closed")}, "open, closed or both."),
    ]  # fmt: skip
    form = "application/x-www-form-urlencoded"
    paths = {
        "/discovery.json": {"get": _op("discovery", "The endpoints of this server", [lang],
                                       {"200": _ok("Discovery", _ref("Discovery"))},
                                       ("400", "405", "500", "503"), [])},
        "/services.json": {"get": _op("services", "The services (categories) one may report", where,
                                      {"200": _ok("Services", {"type": "array", "items": _ref("Service")})},
                                      ("400", "403", "404", "405", "429", "500", "503"), optional)},
        "/services/{service_code}.json": {"get": _op(
            "service_definition", "A service's attributes (extra questions)",
            [{"name": "service_code", "in": "path", "required": True, "schema": {"type": "string", "enum": codes}},
             *where], {"200": _ok("The service definition", _ref("ServiceDefinition"))},
            ("400", "403", "404", "405", "429", "500", "503"), optional)},
        "/requests.json": {
            "get": _op("requests", "Requests one may see, newest first (at most 1000)", requests_params,
                       {"200": _ok("Requests", {"type": "array", "items": _ref("Request")})},
                       ("400", "403", "404", "405", "429", "500", "503"), reading),
            "post": _op("post_request", "Report a request in the name of the key's owner", [],
                        {"201": _ok("Created", {"type": "array", "minItems": 1, "maxItems": 1, "items": _ref("Created")}),
                         "200": _ok("The same request sent again (client_uuid, or the same content within two "
                                    "minutes): the first one", {"type": "array", "items": _ref("Created")})},
                        ("400", "403", "404", "405", "413", "429", "500", "503"), [{"api_key": []}],
                        requestBody={"required": True, "content": {
                            form: {"schema": _post_body(districts, several, multipart=False)},
                            "multipart/form-data": {"schema": _post_body(districts, several, multipart=True)}}}),
        },
        "/requests/{service_request_id}.json": {"get": _op(
            "request", "One request",
            [{"name": "service_request_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 0}}, *where],
            {"200": _ok("The request (a list of one)", {"type": "array", "minItems": 1, "maxItems": 1,
                                                         "items": _ref("Request")})},
            ("400", "403", "404", "405", "429", "500", "503"), reading)},
    }  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "gridmap Open311 GeoReport v2", "version": "2",
                 "description": "GeoReport v2 (http://wiki.open311.org/GeoReport_v2) in JSON; each path "
                                "also answers as .xml. Errors are a list of {code, description}."},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "api_key": {"type": "apiKey", "in": "query", "name": "api_key",
                            "description": f"An Open311 key (at most {MAX_KEY_LENGTH} characters), in the query "
                                           "or, for a POST, in the form."},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
        },
    }  # fmt: skip
