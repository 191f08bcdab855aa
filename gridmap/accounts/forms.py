"""The login forms of the site and of the admin: a refusal by the login throttle is said as
such (how long to wait), not as a wrong password."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from gridmap.accounts.backends import refusal_message, retry_after


class ThrottleMessageMixin:
    request: object

    @property
    def retry_after(self) -> int | None:
        return retry_after(self.request)  # type: ignore[arg-type]

    def get_invalid_login_error(self) -> forms.ValidationError:
        wait = self.retry_after
        if wait is not None:
            return forms.ValidationError(refusal_message(wait), code="throttled")
        return super().get_invalid_login_error()  # type: ignore[misc]


class LoginForm(ThrottleMessageMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottleMessageMixin, AdminAuthenticationForm):
    pass
