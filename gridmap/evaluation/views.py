"""Evaluation pages and exports. Thin: a form checks the query → selectors (scoped to the user)
→ metrics / exports. Bad query parameters answer 400 with the reason, never 500."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from itertools import accumulate
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from gridmap.core import jobs
from gridmap.core.dates import local_midnight
from gridmap.evaluation import ledger, negative
from gridmap.evaluation.charts import Series, bar_chart, hbar_chart, line_chart
from gridmap.evaluation.forms import AreaForm, FiguresForm, PeriodForm
from gridmap.evaluation.kept_figures import evaluation_at_hand, evaluation_of, weeks_of
from gridmap.evaluation.metrics import Period
from gridmap.evaluation.selectors import area_visible_to, may_evaluate, score_weights
from gridmap.evaluation.summary_figures import city_weeks
from gridmap.evaluation.weekly import weeks_between
from gridmap.geography.models import Community
from gridmap.surveys.results import latest_satisfaction
from gridmap.tensteps.selectors import communities_for_steps, progress_of

RANKED_IN_CHART = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVEL_TITLES = {
    "grid": gettext_lazy("Grids"),
    "community": gettext_lazy("Communities"),
    "department": gettext_lazy("Departments"),
    "handler": gettext_lazy("Handlers (who reported the fix)"),
    "leader": gettext_lazy("Grid leaders (first responsible)"),
}


def _evaluator(request: HttpRequest) -> None:
    if not may_evaluate(request.user):
        raise PermissionDenied(_("Your role may not see the evaluation."))


def _page(request: HttpRequest, form: PeriodForm, status: int = 200, **extra: Any) -> HttpResponse:
    if form.is_valid():
        dates = {"start": form.cleaned_data["start"].isoformat(), "end": form.cleaned_data["end"].isoformat()}
    else:
        dates = {"start": request.GET.get("start", "")[:20], "end": request.GET.get("end", "")[:20]}
    context = {"form": form, "dates": dates, "query": urlencode(dates), "tables": None, **extra}
    return render(request, "evaluation/index.html", context, status=status)


def _bad_request(request: HttpRequest, form: PeriodForm) -> HttpResponse:
    return _page(request, form, status=400)


def _attachment(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _period_view(view: Callable[..., HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Signed-in evaluators only; the period from the query (400 with the form when invalid)."""

    @login_required
    @require_GET
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        _evaluator(request)
        form = PeriodForm(request.GET)
        if not form.is_valid():
            return _bad_request(request, form)
        return view(request, form, form.period())

    return wrapper


@_period_view
def index(request: HttpRequest, form: PeriodForm, period: Period) -> HttpResponse:
    found = evaluation_of(request.user, period, timezone.now())
    tables = found.tables
    sections = [(level, LEVEL_TITLES[level], units) for level, units in tables.items()]
    return _page(
        request, form, sections=sections, tables=tables, weights=score_weights(),
        as_of=found.summary_as_of, kept=found.kept, computing=bool(found.kept and found.kept.computing),
    )  # fmt: skip


