"""JSON from outside, bounded once: every JSON request body (the API's parser, set for every view
in ``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``) and any body a view parses itself go through
``loads``.

Python's ``json`` recurses once per level, so a body ``[[[[…]]]]`` 10,000 levels deep raised
RecursionError (a 500); a body deeper than ``MAX_DEPTH`` levels (GeoJSON needs 6) or larger than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused with a clear message instead. ``NaN`` and
``Infinity`` are not JSON and are refused too, as DRF's strict parser does.
"""

from __future__ import annotations

import json
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


class JSONBodyError(ValueError):
    """A body that is not JSON, or JSON too deep: a 400 with this message."""


class JSONBodyTooLarge(JSONBodyError):
    """A body larger than the upload limit: a 413."""


def _not_json(constant: str) -> Any:
    raise ValueError(_("%(value)s is not a JSON value.") % {"value": constant})


def _too_deep() -> JSONBodyError:
    return JSONBodyError(_("The JSON is nested too deeply (at most %(n)s levels).") % {"n": MAX_DEPTH})


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects deeper than ``limit`` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads(data: bytes | str, *, max_bytes: int | None = None) -> Any:
    """``data`` parsed as JSON, or JSONBodyError with a message for the client."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if max_bytes is None else max_bytes
    if limit is not None and len(data) > limit:
        raise JSONBodyTooLarge(_("The request body is too large."))
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise _too_deep() from None
    except UnicodeDecodeError:
        raise JSONBodyError(_("The body is not UTF-8 text.")) from None
    except ValueError as exc:
        raise JSONBodyError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from None
    if isinstance(value, dict | list) and depth_exceeds(value, MAX_DEPTH):
        raise _too_deep()
    return value


def read_bounded(stream: IO[bytes]) -> bytes:
    """At most the upload limit (and one byte more, to tell that there was more) of ``stream``."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return stream.read() if limit is None else stream.read(limit + 1)


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser through ``loads``: a 400 (or 413) with a message, never a 500."""

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = read_bounded(stream)
        try:
            if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                raw = raw.decode(encoding).encode("utf-8")
            return loads(raw)
        except JSONBodyTooLarge as exc:
            raise TooLarge(str(exc)) from None
        except (JSONBodyError, UnicodeError, LookupError) as exc:
            raise exceptions.ParseError(str(exc)) from None
