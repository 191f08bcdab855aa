from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from gridmap.maps import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="grid-list"), name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("grids/", views.grid_list, name="grid-list"),
    path("grids/<str:code>/", views.grid_detail, name="grid-detail"),
    path("grids/<str:code>/map/", views.grid_map_html, name="grid-map"),
]
