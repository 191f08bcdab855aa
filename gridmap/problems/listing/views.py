"""The problem list page: the cases in the user's scope, filtered (``filters.ProblemFilterForm``,
the same definitions as the dashboards' counts), sorted and paged, each row with the nearest
building's address and its grid, and a map of the matching cases."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, FloatField, Func, Min, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from gridmap.accounts.models import Department
from gridmap.geography.models import Building
from gridmap.geography.selectors import grids_visible_to
from gridmap.problems.filters import ProblemFilterForm
from gridmap.problems.models import OPEN_STATUSES, Status
from gridmap.problems.picker_data import picker_tiles
from gridmap.problems.selectors import problems_in_role_scope, problems_visible_to

LIST_PAGE_SIZE = 50
# The list's map draws at most this many of the matching cases (the nearest deadlines first).
LIST_MAP_MAX = 500
# the list's filters folded under "more filters" unless one is set
MORE_FLAGS = ("open", "escalated", "late", "unassigned", "lookback", "extension", "queue")


def nearest_address() -> Subquery:
    """The address of the building nearest a case within its grid (a scalar subquery over the
    grid's buildings, read for the rows of one page only). Planar distance in degrees: enough
    to tell the nearest of a grid's buildings apart, and the same function on both databases.
    SQLite allows no outer column in a subquery's ORDER BY: the nearest is the one whose
    distance equals the smallest (a nested subquery)."""

    def apart(outer: Any) -> Func:
        return Func(F("geom"), outer, function="ST_Distance", output_field=FloatField())

    addressed = Building.objects.exclude(address="")
    smallest = (
        addressed.filter(grid=OuterRef(OuterRef("grid")))
        .annotate(d=apart(OuterRef(OuterRef("geom"))))
        .order_by()
        .values("grid")
        .annotate(m=Min("d"))
        .values("m")
    )
    near = (
        addressed.filter(grid=OuterRef("grid"))
        .annotate(d=apart(OuterRef("geom")))
        .filter(d=Subquery(smallest))
        .order_by("pk")
        .values("address")[:1]
    )
    return Subquery(near)


def _case_points(problems: Any, now: Any) -> list[list[Any]]:
    """[id, lon, lat, status, overdue] of at most LIST_MAP_MAX cases, for the list's map: the
    nearest deadlines first, then cases without one, newest first. Read as two queries, each of
    which an index serves (a single ORDER BY deadline NULLS LAST sorted a city's million cases)."""
    fields = ("pk", "geom", "status", "deadline")
    dated = problems.filter(deadline__isnull=False).order_by("deadline", "-pk").values_list(*fields)
    rows = list(dated[:LIST_MAP_MAX])
    if len(rows) < LIST_MAP_MAX:
        undated = problems.filter(deadline__isnull=True).order_by("-pk").values_list(*fields)
        rows += list(undated[: LIST_MAP_MAX - len(rows)])
    return [
        [pk, round(geom.x, 6), round(geom.y, 6), status,
         bool(deadline and deadline < now and status in OPEN_STATUSES)]
        for pk, geom, status, deadline in rows
    ]  # fmt: skip


@login_required
@require_GET
def problem_list(request: HttpRequest) -> HttpResponse:
    """The problems in the user's scope, filtered, sorted and paged; bad filters answer 400.
    Each row shows the nearest building's address and the grid; a map shows the matching cases."""
    user = request.user
    form = ProblemFilterForm(request.GET)
    grids = grids_visible_to(user).order_by("code").values_list("code", "name")
    more = ("department", "community", "filed", "closed", "scope", *MORE_FLAGS)
    context: dict[str, Any] = {"form": form, "grids": grids, "page": None,
                               "more_filters": any(request.GET.get(name) for name in more),
                               "departments": Department.objects.order_by("code").values_list("code", "name")}  # fmt: skip
    if not form.is_valid():
        return render(request, "problems/list.html", context, status=400)
    now = timezone.now()
    problems = form.apply(
        problems_visible_to(user), now=now, user=user, role_scope=problems_in_role_scope(user)
    )
    query = request.GET.copy()
    query.pop("page", None)
    listed = problems.select_related("category", "grid", "community", "department").annotate(
        address=nearest_address()
    )
    context["page"] = Paginator(listed, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context["query"] = query.urlencode()
    context["cases_map"] = {
        "tiles": picker_tiles(),
        "cases": _case_points(problems, now),
        "max": LIST_MAP_MAX,
        "detail": reverse("problem-detail", args=[0]),
        "statuses": dict(Status.choices),
    }
    return render(request, "problems/list.html", context)
