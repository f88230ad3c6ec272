"""The workspace GeoPackage: metadata, layers, atomic writes, validation."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from gcgeo import CRSError, OutputExistsError, WorkspaceBusyError, WorkspaceError
from gcgeo import workspace as ws

DATA = Path(__file__).parent / "data"


def _communities(crs=4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": ["鱼邱湖社区", "金城社区"], "人口": ["3200", "4100"], "老旧小区": ["是", "否"]},
        geometry=[shapely.box(116.20, 36.85, 116.21, 36.86), shapely.box(116.21, 36.85, 116.22, 36.86)],
        crs=crs,
    )


def test_init_add_read_with_metadata(tmp_path):
    path = tmp_path / "gaotang.gpkg"
    ws.init(path, name="高唐县")
    with pytest.raises(OutputExistsError):
        ws.init(path, name="again")
    res = ws.add_layer(path, "communities", _communities(), source="社区.shp")
    assert res["crs"] == "EPSG:4548"  # CGCS2000 3° zone of 116.2°E
    assert res["renamed"] == {"名称": "name", "人口": "population", "老旧小区": "old_estate"}
    meta = ws.info(path)
    assert meta["name"] == "高唐县" and meta["crs"].to_epsg() == 4548
    assert meta["rules_version"]
    table = ws.list_layers(path)
    row = table.set_index("layer").loc["communities"]
    assert row["kind"] == "communities" and row["features"] == 2 and row["source"] == "社区.shp"
    assert row["added"]
    # without counting features: the same layers, kinds and dates
    quick = ws.list_layers(path, counts=False)
    assert "features" not in quick.columns
    pd.testing.assert_frame_equal(quick, table.drop(columns="features"))
    back = ws.read_layer(path, "communities")
    assert back.crs.to_epsg() == 4548
    assert back["population"].tolist() == [3200, 4100]
    assert back["old_estate"].tolist() == [True, False]
    # the area is preserved by the projection (≈ 0.01° × 0.01° at 36.85°N)
    assert back.geometry.area.sum() == pytest.approx(2 * 1113.2 * 890.6, rel=0.01)
    # the workspace opens as a plain GeoPackage
    assert {"communities", "gcgeo_metadata", "gcgeo_layers"} <= {n for n, _ in pyogrio.list_layers(path)}


def test_init_never_replaces_a_file_that_is_not_a_workspace(tmp_path):
    data = tmp_path / "data.gpkg"
    _communities(4548).assign(编号=["C1", "C2"]).to_file(data, layer="comm")
    _communities(4548).iloc[:1].to_file(data, layer="roads")
    before = hashlib.sha256(data.read_bytes()).hexdigest()
    for overwrite in (False, True):
        with pytest.raises(WorkspaceError, match=r"data\.gpkg is not a gcgeo workspace: it holds "
                           r"layers comm \(2 features\), roads \(1 feature\); give the workspace "
                           r"another name, or add this file's layers with 'gcgeo add'"):
            ws.init(data, name="高唐县", overwrite=overwrite)
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before
    text = tmp_path / "notes.gpkg"
    text.write_text("名称,人口\n南湖社区,2808\n", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="notes.gpkg is not a gcgeo workspace: it is plain text"):
        ws.init(text, name="高唐县", overwrite=True)
    assert text.read_text(encoding="utf-8") == "名称,人口\n南湖社区,2808\n"
    # a workspace is started afresh with overwrite, as before
    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    ws.add_layer(path, "communities", _communities())
    with pytest.raises(OutputExistsError, match="--overwrite"):
        ws.init(path, name="高唐县")
    ws.init(path, name="夏津县", overwrite=True)
    assert ws.info(path)["name"] == "夏津县" and ws.list_layers(path).empty


def test_add_layer_maps_each_file_before_joining(tmp_path):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    a = _communities()  # 名称, 人口, 老旧小区
    b = _communities().rename(columns={"名称": "name", "人口": "population", "老旧小区": "old"})
    b["name"] = ["光明社区", "文化社区"]
    b["population"] = ["2862", "2325"]
    res = ws.add_layer(path, "communities", {"a.shp": a, "b.shp": b})
    back = ws.read_layer(path, "communities")
    assert back["name"].tolist() == ["鱼邱湖社区", "金城社区", "光明社区", "文化社区"]
    assert back["population"].tolist() == [3200, 4100, 2862, 2325]
    assert back["old_estate"].tolist() == [True, False, True, False]
    assert res["unused_columns"] == [] and ws.list_layers(path)["source"].tolist() == ["a.shp + b.shp"]


def _lock_in_another_process(path: Path, seconds: float) -> subprocess.Popen:
    """Another program holding ``path`` locked for ``seconds`` (as QGIS does saving edits);
    returns once the lock is taken."""
    code = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); "
            "c.execute('COMMIT')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_workspace_locked_by_another_program_is_reported_as_locked(tmp_path, monkeypatch):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setenv("GCGEO_LOCK_TIMEOUT", "0.5")
    other = _lock_in_another_process(path, 30)
    try:
        with pytest.raises(WorkspaceBusyError, match=r"w\.gpkg is locked by another program .* "
                           r"stayed locked for 0\.5 s; nothing was changed\. Close it there"):
            ws.add_layer(path, "communities", _communities())
        with pytest.raises(WorkspaceBusyError, match="locked by another program"):
            ws.list_layers(path)
    finally:
        other.kill()
        other.wait()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    # a lock let go while gcgeo waits: the command goes on
    monkeypatch.setenv("GCGEO_LOCK_TIMEOUT", "20")
    other = _lock_in_another_process(path, 1)
    assert ws.add_layer(path, "communities", _communities())["features"] == 2
    assert other.wait(timeout=20) == 0


def test_working_crs_can_be_fixed_and_must_be_projected(tmp_path):
    with pytest.raises(CRSError):
        ws.init(tmp_path / "a.gpkg", name="a", crs="wgs84")
    ws.init(tmp_path / "b.gpkg", name="b", crs="EPSG:4527")
    ws.add_layer(tmp_path / "b.gpkg", "communities", _communities())
    assert ws.read_layer(tmp_path / "b.gpkg", "communities").crs.to_epsg() == 4527


def test_missing_things_are_named(tmp_path):
    with pytest.raises(WorkspaceError, match="gcgeo init"):
        ws.info(tmp_path / "none.gpkg")
    plain = tmp_path / "plain.gpkg"
    pyogrio.write_dataframe(_communities(), plain)
    with pytest.raises(WorkspaceError, match="not a gcgeo workspace"):
        ws.list_layers(plain)
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    with pytest.raises(WorkspaceError, match="no layer 'parks'"):
        ws.read_layer(path, "parks")
    with pytest.raises(CRSError, match="--src-crs"):
        ws.add_layer(path, "communities", _communities(crs=None))


def test_failed_write_leaves_workspace_untouched(tmp_path, monkeypatch):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    ws.add_layer(path, "communities", _communities())
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def crash_on_second_write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", crash_on_second_write)
    green = gpd.GeoDataFrame({"kind": ["park"]}, geometry=[shapely.box(116.2, 36.85, 116.201, 36.851)],
                             crs=4326)
    with pytest.raises(KeyboardInterrupt):
        ws.add_layer(path, "green_space", green)
    assert calls["n"] == 2
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.gpkg"]  # no temporary left


def test_write_layers_replaces_and_records_analysis(tmp_path):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    ws.add_layer(path, "communities", _communities())
    comm = ws.read_layer(path, "communities")
    out = comm[["name", "geometry"]].assign(share=[0.5, 1.0])
    table = pd.DataFrame({"community": ["a"], "value": [1.0]})
    ws.write_layers(path, {"lc_communities": out, "lc_table": table}, analysis="living-circle")
    ws.write_layers(path, {"lc_communities": out.iloc[:1]}, analysis="living-circle")
    layers = ws.list_layers(path).set_index("layer")
    assert layers.loc["lc_communities", "features"] == 1
    assert layers.loc["lc_communities", "analysis"] == "living-circle"
    assert list(ws.read_layer(path, "lc_table")["value"]) == [1.0]
    assert "analysis:living-circle" in ws.info(path)


def test_a_layer_without_rows_keeps_its_geometry_type_into_qgis_hands(tmp_path):
    """An analysis's layer with no rows (isochrones not drawn) is stored with the geometry
    type its frame declares, read back declaring it, and exported so (GDAL's "Unknown"
    otherwise: QGIS gives such a layer no style)."""
    from gcgeo import io

    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    ws.add_layer(path, "communities", _communities())
    none = gpd.GeoDataFrame({"tier": pd.Series(dtype=object)},
                            geometry=gpd.GeoSeries([], crs=ws.read_layer(path, "communities").crs))
    none.attrs["geometry_type"] = "MultiPolygon"
    bare = none.copy()
    bare.attrs.clear()
    ws.write_layers(path, {"lc_isochrones": none, "bare": bare}, analysis="living-circle")
    listed = dict(pyogrio.list_layers(path))
    assert listed["lc_isochrones"] == "MultiPolygon" and listed["bare"] == "Unknown"
    assert ws.list_layers(path).set_index("layer").loc["lc_isochrones", "geometry"] == "MultiPolygon"
    back = ws.read_layer(path, "lc_isochrones")
    assert len(back) == 0 and back.attrs["geometry_type"] == "MultiPolygon"
    assert "geometry_type" not in ws.read_layer(path, "bare").attrs
    io.export({"lc_isochrones": back}, tmp_path / "out.gpkg")
    assert dict(pyogrio.list_layers(tmp_path / "out.gpkg"))["lc_isochrones"] == "MultiPolygon"


def test_validate_and_fix_in_the_workspace(tmp_path):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w", crs="EPSG:4548")
    ws.add_layer(path, "communities", _communities())
    chargers = gpd.GeoDataFrame(
        {"id": ["c1", "c2", "c3"], "类型": ["car", "bus", "e-bike"]},
        geometry=[shapely.MultiPoint([(116.205, 36.855), (116.206, 36.855)]),
                  shapely.Point(116.215, 36.855), shapely.Point(117.5, 36.855)],
        crs=4326)
    ws.add_layer(path, "chargers", chargers)
    report, changes = ws.validate(path)
    found = {(p.layer, p.id, p.column, p.severity) for p in report.problems}
    assert ("chargers", "c1", "geometry", "error") in found
    assert ("chargers", "c2", "kind", "error") in found
    assert ("chargers", "c3", "geometry", "warning") in found  # ~115 km east of the study area
    assert changes == []
    report, changes = ws.validate(path, fix=True)
    assert any("split" in c for c in changes)
    ids = ws.read_layer(path, "chargers")["id"].tolist()
    assert ids == ["c1-1", "c1-2", "c2", "c3"]
    assert all(p.id != "c1" for p in report.problems)
    assert "repaired" in ws.list_layers(path).set_index("layer").loc["chargers", "source"]


def test_raster_is_recorded_not_copied(tmp_path):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    raster = DATA / "raster" / "olinda_landsat7.tif"
    desc = ws.add_raster(path, raster, bands={"red": 3, "nir": 4})
    assert desc["count"] == 6 and desc["bands"] == {"red": 3, "nir": 4}
    assert ws.info(path)["rasters"]["raster"]["path"] == str(raster.resolve())
    with pytest.raises(WorkspaceError, match="band 9"):
        ws.add_raster(path, raster, bands={"nir": 9})


def test_changes_keep_the_workspace_permissions(tmp_path):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    path.chmod(0o640)
    ws.add_layer(path, "communities", _communities())
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_workspace_open_elsewhere_is_not_written(tmp_path):
    import sqlite3

    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    con = sqlite3.connect(path)  # as QGIS does: WAL mode, a change not yet checkpointed
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("UPDATE gcgeo_metadata SET value = 'edited' WHERE key = 'name'")
    con.commit()
    try:
        with pytest.raises(WorkspaceError, match="open in another program"):
            ws.add_layer(path, "communities", _communities())
    finally:
        con.close()
    assert ws.info(path)["name"] == "edited"  # the other program's change is intact


def test_layers_are_not_replaced_without_overwrite_and_fid_is_kept(tmp_path):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    comm = _communities().assign(id=["a", "b"], fid=[7, 9])  # with an id, fid stays itself
    ws.add_layer(path, "communities", comm)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        ws.add_layer(path, "communities", comm.iloc[:1])
    assert len(ws.read_layer(path, "communities")) == 2
    ws.add_layer(path, "communities", comm.iloc[:1], overwrite=True)
    back = ws.read_layer(path, "communities")
    assert len(back) == 1 and back["fid_src"].tolist() == [7]


def test_yes_no_written_as_numbers_with_blanks_are_read(tmp_path):
    """A Shapefile or Excel column of 1 / blank / 0 arrives as 1.0 / NaN / 0.0."""
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    comm = _communities().drop(columns="老旧小区").assign(物业管理=[1.0, float("nan")])
    ws.add_layer(path, "communities", comm)
    got = ws.read_layer(path, "communities")["property_managed"]
    assert got.iloc[0] is True or bool(got.iloc[0]) is True
    assert pd.isna(got.iloc[1])
