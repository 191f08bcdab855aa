"""JSON Schemas of the Open311 GeoReport v2 documents, written from the specification
(wiki.open311.org/GeoReport_v2), and the check that an XML document mirrors its JSON twin."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from jsonschema import Draft202012Validator

W3C = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
TEXT_OR_NULL = {"type": ["string", "null"]}
DATETIME = {"type": "string", "pattern": W3C}
DATETIME_OR_NULL = {"type": ["string", "null"], "pattern": W3C}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
        "additionalProperties": False,
    }


SERVICE = _object(
    {
        "service_code": {"type": "string", "minLength": 1},
        "service_name": {"type": "string", "minLength": 1},
        "description": TEXT_OR_NULL,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": TEXT_OR_NULL,
        "group": TEXT_OR_NULL,
    }
)
SERVICES = {"type": "array", "items": SERVICE}

ATTRIBUTE = _object(
    {
        "variable": {"type": "boolean"},
        "code": {"type": "string", "minLength": 1},
        "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
        "required": {"type": "boolean"},
        "datatype_description": TEXT_OR_NULL,
        "order": {"type": "integer", "minimum": 0},
        "description": {"type": "string"},
        "values": {
            "type": "array",
            "items": _object({"key": {"type": ["string", "number"]}, "name": {"type": "string"}}),
        },
    }
)
SERVICE_DEFINITION = _object(
    {"service_code": {"type": "string", "minLength": 1}, "attributes": {"type": "array", "items": ATTRIBUTE}}
)

REQUEST = _object(
    {
        "service_request_id": {"type": "string", "minLength": 1},
        "status": {"enum": ["open", "closed"]},
        "status_notes": TEXT_OR_NULL,
        "service_name": TEXT_OR_NULL,
        "service_code": {"type": "string", "minLength": 1},
        "description": TEXT_OR_NULL,
        "agency_responsible": TEXT_OR_NULL,
        "service_notice": TEXT_OR_NULL,
        "requested_datetime": DATETIME,
        "updated_datetime": DATETIME_OR_NULL,
        "expected_datetime": DATETIME_OR_NULL,
        "address": TEXT_OR_NULL,
        "address_id": TEXT_OR_NULL,
        "zipcode": TEXT_OR_NULL,
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "media_url": TEXT_OR_NULL,
    }
)
REQUESTS = {"type": "array", "items": REQUEST, "maxItems": 1000}

# A realtime service answers with the new id; a batch one with a token instead.
POST_RESPONSE = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "properties": {
            "service_request_id": {"type": "string", "minLength": 1},
            "token": {"type": "string"},
            "service_notice": TEXT_OR_NULL,
            "account_id": TEXT_OR_NULL,
        },
        "oneOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
        "required": ["service_notice", "account_id"],
        "additionalProperties": False,
    },
}

ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": _object(
        {"code": {"type": "integer", "minimum": 400, "maximum": 599}, "description": {"type": "string"}}
    ),
}

DISCOVERY = _object(
    {
        "changeset": DATETIME,
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": _object(
                {
                    "specification": {"type": "string"},
                    "url": {"type": "string"},
                    "changeset": DATETIME,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                }
            ),
        },
    }
)

ROOTS = {
    id(SERVICES): "services",
    id(SERVICE_DEFINITION): "service_definition",
    id(REQUESTS): "service_requests",
    id(POST_RESPONSE): "service_requests",
    id(ERRORS): "errors",
    id(DISCOVERY): "discovery",
}
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def valid(doc: Any, schema: dict[str, Any]) -> Any:
    """Raise if ``doc`` breaks ``schema``; return it for chaining."""
    Draft202012Validator.check_schema(schema)
    errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return doc


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_xml_mirrors(xml_body: bytes, doc: Any, root: str) -> ET.Element:
    """The XML document has the spec's element names, in the JSON's order, with the same values."""
    assert xml_body.startswith(b"<?xml"), xml_body[:60]
    element = ET.fromstring(xml_body)
    _compare(element, doc, root, path=root)
    return element


def _compare(element: ET.Element, value: Any, tag: str, path: str) -> None:
    assert element.tag == tag, f"{path}: <{element.tag}> instead of <{tag}>"
    children = list(element)
    if isinstance(value, dict):
        assert [c.tag for c in children] == list(value), f"{path}: {[c.tag for c in children]}"
        for child, (name, item) in zip(children, value.items(), strict=True):
            _compare(child, item, name, f"{path}/{name}")
    elif isinstance(value, list):
        item = ITEM_NAMES[tag]
        assert len(children) == len(value), f"{path}: {len(children)} items instead of {len(value)}"
        for i, (child, entry) in enumerate(zip(children, value, strict=True)):
            _compare(child, entry, item, f"{path}/{item}[{i}]")
    else:
        assert not children, f"{path}: unexpected children"
        assert (element.text or None) == (_text(value) or None), f"{path}: {element.text!r} != {value!r}"


def assert_xml_error(xml_body: bytes, code: int) -> str:
    """``<errors><error><code/><description/></error></errors>``; returns the description."""
    root = ET.fromstring(xml_body)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert [c.tag for c in root.find("error")] == ["code", "description"]
    assert root.findtext("error/code") == str(code)
    description = root.findtext("error/description")
    assert description
    return description
