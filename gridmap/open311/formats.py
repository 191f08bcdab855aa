"""Open311 documents as JSON or XML, and the spec's error format.

Documents are built once as plain data (dicts, lists, str, numbers, bools, None) and rendered
either way, so the XML mirrors the JSON: a list becomes repeated child elements named by
``ITEM_NAMES`` inside its container, ``None`` an empty element, booleans ``true``/``false``.
Text is escaped by ElementTree; characters XML 1.0 cannot hold at all are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import orjson
from django.http import HttpResponse

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8"}
# Container element → element of each item (the spec's names).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311Error(Exception):
    """Answered as ``[{"code": status, "description": ...}]`` (or ``<errors>``)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = str(description)


def xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        item_name = ITEM_NAMES[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_name), item)
    elif value is not None:
        element.text = xml_text(value)


def to_xml(root: str, doc: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, doc)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render(doc: Any, fmt: str, *, root: str, status: int = 200) -> HttpResponse:
    """``doc`` as JSON, or as XML under the element ``root``."""
    if fmt == "xml":
        body = to_xml(root, doc)
    else:
        body = orjson.dumps(doc)
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES.get(fmt, CONTENT_TYPES["json"]))
    response["Cache-Control"] = "no-store"
    return response


def render_error(error: Open311Error, fmt: str) -> HttpResponse:
    doc = [{"code": error.status, "description": error.description}]
    return render(doc, fmt if fmt in FORMATS else "json", root="errors", status=error.status)
