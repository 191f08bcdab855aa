"""Pages: the grids a user may see, and one grid's map. Views stay thin: selectors → layers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.views.decorators.clickjacking import xframe_options_sameorigin

from gridmap.geography.selectors import grids_visible_to
from gridmap.maps.builders import area_map
from gridmap.maps.tiles import tile_source
from gridmap.problems.models import OPEN_STATUSES
from layers.map_assets import MapAssets


@login_required
def grid_list(request: HttpRequest) -> HttpResponse:
    grids = grids_visible_to(request.user).annotate(
        open_problems=Count("problems", filter=Q(problems__status__in=OPEN_STATUSES), distinct=True),
        building_count=Count("buildings", distinct=True),
    )
    return render(request, "maps/grid_list.html", {"grids": grids})


@login_required
def grid_detail(request: HttpRequest, code: str) -> HttpResponse:
    grid = get_object_or_404(grids_visible_to(request.user), code=code)
    return render(request, "maps/grid_detail.html", {"grid": grid})


@login_required
@xframe_options_sameorigin
def grid_map_html(request: HttpRequest, code: str) -> HttpResponse:
    """The folium map document of one grid (embedded by grid_detail in an iframe)."""
    grid = get_object_or_404(grids_visible_to(request.user), code=code)
    m = area_map([grid], assets=MapAssets(base_url=static("vendor/")), tiles=tile_source())
    return HttpResponse(m.get_root().render(), content_type="text/html; charset=utf-8")
