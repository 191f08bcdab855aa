from django.urls import path

from gridmap.dashboard import jobs, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("jobs/", jobs.job_list, name="job-list"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job-detail"),
    path("jobs/<uuid:job_id>/file", jobs.job_file, name="job-file"),
]
