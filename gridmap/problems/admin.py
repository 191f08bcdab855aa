from django.contrib import admin

from gridmap.core.admin import Admin, Inline, MapAdmin
from gridmap.problems.models import (
    EventCategory,
    ExtensionRequest,
    PositiveSite,
    PositiveSiteEvent,
    Problem,
    ProblemEvent,
    ProblemPhoto,
    ProblemRating,
)


@admin.register(EventCategory)
class EventCategoryAdmin(Admin):
    list_display = ["code", "name", "name_en", "event_class", "facility_kind", "deadline_hours", "lookback_days",
                    "active"]  # fmt: skip
    list_filter = ["event_class", "active"]


class PhotoInline(Inline, admin.TabularInline):
    model = ProblemPhoto
    extra = 0
    exclude = ["geom"]
    raw_id_fields = ["uploaded_by", "event"]


class RatingInline(Inline, admin.TabularInline):
    """The reporters' satisfaction ratings: read here, given only by the reporters themselves."""

    model = ProblemRating
    extra = 0
    can_delete = False
    fields = ["at", "reporter", "stars", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(Inline, admin.TabularInline):
    """The audit trail: read-only here; steps are taken through the loop, never edited."""

    model = ProblemEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "actor", "note", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Problem)
class ProblemAdmin(MapAdmin):
    list_display = ["id", "category", "status", "reported_at", "deadline", "grid", "community", "department"]
    list_filter = ["status", "category", "community", "department"]
    date_hierarchy = "reported_at"
    search_fields = ["description", "source_key"]
    raw_id_fields = ["grid", "community", "facility", "reporter", "inspector", "handled_by", "duplicate_of",
                     "recurrence_of"]  # fmt: skip
    # The loop's state changes only through its steps (409 on a race), not by editing fields here.
    readonly_fields = ["status", "version", "filed_at", "dispatched_at", "deadline", "handled_at", "closed_at",
                       "closed_on_time", "escalated_at", "lookback_due", "lookback_done_at", "rework_count",
                       "extension_count", "reopen_count", "recurrence_count"]  # fmt: skip
    filter_horizontal = ["co_reporters"]
    list_select_related = ["category", "grid", "community", "department"]
    inlines = [PhotoInline, EventInline, RatingInline]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(Admin):
    list_display = ["problem", "requested_by", "requested_at", "hours", "decision", "decided_by"]
    list_filter = ["decision"]
    raw_id_fields = ["problem", "requested_by", "decided_by"]
    readonly_fields = ["decision", "decided_by", "decided_at"]


class SiteEventInline(Inline, admin.TabularInline):
    """A site's trail: read-only, written by the services."""

    model = PositiveSiteEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PositiveSite)
class PositiveSiteAdmin(MapAdmin):
    inlines = [SiteEventInline]
    list_display = ["name", "grid", "community", "created_by", "created_at"]
    raw_id_fields = ["grid", "community", "created_by"]
