from django.urls import path

from gridmap.evaluation import views

urlpatterns = [
    path("", views.index, name="evaluation"),
    path("figures/", views.figures, name="evaluation-figures"),
    path("ledger.xlsx", views.ledger_xlsx, name="evaluation-ledger-xlsx"),
    path("ledger.csv", views.ledger_csv, name="evaluation-ledger-csv"),
    path("negative-list.xlsx", views.negative_list_xlsx, name="evaluation-negative-list"),
]
