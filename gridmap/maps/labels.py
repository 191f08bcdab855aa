"""The leader map's texts in the user's language, for :func:`layers.maps.grid_map`'s ``labels``.

``layers`` holds the Chinese defaults (:data:`layers.maps.DEFAULT_LABELS`) and no gettext;
here the same keys get English msgids, translated when the map is built (so call
:func:`map_labels` per request, under the active language). The msgids carry the context
``"leader map"`` (``"leader map field"`` for popup labels) so a map label never shares a
translation with a form or page text (they are written out in full for makemessages to find).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext, pgettext

from gridmap.core.language import english
from gridmap.facilities.models import FacilityKind


def map_labels() -> dict[str, str]:
    """Every key of :data:`layers.maps.DEFAULT_LABELS`, translated to the active language."""
    return {
        "base_map": pgettext("leader map", "Base map"),
        "grid_section": pgettext("leader map", "Grid"),
        "boundary": pgettext("leader map", "Grid boundary"),
        "buildings": pgettext("leader map", "Buildings"),
        "buildings_by_households": pgettext("leader map", "Buildings (by households)"),
        "buildings_by_population": pgettext("leader map", "Buildings (by population)"),
        "households_value": pgettext("leader map", "%(count)s households"),
        "population_value": pgettext("leader map", "%(count)s people"),
        "facilities": pgettext("leader map", "Facilities"),
        "inspection_points": pgettext("leader map", "Inspection points"),
        "field_point_type": pgettext("leader map", "Point type"),
        "field_department": pgettext("leader map", "Department"),
        "problems": pgettext("leader map", "Problems"),
        "problems_closed": pgettext("leader map", "Finished problems (closed, rejected, duplicate)"),
        "legend": pgettext("leader map", "Legend"),
        "streets": pgettext("leader map", "Streets"),
        "place_labels": pgettext("leader map", "Street names and grid codes"),
        "problem_status": pgettext("leader map", "Problem status"),
        "problem_class": pgettext("leader map", "Problem class"),
        "overdue": pgettext("leader map", "Overdue"),
        "heat": pgettext("leader map", "Heat map (open problems)"),
        "hotspots": pgettext("leader map", "Hot spot analysis (Gi*)"),
        "hotspots_legend": pgettext("leader map", "Hot spot analysis (Gi*, problem density)"),
        "hot_99": pgettext("leader map", "Hot spot (confidence 99%)"),
        "hot_95": pgettext("leader map", "Hot spot (confidence 95%)"),
        "hot_90": pgettext("leader map", "Hot spot (confidence 90%)"),
        "not_significant": pgettext("leader map", "Not significant"),
        "cold_90": pgettext("leader map", "Cold spot (confidence 90%)"),
        "cold_95": pgettext("leader map", "Cold spot (confidence 95%)"),
        "cold_99": pgettext("leader map", "Cold spot (confidence 99%)"),
        "coverage_gaps": pgettext("leader map", "%(kind)s: uncovered area"),
        "uncovered_buildings": pgettext("leader map", "%(kind)s: uncovered buildings"),
        "coverage_legend": pgettext("leader map", "Coverage gaps (straight-line distance)"),
        "negative_list": pgettext("leader map", "Negative list (open problems)"),
        "negative_title": pgettext("leader map", "Negative list"),
        "negative_more": pgettext("leader map", "The oldest %(shown)s of %(total)s: see them all"),
        "days_value": pgettext("leader map", "%(days)s days"),
        "problem_link": gettext("Open the problem page"),
        "positive_sites": pgettext("leader map", "Positive list (exemplary sites)"),
        "class_01": pgettext("leader map", "City appearance and environment"),
        "class_02": pgettext("leader map", "Publicity and advertising"),
        "class_03": pgettext("leader map", "Street order"),
        "class_04": pgettext("leader map", "Construction management"),
        "class_05": pgettext("leader map", "Emergencies"),
        "class_06": pgettext("leader map", "Other"),
        "field_grid_code": pgettext("leader map field", "Grid code"),
        "field_grid_name": pgettext("leader map field", "Grid name"),
        "field_name": pgettext("leader map field", "Name"),
        "field_address": pgettext("leader map field", "Address"),
        "field_use": pgettext("leader map field", "Use"),
        "field_floors": pgettext("leader map field", "Floors"),
        "field_households": pgettext("leader map field", "Households"),
        "field_population": pgettext("leader map field", "Population"),
        "field_condition": pgettext("leader map field", "Condition"),
        "field_id": pgettext("leader map field", "No."),
        "field_category": pgettext("leader map field", "Category"),
        "field_status": pgettext("leader map field", "Status"),
        "field_reported_at": pgettext("leader map field", "Reported at"),
        "field_deadline": pgettext("leader map field", "Deadline"),
        "field_overdue": pgettext("leader map field", "Overdue"),
        "field_description": pgettext("leader map field", "Description"),
        "field_days_open": pgettext("leader map field", "Days open"),
        "field_significance": pgettext("leader map field", "Significance"),
        "field_count": pgettext("leader map field", "Problems"),
        "field_z": pgettext("leader map field", "Gi* z score"),
        "field_p_value": pgettext("leader map field", "p value"),
        "field_facility": pgettext("leader map field", "Facility"),
        "field_radius_m": pgettext("leader map field", "Service radius (m)"),
        "field_uncovered_m2": pgettext("leader map field", "Uncovered area (m²)"),
        "field_uncovered_pct": pgettext("leader map field", "Uncovered share (%)"),
        "field_distance_m": pgettext("leader map field", "Nearest distance (m)"),
    }


def localized_kinds(kinds: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """``kinds`` (code -> name, colour, geometry) named in the active language: a kind's English
    name (``name_en``, when it has one) while English is active, else its own (Chinese) name."""
    if not english():
        return {code: dict(kind) for code, kind in kinds.items()}
    names_en = dict(FacilityKind.objects.exclude(name_en="").values_list("code", "name_en"))
    return {code: {**kind, "name": names_en.get(code, kind["name"])} for code, kind in kinds.items()}
