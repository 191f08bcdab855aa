from django.urls import path

from gridmap.surveys import views

urlpatterns = [
    path("", views.survey_list, name="surveys"),
    path("<int:pk>/", views.results, name="survey-results"),
    path("<int:pk>/answer/", views.answer, name="survey-answer"),
    path("<int:pk>/import/", views.import_file, name="survey-import"),
]
