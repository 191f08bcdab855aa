"""Pages of citizen reporting besides the report form (``problems.views.report``): the
confirmation after sending, "is it this one?" (join an open case as a co-reporter), the
satisfaction rating after closing, the positive list (正面清单) with its map, and the public map
of reports when the administrator opens it.

Maps are drawn by ``static/gridmap/pointmap.js`` on the vendored Leaflet from a JSON block in the
page (no inline script, no tiles needed: the streets are drawn from our own data).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gridmap.core.language import local_name
from gridmap.core.models import PublicAccess
from gridmap.problems.lifecycle import TransitionConflict, TransitionForbidden
from gridmap.problems.models import DONE_STATUSES, Problem, Status
from gridmap.problems.picker_data import picker_tiles, street_features
from gridmap.problems.reporting import problem_co_report, problem_rate, promised_deadline
from gridmap.problems.selectors import positive_sites_visible_to, problems_visible_to

# The public map: reports of the last this many days, at most this many, placed to 3 decimals
# of a degree (about 100 m): never a house.
PUBLIC_DAYS = 90
PUBLIC_MAX = 3000
PUBLIC_DECIMALS = 3
POSITIVE_MAX = 2000


def _own(request: HttpRequest, pk: int) -> Problem:
    """A case the user reported or joined (404 otherwise)."""
    user = request.user
    qs = problems_visible_to(user).filter(Q(reporter=user) | Q(co_reporters=user)).distinct()
    return get_object_or_404(qs.select_related("category", "grid", "community"), pk=pk)


@login_required
@require_GET
def reported(request: HttpRequest, pk: int) -> HttpResponse:
    """After sending: the case number, where it was placed and the deadline it is promised."""
    problem = _own(request, pk)
    hours, deadline = promised_deadline(problem)
    context = {
        "problem": problem,
        "hours": hours,
        "deadline": deadline,
        "joined": problem.reporter_id != request.user.pk,
    }
    return render(request, "problems/reported.html", context)


@login_required
@require_POST
def join(request: HttpRequest) -> HttpResponse:
    """ "Is it this one?": the reporter joins an open case near the place they picked."""
    post = request.POST
    try:
        problem = problem_co_report(problem_id=post.get("problem", ""), user=request.user,
                                    lon=post.get("lon", ""), lat=post.get("lat", ""))  # fmt: skip
    except Problem.DoesNotExist:
        raise Http404(_("No open case has this number.")) from None
    except ValidationError as exc:
        return render(request, "problems/reported.html", {"error": " ".join(exc.messages)}, status=400)
    return redirect("problem-reported", pk=problem.pk)


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    """The reporter's satisfaction (1–5) and comment on a closed case, once."""
    try:
        problem_rate(problem_id=pk, user=request.user, stars=request.POST.get("stars", ""),
                     comment=request.POST.get("comment", ""))  # fmt: skip
    except Problem.DoesNotExist:
        raise Http404 from None
    except TransitionForbidden as exc:
        return render(request, "problems/rated.html", {"error": str(exc), "pk": pk}, status=403)
    except TransitionConflict:
        message = _("This case cannot be rated now: only a closed case is rated, once.")
        return render(request, "problems/rated.html", {"error": message, "pk": pk}, status=409)
    except ValidationError as exc:
        return render(request, "problems/rated.html", {"error": " ".join(exc.messages), "pk": pk}, status=400)
    return redirect(reverse("problem-detail", args=[pk]) + "#rating")


def _center() -> list[float]:
    center = settings.GRIDMAP.get("MAP_CENTER") or (0.0, 0.0)
    return [float(center[0]), float(center[1])]


@login_required
@require_GET
def positive_list(request: HttpRequest) -> HttpResponse:
    """正面清单: the exemplary sites the user may see, with photos, as a list and a map layer."""
    sites = list(
        positive_sites_visible_to(request.user)
        .select_related("grid", "community")
        .order_by("-created_at", "-pk")[:POSITIVE_MAX]
    )
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(s.geom.x, 6), round(s.geom.y, 6)]},
         "properties": {"id": s.pk, "name": s.name,
                        "photo": reverse("api:positive-site-photo", args=[s.pk]) if s.photo else ""}}
        for s in sites
    ]  # fmt: skip
    config = {"center": _center(), "kind": "positive", "streets": _streets(),
              "points": {"type": "FeatureCollection", "features": features}}  # fmt: skip
    return render(request, "problems/positive_list.html", {"sites": sites, "config": config})


def _streets() -> dict[str, Any]:
    """The report picker's street centrelines (only with no background tiles)."""
    return {"type": "FeatureCollection", "features": [] if picker_tiles() else street_features()}


def public_reports() -> list[dict[str, Any]]:
    """The public map's points: category, status, a place rounded to about 100 m and the day it
    was reported. Never the description, photos, reporter, or anything of a rejected case."""
    since = timezone.now() - timedelta(days=PUBLIC_DAYS)
    rows = (
        Problem.objects.filter(reported_at__gte=since)
        .exclude(status__in=[s for s in DONE_STATUSES if s != Status.CLOSED])
        .order_by("-reported_at", "-pk")
        .values_list("geom", "category__name", "category__name_en", "category__event_class", "status",
                     "reported_at")[:PUBLIC_MAX]
    )  # fmt: skip
    labels = dict(Status.choices)
    return [
        {"type": "Feature",
         "geometry": {"type": "Point", "coordinates": [round(g.x, PUBLIC_DECIMALS), round(g.y, PUBLIC_DECIMALS)]},
         "properties": {"category": local_name(name, name_en), "event_class": cls, "status": status,
                        "status_label": str(labels.get(status, status)),
                        "day": timezone.localdate(at).isoformat()}}
        for g, name, name_en, cls, status, at in rows
    ]  # fmt: skip


@require_GET
def public_map(request: HttpRequest) -> HttpResponse:
    """The anonymous map of reports, when the administrator opened it (a 404 otherwise)."""
    if not PublicAccess.current().public_map:
        raise Http404
    features = public_reports()
    config = {"center": _center(), "kind": "public", "streets": _streets(),
              "points": {"type": "FeatureCollection", "features": features}}  # fmt: skip
    return render(
        request, "problems/public_map.html", {"config": config, "count": len(features), "days": PUBLIC_DAYS}
    )
