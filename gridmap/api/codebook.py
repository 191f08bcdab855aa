"""Codes of the reference rows a problem points at (category, grid, community, department), kept
in memory by id so that the problem list reads one table.

Why: the four LEFT JOINs that fetch these codes cost more than the rest of the list query (on
PostGIS, 2.5 ms of 4.1 ms for 800 rows, mostly planning and join work), for values that almost
never change. Ids missing from a book are read (only those) on first use. Each read compares the
change stamp of the book's kind (``gridmap.core.stamps``: the triggers renew it on every write,
in any process, by any path) with the one the book was filled at and empties the book when it
moved, so every process sees a rename at its next read. Only ids taken from rows the user may
already see are looked up, so a book never widens what a user sees.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.db.models import Model

from gridmap.core.stamps import stamp_of, stamps_of

_UNREAD = object()


class CodeBook:
    """id → value for one model, filled lazily, emptied when the stamp of ``kind`` moves."""

    def __init__(self, model: type[Model], fields: tuple[str, ...], kind: str) -> None:
        self.model = model
        self.fields = fields
        self.kind = kind
        self._values: dict[int, Any] = {}
        self._stamp: int | None = None
        self._lock = threading.Lock()

    def _row(self, row: tuple[Any, ...]) -> Any:
        return row[1] if len(row) == 2 else row[1:]

    def get_many(self, ids: Iterable[int | None], *, stamp: Any = _UNREAD) -> dict[int, Any]:
        """The values of ``ids`` (Nones ignored); reads the missing ones in one query. ``stamp``:
        the kind's stamp if the caller read it just now (else it is read here)."""
        if stamp is _UNREAD:
            stamp = stamp_of(self.kind)
        if stamp is None or stamp != self._stamp:  # no stamp: nothing is kept
            with self._lock:
                self._values, self._stamp = {}, stamp
        values = self._values
        missing = {i for i in ids if i is not None and i not in values}
        if missing:
            # The lookup of ids the caller already holds (from scoped rows): not an output path.
            rows = self.model._default_manager.filter(pk__in=missing).values_list("pk", *self.fields)
            found = {row[0]: self._row(row) for row in rows}
            with self._lock:
                values.update(found)
        return values

    def clear(self, **_: Any) -> None:
        with self._lock:
            self._values, self._stamp = {}, None


class ActiveCategories:
    """Active event categories by code, for the intake (one query fewer per report for a code
    seen before); emptied when the stamp of the categories moves, like the books."""

    KIND = "categories"

    def __init__(self) -> None:
        self._by_code: dict[str, Any] = {}
        self._stamp: int | None = None

    def get(self, code: str) -> Any:
        stamp = stamp_of(self.KIND)
        if stamp is None or stamp != self._stamp:
            self._by_code, self._stamp = {}, stamp
        by_code = self._by_code
        if code not in by_code:
            from gridmap.problems.models import EventCategory

            found = EventCategory.objects.filter(code=code, active=True).first()
            if found is None:
                return None  # unknown codes are not remembered: the table stays small
            by_code[code] = found
        return by_code[code]

    def clear(self, **_: Any) -> None:
        self._by_code, self._stamp = {}, None


CATEGORIES = ActiveCategories()
BOOKS: dict[str, CodeBook] = {}


def book(label: str) -> CodeBook:
    return BOOKS[label]


def books_many(wanted: dict[str, Iterable[int | None]]) -> dict[str, dict[int, Any]]:
    """``get_many`` of several books (label → ids), their stamps read in one query."""
    stamps = stamps_of({BOOKS[label].kind for label in wanted})
    return {
        label: BOOKS[label].get_many(ids, stamp=stamps[BOOKS[label].kind]) for label, ids in wanted.items()
    }


def register(label: str, model: type[Model], fields: tuple[str, ...], kind: str) -> None:
    """Create the book of ``model``, kept while the change stamp of ``kind`` stands."""
    BOOKS[label] = CodeBook(model, fields, kind)


def register_defaults() -> None:
    from gridmap.accounts.models import Department
    from gridmap.geography.models import Community, Grid
    from gridmap.problems.models import EventCategory

    register("category", EventCategory, ("code", "name", "name_en"), "categories")
    register("grid", Grid, ("code",), "grids")
    register("community", Community, ("code",), "grids")
    register("department", Department, ("code",), "departments")
