"""What a leader map shows, as GeoDataFrames (EPSG:4326), for grids the user may already see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import Polygon
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from gridmap.accounts.models import Profile, Role
from gridmap.accounts.selectors import role_of
from gridmap.core.gdf import to_gdf
from gridmap.core.language import english
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Community, Grid, Street
from gridmap.geography.selectors import grids_visible_to
from gridmap.maps.analysis import area_analysis
from gridmap.maps.labels import localized_kinds
from gridmap.problems.models import OPEN_STATUSES, PositiveSite, Problem, ProblemPhoto, Status
from gridmap.problems.selectors import problems_in_role_scope

PROBLEM_COLUMNS = ["id", "category_code", "category_name", "status", "reported_at", "deadline", "description"]
PHOTOS_PER_PROBLEM = 3


def communities_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Community]:
    """Communities whose every grid ``user`` may see (a community head's own, all for city-wide
    roles); a community with no grid is seen by nobody here."""
    visible = grids_visible_to(user).values("pk")
    its_grids = Grid.objects.filter(community=OuterRef("pk"))
    return (
        Community.objects.filter(Exists(its_grids))
        .exclude(Exists(its_grids.exclude(pk__in=visible)))
        .order_by("code")
    )  # no GROUP BY over the communities' columns (their boundaries among them)


def grid_list_rows(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Grid]:
    """The grids ``user`` may see, for the list page: with ``building_count`` and
    ``open_problems``, and without the boundaries (the list shows no shape).

    A department and an inspector see every grid (they work across areas), but their list is
    theirs: the grids holding their open cases (a department's: those dispatched to it; an
    inspector's: those in their role's scope) and, for an inspector, the grids of the
    communities they patrol; ``open_problems`` counts their open cases there.

    Each figure is its own correlated subquery (counted over the index on its ``grid_id``), so a
    grid costs its own buildings plus its own problems; two counts over joins of both relations
    would count their product (every building paired with every problem) and then ``distinct``
    it away."""
    grids = grids_visible_to(user)
    open_rows = Problem.objects.filter(status__in=OPEN_STATUSES)
    role = role_of(user)
    if role in {Role.DEPARTMENT, Role.INSPECTOR}:
        open_rows = problems_in_role_scope(user).filter(status__in=OPEN_STATUSES)
        if role == Role.DEPARTMENT:
            open_rows = open_rows.filter(department_id=user.profile.department_id)
        keep = Q(pk__in=open_rows.filter(grid__isnull=False).values("grid_id"))
        if role == Role.INSPECTOR:
            patrolled = Profile.patrol_communities.through.objects.filter(profile=user.profile)
            keep |= Q(community_id__in=patrolled.values("community_id"))
        grids = grids.filter(keep)
    return grids.defer("geom", "community__geom").annotate(
        building_count=_count_per_grid(Building.objects.all()),
        open_problems=_count_per_grid(open_rows),
    )


def _count_per_grid(rows: QuerySet) -> Coalesce:
    """How many of ``rows`` belong to the outer query's grid (0 for none), as a scalar subquery."""
    n = rows.filter(grid=OuterRef("pk")).order_by().values("grid").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(n, output_field=IntegerField()), 0)


