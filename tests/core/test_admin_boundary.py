"""The input boundary in the admin: every admin's text fields take the text rule and its time
fields the time window, and a list page's search or filter value holding a control character is
a 400 (a NUL in a search was a 500 on PostgreSQL, which refuses it inside the query)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core.boundary import text_validator, time_validator
from tests.hostile import hostile_text

pytestmark = pytest.mark.django_db

# rest_framework.authtoken's own admin (keys are made by the service, never typed in)
NOT_OURS = {"authtoken.token", "authtoken.tokenproxy"}


def _admins(request):
    for model_admin in admin.site._registry.values():
        if model_admin.model._meta.label_lower in NOT_OURS:
            continue
        yield model_admin, model_admin.get_form(request)
        for inline in model_admin.get_inline_instances(request):
            yield inline, inline.get_formset(request).form


def test_every_admin_text_and_time_field_takes_the_boundary():
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.create_superuser("root3", "r3@example.invalid", "pw")
    seen = 0
    for one, form in _admins(request):
        for field in one.model._meta.get_fields():
            formfield = form.base_fields.get(field.name)
            if formfield is None or getattr(formfield, "choices", None):
                continue
            if isinstance(field, models.CharField | models.TextField):
                assert text_validator in formfield.validators, f"{one.model._meta.label}.{field.name}"
                seen += 1
            elif isinstance(field, models.DateTimeField):
                assert time_validator in formfield.validators, f"{one.model._meta.label}.{field.name}"
                seen += 1
    assert seen > 20


def _searchable_lists():
    return sorted(
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m, model_admin in admin.site._registry.items()
        if model_admin.search_fields and m._meta.label_lower not in NOT_OURS
    )


def test_a_nul_in_an_admin_search_is_a_400_with_the_reason(admin_client):
    lists = _searchable_lists()
    assert len(lists) >= 4
    for url in lists:
        response = admin_client.get(url, {"q": "a\x00b"})
        assert response.status_code == 400, url
        assert "U+0000" in response.content.decode(), url
        assert admin_client.get(url, {"q": "网格"}).status_code == 200, url


@given(term=hostile_text, name=st.sampled_from(["q", "status__exact", "o", "p"]))
def test_admin_list_query_values_property(admin_client, term, name):
    """Any generated text as a search or filter value of a list: a page or a 400, never a 5xx."""
    raw = quote(term.encode("utf-8", "surrogatepass"))  # as a client would send its bytes
    response = admin_client.get(f"{reverse('admin:problems_problem_changelist')}?{name}={raw}")
    assert response.status_code in (200, 302, 400), (name, term)
