"""Barrier-free rules (GB 50763-2012): curb ramps at crossings, tactile paving continuity,
accessible parking share. Metres in the streets' metric CRS; geometry in and out EPSG:4326.

- **Curb ramps** (§3.1: at every footway crossing): a crossing is a network node where a
  footway-type line (``FOOT_HIGHWAYS``) meets a road (any other highway). A crossing with no
  curb ramp within ``within_m`` is a gap.
- **Tactile paving** (continuous on commercial and pedestrian streets): the street network is
  cut into *chains* between junctions (edges merged through nodes of degree 2). Each tactile
  piece is placed on its nearest chain and side (left/right of the chain's direction) by
  projecting its ends. Along one chain and side, the space between consecutive pieces longer
  than ``max_gap_m`` is a **break**; the space between a chain end (a junction) and the first
  piece is the crossing and is not. Pieces in a defect condition (broken, blocked) and pieces
  with open obstruction reports (problem category 0303) within ``problem_within_m`` are
  reported too.
- **Accessible parking** (§8.10): required = ceil(share × capacity), and at least
  ``min_spaces`` from ``min_spaces_from_capacity`` spaces up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.network import StreetNetwork, build_network, to_network_crs
from layers.projection import WGS84

__all__ = ["FOOT_HIGHWAYS", "accessible_parking", "curb_ramp_gaps", "tactile_defects"]

FOOT_HIGHWAYS = frozenset({"footway", "pedestrian", "path", "steps", "crossing", "corridor"})
"""highway values of pedestrian ways; where one meets any other highway there is a crossing."""


def _ids(frame: gpd.GeoDataFrame | gpd.GeoSeries, id_col: str) -> np.ndarray:
    if isinstance(frame, gpd.GeoDataFrame) and id_col in frame.columns:
        return frame[id_col].to_numpy(dtype=object)
    return frame.index.to_numpy(dtype=object)


def _to_wgs84(geoms: list | np.ndarray, crs: object, data: dict[str, Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(geoms), crs=crs)).to_crs(WGS84)


# ---------------------------------------------------------------- curb ramps


def crossing_nodes(net: StreetNetwork, highway: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Nodes where a footway-type edge meets a road edge, and the highways meeting there.

    ``highway`` holds the highway value of each input street row (``net.edge_street``
    positions).
    """
    edge_hw = np.asarray(highway, dtype=object)[net.edge_street].astype(str)
    foot = np.isin(edge_hw, list(FOOT_HIGHWAYS))
    ends = pd.DataFrame(
        {"node": np.r_[net.edge_u, net.edge_v], "foot": np.r_[foot, foot], "hw": np.r_[edge_hw, edge_hw]}
    )
    by_node = ends.groupby("node").agg(foot=("foot", "any"), road=("foot", lambda f: (~f).any()))
    nodes = by_node.index[by_node["foot"] & by_node["road"]].to_numpy()
    hws = ends[ends["node"].isin(nodes)].groupby("node")["hw"].agg(lambda h: ",".join(sorted(set(h))))
    return nodes, [str(hws[n]) for n in nodes]


def curb_ramp_gaps(
    streets: gpd.GeoDataFrame,
    ramps: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    within_m: float = 20.0,
    net: StreetNetwork | None = None,
    ramp_id_col: str = "id",
    only_gaps: bool = True,
) -> gpd.GeoDataFrame:
    """Footway crossings with no curb ramp nearby.

    Parameters
    ----------
    streets : GeoDataFrame
        Street lines (EPSG:4326) with a ``highway`` column.
    ramps : GeoDataFrame or GeoSeries
        Curb-ramp points (EPSG:4326).
    within_m : float
        A ramp within this straight distance (metres) of the crossing node serves it.
    net : StreetNetwork, optional
        The network built from exactly ``streets`` (rebuilt when omitted).
    only_gaps : bool
        False returns every crossing.

    Returns
    -------
    GeoDataFrame (EPSG:4326 points at the crossing nodes): ``highways`` (meeting there),
    ``ramps`` (count within ``within_m``), ``nearest_ramp``, ``nearest_ramp_m``, ``has_ramp``.
    """
    net = net if net is not None else build_network(streets)
    nodes, highways = crossing_nodes(net, streets["highway"].to_numpy())
    points = shapely.points(net.node_xy[nodes]) if len(nodes) else np.zeros(0, dtype=object)
    ramp_geoms = to_network_crs(net, ramps)
    ramp_ids = _ids(ramps, ramp_id_col)
    tree = shapely.STRtree(ramp_geoms)
    near_n, _ = tree.query(points, predicate="dwithin", distance=within_m)
    count = np.bincount(near_n, minlength=len(nodes))
    nearest = np.full(len(nodes), None, dtype=object)
    nearest_m = np.full(len(nodes), np.inf)
    if len(ramp_geoms) and len(nodes):
        (p_idx, r_idx), d = tree.query_nearest(points, all_matches=False, return_distance=True)
        nearest[p_idx], nearest_m[p_idx] = ramp_ids[r_idx], d
    data = {"node": nodes, "highways": highways, "ramps": count, "nearest_ramp": nearest}
    out = _to_wgs84(points, net.crs, {**data, "nearest_ramp_m": nearest_m, "has_ramp": count > 0})
    return out[~out["has_ramp"]].reset_index(drop=True) if only_gaps else out


