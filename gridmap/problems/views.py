"""Pages of the closed loop: report a problem (with a map picker), the problem list, my reports,
a problem's page (history, photos, a small map) and its steps.

Thin: forms check the raw input, ``problem_create`` / ``problem_transition`` do the writes, and
every read goes through ``problems_visible_to`` (an id outside the user's scope is a 404). Maps
are drawn by ``static/gridmap/picker.js`` from a JSON block in the page (no inline script); the
forms work without it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import shapely
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gridmap.accounts.models import Department, Profile, Role
from gridmap.accounts.selectors import role_of
from gridmap.core.boundary import BoundaryError, check_text, text_validator
from gridmap.core.geoinput import point_from_lonlat
from gridmap.core.geojson import geojson_column
from gridmap.geography.models import Street
from gridmap.problems.intake import duplicates_of, problem_create
from gridmap.problems.lifecycle import (
    TRANSITIONS,
    TransitionConflict,
    TransitionForbidden,
    offered_actions,
    problem_transition,
)
from gridmap.problems.models import (
    EventCategory,
    ExtensionRequest,
    Problem,
    ProblemPhoto,
    ProblemRating,
    Status,
)
from gridmap.problems.photos import PhotoInfo, photo_check, problem_photo_attach
from gridmap.problems.picker_data import PICKER_MAX_STREETS, grid_features, picker_tiles, street_features
from gridmap.problems.reporting import rating_state
from gridmap.problems.selectors import metre_box, problems_visible_to
from layers.io import geometry_mapping

# The inputs each step's form shows besides the note (what lifecycle_steps reads).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "mark_duplicate": ("duplicate_of",),
    "dispatch": ("department", "inspector"),
    "request_extension": ("hours",),
    "decide_extension": ("approve",),
    "handle": ("photos", "lonlat"),
    "verify_pass": ("photos",),
    "verify_fail": ("photos",),
    "lookback_pass": ("photos",),
    "lookback_fail": ("photos",),
}
SIDE_STEPS = frozenset({"request_extension", "decide_extension"})
PARAM_NAMES = ("duplicate_of", "department", "inspector", "hours")
STATUS_NAMES = dict(Status.choices)
EVENT_LABELS = {
    "report": gettext_lazy("reported"),
    "merge": gettext_lazy("merged a duplicate"),
    "escalate": gettext_lazy("escalated (overdue)"),
    "co_report": gettext_lazy("reported it too (co-reporter)"),
    "rate": gettext_lazy("rated the handling"),
    "lookback_remind": gettext_lazy("look-back reminder"),
}
PHOTO_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


# A report carries at most this many photos, each checked by the one photo path.
MAX_REPORT_PHOTOS = 6


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several uploaded files under one name (a list, possibly empty)."""

    widget = MultiplePhotoInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(PhotosField, self).clean(f, initial) for f in files if f]


class CategoryChoiceField(forms.ModelChoiceField):
    """Categories by their name in the active language (no codes), drawn with their class's icon."""

    widget = forms.RadioSelect

    def label_from_instance(self, obj: Any) -> str:
        return obj.local_name


class ReportForm(forms.Form):
    """Coordinates stay text until ``point_from_lonlat`` has checked them as numbers (NaN, 1e308,
    words and out-of-range values are refused before any geometry exists)."""

    category = CategoryChoiceField(
        queryset=EventCategory.objects.filter(active=True), label=gettext_lazy("What is the problem?"),
        empty_label=None,
    )  # fmt: skip
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=4000, required=False, widget=forms.Textarea({"rows": 4}),
        validators=[text_validator],
    )  # fmt: skip
    lon = forms.CharField(label=gettext_lazy("Longitude"), max_length=40)
    lat = forms.CharField(label=gettext_lazy("Latitude"), max_length=40)
    photos = PhotosField(label=gettext_lazy("Photos (optional, up to 6)"), required=False)
    client_uuid = forms.UUIDField(required=False, widget=forms.HiddenInput)

    photo_infos: list[PhotoInfo] = []

    def clean_photos(self) -> Any:
        uploads = self.cleaned_data.get("photos") or []
        if len(uploads) > MAX_REPORT_PHOTOS:
            raise ValidationError(
                _("At most %(n)s photos per report.") % {"n": MAX_REPORT_PHOTOS}, code="too_many_photos"
            )
        self.photo_infos = [photo_check(upload, size=upload.size) for upload in uploads]
        return uploads

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "lon" in data and "lat" in data:
            try:
                point_from_lonlat(data["lon"], data["lat"])
            except ValidationError as exc:
                self.add_error("lon", exc)
        return data


