from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gridmap.tensteps.models import Acceptance, ItemStatus


class ItemForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ItemStatus.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Photo or PDF"))
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)


class AcceptanceForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Acceptance.Decision.choices)
    remarks = forms.CharField(label=_("Remarks"), max_length=500, required=False)