# ---------------------------------------------------------------- tactile paving


def _chains(net: StreetNetwork) -> np.ndarray:
    return shapely.get_parts(shapely.line_merge(shapely.multilinestrings(net.edge_geoms)))


def _place_pieces(chains: np.ndarray, pieces: np.ndarray) -> pd.DataFrame:
    """Chain, side (+1 left, -1 right) and interval along the chain of each tactile piece."""
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    _, chain = shapely.STRtree(chains).query_nearest(mids, all_matches=False)
    lines = chains[chain]
    at_mid = shapely.line_locate_point(lines, mids)
    ahead = shapely.line_interpolate_point(lines, at_mid + 0.5)
    behind = shapely.line_interpolate_point(lines, at_mid - 0.5)
    (ax, ay), (bx, by), (mx, my) = (shapely.get_coordinates(g).T for g in (behind, ahead, mids))
    side = np.sign((bx - ax) * (my - ay) - (by - ay) * (mx - ax))
    start = shapely.line_locate_point(lines, shapely.get_point(pieces, 0))
    end = shapely.line_locate_point(lines, shapely.get_point(pieces, -1))
    return pd.DataFrame(
        {
            "chain": chain,
            "side": side,
            "lo": np.minimum(start, end),
            "hi": np.maximum(start, end),
            "flip": start > end,
        }
    )


def _breaks(pieces: np.ndarray, placed: pd.DataFrame, ids: np.ndarray, max_gap_m: float) -> list[dict]:
    out = []
    for _, grp in placed.sort_values(["chain", "side", "lo"]).groupby(["chain", "side"], sort=False):
        reach, last = -np.inf, -1
        for row, lo, hi in zip(grp.index, grp["lo"], grp["hi"], strict=True):
            if last >= 0 and lo - reach > max_gap_m:
                a = shapely.get_point(pieces[last], 0 if placed.at[last, "flip"] else -1)
                b = shapely.get_point(pieces[row], -1 if placed.at[row, "flip"] else 0)
                out.append(
                    {
                        "defect": "break",
                        "facilities": [ids[last], ids[row]],
                        "length_m": float(lo - reach),
                        "geometry": shapely.LineString([a, b]),
                    }  # fmt: skip
                )
            if hi > reach:
                reach, last = hi, row
    return out


