"""The campaign's forms: a new round (the office), one answer (an inspector's phone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gridmap.accounts.models import Role
from gridmap.core.boundary import BoundaryError, text_validator, whole_number


class RoundForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, validators=[text_validator])
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}))
    share = forms.FloatField(
        label=_("Share sampled per type and community"), required=False, min_value=0.01, max_value=1,
        help_text=_("Leave empty to visit every point."),
    )  # fmt: skip
    seed = forms.IntegerField(label=_("Sample seed"), min_value=0, max_value=2**31 - 1, initial=1)
    inspectors = forms.ModelMultipleChoiceField(label=_("Inspectors"), queryset=get_user_model().objects.none(),
                                                widget=forms.CheckboxSelectMultiple)  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = (
            get_user_model().objects.filter(profile__role=Role.INSPECTOR).order_by("username")
        )


class AnswerForm(forms.Form):
    """One item's answer. Numbers are taken as ASCII digits only (the input boundary's rule)."""

    item = forms.CharField(max_length=12)
    client_uuid = forms.UUIDField()
    findings = forms.CharField(max_length=6, required=False)
    not_applicable = forms.BooleanField(required=False)
    note = forms.CharField(max_length=500, required=False, validators=[text_validator])

    def _number(self, name: str, hi: int) -> int:
        raw = self.cleaned_data.get(name) or "0"
        try:
            return whole_number(raw, lo=0, hi=hi)
        except BoundaryError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_item(self) -> int:
        raw = self.cleaned_data["item"]
        try:
            return whole_number(raw, lo=1, hi=2**31 - 1)
        except BoundaryError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_findings(self) -> int:
        return self._number("findings", 1000)
