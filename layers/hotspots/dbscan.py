"""DBSCAN on planar coordinates in metres, bucketed on a square grid: scikit-learn's labels, faster.

The result is label for label what ``sklearn.cluster.DBSCAN(eps, min_samples).fit_predict(xy)``
returns (same numbers, not only the same partition; a test holds it equal):

- a point is *core* when at least ``min_samples`` points, itself included, lie within ``eps_m``
  (distance ``<= eps_m``, tested as ``dx*dx + dy*dy <= eps_m*eps_m`` like sklearn's KD-tree);
- clusters are the connected components of core points linked within ``eps_m``, numbered in the
  order of their lowest-index core point (sklearn's expansion loop starts a new cluster at the
  first unlabelled core point in input order, and finishes it before the next);
- a non-core point within ``eps_m`` of a core point is a *border* point and takes the lowest
  cluster number among the core points that reach it (sklearn completes cluster 0's expansion
  before cluster 1's, so the first cluster to reach a border point is the lowest-numbered);
- every other point is noise (``-1``).

Method: points are bucketed in square cells of side ``eps_m / √2`` (a little less, for rounding),
so any two points of one cell are within ``eps_m`` of each other. A cell holding at least
``min_samples`` points is all core; only points of sparser cells count their neighbours, in the
5 × 5 block of cells around their own (whole cells at once when the cell's box lies inside the
``eps_m`` circle). Core points of one cell always share a cluster, so union-find runs on cells:
a cheap first round links neighbouring cells through one representative pair each, and an exact
pairwise test settles only the cell pairs that the first round left in different components.
All work is vectorised numpy and ``scipy.sparse.csgraph``; memory is bounded by chunking.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from layers.hotspots.dbscan_grid import FORWARD, OFFSETS, Buckets, box_dist2, bucket, pair_hits, ragged

REP_SAMPLE = 32  # core points per cell looked at for round-1 representatives
RING1 = sorted(
    (k for k, (dx, dy) in enumerate(OFFSETS) if max(abs(dx), abs(dy)) == 1),
    key=lambda k: abs(OFFSETS[k]).sum(),
)
RING2 = [k for k, (dx, dy) in enumerate(OFFSETS) if max(abs(dx), abs(dy)) == 2]
DIRECTION = (np.sign(OFFSETS[:, 0]) + 1) * 3 + np.sign(OFFSETS[:, 1]) + 1  # 0..8; 8 - d is opposite


def dbscan_labels(xy_m: np.ndarray, *, eps_m: float, min_samples: int) -> np.ndarray:
    """DBSCAN cluster labels, identical to scikit-learn's (see the module docstring).

    Parameters
    ----------
    xy_m : array of shape (n, 2)
        Planar coordinates in metres (a metric CRS: x = easting, y = northing).
    eps_m : float
        Neighbourhood radius in metres (> 0); a neighbour lies at distance ``<= eps_m``.
    min_samples : int
        Points (the point itself included) within ``eps_m`` that make a point core (>= 1).

    Returns
    -------
    ndarray of int64, shape (n,)
        Cluster numbers 0, 1, ... in the order of each cluster's lowest-index core point;
        ``-1`` for noise.
    """
    xy = np.asarray(xy_m, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError("xy_m must have shape (n, 2)")
    if not (math.isfinite(eps_m) and eps_m > 0):
        raise ValueError("eps_m must be a positive number of metres")
    if int(min_samples) != min_samples or min_samples < 1:
        raise ValueError("min_samples must be an integer >= 1")
    if not np.isfinite(xy).all():
        raise ValueError("xy_m holds non-finite coordinates")
    n = len(xy)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    b = bucket(xy, float(eps_m))
    eps2 = float(eps_m) * float(eps_m)
    core = _core_mask(b, eps_m, eps2, int(min_samples))
    if not core.any():
        return np.full(n, -1, dtype=np.int64)
    cell_label = _cell_labels(b, core, eps_m, eps2)
    labels_sorted = _point_labels(b, core, cell_label, eps_m, eps2)
    labels = np.empty(n, dtype=np.int64)
    labels[b.order] = labels_sorted
    return labels


def _core_mask(b: Buckets, eps: float, eps2: float, min_samples: int) -> np.ndarray:
    """Core flag of each point in bucket order."""
    core = np.repeat(b.count >= min_samples, b.count)
    sparse = np.flatnonzero(~core)
    if len(sparse) == 0:
        return core
    total = b.count[b.cell[sparse]].astype(np.int64)  # own cell: all within eps
    active = np.arange(len(sparse))
    # Ring 1 (the 8 adjacent cells): whole cells inside the eps circle count at once, and a point
    # drops out as soon as they make it core; then point pairs with the partly covered ones.
    pp, pq = _ring_pairs(b, sparse, total, active, RING1, eps, min_samples)
    _add_hits(b, sparse, total, pp, pq, eps2, min_samples)
    # Ring 2 (the 16 cells beyond): never wholly inside the circle; pairs, for the undecided only.
    active = np.flatnonzero(total < min_samples)
    pp, pq = _ring_pairs(b, sparse, total, active, RING2, eps, min_samples)
    _add_hits(b, sparse, total, pp, pq, eps2, min_samples)
    core[sparse] = total >= min_samples
    return core


def _ring_pairs(
    b: Buckets,
    sparse: np.ndarray,
    total: np.ndarray,
    active: np.ndarray,
    offsets: list[int],
    eps: float,
    min_samples: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Add whole cells inside the circle to ``total``; return (point, cell) pairs to test."""
    part_p, part_q = [], []
    for k in offsets:
        active = active[total[active] < min_samples]
        q = b.nbr[b.cell[sparse[active]], k]
        has = np.flatnonzero(q >= 0)
        p_loc, q = active[has], q[has]
        dmin2, dmax2 = box_dist2(b, b.x[sparse[p_loc]], b.y[sparse[p_loc]], q)
        inside = dmax2 <= (eps - 2 * b.tol) ** 2
        if inside.any():
            total += np.bincount(p_loc[inside], weights=b.count[q[inside]], minlength=len(total)).astype(
                np.int64
            )
        partial = ~inside & (dmin2 <= (eps + b.tol) ** 2)
        part_p.append(p_loc[partial])
        part_q.append(q[partial])
    return np.concatenate(part_p), np.concatenate(part_q)


