"""Kept results: a slow read answered from the shared cache, refreshed by the workers.

Some reads take seconds at city scale (hotspots over a city's problems, the evaluation of a
department's half a million cases) and the data behind them changes all day (every report moves
the problems' change stamp). A *keeper* keeps such a result in the shared cache under the user's
scope and the parameters, with the change stamps (``gridmap.core.stamps``) it was computed at:

- stamps unchanged and younger than ``fresh_s``: the result as it is, ``current``;
- stamps moved (or older than ``fresh_s``: a figure of "now", such as overdue cases, drifts
  with the clock): the kept result at once, ``updating`` with its time, and one refresh sent to
  the workers (``core.refresh_kept``; one at a time per result, a lock in the cache);
- never computed for this scope and parameters (or dropped from the cache): computed on the
  request, ``current``; or, when the caller says the computation is too large for a request
  (``defer``), sent to the workers at once and answered ``computing`` with no value: the page
  says so and looks again a few seconds later.

The stamps are read before the data, so a kept result is never newer than its stamps. A keeper
is declared once, next to its computation (``@keeper("name", stamps=..., ...)``), and its module
is imported by its app's ``tasks`` module, so a worker that loads the tasks knows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from gridmap.core.jobs import Progress, dispatch, task
from gridmap.core.stamps import stamps_of

T = TypeVar("T")
Compute = Callable[[Any, dict[str, Any]], Any]
Scope = Callable[[Any], Any]

VERSION = 1
KEEP_S = 26 * 3600  # a result kept for a day and a bit (a day's window keys it again)
REFRESH_LOCK_S = 600  # a refresh that died frees its lock after this long


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T | None  # None while "computing"
    state: str  # "current", "updating" or "computing"
    computed_at: str | None  # ISO 8601, seconds; None while "computing"

    @property
    def updating(self) -> bool:
        return self.state == "updating"

    @property
    def computing(self) -> bool:
        return self.state == "computing"

    @property
    def computed(self) -> datetime | None:
        """``computed_at`` as an aware datetime (for templates)."""
        return None if self.computed_at is None else datetime.fromisoformat(self.computed_at)


@dataclass(frozen=True)
class Keeper:
    """One kind of kept result. ``compute(user, params)`` makes the value (picklable; plain
    parameters: they travel to the worker as JSON); ``scope(user)`` says what of the user the
    value depends on (their role's scope, never more); ``stamps``: the change-stamp kinds it reads;
    ``fresh_s``: how long a result stays current with unchanged stamps (None: as long as kept)."""

    name: str
    compute: Compute
    scope: Scope
    stamps: tuple[str, ...]
    fresh_s: int | None = None
    keep_s: int = KEEP_S

    def key(self, user: Any, params: dict[str, Any]) -> str:
        what = repr((self.scope(user), sorted(params.items())))
        return f"gridmap:kept:v{VERSION}:{self.name}:{hashlib.sha1(what.encode()).hexdigest()}"

    def _store(self, key: str, stamps: dict[str, Any], value: Any) -> dict[str, Any]:
        kept = {"stamps": stamps, "value": value, "computed_at": timezone.now().isoformat(timespec="seconds")}
        cache.set(key, kept, self.keep_s)
        return kept

    def _current(self, kept: dict[str, Any], stamps: dict[str, Any]) -> bool:
        # a kind with no stamp row yet (never written since the triggers exist) compares as None:
        # its first write makes a row, and the stamps differ from then on
        if kept["stamps"] != stamps:
            return False
        if self.fresh_s is None:
            return True
        age = timezone.now() - datetime.fromisoformat(kept["computed_at"])
        return age.total_seconds() <= self.fresh_s

    def get(
        self, user: Any, params: dict[str, Any], *, defer: bool | Callable[[], bool] = False
    ) -> Kept[Any]:
        """The result for ``user`` and ``params``: kept, kept while a refresh runs, or computed
        (``defer``, or a function saying so, asked only when nothing is kept: a result never
        computed is left to the workers and answered "computing")."""
        key = self.key(user, params)
        stamps = stamps_of(self.stamps)  # before the data: a result is never newer than its stamps
        kept = cache.get(key)
        if kept is None and (defer() if callable(defer) else defer):
            self._ask_refresh(key, user, params)
            return Kept(None, "computing", None)
        if kept is None:
            kept = self._store(key, stamps, self.compute(user, params))
            return Kept(kept["value"], "current", kept["computed_at"])
        if self._current(kept, stamps):
            return Kept(kept["value"], "current", kept["computed_at"])
        self._ask_refresh(key, user, params)
        return Kept(kept["value"], "updating", kept["computed_at"])

    def has(self, user: Any, params: dict[str, Any]) -> bool:
        """Whether a result (current or not) is kept for ``user`` and ``params``."""
        return cache.has_key(self.key(user, params))

    def _ask_refresh(self, key: str, user: Any, params: dict[str, Any]) -> None:
        if cache.add(f"{key}:refreshing", 1, REFRESH_LOCK_S):  # one refresh at a time per result
            dispatch("core.refresh_kept", kept=self.name, user_id=user.pk, params=params)

    def refresh(self, user_id: int, params: dict[str, Any]) -> Any:
        """Compute the result again and keep it (the workers' side); returns the value."""
        user = get_user_model().objects.select_related("profile").get(pk=user_id)
        key = self.key(user, params)
        try:
            stamps = stamps_of(self.stamps)
            return self._store(key, stamps, self.compute(user, params))["value"]
        finally:
            cache.delete(f"{key}:refreshing")


_KEEPERS: dict[str, Keeper] = {}


def keeper(
    name: str, *, scope: Scope, stamps: Iterable[str], fresh_s: int | None = None, keep_s: int = KEEP_S
) -> Callable[[Compute], Keeper]:
    """Declare ``compute`` as the kept result ``name`` (the decorated name becomes the Keeper)."""

    def register(compute: Compute) -> Keeper:
        if name in _KEEPERS:
            raise ValueError(f"kept result {name!r} declared twice")
        made = Keeper(name, compute, scope, tuple(stamps), fresh_s, keep_s)
        _KEEPERS[name] = made
        return made

    return register


@task("core.refresh_kept")
def refresh_kept(progress: Progress, *, kept: str, user_id: int, params: dict[str, Any]) -> dict[str, str]:
    """A kept result computed again after its stamps moved (see the module's docstring)."""
    _KEEPERS[kept].refresh(user_id, params)
    progress(1, 1, kept)
    return {"kept": kept}
