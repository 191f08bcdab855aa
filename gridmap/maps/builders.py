"""Build the folium map of grids a user may see: the one place views and export_maps call.

``area_map(grids, assets=..., tiles=...)`` reads the layers (:mod:`gridmap.maps.selectors`) and
hands them to :func:`layers.maps.grid_map`, with its texts in the active language
(:func:`gridmap.maps.labels.map_labels`). The grids must already be scoped to the user
(``grids_visible_to``); a community head's map is the map of all the community's grids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import folium
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

from gridmap.campaign.maps import point_types, points_frame
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.facilities.selectors import facilities_visible_to
from gridmap.geography.models import Building, Grid
from gridmap.geography.selectors import buildings_visible_to
from gridmap.maps.labels import localized_kinds, map_labels
from gridmap.maps.mvt import DETAIL_ZOOM, LAYERS, features
from gridmap.maps.selectors import area_layers, area_streets, facility_kinds
from gridmap.maps.tiles import add_overlays, display_frames
from gridmap.problems.models import OPEN_STATUSES, Status
from layers.maps import BboxSource, MapAssets, MapLinks, StyleRule, TileSource, VectorSource, grid_map

STATUS_COLORS = {
    Status.REPORTED: "#d7191c",
    Status.FILED: "#f46d43",
    Status.DISPATCHED: "#fdae61",
    Status.HANDLED: "#66bd63",
    Status.CLOSED: "#1a9850",
    Status.REJECTED: "#878787",
    Status.DUPLICATE: "#bababa",
}


def status_styles() -> dict[str, dict[str, Any]]:
    """Problem status code -> its (translated) name, map colour and whether it is open work."""
    return {
        s.value: {"name": str(s.label), "color": STATUS_COLORS[s], "open": s in OPEN_STATUSES} for s in Status
    }


def problem_links() -> MapLinks:
    """URL templates of the problem page and its (scoped) photos, for the map's popups."""
    n = 987654321  # a placeholder id, swapped for {id} / {photo}
    return MapLinks(
        problem=reverse("problem-detail", args=[n]).replace(str(n), "{id}"),
        photo=reverse("problem-photo", args=[n, n + 1])
        .replace(str(n + 1), "{photo}")
        .replace(str(n), "{id}"),
    )  # the link's text is the map's "problem_link" label


# Facility kinds switched on when a map opens (the others are one tick away in the layer list):
# those a grid's daily round looks at first. GRIDMAP["MAP_KINDS_ON"] may name others.
KINDS_ON = ("litter_bin", "refuse_point", "hydrant", "toilet")


def shown_layers(grids: Sequence[Grid], kinds: Sequence[str]) -> set[str]:
    """The layers a map opens with: the open work (problems), the grid outlines, the streets and
    their names, a few facility kinds and, on one grid's map, its buildings (on a community's
    map, dozens of grids of buildings bury the problems). The rest is in the layer list, off."""
    on = settings.GRIDMAP.get("MAP_KINDS_ON") or KINDS_ON
    keys = {
        "streets",
        "boundary",
        "problems",
        "place_labels",
        "inspection_points",
    }  # the points: not on a phone
    keys |= {f"facility:{k}" for k in kinds if k in on}
    if len(grids) == 1:
        keys.add("buildings")
    return keys


def choice_texts() -> dict[str, dict[str, str]]:
    """Coded columns of the map's popups -> their texts in the active language."""
    return {
        "use": {k: str(v) for k, v in Building.Use.choices},
        "condition": {k: str(v) for k, v in Facility.Condition.choices},
    }


def area_map(grids: Sequence[Grid], *, assets: MapAssets, tiles: TileSource | None) -> folium.Map:
    """The map of ``grids`` (one grid leader's, or a community's)."""
    frames = area_layers(grids)
    negative_more = None
    if not assets.inline and len(frames["negative_list"]) > NEGATIVE_ON_MAP:
        negative_more = (len(frames["negative_list"]), negative_list_url(grids))
        frames["negative_list"] = frames["negative_list"].head(NEGATIVE_ON_MAP)
    frames_of_points = display_frames({"inspection_points": points_frame(grids)}, tiles)
    kinds = facility_kinds()
    tiled = tiled_layers(grids, {k: len(frames[k]) for k in TILED}, assets=assets, tiles=tiles)
    m = grid_map(
        **display_frames(frames, tiles),  # moved to GCJ-02 over such tiles, for display only
        tiled=tiled,
        tiled_zooms={k: (LAYERS[k].min_zoom, DETAIL_ZOOM) for k in tiled},
        kinds=localized_kinds(kinds),
        assets=assets,
        tiles=tiles,
        statuses=status_styles(),
        links=None if assets.inline else problem_links(),  # a file opened from disk has no server
        labels=map_labels(),  # the map's texts in the active language
        # with no tiles the streets and their names say where a place is (drawn from our data)
        streets=area_streets(grids) if tiles is None else None,
        shown=shown_layers(grids, list(kinds)),
        choices=choice_texts(),
        negative_more=negative_more,
        inspection_points=frames_of_points["inspection_points"],
        point_types=point_types(),
    )
    return add_overlays(m, tiles)


