"""The planner's pages: /planner/ (side panel + map frame) and /planner/map/ (the map document).

Who: administrators and planners see the whole city; a community head sees their community
(every read goes through the selectors); other roles get 403. Query parameters: ``kind`` (a
facility kind with a service radius) and ``period`` (:data:`~gridmap.maps.planner_data.PERIODS`);
anything else, a repeated name or an unknown value answers 400 with the reason.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.analysis.coverage import coverage_settings
from gridmap.analysis.coverage_rows import COMPUTING, FRESH
from gridmap.campaign.maps import point_types
from gridmap.core.basemap import tile_source
from gridmap.core.language import local_name
from gridmap.facilities.models import FacilityKind
from gridmap.geography.models import Building, Community
from gridmap.geography.selectors import grids_visible_to
from gridmap.maps.builders import planner_vector_sources, status_styles
from gridmap.maps.planner_data import (
    DEFAULT_PERIOD,
    PERIODS,
    RATE_STATUSES,
    PlannerData,
    period_start,
    planner_data,
    radius_kinds,
)
from gridmap.maps.tiles import add_overlays
from layers.maps import BboxSource, MapAssets, planner_map

PLANNER_ROLES = {Role.ADMIN, Role.PLANNER, Role.COMMUNITY_HEAD}
PARAMS = {"kind", "period"}
PREFERRED_KIND = "refuse_point"
WORST_GRIDS = 10
_COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
GREY = "#7f7f7f"


class ParamError(ValueError):
    pass


def _may_plan(request: HttpRequest) -> None:
    if role_of(request.user) not in PLANNER_ROLES:
        raise PermissionDenied(_("Your role may not see the planner map."))


def _params(request: HttpRequest, kinds: list[FacilityKind]) -> tuple[FacilityKind | None, str]:
    unknown = sorted(set(request.GET) - PARAMS)
    if unknown:
        raise ParamError(
            _("Unknown parameter %(names)s; accepted: %(allowed)s.")
            % {"names": ", ".join(n[:40] for n in unknown[:5]), "allowed": ", ".join(sorted(PARAMS))}
        )
    for name in request.GET:
        if len(request.GET.getlist(name)) != 1:
            raise ParamError(_("Give %(name)s once.") % {"name": name})
    by_code = {k.code: k for k in kinds}
    code = request.GET.get("kind")
    if code is None:
        kind = by_code.get(PREFERRED_KIND) or (kinds[0] if kinds else None)
    elif code in by_code:
        kind = by_code[code]
    else:
        raise ParamError(_("kind must be one of: %(kinds)s.") % {"kinds": ", ".join(by_code) or "—"})
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        raise ParamError(_("period must be one of: %(periods)s.") % {"periods": ", ".join(PERIODS)})
    return kind, period


def _period_names() -> dict[str, str]:
    return {
        "30d": _("last 30 days"),
        "90d": _("last 90 days"),
        "180d": _("last 180 days"),
        "365d": _("last 365 days"),
        "all": _("all time"),
    }


def _served_uses(kind: FacilityKind) -> str:
    uses = coverage_settings()["building_uses_by_kind"].get(kind.code)
    names = dict(Building.Use.choices)
    return ", ".join(str(names.get(u, u)) for u in uses) if uses else _("all buildings")


def definitions(kind: FacilityKind | None, period: str) -> dict[str, str]:
    """The legend headings: what each choropleth measures."""
    start = period_start(period)
    since = date_format(start, "Y-m-d") if start else None
    rate = (
        _("Problems reported since %(start)s (open or closed) per 1,000 residents") % {"start": since}
        if since
        else _("Problems reported (open or closed, all time) per 1,000 residents")
    )
    if kind is None:
        return {"coverage": _("No facility kind has a service radius."), "rate": rate}
    coverage = _(
        "%(kind)s coverage: share of the buildings it serves (%(uses)s) within %(radius)s m "
        "of one, straight line"
    ) % {"kind": kind.local_name, "uses": _served_uses(kind), "radius": f"{kind.service_radius_m:g}"}
    return {"coverage": coverage, "rate": rate}


def _texts(data: PlannerData) -> PlannerData:
    """The popup texts of each grid."""
    g = data.grids

    def cov(share: float, covered: int, served: int) -> str:
        if not math.isfinite(share):
            return _("no building served")
        return f"{100 * share:.1f}% ({covered}/{served})"

    def rate(value: float, problems: int, population: int) -> str:
        if not math.isfinite(value):
            return _("%(n)s problems, no residents") % {"n": problems}
        return _("%(rate).1f per 1,000 residents (%(n)s problems, %(pop)s residents)") % {
            "rate": value, "n": problems, "pop": population,
        }  # fmt: skip

    texts = g.assign(
        coverage_text=[cov(*r) for r in zip(g["coverage"], g["covered"], g["served"], strict=True)],
        rate_text=[rate(*r) for r in zip(g["rate"], g["problems"], g["population"], strict=True)],
        gap_text=[f"{100 * s:.0f}%" if math.isfinite(s) else "—" for s in g["uncovered_share"]],
    )
    return PlannerData(texts, data.gaps, data.totals)


def _color(value: str) -> str:
    return value if isinstance(value, str) and _COLOR.match(value) else GREY


def bbox_sources(
    kind: FacilityKind | None, start_text: str | None
) -> tuple[list[BboxSource], list[tuple[str, str, str]]]:
    """The bbox-loaded layers (the API lists, scoped there) and their legend entries: buildings
    and the chosen kind's facilities on at first; every facility and the period's problems
    (those the rate counts) switched on in the layer control."""
    kinds = [
        (code, local_name(name, name_en), color)
        for code, name, name_en, color in FacilityKind.objects.order_by("class_code").values_list(
            "code", "name", "name_en", "color"
        )
    ]
    statuses = status_styles()
    query = {"status": ",".join(RATE_STATUSES)} | ({"reported_after": start_text} if start_text else {})
    point = {"radius": 5, "weight": 1, "fillOpacity": 0.9}
    by_kind = {c: {**point, "color": _color(col), "fillColor": _color(col)} for c, _n, col in kinds}
    facility_fields = {"kind_name": _("Kind"), "name": _("Name"), "condition": _("Condition")}
    sources = [
        BboxSource(
            "buildings", _("Buildings"), reverse("api:buildings"),
            {"color": "#8d8170", "weight": 1, "fillColor": "#d9d0c1", "fillOpacity": 0.6},
            fields={"address": _("Address"), "use": _("Use"), "floors": _("Floors"),
                    "households": _("Households"), "population": _("Population")},
        ),
        BboxSource(
            "facilities", _("All facilities"), reverse("api:facilities"),
            {**point, "color": "#ffffff", "fillColor": GREY}, style_key="kind", styles=by_kind,
            fields=facility_fields, show=False,
        ),
        BboxSource(
            "problems", _("Problems in the period"), reverse("api:problems") + "?" + urlencode(query),
            {**point, "color": "#ffffff", "fillColor": GREY}, style_key="status",
            styles={s: {**point, "color": "#ffffff", "fillColor": _color(statuses[s]["color"])}
                    for s in RATE_STATUSES},
            fields={"category_name": _("Category"), "status": _("Status"),
                    "reported_at": _("Reported at"), "description": _("Description")},
            show=False,
        ),
        inspection_point_source(point),
    ]  # fmt: skip
    legend = [(_("Buildings"), "#d9d0c1", "polygon")]
    if kind is not None:
        style = {**point, "radius": 6, "color": "#000000", "weight": 2, "fillColor": _color(kind.color)}
        sources.insert(1, BboxSource(
            "kind-facilities", kind.local_name, f"{reverse('api:facilities')}?{urlencode({'kind': kind.code})}",
            style, fields=facility_fields,
        ))  # fmt: skip
        legend.append((kind.local_name, _color(kind.color), "point"))
    legend += [(name, _color(col), "point") for c, name, col in kinds if kind is None or c != kind.code]
    legend += [(statuses[s]["name"], _color(statuses[s]["color"]), "point") for s in RATE_STATUSES]
    return sources, legend


def inspection_point_source(point: dict[str, Any]) -> BboxSource:
    """The campaign's inspection points (the user's, scoped by the campaign's selector), off at
    first, coloured by type."""
    by_type = {c: {**point, "color": "#222222", "fillColor": _color(v["color"]), "fillOpacity": 0.5}
               for c, v in point_types().items()}  # fmt: skip
    return BboxSource(
        "inspection_points", _("Inspection points"), reverse("campaign-points"),
        {**point, "color": "#222222", "fillColor": GREY}, style_key="type", styles=by_type,
        fields={"name": _("Name"), "type_name": _("Point type"), "department": _("Department")}, show=False,
    )  # fmt: skip


def _labels(kind: FacilityKind | None) -> dict[str, str]:
    gaps = (
        _("Uncovered area: farther than %(radius)s m from any %(kind)s")
        % {"radius": f"{kind.service_radius_m:g}", "kind": kind.local_name}
        if kind is not None
        else _("Uncovered area")
    )
    return {
        "gaps_legend": gaps, "legend": pgettext("leader map", "Legend"),
        "classes_legend": pgettext("leader map", "Classes"),
        "coverage": _("Coverage share"), "problem_rate": _("Problem rate"),
        "gaps": _("Uncovered area"), "sites": _("Suggested sites"), "no_data": _("no data"),
        "code": _("Code"), "name": _("Name"), "community": _("Community"),
        "coverage_text": _("Coverage share"), "rate_text": _("Problem rate"),
        "gap_text": _("Uncovered area share"), "open_grid": _("Open the grid page"),
        "site": _("Site"), "street_name": _("Street"), "buildings": _("Buildings newly covered"),
        "households": _("Households"), "max_distance_m": _("Farthest building (m)"),
        "suggest": _("Suggest sites"),
        "sites_done": _("{sites} sites cover {buildings} more buildings."),
        "zoom_in": _("Zoom in to load buildings, facilities and problems."),
        "truncated": _("{name}: {shown} of {matched} shown; zoom in."),
        "failed": _("{name} could not be loaded ({error})."),
    }  # fmt: skip


def _communities(request: HttpRequest) -> list[tuple[str, str]]:
    ids = grids_visible_to(request.user).values("community_id")
    return list(
        Community.objects.filter(pk__in=ids).exclude(geom=None).order_by("code").values_list("code", "name")
    )


@login_required
@require_GET
def planner_page(request: HttpRequest) -> HttpResponse:
    _may_plan(request)
    kinds = radius_kinds()
    context = {"kinds": kinds, "periods": _period_names().items()}
    try:
        kind, period = _params(request, kinds)
    except ParamError as exc:
        return render(request, "maps/planner.html", {**context, "error": str(exc)}, status=400)
    data = planner_data(request.user, kind, period_start(period))
    grids = data.grids
    worst = grids[grids["coverage"].notna()].sort_values(["coverage", "code"]).head(WORST_GRIDS)
    query = urlencode({"kind": kind.code, "period": period} if kind else {"period": period})
    context |= {
        "kind": kind,
        "period": period,
        "definitions": definitions(kind, period),
        "totals": data.totals,
        "worst": [
            {
                "code": r.code,
                "name": r.name,
                "share": 100 * r.coverage,
                "covered": r.covered,
                "served": r.served,
            }
            for r in worst.itertuples()
        ],
        "map_url": f"{reverse('planner-map')}?{query}",
        "analysis_note": analysis_note(data),
    }
    return render(request, "maps/planner.html", context)


def analysis_note(data: PlannerData) -> str | None:
    """What the page says when the coverage shown is not current (see planner_data)."""
    state = data.analysis
    if state is None or state.state == FRESH:
        return None
    if state.state == COMPUTING:
        return _("The coverage analysis is being computed; reload the page in a minute.")
    when = date_format(timezone.localtime(state.as_of), "Y-m-d H:i")
    return _("Coverage is being updated (figures as of %(time)s).") % {"time": when}


@login_required
@require_GET
@xframe_options_sameorigin
def planner_map_html(request: HttpRequest) -> HttpResponse:
    """The folium map document of the planner page (embedded in a frame)."""
    _may_plan(request)
    try:
        kind, period = _params(request, radius_kinds())
    except ParamError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    start = period_start(period)
    tiles = tile_source()
    data = _texts(planner_data(request.user, kind, start))
    sources, legend = bbox_sources(kind, start.isoformat() if start else None)
    sources, vectors = planner_vector_sources(request.user, sources, tiles=tiles)
    heads = definitions(kind, period)
    m = planner_map(
        grids=data.grids,
        gaps=data.gaps,
        coverage_title=heads["coverage"],
        rate_title=heads["rate"],
        grid_url=reverse("grid-detail", args=["CODE"]).replace("CODE", "{code}"),
        bbox_sources=sources,
        vector_sources=vectors,
        legend=legend,
        sites_url=f"{reverse('api:analysis-suggestions')}?{urlencode({'kind': kind.code})}" if kind else None,
        communities=_communities(request),
        labels=_labels(kind),
        assets=MapAssets(base_url=static("vendor/")),
        tiles=tiles,
    )
    add_overlays(m, tiles)  # e.g. Tianditu's labels over its map
    return HttpResponse(m.get_root().render(), content_type="text/html; charset=utf-8")
