"""Open311 GeoReport v2 under /open311/v2/ (see gridmap.open311.views)."""

from django.urls import path, re_path

from gridmap.open311 import media, views

FMT = r"\.(?P<fmt>[^/.]+)"

urlpatterns = [
    path("openapi.json", views.openapi, name="open311-openapi"),
    re_path(rf"^discovery{FMT}$", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}$", views.services, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/]+?){FMT}$", views.service_definition, name="open311-service"),
    re_path(rf"^requests{FMT}$", views.requests, name="open311-requests"),
    re_path(rf"^requests/(?P<request_id>[^/]+?){FMT}$", views.request_detail, name="open311-request"),
    path("requests/<int:pk>/media/<int:photo_id>", media.photo, name="open311-photo"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
