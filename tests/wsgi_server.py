"""Django as a WSGI application for in-process clients (schemathesis's WSGI transport, which is
werkzeug's test client), served the way a WSGI server serves it.

A WSGI server calls the response's ``close()`` once it has sent the body (PEP 3333), and that is
when Django sends ``request_finished``, which ends what lasts one request: the whole-kind change
stamps are read once per request and kept until it ends (``gridmap.core.stamps``). werkzeug's
client leaves the closing to its caller and schemathesis does not close, so without this the
test's thread stays "in" its last request: every later stamp read in that thread, in this test
and the next ones, answers that request's stamps, and the caches checked against them (the
locator, the coverage sets' freshness) are trusted against rows that were rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


class ServedWSGI:
    """``app`` with each response read whole and closed before it is handed to the client."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        response = self.app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()


@contextmanager
def requests_in_the_test_transaction() -> Iterator[None]:
    """Requests served in this thread inside the test's transaction: Django closes the connection
    around each request (``close_old_connections``), which would end that transaction, so those
    receivers are left out while it lasts, as Django's test client does. On leaving, every request
    that started must have finished (its response closed: see above)."""
    counts = {"started": 0, "finished": 0}

    def started(**_: object) -> None:
        counts["started"] += 1

    def finished(**_: object) -> None:
        counts["finished"] += 1

    signals = ((request_started, started), (request_finished, finished))
    for signal, count in signals:
        signal.disconnect(close_old_connections)
        signal.connect(count, weak=False)
    try:
        yield
    finally:
        for signal, count in signals:
            signal.disconnect(count)
            signal.connect(close_old_connections)
    assert counts["started"] == counts["finished"], f"requests left unfinished: {counts}"
