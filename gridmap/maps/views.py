"""Pages: the grids a user may see, a grid's and a community's leader map. Views stay thin: selectors → layers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin

from gridmap.core.basemap import tile_source
from gridmap.geography.selectors import grids_visible_to
from gridmap.maps.builders import area_map
from gridmap.maps.selectors import area_figures, communities_visible_to, grid_list_rows, negative_items
from layers.maps import MapAssets

NEGATIVE_SHOWN = 50  # items of the negative list on the page; the map lists them all


GRIDS_PER_PAGE = 100


@login_required
def grid_list(request: HttpRequest) -> HttpResponse:
    """The grids the user may see, a page of GRIDS_PER_PAGE at a time (a city has over a thousand:
    each row counts its buildings and open problems, so a page costs what it shows)."""
    rows = grid_list_rows(request.user)
    pages = Paginator(rows.order_by("code"), GRIDS_PER_PAGE)
    page = pages.get_page(request.GET.get("page"))  # anything but a page number: the first or last
    # the communities of the grids listed (a department's or an inspector's, not the city's)
    communities = communities_visible_to(request.user).filter(pk__in=rows.values("community_id"))
    return render(request, "maps/grid_list.html", {"grids": page, "page": page, "communities": communities})


@login_required
def grid_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A grid's page: its figures and negative list beside its map."""
    grid = get_object_or_404(grids_visible_to(request.user), code=code)
    context = {
        "grid": grid,
        "figures": area_figures([grid]),
        "negative": negative_items([grid])[:NEGATIVE_SHOWN],
        "map_url": reverse("grid-map", args=[grid.code]),
        "map_title": grid.name,
    }
    return render(request, "maps/grid_detail.html", context)


@login_required
@xframe_options_sameorigin
def grid_map_html(request: HttpRequest, code: str) -> HttpResponse:
    """The folium map document of one grid (embedded by grid_detail in an iframe)."""
    grid = get_object_or_404(grids_visible_to(request.user), code=code)
    return _map_response([grid])


@login_required
def community_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A community head's page: the leader map of all the community's grids, with its figures."""
    community = get_object_or_404(communities_visible_to(request.user), code=code)
    grids = list(grids_visible_to(request.user).filter(community=community).order_by("code"))
    context = {
        "community": community,
        "grids": grids,
        "figures": area_figures(grids),
        "negative": negative_items(grids)[:NEGATIVE_SHOWN],
        "map_url": reverse("community-map", args=[community.code]),
        "map_title": community.name,
    }
    return render(request, "maps/community_detail.html", context)


@login_required
@xframe_options_sameorigin
def community_map_html(request: HttpRequest, code: str) -> HttpResponse:
    """The folium map document of a community's grids (embedded by community_detail)."""
    community = get_object_or_404(communities_visible_to(request.user), code=code)
    return _map_response(list(grids_visible_to(request.user).filter(community=community).order_by("code")))


def _map_response(grids: list) -> HttpResponse:
    m = area_map(grids, assets=MapAssets(base_url=static("vendor/")), tiles=tile_source())
    return HttpResponse(m.get_root().render(), content_type="text/html; charset=utf-8")
