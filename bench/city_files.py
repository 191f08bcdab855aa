"""The city of ``bench/scale.py`` written as the files a city would hand over, for ``import_layer``.

Under ``data/bench/city/files/`` (built once, reused while ``manifest.json`` says the same seed
and size): ``regions.gpkg`` (1 district, 25 streets/towns, 100 communities: unions of their
grids), ``grids.gpkg`` (leader and direct responsible person per grid), ``streets.gpkg``,
``buildings.gpkg``, ``facilities.gpkg``, ``problems.gpkg`` (category, reporter, time and status
in the demo town's shares) and ``users.json`` in the demo's format (every role, one password).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bench.scale import load_scale

DISTRICT = "320505"
# The demo town's shares (fixtures/demo_town/problems.geojson), 3,300 problems.
STATUS_SHARES = {"closed": 0.654, "handled": 0.088, "dispatched": 0.085, "rejected": 0.067,
                 "reported": 0.058, "filed": 0.048}  # fmt: skip
CATEGORY_COUNTS = {"0302": 535, "0301": 442, "0201": 416, "0101": 415, "0102": 331, "0303": 246, "0401": 157,
                   "0601": 136, "0104": 112, "0103": 95, "0304": 87, "0305": 80, "0202": 67, "0602": 67,
                   "0603": 59, "0501": 55}  # fmt: skip
DEPARTMENTS = {
    "dept_cg": ({"code": "cg", "name": "城管"},
                ["0101", "0102", "0103", "0104", "0201", "0202", "0301", "0302", "0303", "0305"]),
    "dept_fire": ({"code": "fire", "name": "消防"}, ["0304", "0602", "0603"]),
}  # fmt: skip
N_REPORTERS = 200
# Files are made relative to this moment (fixed, so the files are the same on every build).
ANCHOR = datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=8)))
VERSION = 1


def community_of(code: str) -> str:
    return code[:12]


def _write(frame: gpd.GeoDataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    frame.to_file(tmp, driver="GPKG", layer=path.stem, engine="pyogrio")
    tmp.replace(path)


def regions_frame(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = [{"level": "district", "code": DISTRICT, "name": "城区", "parent_code": None,
             "geometry": shapely.union_all(grids.geometry.values)}]  # fmt: skip
    by_street = grids.groupby(grids["community_code"].str[:9])
    for street, part in by_street:
        rows.append({"level": "subdistrict", "code": street, "name": f"第{int(street[6:]):d}街道",
                     "parent_code": DISTRICT, "geometry": shapely.union_all(part.geometry.values)})  # fmt: skip
    for community, part in grids.groupby("community_code"):
        rows.append({"level": "community", "code": community, "name": f"{community[-5:]}社区",
                     "parent_code": community[:9], "geometry": shapely.union_all(part.geometry.values)})  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def leader_name(i: int) -> str:
    return f"leader_{i + 1:04d}"


def head_name(community: str) -> str:
    return f"head_{community[6:]}"


def inspector_name(street: str) -> str:
    return f"inspector_{street[6:]}"


def users_entries(grids: gpd.GeoDataFrame) -> list[dict]:
    """Every role, in the format of fixtures/demo_town/users.json."""
    entries: list[dict] = [
        {"username": "city_admin", "display_name": "管理员", "role": "admin"},
        {"username": "city_planner", "display_name": "规划员", "role": "planner"},
    ]
    communities = sorted(grids["community_code"].unique())
    for c in communities:
        entries.append({"username": head_name(c), "display_name": f"社区书记{c[-5:]}",
                        "role": "community_head", "community_code": c})  # fmt: skip
    for i, code in enumerate(grids["code"]):
        entries.append({"username": leader_name(i), "display_name": f"网格长{i + 1}",
                        "role": "grid_leader", "community_code": community_of(code)})  # fmt: skip
    for username, (department, categories) in DEPARTMENTS.items():
        entries.append({"username": username, "display_name": department["name"], "role": "department",
                        "department": department, "categories": categories})  # fmt: skip
    for street in sorted({c[:9] for c in communities}):
        patrol = [c for c in communities if c.startswith(street)]
        entries.append({"username": inspector_name(street), "display_name": f"督查员{street[6:]}",
                        "role": "inspector", "patrol_communities": patrol})  # fmt: skip
    for i in range(N_REPORTERS):
        entries.append(
            {"username": f"reporter_{i + 1:03d}", "display_name": f"市民{i + 1}", "role": "reporter"}
        )
    return entries


def grids_frame(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = grids[["code", "community_code", "geometry"]].copy()
    frame["name"] = [f"{c[-5:-3]}社区第{int(c[-3:])}网格" for c in frame["code"]]
    frame["leader"] = [leader_name(i) for i in range(len(frame))]
    frame["direct"] = [head_name(c) for c in frame["community_code"]]
    return frame


def problems_frame(city, n: int, rng: np.random.Generator, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    xy = city.problem_lonlat[:n]
    statuses = rng.choice(
        list(STATUS_SHARES), n, p=np.array(list(STATUS_SHARES.values())) / sum(STATUS_SHARES.values())
    )
    codes = list(CATEGORY_COUNTS)
    weights = np.array(list(CATEGORY_COUNTS.values()), dtype=float)
    categories = rng.choice(codes, n, p=weights / weights.sum())
    # Open cases are recent (1–30 days; reported ones 0–2 days), finished ones spread over a year.
    open_ = np.isin(statuses, ["filed", "dispatched", "handled"])
    days = np.where(open_, rng.uniform(7, 30, n), rng.uniform(7, 365, n))
    days = np.where(statuses == "reported", rng.uniform(0.1, 2, n), days)
    seconds = np.round(days * 86400).astype("int64")
    times = pd.Timestamp(ANCHOR) - pd.to_timedelta(seconds, unit="s")
    who = rng.random(n)
    n_leaders = len(grids)
    reporters = np.where(
        who < 0.5,
        np.char.add("reporter_", np.char.zfill((rng.integers(0, N_REPORTERS, n) + 1).astype(str), 3)),
        np.char.add("leader_", np.char.zfill((rng.integers(0, n_leaders, n) + 1).astype(str), 4)),
    )
    frame = pd.DataFrame({
        "id": np.char.add("p", np.char.zfill(np.arange(1, n + 1).astype(str), 7)),
        "category": categories,
        "description": np.char.add("巡查发现问题，编号", np.arange(1, n + 1).astype(str)),
        "reporter": reporters,
        "reported_at": times.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "status": statuses,
    })  # fmt: skip
    return gpd.GeoDataFrame(frame, geometry=shapely.points(xy), crs="EPSG:4326")


def build_files(folder: Path, *, problems: int, seed: int = 20261124) -> dict:
    """Write the city's files into ``folder`` unless they are there for this seed and size."""
    manifest_path = folder / "manifest.json"
    want = {"version": VERSION, "seed": seed, "problems": problems}
    if manifest_path.exists() and json.loads(manifest_path.read_text()).get("want") == want:
        return json.loads(manifest_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    city = load_scale(seed)
    rng = np.random.default_rng(seed + 1)
    grids = city.grids.sort_values("code").reset_index(drop=True)
    (folder / "users.json").write_text(json.dumps(users_entries(grids), ensure_ascii=False, indent=0))
    _write(regions_frame(grids), folder / "regions.gpkg")
    _write(grids_frame(grids), folder / "grids.gpkg")
    streets = city.streets.copy()
    streets["id"] = [f"s{i:05d}" for i in range(len(streets))]
    streets["name"] = [
        f"{'东西' if abs(u - v) == 1 else '南北'}路{min(u, v)}"
        for u, v in zip(streets["u"], streets["v"], strict=True)
    ]
    _write(streets[["id", "name", "highway", "geometry"]], folder / "streets.gpkg")
    buildings = city.buildings.copy()
    buildings["address"] = [f"城区路{i // 50 + 1}号楼{i % 50 + 1}" for i in range(len(buildings))]
    _write(
        buildings[["id", "address", "use", "households", "population", "geometry"]], folder / "buildings.gpkg"
    )
    facilities = city.facilities.copy()
    facilities["name"] = [f"{k}-{i}" for i, k in zip(facilities["id"], facilities["kind"], strict=True)]
    facilities["condition"] = rng.choice(["good", "damaged"], len(facilities), p=[0.93, 0.07])
    _write(facilities[["id", "kind", "name", "condition", "geometry"]], folder / "facilities.gpkg")
    _write(problems_frame(city, problems, rng, grids), folder / "problems.gpkg")
    manifest = {"want": want, "grids": len(grids), "streets": len(streets), "buildings": len(buildings),
                "facilities": len(facilities), "problems": problems}  # fmt: skip
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return manifest
