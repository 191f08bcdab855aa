from django.urls import path

from gridmap.problems import views

urlpatterns = [
    path("", views.problem_list, name="problem-list"),
    path("report/", views.report, name="problem-report"),
    path("mine/", views.mine, name="problem-mine"),
    path("<int:pk>/", views.detail, name="problem-detail"),
    path("<int:pk>/transition/", views.transition, name="problem-transition"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="problem-photo"),
]
