from django.contrib import admin
from django.http import HttpRequest

from gridmap.core.admin import Admin
from gridmap.evaluation.models import ScoreWeights


@admin.register(ScoreWeights)
class ScoreWeightsAdmin(Admin):
    """A single row: it can be added once and edited, not multiplied."""

    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not ScoreWeights.objects.exists()
