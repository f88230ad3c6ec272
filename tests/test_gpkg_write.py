"""Frames written into a GeoPackage as the workspace stores them: the file ends up as GDAL
writes it directly (rows, fids, declarations, registration, feature count, triggers), with a
spatial index only on the layers named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gcgeo import gpkg_write
from gcgeo import workspace as ws


def _frames(n: int = 40, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pts = gpd.GeoDataFrame({"origin_id": np.arange(n // 2)},
                           geometry=shapely.points(rng.uniform(0, 100, (n // 2, 2)) + [500_000, 4_000_000]),
                           crs=4547)
    table = pd.DataFrame({
        "origin_id": rng.integers(0, 1000, n).astype(np.int64),
        "building_id": pd.array([f"B{i}" if i % 7 else None for i in range(n)], dtype="str"),
        "category": rng.choice(["park", "pharmacy", "学校"], n),
        "distance_m": np.where(np.arange(n) % 5, rng.uniform(0, 900, n), np.nan),
        "served": rng.random(n) < 0.5,
    })
    return {"pts": pts, "gaps": table}


def _schema(path: Path) -> dict[str, list]:
    with sqlite3.connect(path) as con:
        return {
            "master": sorted(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                         "WHERE name NOT LIKE 'sqlite_%'")),
            "contents": sorted(r[:4] + r[5:] for r in con.execute("SELECT * FROM gpkg_contents")),
            "ogr": sorted(con.execute("SELECT * FROM gpkg_ogr_contents")),
            "sequence": sorted(con.execute("SELECT * FROM sqlite_sequence")),
        }


def _direct(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    for name, frame in frames.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", use_arrow=True,
                                dataset_options=gpkg_write.CREATION)


def test_frames_written_as_gdal_writes_them(tmp_path: Path) -> None:
    frames = _frames()
    a, b = tmp_path / "written.gpkg", tmp_path / "direct.gpkg"
    written = gpkg_write.write_frames(a, frames)
    assert {n: t for n, (_, t) in written.items()} == {"pts": ["Point"], "gaps": []}
    _direct(b, frames)
    assert _schema(a) == _schema(b)
    for name in frames:
        got = pyogrio.read_dataframe(a, layer=name, fid_as_index=True)
        want = pyogrio.read_dataframe(b, layer=name, fid_as_index=True)
        pd.testing.assert_frame_equal(got, want)
    back = pyogrio.read_dataframe(a, layer="gaps")
    assert back["building_id"].tolist() == frames["gaps"]["building_id"].tolist()
    assert back["served"].tolist() == frames["gaps"]["served"].tolist()
    assert pyogrio.read_info(a, layer="gaps")["features"] == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.gpkg", "written.gpkg"]  # nothing beside


def test_spatial_index_only_where_named(tmp_path: Path) -> None:
    """Only the layers named get a spatial index, and of those only the ones with rows (an
    empty layer, e.g. isochrones not drawn, has nothing to look up)."""
    frames = {**_frames(), "more": _frames(seed=1)["pts"], "none": _frames(seed=2)["pts"].iloc[:0]}
    path = tmp_path / "w.gpkg"
    gpkg_write.write_frames(path, frames, spatial_index={"more", "none"})
    assert pyogrio.read_info(path, layer="none")["features"] == 0
    with sqlite3.connect(path) as con:
        rtrees = {r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                           "WHERE sql LIKE 'CREATE VIRTUAL TABLE%rtree%'")}
        ext = {r[0] for r in con.execute("SELECT table_name FROM gpkg_extensions "
                                         "WHERE extension_name = 'gpkg_rtree_index'")}
    assert ext == {"more"}
    assert rtrees == {"rtree_more_geom"}


def test_table_replaced_and_count_kept_by_triggers(tmp_path: Path) -> None:
    path = tmp_path / "w.gpkg"
    gpkg_write.write_frames(path, _frames(40))
    gpkg_write.write_frames(path, _frames(24, seed=3))  # replaces both layers
    want = _frames(24, seed=3)["gaps"]
    got = pyogrio.read_dataframe(path, layer="gaps", fid_as_index=True)
    assert got.index.tolist() == list(range(1, 25))
    assert got["origin_id"].tolist() == want["origin_id"].tolist()
    with sqlite3.connect(path) as con:  # GDAL's triggers are back: rows added later are counted
        con.execute("INSERT INTO gaps (origin_id) VALUES (1)")
        assert con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'gaps'"
                           ).fetchone() == (25,)


def test_workspace_write_layers_with_a_table(tmp_path: Path) -> None:
    path = tmp_path / "w.gpkg"
    ws.init(path, name="t", crs=4547)
    frames = _frames()
    ws.write_layers(path, frames, analysis="test")
    table = ws.list_layers(path).set_index("layer")
    assert table.loc["gaps", "features"] == 40 and table.loc["pts", "geometry"] == "Point"
    got = ws.read_layer(path, "gaps")
    assert got["origin_id"].tolist() == frames["gaps"]["origin_id"].tolist()
    np.testing.assert_array_equal(got["distance_m"].to_numpy(), frames["gaps"]["distance_m"].to_numpy())
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["w.gpkg"]


def test_columns_named_like_the_row_id_or_the_geometry_are_kept_under_other_names(tmp_path: Path) -> None:
    path = tmp_path / "w.gpkg"
    pts = shapely.points([[500_000, 4_000_000], [500_100, 4_000_000], [500_200, 4_000_000]])
    frames = {
        # ArcGIS exports: FID as text, as repeated whole numbers; a geom column; a table with FID
        "text": gpd.GeoDataFrame({"FID": ["a", "b", "c"], "GEOM": ["x", "y", "z"]}, geometry=pts, crs=4547),
        "repeated": gpd.GeoDataFrame({"Fid": [0, 0, 5], "fid_src": [1, 2, 3]}, geometry=pts, crs=4547),
        "table": pd.DataFrame({"FID": [3, 3], "v": [1.5, 2.5]}),
    }
    written = gpkg_write.write_frames(path, frames)
    assert list(written["text"][0].columns) == ["fid_src", "geom_src", "geometry"]
    back = {n: pyogrio.read_dataframe(path, layer=n, fid_as_index=True) for n in frames}
    assert back["text"]["fid_src"].tolist() == ["a", "b", "c"]
    assert back["text"]["geom_src"].tolist() == ["x", "y", "z"]
    assert back["repeated"]["fid_src2"].tolist() == [0, 0, 5]  # fid_src is taken already
    assert back["repeated"]["fid_src"].tolist() == [1, 2, 3]
    assert back["repeated"].index.tolist() == [1, 2, 3]  # rows numbered by GeoPackage, not by FID
    assert back["table"]["fid_src"].tolist() == [3, 3] and back["table"]["v"].tolist() == [1.5, 2.5]
    assert gpkg_write.reserved_renames(frames["table"]) == {"FID": "fid_src"}