def area_layers(grids: Sequence[Grid]) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the leader map of ``grids`` (already scoped to the user), one frame each.

    Keys: ``boundary``, ``buildings``, ``facilities`` (column ``kind``), ``problems`` (with
    ``deadline``, ``overdue`` and ``photos``, comma-separated photo ids), ``heat`` (open problems),
    ``hotspots`` (Gi* cells), ``coverage_gaps`` and ``uncovered_buildings`` (column ``kind``) and
    ``negative_list`` (open problems, oldest first, with ``days_open``) and ``positive_sites`` (the
    positive list's sites placed in the grids: ``name``, ``description``). Buildings and problems
    are those assigned to the grids; facilities those assigned to or touching one of them (a
    tactile-paving line crossing a grid counts). See :mod:`gridmap.maps.analysis` for the analyses.
    """
    ids = [g.pk for g in grids]
    boundary = to_gdf(Grid.objects.filter(pk__in=ids).order_by("code"), ["code", "name"])
    buildings = to_gdf(
        Building.objects.filter(grid__in=ids).order_by("pk"),
        ["id", "address", "use", "floors", "households", "population"],
    )
    touching = Q(grid__in=ids) | Q(geom__intersects=_union(grids)) if ids else Q(pk__in=[])
    facilities = to_gdf(
        Facility.objects.filter(touching).order_by("pk").annotate(kind_code=F("kind__code")),
        ["id", "kind_code", "name", "condition"],
    ).rename(columns={"kind_code": "kind"})
    problems = _problems(Problem.objects.filter(grid__in=ids))
    open_ = problems[problems["status"].isin([str(s) for s in OPEN_STATUSES])]
    negative = open_.sort_values(["reported_at", "id"], kind="stable").reset_index(drop=True)
    now = pd.Timestamp(timezone.now())
    negative["days_open"] = (
        (now - negative["reported_at"]).dt.days if len(negative) else pd.Series(dtype="int64")
    )
    analysis = area_analysis(boundary, buildings, problems)
    return {
        "boundary": boundary,
        "buildings": buildings,
        "facilities": facilities,
        "problems": problems,
        "heat": open_[["id", "geometry"]].reset_index(drop=True),
        "hotspots": analysis["hotspots"],
        "coverage_gaps": analysis["coverage_gaps"],
        "uncovered_buildings": analysis["uncovered_buildings"],
        "negative_list": negative,
        # scoped like the positive list page (problems.selectors.positive_sites_visible_to): a
        # site placed in a grid is seen by whoever sees that grid, and these grids are the user's
        "positive_sites": to_gdf(
            PositiveSite.objects.filter(grid__in=ids).order_by("pk"), ["id", "name", "description"]
        ),
    }


STREET_MARGIN_DEG = 0.0005  # about 50 m: the streets just outside the grids still frame them


def area_streets(grids: Sequence[Grid]) -> gpd.GeoDataFrame:
    """The streets (centreline, name) within the box of ``grids`` and a margin: the town's
    network is public (as on the report picker), the box keeps a community's map small."""
    if not grids:
        return to_gdf(Street.objects.none(), ["name"])
    extents = [g.geom.extent for g in grids]
    box = Polygon.from_bbox((
        min(e[0] for e in extents) - STREET_MARGIN_DEG, min(e[1] for e in extents) - STREET_MARGIN_DEG,
        max(e[2] for e in extents) + STREET_MARGIN_DEG, max(e[3] for e in extents) + STREET_MARGIN_DEG,
    ))  # fmt: skip
    box.srid = 4326
    return to_gdf(Street.objects.filter(geom__intersects=box).order_by("pk"), ["name"])


def category_name() -> Coalesce | F:
    """The problem's category name in the active language: its English name (when it has one)
    while English is active, else its own (Chinese) name."""
    if english():
        return Coalesce(NullIf(F("category__name_en"), Value("")), F("category__name"))
    return F("category__name")


def _problems(qs: QuerySet[Problem]) -> gpd.GeoDataFrame:
    frame = to_gdf(
        qs.order_by("pk").annotate(category_code=F("category__code"), category_name=category_name()),
        PROBLEM_COLUMNS,
    ).rename(columns={"category_code": "category"})
    for column in ("reported_at", "deadline"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(timezone.get_current_timezone())
    now = pd.Timestamp(timezone.now())
    is_open = frame["status"].isin([str(s) for s in OPEN_STATUSES]).to_numpy()
    frame["overdue"] = is_open & (frame["deadline"] < now).fillna(False).to_numpy(dtype=bool)
    photos: dict[int, list[str]] = defaultdict(list)
    rows = (
        ProblemPhoto.objects.filter(problem__in=qs)
        .order_by("problem_id", "-stage", "pk")  # "before" sorts after "after" reversed: before first
        .values_list("problem_id", "pk")
    )
    for problem_id, photo_id in rows:
        if len(photos[problem_id]) < PHOTOS_PER_PROBLEM:
            photos[problem_id].append(str(photo_id))
    frame["photos"] = [",".join(photos.get(int(i), [])) or None for i in frame["id"]]
    return frame


def _union(grids: Sequence[Grid]):
    union = grids[0].geom
    for g in grids[1:]:
        union = union.union(g.geom)
    return union


def area_figures(grids: Sequence[Grid]) -> dict[str, Any]:
    """The side panel's figures: buildings, households, population, problems open / overdue /
    closed, the closure rate (closed / counted problems: all but rejected and duplicate) and the
    coverage share per kind (households covered, straight line; see :mod:`gridmap.maps.analysis`)."""
    ids = [g.pk for g in grids]
    b = Building.objects.filter(grid__in=ids)
    counts = b.aggregate(n=Count("pk"), hh=Coalesce(Sum("households"), 0), pop=Coalesce(Sum("population"), 0))
    problems = Problem.objects.filter(grid__in=ids)
    now = timezone.now()
    p = problems.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, deadline__lt=now)),
        closed=Count("pk", filter=Q(status=Status.CLOSED)),
        counted=Count("pk", filter=~Q(status__in=[Status.REJECTED, Status.DUPLICATE])),
    )
    layers = area_layers_for_figures(grids)
    return {
        "buildings": counts["n"],
        "households": counts["hh"],
        "population": counts["pop"],
        "open": p["open"],
        "overdue": p["overdue"],
        "closed": p["closed"],
        "closure_rate": p["closed"] / p["counted"] if p["counted"] else None,
        "coverage": _named(layers["coverage"]),
    }


