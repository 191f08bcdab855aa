"""The ten steps' pages: every community's progress, one community's checklist (state, note and
evidence per sub-item; the stage acceptance of each step), and the evidence files behind the
same scope. A community or evidence outside the user's scope is a 404; a step the user may not
take is a 403; bad input re-shows the page with the error (400), nothing written."""

from __future__ import annotations

import mimetypes

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gridmap.tensteps import services
from gridmap.tensteps.forms import AcceptanceForm, EvidenceForm, ItemForm
from gridmap.tensteps.models import Acceptance, Evidence, ItemProgress, Step, StepItem
from gridmap.tensteps.selectors import (
    communities_for_steps,
    done_items,
    may_sign,
    may_work,
    progress_of,
    standing,
    step_accepted,
)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    rows = progress_of(communities_for_steps(request.user).select_related("subdistrict"))
    return render(request, "tensteps/index.html", {"rows": rows})


def _community(request: HttpRequest, code: str):
    return get_object_or_404(communities_for_steps(request.user).select_related("subdistrict"), code=code)


def _page(request: HttpRequest, community, *, status: int = 200, errors: dict | None = None) -> HttpResponse:
    steps = list(Step.objects.prefetch_related("items"))
    progress = {
        p.item_id: p
        for p in ItemProgress.objects.filter(community=community)
        .prefetch_related("evidence")
        .select_related("updated_by__profile")
    }
    done = done_items([community.pk])[community.pk]
    latest = standing([community.pk])
    history: dict[int, list[Acceptance]] = {}
    for a in Acceptance.objects.filter(community=community).select_related("signed_by__profile"):
        history.setdefault(a.step_id, []).append(a)  # newest first (the model's order)
    sections = []
    for step in steps:
        items = list(step.items.all())
        decision = latest.get((community.pk, step.pk))
        sections.append({
            "step": step,
            "items": [(i, progress.get(i.pk)) for i in items],
            "done": sum(1 for i in items if i.pk in done),
            "ready": bool(items) and all(i.pk in done for i in items),
            "decision": decision,
            "history": history.get(step.pk, []),
            "accepted": step_accepted(decision, [i.pk for i in items], done),
        })  # fmt: skip
    (summary,) = progress_of([community])
    context = {
        "community": community,
        "sections": sections,
        "summary": summary,
        "may_work": may_work(request.user, community),
        "may_sign": may_sign(request.user, community),
        "item_form": ItemForm(),
        "evidence_form": EvidenceForm(),
        "acceptance_form": AcceptanceForm(),
        "errors": errors or {},
    }
    return render(request, "tensteps/community.html", context, status=status)


@login_required
@require_GET
def community_page(request: HttpRequest, code: str) -> HttpResponse:
    return _page(request, _community(request, code))


def _refused(request: HttpRequest, community, key: str, error: ValidationError | dict) -> HttpResponse:
    messages = (
        error.messages if isinstance(error, ValidationError) else [m for v in error.values() for m in v]
    )
    return _page(request, community, status=400, errors={key: messages})


@login_required
@require_POST
def item_update(request: HttpRequest, code: str, item_id: int) -> HttpResponse:
    community = _community(request, code)
    item = get_object_or_404(StepItem, pk=item_id)
    form = ItemForm(request.POST)
    if not form.is_valid():
        return _refused(request, community, f"item-{item.pk}", form.errors)
    try:
        services.set_item(
            request.user, community, item, form.cleaned_data["status"], form.cleaned_data["note"]
        )
    except ValidationError as e:
        return _refused(request, community, f"item-{item.pk}", e)
    return redirect(reverse("tensteps-community", args=[community.code]) + f"#item-{item.pk}")


@login_required
@require_POST
def evidence_add(request: HttpRequest, code: str, item_id: int) -> HttpResponse:
    community = _community(request, code)
    item = get_object_or_404(StepItem, pk=item_id)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, community, f"item-{item.pk}", form.errors)
    try:
        services.add_evidence(
            request.user, community, item, form.cleaned_data["file"], form.cleaned_data["caption"]
        )
    except ValidationError as e:
        return _refused(request, community, f"item-{item.pk}", e)
    return redirect(reverse("tensteps-community", args=[community.code]) + f"#item-{item.pk}")


@login_required
@require_POST
def acceptance_sign(request: HttpRequest, code: str, number: int) -> HttpResponse:
    community = _community(request, code)
    step = get_object_or_404(Step, number=number)
    form = AcceptanceForm(request.POST)
    if not form.is_valid():
        return _refused(request, community, f"step-{step.number}", form.errors)
    try:
        services.sign(
            request.user, community, step, form.cleaned_data["decision"], form.cleaned_data["remarks"]
        )
    except ValidationError as e:
        return _refused(request, community, f"step-{step.number}", e)
    return redirect(reverse("tensteps-community", args=[community.code]) + f"#step-{step.number}")


@login_required
@require_GET
def evidence_file(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, to whoever may see its community (anyone else: 404)."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("progress"),
        pk=pk,
        progress__community__in=communities_for_steps(request.user).values("pk"),
    )
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    kind = mimetypes.types_map.get(f".{evidence.extension}", "application/octet-stream")
    response = FileResponse(handle, content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="evidence-{evidence.pk}.{evidence.extension}"'
    return response
