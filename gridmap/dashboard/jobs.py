"""Background jobs as their users see them: a list of mine, one job's progress (a page that
follows itself, and its JSON), and the file it produced. A user sees only the jobs they started;
an administrator sees every job."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.core.models import Job


def jobs_visible_to(user: Any) -> QuerySet[Job]:
    if user.is_superuser or role_of(user) == Role.ADMIN:
        return Job.objects.all()
    return Job.objects.filter(user=user)


def _job(request: HttpRequest, job_id: Any) -> Job:
    job = jobs_visible_to(request.user).filter(id=job_id).first()
    if job is None:
        raise Http404("no such job")
    return job


def job_state(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "task": job.task,
        "label": job.label,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "result": job.result,
        "file": bool(job.file),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@require_GET
@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "dashboard/jobs.html", {"jobs": jobs_visible_to(request.user).select_related("user")[:100]}
    )


@require_GET
@login_required
def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _job(request, job_id)
    if request.GET.get("format") == "json":
        response = JsonResponse(job_state(job))
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "dashboard/job.html", {"job": job})


@require_GET
@login_required
def job_file(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _job(request, job_id)
    if job.state != Job.State.DONE or not job.file:
        raise Http404("this job has no file")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("the file is gone") from None
    return FileResponse(handle, as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])
