"""Large attribute tables written beside the GeoPackage and copied in: the file ends up as
GDAL writes it directly (rows, fids, declarations, registration, feature count, triggers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
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
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", use_arrow=True)


@pytest.fixture
def small_scratch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpkg_write, "SCRATCH_ROWS", 10)


def test_table_written_aside_is_as_gdal_writes_it(tmp_path: Path, small_scratch: None) -> None:
    frames = _frames()
    a, b = tmp_path / "aside.gpkg", tmp_path / "direct.gpkg"
    calls = []
    real = gpkg_write.copy_rows
    gpkg_write.copy_rows = lambda *args: calls.append(args[2]) or real(*args)  # type: ignore[assignment]
    try:
        written = gpkg_write.write_frames(a, frames)
    finally:
        gpkg_write.copy_rows = real  # type: ignore[assignment]
    assert calls == ["gaps"]  # the table went aside, the points straight in
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aside.gpkg", "direct.gpkg"]  # no scratch left


def test_table_replaced_and_count_kept_by_triggers(tmp_path: Path, small_scratch: None) -> None:
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


def test_copy_refused_when_declared_otherwise(tmp_path: Path) -> None:
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"x": [1.5, 2.5]}), a, layer="t", driver="GPKG")
    pyogrio.write_dataframe(pd.DataFrame({"x": ["1", "2"]}).iloc[:0], b, layer="t", driver="GPKG")
    assert gpkg_write.copy_rows(b, a, "t") is None
    assert pyogrio.read_info(b, layer="t")["features"] == 0
    pyogrio.write_dataframe(pd.DataFrame({"x": [9.0]}).iloc[:0], b, layer="t", driver="GPKG")
    assert gpkg_write.copy_rows(b, a, "t") == 2
    assert pyogrio.read_dataframe(b, layer="t")["x"].tolist() == [1.5, 2.5]


def test_failed_scratch_write_leaves_nothing(tmp_path: Path, small_scratch: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.gpkg"
    real = pyogrio.write_dataframe

    def failing(df, p, **kw):  # type: ignore[no-untyped-def]
        if Path(p) != path:
            raise OSError("disk full")
        return real(df, p, **kw)

    monkeypatch.setattr(gpkg_write.pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError, match="disk full"):
        gpkg_write.write_frames(path, _frames())
    assert [p.name for p in tmp_path.iterdir()] == ["w.gpkg"]


def test_workspace_write_layers_with_a_table_aside(tmp_path: Path, small_scratch: None) -> None:
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


def test_scratch_left_by_a_killed_command_is_swept(tmp_path: Path, small_scratch: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A scratch file is named as the workspace's temporary copies are: one a killed command
    left behind is removed by the next command, as they are."""
    path = tmp_path / "w.gpkg"
    ws.init(path, name="t", crs=4547)
    kept = []
    real_unlink = Path.unlink

    def keep_scratch(self: Path, missing_ok: bool = False) -> None:
        if self.suffix == ".gpkg" and self.exists() and self.stat().st_size > 0 and self.name != "w.gpkg" \
                and any(n == "gaps" for n, _ in pyogrio.list_layers(self)):
            kept.append(self)  # as if the command were killed before removing it
            return
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", keep_scratch)
    ws.write_layers(path, _frames(), analysis="test")
    monkeypatch.setattr(Path, "unlink", real_unlink)
    assert len(kept) == 1 and kept[0].exists() and kept[0].parent == tmp_path
    ws.write_layers(path, {"other": pd.DataFrame({"x": [1]})}, analysis="test")
    assert not kept[0].exists()
