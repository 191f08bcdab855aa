from django.urls import path

from gridmap.imports import views

urlpatterns = [path("", views.import_page, name="import-layer")]
