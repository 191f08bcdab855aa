"""Getis-Ord Gi* on 10,000 cells: layers.hotspots.gistar against esda's
``G_Local(y, w, star=True, transform="B")`` on the same values and the same neighbour sets.

The town is 20 × 20 km of 200 m square cells (100 × 100); the values are problems per km² from
200,000 clustered problems (bench/hotspots_dbscan.make_points); the weights are a 300 m distance
band between cell centres (the 8 surrounding cells), built once as a scipy.sparse matrix and, for
esda, as a libpysal ``W`` from the same neighbour lists. Each implementation runs in its own fresh
process, so "first call" includes importing the library (and whatever it compiles or caches),
and peak memory (ru_maxrss above the level after loading the inputs) is its own. esda runs twice:
as a user calls it (999 permutations, the default) and analytic only (``permutations=0``).
Targets (docs PERFORMANCE.md): the same z-scores; first call <= 1 s.

    .venv/bin/python bench/hotspots_gistar.py [--side 100] [--warm 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CELL_M = 200.0
BAND_M = 300.0


def make_inputs(side: int, folder: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT))
    from scipy.sparse import save_npz

    from bench.hotspots_dbscan import make_points
    from layers.hotspots import distance_band_weights

    xy = make_points(200_000) - np.array([440_000.0, 3_490_000.0])
    col, row = (np.clip(xy // CELL_M, 0, side - 1).astype(np.int64)).T
    counts = np.bincount(row * side + col, minlength=side * side)
    y = counts / (CELL_M * CELL_M / 1e6)  # problems per km²
    cols, rows = np.meshgrid(np.arange(side), np.arange(side))
    centres = (np.c_[cols.ravel(), rows.ravel()] + 0.5) * CELL_M
    start = time.perf_counter()
    w = distance_band_weights(centres, band_m=BAND_M)
    (folder / "weights_s").write_text(str(time.perf_counter() - start))
    np.save(folder / "y.npy", y)
    save_npz(folder / "w.npz", w)
    return folder / "y.npy", folder / "w.npz"


def worker(name: str, folder: Path, warm: int) -> None:
    from scipy.sparse import load_npz

    sys.path.insert(0, str(ROOT))
    y, w = np.load(folder / "y.npy"), load_npz(folder / "w.npz").tocsr()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    extra: dict = {}
    start = time.perf_counter()
    if name == "ours":
        from layers.hotspots import gistar

        def call():
            return gistar(y, w)[1]
    else:
        import esda
        from libpysal.weights import W

        extra["import_s"] = time.perf_counter() - start
        built = time.perf_counter()
        lists = {i: w.indices[w.indptr[i] : w.indptr[i + 1]].tolist() for i in range(w.shape[0])}
        lw = W(lists, silence_warnings=True)
        extra["build_w_s"] = time.perf_counter() - built
        permutations = 999 if name == "esda" else 0

        def call():
            return esda.G_Local(y, lw, star=True, transform="B", permutations=permutations).Zs

    z = call()
    first = time.perf_counter() - start
    times = []
    for _ in range(warm):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    np.save(folder / f"z_{name}.npy", z)
    print(json.dumps({"first_s": first, "warm_s": statistics.median(times), "peak_mb": peak_mb, **extra}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=100, help="cells per side (100: 10,000 cells)")
    parser.add_argument("--warm", type=int, default=5, help="warm calls (median reported)")
    parser.add_argument("--worker", choices=["ours", "esda", "esda_analytic"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.folder), args.warm)
        return
    with tempfile.TemporaryDirectory(prefix="bench-gistar-") as tmp:
        folder = Path(tmp)
        make_inputs(args.side, folder)
        runs = {}
        for name in ("ours", "esda_analytic", "esda"):
            cmd = [sys.executable, __file__, "--worker", name, "--folder", tmp, "--warm", str(args.warm)]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
        z = {name: np.load(folder / f"z_{name}.npy") for name in runs}
        weights_s = float((folder / "weights_s").read_text())
    try:
        import numba  # noqa: F401

        jit = "numba installed"
    except ImportError:
        jit = "numba NOT installed: esda's permutations run as plain Python"
    print(f"Gi* (star, binary weights, {BAND_M:g} m band) on {args.side**2} cells of {CELL_M:g} m; {jit}")
    print(f"{'':<32} {'first call s':>12} {'warm s':>9} {'peak MB':>8} {'max |dz| vs ours':>17}")
    labels = {
        "ours": "ours (scipy.sparse)",
        "esda_analytic": "esda G_Local permutations=0",
        "esda": "esda G_Local (999 permutations)",
    }
    for name, label in labels.items():
        r = runs[name]
        dz = float(np.nanmax(np.abs(z[name] - z["ours"])))
        print(f"{label:<32} {r['first_s']:>12.3f} {r['warm_s']:>9.4f} {r['peak_mb']:>8.0f} {dz:>17.2e}")
    ours, anchor = runs["ours"], runs["esda"]
    print(
        f"ratio ours/esda: first call {ours['first_s'] / anchor['first_s']:.4f}, warm "
        f"{ours['warm_s'] / anchor['warm_s']:.4f} (vs analytic-only: "
        f"{ours['warm_s'] / runs['esda_analytic']['warm_s']:.3f}); target: same z, first call <= 1 s"
    )
    print(
        f"esda: import {anchor['import_s']:.2f} s, libpysal W from the neighbour lists "
        f"{anchor['build_w_s']:.3f} s (inside its first call); the shared scipy.sparse band weights "
        f"took {weights_s * 1e3:.0f} ms (not in either figure)"
    )


if __name__ == "__main__":
    main()
