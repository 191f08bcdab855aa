from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gridmap.notifications.models import Kind, Preference


class PreferenceForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label=_("Kinds sent by email or the messaging gateway"),
        help_text=_("None ticked: every kind. The inbox always gets every notification."),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Preference
        fields = ["email", "webhook", "kinds"]