def tactile_defects(
    streets: gpd.GeoDataFrame,
    tactile: gpd.GeoDataFrame,
    problems: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    max_gap_m: float = 5.0,
    defect_conditions: Iterable[str] = ("broken", "blocked"),
    problem_within_m: float = 10.0,
    net: StreetNetwork | None = None,
    id_col: str = "id",
) -> gpd.GeoDataFrame:
    """Breaks, defect conditions and reported obstructions of tactile paving.

    Parameters
    ----------
    streets : GeoDataFrame
        Street lines (EPSG:4326) the paving runs along.
    tactile : GeoDataFrame
        Tactile-paving lines (EPSG:4326) with ``id_col`` and ``condition``.
    problems : GeoDataFrame or GeoSeries, optional
        Open obstruction reports (points, EPSG:4326), e.g. category 0303.
    max_gap_m : float
        Longest space (metres along the street) between two pieces that is not a break.
    defect_conditions : iterable of str
        Conditions reported as defects.
    problem_within_m : float
        A report within this distance (metres) of a piece concerns it.
    net : StreetNetwork, optional
        The network of ``streets`` (rebuilt when omitted).

    Returns
    -------
    GeoDataFrame (EPSG:4326), one row per defect: ``defect`` (``break``, a condition, or
    ``reported_obstruction``), ``facilities`` (ids: the two pieces around a break, else the
    piece), ``length_m`` (break: the missing length; else the piece length), ``problems``
    (open reports near the piece), geometry (the gap as a line from one piece end to the
    next, or the piece).
    """
    net = net if net is not None else build_network(streets)
    geoms = to_network_crs(net, tactile)
    keep = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (1, 5)) & ~shapely.is_empty(geoms))
    pieces, part_of = shapely.get_parts(shapely.line_merge(geoms[keep]), return_index=True)
    rows_of = keep[part_of]
    ids = _ids(tactile, id_col)[rows_of]
    condition = (
        tactile["condition"].to_numpy(dtype=object)[rows_of]
        if "condition" in tactile
        else np.full(len(rows_of), None)
    )
    rows: list[dict] = []
    if len(pieces) and net.n_edges:
        rows += _breaks(pieces, _place_pieces(_chains(net), pieces), ids, max_gap_m)
    reports = np.zeros(len(pieces), dtype=np.int64)
    if problems is not None and len(problems) and len(pieces):
        hits, _ = shapely.STRtree(to_network_crs(net, problems)).query(
            pieces, predicate="dwithin", distance=problem_within_m
        )
        reports = np.bincount(hits, minlength=len(pieces))
    wanted = set(defect_conditions)
    for i, piece in enumerate(pieces):
        kinds = ([str(condition[i])] if condition[i] in wanted else []) + (
            ["reported_obstruction"] if reports[i] else []
        )
        for kind in kinds:
            rows.append(
                {
                    "defect": kind,
                    "facilities": [ids[i]],
                    "length_m": float(piece.length),
                    "geometry": piece,
                    "problems": int(reports[i]),
                }
            )
    frame = pd.DataFrame(rows, columns=["defect", "facilities", "length_m", "problems", "geometry"])
    frame["problems"] = frame["problems"].fillna(0).astype(int)
    out = gpd.GeoDataFrame(
        frame.drop(columns="geometry"), geometry=gpd.GeoSeries(frame["geometry"].tolist(), crs=net.crs)
    )
    return out.to_crs(WGS84)


# ---------------------------------------------------------------- accessible parking


def accessible_parking(
    car_parks: pd.DataFrame,
    *,
    share: float = 0.02,
    min_spaces: int = 2,
    min_spaces_from_capacity: int = 50,
    capacity_col: str = "capacity",
    accessible_col: str = "accessible_spaces",
) -> pd.DataFrame:
    """Accessible spaces required and missing in each car park.

    Parameters
    ----------
    car_parks : DataFrame or GeoDataFrame
        One row per car park with ``capacity_col`` and ``accessible_col`` (counts; missing =
        unknown). Every column is kept.
    share : float
        Required share of all spaces (GB 50763: 2 %), rounded up.
    min_spaces, min_spaces_from_capacity : int
        At least ``min_spaces`` accessible spaces from this capacity up (mid-size and larger).

    Returns
    -------
    Same type as ``car_parks`` plus ``required`` (NaN when the capacity is unknown),
    ``shortfall`` (required - accessible, >= 0; NaN when either is unknown) and ``compliant``
    (True/False, None when unknown).
    """
    capacity = pd.to_numeric(car_parks[capacity_col], errors="coerce")
    accessible = pd.to_numeric(car_parks[accessible_col], errors="coerce")
    by_share = capacity.map(lambda c: math.ceil(round(c * share, 9)) if pd.notna(c) else np.nan)
    floor = np.where(capacity >= min_spaces_from_capacity, float(min_spaces), 0.0)
    required = np.where(capacity.notna(), np.maximum(by_share, floor), np.nan)
    shortfall = np.maximum(required - accessible.to_numpy(dtype=float), 0)
    out = car_parks.copy()
    out["required"] = required
    out["shortfall"] = shortfall
    known = ~np.isnan(shortfall)
    out["compliant"] = pd.Series(np.where(known, shortfall == 0, None), index=out.index, dtype=object)
    return out
