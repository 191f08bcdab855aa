"""Reading and planning the next batch while the current one is written.

An import's time is two halves of about the same size: reading and converting rows (pure Python
and the readers' C code, no database) and placing and writing them (mostly waiting for the
database, which releases the interpreter). ``ahead`` runs the first half one batch ahead in a
thread, so the two overlap. The thread never touches the database: the import's one transaction
and its connection stay in the calling thread. It keeps at most one batch ready (memory stays
bounded), runs under the caller's time zone and language, hands any error to the caller, and
stops when the caller stops taking batches (an error, Ctrl-C, a refusal).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.utils import timezone, translation

T = TypeVar("T")
R = TypeVar("R")
WAIT_S = 0.2
_DONE = object()


def ahead(items: Iterable[T], work: Callable[[T], R]) -> Iterator[R]:
    """``work(item)`` for each item, in order, computed one item ahead in a thread."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()
    zone, language = timezone.get_current_timezone(), translation.get_language()

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=WAIT_S)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            with timezone.override(zone), translation.override(language):
                for item in items:
                    if stop.is_set() or not put((True, work(item))):
                        return
        except BaseException as exc:  # handed to the caller, raised there
            put((False, exc))
            return
        put((True, _DONE))

    thread = threading.Thread(target=run, name="import-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, value = ready.get()
            if not ok:
                raise value
            if value is _DONE:
                return
            yield value
    finally:
        stop.set()
        thread.join()
