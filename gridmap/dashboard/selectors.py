"""Reads behind the dashboard. Each starts from the user's scope (``problems_visible_to``,
``problems_in_role_scope``, ``grids_visible_to``) and costs a fixed number of queries whatever
the number of grids or cases (no query per row) and fetches rows per unit, never per case.
Figures per unit come from ``gridmap.evaluation.aggregates.unit_aggregates`` (the definitions of
``gridmap.evaluation.metrics``, grouped in the database) so they match the evaluation page; the
scope's totals are one aggregate query holding the same definitions (a test holds them equal)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.core.dates import local_midnight, month_start, next_month
from gridmap.core.kept import Kept, keeper
from gridmap.evaluation.aggregates import unit_aggregates
from gridmap.evaluation.metrics import Period, UnitStats, rank_units
from gridmap.evaluation.selectors import score_weights
from gridmap.evaluation.summary_figures import city_figures, city_totals
from gridmap.geography.models import Grid
from gridmap.problems import queues
from gridmap.problems.models import OPEN_STATUSES, ExtensionRequest, Problem, Status
from gridmap.problems.selectors import problems_in_role_scope, problems_visible_to, scope_signature

LIST_SIZE = 20
LIST_RELATED = ("category", "grid", "community", "department")


def month_period(now: datetime) -> Period:
    """This calendar month in local time, ``[first, first of next month)``."""
    first = month_start(timezone.localdate(now))
    return Period(local_midnight(first), local_midnight(next_month(first)))


def scope_totals(
    scoped: QuerySet[Problem], period: Period, now: datetime, *, summary_until: datetime | None = None
) -> dict[str, Any]:
    """Open, overdue, escalated and unassigned cases now; filed, filed-and-closed and closed in
    ``period`` — the definitions of ``metrics`` (duplicates are not filed) in one query. With
    ``summary_until`` (the whole city, see ``summary_figures.summary_as_of``), the period's
    counts come from the daily summary as of that time, and only the open cases are read."""
    is_open = queues.IS_OPEN
    now_counts = {
        "open": Count("pk", filter=is_open),
        "overdue": Count("pk", filter=queues.overdue_q(now)),
        "escalated": Count("pk", filter=queues.escalated_q()),
        "unassigned": Count("pk", filter=queues.UNASSIGNED),
    }
    if summary_until is not None:
        totals = {**scoped.filter(is_open).aggregate(**now_counts), **city_totals(period, summary_until)}
        totals["closure_rate"] = totals["filed_closed"] / totals["filed"] if totals["filed"] else None
        return totals
    # Two reads, each of the cases it counts: the open ones now, then those filed or closed in
    # the period (through the indexes on filed_at and closed_at). One aggregate over the whole
    # scope read a department's 690,000 cases at city scale (0.5 s).
    filed = queues.filed_in_q(period.start, period.end)
    closed = queues.closed_in_q(period.start, period.end)
    totals = scoped.filter(is_open).aggregate(**now_counts)
    totals |= scoped.filter(filed | closed).aggregate(
        filed=Count("pk", filter=filed),
        filed_closed=Count("pk", filter=filed & Q(closed_at__lt=period.end)),
        closed=Count("pk", filter=closed),
    )
    totals["closure_rate"] = totals["filed_closed"] / totals["filed"] if totals["filed"] else None
    return totals


def status_counts(scoped: QuerySet[Problem]) -> list[tuple[str, str, int]]:
    """(status, its name, count) for every status, in the loop's order."""
    # A scope reached through to-many joins (co-reporters, a grid's direct leaders, a category's
    # departments) is distinct(): group its ids, not the joined rows with Count(distinct).
    rows = Problem.objects.filter(pk__in=scoped.values("pk")) if scoped.query.distinct else scoped
    counts = dict(rows.order_by().values_list("status").annotate(n=Count("pk")))
    return [(s.value, str(s.label), counts.get(s.value, 0)) for s in Status]


def unit_figures(
    scoped: QuerySet[Problem],
    *,
    level: str,
    period: Period,
    now: datetime,
    summary_until: datetime | None = None,
) -> dict[Any, UnitStats]:
    """{unit id: scored and ranked UnitStats} of ``level`` over ``scoped`` (grouped in the
    database; recurrences are not counted here). With ``summary_until`` (``scoped`` is the whole
    city), read from the daily summary as of that time (recurrences included there)."""
    if summary_until is not None:
        units = city_figures(period, now, [level], summary_until)[level]
    else:
        units = unit_aggregates(scoped, level=level, period=period, now=now, recurrences=False)
    return {u.key: u for u in rank_units(units, score_weights())}


def grid_figures(
    scoped: QuerySet[Problem], grids: Sequence[Grid], *, period: Period, now: datetime
) -> list[tuple[Grid, UnitStats]]:
    """Each grid with its figures (a grid with no case gets zeros), best ranked first."""
    stats = unit_figures(scoped.filter(grid__in=[g.pk for g in grids]), level="grid", period=period, now=now)
    pairs = [(g, stats.get(g.pk) or UnitStats("grid", g.pk, g.code, g.name)) for g in grids]
    pairs.sort(key=lambda p: (p[1].rank is None, p[1].rank or 0, p[0].code))
    return pairs


