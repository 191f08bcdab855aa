from django.urls import path

from gridmap.campaign import views

urlpatterns = [
    path("", views.index, name="campaign"),
    path("rounds/<int:pk>/", views.round_page, name="campaign-round"),
    path("rounds/<int:pk>/report.xlsx", views.round_report, name="campaign-report"),
    path("rounds/<int:pk>/walk/", views.walk, name="campaign-walk"),
    path("rounds/<int:pk>/walk.gpx", views.walk_gpx, name="campaign-walk-gpx"),
    path("visits/<int:visit_id>/answer/", views.answer, name="campaign-answer"),
    path("readiness/", views.readiness_page, name="campaign-readiness"),
    path("points.geojson", views.points_geojson, name="campaign-points"),
]
