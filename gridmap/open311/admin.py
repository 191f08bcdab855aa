from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gridmap.core.admin import Admin
from gridmap.open311.models import ApiKey, ServiceAttribute, Submission


@admin.register(ApiKey)
class ApiKeyAdmin(Admin):
    """A new key is shown once, in the message after saving; only its hash is stored."""

    list_display = ["name", "prefix", "owner", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "owner", "active", "prefix", "created_at", "last_used_at"]
    actions = ["regenerate"]

    def save_model(self, request, obj, form, change):
        raw = None if change else obj.set_new_key()
        super().save_model(request, obj, form, change)
        if raw:
            self._show(request, obj, raw)

    def _show(self, request, key: ApiKey, raw: str) -> None:
        message = gettext("The API key for %(name)s is %(key)s — copy it now: it is not shown again.")
        self.message_user(request, message % {"name": key.name, "key": raw}, messages.WARNING)

    @admin.action(description=_("Replace the key (the old one stops working)"))
    def regenerate(self, request, queryset):
        for key in queryset:
            raw = key.set_new_key()
            key.save(update_fields=["key_hash", "prefix"])
            self._show(request, key, raw)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(Admin):
    list_display = ["category", "code", "datatype", "required", "order", "description"]
    list_filter = ["datatype", "required", "category__event_class"]
    search_fields = ["code", "description", "category__code", "category__name"]


@admin.register(Submission)
class SubmissionAdmin(Admin):
    list_display = ["problem", "api_key", "created_at", "address_string"]
    raw_id_fields = ["problem", "building"]
    readonly_fields = ["content_hash", "created_at"]
    exclude = ["device_id", "account_id"]
