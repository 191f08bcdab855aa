"""The problem list's filters and sort, checked as a form: a bad value is an error the page
shows (HTTP 400), never an exception from the database."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridmap.core.dates import local_midnight
from gridmap.core.language import LocalNameChoiceField
from gridmap.problems.models import OPEN_STATUSES, EventCategory, Problem, Status

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_ID_DIGITS = 18  # a longer number cannot be an id (and would overflow a bigint)
SORTS: dict[str, tuple[Any, ...]] = {
    "-reported": ("-reported_at", "-pk"),
    "reported": ("reported_at", "pk"),
    "deadline": (F("deadline").asc(nulls_last=True), "-reported_at", "pk"),
    "-deadline": (F("deadline").desc(nulls_last=True), "-reported_at", "pk"),
}
SORT_CHOICES = [
    ("-reported", _("newest reports first")),
    ("reported", _("oldest reports first")),
    ("deadline", _("nearest deadline first")),
    ("-deadline", _("latest deadline first")),
]


class ProblemFilterForm(forms.Form):
    status = forms.MultipleChoiceField(label=_("Status"), choices=Status.choices, required=False)
    category = LocalNameChoiceField(
        label=_("Category"),
        queryset=EventCategory.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("all"),
    )
    grid = forms.RegexField(
        label=_("Grid code"),
        regex=r"^\d{15}$",
        required=False,
        error_messages={"invalid": _("A grid code has 15 digits.")},
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    start = forms.DateField(label=_("Reported from"), required=False, input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=_("Reported until"), required=False, input_formats=["%Y-%m-%d"])
    q = forms.CharField(label=_("Text or number"), max_length=100, required=False, strip=True)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        for day in (start, end):
            if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise forms.ValidationError(
                    _("Dates must lie between %(a)s and %(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR}
                )
        if start and end and end < start:
            raise forms.ValidationError(_("The end date must not come before the start date."))
        return data

    def apply(self, problems: QuerySet[Problem], now: Any = None) -> QuerySet[Problem]:
        """``problems`` (already scoped) filtered and sorted as the valid form says."""
        data = self.cleaned_data
        if data.get("status"):
            problems = problems.filter(status__in=data["status"])
        if data.get("category"):
            problems = problems.filter(category=data["category"])
        if data.get("grid"):
            problems = problems.filter(grid__code=data["grid"])
        if data.get("overdue"):
            problems = problems.filter(status__in=OPEN_STATUSES, deadline__lt=now or timezone.now())
        if data.get("start"):
            problems = problems.filter(reported_at__gte=local_midnight(data["start"]))
        if data.get("end"):
            problems = problems.filter(reported_at__lt=local_midnight(_next_day(data["end"])))
        text = data.get("q")
        if text:
            match = Q(description__icontains=text)
            number = text.lstrip("#")
            if number.isascii() and number.isdigit() and len(number) <= MAX_ID_DIGITS:
                match |= Q(pk=int(number))
            problems = problems.filter(match)
        return problems.order_by(*SORTS[data.get("sort") or "-reported"])


def _next_day(day: date) -> date:
    return day + timedelta(days=1)
