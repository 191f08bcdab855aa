"""The sign-up page of reporters (``signup.reporter_signup``), shown only when the administrator
allows it (a 404 otherwise); CSRF-protected like every form, counted per client address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gridmap.accounts.forms import LoginForm
from gridmap.accounts.signup import reporter_signup, signup_allowed_now
from gridmap.core.client import client_address
from gridmap.core.models import PublicAccess

BACKEND = "gridmap.accounts.backends.ThrottledModelBackend"
MAX_PASSWORD = 256


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not PublicAccess.current().self_signup:
        raise Http404
    if request.user.is_authenticated:
        return redirect("problem-report")
    if request.method == "GET":
        return render(request, "registration/signup.html", {})
    post = request.POST
    values = {"contact": post.get("contact", "")[:150], "display_name": post.get("display_name", "")[:100]}
    if not signup_allowed_now(client_address(request)):
        error = _("Too many sign-ups from your address; try again in an hour.")
        return render(request, "registration/signup.html", {"error": error, **values}, status=429)
    password = post.get("password1", "")
    if len(password) > MAX_PASSWORD:
        error = _("The password is too long.")
        return render(request, "registration/signup.html", {"error": error, **values}, status=400)
    if password != post.get("password2", ""):
        error = _("The two passwords differ.")
        return render(request, "registration/signup.html", {"error": error, **values}, status=400)
    try:
        user = reporter_signup(contact=post.get("contact", ""), password=password,
                               display_name=post.get("display_name", ""))  # fmt: skip
    except ValidationError as exc:
        return render(
            request, "registration/signup.html", {"error": " ".join(exc.messages), **values}, status=400
        )
    login(request, user, backend=BACKEND)
    return redirect("problem-report")


class LoginView(auth_views.LoginView):
    """The site's login page, with the links to sign up and to the public map when the
    administrator opened them."""

    authentication_form = LoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        access = PublicAccess.current()
        return {**super().get_context_data(**kwargs), "signup_open": access.self_signup,
                "public_map_open": access.public_map}  # fmt: skip
