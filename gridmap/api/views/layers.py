"""GeoJSON layers: grids, buildings and facilities (lists and details); problems are in
``views.problems`` (their list also takes new reports)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from gridmap.api import listing
from gridmap.api.renderers import geojson_response
from gridmap.api.schema import AREA_PARAMS, FACILITY_PARAMS, PAGE_PARAMS, layer_detail, layer_list
from gridmap.api.views.base import ApiView


class LayerListView(ApiView):
    listing: listing.Listing

    def get(self, request: Request) -> HttpResponse:
        return geojson_response(self.listing.collection(request))


class LayerDetailView(ApiView):
    listing: listing.Listing

    def get(self, request: Request, pk: int) -> HttpResponse:
        return geojson_response(self.listing.one(request, pk))


@extend_schema(tags=["layers"])
class GridList(LayerListView):
    """Unit grids (单元网格) the user may see, as a GeoJSON FeatureCollection."""

    listing = listing.GRIDS

    @extend_schema(
        operation_id="grids_list",
        parameters=[*AREA_PARAMS, *PAGE_PARAMS],
        responses=layer_list("Grid"),
    )
    def get(self, request: Request) -> HttpResponse:
        return super().get(request)


@extend_schema(tags=["layers"], responses=layer_detail("Grid"))
class GridDetail(LayerDetailView):
    listing = listing.GRIDS


@extend_schema(tags=["layers"])
class BuildingList(LayerListView):
    """Buildings in the grids the user may see."""

    listing = listing.BUILDINGS

    @extend_schema(
        operation_id="buildings_list",
        parameters=[*AREA_PARAMS, *PAGE_PARAMS],
        responses=layer_list("Building"),
    )
    def get(self, request: Request) -> HttpResponse:
        return super().get(request)


@extend_schema(tags=["layers"], responses=layer_detail("Building"))
class BuildingDetail(LayerDetailView):
    listing = listing.BUILDINGS


@extend_schema(tags=["layers"])
class FacilityList(LayerListView):
    """Facilities (部件) the user may see."""

    listing = listing.FACILITIES

    @extend_schema(
        operation_id="facilities_list",
        parameters=[*FACILITY_PARAMS, *PAGE_PARAMS],
        responses=layer_list("Facility"),
    )
    def get(self, request: Request) -> HttpResponse:
        return super().get(request)


@extend_schema(tags=["layers"], responses=layer_detail("Facility"))
class FacilityDetail(LayerDetailView):
    listing = listing.FACILITIES
