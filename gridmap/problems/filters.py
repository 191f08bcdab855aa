"""The problem list's filters and sort, checked as a form: a bad value is an error the page
shows (HTTP 400), never an exception from the database.

Every count on a dashboard links here with the filters that express it (``gridmap.problems.
queues`` holds the one definition of each): ``open``, ``overdue``, ``escalated``, ``late``
(overdue or escalated), ``unassigned``, ``lookback`` (look-back due), ``extension`` (a request
waiting for a decision), ``queue`` (the user's queue, in its order), ``department``,
``community``, ``filed``/``closed`` (a month, ``YYYY-MM``) and ``scope=role`` (only the cases
the user acts on through their role, without those they only see because they reported them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridmap.core.boundary import text_validator
from gridmap.core.dates import local_midnight, next_month
from gridmap.core.language import LocalNameChoiceField
from gridmap.problems import queues
from gridmap.problems.models import EventCategory, Problem, Status

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
    ("need", _("what needs action first")),
]
SCOPE_CHOICES = [("", _("everything I may see")), ("role", _("only the cases I act on"))]
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
AS_OF_MAX = 4_102_444_800  # 2100-01-01


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
    open = forms.BooleanField(label=_("Open only"), required=False)
    escalated = forms.BooleanField(label=_("Escalated only"), required=False)
    late = forms.BooleanField(label=_("Overdue or escalated"), required=False)
    unassigned = forms.BooleanField(label=_("Outside every grid and community"), required=False)
    lookback = forms.BooleanField(label=_("Look-back due"), required=False)
    extension = forms.BooleanField(label=_("Extension request awaiting a decision"), required=False)
    queue = forms.BooleanField(label=_("My queue"), required=False)
    department = forms.CharField(
        label=_("Department code"), max_length=20, required=False, validators=[text_validator]
    )
    community = forms.RegexField(
        label=_("Community code"),
        regex=r"^\d{1,12}$",
        required=False,
        error_messages={"invalid": _("A community code is made of digits.")},
    )
    filed = forms.RegexField(
        label=_("Filed in month"), regex=MONTH, required=False,
        error_messages={"invalid": _("Give a month as YYYY-MM.")},
    )  # fmt: skip
    closed = forms.RegexField(
        label=_("Closed in month"), regex=MONTH, required=False,
        error_messages={"invalid": _("Give a month as YYYY-MM.")},
    )  # fmt: skip
    scope = forms.ChoiceField(label=_("Cases"), choices=SCOPE_CHOICES, required=False)
    # ``filed``/``closed`` as of a moment (seconds since 1970): a figure read from the daily
    # summary links with the moment it was read at, so the list counts what the figure counted
    asof = forms.IntegerField(min_value=0, max_value=AS_OF_MAX, required=False, widget=forms.HiddenInput)
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
        for name in ("filed", "closed"):
            if data.get(name) and not FIRST_YEAR <= int(data[name][:4]) <= LAST_YEAR:
                self.add_error(
                    name, _("Dates must lie between %(a)s and %(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR}
                )
        return data

    @property
    def is_queue(self) -> bool:
        return bool(getattr(self, "cleaned_data", {}).get("queue"))

    def apply(
        self, problems: QuerySet[Problem], now: Any = None, *, user: Any = None, role_scope: Any = None
    ) -> QuerySet[Problem]:
        """``problems`` (already scoped) filtered and sorted as the valid form says. ``user`` and
        ``role_scope`` (``problems_in_role_scope(user)``) serve ``queue`` and ``scope=role``."""
        data = self.cleaned_data
        now = now or timezone.now()
        if data.get("scope") == "role" or data.get("queue"):
            problems = (
                problems.filter(pk__in=role_scope.values("pk")) if role_scope is not None else problems.none()
            )
        if data.get("queue"):
            problems = queues.queue_of(user, problems, now=now) if user is not None else problems.none()
        for name, wanted in (
            ("open", queues.IS_OPEN),
            ("escalated", queues.escalated_q()),
            ("late", queues.late_q(now)),
            ("unassigned", queues.UNASSIGNED),
            ("lookback", queues.lookback_due_q(timezone.localdate(now))),
            ("extension", queues.extension_pending_q()),
        ):
            if data.get(name):
                problems = problems.filter(wanted)
        if data.get("department"):
            problems = problems.filter(department__code=data["department"])
        if data.get("community"):
            problems = problems.filter(community__code=data["community"])
        as_of = None if data.get("asof") is None else datetime.fromtimestamp(data["asof"], tz=UTC)
        for name, q in (("filed", queues.filed_in_q), ("closed", queues.closed_in_q)):
            if data.get(name):
                first = date(int(data[name][:4]), int(data[name][5:7]), 1)
                end = local_midnight(next_month(first))
                problems = problems.filter(q(local_midnight(first), min(end, as_of) if as_of else end))
        if data.get("status"):
            problems = problems.filter(status__in=data["status"])
        if data.get("category"):
            problems = problems.filter(category=data["category"])
        if data.get("grid"):
            problems = problems.filter(grid__code=data["grid"])
        if data.get("overdue"):
            problems = problems.filter(queues.overdue_q(now))
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
        sort = data.get("sort") or ("need" if data.get("queue") else "-reported")
        if sort == "need":
            return queues.by_need(problems)
        return problems.order_by(*SORTS[sort])


def _next_day(day: date) -> date:
    return day + timedelta(days=1)
