"""gunicorn's logger for gridmap (deploy/gunicorn.conf.py): the access log as one JSON line per
request with secret query values redacted (gridmap.core.redact), and no cookie or Authorization
header reachable from the format. Also scrubs request targets that gunicorn writes into its error
log ("Error handling request /path?api_key=…")."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from gridmap.core.redact import redact_query, redact_request_line, redact_target

ACCESS_FORMAT = (
    '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": "%(b)s", "ms": %(M)s, '
    '"referer": "%(f)s", "agent": "%(a)s", "pid": "%(p)s"}'
)
HIDDEN_HEADERS = ("{cookie}i", "{authorization}i", "{x-api-key}i", "{set-cookie}o")


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact_request_line(str(atoms.get("r", "")))
        atoms["q"] = redact_query(str(atoms.get("q") or ""))
        for name in ("f", "{referer}i"):
            if name in atoms and atoms[name]:
                atoms[name] = redact_target(str(atoms[name]))
        for name in list(atoms):
            if name in HIDDEN_HEADERS or name.endswith("}e"):  # environ: query, cookies, raw URI
                atoms[name] = "-"
        return atoms

    def _scrub(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(redact_target(a) if isinstance(a, str) and "?" in a else a for a in args)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        super().error(msg, *self._scrub(args), **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        super().exception(msg, *self._scrub(args), **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        super().warning(msg, *self._scrub(args), **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        super().info(msg, *self._scrub(args), **kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        super().debug(msg, *self._scrub(args), **kwargs)
