"""API v1 (mounted at /api/v1/). Every path ends with a slash; anything else is a JSON 404."""

from django.urls import path, re_path

from gridmap.api.auth import AUTHENTICATION
from gridmap.api.errors import not_found
from gridmap.api.views import analysis, citizen, index, layers, lists, loop, media, problems
from gridmap.api.views.auth import TokenView

app_name = "api"

urlpatterns = [
    path("", index.index, name="index"),
    path("auth/token/", TokenView.as_view(), name="token"),
    path("grids/", layers.GridList.as_view(), name="grids"),
    path("grids/<int:pk>/", layers.GridDetail.as_view(), name="grid"),
    path("buildings/", layers.BuildingList.as_view(), name="buildings"),
    path("buildings/<int:pk>/", layers.BuildingDetail.as_view(), name="building"),
    path("facilities/", layers.FacilityList.as_view(), name="facilities"),
    path("facilities/<int:pk>/", layers.FacilityDetail.as_view(), name="facility"),
    path("problems/", problems.ProblemList.as_view(), name="problems"),
    path("problems/nearby/", citizen.NearbyReports.as_view(), name="problems-nearby"),
    path("problems/<int:pk>/", problems.ProblemDetail.as_view(), name="problem"),
    path("problems/<int:pk>/photos/", problems.ProblemPhotos.as_view(), name="problem-photos"),
    path("problems/<int:pk>/photos/<int:photo_id>/", media.ProblemPhotoFile.as_view(), name="problem-photo"),
    path("problems/<int:pk>/transitions/", loop.ProblemTransitions.as_view(), name="problem-transitions"),
    path("problems/<int:pk>/events/", loop.ProblemEvents.as_view(), name="problem-events"),
    path("problems/<int:pk>/duplicates/", loop.ProblemDuplicates.as_view(), name="problem-duplicates"),
    path("negative-list/", lists.NegativeList.as_view(), name="negative-list"),
    path("positive-sites/", lists.PositiveSites.as_view(), name="positive-sites"),
    path("positive-sites/<int:pk>/photo/", media.PositiveSitePhoto.as_view(), name="positive-site-photo"),
    path("analysis/coverage/", analysis.Coverage.as_view(), name="analysis-coverage"),
    path("analysis/gaps/", analysis.Gaps.as_view(), name="analysis-gaps"),
    path("analysis/suggestions/", analysis.Suggestions.as_view(), name="analysis-suggestions"),
    path("analysis/hotspots/", analysis.Hotspots.as_view(), name="analysis-hotspots"),
    path("analysis/route/", analysis.Route.as_view(), name="analysis-route"),
    # The schema and its docs page are public; Swagger UI comes from the sidecar (no CDN). ReDoc is not
    # served: drf-spectacular's ReDoc page loads Google Fonts.
    path("schema/", index.SchemaView.as_view(authentication_classes=AUTHENTICATION), name="schema"),
    path(
        "docs/",
        index.DocsView.as_view(url_name="api:schema", authentication_classes=AUTHENTICATION),
        name="docs",
    ),
    re_path(r"^.*$", not_found),
]
