"""Helpers of the hand-off tests: an analysed county workspace, GDAL's own readers, comparisons."""

from __future__ import annotations

import datetime as dt
import io as _stdio
import math
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gcgeo import analysis, pipeline
from gcgeo import workspace as ws


def analysed_county(folder: Path) -> Path:
    """The synthetic county (2 communities) with every analysis run on it (the living
    circle with its community isochrones, drawn on request)."""
    from gcgeo.testing import synthetic_county

    county = synthetic_county(0, n_communities=2, n_homes=1)
    path = folder / "高唐县.gpkg"
    ws.init(path, name="高唐县", crs=county.crs)
    ws.write_layers(path, county.layers, kind={k: k for k in county.layers}, source="synthetic")
    for name in analysis.names():
        pipeline.run_analysis(path, name, **({"isochrones": "community"} if name == "living_circle"
                                             else {}))
    return path


def kinds(path: Path) -> dict[str, str]:
    listing = ws.list_layers(path)
    return dict(zip(listing["layer"], listing["kind"]))


def need_gdal() -> None:
    if shutil.which("ogrinfo") is None or shutil.which("ogr2ogr") is None:
        pytest.skip("GDAL's ogrinfo/ogr2ogr are not installed (Debian: apt-get install gdal-bin; "
                    ".ci/run installs it)")


def ogrinfo(source: str | Path, *layer: str) -> str:
    """``ogrinfo -ro -so`` of ``source`` (a summary: count, CRS, fields)."""
    need_gdal()
    args = ["ogrinfo", "-ro", "-so"] + ([] if layer else ["-al"]) + [str(source), *layer]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, f"ogrinfo {source} {layer}: {r.stderr[-500:]}"
    return r.stdout


def feature_count(info: str) -> int:
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("Feature Count")))


def ogr_rows(source: str | Path, layer: str | None = None) -> pd.DataFrame:
    """Every feature of ``source`` as GDAL reads it: attributes and a WKT column."""
    need_gdal()
    args = ["ogr2ogr", "-f", "CSV", "/vsistdout/", str(source)] + ([layer] if layer else [])
    r = subprocess.run(args + ["-lco", "GEOMETRY=AS_WKT"], capture_output=True, check=True)
    return pd.read_csv(_stdio.BytesIO(r.stdout), dtype=str, keep_default_na=False)


def plain(v):
    """A value as comparable text: numbers rounded, booleans as 0/1, empty as None."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return None
        return round(float(v), 6)
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return round(float(v), 6)
    if isinstance(v, (dt.date, pd.Timestamp)):
        return str(v)[:10]
    text = str(v)
    if not text.strip():
        return None
    try:
        return round(float(text), 6)
    except ValueError:
        return text


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame, what: str, *, tol: float = 1e-6,
                      order: str | None = None) -> None:
    """Same rows, columns (names and values, typed loosely) and geometries."""
    assert len(got) == len(want), f"{what}: {len(got)} rows, expected {len(want)}"
    gcol = getattr(want, "_geometry_column_name", None)
    cols = [c for c in want.columns if c != gcol]
    got_cols = [c for c in got.columns if c != getattr(got, "_geometry_column_name", None)]
    assert sorted(got_cols) == sorted(cols), f"{what}: columns {sorted(got_cols)} != {sorted(cols)}"
    got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    if order:
        got = got.sort_values(order, key=lambda s: s.map(plain).astype(str)).reset_index(drop=True)
        want = want.sort_values(order, key=lambda s: s.map(plain).astype(str)).reset_index(drop=True)
    for c in cols:
        a, b = [plain(v) for v in got[c]], [plain(v) for v in want[c]]
        assert a == b, f"{what}.{c}: {a[:5]} != {b[:5]}"
    if gcol is not None:
        g = np.asarray(got.geometry.to_crs(want.crs).values, dtype=object)
        w = np.asarray(want.geometry.values, dtype=object)
        empty = np.array([x is None or shapely.is_empty(x) for x in w], dtype=bool)
        assert all(x is None or shapely.is_empty(x) for x in g[empty]), what
        # the same shapes (a one-part MultiPolygon may come back as a Polygon)
        assert (shapely.get_dimensions(g[~empty]) == shapely.get_dimensions(w[~empty])).all(), what
        assert (shapely.hausdorff_distance(g[~empty], w[~empty]) <= tol).all(), f"{what}: geometries differ"


def as_geo(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)
