"""The period of an evaluation page or export: ``start`` and ``end`` dates, ``[start, end)``."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridmap.core.dates import local_midnight, month_start, next_month
from gridmap.evaluation.metrics import Period

MAX_SPAN_DAYS = 3 * 366
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodForm(forms.Form):
    """Missing ``start``: the first of this month; missing ``end``: the first of the next month
    after ``start``. Bad dates, an empty or reversed range, or one longer than three years are
    errors (the views answer 400)."""

    start = forms.DateField(label=_("From"), required=False, input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=_("To (exclusive)"), required=False, input_formats=["%Y-%m-%d"])

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        start = data.get("start") or month_start(timezone.localdate())
        end = data.get("end") or next_month(start)
        for day in (start, end):
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise forms.ValidationError(
                    _("Dates must lie between %(a)s and %(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR}
                )
        if end <= start:
            raise forms.ValidationError(_("The end date must come after the start date."))
        if (end - start).days > MAX_SPAN_DAYS:
            raise forms.ValidationError(_("A period may span three years at most."))
        data["start"], data["end"] = start, end
        return data

    def period(self) -> Period:
        return Period(local_midnight(self.cleaned_data["start"]), local_midnight(self.cleaned_data["end"]))


class AreaForm(PeriodForm):
    """The negative list's area: exactly one of ``grid`` or ``community`` (by code)."""

    grid = forms.RegexField(regex=r"^\d{15}$", required=False)
    community = forms.RegexField(regex=r"^\d{12}$", required=False)

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and bool(data.get("grid")) == bool(data.get("community")):
            raise forms.ValidationError(_("Give either a grid code or a community code."))
        return data


FIGURE_LEVELS = (
    ("grid", _("grids")),
    ("community", _("communities")),
    ("department", _("departments")),
)
DEFAULT_WEEKS = 12
MAX_WEEKS = 106


class FiguresForm(forms.Form):
    """The figures page: whole weeks (Monday to Monday) from ``start`` to ``end`` — by default the
    last twelve, this one included — at most two years, and the level the ranking compares."""

    start = forms.DateField(label=_("From"), required=False, input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=_("To (exclusive)"), required=False, input_formats=["%Y-%m-%d"])
    level = forms.ChoiceField(label=_("Rank"), choices=FIGURE_LEVELS, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        today = timezone.localdate()
        end = data.get("end") or (today - timedelta(days=today.weekday()) + timedelta(days=7))
        start = data.get("start") or end - timedelta(weeks=DEFAULT_WEEKS)
        for day in (start, end):
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise forms.ValidationError(
                    _("Dates must lie between %(a)s and %(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR}
                )
        if end <= start:
            raise forms.ValidationError(_("The end date must come after the start date."))
        if (end - start).days > MAX_WEEKS * 7:
            raise forms.ValidationError(_("Charts cover two years at most."))
        data["start"], data["end"], data["level"] = start, end, data.get("level") or "grid"
        return data
