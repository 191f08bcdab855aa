"""The patrol pages: the walker's tasks and the form that records a walk (on a phone: the track
from the browser's position while the walk is recorded), and the map of grids not walked in the
last N days. Bad input: the page again with the errors (400), nothing written; another walker's
task: 403."""

from __future__ import annotations

import json
import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from gridmap.patrols.forms import LastWalkForm, WalkForm
from gridmap.patrols.selectors import last_walks, open_tasks_of, records_of
from gridmap.patrols.services import walk_record

DEFAULT_DAYS = 7


@login_required
@require_http_methods(["GET", "POST"])
def walks(request: HttpRequest) -> HttpResponse:
    form = WalkForm(
        request.POST or None, initial={"client_id": uuid.uuid4(), "started_at": timezone.localtime()}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                walk_record(request.user, client_id=d["client_id"], started_at=d["started_at"],
                            ended_at=d["ended_at"], task_id=d["task"], track=d["track"], notes=d["notes"])  # fmt: skip
                return redirect(reverse("patrols") + "?saved=1")
            except ValidationError as e:
                found = e.message_dict if hasattr(e, "error_dict") else {None: e.messages}
                for field, messages in found.items():
                    form.add_error(field if field in form.fields else None, messages)
        status = 400
    context = {
        "form": form,
        "tasks": list(open_tasks_of(request.user)),
        "records": list(records_of(request.user)[:20]),
        "saved": request.GET.get("saved") == "1",
    }
    return render(request, "patrols/walks.html", context, status=status)


@login_required
@require_GET
def not_walked(request: HttpRequest) -> HttpResponse:
    form = LastWalkForm(request.GET)
    if not form.is_valid():
        return render(request, "patrols/not_walked.html", {"form": form, "rows": []}, status=400)
    days = form.cleaned_data.get("days") or DEFAULT_DAYS
    today = timezone.localdate()
    rows = []
    features = []
    for grid, last in last_walks(request.user):
        late = last is None or (today - last).days >= days
        rows.append(
            {"grid": grid, "last": last, "late": late, "days": None if last is None else (today - last).days}
        )
        features.append({
            "type": "Feature",
            "geometry": json.loads(grid.geom.geojson),
            "properties": {"name": f"{grid.name} ({grid.code})", "late": late,
                           "label": str(last) if last else "—"},
        })  # fmt: skip
    late_rows = [r for r in rows if r["late"]]
    config = {
        "kind": "unwalked",
        "center": [0, 0],
        "points": {"type": "FeatureCollection", "features": features},
    }
    return render(
        request,
        "patrols/not_walked.html",
        {
            "form": form,
            "days": days,
            "rows": late_rows,
            "walked": len(rows) - len(late_rows),
            "config": config,
        },
    )
