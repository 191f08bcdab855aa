"""Secrets out of logs: query values whose name says key, token, password or secret are replaced.

Pure Python (no Django): the gunicorn access logger (deploy/gunicorn.conf.py) uses it in the
master before Django is set up, and the request log middleware (gridmap.core.requestlog) after.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus

REDACTED = "[redacted]"
# api_key (Open311), token, key, password, secret, signature … in any case, as part of the name
SECRET_NAME = re.compile(r"key|token|pass|secret|sig|auth|session|csrf", re.IGNORECASE)


def redact_query(query: str) -> str:
    """The query string with every secret-named value replaced; other values unchanged.

    Works on the raw text (no decoding round trip), so a malformed query is redacted as well as
    a clean one: a name is judged after percent-decoding, so ``api%5Fkey`` is caught too."""
    if not query:
        return ""
    parts = []
    for item in re.split(r"([&;])", query):
        if item in ("&", ";"):
            parts.append(item)
            continue
        name, sep, _value = item.partition("=")
        if SECRET_NAME.search(unquote_plus(name)) or (not sep and SECRET_NAME.search(unquote_plus(item))):
            parts.append(f"{name}={quote(REDACTED)}" if sep else item)
        else:
            parts.append(item)
    return "".join(parts)


def redact_target(target: str) -> str:
    """A request target or URL (``/path?query``) with its query redacted."""
    path, sep, query = target.partition("?")
    return f"{path}?{redact_query(query)}" if sep else target


def redact_request_line(line: str) -> str:
    """``GET /path?api_key=x HTTP/1.1`` → ``GET /path?api_key=%5Bredacted%5D HTTP/1.1``."""
    parts = line.split(" ")
    return " ".join(redact_target(p) if "?" in p else p for p in parts)
