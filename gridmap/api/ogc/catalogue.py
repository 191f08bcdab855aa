"""Which collections a request may read: the layers, one coverage-gap collection per kind with
stored coverage, and the hotspots; for a request without a user, only the collections named in
``settings.OGCAPI_PUBLIC_COLLECTIONS`` (none by default), read whole (what a public reference
layer such as the streets is)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from gridmap.api.ogc.analysis import HOTSPOTS, FrameCollection, gap_collection, gap_kinds
from gridmap.api.ogc.collections import LAYERS, Collection, User

AnyCollection = Collection | FrameCollection


class Public:
    """A collection read whole by a request without a user (configured as public)."""

    def __init__(self, inner: Collection) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def queryset(self, user: User) -> QuerySet:
        return self._inner.selector(user).model.objects.all()

    def rows(self, *args: Any) -> Any:
        return self._inner.rows(*args)

    def features(self, *args: Any) -> Any:
        return self._inner.features(*args)


def public_ids() -> set[str]:
    return set(getattr(settings, "OGCAPI_PUBLIC_COLLECTIONS", ()) or ())


def all_collections(only: str | None = None) -> dict[str, AnyCollection]:
    """Every collection there is (what the OpenAPI document describes); with ``only``, the one
    of that id if it is a layer (no query for the kinds with stored coverage)."""
    layers: dict[str, AnyCollection] = {c.id: c for c in (*LAYERS, HOTSPOTS)}
    if only is not None and only in layers:
        return {only: layers[only]}
    found = {c.id: c for c in LAYERS}
    found.update((g.id, g) for g in map(gap_collection, gap_kinds()))
    found[HOTSPOTS.id] = HOTSPOTS
    return found


def collections_for(user: User, only: str | None = None) -> dict[str, Any]:
    """The collections ``user`` may list and read (each then scoped by its selector)."""
    found = all_collections(only)
    if user.is_authenticated:
        return found
    public = public_ids()
    return {cid: Public(c) for cid, c in found.items() if cid in public and isinstance(c, Collection)}
