"""The survey pages: the list, a survey's results per community (the communities the user
follows), the phone page that collects one response, and the administrator's spreadsheet
import. Bad answers re-show the form with the errors (400), nothing written."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.geography.selectors import communities_followed_by
from gridmap.surveys import services
from gridmap.surveys.forms import ImportForm
from gridmap.surveys.models import Question, Survey
from gridmap.surveys.results import survey_results


def _follower(request: HttpRequest):
    communities = list(communities_followed_by(request.user))
    if not communities:
        raise PermissionDenied
    return communities


@login_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    _follower(request)
    return render(request, "surveys/list.html", {"surveys": Survey.objects.all()})


@login_required
@require_GET
def results(request: HttpRequest, pk: int) -> HttpResponse:
    communities = _follower(request)
    survey = get_object_or_404(Survey, pk=pk)
    questions = list(survey.questions.all())
    rows = survey_results(survey, communities)
    shown = [q for q in questions if q.kind != Question.Kind.TEXT]
    table = [(r, [(q.kind, r.by_question.get(q.pk)) for q in shown]) for r in rows]
    context = {"survey": survey, "questions": questions, "shown": shown, "table": table,
               "is_admin": role_of(request.user) == Role.ADMIN}  # fmt: skip
    return render(request, "surveys/results.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    communities = _follower(request)
    survey = get_object_or_404(Survey, pk=pk)
    questions = list(survey.questions.all())
    errors: list[str] = []
    values: dict[int, str] = {}
    if request.method == "POST":
        values = {q.number: request.POST.get(f"q{q.number}", "")[:2000] for q in questions}
        code = request.POST.get("community", "")
        community = next((c for c in communities if c.code == code), None)
        try:
            client_id = uuid.UUID(request.POST.get("client_id", ""))
        except ValueError:
            client_id = None
        if community is None:
            errors.append(_("Choose one of your communities."))
        if client_id is None:
            errors.append(_("The form is out of date: open it again."))
        if not errors:
            try:
                services.response_submit(request.user, survey, community, client_id, values)
                return redirect(reverse("survey-answer", args=[survey.pk]) + "?saved=1")
            except ValidationError as e:
                errors = e.messages
    own = getattr(getattr(request.user, "profile", None), "community_id", None)
    context = {
        "survey": survey,
        "fields": [(q, str(values.get(q.number, ""))) for q in questions],
        "communities": communities,
        "chosen": request.POST.get("community") or next((c.code for c in communities if c.pk == own), ""),
        "values": values,
        "errors": errors,
        "client_id": uuid.uuid4(),
        "saved": request.GET.get("saved") == "1",
        "kinds": Question.Kind,
    }
    return render(request, "surveys/answer.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def import_file(request: HttpRequest, pk: int) -> HttpResponse:
    if role_of(request.user) != Role.ADMIN:
        raise PermissionDenied
    survey = get_object_or_404(Survey, pk=pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    outcome, errors = None, []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            outcome = services.import_rows(request.user, survey, upload, upload.size)
        except ValidationError as e:
            errors = e.messages
    status = 400 if request.method == "POST" and (errors or not form.is_valid()) else 200
    context = {"survey": survey, "form": form, "outcome": outcome, "errors": errors}
    return render(request, "surveys/import.html", context, status=status)