def _add_hits(
    b: Buckets,
    sparse: np.ndarray,
    total: np.ndarray,
    pp: np.ndarray,
    pq: np.ndarray,
    eps2: float,
    min_samples: int,
) -> None:
    """Add to ``total`` the points of cells ``pq`` within eps of points ``pp`` still undecided."""
    undecided = total[pp] < min_samples
    pp, pq = pp[undecided], pq[undecided]
    hits = pair_hits(b, sparse[pp], b.start[pq], b.count[pq], eps2)
    total += np.bincount(pp, weights=hits, minlength=len(total)).astype(np.int64)


def _core_runs(b: Buckets, core: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucket positions of core points (grouped by cell), and each cell's run in that list."""
    pool = np.flatnonzero(core)
    n_core = np.bincount(b.cell[pool], minlength=len(b.count))
    return pool, np.cumsum(n_core) - n_core, n_core


def _representatives(b: Buckets, pool: np.ndarray, run_start: np.ndarray, n_core: np.ndarray) -> np.ndarray:
    """(cells, 9) bucket positions: per cell and direction (``DIRECTION`` of an offset), a core
    point of the cell near the corner or edge midpoint facing that way (-1 without core points).
    Only the first REP_SAMPLE core points of a cell are looked at: round 1 needs good links, not
    the best ones (round 2 is exact)."""
    reps = np.full((len(b.count), 9), -1, dtype=np.int64)
    cells = np.flatnonzero(n_core > 0)
    owner_all, rank = ragged(n_core[cells])
    sample = pool[(run_start[cells][owner_all] + rank)[rank < REP_SAMPLE]]
    size = np.minimum(n_core[cells], REP_SAMPLE)
    starts = np.cumsum(size) - size
    owner = b.cell[sample]
    for sx in (-1, 0, 1):
        for sy in (-1, 0, 1):
            if sx == sy == 0:
                continue  # a cell is never linked with itself
            ax = b.x0 + (b.cx[owner] - 2 + (1 + sx) / 2) * b.side
            ay = b.y0 + (b.cy[owner] - 2 + (1 + sy) / 2) * b.side
            d = (b.x[sample] - ax) ** 2 + (b.y[sample] - ay) ** 2
            best = np.minimum.reduceat(d, starts)
            hit = np.flatnonzero(d == np.repeat(best, size))
            first = hit[np.r_[True, owner[hit][1:] != owner[hit][:-1]]]
            reps[owner[first], (sx + 1) * 3 + sy + 1] = sample[first]
    return reps


def _cell_labels(b: Buckets, core: np.ndarray, eps: float, eps2: float) -> np.ndarray:
    """Cluster number of each cell's core points (-1 for cells without core points)."""
    pool, run_start, n_core = _core_runs(b, core)
    ncell = len(b.count)
    cells = np.flatnonzero(n_core > 0)
    pc, pq = [], []
    for k in FORWARD:
        q = b.nbr[cells, k]
        ok = q >= 0
        ok[ok] = n_core[q[ok]] > 0
        pc.append(cells[ok])
        pq.append(q[ok])
    pair_c, pair_q = np.concatenate(pc), np.concatenate(pq)
    pair_k = np.concatenate([np.full(len(c), k) for c, k in zip(pc, FORWARD, strict=True)])
    # Round 1: one representative pair per cell pair (facing corners or edge midpoints).
    reps = _representatives(b, pool, run_start, n_core)
    ra, rb = reps[pair_c, DIRECTION[pair_k]], reps[pair_q, 8 - DIRECTION[pair_k]]
    linked = (b.x[ra] - b.x[rb]) ** 2 + (b.y[ra] - b.y[rb]) ** 2 <= eps2
    comp = _components(ncell, pair_c[linked], pair_q[linked])
    # Round 2: an exact test, only where round 1 left the two cells apart.
    todo = np.flatnonzero(comp[pair_c] != comp[pair_q])
    if len(todo):
        exact = _pairs_linked(b, pool, run_start, n_core, pair_c[todo], pair_q[todo], eps, eps2)
        keep = np.r_[np.flatnonzero(linked), todo[exact]]
        comp = _components(ncell, pair_c[keep], pair_q[keep])
    # Number clusters by their lowest input index among core points, as sklearn does.
    seed_of_cell = np.minimum.reduceat(b.order[pool], run_start[cells])
    seed = np.full(ncell, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(seed, comp[cells], seed_of_cell)
    used = np.unique(comp[cells])
    rank = np.full(ncell, -1, dtype=np.int64)
    rank[used[np.argsort(seed[used], kind="stable")]] = np.arange(len(used))
    label = np.full(ncell, -1, dtype=np.int64)
    label[cells] = rank[comp[cells]]
    return label


def _components(ncell: int, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Connected component of each cell given linked cell pairs (a[i], z[i])."""
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, z)), shape=(ncell, ncell)).tocsr()
    return connected_components(graph, directed=False)[1]


def _near_box(
    b: Buckets,
    pool: np.ndarray,
    run_start: np.ndarray,
    n_core: np.ndarray,
    cells: np.ndarray,
    towards: np.ndarray,
    eps: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Core points of ``cells[i]`` within eps of the box of ``towards[i]``: (pair index, position)."""
    owner, rank = ragged(n_core[cells])
    pos = pool[run_start[cells][owner] + rank]
    dmin2, _ = box_dist2(b, b.x[pos], b.y[pos], towards[owner])
    keep = dmin2 <= (eps + b.tol) ** 2
    return owner[keep], pos[keep]


def _pairs_linked(
    b: Buckets,
    pool: np.ndarray,
    run_start: np.ndarray,
    n_core: np.ndarray,
    pc: np.ndarray,
    pq: np.ndarray,
    eps: float,
    eps2: float,
) -> np.ndarray:
    """Exact: does any core point of cell pc[i] lie within eps of a core point of cell pq[i]?"""
    a_pair, a_pos = _near_box(b, pool, run_start, n_core, pc, pq, eps)
    z_pair, z_pos = _near_box(b, pool, run_start, n_core, pq, pc, eps)
    z_len = np.bincount(z_pair, minlength=len(pc))
    z_start = np.cumsum(z_len) - z_len
    hits = pair_hits(b, a_pos, z_start[a_pair], z_len[a_pair], eps2, pool=z_pos)
    return np.bincount(a_pair, weights=hits, minlength=len(pc)) > 0


def _point_labels(
    b: Buckets, core: np.ndarray, cell_label: np.ndarray, eps: float, eps2: float
) -> np.ndarray:
    """Labels in bucket order: core points their cell's, border points the lowest reachable."""
    labels = np.where(core, cell_label[b.cell], -1)
    pool, run_start, n_core = _core_runs(b, core)
    loose = np.flatnonzero(~core)
    if len(loose) == 0 or len(pool) == 0:
        return labels
    best = np.full(len(loose), np.iinfo(np.int64).max, dtype=np.int64)
    px, py = b.x[loose], b.y[loose]
    part_p, part_q = [], []
    for k in range(len(OFFSETS)):
        q = b.nbr[b.cell[loose], k]
        has = q >= 0
        has[has] = n_core[q[has]] > 0
        has = np.flatnonzero(has)
        dmin2, dmax2 = box_dist2(b, px[has], py[has], q[has])
        inside = dmax2 <= (eps - 2 * b.tol) ** 2
        np.minimum.at(best, has[inside], cell_label[q[has[inside]]])
        partial = ~inside & (dmin2 <= (eps + b.tol) ** 2)
        part_p.append(has[partial])
        part_q.append(q[has[partial]])
    pp, pq = np.concatenate(part_p), np.concatenate(part_q)
    hits = pair_hits(b, loose[pp], run_start[pq], n_core[pq], eps2, pool=pool)
    reach = hits > 0
    np.minimum.at(best, pp[reach], cell_label[pq[reach]])
    labels[loose] = np.where(best < np.iinfo(np.int64).max, best, -1)
    return labels
