"""layers.io.stream.open_layer reads what read_layer reads, a batch at a time, on real files:
the same rows, attributes, geometries, row numbers and rejections whatever the batch size."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from layers.io import LayerReadError, open_layer, read_layer

SIZES = [1, 2, 3, 1000]


def batched(path, batch_rows, **kw):
    with open_layer(path, batch_rows=batch_rows, **kw) as layer:
        batches = list(layer.batches)
        head = (layer.layer, layer.source_crs, layer.crs_assumed, layer.total)
    frame = pd.concat([b.frame for b in batches], ignore_index=True)
    rejected = [r for b in batches for r in b.rejected]
    return head, frame, rejected, len(batches)


def same_as_whole(path, batch_rows, **kw):
    whole = read_layer(path, **kw)
    (layer, crs, assumed, _), frame, rejected, n = batched(path, batch_rows, **kw)
    assert (layer, crs, assumed) == (whole.layer, whole.source_crs, whole.crs_assumed)
    assert rejected == whole.rejected
    assert list(frame.columns) == list(whole.frame.columns)
    assert frame["_row"].tolist() == whole.frame["_row"].tolist()
    assert [g.wkb for g in frame.geometry] == [g.wkb for g in whole.frame.geometry]
    for column in whole.frame.columns.drop(["_row", "geometry"]):
        assert frame[column].astype(str).tolist() == whole.frame[column].astype(str).tolist(), column
    return n


def hostile_csv(tmp_path, encoding="utf-8"):
    path = tmp_path / f"points-{encoding}.csv"
    text = (
        "名称,经度,纬度,note\n"
        "公厕,120.62,31.30,ok\n"
        "\n"  # a blank line: not a row, but counted in row numbers
        '"多行\n名称",120.63,31.31,"quoted, comma"\n'
        "坏,abc,31.3,bad number\n"
        "远,200,31.3,out of range\n"
        "多,120.6,31.3,x,extra field\n"
        ",,,\n"
        "末,120.64,31.32,last\n"
    )
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("batch_rows", SIZES)
def test_a_csv_in_batches_is_the_whole_read(tmp_path, encoding, batch_rows):
    n = same_as_whole(hostile_csv(tmp_path, encoding), batch_rows)
    assert n >= (8 // batch_rows if batch_rows < 8 else 1)


@pytest.mark.parametrize("batch_rows", SIZES)
def test_a_geopackage_in_batches_is_the_whole_read(tmp_path, batch_rows):
    geoms = [Point(120.6 + i * 1e-3, 31.3) for i in range(7)] + [None, Point(500, 31.3)]
    frame = gpd.GeoDataFrame({"id": range(9), "name": [f"n{i}" for i in range(9)]}, geometry=geoms, crs=4326)
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(frame.to_crs(4549), path, driver="GPKG")  # transformed back on reading
    n = same_as_whole(path, batch_rows)
    assert n == -(-9 // batch_rows)


@pytest.mark.parametrize("batch_rows", [2, 1000])
def test_a_geojson_in_batches_is_the_whole_read(tmp_path, batch_rows):
    geoms = [Point(120.6 + i * 1e-3, 31.3) for i in range(5)]
    path = tmp_path / "p.geojson"
    gpd.GeoDataFrame({"k": np.arange(5)}, geometry=geoms, crs=4326).to_file(path, driver="GeoJSON")
    same_as_whole(path, batch_rows)


def test_a_file_without_crs_whose_later_batch_is_not_lon_lat_fails_there(tmp_path):
    path = tmp_path / "nocrs.csv"
    path.write_text("x,y\n120.6,31.3\n120.7,31.4\n500000,3400000\n")
    with open_layer(path, batch_rows=2) as layer:
        assert layer.crs_assumed and len(next(layer.batches).frame) == 2
        with pytest.raises(LayerReadError, match="--srid"):
            next(layer.batches)
    with pytest.raises(LayerReadError, match="--srid"):
        read_layer(path)


def test_an_empty_layer_gives_one_empty_batch(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("lon,lat,name\n")
    (_, _, _, total), frame, rejected, n = batched(path, 10)
    assert (n, len(frame), rejected, total) == (1, 0, [], None)
