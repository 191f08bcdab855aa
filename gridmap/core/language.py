"""Catalogue names in the active language: Chinese by default; a catalogue entry's English name
(``name_en``, when it has one) while English is active."""

from typing import Any

from django import forms
from django.utils import translation


def english() -> bool:
    return (translation.get_language() or "").startswith("en")


def local_name(name: str, name_en: str) -> str:
    return (name_en or name) if english() else name


class LocalNameChoiceField(forms.ModelChoiceField):
    """A choice of catalogue entries labelled "code name", the name in the active language."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.local_name}"
