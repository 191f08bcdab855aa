from django.contrib import admin

from gridmap.core.admin import Admin
from gridmap.notifications.models import Delivery, Notification, Preference


@admin.register(Notification)
class NotificationAdmin(Admin):
    list_display = ["id", "recipient", "kind", "action", "problem", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient", "problem", "event"]


@admin.register(Delivery)
class DeliveryAdmin(Admin):
    list_display = ["id", "notification", "channel", "state", "attempts", "last_error", "next_attempt_at"]
    list_filter = ["channel", "state"]
    raw_id_fields = ["notification"]


@admin.register(Preference)
class PreferenceAdmin(Admin):
    list_display = ["user", "email", "webhook"]
    raw_id_fields = ["user"]