def _named(coverage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The coverage summary (cached, with the kinds' own names) named in the active language."""
    names = localized_kinds({c["kind"]: {"name": c["name"]} for c in coverage})
    return [{**c, "name": names[c["kind"]]["name"]} for c in coverage]


def area_layers_for_figures(grids: Sequence[Grid]) -> dict[str, Any]:
    """The (cached) analysis of ``grids``, for the coverage figures."""
    ids = [g.pk for g in grids]
    boundary = to_gdf(Grid.objects.filter(pk__in=ids).order_by("code"), ["code", "name"])
    buildings = to_gdf(
        Building.objects.filter(grid__in=ids).order_by("pk"),
        ["id", "address", "use", "floors", "households", "population"],
    )
    return area_analysis(boundary, buildings, _problems(Problem.objects.filter(grid__in=ids)))


def negative_items(grids: Sequence[Grid]) -> QuerySet[Problem]:
    """The negative list of ``grids``: open problems, oldest first (as the API's negative list)."""
    return (
        Problem.objects.filter(grid__in=[g.pk for g in grids], status__in=OPEN_STATUSES)
        .select_related("category")
        # Ordered by an expression that no index serves: given "the oldest 20", PostgreSQL would
        # walk the reported_at index from the oldest case and skip the closed ones, but open cases
        # are the newest (676,864 rows skipped for one community of the city bench, 2.8 s); from
        # the (grid, status) index it reads only the area's open cases and sorts them.
        .order_by(Coalesce("reported_at", "reported_at"), "id")
    )


def facility_kinds() -> dict[str, dict[str, str]]:
    geom = {"Point": "point", "LineString": "line", "Polygon": "polygon"}
    return {
        k.code: {"name": k.name, "color": k.color, "geom": geom[k.geom_type]}
        for k in FacilityKind.objects.all()
    }


def grid_layers(grid: Grid) -> dict[str, gpd.GeoDataFrame]:
    """:func:`area_layers` of one grid."""
    return area_layers([grid])


__all__ = [
    "area_figures",
    "area_layers",
    "area_streets",
    "communities_visible_to",
    "facility_kinds",
    "negative_items",
]
