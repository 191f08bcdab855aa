"""The password backend with the login throttle (gridmap.core.throttle) in front of it.

Every password check that carries a request goes through here — the login page, the admin's
login and the API's token endpoint all call ``authenticate(request, ...)`` — so the rule is kept in
one place. A refused attempt never reaches the password hasher; the request then carries
``login_retry_after`` (seconds) so the caller can say how long to wait.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import ngettext

from gridmap.core import throttle
from gridmap.core.client import client_address

RETRY_ATTRIBUTE = "login_retry_after"


class LoginThrottled(PermissionDenied):
    """Too many failed logins for this account or address; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(refusal_message(retry_after))
        self.retry_after = retry_after


def refusal_message(retry_after: int) -> str:
    minutes = max(1, -(-retry_after // 60))
    return ngettext(
        "Too many failed logins. Try again in %(minutes)d minute.",
        "Too many failed logins. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def retry_after(request: HttpRequest | None) -> int | None:
    """Seconds to wait when this request's login was refused by the throttle, else None."""
    return getattr(request, RETRY_ATTRIBUTE, None) if request is not None else None


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is None or username is None or password is None:
            # no request (a shell, the test client's login): no address to count against
            return super().authenticate(request, username=username, password=password, **kwargs)
        address = client_address(request)
        name = str(username)
        wait = throttle.refusal(address, name)
        if wait is not None:
            setattr(request, RETRY_ATTRIBUTE, wait)
            raise LoginThrottled(wait)  # authenticate() stops here: no other backend is tried
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.failed(address, name)
        else:
            throttle.succeeded(address, name)
        return user
