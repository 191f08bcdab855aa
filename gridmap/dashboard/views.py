"""The dashboard: one page, its sections chosen by the user's role (my grids, my queue, ...).

Thin: each role's builder calls the scoped selectors in ``gridmap.dashboard.selectors`` (a fixed
number of queries, whatever the size of the scope) and the template shows whatever sections the
builder returned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.dashboard import selectors as sel
from gridmap.evaluation.metrics import Period
from gridmap.geography.models import Community
from gridmap.geography.selectors import grids_visible_to
from gridmap.problems.models import Status
from gridmap.problems.selectors import problems_in_role_scope, problems_visible_to
from gridmap.tensteps.selectors import progress_of

Builder = Callable[[Any, datetime, Period], dict[str, Any]]


def optional_url(name: str, *args: Any) -> str | None:
    """The URL of a page another part of the site may not serve (yet): None when unrouted."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def list_url(**filters: Any) -> str:
    """The problem list with ``filters`` (see ``gridmap.problems.filters``): where a count links."""
    return f"{reverse('problem-list')}?{urlencode(filters)}"


def _month(period: Period) -> str:
    return timezone.localtime(period.start).strftime("%Y-%m")


def count_links(period: Period, *, as_of: datetime | None = None, **base: Any) -> dict[str, str]:
    """The list of each figure of ``scope_totals`` (and a unit's figures), filtered as counted.
    ``as_of``: the period's figures were read from the daily summary at that moment (the list
    counts filed and closed cases up to it)."""
    month = _month(period)
    period_base = {**base, "asof": int(as_of.timestamp())} if as_of else base
    return {
        "open": list_url(**base, open=1),
        "overdue": list_url(**base, overdue=1),
        "escalated": list_url(**base, escalated=1),
        "unassigned": list_url(**base, unassigned=1),
        "filed": list_url(**period_base, filed=month),
        "closed": list_url(**period_base, closed=month),
    }


def _ranked_communities(scoped, period: Period, now: datetime, until: datetime | None) -> list[Any]:
    units = sorted(
        sel.unit_figures(scoped, level="community", period=period, now=now, summary_until=until).values(),
        key=lambda u: (u.rank is None, u.rank or 0, u.code),
    )
    for unit in units:
        unit.url = optional_url("community-detail", unit.code)
        unit.links = count_links(period, as_of=until, community=unit.code)
    return units


def _grid_rows(user: Any, scoped, period: Period, now: datetime) -> list[Any]:
    rows = sel.grid_figures(scoped, list(grids_visible_to(user)), period=period, now=now)
    return [
        {
            "grid": g,
            "stats": s,
            "map_url": optional_url("grid-map", g.code),
            "links": count_links(period, grid=g.code),
        }
        for g, s in rows
    ]


def _grid_leader(user: Any, now: datetime, period: Period) -> dict[str, Any]:
    return {
        "grid_rows": _grid_rows(user, problems_visible_to(user), period, now),
        "queue": sel.queue_for(user, now=now),
        "route_url": optional_url("route"),
    }


def _community_head(user: Any, now: datetime, period: Period) -> dict[str, Any]:
    scoped = problems_in_role_scope(user)
    community = user.profile.community
    return {
        "community": community,
        "community_url": optional_url("community-detail", community.code) if community else None,
        "totals": sel.scope_totals(scoped, period, now),
        "links": count_links(period, scope="role"),
        "grid_rows": _grid_rows(user, scoped, period, now),
        "queue": sel.queue_for(user, now=now),
        "late": sel.overdue_or_escalated(scoped, now=now),
        "extensions": sel.extensions_pending(scoped),
        "section_scope": "scope=role&",
        "steps": progress_of([community])[0] if community else None,
    }


def _department(user: Any, now: datetime, period: Period) -> dict[str, Any]:
    department = user.profile.department
    # One definition of "our cases": those dispatched to the department (the cards, the list
    # ?department=<code> and its map); the queue is the part of them waiting for a fix.
    mine = problems_in_role_scope(user).filter(department=department)
    return {
        "department": department,
        "totals": sel.scope_totals(mine, period, now),
        "links": count_links(period, department=department.code) if department else {},
        "department_url": list_url(department=department.code, open=1) if department else None,
        "queue": sel.queue_for(user, now=now),
    }


def _inspector(user: Any, now: datetime, period: Period) -> dict[str, Any]:
    return {
        "totals": sel.scope_totals(problems_in_role_scope(user), period, now),
        "links": count_links(period, scope="role"),
        "verify": sel.awaiting_verification(user, now=now),
        "lookbacks": sel.lookbacks_due(user, now=now),
        "section_scope": "scope=role&",
        "route_url": optional_url("route"),
    }


def _city(user: Any, role: str) -> dict[str, Any]:
    """The whole city's sections, kept for a minute (``selectors.kept_city``), with their links."""
    kept = sel.city_sections(user, role)
    found = dict(kept.value)
    period, until = found.pop("period"), found["figures_as_of"]
    if "statuses" in found:  # kept for readers of either language: named in this reader's
        names = dict(Status.choices)
        found["statuses"] = [(code, names.get(code, name), n) for code, name, n in found["statuses"]]
    for unit in found["ranking"]:
        unit.url = optional_url("community-detail", unit.code)
        unit.links = count_links(period, as_of=until, community=unit.code)
    return {
        **found,
        "links": count_links(period, as_of=until),
        "kept": kept,
        "planner_url": optional_url("planner"),
        "steps": city_steps(),
    }


def city_steps() -> dict[str, Any]:
    """The ten steps over the city: communities with every step accepted, share of sub-items done."""
    rows = progress_of(Community.objects.order_by("code"))
    total = sum(r.items_total for r in rows)
    return {
        "communities": len(rows),
        "all_accepted": sum(1 for r in rows if r.steps_total and r.steps_accepted == r.steps_total),
        "share": round(100 * sum(r.items_done for r in rows) / total) if total else 0,
    }


def _planner(user: Any, now: datetime, period: Period) -> dict[str, Any]:
    return _city(user, Role.PLANNER)


def _admin(user: Any, now: datetime, period: Period) -> dict[str, Any]:
    return _city(user, Role.ADMIN)


def _reporter(user: Any, now: datetime, period: Period) -> dict[str, Any]:
    return {"reports": sel.own_reports(user)}


BUILDERS: dict[str | None, Builder] = {
    Role.GRID_LEADER: _grid_leader,
    Role.COMMUNITY_HEAD: _community_head,
    Role.DEPARTMENT: _department,
    Role.INSPECTOR: _inspector,
    Role.PLANNER: _planner,
    Role.ADMIN: _admin,
    Role.REPORTER: _reporter,
}


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The signed-in user's dashboard; a user with no role gets the reporter's."""
    user = request.user
    role = role_of(user)
    now = timezone.now()
    period = sel.month_period(now)
    builder = BUILDERS.get(role, _reporter)
    context = {
        "role": role or Role.REPORTER,
        "role_name": Role(role).label if role else Role.REPORTER.label,
        "period_start": timezone.localtime(period.start),
        "evaluator": role not in (None, Role.REPORTER),
        "figures_url": optional_url("evaluation-figures"),
        **builder(user, now, period),
    }
    return render(request, "dashboard/index.html", context)