def _ledger(request: HttpRequest, form: PeriodForm, period: Period, fmt: str) -> HttpResponse:
    """The ledger file in the response, or, above ``ledger.DIRECT_LIMIT`` cases (or when the
    workbook's evaluation sheet would have to be computed for a large scope, or holds more than
    ``DIRECT_LIMIT`` units), a job writing it
    and a redirect to the job's page (progress, then the file)."""
    sheet_waits = fmt == "xlsx" and not evaluation_at_hand(request.user, period)
    if not sheet_waits and fmt == "xlsx":  # the sheet is kept: count its rows (a city's: 2,400)
        tables = evaluation_of(request.user, period, timezone.now(), may_defer=False).tables
        sheet_waits = sum(len(units) for units in tables.values()) > ledger.DIRECT_LIMIT
    if sheet_waits or ledger.is_large(request.user, period):
        dates = {k: form.cleaned_data[k].isoformat() for k in ("start", "end")}
        label = _("Ledger %(start)s – %(end)s (%(format)s)") % {**dates, "format": fmt}
        job = jobs.submit(
            "evaluation.export_ledger",
            user=request.user,
            label=label,
            user_id=request.user.pk,
            fmt=fmt,
            **dates,
        )
        return redirect("job-detail", job.id)
    name = f"{ledger.stem('ledger', period)}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        ledger.write_ledger(out, user=request.user, period=period, fmt="csv", now=timezone.now())
        return _attachment(out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", name)
    buf = io.BytesIO()
    ledger.write_ledger(buf, user=request.user, period=period, fmt="xlsx", now=timezone.now())
    return _attachment(buf.getvalue(), XLSX, name)


@_period_view
def ledger_xlsx(request: HttpRequest, form: PeriodForm, period: Period) -> HttpResponse:
    return _ledger(request, form, period, "xlsx")


@_period_view
def ledger_csv(request: HttpRequest, form: PeriodForm, period: Period) -> HttpResponse:
    return _ledger(request, form, period, "csv")


@login_required
@require_GET
def negative_list_xlsx(request: HttpRequest) -> HttpResponse:
    """The negative list of a grid or community as xlsx, or, above ``ledger.DIRECT_LIMIT`` items,
    a job writing it and a redirect to the job's page (progress, then the file)."""
    _evaluator(request)
    form = AreaForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    period = form.period()
    area = area_visible_to(
        request.user, grid=form.cleaned_data["grid"], community=form.cleaned_data["community"]
    )
    if area is None:
        raise Http404(_("No such grid or community among those you may see."))
    name = f"{ledger.stem('negative-list-' + area.code, period)}.xlsx"
    if negative.is_large(request.user, area, period):
        dates = {k: form.cleaned_data[k].isoformat() for k in ("start", "end")}
        job = jobs.submit(
            "evaluation.export_negative_list",
            user=request.user,
            label=_("Negative list of %(area)s %(start)s – %(end)s") % {"area": area.name, **dates},
            user_id=request.user.pk,
            kind=area.kind,
            code=area.code,
            **dates,
        )
        return redirect("job-detail", job.id)
    buf = io.BytesIO()
    negative.write_negative_list(buf, user=request.user, area=area, period=period, now=timezone.now())
    return _attachment(buf.getvalue(), XLSX, name)


def _week_charts(weeks: list[Any]) -> dict[str, Any]:
    labels = [f"{w.start:%m-%d}" for w in weeks]
    filed, closed = [w.filed for w in weeks], [w.closed for w in weeks]
    filed_sum, closed_sum = list(accumulate(filed)), list(accumulate(closed))
    names = (str(_("Filed")), str(_("Closed")))
    common = {"labels": labels, "x_label": _("Week starting"), "empty_text": _("No cases in this period.")}
    return {
        "rows": list(zip(weeks, filed_sum, closed_sum, strict=True)),
        "bars": bar_chart(
            title=_("Filed and closed per week"),
            series=[Series(names[0], filed), Series(names[1], closed)],
            y_label=_("cases"),
            **common,
        ),  # fmt: skip
        "lines": line_chart(
            title=_("Filed and closed, running totals"),
            series=[Series(names[0], filed_sum), Series(names[1], closed_sum)],
            y_label=_("cases"),
            **common,
        ),  # fmt: skip
    }


def _satisfaction(level: str, units: list) -> dict[str, Any] | None:
    """The latest satisfaction survey's score of each ranked community (``level`` community)."""
    if level != "community" or not units:
        return None
    communities = list(Community.objects.filter(pk__in=[u.key for u in units]))
    survey, scores = latest_satisfaction(communities)
    if survey is None:
        return None
    for u in units:
        u.survey_satisfaction = scores.get(u.key)
    return {"survey": survey}


@login_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    """Charts of the user's scope: filed and closed per week, and the ranking by composite score,
    each beside a table of the same numbers. Bad dates or levels answer 400."""
    _evaluator(request)
    form = FiguresForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "dates": {k: request.GET.get(k, "")[:20] for k in ("start", "end")}}
        return render(request, "evaluation/figures.html", context, status=400)
    data = form.cleaned_data
    mondays = weeks_between(data["start"], data["end"])
    period = Period(local_midnight(mondays[0]), local_midnight(mondays[-1] + timedelta(days=7)))
    found = evaluation_of(request.user, period, timezone.now(), levels=(data["level"],))
    as_of = found.summary_as_of
    if as_of:
        weeks = city_weeks(mondays)
    else:
        kept_weeks = weeks_of(request.user, mondays)
        weeks = [] if kept_weeks.computing else kept_weeks.value
    ranked = found.tables[data["level"]]
    scored = [u for u in ranked if u.score is not None]
    shown = scored[:RANKED_IN_CHART]
    ranking = hbar_chart(
        title=_("Composite score, best first"),
        labels=[f"{u.rank}. {u.name}" for u in shown],
        values=[u.score for u in shown],
        max_value=100.0,
        empty_text=_("No unit has a score in this period."),
    )
    steps = sorted(
        progress_of(communities_for_steps(request.user)), key=lambda r: (-r.items_done, r.community.code)
    )
    context = {
        "steps": steps[:RANKED_IN_CHART],
        "steps_chart": hbar_chart(
            title=_("The ten steps: share of sub-items done"),
            labels=[r.community.name for r in steps[:RANKED_IN_CHART]],
            values=[round(100 * r.share_done, 1) for r in steps[:RANKED_IN_CHART]],
            max_value=100.0,
            empty_text=_("No community is yours to follow here."),
        ),
        "form": form,
        "dates": {"start": mondays[0].isoformat(), "end": (mondays[-1] + timedelta(days=7)).isoformat()},
        "level": data["level"],
        "level_title": LEVEL_TITLES[data["level"]],
        "weeks": _week_charts(weeks),
        "ranking": ranking,
        "ranked": shown,
        # beside the scores of communities: the residents' satisfaction of the latest survey
        "satisfaction": _satisfaction(data["level"], shown),
        "not_shown": len(scored) - len(shown),
        "unscored": len(ranked) - len(scored),
        "weights": score_weights(),
        "as_of": as_of,
        "kept": found.kept,
        "computing": bool(found.kept and found.kept.computing) or (not as_of and kept_weeks.computing),
    }
    return render(request, "evaluation/figures.html", context)
