"""The project's URLs plus the anchors the benchmarks compare against (bench settings only)."""

import json

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from tests.api.drf_gis_reference import ProblemReferenceList


@csrf_exempt
def bare_json(request: HttpRequest) -> JsonResponse:
    """The intake anchor: a bare Django view that reads a JSON body and answers JSON."""
    body = json.loads(request.body or b"{}")
    return JsonResponse({"ok": True, "client_uuid": body.get("client_uuid")}, status=201)


urlpatterns = [
    path("bench/bare/", bare_json),
    path("bench/drf-gis/problems/", ProblemReferenceList.as_view()),
    path("", include("gridmap.urls")),
]