def _report_page(request: HttpRequest, form: ReportForm, status: int = 200) -> HttpResponse:
    center = settings.GRIDMAP.get("MAP_CENTER") or (0.0, 0.0)
    tiles = picker_tiles()
    picker = {
        "center": [float(center[0]), float(center[1])],
        "grids": {"type": "FeatureCollection", "features": grid_features(request.user)},
        # with tiles the background shows the streets already
        "streets": {"type": "FeatureCollection", "features": [] if tiles else street_features()},
        "tiles": tiles,
    }
    return render(request, "problems/report.html", {"form": form, "picker": picker}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """Any signed-in user reports a problem; a replayed form (same client id) gives the first."""
    if request.method == "GET":
        return _report_page(request, ReportForm(initial={"client_uuid": str(uuid.uuid4())}))
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _report_page(request, form, status=400)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            problem, created = problem_create(
                lon=data["lon"], lat=data["lat"], category=data["category"], description=data["description"],
                reporter=request.user, client_uuid=data["client_uuid"],
            )  # fmt: skip
            if created and data["photos"]:
                event = problem.events.get(action="report")
                for upload, info in zip(data["photos"], form.photo_infos, strict=True):
                    problem_photo_attach(problem, upload, event=event, user=request.user, where=problem.geom,
                                         info=info)  # fmt: skip
    except ValidationError as exc:
        form.add_error(None, exc)
        return _report_page(request, form, status=400)
    return redirect("problem-reported", pk=problem.pk)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The user's own reports (and those merged into a case they co-report), newest first."""
    user = request.user
    problems = (
        problems_visible_to(user)
        .filter(Q(reporter=user) | Q(co_reporters=user))
        .select_related("category", "grid", "community")
        .annotate(rated=Exists(ProblemRating.objects.filter(problem=OuterRef("pk"), reporter_id=user.pk)))
        .distinct()
        .order_by("-reported_at", "-pk")
    )
    page = Paginator(problems, 50).get_page(request.GET.get("page"))
    return render(request, "problems/mine.html", {"page": page})


def _visible(request: HttpRequest, pk: int) -> Problem:
    qs = problems_visible_to(request.user).select_related(
        "category", "grid", "community", "department", "reporter", "handled_by", "inspector"
    )
    return get_object_or_404(qs, pk=pk)


# The fix form's map draws the streets within this distance of the case (no tiles: a reference).
FIX_STREETS_M = 400
POSTED_FIELDS = (
    "action",
    "note",
    "lon",
    "lat",
    "duplicate_of",
    "department",
    "inspector",
    "hours",
    "approve",
)


def _streets_near(point: Any) -> list[dict[str, Any]]:
    """Street centrelines near ``point`` as GeoJSON features (the fix form's picker)."""
    near = Street.objects.filter(geom__intersects=metre_box(point, FIX_STREETS_M)).order_by("pk")
    rows = near.annotate(shape=geojson_column(precision=5)).values_list("name", "shape")[:PICKER_MAX_STREETS]
    return [{"type": "Feature", "properties": {"name": n}, "geometry": json.loads(g)} for n, g in rows]


def _fix_picker(problem: Problem) -> dict[str, Any]:
    """picker.js's settings for the fix form: the case's grid, the streets around it."""
    tiles = picker_tiles()
    grid = (
        [{"type": "Feature", "properties": {"code": problem.grid.code, "name": problem.grid.name},
          "geometry": geometry_mapping(shapely.from_wkb(bytes(problem.grid.geom.wkb)))}]
        if problem.grid else []
    )  # fmt: skip
    return {
        "center": [problem.geom.x, problem.geom.y],
        "grids": {"type": "FeatureCollection", "features": grid},
        "streets": {"type": "FeatureCollection", "features": [] if tiles else _streets_near(problem.geom)},
        "tiles": tiles,
    }


def inspectors_for(problem: Problem) -> list[tuple[str, str]]:
    """(username, name) of the inspectors to pick from when dispatching ``problem``: those
    patrolling its community, or every inspector when none does (or it has no community)."""
    inspectors = Profile.objects.filter(role=Role.INSPECTOR).select_related("user").order_by("user__username")
    if problem.community_id:
        patrolling = inspectors.filter(patrol_communities=problem.community_id)
        if patrolling.exists():
            inspectors = patrolling
    return [(p.user.get_username(), p.display_name or p.user.get_username()) for p in inspectors]


def _duplicates(problem: Problem, user: Any) -> list[dict[str, Any]]:
    """Open cases of the same category close by that ``user`` may see, to merge this one into."""
    found = duplicates_of(problem)
    if not found:
        return []
    visible = problems_visible_to(user).select_related("category", "grid").in_bulk([d["id"] for d in found])
    return [{"problem": visible[d["id"]], "distance_m": d["distance_m"]} for d in found if d["id"] in visible]


def _detail_page(request: HttpRequest, problem: Problem, status: int = 200, **extra: Any) -> HttpResponse:
    """The case page. After a refused step (``extra["posted"]``) the step's form shows what was
    typed again (a chosen photo cannot be: browsers do not keep files, and the form says so)."""
    events = list(problem.events.select_related("actor__profile").prefetch_related("photos"))
    for event in events:
        step = TRANSITIONS.get(event.action)
        event.label = step.label if step else EVENT_LABELS.get(event.action, event.action)
        event.from_label = STATUS_NAMES.get(event.from_status, "")
        event.to_label = STATUS_NAMES.get(event.to_status, "")
    photos = list(problem.photos.order_by("pk"))
    # the step that moves the case on first; asking for (or deciding) more time after it
    offered = sorted(offered_actions(problem, request.user), key=lambda a: a in SIDE_STEPS)
    actions = [
        {"action": a, "label": TRANSITIONS[a].label, "fields": ACTION_FIELDS.get(a, ())} for a in offered
    ]
    context = {
        "problem": problem,
        "events": events,
        "before": [p for p in photos if p.stage == ProblemPhoto.Stage.BEFORE],
        "after": [p for p in photos if p.stage == ProblemPhoto.Stage.AFTER],
        "actions": actions,
        "is_staff_role": role_of(request.user) not in (None, Role.REPORTER),
        "departments": Department.objects.all() if "dispatch" in offered else (),
        "inspectors": inspectors_for(problem) if "dispatch" in offered else (),
        "duplicates": _duplicates(problem, request.user) if "mark_duplicate" in offered else (),
        "fix_picker": _fix_picker(problem) if "handle" in offered else None,
        "pending_extension": (
            problem.extensions.filter(decision=ExtensionRequest.Decision.PENDING).first()
            if "decide_extension" in offered
            else None
        ),
        "posted": {},
        "rating": rating_state(problem, request.user),
        "location": {
            "center": [problem.geom.x, problem.geom.y],
            "tiles": picker_tiles(),
            "grid": json.loads(problem.grid.geom.geojson) if problem.grid else None,
        },  # fmt: skip
        **extra,
    }
    return render(request, "problems/detail.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _visible(request, pk))


@login_required
@require_GET
def photo(request: HttpRequest, pk: int, photo_id: int) -> FileResponse:
    """A problem's photo, served only to who may see the problem (media URLs are not scoped)."""
    item = get_object_or_404(ProblemPhoto, pk=photo_id, problem=_visible(request, pk))
    suffix = item.image.name.rsplit(".", 1)[-1].lower()
    try:
        handle = item.image.open("rb")
    except FileNotFoundError:
        raise Http404(_("The photo file is missing.")) from None
    return FileResponse(handle, content_type=PHOTO_TYPES.get(suffix, "application/octet-stream"))


def _params(post: Any) -> dict[str, Any]:
    params: dict[str, Any] = {name: post[name].strip() for name in PARAM_NAMES if post.get(name, "").strip()}
    if "approve" in post:
        params["approve"] = {"yes": True, "no": False}.get(post["approve"], post["approve"])
    return params


@login_required
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    """One step of the loop from the problem page: 404 out of scope, 403 wrong role, 409 not
    allowed from the current status (the allowed steps listed), 400 a failed check."""
    problem = _visible(request, pk)
    post = request.POST
    # what was typed, shown again in the step's form after a refusal (text only, cut short)
    posted = {name: post.get(name, "")[:2000] for name in POSTED_FIELDS}
    try:
        note = check_text(post.get("note", ""), max_chars=2000)
    except BoundaryError as exc:
        return _detail_page(request, problem, status=400, error=_("Note: %(error)s") % {"error": exc.message},
                            posted=posted)  # fmt: skip
    try:
        problem_transition(
            problem_id=problem.pk, action=post.get("action", ""), actor=request.user, note=note,
            lon=post.get("lon") or None, lat=post.get("lat") or None,
            photos=request.FILES.getlist("photos"), params=_params(post),
        )  # fmt: skip
    except Problem.DoesNotExist:
        raise Http404 from None
    except TransitionForbidden:
        return _detail_page(request, problem, status=403, error=_("Your role may not take this step."))
    except TransitionConflict as exc:
        problem.refresh_from_db()
        allowed = [TRANSITIONS[a].label for a in exc.allowed if a in TRANSITIONS]
        message = _("This step is not allowed now: the problem is %(status)s.") % {
            "status": STATUS_NAMES.get(exc.status, exc.status)
        }
        return _detail_page(request, problem, status=409, error=message, allowed_now=allowed)
    except ValidationError as exc:
        return _detail_page(request, problem, status=400, error=" ".join(exc.messages), posted=posted)
    return redirect("problem-detail", pk=problem.pk)
