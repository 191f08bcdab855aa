"""Square-cell bucketing of planar points for ``layers.hotspots.dbscan``: cells of side
``eps / √2`` (less a rounding margin) so that two points of one cell are always within ``eps``,
a table of the 5 × 5 neighbouring cells, box distances and batched pair tests. Coordinates are
metres in a metric CRS; pair distances are tested exactly as scikit-learn's KD-tree does
(``dx*dx + dy*dy <= eps*eps`` on the input coordinates), box tests with a margin ``tol``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CHUNK_PAIRS = 1 << 20  # candidate point pairs handled per numpy batch
OFFSETS = np.array([(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)], dtype=np.int64)
FORWARD = np.array([k for k, (dx, dy) in enumerate(OFFSETS) if dx > 0 or (dx == 0 and dy > 0)])


@dataclass
class Buckets:
    x: np.ndarray  # coordinates in bucket order (metres)
    y: np.ndarray
    order: np.ndarray  # bucket position -> input index
    cell: np.ndarray  # bucket position -> cell number
    start: np.ndarray  # cell -> first bucket position
    count: np.ndarray  # cell -> number of points
    cx: np.ndarray  # cell -> column, row (integers)
    cy: np.ndarray
    nbr: np.ndarray  # (cells, 25): cell number at each offset, -1 when empty
    side: float
    x0: float
    y0: float
    tol: float


def bucket(xy: np.ndarray, eps: float) -> Buckets:
    """Sort points into cells of side eps/√2 (padded by two cells) and tabulate neighbours."""
    x0, y0 = xy.min(axis=0)
    # Rounding slack: binning and box tests may be off by this much; pair tests are exact.
    tol = 1e-9 * eps + 8 * float(np.spacing(np.abs(xy).max()))
    side = (eps - 4 * tol) / math.sqrt(2.0)
    ix = np.floor((xy[:, 0] - x0) / side).astype(np.int64) + 2
    iy = np.floor((xy[:, 1] - y0) / side).astype(np.int64) + 2
    rows = int(iy.max()) + 3
    if (int(ix.max()) + 3) * rows >= 2**62:
        raise ValueError("the extent is too large for eps_m; split the data")
    key = ix * rows + iy
    order = np.argsort(key, kind="stable")
    skey = key[order]
    first = np.flatnonzero(np.r_[True, skey[1:] != skey[:-1]])
    count = np.diff(np.r_[first, len(skey)])
    ukey = skey[first]
    cell = np.repeat(np.arange(len(ukey)), count)
    nbr = np.empty((len(ukey), len(OFFSETS)), dtype=np.int64)
    size = (int(ix.max()) + 3) * rows
    if size <= max(8 * len(xy), 1 << 22):  # a dense table of cell numbers: one gather per offset
        table = np.full(size, -1, dtype=np.int64)
        table[ukey] = np.arange(len(ukey))
        for k, (dx, dy) in enumerate(OFFSETS):
            nbr[:, k] = table[ukey + (dx * rows + dy)]
    else:
        for k, (dx, dy) in enumerate(OFFSETS):
            want = ukey + dx * rows + dy
            pos = np.minimum(np.searchsorted(ukey, want), len(ukey) - 1)
            nbr[:, k] = np.where(ukey[pos] == want, pos, -1)
    return Buckets(
        x=xy[order, 0].copy(),
        y=xy[order, 1].copy(),
        order=order,
        cell=cell,
        start=first,
        count=count,
        cx=ukey // rows,
        cy=ukey % rows,
        nbr=nbr,
        side=side,
        x0=float(x0),
        y0=float(y0),
        tol=tol,
    )


def box_dist2(b: Buckets, px: np.ndarray, py: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared min and max distance from points to the boxes of cells ``q`` (boxes widened by tol)."""
    bx0 = b.x0 + (b.cx[q] - 2) * b.side - b.tol
    by0 = b.y0 + (b.cy[q] - 2) * b.side - b.tol
    bx1, by1 = bx0 + b.side + 2 * b.tol, by0 + b.side + 2 * b.tol
    dxn = np.maximum(np.maximum(bx0 - px, px - bx1), 0.0)
    dyn = np.maximum(np.maximum(by0 - py, py - by1), 0.0)
    dxf = np.maximum(px - bx0, bx1 - px)
    dyf = np.maximum(py - by0, by1 - py)
    return dxn * dxn + dyn * dyn, dxf * dxf + dyf * dyf


def ragged(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges of the given lengths: owner of each expanded item and its rank in its range."""
    owner = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    return owner, np.arange(len(owner)) - starts[owner]


def chunks(lengths: np.ndarray) -> list[slice]:
    """Split ranges into consecutive batches of about CHUNK_PAIRS expanded items."""
    ends = np.cumsum(lengths)
    cuts = np.searchsorted(ends, np.arange(CHUNK_PAIRS, ends[-1] if len(ends) else 0, CHUNK_PAIRS))
    bounds = np.unique(np.r_[0, cuts + 1, len(lengths)].clip(0, len(lengths)))
    return [slice(int(a), int(z)) for a, z in zip(bounds[:-1], bounds[1:], strict=True)]


def pair_hits(
    b: Buckets,
    p: np.ndarray,
    q_start: np.ndarray,
    q_len: np.ndarray,
    eps2: float,
    pool: np.ndarray | None = None,
) -> np.ndarray:
    """For each (point p, run of bucket positions) pair: how many of the run lie within eps."""
    out = np.zeros(len(p), dtype=np.int64)
    for sl in chunks(q_len):
        owner, rank = ragged(q_len[sl])
        j = q_start[sl][owner] + rank
        if pool is not None:
            j = pool[j]
        pp = p[sl][owner]
        dx, dy = b.x[pp] - b.x[j], b.y[pp] - b.y[j]
        out[sl] = np.bincount(owner, weights=(dx * dx + dy * dy <= eps2), minlength=sl.stop - sl.start)
    return out
