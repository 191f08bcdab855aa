from django.urls import path

from gridmap.dashboard import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
