"""Precomputed coverage: the figures the planner and the coverage API read, never computed on a
request (``gridmap.analysis.precompute`` writes them, ``gridmap.analysis.coverage_rows`` reads them).

One :class:`CoverageSet` per facility kind with a service radius and town (the subdistrict, 街道/镇;
town 0 holds buildings in no town), stamped with the change stamps (``gridmap.core.stamps``) it was
computed from: a set is fresh exactly when its ``stamps`` equal the current ones. Its rows are
per grid and metric (:class:`GridCoverage`: shares, counts, the uncovered area) and per building
(:class:`BuildingCoverage`: the nearest facility and its distance by each metric, so a coverage
question with another radius is answered from the same rows). A refresh replaces a set and its
rows in one transaction: readers see the old set or the new one, never half of either.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from gridmap.facilities.models import FacilityKind
from gridmap.geography.models import Building, Grid

METRICS = ("straight", "network")


class CoverageSet(models.Model):
    kind = models.ForeignKey(FacilityKind, on_delete=models.CASCADE, related_name="coverage_sets")
    town = models.PositiveIntegerField(_("town"))  # Subdistrict id; 0: buildings in no town
    radius_m = models.FloatField(_("service radius (m)"))
    building_uses = models.JSONField(default=list)  # the uses served; empty: every building
    stamps = models.JSONField()  # kind of data -> change stamp (or a text for the settings)
    # the kind's own facilities (the facilities stamp is one for every kind): see precompute
    facilities_digest = models.CharField(max_length=40, blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(default=0.0)  # how long the computation took
    buildings = models.PositiveIntegerField(default=0)  # served buildings, in a grid or not
    has_network = models.BooleanField(default=False)  # walking figures exist (the town has streets)

    class Meta:
        verbose_name = _("coverage set")
        constraints = [models.UniqueConstraint(fields=["kind", "town"], name="coverage_set_kind_town")]

    def __str__(self) -> str:
        return f"{self.kind_id}@{self.town} {self.computed_at:%Y-%m-%d %H:%M}"


class GridCoverage(models.Model):
    """One grid's coverage by one metric (every grid of the town has a row, served or not)."""

    set = models.ForeignKey(CoverageSet, on_delete=models.CASCADE, related_name="grid_rows")
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=10, choices=[(m, m) for m in METRICS])
    buildings = models.PositiveIntegerField(default=0)  # served buildings in the grid
    households = models.FloatField(default=0.0)
    uncovered = models.PositiveIntegerField(default=0)  # buildings
    uncovered_households = models.FloatField(default=0.0)
    building_share = models.FloatField(null=True)  # covered / served; null with none served
    household_share = models.FloatField(null=True)
    max_m = models.FloatField(null=True)  # the farthest building's distance; null: none reached
    area_m2 = models.FloatField(null=True)  # null: walking area not computed (no streets)
    uncovered_m2 = models.FloatField(null=True)
    uncovered_share = models.FloatField(null=True)
    geom = models.GeometryField(srid=4326, null=True)  # the uncovered part, a MultiPolygon; null when none

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["set", "grid", "metric"], name="grid_coverage_set_grid_metric")
        ]
        indexes = [models.Index(fields=["grid", "metric"], name="grid_coverage_grid_metric")]


class BuildingCoverage(models.Model):
    """A served building's nearest facility (its source key or id) and distance, by metric."""

    set = models.ForeignKey(CoverageSet, on_delete=models.CASCADE, related_name="building_rows")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+")
    straight_facility = models.CharField(max_length=120, blank=True)
    straight_m = models.FloatField(null=True)  # null: no facility of the kind at all
    network_facility = models.CharField(max_length=120, blank=True)
    network_m = models.FloatField(null=True)  # null: none reachable (or no streets)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["set", "building"], name="building_coverage_set_building")
        ]


class RouteVisit(models.Model):
    """A stop of a user's route ticked off as visited on a day (the day's route is the plan: it is
    planned again whenever data change, and a stop keeps its tick through that). Kept on the
    server, so a reload or another device resumes the walk; ``route_plans`` plans the rest of the
    walk over the stops not yet visited (``gridmap.analysis.visits``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="route_visits")
    problem = models.ForeignKey("problems.Problem", on_delete=models.CASCADE, related_name="route_visits")
    day = models.DateField(_("day"))  # the local date of the route
    visited_at = models.DateTimeField(_("visited at"))

    class Meta:
        verbose_name = _("route visit")
        verbose_name_plural = _("route visits")
        constraints = [
            models.UniqueConstraint(fields=["user", "day", "problem"], name="route_visit_user_day_problem")
        ]
