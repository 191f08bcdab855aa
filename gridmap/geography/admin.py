from django.contrib import admin

from gridmap.core.admin import MapAdmin
from gridmap.geography.models import Building, Community, District, Grid, Street, Subdistrict


@admin.register(District)
class DistrictAdmin(MapAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Subdistrict)
class SubdistrictAdmin(MapAdmin):
    list_display = ["code", "name", "district"]
    search_fields = ["code", "name"]


@admin.register(Community)
class CommunityAdmin(MapAdmin):
    list_display = ["code", "name", "subdistrict"]
    search_fields = ["code", "name"]


@admin.register(Grid)
class GridAdmin(MapAdmin):
    list_display = ["code", "name", "community", "first_responsible", "area_m2"]
    list_filter = ["community"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["first_responsible", "direct_responsible"]
    list_select_related = ["community", "first_responsible"]


@admin.register(Building)
class BuildingAdmin(MapAdmin):
    list_display = ["id", "address", "use", "floors", "households", "grid"]
    list_filter = ["use", "grid__community"]
    search_fields = ["address", "source_key"]
    raw_id_fields = ["grid", "community"]
    list_select_related = ["grid"]


@admin.register(Street)
class StreetAdmin(MapAdmin):
    list_display = ["id", "name", "highway", "length_m"]
    list_filter = ["highway"]
    search_fields = ["name", "source_key"]
