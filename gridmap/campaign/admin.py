from django.contrib import admin

from gridmap.campaign.models import ChecklistItem, InspectionPoint, PointType, Round
from gridmap.campaign.points import point_place
from gridmap.core.admin import Admin, Inline, MapAdmin


class ItemInline(Inline, admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = [
        "order",
        "code",
        "text",
        "text_en",
        "weight",
        "rule",
        "deduction",
        "fail_at",
        "category",
        "active",
    ]


@admin.register(PointType)
class PointTypeAdmin(Admin):
    list_display = ["order", "code", "name", "name_en"]
    inlines = [ItemInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(Admin):
    list_display = [
        "point_type",
        "code",
        "text",
        "weight",
        "rule",
        "deduction",
        "fail_at",
        "category",
        "active",
    ]
    list_filter = ["point_type", "rule", "active"]
    search_fields = ["code", "text", "text_en"]
    list_select_related = ["point_type", "category"]


@admin.register(InspectionPoint)
class InspectionPointAdmin(MapAdmin):
    list_display = ["id", "name", "type", "grid", "community", "department", "active"]
    list_filter = ["type", "department", "active"]
    search_fields = ["name", "address", "source_key"]
    raw_id_fields = ["grid", "community"]
    readonly_fields = ["grid", "community"]
    list_select_related = ["type", "grid", "community", "department"]

    def save_model(self, request, obj, form, change):
        point_place(obj)  # grid and community follow where it lies
        super().save_model(request, obj, form, change)


@admin.register(Round)
class RoundAdmin(Admin):
    list_display = ["name", "held_on", "sample_share", "seed", "closed"]
    fields = ["name", "held_on", "closed"]
