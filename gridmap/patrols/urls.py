from django.urls import path

from gridmap.patrols import views

urlpatterns = [
    path("", views.walks, name="patrols"),
    path("not-walked/", views.not_walked, name="patrols-not-walked"),
]