def _by_urgency(problems: QuerySet[Problem], now: datetime) -> QuerySet[Problem]:
    """Overdue first, then by deadline (none last), then the oldest report."""
    late = Case(
        When(status__in=OPEN_STATUSES, deadline__lt=now, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        problems.select_related(*LIST_RELATED)
        .annotate(late=late)
        .order_by("late", F("deadline").asc(nulls_last=True), "reported_at", "pk")
    )


def _page(problems: QuerySet[Problem], limit: int) -> tuple[list[Problem], int]:
    """The first ``limit`` items and the total (the COUNT only when the page is full)."""
    items = list(problems[:limit])
    return items, (problems.count() if len(items) == limit else len(items))


actionable_statuses = queues.actionable_statuses


def queue_for(user: Any, *, now: datetime, limit: int = LIST_SIZE) -> tuple[list[Problem], int]:
    """The user's queue (``queues.queue_of`` over their role's scope) in the order of
    ``queues.by_need``: new unfiled reports first, then by deadline (overdue, then due soonest),
    then the rest. The list's ``?queue=1`` is the same filter and order."""
    problems = queues.queue_of(user, problems_in_role_scope(user), now=now)
    items = queues.first_by_need(problems.select_related(*LIST_RELATED), limit)
    return items, (problems.count() if len(items) == limit else len(items))


def overdue_or_escalated(
    scoped: QuerySet[Problem], *, now: datetime, limit: int = LIST_SIZE
) -> tuple[list[Problem], int]:
    return _page(_by_urgency(scoped.filter(queues.late_q(now)), now), limit)


def unassigned_open(scoped: QuerySet[Problem], *, now: datetime, limit: int = LIST_SIZE):
    """Open cases outside every grid and community (the administrator's queue)."""
    return _page(_by_urgency(scoped.filter(queues.UNASSIGNED), now), limit)


def awaiting_verification(user: Any, *, now: datetime, limit: int = LIST_SIZE):
    problems = problems_in_role_scope(user).filter(status=Status.HANDLED)
    return _page(_by_urgency(problems, now), limit)


def lookbacks_due(
    user: Any, *, now: datetime | None = None, limit: int = LIST_SIZE
) -> tuple[list[Problem], int]:
    """Closed cases whose look-back is due today or earlier and not done, the earliest due first
    (one not yet due is not listed: no look-back step is offered on it)."""
    today = timezone.localdate(now or timezone.now())
    problems = (
        problems_in_role_scope(user)
        .filter(queues.lookback_due_q(today))
        .select_related(*LIST_RELATED)
        .order_by("lookback_due", "pk")
    )
    return _page(problems, limit)


def extensions_pending(scoped: QuerySet[Problem], *, limit: int = LIST_SIZE):
    """Extension requests waiting for a decision on cases in scope."""
    requests = (
        ExtensionRequest.objects.filter(
            decision=ExtensionRequest.Decision.PENDING, problem__in=scoped.values("pk")
        )
        .select_related("problem__category", "requested_by__profile")
        .order_by("requested_at", "pk")
    )
    return _page(requests, limit)


def own_reports(user: Any, *, limit: int = LIST_SIZE) -> tuple[list[Problem], int]:
    problems = (
        problems_visible_to(user)
        .filter(Q(reporter=user) | Q(co_reporters=user))
        .distinct()
        .select_related(*LIST_RELATED)
        .order_by("-reported_at", "-pk")
    )
    return _page(problems, limit)


# The whole city's dashboard (administrators, planners): its figures and oversight lists read
# counts over every open case of a city (200,000 at the city bench: 1.2 s on a quiet machine,
# 4 s on a busy one), so they are kept for a minute (``gridmap.core.kept``) and say as of when.
CITY_STAMPS = ("problems", "grids", "categories", "departments", "summary")
CITY_FRESH_S = 60


@keeper("dashboard.city", scope=scope_signature, stamps=CITY_STAMPS, fresh_s=CITY_FRESH_S)
def kept_city(user: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The city-wide sections of the dashboard of ``params["role"]`` (admin: with the status
    counts and the oversight lists)."""
    from gridmap.evaluation.summary_figures import summary_as_of

    now = timezone.now()
    period = month_period(now)
    scoped = problems_visible_to(user)
    until = summary_as_of(user, period)
    ranking = sorted(
        unit_figures(scoped, level="community", period=period, now=now, summary_until=until).values(),
        key=lambda u: (u.rank is None, u.rank or 0, u.code),
    )
    found: dict[str, Any] = {
        "totals": scope_totals(scoped, period, now, summary_until=until),
        "ranking": [replace(u, hours_to_close=()) for u in ranking],
        "figures_as_of": until,
        "period": period,
    }
    if params["role"] == Role.ADMIN:
        found |= {
            "statuses": status_counts(scoped),
            "late": overdue_or_escalated(scoped, now=now),
            "unassigned": unassigned_open(scoped, now=now),
            "extensions": extensions_pending(scoped),
        }
    return found


def city_sections(user: Any, role: str) -> Kept[dict[str, Any]]:
    return kept_city.get(user, {"role": str(role)})
