from django.contrib import admin

from gridmap.core.admin import MapAdmin
from gridmap.problems.models import EventCategory, Problem, ProblemPhoto


@admin.register(EventCategory)
class EventCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "event_class", "facility_kind", "snap_distance_m", "active"]
    list_filter = ["event_class", "active"]


class PhotoInline(admin.TabularInline):
    model = ProblemPhoto
    extra = 0
    exclude = ["geom"]


@admin.register(Problem)
class ProblemAdmin(MapAdmin):
    list_display = ["id", "category", "status", "reported_at", "grid", "community"]
    list_filter = ["status", "category", "community"]
    date_hierarchy = "reported_at"
    search_fields = ["description", "source_key"]
    raw_id_fields = ["grid", "community", "facility", "reporter"]
    list_select_related = ["category", "grid", "community"]
    inlines = [PhotoInline]
