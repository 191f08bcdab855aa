"""The import page (/imports/): an administrator uploads a layer and a background job imports
it (``imports.import_layer_file``), its progress and report on the job's page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.core import jobs
from gridmap.imports.forms import ImportForm


def _may_import(user) -> bool:
    return user.is_superuser or role_of(user) == Role.ADMIN


def _store_upload(upload) -> Path:
    """The upload under a folder of its own; the name kept only as letters, digits, . _ -
    (the suffix tells the reader the format; a shapefile's parts stay together in its zip)."""
    folder = Path(settings.MEDIA_ROOT) / "imports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", upload.name).lstrip(".") or "upload"
    path = folder / name[-100:]
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    if not _may_import(request.user):
        raise PermissionDenied(_("Only administrators import layers."))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        path = _store_upload(data["file"])
        options = {k: data[k] for k in ("kind", "srid", "encoding", "layer") if data[k] not in (None, "")}
        label = _("Import %(file)s into %(target)s") % {
            "file": data["file"].name[:80],
            "target": data["target"],
        }
        if not data["commit"]:
            label += " " + _("(dry run)")
        job = jobs.submit("imports.import_layer_file", user=request.user, label=label, target=data["target"],
                          path=str(path), remove=True, commit=data["commit"], strict=data["strict"],
                          source=Path(data["file"].name).stem[:60], **options)  # fmt: skip
        return redirect("job-detail", job_id=job.id)
    return render(request, "imports/import.html", {"form": form}, status=400 if form.errors else 200)
