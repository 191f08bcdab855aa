from django.contrib import admin

from gridmap.core.admin import Admin, MapAdmin
from gridmap.facilities.models import Facility, FacilityKind


@admin.register(FacilityKind)
class FacilityKindAdmin(Admin):
    list_display = ["class_code", "code", "name", "name_en", "geom_type", "service_radius_m", "max_spacing_m"]
    list_filter = ["component_class", "geom_type"]


@admin.register(Facility)
class FacilityAdmin(MapAdmin):
    list_display = ["id", "kind", "name", "condition", "last_inspected", "grid"]
    list_filter = ["kind", "condition"]
    search_fields = ["name", "source_key"]
    raw_id_fields = ["grid"]
    list_select_related = ["kind", "grid"]
