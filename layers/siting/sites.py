"""Where to put new facilities: candidate points along the streets, chosen by optimisation.

Demand is the buildings an existing facility of the kind does not cover yet (by
:func:`layers.coverage.buildings.building_coverage`, same distances: footprint to point as the crow flies,
or the walk along the streets). Existing facilities stay; they cover what they cover already.
Candidates are points along the street centre lines every ``spacing_m`` or less (both ends of
every street piece included, so crossings are candidates). A candidate *reaches* a building
within ``radius_m`` by the chosen metric.

- **Cover all** (set cover): the fewest candidates that reach every reachable uncovered
  building. Integer programme solved by CBC through PuLP after the classic reductions
  (dominated candidates and implied buildings dropped) and started from the greedy answer;
  proven optimal unless the time limit stops it (then: the best found, said so). Beyond
  ``ILP_MAX_NONZEROS`` building-candidate pairs (a few km² at 25 m spacing), or with
  ``method="greedy"``, the greedy rule (most newly reached buildings first) is used: it needs
  at most H(d) times the optimum, H the harmonic number and d the most buildings one candidate
  reaches (Chvátal 1979), so ``ceil(k / H(d))`` is a proven lower bound.
- **Best p** (maximal covering, Church & ReVelle 1974): at most ``p`` candidates maximising the
  weight of newly covered buildings (households; a building with fewer weighs ``min_weight``,
  so shops and schools count), the fewest sites among equal weights (a penalty below half the
  smallest weight per site: exact for integer weights). Greedy fallback: at least
  1 - (1 - 1/p)^p ≥ 63 % of the optimum (Nemhauser, Wolsey & Fisher 1978).

Buildings no candidate reaches are reported, never dropped silently. Metres throughout, in
the CRS ``layers.coverage.buildings`` uses (the network's, else ``metric_crs_for(buildings)``); geometry
in and out EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from shapely.geometry.base import BaseGeometry

from layers.coverage.buildings import building_coverage
from layers.network import StreetNetwork, network_distance_matrix
from layers.projection import WGS84, metric_crs_for
from layers.siting.solvers import ILP_MAX_NONZEROS, METHODS, Solution, solve_max_cover, solve_set_cover

__all__ = [
    "ILP_MAX_NONZEROS",
    "METHODS",
    "SitingProblem",
    "SitingResult",
    "Solution",
    "siting_problem",
    "solve_max_cover",
    "solve_set_cover",
    "street_candidates",
    "suggest_best",
    "suggest_cover_all",
]


def street_candidates(
    streets: gpd.GeoDataFrame,
    *,
    spacing_m: float,
    area: BaseGeometry | None = None,
    area_margin_m: float = 1.0,
    net: StreetNetwork | None = None,
    crs: pyproj.CRS | None = None,
    street_id_col: str = "id",
) -> gpd.GeoDataFrame:
    """Candidate sites along street centre lines, at most ``spacing_m`` apart on each piece.

    Parameters
    ----------
    streets : GeoDataFrame of lines, EPSG:4326.
    spacing_m : distance between neighbouring candidates on a street piece, metres (> 0); each
        piece (a network edge with ``net``, so split at crossings; else each line) is cut into
        equal steps no longer than this, both ends included.
    area : polygon (EPSG:4326); keep candidates within ``area_margin_m`` metres of it.
    net : the streets' network (its edges and metric CRS are used).

    Returns
    -------
    GeoDataFrame (EPSG:4326): ``candidate`` (0..n-1), ``street`` (the street's ``street_id_col``
    or index); points closer than 1 cm to an earlier one are dropped.
    """
    if not (np.isfinite(spacing_m) and spacing_m > 0):
        raise ValueError("spacing_m must be a positive number of metres")
    ids = (
        streets[street_id_col].to_numpy(dtype=object)
        if street_id_col in streets
        else streets.index.to_numpy()
    )
    if net is not None:
        crs, lines, row = net.crs, net.edge_geoms, net.edge_street
    else:
        crs = crs if crs is not None else metric_crs_for(streets)
        geoms = np.asarray(streets.geometry.to_crs(crs).values, dtype=object)
        ok = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
        lines, part_of = shapely.get_parts(geoms[ok], return_index=True)
        row = ok[part_of]
    length = shapely.length(lines)
    steps = np.maximum(1, np.ceil(length / spacing_m - 1e-6)).astype(np.int64)  # 1e-6: projection noise
    which = np.repeat(np.arange(len(lines)), steps + 1)
    k = np.arange(len(which)) - np.repeat(np.cumsum(steps + 1) - (steps + 1), steps + 1)
    pts = shapely.line_interpolate_point(lines[which], k * (length / steps)[which])
    _, first = np.unique(np.round(shapely.get_coordinates(pts) / 0.01), axis=0, return_index=True)
    first = np.sort(first)
    pts, which = pts[first], which[first]
    if area is not None:
        area_m = gpd.GeoSeries([area], crs=WGS84).to_crs(crs).iloc[0]
        near = shapely.dwithin(area_m, pts, area_margin_m)
        pts, which = pts[near], which[near]
    frame = gpd.GeoDataFrame(
        {"candidate": np.arange(len(pts)), "street": ids[row[which]]}, geometry=gpd.GeoSeries(pts, crs=crs)
    )
    return frame.to_crs(WGS84)


@dataclass
class SitingProblem:
    """Uncovered buildings (``demand``), ``candidates`` and which candidate reaches which.

    ``pairs`` has one row per (demand row ``d``, candidate row ``c``) within the radius and its
    ``distance_m`` by ``metric``; ``reach`` is the same as a (demand × candidates) matrix.
    """

    demand: gpd.GeoDataFrame  # EPSG:4326: id, households, weight, geometry
    candidates: gpd.GeoDataFrame  # EPSG:4326: candidate, street, geometry
    pairs: pd.DataFrame
    radius_m: float
    metric: str
    buildings: int  # all buildings considered, covered or not
    reach: sp.csr_matrix = field(init=False)

    def __post_init__(self) -> None:
        ones = np.ones(len(self.pairs), dtype=bool)
        shape = (len(self.demand), len(self.candidates))
        self.reach = sp.csr_matrix((ones, (self.pairs["d"], self.pairs["c"])), shape=shape, dtype=bool)


def _pairs_straight(demand_m: np.ndarray, cand_m: np.ndarray, radius_m: float) -> pd.DataFrame:
    tree = shapely.STRtree(demand_m)
    c_idx, d_idx = tree.query(cand_m, predicate="dwithin", distance=radius_m)
    dist = shapely.distance(demand_m[d_idx], cand_m[c_idx])
    keep = dist <= radius_m
    return pd.DataFrame({"d": d_idx[keep], "c": c_idx[keep], "distance_m": dist[keep]})


def _pairs_network(
    net: StreetNetwork,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    straight: pd.DataFrame,
    radius_m: float,
) -> pd.DataFrame:
    # A walk is never shorter than the straight line: only straight pairs can be network pairs.
    c_rows, d_rows = np.unique(straight["c"]), np.unique(straight["d"])
    if len(c_rows) == 0:
        return straight.iloc[:0]
    walk = network_distance_matrix(net, candidates.iloc[c_rows], demand.iloc[d_rows], limit_m=radius_m)
    ci, di = np.nonzero(walk <= radius_m)
    return pd.DataFrame({"d": d_rows[di], "c": c_rows[ci], "distance_m": walk[ci, di]})


def siting_problem(
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    *,
    radius_m: float,
    metric: str = "straight",
    net: StreetNetwork | None = None,
    building_id_col: str = "id",
    weight_col: str = "households",
    min_weight: float = 1.0,
) -> SitingProblem:
    """The buildings existing ``facilities`` leave uncovered and the candidates reaching them.

    Parameters
    ----------
    buildings : footprints (EPSG:4326) with ``building_id_col`` and ``weight_col``.
    facilities : existing facilities of the kind (EPSG:4326); None or empty for none.
    candidates : from :func:`street_candidates` (EPSG:4326).
    radius_m : service radius, metres; covered means distance <= radius_m.
    metric : "straight" (footprint to point) or "network" (walk; needs ``net``).
    min_weight : weight of a building with fewer households (so every building counts).
    """
    if metric not in ("straight", "network"):
        raise ValueError("metric must be 'straight' or 'network'")
    if metric == "network" and net is None:
        raise ValueError("the network metric needs a street network")
    if not (np.isfinite(radius_m) and radius_m >= 0):
        raise ValueError("radius_m must be a finite number >= 0")
    use_net = net if metric == "network" else None
    frame = gpd.GeoDataFrame(
        {
            "id": buildings[building_id_col].to_numpy(dtype=object),
            "households": pd.to_numeric(buildings[weight_col], errors="coerce").fillna(0).to_numpy(),
        },
        geometry=buildings.geometry.to_crs(WGS84).values,
        crs=WGS84,
    )
    covered = np.zeros(len(frame), dtype=bool)
    if facilities is not None and len(facilities) and len(frame):
        coverage = building_coverage(frame, facilities, radius_m=radius_m, net=use_net)
        covered = coverage[f"{metric}_covered"].to_numpy(dtype=bool)
    demand = frame[~covered].reset_index(drop=True)
    demand["weight"] = np.maximum(demand["households"].to_numpy(dtype=float), min_weight)
    crs = net.crs if use_net is not None else metric_crs_for(frame)
    demand_m = np.asarray(demand.geometry.to_crs(crs).values, dtype=object)
    cand_m = np.asarray(candidates.geometry.to_crs(crs).values, dtype=object)
    pairs = _pairs_straight(demand_m, cand_m, radius_m)
    if use_net is not None:
        pairs = _pairs_network(use_net, demand, candidates, pairs, radius_m)
    pairs = pairs.sort_values(["d", "c"]).reset_index(drop=True)
    return SitingProblem(
        demand, candidates.reset_index(drop=True), pairs, float(radius_m), metric, len(frame)
    )


@dataclass
class SitingResult:
    """Chosen ``sites`` (EPSG:4326), each with the buildings it newly covers (a building reached
    by several sites goes to the nearest), the ``unreachable`` buildings (no candidate within
    the radius) and all still ``uncovered`` ones (unreachable included), and a ``summary``."""

    sites: gpd.GeoDataFrame
    unreachable: gpd.GeoDataFrame
    uncovered: gpd.GeoDataFrame
    summary: dict[str, Any]


def _result(problem: SitingProblem, sol: Solution, objective: str, p: int | None) -> SitingResult:
    demand, cands = problem.demand, problem.candidates
    pairs = problem.pairs[problem.pairs["c"].isin(sol.chosen)]
    nearest = pairs.sort_values(["d", "distance_m", "c"]).drop_duplicates("d")
    groups = {c: g for c, g in nearest.groupby("c")}
    rows = []
    for c in sol.chosen:
        g = groups.get(c, nearest.iloc[:0])
        rows.append(
            {
                "candidate": int(cands["candidate"].iloc[c]),
                "street": cands["street"].iloc[c],
                "buildings": len(g),
                "households": int(demand["households"].iloc[g["d"]].sum()),
                "building_ids": [str(v) for v in demand["id"].iloc[g["d"]]],
                "reaches": int((pairs["c"] == c).sum()),
                "max_distance_m": round(float(g["distance_m"].max()), 2) if len(g) else 0.0,
                "geometry": cands.geometry.iloc[c],
            }
        )
    sites = gpd.GeoDataFrame(
        rows,
        columns=[
            "candidate",
            "street",
            "buildings",
            "households",
            "building_ids",
            "reaches",
            "max_distance_m",
            "geometry",
        ],
        crs=WGS84,
    )
    sites = sites.sort_values(["households", "buildings", "candidate"], ascending=[False, False, True])
    sites.insert(0, "site", np.arange(1, len(sites) + 1))
    reachable = np.zeros(len(demand), dtype=bool)
    reachable[problem.pairs["d"].to_numpy()] = True
    covered = np.zeros(len(demand), dtype=bool)
    covered[nearest["d"].to_numpy()] = True
    unreachable = demand[~reachable].drop(columns="weight").reset_index(drop=True)
    uncovered = demand[~covered].drop(columns="weight").reset_index(drop=True)
    summary = {
        "objective": objective,
        "p": p,
        "metric": problem.metric,
        "radius_m": problem.radius_m,
        "method": sol.method,
        "optimal": sol.optimal,
        "bound": sol.bound,
        "sites": len(sites),
        "buildings": problem.buildings,
        "candidates": len(cands),
        "demand_buildings": len(demand),
        "demand_households": int(demand["households"].sum()),
        "covered_buildings": int(covered.sum()),
        "covered_households": int(demand["households"][covered].sum()),
        "unreachable_buildings": len(unreachable),
        "uncovered_buildings": len(uncovered),
    }
    return SitingResult(sites.reset_index(drop=True), unreachable, uncovered, summary)


def suggest_cover_all(
    problem: SitingProblem, *, method: str = "auto", time_limit_s: float = 60.0
) -> SitingResult:
    """The fewest new sites covering every uncovered building a candidate can reach."""
    return _result(
        problem, solve_set_cover(problem.reach, method=method, time_limit_s=time_limit_s), "cover_all", None
    )


def suggest_best(
    problem: SitingProblem, p: int, *, method: str = "auto", time_limit_s: float = 60.0
) -> SitingResult:
    """At most ``p`` new sites covering the most weight (households, at least ``min_weight`` each)."""
    weights = problem.demand["weight"].to_numpy(dtype=float)
    sol = solve_max_cover(problem.reach, weights, p, method=method, time_limit_s=time_limit_s)
    return _result(problem, sol, "best", p)
