from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.notifications.models import Kind, Preference

# The kinds a role can receive (recipients.py); everyone can report, so everyone gets news.
KINDS_BY_ROLE: dict[str, tuple[str, ...]] = {
    Role.GRID_LEADER: (Kind.NEW_REPORT, Kind.EXTENSION_DECIDED),
    Role.COMMUNITY_HEAD: (Kind.NEW_REPORT, Kind.ESCALATED, Kind.EXTENSION_REQUESTED),
    Role.DEPARTMENT: (Kind.DISPATCHED, Kind.REWORK, Kind.EXTENSION_DECIDED),
    Role.INSPECTOR: (Kind.TO_VERIFY, Kind.LOOKBACK_DUE),
}


def kinds_for(user: Any) -> list[tuple[str, str]]:
    role = role_of(user)
    if role == Role.ADMIN:
        return list(Kind.choices)
    wanted = {*KINDS_BY_ROLE.get(role or "", ()), Kind.REPORT_NEWS}
    return [(value, label) for value, label in Kind.choices if value in wanted]


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

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["kinds"].choices = kinds_for(user)
