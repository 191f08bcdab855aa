"""Tests of layers.hotspots (no database): DBSCAN equal to scikit-learn's, Gi* equal to esda's,
cells, weights, emerging hotspots and cluster summaries; on tiny inline data and the demo files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from esda.getisord import G_Local
from libpysal.weights import W
from shapely.geometry import Point, box, shape
from sklearn.cluster import DBSCAN

from layers.hotspots import (
    EMERGING_CLASSES,
    change_test,
    classify_emerging,
    dbscan_labels,
    density_clusters,
    distance_band_weights,
    emerging_hotspots,
    gi_bins,
    gistar,
    gistar_cells,
    h3_cells,
    knn_weights,
    nearest_neighbour_band_m,
    p_two_sided,
    queen_weights,
    square_cells,
    street_length_m,
)
from layers.projection import metric_crs_for

DEMO = Path(__file__).resolve().parents[3] / "fixtures" / "demo_town"
CRS = metric_crs_for((120.87, 31.62))  # EPSG:4549, CGCS2000 GK CM 120E
ORIGIN = np.array([440_000.0, 3_500_000.0])  # metres, near the demo town in EPSG:4549


def to_wgs84(xy_m: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(shapely.points(xy_m), crs=CRS).to_crs(4326)


# -- DBSCAN ---------------------------------------------------------------------------------------


def point_sets():
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 2000, size=(12, 2))
    blobs = (
        centres[rng.integers(0, 12, 4000)] + rng.normal(size=(4000, 2)) * rng.uniform(5, 60, 4000)[:, None]
    )
    yield "clustered", np.vstack([blobs, rng.uniform(0, 2000, (1000, 2))]) + ORIGIN, 25.0, 6
    yield "lattice ties", rng.integers(0, 40, size=(3000, 2)).astype(float), 1.0, 4
    yield "lattice diagonal ties", rng.integers(0, 40, size=(3000, 2)) * 0.7 + ORIGIN, 0.7 * np.sqrt(2), 5
    yield "duplicates", np.repeat(rng.uniform(0, 300, (400, 2)), 3, axis=0) + ORIGIN, 6.0, 4
    yield "min_samples 1", rng.uniform(0, 500, (500, 2)), 10.0, 1
    yield "all noise", rng.uniform(0, 1e5, (300, 2)), 5.0, 3


@pytest.mark.parametrize(("name", "xy", "eps", "minimum"), list(point_sets()), ids=lambda v: str(v)[:20])
def test_dbscan_labels_equal_sklearn(name, xy, eps, minimum):
    expected = DBSCAN(eps=eps, min_samples=minimum).fit_predict(xy)
    assert np.array_equal(dbscan_labels(xy, eps_m=eps, min_samples=minimum), expected), name


def test_dbscan_border_point_goes_to_the_lowest_cluster_as_sklearn():
    # Two rows of points 10 m apart at eps 5.5: the point midway reaches the nearest point of
    # each row (5 m) but has only 3 neighbours itself, so it is a border point of both clusters;
    # row B, listed first, is cluster 0 and takes it.
    a = np.c_[-np.arange(5.0), np.zeros(5)]
    b = np.c_[10 + np.arange(5.0), np.zeros(5)]
    xy = np.vstack([b, a, [[5.0, 0.0]]]) + ORIGIN
    expected = DBSCAN(eps=5.5, min_samples=4).fit_predict(xy)
    ours = dbscan_labels(xy, eps_m=5.5, min_samples=4)
    assert np.array_equal(ours, expected)
    assert ours[:5].tolist() == [0] * 5 and ours[5:10].tolist() == [1] * 5 and ours[-1] == 0


def test_dbscan_refuses_bad_input():
    assert dbscan_labels(np.empty((0, 2)), eps_m=5, min_samples=3).shape == (0,)
    for kwargs in ({"eps_m": 0, "min_samples": 3}, {"eps_m": 5, "min_samples": 0}):
        with pytest.raises(ValueError):
            dbscan_labels(np.zeros((3, 2)), **kwargs)
    with pytest.raises(ValueError):
        dbscan_labels(np.array([[0.0, np.nan]]), eps_m=5, min_samples=1)


# -- weights and Gi* --------------------------------------------------------------------------------


def esda_zs(y: np.ndarray, w) -> G_Local:
    neighbours = {i: list(w.indices[w.indptr[i] : w.indptr[i + 1]]) for i in range(w.shape[0])}
    return G_Local(y, W(neighbours, silence_warnings=True), star=True, transform="B", permutations=0)


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
@pytest.mark.parametrize("kind", ["band", "knn", "queen"])
def test_gistar_z_equals_esda_binary_star(kind):
    rng = np.random.default_rng(3)
    side = 30
    cols, rows = np.meshgrid(np.arange(side), np.arange(side))
    xy = np.c_[cols.ravel(), rows.ravel()] * 100.0 + rng.normal(size=(side * side, 2)) * 20
    xy[0] = [-5000, -5000]  # an island for the distance band
    y = rng.poisson(4, len(xy)).astype(float)
    y[np.hypot(*(xy - 1500).T) < 400] += 6  # a hot patch
    if kind == "band":
        w = distance_band_weights(xy, band_m=250)
    elif kind == "knn":
        w = knn_weights(xy, k=6)
    else:
        w = queen_weights(shapely.box(xy[:, 0] - 50, xy[:, 1] - 50, xy[:, 0] + 50, xy[:, 1] + 50))
    g, z = gistar(y, w)
    ref = esda_zs(y, w)
    assert np.allclose(z, ref.Zs, rtol=0, atol=1e-9) and np.allclose(g, ref.Gs, rtol=0, atol=1e-12)
    assert np.allclose(p_two_sided(z), 2 * ref.p_norm, rtol=0, atol=1e-12)
    assert z[np.hypot(*(xy - 1500).T) < 100].min() > 2.58


def test_gistar_undefined_cases_and_bad_weights():
    w = distance_band_weights(np.array([[0.0, 0], [10, 0], [20, 0]]), band_m=15)
    assert np.isnan(gistar(np.ones(3), w)[1]).all()  # no variance
    assert np.isnan(gistar(np.array([1.0, 5, 2]), w)[1][1])  # the middle cell neighbours all
    with pytest.raises(ValueError):
        gistar(np.ones(3), w * 2)
    with pytest.raises(ValueError):
        gistar(np.ones(2), w)


def test_weights_neighbour_sets():
    squares = [box(x, y, x + 1, y + 1) for y in range(3) for x in range(3)]
    queen = queen_weights(squares)
    assert np.diff(queen.indptr).tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3] and queen.diagonal().sum() == 0
    line = np.array([[0.0, 0], [100, 0], [200, 0], [200, 0]])
    band = distance_band_weights(line, band_m=100)  # distance <= band counts, coincident too
    assert sorted(band[1].indices) == [0, 2, 3] and sorted(band[2].indices) == [1, 3]
    knn = knn_weights(line, k=1)
    assert knn[2].indices.tolist() == [3] and knn[3].indices.tolist() == [2]  # not itself
    assert nearest_neighbour_band_m(line) == 100.0


def test_bins_thresholds_and_fdr():
    z = np.array([3.0, 2.0, 1.7, 1.0, -2.0, -3.0, np.nan])
    p = p_two_sided(z)
    assert gi_bins(z, p).tolist() == [3, 2, 1, 0, -2, -3, 0]
    assert (np.abs(gi_bins(z, p, fdr=True)) <= np.abs(gi_bins(z, p))).all()


# -- cells ----------------------------------------------------------------------------------------------


def lattice_cells(n: int = 10, side_m: float = 100.0, merge_big: bool = False) -> gpd.GeoDataFrame:
    """n × n square cells in metres near the demo town; optionally the 2 × 2 block at the
    bottom-left merged into one big cell."""
    polys, ids = [], []
    for r in range(n):
        for c in range(n):
            if merge_big and r < 2 and c < 2:
                if (r, c) == (0, 0):
                    polys.append(box(0, 0, 2 * side_m, 2 * side_m))
                    ids.append("big")
                continue
            polys.append(box(c * side_m, r * side_m, (c + 1) * side_m, (r + 1) * side_m))
            ids.append(f"c{r}_{c}")
    geoms = gpd.GeoSeries(polys, crs=CRS).translate(*ORIGIN).to_crs(4326)
    return gpd.GeoDataFrame({"cell_id": ids}, geometry=geoms.values, crs=4326)


def uniform_points(extent_m: float, step_m: float) -> gpd.GeoDataFrame:
    ticks = np.arange(step_m / 2, extent_m, step_m)
    xs, ys = np.meshgrid(ticks, ticks)
    return gpd.GeoDataFrame(geometry=to_wgs84(np.c_[xs.ravel(), ys.ravel()] + ORIGIN).values, crs=4326)


def test_a_big_cell_is_hot_by_count_not_by_density():
    cells = lattice_cells(merge_big=True)
    points = uniform_points(1000, 10)  # 100 per hectare everywhere
    raw = gistar_cells(points, cells, normalise="none").set_index("cell_id")
    dense = gistar_cells(points, cells, normalise="area").set_index("cell_id")
    assert raw.loc["big", "count"] == 400 and raw.loc["big", "gi_bin"] == 3
    assert dense.loc["big", "problems_per_km2"] == pytest.approx(10_000, rel=1e-6)
    assert dense["z"].isna().all() and (dense["hotspot"] == "none").all()  # no variance at all


def test_gistar_cells_columns_and_a_planted_patch():
    cells = lattice_cells()
    rng = np.random.default_rng(1)
    background = rng.uniform(0, 1000, (600, 2))
    patch = rng.normal(550, 40, (150, 2))
    points = gpd.GeoDataFrame(geometry=to_wgs84(np.vstack([background, patch]) + ORIGIN).values, crs=4326)
    out = gistar_cells(points, cells, weights="band", band_m=150)
    assert out.attrs["value_column"] == "problems_per_km2" and out.crs.to_epsg() == 4326
    assert out["count"].sum() == 750 and (out["n_neighbours"].between(3, 8)).all()
    assert out.set_index("cell_id").loc["c5_5", "hotspot"] == "hot_99"
    knn = gistar_cells(points, cells, weights="knn", k=4)
    assert (knn["n_neighbours"] == 4).all()
    with pytest.raises(ValueError):
        gistar_cells(points, cells, weights="band")


def test_street_normalisation_and_untested_cells():
    cells = lattice_cells(n=3)
    street = gpd.GeoSeries([shapely.LineString([(0, 150), (300, 150)])], crs=CRS).translate(*ORIGIN)
    streets = gpd.GeoDataFrame(geometry=street.to_crs(4326).values, crs=4326)
    lengths = street_length_m(np.asarray(cells.to_crs(CRS).geometry.values), np.asarray(street.values))
    assert lengths.round(3).tolist() == [0, 0, 0, 100, 100, 100, 0, 0, 0]
    points = uniform_points(300, 25)
    out = gistar_cells(points, cells, normalise="street", streets=streets)
    assert out["tested"].tolist() == [False] * 3 + [True] * 3 + [False] * 3
    assert out.loc[out["tested"], "problems_per_street_km"].tolist() == pytest.approx([160.0] * 3)
    assert (out.loc[~out["tested"], "hotspot"] == "not_tested").all()


def test_square_and_h3_cells_tile_the_area():
    area = gpd.GeoSeries([shapely.Point(0, 0).buffer(700)], crs=CRS).translate(*ORIGIN).to_crs(4326)
    total = area.to_crs(CRS).area.iloc[0]
    squares = square_cells(area, cell_m=200)
    assert squares["area_m2"].sum() == pytest.approx(total, rel=1e-6)
    assert (squares["cell_area_m2"].round(6) == 40_000).all() and squares["cell_id"].is_unique
    hexes = h3_cells(area, resolution=9)
    assert hexes["area_m2"].sum() == pytest.approx(total, rel=1e-6)
    assert hexes["cell_id"].map(len).eq(15).all()
    with pytest.raises(ValueError):
        square_cells(area, cell_m=0.5)


# -- emerging --------------------------------------------------------------------------------------------


def test_classification_rule():
    t, f = True, False
    cases = [  # hot before, hot now, rise, fall -> class
        (f, t, f, f, "new"),
        (t, t, t, f, "intensifying"),
        (t, f, f, f, "diminishing"),
        (t, t, f, t, "diminishing"),
        (t, t, f, f, "persistent"),
        (f, f, t, f, "sporadic"),
        (f, f, f, t, "none"),
    ]
    got = classify_emerging(*(np.array([c[i] for c in cases]) for i in range(4)))
    assert got.tolist() == [c[4] for c in cases] and set(got) <= set(EMERGING_CLASSES)


def test_change_test_against_the_overall_change():
    p, direction = change_test(np.array([30, 10, 0, 0]), np.array([10, 60, 0, 20]))
    # Overall the now-window holds 90 of 130 (69 %): 30 -> 10 is a fall, 10 -> 60 a rise, and
    # 10 -> 20 (a doubling) no more than the town-wide change.
    assert direction.tolist() == [-1, 1, 0, 1] and p[0] < 0.01 and p[1] < 0.01 and p[2] == 1.0
    p_same, _ = change_test(np.array([30, 30]), np.array([30, 30]))
    assert (p_same > 0.5).all()


def test_emerging_on_the_demo_files_finds_the_new_construction_site():
    problems = gpd.read_file(DEMO / "problems.geojson")
    problems = problems[problems["status"] != "rejected"]
    problems["reported_at"] = pd.to_datetime(problems["reported_at"])
    town = gpd.read_file(DEMO / "regions.geojson").query("level == 'subdistrict'")
    hotspots = json.loads((DEMO / "planted.json").read_text(encoding="utf-8"))["hotspots"]
    cells = h3_cells(town, resolution=10)
    out = emerging_hotspots(problems, cells, end="2026-11-16T00:00+08:00", days=30, min_area_m2=3000)
    cells_m = out.geometry.to_crs(CRS)
    for spot in hotspots:
        region = gpd.GeoSeries([shape(spot["region"])], crs=4326).to_crs(CRS).iloc[0]
        main = out.iloc[int(np.argmax(cells_m.intersection(region).area))]
        if spot["since"] == "2026-10-16":
            assert main["emerging"] == "new" and main["count_before"] <= 5 < 50 < main["count_now"]
        else:  # reported in both months
            assert main["emerging"] != "new" and main["count_before"] > 10, spot["name"]


# -- clusters ---------------------------------------------------------------------------------------------


def two_blobs() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(5)
    xy = np.vstack(
        [rng.normal(0, 8, (60, 2)), rng.normal([300, 0], 8, (40, 2)), rng.uniform(-500, 800, (5, 2))]
    )
    frame = gpd.GeoDataFrame(
        {
            "category": ["0101"] * 45 + ["0302"] * 15 + ["0401"] * 40 + ["0601"] * 5,
            "reported_at": pd.date_range("2026-06-01", periods=105, freq="D", tz="Asia/Shanghai"),
        },
        geometry=to_wgs84(xy + ORIGIN).values,
        crs=4326,
    )
    return frame


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_density_clusters_summary(method):
    points = two_blobs()
    out = density_clusters(points, method=method, eps_m=10, min_samples=5, min_cluster_size=15)
    assert out["size"].tolist()[:2] == pytest.approx([60, 40], abs=3)
    first = out.iloc[0]
    assert first["top_category"] == "0101" and first["category_counts"]["0101"] >= 44
    assert sum(first["category_shares"].values()) == pytest.approx(1, abs=1e-3)
    assert first["first_reported_at"] == pd.Timestamp("2026-06-01", tz="Asia/Shanghai")
    centre = to_wgs84(ORIGIN[None, :]).iloc[0]
    assert Point(first["centroid_lon"], first["centroid_lat"]).distance(centre) < 3e-5  # ~3 m
    assert first.geometry.geom_type == "Polygon" and 0 < first["area_m2"] < 4000
    assert out.attrs["noise"] == len(points) - out["size"].sum()


def test_concave_outline_is_inside_the_convex_one():
    points = two_blobs()
    convex = density_clusters(points, eps_m=10, min_samples=5)
    concave = density_clusters(points, eps_m=10, min_samples=5, outline="concave", concave_ratio=0.2)
    assert (concave["area_m2"] <= convex["area_m2"] + 1e-6).all()
    assert density_clusters(points.iloc[:0]).empty
