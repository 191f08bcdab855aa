"""The reference for the fast GeoJSON path: djangorestframework-gis's GeoFeatureModelSerializer
over the same rows, with the same feature content, written the way a DRF user would write it.

The test ``test_geojson_reference`` holds our features equal to its output; the benchmark
``bench/geojson_listing.py`` times its list view as the anchor. djangorestframework-gis is a
dev/bench dependency only (requirements-dev.txt).
"""

from __future__ import annotations

from typing import Any

from rest_framework import generics, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.filters import InBBoxFilter
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gridmap.api.auth import AUTHENTICATION
from gridmap.problems.lifecycle import allowed_actions
from gridmap.problems.models import Problem
from gridmap.problems.selectors import problems_visible_to


class ProblemReferenceSerializer(GeoFeatureModelSerializer):
    geom = GeometryField()
    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.local_name")  # in the request's language
    grid = serializers.CharField(source="grid.code", allow_null=True)
    community = serializers.CharField(source="community.code", allow_null=True)
    department = serializers.CharField(source="department.code", allow_null=True)
    overdue = serializers.BooleanField()
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        geo_field = "geom"
        fields = ["id", "uuid", "category", "category_name", "status", "description", "reported_at",
                  "deadline", "closed_at", "overdue", "grid", "community", "department", "facility",
                  "rework_count", "extension_count", "reopen_count", "actions"]  # fmt: skip

    def get_actions(self, problem: Problem) -> list[str]:
        return allowed_actions(problem, self.context["request"].user)


class ReferencePagination(GeoJsonPagination):
    page_size = 100
    max_page_size = 1000


class ProblemReferenceList(generics.ListAPIView):
    authentication_classes = AUTHENTICATION
    renderer_classes = (JSONRenderer,)
    serializer_class = ProblemReferenceSerializer
    pagination_class = ReferencePagination
    filter_backends = (InBBoxFilter,)
    bbox_filter_field = "geom"
    bbox_filter_include_overlapping = True

    def get_queryset(self) -> Any:
        return (
            problems_visible_to(self.request.user)
            .select_related("category", "grid", "community", "department")
            .order_by("-reported_at", "-id")
        )
