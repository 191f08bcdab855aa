from django.urls import path

from gridmap.tensteps import views

urlpatterns = [
    path("", views.index, name="tensteps"),
    path("evidence/<int:pk>/", views.evidence_file, name="tensteps-evidence"),
    path("<str:code>/", views.community_page, name="tensteps-community"),
    path("<str:code>/items/<int:item_id>/", views.item_update, name="tensteps-item"),
    path("<str:code>/items/<int:item_id>/evidence/", views.evidence_add, name="tensteps-evidence-add"),
    path("<str:code>/steps/<int:number>/acceptance/", views.acceptance_sign, name="tensteps-acceptance"),
]
