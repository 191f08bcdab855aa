from django.contrib import admin

from gridmap.core.admin import Admin, Inline
from gridmap.tensteps.models import Acceptance, ItemProgress, Signer, Step, StepItem


class StepItemInline(Inline, admin.TabularInline):
    model = StepItem
    extra = 0


@admin.register(Step)
class StepAdmin(Admin):
    list_display = ["number", "name", "name_en"]
    inlines = [StepItemInline]


@admin.register(Signer)
class SignerAdmin(Admin):
    list_display = ["user", "subdistrict"]
    raw_id_fields = ["user"]


@admin.register(ItemProgress)
class ItemProgressAdmin(Admin):
    list_display = ["community", "item", "status", "updated_at", "updated_by"]
    list_filter = ["status", "item__step"]
    raw_id_fields = ["community", "updated_by"]


@admin.register(Acceptance)
class AcceptanceAdmin(Admin):
    list_display = ["community", "step", "decision", "signed_by", "signed_at"]
    list_filter = ["decision", "step"]
    raw_id_fields = ["community", "signed_by"]
