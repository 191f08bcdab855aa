"""The inbox (newest first, unread marked, each row links to its case), marking read (one and
all, POST), and the preferences page. A notification id of someone else is a 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from gridmap.notifications.forms import PreferenceForm
from gridmap.notifications.models import Preference
from gridmap.notifications.record import channels_on
from gridmap.notifications.selectors import notifications_of
from gridmap.notifications.text import notification_text

PAGE_SIZE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    rows = notifications_of(request.user).select_related("problem__category")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(n, notification_text(n)) for n in page.object_list]
    return render(request, "notifications/inbox.html", {"page": page, "items": items})


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the form was on: a path of this site only (anything else: the inbox)."""
    target = request.POST.get("next", "")
    if (
        0 < len(target) <= 2000
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and target.isprintable()
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return HttpResponseRedirect(target)
    return redirect("inbox")


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(notifications_of(request.user), pk=pk)
    if note.read_at is None:
        notifications_of(request.user).filter(pk=note.pk, read_at__isnull=True).update(read_at=timezone.now())
    return _back(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notifications_of(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    return _back(request)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    pref = Preference.objects.filter(user=request.user).first() or Preference(user=request.user)
    form = PreferenceForm(request.POST or None, instance=pref, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("notification-preferences")
    return render(request, "notifications/preferences.html",
                  {"form": form, "channels": channels_on(), "has_email": bool(request.user.email)})  # fmt: skip
