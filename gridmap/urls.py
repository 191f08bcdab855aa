from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from gridmap.core.health import health

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("gridmap.api.urls")),
    path("open311/v2/", include("gridmap.open311.urls")),
    path("evaluation/", include("gridmap.evaluation.urls")),
    path("problems/", include("gridmap.problems.urls")),
    path("dashboard/", include("gridmap.dashboard.urls")),
    path("", include("gridmap.maps.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
