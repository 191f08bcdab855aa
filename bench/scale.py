"""A deterministic synthetic city at scale, cached as .npy/.npz files for every benchmark.

A 20 × 20 km city centred on lon 120.62, lat 31.30 (geometry generated in metres in CGCS2000 /
3-degree Gauss-Krüger CM 120E, EPSG:4549, stored as EPSG:4326 lon/lat like the project does):

- grids: ≥ 1,000 Voronoi cells (scipy.spatial.Voronoi of seeds mirrored across the four sides,
  so every cell is bounded; clipped to the square), denser towards the centre, with 15-digit
  codes (district 320505 + street + community + sequence); neighbours share exact vertices;
- streets: a jittered lattice of 220 × 220 nodes (~91 m apart; 48,400 nodes, 96,360 segments);
- buildings: 100,000 rectangles (10–40 m) with use, households and population;
- facilities: 10,000 points along the streets (hydrant, litter_bin, refuse_point, toilet,
  street_light);
- problems: 1,000,000 points, 60 % in 300 Gaussian clusters, 39.9 % spread like the grid seeds,
  and 1,000 placed exactly on grid vertices (edge ties).

No GeoParquet (pyarrow is not installed): geometries are stored as shapely ragged arrays in .npz
files under ``data/bench/`` (gitignored), built once (~10 s) and reused.

    from bench.scale import load_scale
    city = load_scale()                  # builds the cache on the first call
    city.grids, city.buildings, city.facilities, city.streets    # GeoDataFrames, EPSG:4326
    city.problem_lonlat                  # (1e6, 2) float64, EPSG:4326
    city.problems()                      # GeoSeries of Points, EPSG:4326

    .venv/bin/python bench/scale.py [--rebuild]     # build (or rebuild) and describe the cache
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import Voronoi

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "data" / "bench"
VERSION = 1
METRIC_EPSG = 4549  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
CENTRE_LONLAT = (120.62, 31.30)
SIDE_M = 20_000.0
N_GRID_SEEDS = 1_100
LATTICE_NODES = 220
N_BUILDINGS = 100_000
N_FACILITIES = 10_000
N_PROBLEMS = 1_000_000
N_VERTEX_PROBLEMS = 1_000
FACILITY_KINDS = {
    "hydrant": 0.2,
    "litter_bin": 0.3,
    "refuse_point": 0.15,
    "toilet": 0.03,
    "street_light": 0.32,
}


@dataclass(frozen=True)
class Scale:
    """The synthetic city; every frame is EPSG:4326, ``metric_crs`` is the CRS it was made in."""

    folder: Path
    metric_crs: pyproj.CRS
    grids: gpd.GeoDataFrame  # code, community_code, geometry (Polygon)
    buildings: gpd.GeoDataFrame  # id, use, households, population, geometry (Polygon)
    facilities: gpd.GeoDataFrame  # id, kind, geometry (Point)
    streets: gpd.GeoDataFrame  # u, v, length_m, highway, geometry (LineString)
    node_lonlat: np.ndarray  # (48_400, 2) street nodes, lon/lat
    problem_lonlat: np.ndarray  # (1e6, 2) lon/lat

    def problems(self, n: int | None = None) -> gpd.GeoSeries:
        """The first ``n`` problems (all by default) as a GeoSeries of Points, EPSG:4326."""
        xy = self.problem_lonlat if n is None else self.problem_lonlat[:n]
        return gpd.GeoSeries(shapely.points(xy), crs="EPSG:4326")


def _transformer() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(METRIC_EPSG, 4326, always_xy=True)


def _origin_m() -> tuple[float, float]:
    to_m = pyproj.Transformer.from_crs(4326, METRIC_EPSG, always_xy=True)
    cx, cy = to_m.transform(*CENTRE_LONLAT)
    return cx - SIDE_M / 2, cy - SIDE_M / 2


def _to_lonlat(geoms: np.ndarray) -> np.ndarray:
    t = _transformer()
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _seeds_m(rng: np.random.Generator, n: int) -> np.ndarray:
    """Positions in [0, SIDE_M)², 60 % uniform, 40 % concentrated around the centre."""
    n_centre = int(n * 0.4)
    centre = rng.normal(SIDE_M / 2, SIDE_M / 6, size=(n_centre, 2))
    uniform = rng.uniform(0, SIDE_M, size=(n - n_centre, 2))
    pts = np.vstack([uniform, centre])
    return np.clip(pts, 1.0, SIDE_M - 1.0)


def _voronoi_cells_m(seeds: np.ndarray) -> np.ndarray:
    """Bounded Voronoi cells of ``seeds`` clipped to the square (mirror trick)."""
    s = SIDE_M
    mirrored = [
        seeds,
        seeds * [-1, 1],
        seeds * [-1, 1] + [2 * s, 0],
        seeds * [1, -1],
        seeds * [1, -1] + [0, 2 * s],
    ]
    vor = Voronoi(np.vstack(mirrored))
    box = shapely.box(0, 0, s, s)
    cells = []
    for i in range(len(seeds)):
        region = vor.regions[vor.point_region[i]]
        cells.append(shapely.Polygon(vor.vertices[region]))
    clipped = shapely.intersection(np.array(cells, dtype=object), box)
    return shapely.normalize(clipped)


def _grid_codes(cells_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes: 25 streets of 4 × 4 km, 4 communities of 2 × 2 km each, sequence north→south, west→east."""
    rep = shapely.get_coordinates(shapely.point_on_surface(cells_m))
    block = np.minimum((rep // 2000).astype(int), 9)  # 10 × 10 community blocks
    street = 1 + (block[:, 1] // 2) * 5 + block[:, 0] // 2
    community = 1 + (block[:, 1] % 2) * 2 + block[:, 0] % 2
    community_code = np.array([f"320505{a:03d}{b:03d}" for a, b in zip(street, community, strict=True)])
    order = np.lexsort((rep[:, 0], -rep[:, 1], community_code))
    seq = np.zeros(len(cells_m), dtype=int)
    last, n = None, 0
    for i in order:
        n = n + 1 if community_code[i] == last else 1
        last = community_code[i]
        seq[i] = n
    codes = np.array([f"{c}{q:03d}" for c, q in zip(community_code, seq, strict=True)])
    return codes, community_code


def _lattice_m(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = LATTICE_NODES
    step = SIDE_M / (n - 1)
    gx, gy = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    nodes = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-15, 15, size=(n * n, 2))
    nodes = np.clip(nodes, 0.0, SIDE_M)
    idx = np.arange(n * n).reshape(n, n)
    edges = np.vstack(
        [
            np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
            np.column_stack([idx[:-1].ravel(), idx[1:].ravel()]),
        ]
    )
    return nodes, edges


def _highway(edges: np.ndarray) -> np.ndarray:
    n = LATTICE_NODES
    row_u, col_u = edges[:, 0] // n, edges[:, 0] % n
    horizontal = edges[:, 1] - edges[:, 0] == 1
    line = np.where(horizontal, row_u, col_u)
    return np.where(line % 20 == 0, "primary", np.where(line % 5 == 0, "secondary", "residential"))


def _buildings_m(rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    centres = _seeds_m(rng, N_BUILDINGS)
    w, h = rng.uniform(10, 40, N_BUILDINGS), rng.uniform(10, 30, N_BUILDINGS)
    geoms = shapely.box(
        centres[:, 0] - w / 2, centres[:, 1] - h / 2, centres[:, 0] + w / 2, centres[:, 1] + h / 2
    )
    use = rng.choice(
        ["residential", "commercial", "public", "industrial"], N_BUILDINGS, p=[0.7, 0.2, 0.05, 0.05]
    )
    households = np.where(use == "residential", rng.integers(1, 121, N_BUILDINGS), 0)
    population = np.round(households * rng.uniform(2.0, 3.2, N_BUILDINGS)).astype(int)
    ids = np.array([f"b{i:06d}" for i in range(N_BUILDINGS)])
    return geoms, pd.DataFrame({"id": ids, "use": use, "households": households, "population": population})


def _facilities_m(
    rng: np.random.Generator, nodes: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    pick = rng.integers(0, len(edges), N_FACILITIES)
    t = rng.uniform(0, 1, N_FACILITIES)[:, None]
    a, b = nodes[edges[pick, 0]], nodes[edges[pick, 1]]
    xy = a + t * (b - a) + rng.uniform(-4, 4, size=(N_FACILITIES, 2))
    kinds = rng.choice(list(FACILITY_KINDS), N_FACILITIES, p=list(FACILITY_KINDS.values()))
    ids = np.array([f"f{i:05d}" for i in range(N_FACILITIES)])
    return shapely.points(xy), pd.DataFrame({"id": ids, "kind": kinds})


def _problems_m(rng: np.random.Generator) -> np.ndarray:
    n_vertex = N_VERTEX_PROBLEMS
    n_cluster = int(N_PROBLEMS * 0.6)
    n_spread = N_PROBLEMS - n_cluster - n_vertex
    hot = _seeds_m(rng, 300)
    which = rng.integers(0, len(hot), n_cluster)
    sigma = rng.uniform(30, 300, len(hot))[which, None]
    clustered = hot[which] + rng.normal(0, 1, size=(n_cluster, 2)) * sigma
    pts = np.vstack([clustered, _seeds_m(rng, n_spread)])
    return np.clip(pts, 0.5, SIDE_M - 0.5)


def _save_geoms(path: Path, geoms: np.ndarray, **columns: np.ndarray) -> None:
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    arrays = {"geom_type": np.array(int(kind)), "coords": coords, **columns}
    arrays.update({f"offsets{i}": o for i, o in enumerate(offsets)})
    np.savez(path, **arrays)


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    arrays = {c: frame[c].to_numpy() for c in frame}
    return {c: v.astype(str) if v.dtype == object else v for c, v in arrays.items()}


def _load_geoms(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    data = np.load(path)
    offsets = tuple(data[k] for k in sorted(k for k in data.files if k.startswith("offsets")))
    geoms = shapely.from_ragged_array(
        shapely.GeometryType(int(data["geom_type"])), data["coords"], offsets or None
    )
    rest = {
        k: data[k] for k in data.files if k not in {"geom_type", "coords"} and not k.startswith("offsets")
    }
    return geoms, rest


def build_scale(folder: Path, seed: int = 20261124) -> None:
    """Generate the city into ``folder`` (overwrites)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ox, oy = _origin_m()
    shift = [ox, oy]

    cells = _voronoi_cells_m(_seeds_m(rng, N_GRID_SEEDS))
    codes, community_codes = _grid_codes(cells)
    cells_ll = _to_lonlat(shapely.transform(cells, lambda xy: xy + shift))
    _save_geoms(folder / "grids.npz", cells_ll, code=codes, community_code=community_codes)

    nodes, edges = _lattice_m(rng)
    node_ll = shapely.get_coordinates(_to_lonlat(shapely.points(nodes + shift)))
    lines = shapely.linestrings(np.stack([node_ll[edges[:, 0]], node_ll[edges[:, 1]]], axis=1))
    length_m = np.hypot(*(nodes[edges[:, 1]] - nodes[edges[:, 0]]).T)
    _save_geoms(
        folder / "streets.npz",
        lines,
        u=edges[:, 0],
        v=edges[:, 1],
        length_m=length_m,
        highway=_highway(edges),
    )
    np.save(folder / "nodes_lonlat.npy", node_ll)

    bgeoms, battrs = _buildings_m(rng)
    _save_geoms(
        folder / "buildings.npz",
        _to_lonlat(shapely.transform(bgeoms, lambda xy: xy + shift)),
        **_columns(battrs),
    )
    fgeoms, fattrs = _facilities_m(rng, nodes, edges)
    _save_geoms(
        folder / "facilities.npz",
        _to_lonlat(shapely.transform(fgeoms, lambda xy: xy + shift)),
        **_columns(fattrs),
    )

    t = _transformer()
    pm = _problems_m(rng) + shift
    lon, lat = t.transform(pm[:, 0], pm[:, 1])
    vertices = shapely.get_coordinates(cells_ll)
    on_vertex = vertices[rng.choice(len(vertices), N_VERTEX_PROBLEMS, replace=False)]
    problems = np.vstack([np.column_stack([lon, lat]), on_vertex])
    problems = problems[rng.permutation(len(problems))]
    np.save(folder / "problems_lonlat.npy", problems)
    manifest = {
        "version": VERSION,
        "seed": seed,
        "metric_epsg": METRIC_EPSG,
        "grids": len(cells),
        "streets": len(edges),
        "nodes": len(nodes),
        "buildings": N_BUILDINGS,
        "facilities": N_FACILITIES,
        "problems": len(problems),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _frame(path: Path) -> gpd.GeoDataFrame:
    geoms, cols = _load_geoms(path)
    frame = pd.DataFrame({k: (v.astype(str) if v.dtype.kind == "U" else v) for k, v in cols.items()})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")


def load_scale(seed: int = 20261124, *, rebuild: bool = False, cache_dir: Path = CACHE_DIR) -> Scale:
    """The synthetic city of ``seed``, built into ``cache_dir`` on first use (same seed → same files)."""
    folder = Path(cache_dir) / f"scale-v{VERSION}-s{seed}"
    if rebuild or not (folder / "manifest.json").exists():
        build_scale(folder, seed)
    return Scale(
        folder=folder,
        metric_crs=pyproj.CRS.from_epsg(METRIC_EPSG),
        grids=_frame(folder / "grids.npz"),
        buildings=_frame(folder / "buildings.npz"),
        facilities=_frame(folder / "facilities.npz"),
        streets=_frame(folder / "streets.npz"),
        node_lonlat=np.load(folder / "nodes_lonlat.npy"),
        problem_lonlat=np.load(folder / "problems_lonlat.npy"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cache")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    city = load_scale(args.seed, rebuild=args.rebuild)
    took = time.perf_counter() - t0
    print(f"{city.folder} ({took:.1f} s)")
    print(f"  grids {len(city.grids):,}  streets {len(city.streets):,}  nodes {len(city.node_lonlat):,}")
    print(
        f"  buildings {len(city.buildings):,}  facilities {len(city.facilities):,}  "
        f"problems {len(city.problem_lonlat):,}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
