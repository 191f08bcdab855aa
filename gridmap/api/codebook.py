"""Codes of the reference rows a problem points at (category, grid, community, department), kept
in memory by id so that the problem list reads one table.

Why: the four LEFT JOINs that fetch these codes cost more than the rest of the list query (on
PostGIS, 2.5 ms of 4.1 ms for 800 rows, mostly planning and join work), for values that almost
never change. Ids missing from a book are read (only those) on first use; a save or delete of a
row clears its book in this process (signals), and every book is dropped after ``TTL_S`` so other
processes see renames within that time. Only ids taken from rows the user may already see are
looked up, so a book never widens what a user sees.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save

TTL_S = 60.0


class CodeBook:
    """id → value for one model, filled lazily, cleared on change or after ``TTL_S``."""

    def __init__(self, model: type[Model], fields: tuple[str, ...]) -> None:
        self.model = model
        self.fields = fields
        self._values: dict[int, Any] = {}
        self._born = time.monotonic()
        self._lock = threading.Lock()

    def _row(self, row: tuple[Any, ...]) -> Any:
        return row[1] if len(row) == 2 else row[1:]

    def get_many(self, ids: Iterable[int | None]) -> dict[int, Any]:
        """The values of ``ids`` (Nones ignored); reads the missing ones in one query."""
        if time.monotonic() - self._born > TTL_S:
            self.clear()
        values = self._values
        missing = {i for i in ids if i is not None and i not in values}
        if missing:
            # The lookup of ids the caller already holds (from scoped rows): not an output path.
            rows = self.model._default_manager.filter(pk__in=missing).values_list("pk", *self.fields)
            found = {row[0]: self._row(row) for row in rows}
            with self._lock:
                self._values.update(found)
        return self._values

    def clear(self, **_: Any) -> None:
        with self._lock:
            self._values = {}
            self._born = time.monotonic()


class ActiveCategories:
    """Active event categories by code, for the intake (one query fewer per report); cleared like
    the books."""

    def __init__(self) -> None:
        self._by_code: dict[str, Any] = {}
        self._born = time.monotonic()

    def get(self, code: str) -> Any:
        if time.monotonic() - self._born > TTL_S:
            self.clear()
        if code not in self._by_code:
            from gridmap.problems.models import EventCategory

            found = EventCategory.objects.filter(code=code, active=True).first()
            if found is None:
                return None  # unknown codes are not remembered: the table stays small
            self._by_code[code] = found
        return self._by_code[code]

    def clear(self, **_: Any) -> None:
        self._by_code = {}
        self._born = time.monotonic()


CATEGORIES = ActiveCategories()
BOOKS: dict[str, CodeBook] = {}


def book(label: str) -> CodeBook:
    return BOOKS[label]


def register(label: str, model: type[Model], fields: tuple[str, ...]) -> None:
    """Create the book and clear it whenever a row of ``model`` is saved or deleted."""
    BOOKS[label] = entry = CodeBook(model, fields)
    clear: Callable[..., None] = entry.clear
    post_save.connect(clear, sender=model, weak=False, dispatch_uid=f"codebook-{label}-save")
    post_delete.connect(clear, sender=model, weak=False, dispatch_uid=f"codebook-{label}-delete")


def register_defaults() -> None:
    from gridmap.accounts.models import Department
    from gridmap.geography.models import Community, Grid
    from gridmap.problems.models import EventCategory

    register("category", EventCategory, ("code", "name"))
    post_save.connect(CATEGORIES.clear, sender=EventCategory, weak=False, dispatch_uid="codebook-active-save")
    post_delete.connect(
        CATEGORIES.clear, sender=EventCategory, weak=False, dispatch_uid="codebook-active-del"
    )
    register("grid", Grid, ("code",))
    register("community", Community, ("code",))
    register("department", Department, ("code",))
