from django.urls import path

from gridmap.problems import views
from gridmap.problems.listing import views as listing_views
from gridmap.problems.reporting import views as reporting

urlpatterns = [
    path("", listing_views.problem_list, name="problem-list"),
    path("report/", views.report, name="problem-report"),
    path("mine/", views.mine, name="problem-mine"),
    path("join/", reporting.join, name="problem-join"),
    path("positive/", reporting.positive_list, name="positive-list"),
    path("public-map/", reporting.public_map, name="public-map"),
    path("<int:pk>/reported/", reporting.reported, name="problem-reported"),
    path("<int:pk>/rate/", reporting.rate, name="problem-rate"),
    path("<int:pk>/", views.detail, name="problem-detail"),
    path("<int:pk>/transition/", views.transition, name="problem-transition"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="problem-photo"),
]
