"""OGC API – Features (mounted at /ogc/). Paths have no trailing slash, as the standard writes
them; anything else under /ogc/ is a JSON 404."""

from django.urls import path, re_path

from gridmap.api.ogc import views

app_name = "ogc"

urlpatterns = [
    path("", views.Landing.as_view(), name="landing"),
    path("api", views.OpenApi.as_view(), name="openapi"),
    path("conformance", views.Conformance.as_view(), name="conformance"),
    path("collections", views.Collections.as_view(), name="collections"),
    path("collections/<str:cid>", views.CollectionView.as_view(), name="collection"),
    path("collections/<str:cid>/items", views.Items.as_view(), name="items"),
    path("collections/<str:cid>/items/<str:fid>", views.Item.as_view(), name="item"),
    path("collections/<str:cid>/queryables", views.Queryables.as_view(), name="queryables"),
    path("collections/<str:cid>/schema", views.Schema.as_view(), name="schema"),
    re_path(r"^.*$", views.not_found),
]
