"""DBSCAN on clustered problems in a 20 × 20 km town: layers.hotspots.dbscan_labels against
scikit-learn's ``DBSCAN(eps, min_samples).fit_predict`` on the same points.

The points (30 % spread evenly, 70 % in 400 Gaussian hot spots of 30–300 m with Pareto weights,
seeded) are written once to a temp .npy; each implementation then runs in its own fresh process
that loads them, so its peak memory (ru_maxrss above the level after loading) is its own. The
labels must be identical, number for number (not only the same partition). Target
(docs PERFORMANCE.md): ≤ 1/5 of scikit-learn's time.

    .venv/bin/python bench/hotspots_dbscan.py                      # 1e6 and 2e5 points
    .venv/bin/python bench/hotspots_dbscan.py --n 200000 --eps-m 30 --min-samples 10
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIDE_M = 20_000.0
TARGET = 0.2


def make_points(n: int, seed: int = 1) -> np.ndarray:
    """``n`` clustered positions (metres, EPSG:4549-like offsets) in a 20 × 20 km square."""
    rng = np.random.default_rng(seed)
    even = int(0.3 * n)
    centres = rng.uniform(0, SIDE_M, size=(400, 2))
    spread = rng.uniform(30, 300, size=400)
    weight = rng.pareto(1.5, 400) + 1
    which = rng.choice(400, size=n - even, p=weight / weight.sum())
    spots = centres[which] + rng.normal(size=(n - even, 2)) * spread[which, None]
    xy = np.vstack([rng.uniform(0, SIDE_M, size=(even, 2)), spots])
    rng.shuffle(xy)
    return xy + np.array([440_000.0, 3_490_000.0])


def worker(name: str, data: str, out: str, eps_m: float, min_samples: int) -> None:
    sys.path.insert(0, str(ROOT))
    if name == "ours":
        from layers.hotspots import dbscan_labels

        def run(xy):
            return dbscan_labels(xy, eps_m=eps_m, min_samples=min_samples)
    else:
        from sklearn.cluster import DBSCAN

        def run(xy):
            return DBSCAN(eps=eps_m, min_samples=min_samples).fit_predict(xy)

    xy = np.load(data)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    labels = run(xy)
    seconds = time.perf_counter() - start
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    np.save(out, labels.astype(np.int64))
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def measure(n: int, eps_m: float, min_samples: int, tmp: Path) -> dict:
    data = tmp / f"points_{n}.npy"
    np.save(data, make_points(n))
    result: dict = {"n": n}
    for name in ("ours", "sklearn"):
        out = tmp / f"labels_{name}_{n}.npy"
        cmd = [sys.executable, __file__, "--worker", name, "--data", str(data), "--out", str(out)]
        cmd += ["--eps-m", str(eps_m), "--min-samples", str(min_samples)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        result[name] = json.loads(done.stdout.strip().splitlines()[-1])
        result[name]["labels"] = np.load(out)
    ours, ref = result["ours"].pop("labels"), result["sklearn"].pop("labels")
    result["identical"] = bool(np.array_equal(ours, ref))
    result["clusters"], result["noise"] = int(ref.max() + 1), int((ref < 0).sum())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1_000_000, 200_000])
    parser.add_argument("--eps-m", type=float, default=50.0)
    parser.add_argument("--min-samples", type=int, default=5)
    parser.add_argument("--worker", choices=["ours", "sklearn"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out, args.eps_m, args.min_samples)
        return
    print(f"DBSCAN eps {args.eps_m:g} m, min_samples {args.min_samples}; 20 x 20 km, clustered points")
    print(f"{'points':>9} {'ours s':>8} {'sklearn s':>10} {'ratio':>7} {'target':>7} "
          f"{'ours MB':>8} {'sklearn MB':>11} {'identical':>10} {'clusters':>9} {'noise':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-dbscan-") as tmp:
        for n in args.n:
            r = measure(n, args.eps_m, args.min_samples, Path(tmp))
            ratio = r["ours"]["seconds"] / r["sklearn"]["seconds"]
            print(
                f"{n:>9} {r['ours']['seconds']:>8.2f} {r['sklearn']['seconds']:>10.2f} {ratio:>7.3f} "
                f"{'<= ' + str(TARGET):>7} {r['ours']['peak_mb']:>8.0f} {r['sklearn']['peak_mb']:>11.0f} "
                f"{str(r['identical']):>10} {r['clusters']:>9} {r['noise']:>8}",
                flush=True,
            )


if __name__ == "__main__":
    main()
