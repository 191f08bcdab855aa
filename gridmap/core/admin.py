"""Base classes for every admin of the project: the one input boundary applies to the admin too.

Text fields take the text rule and time fields the time window (``BoundaryAdminMixin``);
geometry fields are checked as raw numbers before any GEOS object is built (``MapAdmin``);
a search term or filter value holding a control character (a NUL is refused by PostgreSQL in
the query itself) is refused with a 400 instead of reaching the database.
"""

from typing import Any

from django.contrib.gis import admin
from django.utils.translation import gettext as _

from gridmap.core.boundary import BoundaryAdminMixin, BoundaryError, RefusedRequest, check_text
from gridmap.core.geofields import CheckedGeometryAdminMixin
from gridmap.core.models import PublicAccess
from gridmap.core.widgets import OfflineMapWidget


class CheckedInputMixin(BoundaryAdminMixin):
    """For a ModelAdmin or an inline: the text and time rules on its fields, and on its list
    page's query values."""

    def changelist_view(self, request: Any, extra_context: Any = None) -> Any:
        for name, values in request.GET.lists():
            for value in (name, *values):
                try:
                    check_text(value)
                except BoundaryError as exc:
                    raise RefusedRequest(
                        _("Search and filter values: %(reason)s") % {"reason": exc.message}
                    ) from None
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


class Admin(CheckedInputMixin, admin.ModelAdmin):
    """Base admin for models without a geometry."""


class Inline(CheckedInputMixin):
    """Mixed into an inline (``class X(Inline, admin.TabularInline)``)."""


class MapAdmin(CheckedInputMixin, CheckedGeometryAdminMixin, admin.GISModelAdmin):
    """Base admin for models with a geometry: the offline map widget, and geometry text checked
    as raw numbers before any GEOS object is built (:mod:`gridmap.core.geofields`)."""

    gis_widget = OfflineMapWidget


class MapInline(CheckedInputMixin, CheckedGeometryAdminMixin):
    """Mixed into an inline whose model has a geometry field (``class X(MapInline, TabularInline)``)."""

    gis_widget = OfflineMapWidget


@admin.register(PublicAccess)
class PublicAccessAdmin(Admin):
    """A single row: it can be added once and edited, not multiplied."""

    list_display = ["__str__", "self_signup", "public_map", "updated_at"]

    def has_add_permission(self, request: Any) -> bool:
        return super().has_add_permission(request) and not PublicAccess.objects.exists()
