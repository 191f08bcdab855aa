from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _


class WalkForm(forms.Form):
    client_id = forms.UUIDField(widget=forms.HiddenInput)
    task = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    started_at = forms.DateTimeField(label=_("Started at"))
    ended_at = forms.DateTimeField(label=_("Ended at"))
    notes = forms.CharField(label=_("What was found"), max_length=1000, required=False, widget=forms.Textarea)
    track = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2_000_000)

    def clean_track(self) -> list | None:
        raw = self.cleaned_data.get("track") or ""
        if not raw.strip():
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("The track is not readable.")) from None
        if not isinstance(value, list):
            raise forms.ValidationError(_("The track is not readable."))
        return value


class LastWalkForm(forms.Form):
    days = forms.IntegerField(
        label=_("Not walked in the last N days"), min_value=1, max_value=365, required=False
    )
