"""NDVI and coverage-weighted vegetation cover (gcgeo.analysis.ndvi)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.transform import from_origin
from shapely.geometry import box

import gcgeo
from gcgeo.analysis import ndvi as nd

DATA = Path(__file__).parent / "data"
OLINDA_TIF = DATA / "raster" / "olinda_landsat7.tif"
OLINDA_SHP = DATA / "vector" / "olinda_tracts" / "olinda1.shp"

CRS = "EPSG:32650"
X0, Y0, RES = 500_000.0, 4_000_000.0, 10.0  # top-left corner, 10 m cells


def write_raster(path: Path, bands: list[np.ndarray], *, crs=CRS, nodata=None,
                 descriptions=None, transform=None) -> Path:
    h, w = bands[0].shape
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=len(bands),
        dtype=bands[0].dtype, crs=crs, nodata=nodata,
        transform=transform if transform is not None else from_origin(X0, Y0, RES, RES),
    ) as ds:
        for i, b in enumerate(bands, start=1):
            ds.write(b, i)
        if descriptions:
            for i, d in enumerate(descriptions, start=1):
                ds.set_band_description(i, d)
    return path


def cell(row: int, col: int, *, x0: float = 0.0, x1: float = 1.0, y0: float = 0.0,
         y1: float = 1.0):
    """Box over a fraction of cell (row, col): x0..x1 from its left, y0..y1 from its top."""
    left = X0 + col * RES
    top = Y0 - row * RES
    return box(left + x0 * RES, top - y1 * RES, left + x1 * RES, top - y0 * RES)


@pytest.fixture
def grid(tmp_path):
    """4 × 4 raster; red/NIR chosen so NDVI is known per cell.

    (0,0) 0.8; (0,1) 0.0; (0,2) nodata; (0,3) red = NIR = 0 (undefined);
    (1,*) 0.5; (2,*) 0.2; (3,*) -0.6.
    """
    red = np.full((4, 4), 10, dtype="uint16")
    nir = np.full((4, 4), 10, dtype="uint16")
    red[0, 0], nir[0, 0] = 10, 90        # 80/100 = 0.8
    red[0, 2], nir[0, 2] = 65535, 65535  # nodata
    red[0, 3], nir[0, 3] = 0, 0          # zero division
    red[1, :], nir[1, :] = 25, 75        # 0.5
    red[2, :], nir[2, :] = 40, 60        # 0.2
    red[3, :], nir[3, :] = 80, 20        # -0.6
    # band 1 is a dummy "blue" so red = 2, NIR = 3 as in a real multi-band file
    blue = np.full((4, 4), 7, dtype="uint16")
    return write_raster(tmp_path / "grid.tif", [blue, red, nir], nodata=65535)


def polys(*geoms, crs=CRS, index=None):
    return gpd.GeoDataFrame({"name": [f"p{i}" for i in range(len(geoms))]},
                            geometry=list(geoms), crs=crs, index=index)


# --- ndvi() -------------------------------------------------------------------

def test_ndvi_values_nodata_and_zero_division():
    red = np.array([10, 0, 5, 255, 200], dtype="uint8")
    nir = np.array([30, 0, 5, 100, 100], dtype="uint8")
    out = nd.ndvi(red, nir, nodata=255)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out[[0, 2, 4]], [20 / 40, 0.0, -100 / 300])  # no uint8 overflow
    assert np.isnan(out[1]) and np.isnan(out[3])


def test_ndvi_masked_arrays_nan_and_pair_of_nodata():
    red = np.ma.array([0.1, 0.2, np.nan, -1.0], mask=[False, True, False, False])
    nir = np.ma.array([0.3, 0.4, 0.5, 0.5])
    out = nd.ndvi(red, nir, nodata=(-1.0, None))
    assert out[0] == pytest.approx(0.5)
    assert np.isnan(out[1:]).all()


def test_ndvi_shape_mismatch_is_input_error():
    with pytest.raises(gcgeo.InputError):
        nd.ndvi(np.zeros(3), np.zeros(4))


# --- vegetation_cover: exactly known answers ---------------------------------------

def test_half_pixel_of_known_ndvi(grid):
    out = nd.vegetation_cover(polys(cell(0, 0, x1=0.5)), grid, red=2, nir=3, threshold=0.3)
    r = out.iloc[0]
    assert r.ndvi_mean == pytest.approx(0.8)
    assert r.veg_fraction == pytest.approx(1.0)
    assert r.ndvi_valid_frac == pytest.approx(1.0)
    assert r.ndvi_reason == ""


def test_partial_pixels_are_weighted_by_covered_fraction(grid):
    # half of cell (0,0) [0.8] + all of (0,1) [0.0]: weights 0.5 and 1
    p1 = cell(0, 0, x0=0.5).union(cell(0, 1))
    # a quarter of (1,0) [0.5] and three quarters of (2,0) [0.2], one 10 m column
    p2 = box(X0, Y0 - 2.75 * RES, X0 + RES, Y0 - 1.75 * RES)
    # a triangle over half of (3,3) [-0.6] and a full cell (2,3) [0.2]
    left, top = X0 + 3 * RES, Y0 - 3 * RES
    from shapely.geometry import Polygon
    tri = Polygon([(left, top), (left + RES, top), (left, top - RES)])
    p3 = tri.union(cell(2, 3))
    out = nd.vegetation_cover(polys(p1, p2, p3), grid, red=2, nir=3, threshold=0.3,
                              thresholds=[0.1, 0.6])
    assert out.loc[0, "ndvi_mean"] == pytest.approx((0.5 * 0.8 + 1 * 0.0) / 1.5)
    assert out.loc[0, "veg_fraction"] == pytest.approx(0.5 / 1.5)
    assert out.loc[0, "veg_frac_gt_0_6"] == pytest.approx(0.5 / 1.5)
    assert out.loc[1, "ndvi_mean"] == pytest.approx(0.25 * 0.5 + 0.75 * 0.2)
    assert out.loc[1, "veg_fraction"] == pytest.approx(0.25)
    assert out.loc[1, "veg_frac_gt_0_1"] == pytest.approx(1.0)
    assert out.loc[2, "ndvi_mean"] == pytest.approx((0.5 * -0.6 + 1 * 0.2) / 1.5)
    assert out.loc[2, "veg_frac_gt_0_1"] == pytest.approx(1 / 1.5)
    assert out.loc[2, "veg_fraction"] == 0.0


def test_threshold_is_strict(grid):
    out = nd.vegetation_cover(polys(cell(1, 1)), grid, red=2, nir=3, threshold=0.5,
                              thresholds=[0.49])
    assert out.loc[0, "veg_fraction"] == 0.0
    assert out.loc[0, "veg_frac_gt_0_49"] == 1.0


def test_nodata_and_zero_division_cells_leave_the_denominator(grid):
    # all of (0,1) [0.0], (0,2) [nodata], (0,3) [0/0] and half of (1,2) [0.5]
    p = cell(0, 1).union(cell(0, 2)).union(cell(0, 3)).union(cell(1, 2, y1=0.5))
    only_bad = cell(0, 2).union(cell(0, 3))
    out = nd.vegetation_cover(polys(p, only_bad), grid, red=2, nir=3, threshold=0.3)
    assert out.loc[0, "ndvi_mean"] == pytest.approx(0.5 * 0.5 / 1.5)
    assert out.loc[0, "veg_fraction"] == pytest.approx(0.5 / 1.5)
    assert out.loc[0, "ndvi_valid_frac"] == pytest.approx(1.5 / 3.5)
    assert np.isnan(out.loc[1, "ndvi_mean"]) and np.isnan(out.loc[1, "veg_fraction"])
    assert out.loc[1, "ndvi_reason"] == "no valid NDVI cells"
    assert out.loc[1, "ndvi_valid_frac"] == 0.0


def test_polygon_partly_and_wholly_off_the_raster(grid):
    half_out = box(X0 - RES, Y0 - 2 * RES, X0 + RES, Y0 - RES)  # half over (1,0) [0.5]
    far = box(X0 + 1000, Y0 + 1000, X0 + 1010, Y0 + 1010)
    out = nd.vegetation_cover(polys(half_out, far, index=[10, 20]), grid, red=2, nir=3,
                              threshold=0.3)
    assert list(out.index) == [10, 20]
    assert out.loc[10, "ndvi_mean"] == pytest.approx(0.5)
    assert out.loc[10, "ndvi_valid_frac"] == pytest.approx(0.5)
    assert np.isnan(out.loc[20, "veg_fraction"])
    assert out.loc[20, "ndvi_reason"] == "outside the raster"


def test_empty_geometry_gets_reason(grid):
    g = polys(cell(1, 1), None)
    out = nd.vegetation_cover(g, grid, red=2, nir=3, threshold=0.3)
    assert out.loc[0, "veg_fraction"] == 1.0
    assert out.loc[1, "ndvi_reason"] == "empty geometry"


def test_polygons_are_reprojected_to_the_raster_crs(grid):
    p = cell(0, 0, x1=0.5).union(cell(1, 0))  # 0.8 over half a cell, 0.5 over one
    g = polys(p)
    direct = nd.vegetation_cover(g, grid, red=2, nir=3, threshold=0.6)
    via = nd.vegetation_cover(g.to_crs("EPSG:4326"), grid, red=2, nir=3, threshold=0.6)
    assert direct.loc[0, "ndvi_mean"] == pytest.approx((0.4 + 0.5) / 1.5)
    assert via.loc[0, "ndvi_mean"] == pytest.approx(direct.loc[0, "ndvi_mean"], abs=1e-6)
    assert via.loc[0, "veg_fraction"] == pytest.approx(0.5 / 1.5, abs=1e-6)


def test_input_not_modified(grid):
    g = polys(cell(0, 0))
    before = g.copy()
    nd.vegetation_cover(g, grid, red=2, nir=3, threshold=0.3)
    assert g.equals(before) and g.crs == before.crs


def test_small_windows_give_the_same_answer(monkeypatch):
    tracts = gpd.read_file(OLINDA_SHP).iloc[:80].to_crs("EPSG:31985")
    big = tracts.geometry.union_all().convex_hull.buffer(500)  # one polygon of ~8000 cells
    polys_ = gpd.GeoDataFrame(geometry=[*tracts.geometry, big], crs=tracts.crs,
                              index=[*range(80), 0])  # a duplicate label is kept apart
    whole = nd.vegetation_cover(polys_, OLINDA_TIF, red=3, nir=4, threshold=0.2)
    calls = []
    real_read = rasterio.io.DatasetReader.read

    def spy(self, *a, **k):
        calls.append(k.get("window"))
        return real_read(self, *a, **k)

    monkeypatch.setattr(nd, "MAX_WINDOW_CELLS", 400)
    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    small = nd.vegetation_cover(polys_, OLINDA_TIF, red=3, nir=4, threshold=0.2)
    assert len(calls) > 40 and all(w is not None for w in calls)
    assert max(w.width * w.height for w in calls) <= 400
    np.testing.assert_allclose(small["veg_fraction"], whole["veg_fraction"], atol=1e-12)
    np.testing.assert_allclose(small["ndvi_mean"], whole["ndvi_mean"], atol=1e-12)
    np.testing.assert_allclose(small["ndvi_valid_frac"], whole["ndvi_valid_frac"], atol=1e-12)
    assert list(small.index) == list(polys_.index)
    assert small["ndvi_mean"].iloc[0] != small["ndvi_mean"].iloc[80]
    assert small["ndvi_valid_frac"].iloc[80] == pytest.approx(1.0)


# --- real data: Olinda tracts over Landsat 7 -------------------------------------

def test_olinda_against_10x_finer_rasterization():
    """NDVI from numpy on the whole array; each tract rasterized on a grid 10×
    finer and its fine cells counted — independent of exactextract."""
    tracts = gpd.read_file(OLINDA_SHP)
    assert len(tracts) == 470
    with rasterio.open(OLINDA_TIF) as ds:
        red = ds.read(3).astype("float64")
        nir = ds.read(4).astype("float64")
        t, crs, (H, W) = ds.transform, ds.crs, (ds.height, ds.width)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(red + nir == 0, np.nan, (nir - red) / (nir + red))
    k = 10
    fine_t = t @ rasterio.Affine.scale(1 / k)
    proj = tracts.to_crs(crs)
    thr = [0.2, 0.3, 0.4, 0.5]
    got = nd.vegetation_cover(tracts, OLINDA_TIF, red=3, nir=4, threshold=0.3,
                              thresholds=thr)
    exp_mean, exp_valid, exp_frac = [], [], {x: [] for x in thr}
    for geom in proj.geometry:
        minx, miny, maxx, maxy = geom.bounds
        c0, c1 = int(np.floor((minx - t.c) / t.a)), int(np.ceil((maxx - t.c) / t.a))
        r0, r1 = int(np.floor((t.f - maxy) / -t.e)), int(np.ceil((t.f - miny) / -t.e))
        shape = ((r1 - r0) * k, (c1 - c0) * k)
        tf = fine_t @ rasterio.Affine.translation(c0 * k, r0 * k)
        mask = rasterio.features.rasterize([(geom, 1)], out_shape=shape, transform=tf,
                                           dtype="uint8")
        rr, cc = np.nonzero(mask)
        rr, cc = r0 + rr // k, c0 + cc // k
        on = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)  # fine cells on the image
        vals = v[rr[on], cc[on]]
        vals = vals[~np.isnan(vals)]
        exp_valid.append(len(vals) * (t.a / k) ** 2 / geom.area)
        exp_mean.append(vals.mean())
        for x in thr:
            exp_frac[x].append((vals > x).mean())
    exp_mean = np.array(exp_mean)
    diff = np.abs(got["ndvi_mean"].to_numpy() - exp_mean)
    # measured: mean 7e-5, max 7e-4; pixel-centre sampling would give 2.6e-3 / 0.024
    assert diff.mean() < 3e-4 and diff.max() < 3e-3
    for x in thr:
        d = np.abs(got[nd.threshold_column(x)].to_numpy() - np.array(exp_frac[x]))
        assert d.mean() < 5e-4, x  # pixel-centre sampling: 1.7e-3 at 0.3
        assert d.max() < 0.01, x
    np.testing.assert_allclose(got["veg_fraction"], got["veg_frac_gt_0_3"])
    # coverage weights add up to the share of each tract's area on the image
    d = np.abs(got["ndvi_valid_frac"].to_numpy() - np.array(exp_valid))
    assert d.max() < 0.05 and d.mean() < 0.01
    assert (got["ndvi_valid_frac"] > 1 - 1e-6).sum() > 460
    assert got["ndvi_valid_frac"].min() < 0.99  # a coastal tract runs off the image
    # the answers vary: a test that cannot fail would not
    assert got["veg_frac_gt_0_2"].max() > 0.5 and (got["veg_frac_gt_0_2"] == 0).sum() > 10


# --- bad input ---------------------------------------------------------------------

def test_raster_not_overlapping_is_analysis_error(grid):
    far = polys(box(0, 0, 10, 10))
    with pytest.raises(gcgeo.AnalysisError, match="does not overlap"):
        nd.vegetation_cover(far, grid, red=2, nir=3, threshold=0.3)


def test_raster_without_crs(tmp_path):
    b = np.ones((3, 3), dtype="uint8")
    path = write_raster(tmp_path / "nocrs.tif", [b, b], crs=None)
    with pytest.raises(gcgeo.CRSError, match="nocrs.tif.*no coordinate reference system"):
        nd.vegetation_cover(polys(cell(0, 0)), path, red=1, nir=2, threshold=0.3)


def test_one_band_raster(tmp_path):
    path = write_raster(tmp_path / "one.tif", [np.ones((3, 3), dtype="uint8")])
    with pytest.raises(gcgeo.InputError, match="one.tif has 1 band"):
        nd.vegetation_cover(polys(cell(0, 0)), path, red=1, nir=1, threshold=0.3)


@pytest.mark.parametrize("red,nir,match", [(0, 3, "red band 0"), (2, 4, "NIR band 4"),
                                            (2, 2, "both band 2"), (None, 3, "--red N")])
def test_band_numbers_checked(grid, red, nir, match):
    with pytest.raises(gcgeo.InputError, match=match):
        nd.vegetation_cover(polys(cell(0, 0)), grid, red=red, nir=nir, threshold=0.3)


def test_bands_found_from_descriptions(tmp_path):
    r = np.full((2, 2), 10, dtype="uint8")
    n = np.full((2, 2), 30, dtype="uint8")
    path = write_raster(tmp_path / "desc.tif", [n, r], descriptions=["NIR", "Red"])
    info = nd.check_raster(path)
    assert (info["red"], info["nir"]) == (2, 1)
    out = nd.vegetation_cover(polys(cell(0, 0)), path, threshold=0.3)
    assert out.loc[0, "ndvi_mean"] == pytest.approx(0.5)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(gcgeo.InputError, match="does not exist"):
        nd.check_raster(tmp_path / "nope.tif", red=1, nir=2)
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(gcgeo.FileFormatError, match="bad.tif"):
        nd.check_raster(bad, red=1, nir=2)


def test_polygons_without_crs(grid):
    g = gpd.GeoDataFrame(geometry=[cell(0, 0)])
    with pytest.raises(gcgeo.CRSError):
        nd.vegetation_cover(g, grid, red=2, nir=3, threshold=0.3)


def test_read_ndvi_window(grid):
    from rasterio.windows import Window

    arr, tf = nd.read_ndvi(grid, red=2, nir=3, window=Window(0, 0, 2, 2))
    np.testing.assert_allclose(arr, [[0.8, 0.0], [0.5, 0.5]])
    assert tf.c == X0 and tf.f == Y0


def test_band_scale_and_offset_are_applied(tmp_path):
    # Sentinel-2 L2A style: reflectance = count · 1e-4 − 0.1; counts 1100 (red) and
    # 1300 (NIR) are reflectances 0.01 and 0.03 → NDVI 0.5 (raw counts: 200/2400)
    r = np.full((2, 2), 1100, dtype="uint16")
    n = np.full((2, 2), 1300, dtype="uint16")
    path = write_raster(tmp_path / "s2.tif", [r, n])
    with rasterio.open(path, "r+") as ds:
        ds.scales = (1e-4, 1e-4)
        ds.offsets = (-0.1, -0.1)
    out = nd.vegetation_cover(polys(cell(0, 0)), path, red=1, nir=2, threshold=0.3)
    assert out.loc[0, "ndvi_mean"] == pytest.approx(0.5)
    assert out.loc[0, "veg_fraction"] == 1.0


def test_geographic_raster(tmp_path):
    r = np.array([[10, 40]], dtype="uint8")
    n = np.array([[30, 40]], dtype="uint8")
    path = write_raster(tmp_path / "ll.tif", [r, n], crs="EPSG:4326",
                        transform=from_origin(116.0, 36.0, 0.001, 0.001))
    p = gpd.GeoDataFrame(geometry=[box(116.0005, 35.999, 116.0015, 36.0)], crs="EPSG:4326")
    out = nd.vegetation_cover(p.to_crs("EPSG:4548"), path, red=1, nir=2, threshold=0.3)
    assert out.loc[0, "ndvi_mean"] == pytest.approx((0.5 + 0.0) / 2, abs=1e-3)
    assert out.loc[0, "veg_fraction"] == pytest.approx(0.5, abs=1e-3)
    assert out.loc[0, "ndvi_valid_frac"] == pytest.approx(1.0, abs=1e-3)