# A page's map rings and lists at most this many of the oldest open cases, and links the whole
# list (a community of the city bench had 5,318: 1.1 MB of the page's 2 MB). A file handed out
# (``assets.inline``, no server behind it) keeps them all.
NEGATIVE_ON_MAP = 300


def negative_list_url(grids: Sequence[Grid]) -> str:
    """The problem list of the open cases of ``grids``, oldest first: the whole negative list."""
    area = _area_query(grids) or {"scope": "role"}
    return f"{reverse('problem-list')}?{urlencode({**area, 'open': 1, 'sort': 'reported'})}"  # e.g. Tianditu's labels over its map


TILED = ("buildings", "problems", "facilities")  # the frames of area_layers that may be tiled
VECTOR_MIN_FEATURES = 2_000  # a layer with more is drawn from vector tiles where they are made


def tiled_layers(
    grids: Sequence[Grid], counts: Mapping[str, int], *, assets: MapAssets, tiles: TileSource | None
) -> dict[str, str]:
    """Which layers of the map of ``grids`` come from vector tiles (layer -> tile URL template):
    those of more than :data:`VECTOR_MIN_FEATURES` features, on a database that makes tiles
    (:func:`gridmap.maps.mvt.features`), for a page served by the site (not a file to hand out)
    over WGS84 tiles or none (tiles are not moved to GCJ-02), and for one grid or one whole
    community (the tiles' ``grid`` / ``community`` filter holds the same rows as the page)."""
    if assets.inline or not features().vector_tiles or (tiles is not None and tiles.datum != "wgs84"):
        return {}
    large = [k for k in TILED if counts.get(k, 0) > VECTOR_MIN_FEATURES]
    area = _area_query(grids) if large else None
    if area is None:
        return {}
    extra = {"problems": {"status": "all"}}  # the map shows every status
    return {k: vector_url(k, area | extra.get(k, {})) for k in large}


def _area_query(grids: Sequence[Grid]) -> dict[str, str] | None:
    if len(grids) == 1:
        return {"grid": grids[0].code}
    communities = {g.community_id for g in grids}
    if len(communities) != 1 or Grid.objects.filter(community_id=grids[0].community_id).count() != len(grids):
        return None
    return {"community": grids[0].community.code}


def vector_url(layer: str, query: Mapping[str, str] | None = None) -> str:
    """The tile URL template of ``layer`` (``{z}/{x}/{y}`` left for the page) with ``query``."""
    path = reverse("vector-tile", args=[layer, 0, 0, 0]).replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf")
    return path + ("?" + urlencode(dict(query)) if query else "")


def planner_vector_sources(
    user: AbstractBaseUser | AnonymousUser, sources: Sequence[BboxSource], *, tiles: TileSource | None
) -> tuple[list[BboxSource], list[VectorSource]]:
    """The planner's bbox layers split into those kept (problems: their period is a filter the tiles
    do not have) and those drawn from vector tiles instead (buildings, facilities), when the
    database makes tiles, the background is WGS84 and the user's rows are more than
    :data:`VECTOR_MIN_FEATURES` (one count each)."""
    if not features().vector_tiles or (tiles is not None and tiles.datum != "wgs84"):
        return list(sources), []
    large = {
        "buildings": buildings_visible_to(user).count() > VECTOR_MIN_FEATURES,
        "facilities": facilities_visible_to(user).count() > VECTOR_MIN_FEATURES,
    }
    kinds = dict(FacilityKind.objects.values_list("code", "name"))
    kept, tiled = [], []
    for s in sources:
        layer = "facilities" if s.key in ("facilities", "kind-facilities") else s.key
        if not large.get(layer):
            kept.append(s)
            continue
        query = {k: v[0] for k, v in parse_qs(urlsplit(s.url).query).items() if k == "kind"}
        rule, styles, derived = StyleRule(), [s.style], {}
        if s.style_key:  # a style per value of one property, as the bbox layer had
            values = list(s.styles)
            rule = StyleRule(parts=((s.style_key, ""),), index={v: i + 1 for i, v in enumerate(values)})
            styles = [s.style, *(s.styles[v] for v in values)]
        if layer == "facilities":
            derived = {"kind_name": ("kind", kinds)}
        tiled.append(VectorSource(
            key=s.key, name=s.name, url=vector_url(layer, query), layer=layer, styles=styles, rule=rule,
            fields=s.fields, derived=derived, show=s.show, min_zoom=LAYERS[layer].min_zoom,
            detail_zoom=DETAIL_ZOOM,
        ))  # fmt: skip
    return kept, tiled
