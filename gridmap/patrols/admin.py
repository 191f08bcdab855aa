from django.contrib import admin

from gridmap.core.admin import Admin
from gridmap.patrols.models import PatrolPlan, PatrolRecord, PatrolTask


@admin.register(PatrolPlan)
class PatrolPlanAdmin(Admin):
    list_display = ["name", "frequency", "walker", "starts_on", "active"]
    list_filter = ["frequency", "active"]
    raw_id_fields = ["walker"]
    filter_horizontal = ["grids"]


@admin.register(PatrolTask)
class PatrolTaskAdmin(Admin):
    list_display = ["plan", "due_on", "until", "walker", "status"]
    list_filter = ["status"]
    raw_id_fields = ["plan", "walker"]


@admin.register(PatrolRecord)
class PatrolRecordAdmin(Admin):
    list_display = ["walker", "started_at", "ended_at", "task"]
    raw_id_fields = ["walker", "task"]
    exclude = ["track"]  # recorded by the phone, not typed
    filter_horizontal = ["grids"]
