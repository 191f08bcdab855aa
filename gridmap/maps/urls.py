from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from gridmap.accounts.views import LoginView
from gridmap.maps import planner, route, tile_views, vector_tiles, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard"), name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("grids/", views.grid_list, name="grid-list"),
    path("grids/<str:code>/", views.grid_detail, name="grid-detail"),
    path("grids/<str:code>/map/", views.grid_map_html, name="grid-map"),
    path("communities/<str:code>/", views.community_detail, name="community-detail"),
    path("communities/<str:code>/map/", views.community_map_html, name="community-map"),
    path("planner/", planner.planner_page, name="planner"),
    path("planner/map/", planner.planner_map_html, name="planner-map"),
    path("route/", route.route_page, name="route"),
    path("route.gpx", route.route_gpx_file, name="route-gpx"),
    path("route/visits/", route.route_visit, name="route-visit"),
    path("tiles/vt/<str:layer>/<int:z>/<int:x>/<int:y>.pbf", vector_tiles.vector_tile, name="vector-tile"),
    path("tiles/<int:z>/<int:x>/<int:y>.<str:ext>", tile_views.tile, name="tiles"),
]
