"""The campaign's pages: rounds (list, new, results, workbook), an inspector's walk on a phone and
its answer POST, the readiness list, and the points as GeoJSON for the planner's map. Every read
goes through ``selectors`` (the user's scope); a point outside it is a 404."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.gis.geos import Polygon
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.campaign.answers import AnswerRefused, answer_record
from gridmap.campaign.forms import AnswerForm, RoundForm
from gridmap.campaign.models import Answer, ChecklistItem, Finding, ReadinessWeights, Round
from gridmap.campaign.readiness_score import PARTS, kept_ranking
from gridmap.campaign.report import round_workbook
from gridmap.campaign.results import LEVELS, readiness, round_compared, round_results
from gridmap.campaign.rounds import planned_walk, round_create
from gridmap.campaign.selectors import (
    may_manage,
    points_visible_to,
    rounds_visible_to,
    visits_to_score,
    visits_visible_to,
)
from gridmap.core.language import english
from gridmap.problems.selectors import scope_is_large
from layers.routes import route_gpx
from layers.validate import BBox, GeometryInputError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEES_CAMPAIGN = frozenset(Role) - {Role.REPORTER}
MAX_GEOJSON = 5000


def _campaign_user(request: HttpRequest) -> None:
    if role_of(request.user) not in SEES_CAMPAIGN:
        raise PermissionDenied(_("The campaign's pages are for its staff."))


def _round(request: HttpRequest, pk: int) -> Round:
    return get_object_or_404(rounds_visible_to(request.user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    _campaign_user(request)
    form = RoundForm(request.POST or None) if may_manage(request.user) else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("Only the campaign office starts a mock evaluation."))
        if form.is_valid():
            d = form.cleaned_data
            round_ = round_create(name=d["name"], held_on=d["held_on"], share=d["share"], seed=d["seed"],
                                  inspectors=list(d["inspectors"]), created_by=request.user)  # fmt: skip
            return redirect("campaign-round", round_.pk)
    rounds = rounds_visible_to(request.user).order_by("-held_on", "-pk")[:50]
    status = 400 if form is not None and form.is_bound else 200
    return render(request, "campaign/index.html", {"rounds": rounds, "form": form}, status=status)


@login_required
@require_GET
def round_page(request: HttpRequest, pk: int) -> HttpResponse:
    _campaign_user(request)
    round_ = _round(request, pk)
    visits = visits_visible_to(request.user)
    results = round_results(round_, visits)
    titles = {
        "type": _("Point type"),
        "grid": _("Grid"),
        "community": _("Community"),
        "department": _("Department"),
    }
    groups = [
        (titles[level], sorted(results.groups[level].items(), key=lambda kv: str(kv[0]))) for level in LEVELS
    ]
    mine = visits_to_score(request.user, round_).exists()
    return render(request, "campaign/round.html", {
        "round": round_, "results": results, "groups": groups,
        "compared": round_compared(round_, visits), "may_score": mine,
        "failure_map": failure_map(round_, visits),
    })  # fmt: skip


def failure_map(round_: Round, visits: Any) -> dict[str, Any]:
    """The round's map of failures (``pointmap.js``, kind ``failures``): each visited point in the
    user's scope with its failed items, red while one is not verified as fixed, amber when all
    are, green when none failed."""
    findings: dict[int, list[tuple[str, bool]]] = {}
    for point_id, code, closed in Finding.objects.filter(answer__visit__round=round_).values_list(
        "point_id", "item__code", "closed_at"
    ):
        findings.setdefault(point_id, []).append((code, closed is not None))
    features = []
    for v in visits.filter(round=round_).select_related("point"):
        found = findings.get(v.point_id, [])
        state = "open" if any(not c for _, c in found) else "fixed" if found else "passed"
        features.append({
            "type": "Feature",
            "geometry": json.loads(v.point.geom.point_on_surface.geojson),
            "properties": {"name": v.point.name, "state": state,
                           "label": ", ".join(code for code, _ in sorted(found)) or _("no failed item")},
        })  # fmt: skip
    return {
        "kind": "failures",
        "center": [0, 0],
        "points": {"type": "FeatureCollection", "features": features},
    }


@login_required
@require_GET
def round_report(request: HttpRequest, pk: int) -> HttpResponse:
    _campaign_user(request)
    round_ = _round(request, pk)
    body = round_workbook(round_, visits_visible_to(request.user), points_visible_to(request.user))
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="mock-evaluation-{round_.pk}.xlsx"'
    return response


@login_required
@require_GET
def walk(request: HttpRequest, pk: int) -> HttpResponse:
    """An inspector's points in walking order, each with its checklist: one small form per item
    carrying a client id made here, so sending a form again never scores twice."""
    _campaign_user(request)
    round_ = _round(request, pk)
    visits = list(
        visits_to_score(request.user, round_)
        .select_related("point__type", "point__community")
        .prefetch_related(Prefetch("answers", queryset=Answer.objects.select_related("item")))
        .order_by("inspector", "walk_order", "pk")
    )
    items = {}
    for item in ChecklistItem.objects.filter(active=True).order_by("order", "code"):
        items.setdefault(item.point_type_id, []).append(item)
    stops = []
    for v in visits:
        answered = {a.item_id: a for a in v.answers.all()}
        rows = [
            {"item": i, "answer": answered.get(i.pk), "uuid": uuid.uuid4()}
            for i in items.get(v.point.type_id, [])
        ]
        stops.append({"visit": v, "rows": rows, "done": sum(r["answer"] is not None for r in rows)})
    texts = {  # what the page's script says (static/gridmap/walk.js)
        "pending": _("%s answers kept on this phone, to be sent when the connection is back."),
        "kept": _("No connection: kept on this phone, sent when the connection is back."),
        "failed": pgettext("checklist", "failed"), "passed": pgettext("checklist", "passed"),
        "refused": _("Not recorded:"),
    }  # fmt: skip
    return render(request, "campaign/walk.html", {"round": round_, "stops": stops, "walk_texts": texts})


@login_required
@require_GET
def walk_gpx(request: HttpRequest, pk: int) -> HttpResponse:
    """The user's walk of a round as GPX 1.1 (waypoints in walking order, the path as a track),
    planned by the route planner as when the round was made."""
    _campaign_user(request)
    round_ = _round(request, pk)
    visits = round_.visits.filter(inspector=request.user).select_related("point").order_by("walk_order", "pk")
    points = [v.point for v in visits]
    if not points:
        raise Http404(_("No point of this round is on your walk."))
    body = route_gpx(planned_walk(points), name=round_.name)
    response = HttpResponse(body, content_type="application/gpx+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="walk-{round_.pk}.gpx"'
    return response


@login_required
@require_POST
def answer(request: HttpRequest, visit_id: int) -> HttpResponse:
    """One item's answer (multipart: item, client_uuid, findings, not_applicable, note, photo…).
    201 when written, 200 when the client id was seen before, 4xx with the reason otherwise;
    a browser without ``Accept: application/json`` is sent back to its walk."""
    _campaign_user(request)
    visit = get_object_or_404(visits_visible_to(request.user).select_related("round", "point"), pk=visit_id)
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _refused(wants_json, visit, {k: [str(m) for m in v] for k, v in form.errors.items()}, 400)
    d = form.cleaned_data
    item = ChecklistItem.objects.filter(pk=d["item"]).first()
    if item is None:
        return _refused(wants_json, visit, _("Unknown checklist item."), 400)
    try:
        recorded = answer_record(
            visit=visit, item=item, client_uuid=d["client_uuid"], findings=d["findings"], user=request.user,
            not_applicable=d["not_applicable"], note=d["note"], photos=request.FILES.getlist("photo"),
        )  # fmt: skip
    except AnswerRefused as exc:
        return _refused(wants_json, visit, exc.message, exc.status)
    a = recorded.answer
    if not wants_json:
        return redirect(f"{_walk_url(visit)}#visit-{visit.pk}")
    finding = getattr(a, "finding", None)
    return JsonResponse(
        {"id": a.pk, "client_uuid": str(a.client_uuid), "points": a.points, "failed": a.failed,
         "problem": finding.problem_id if finding else None, "created": recorded.created},
        status=201 if recorded.created else 200,
    )  # fmt: skip


def _walk_url(visit: Any) -> str:
    return reverse("campaign-walk", args=[visit.round_id])


def _refused(wants_json: bool, visit: Any, message: Any, status: int) -> HttpResponse:
    if wants_json:
        return JsonResponse({"error": message}, status=status)
    text = (
        message if isinstance(message, str) else "; ".join(f"{k}: {' '.join(v)}" for k, v in message.items())
    )
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def readiness_page(request: HttpRequest) -> HttpResponse:
    _campaign_user(request)
    rows = readiness(points_visible_to(request.user))
    return render(request, "campaign/readiness.html", {"rows": rows})


@login_required
@require_GET
def points_geojson(request: HttpRequest) -> HttpResponse:
    """The user's inspection points in a box (``bbox=minlon,minlat,maxlon,maxlat``), for the maps."""
    _campaign_user(request)
    points = points_visible_to(request.user).filter(active=True).select_related("type", "department")
    raw = request.GET.get("bbox")
    if raw is not None:
        try:
            box = BBox.parse(raw)
        except GeometryInputError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        polygon = Polygon.from_bbox((box.min_lon, box.min_lat, box.max_lon, box.max_lat))
        polygon.srid = 4326
        points = points.filter(geom__intersects=polygon)
    features = []
    en = english()
    for p in points.order_by("pk")[:MAX_GEOJSON]:
        features.append({
            "type": "Feature", "id": p.pk, "geometry": json.loads(p.geom.geojson),
            "properties": {"name": p.name, "type": p.type.code,
                           "type_name": (p.type.name_en or p.type.name) if en else p.type.name,
                           "department": p.department.name if p.department else ""},
        })  # fmt: skip
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
@require_GET
def readiness_ranking(request: HttpRequest) -> HttpResponse:
    """Grids or communities ranked by their readiness score, its parts and trend, with the formula
    and the weights on the page (``readiness_score``)."""
    _campaign_user(request)
    level = request.GET.get("level", "community")
    if level not in ("grid", "community"):
        return render(
            request, "campaign/ranking.html", {"error": _("Rank grids or communities.")}, status=400
        )
    kept = kept_ranking.get(request.user, {"level": level}, defer=lambda: scope_is_large(request.user))
    rows = kept.value or []
    context = {
        "rows": rows,
        "level": level,
        "weights": ReadinessWeights.current(),
        "parts": PARTS,
        "kept": kept,
    }
    return render(request, "campaign/ranking.html", context)
