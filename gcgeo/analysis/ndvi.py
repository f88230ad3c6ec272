"""NDVI and vegetation cover per polygon from a red + near-infrared raster.

NDVI = (NIR − red) / (NIR + red), computed in float64; nodata cells (either
band), NaN inputs and cells where NIR + red = 0 give NaN.

Zonal statistics are coverage-weighted: each raster cell counts with the
fraction of its area the polygon covers (exact, from ``exactextract``), so a
polygon covering half a cell of NDVI 0.8 and nothing else has a mean NDVI of
0.8 over half a cell's area.  The raster is read window by window (one window
per group of nearby polygons), never whole, and polygons are reprojected to
the raster's CRS, not the other way round.  Band scale and offset stored in
the file (e.g. Sentinel-2 L2A's −1000 offset) are applied before NDVI.

>>> import numpy as np
>>> ndvi(np.array([10, 0, 5]), np.array([30, 0, 5]))
array([0.5, nan, 0. ])
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from .._errors import AnalysisError, CRSError, FileFormatError, InputError
from ._green_geometry import valid_polygons

__all__ = [
    "BAND_HINT",
    "check_raster",
    "ndvi",
    "read_ndvi",
    "threshold_column",
    "vegetation_cover",
]

log = logging.getLogger(__name__)

#: Band numbers of common sensors, quoted in error messages.
BAND_HINT = (
    "Landsat 5/7: red 3, NIR 4; Landsat 8/9: red 4, NIR 5; Sentinel-2: red 4, NIR 8; "
    "GF-1/GF-2/GF-6 PMS (blue, green, red, NIR): red 3, NIR 4"
)

#: Largest window (cells) read at once for a group of polygons; a single
#: polygon larger than this is still read as one window.
MAX_WINDOW_CELLS = 4_000_000


def ndvi(red: ArrayLike, nir: ArrayLike, nodata: float | Sequence[float | None] | None = None
         ) -> np.ndarray:
    """NDVI of two arrays of the same shape, as float64 with NaN where undefined.

    ``nodata`` is one value for both bands or a pair ``(red_nodata,
    nir_nodata)``; cells equal to it in either band become NaN, as do NaN
    inputs, masked cells of masked arrays and cells where ``nir + red == 0``.
    Values are not clipped: negative reflectances can give |NDVI| > 1.
    """
    r_nd, n_nd = (nodata, nodata) if not isinstance(nodata, (tuple, list)) else tuple(nodata)
    r_mask = np.ma.getmaskarray(red) if isinstance(red, np.ma.MaskedArray) else None
    n_mask = np.ma.getmaskarray(nir) if isinstance(nir, np.ma.MaskedArray) else None
    r = np.asarray(np.ma.getdata(red), dtype="float64")
    n = np.asarray(np.ma.getdata(nir), dtype="float64")
    if r.shape != n.shape:
        raise InputError(f"red and NIR arrays differ in shape ({r.shape} vs {n.shape}).")
    bad = np.isnan(r) | np.isnan(n)
    if r_nd is not None and not (isinstance(r_nd, float) and math.isnan(r_nd)):
        bad |= r == float(r_nd)
    if n_nd is not None and not (isinstance(n_nd, float) and math.isnan(n_nd)):
        bad |= n == float(n_nd)
    if r_mask is not None:
        bad |= r_mask
    if n_mask is not None:
        bad |= n_mask
    total = n + r
    bad |= total == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (n - r) / np.where(bad, 1.0, total)
    out[bad] = np.nan
    return out


def _guess_bands(ds: Any) -> tuple[int | None, int | None]:
    """Red and NIR band numbers from band descriptions or colour interpretation."""
    red = nir = None
    for i, desc in enumerate(ds.descriptions, start=1):
        d = (desc or "").strip().lower()
        if not d:
            continue
        if re.fullmatch(r"(nir|near[ _-]?infra[ _-]?red|nir[ _-]?\d*|near infrared.*)", d):
            nir = nir or i
        elif re.fullmatch(r"red|red[ _-]?band", d):
            red = red or i
    if red is None:
        try:
            from rasterio.enums import ColorInterp

            reds = [i for i, c in enumerate(ds.colorinterp, start=1) if c == ColorInterp.red]
            if len(reds) == 1 and nir is not None:
                red = reds[0]
        except Exception:  # pragma: no cover - colour interpretation is optional
            pass
    return red, nir


def check_raster(path: str | Path, *, red: int | None = None, nir: int | None = None
                 ) -> dict[str, Any]:
    """Open ``path`` and check it can give NDVI; return what we know about it.

    Returns a dict with ``path``, ``count`` (bands), ``red``, ``nir`` (the
    band numbers to use: given, or read from band descriptions such as
    "red"/"nir"), ``crs`` (WKT), ``bounds`` (minx, miny, maxx, maxy in the
    raster's CRS), ``res`` (x, y cell size), ``nodata`` (per band) and
    ``dtype``.  Raises a gcgeo error naming the file and the fix when the file
    cannot be read, has fewer than two bands, no CRS, a rotated grid, or when
    the band numbers are missing, equal or out of range.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        raise InputError(f"raster {path} does not exist; check the path (or add it again).")
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise FileFormatError(
            f"raster {path} cannot be read ({exc}); give a GeoTIFF or another file GDAL reads."
        ) from None
    with ds:
        count = ds.count
        if count < 2:
            raise InputError(
                f"raster {path} has {count} band; NDVI needs a red and a near-infrared band. "
                "Give the multispectral image (not a single band, RGB preview or ready-made "
                f"index), or stack the two bands into one file ({BAND_HINT})."
            )
        g_red, g_nir = _guess_bands(ds)
        red = red if red is not None else g_red
        nir = nir if nir is not None else g_nir
        if red is None or nir is None:
            raise InputError(
                f"raster {path} has {count} bands and does not say which is red and which is "
                f"near-infrared; give the band numbers (--red N --nir N; {BAND_HINT})."
            )
        for what, band in (("red", red), ("NIR", nir)):
            if isinstance(band, bool) or not isinstance(band, (int, np.integer)) \
                    or not 1 <= band <= count:
                raise InputError(
                    f"{what} band {band!r} does not exist in raster {path}, which has "
                    f"{count} bands numbered 1–{count}; give a band number in that range "
                    f"({BAND_HINT})."
                )
        if red == nir:
            raise InputError(
                f"red and NIR are both band {red} of raster {path}; give two different bands "
                f"({BAND_HINT})."
            )
        if ds.crs is None:
            raise CRSError(
                f"raster {path} has no coordinate reference system, so it cannot be laid over "
                "the communities; set it (e.g. `gdal_edit.py -a_srs EPSG:32650 FILE` or "
                "`rio edit-info --crs EPSG:32650 FILE`) with the CRS the image was delivered in."
            )
        t = ds.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
            if t.is_identity:
                raise CRSError(
                    f"raster {path} has no georeferencing (no geotransform); georeference it "
                    "before use."
                )
            raise InputError(
                f"raster {path} has a rotated or flipped grid ({tuple(t)[:6]}); warp it to a "
                "north-up grid first (e.g. `gdalwarp SRC DST`)."
            )
        return {
            "path": str(path),
            "count": count,
            "red": int(red),
            "nir": int(nir),
            "crs": ds.crs.to_wkt(),
            "bounds": tuple(ds.bounds),
            "res": (t.a, -t.e),
            "nodata": tuple(ds.nodatavals),
            "dtype": ds.dtypes[red - 1],
        }


def _read_bands(ds: Any, info: Mapping[str, Any], window: Any
                ) -> tuple[np.ma.MaskedArray, np.ma.MaskedArray]:
    """Red and NIR of ``window`` as masked float64 arrays, with the bands'
    scale and offset applied (e.g. Sentinel-2 L2A's −1000 offset), since NDVI
    of raw counts is wrong when an offset is set."""
    out = []
    for band in (info["red"], info["nir"]):
        a = ds.read(band, window=window, masked=True).astype("float64")
        scale, offset = ds.scales[band - 1], ds.offsets[band - 1]
        if scale not in (None, 1.0) or offset not in (None, 0.0):
            a = a * (1.0 if scale is None else scale) + (0.0 if offset is None else offset)
        out.append(a)
    return out[0], out[1]


def read_ndvi(path: str | Path, *, red: int, nir: int, window: Any = None
              ) -> tuple[np.ndarray, Any]:
    """NDVI of ``window`` (a ``rasterio.windows.Window``; None = whole raster).

    Returns ``(array, transform)``: the float64 NDVI array with NaN where
    undefined and the affine transform of that window.  Band masks and nodata
    values of the file are honoured.
    """
    import rasterio

    info = check_raster(path, red=red, nir=nir)
    with rasterio.open(path) as ds:
        r, n = _read_bands(ds, info, window)
        transform = ds.window_transform(window) if window is not None else ds.transform
    return ndvi(r, n), transform


def threshold_column(threshold: float) -> str:
    """Column name for the vegetation fraction above ``threshold`` (0.25 → ``veg_frac_gt_0_25``)."""
    text = f"{threshold:g}".replace("-", "m").replace(".", "_")
    return f"veg_frac_gt_{text}"


def _groups(rows0: np.ndarray, cols0: np.ndarray, rows1: np.ndarray, cols1: np.ndarray,
            tile: int) -> list[np.ndarray]:
    """Positions of polygons grouped by the raster tile their window starts in,
    each group split further so its joint window stays ≤ MAX_WINDOW_CELLS."""
    key = (rows0 // tile) * 1_000_003 + (cols0 // tile)
    order = np.argsort(key, kind="stable")
    groups: list[np.ndarray] = []
    for k in np.unique(key):
        members = order[key[order] == k]
        pending = [members]
        while pending:
            m = pending.pop()
            cells = (rows1[m].max() - rows0[m].min()) * (cols1[m].max() - cols0[m].min())
            if cells <= MAX_WINDOW_CELLS or len(m) == 1:
                groups.append(m)
            else:
                half = len(m) // 2
                pending.extend([m[:half], m[half:]])
    return groups


def vegetation_cover(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster_path: str | Path,
    *,
    red: int | None = None,
    nir: int | None = None,
    threshold: float,
    thresholds: Sequence[float] = (),
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Mean NDVI and vegetation fraction of each polygon, coverage-weighted.

    ``veg_fraction`` is the share of the polygon's area on valid cells whose
    NDVI is strictly above ``threshold``, each cell weighted by the fraction of
    it the polygon covers; cells of nodata (or NIR + red = 0) are left out of
    numerator and denominator, and ``ndvi_valid_frac`` says how much of the
    polygon's area they leave (1.0 = all of it on valid cells; less where the
    polygon runs off the raster or over nodata).

    Returns a DataFrame on the polygons' index with ``ndvi_mean``,
    ``veg_fraction``, ``ndvi_valid_frac``, ``ndvi_reason`` (empty when the
    values are defined, else why they are NaN: "empty geometry", "outside the
    raster", "no valid NDVI cells") and one ``veg_frac_gt_<t>`` column per
    value of ``thresholds`` (see :func:`threshold_column`).

    Raises ``AnalysisError`` when no polygon overlaps the raster, and the
    errors of :func:`check_raster` for unusable rasters.
    """
    import rasterio
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource
    from rasterio.windows import Window

    geoms = polygons.geometry if isinstance(polygons, gpd.GeoDataFrame) else polygons
    if not isinstance(geoms, gpd.GeoSeries):
        raise InputError("vegetation_cover needs a GeoDataFrame or GeoSeries of polygons.")
    if geoms.crs is None:
        raise CRSError(
            "the polygons given to vegetation_cover have no CRS; declare it so they can be "
            "reprojected to the raster's CRS."
        )
    info = check_raster(raster_path, red=red, nir=nir)
    thr = [float(t) for t in thresholds]
    threshold = float(threshold)
    out = pd.DataFrame(index=geoms.index)
    out["ndvi_mean"] = np.nan
    out["veg_fraction"] = np.nan
    out["ndvi_valid_frac"] = np.nan
    out["ndvi_reason"] = ""
    for t in thr:
        out[threshold_column(t)] = np.nan
    if geoms.empty:
        return out

    g = geoms.to_crs(info["crs"])
    g = valid_polygons(g)
    # areas in the raster's CRS units (degrees² for a geographic raster): only ratios are used
    empty = g.isna() | g.is_empty | pd.Series(shapely.area(g.to_numpy()) <= 0, index=g.index)
    reason_col = out.columns.get_loc("ndvi_reason")
    out.iloc[np.flatnonzero(empty.to_numpy()), reason_col] = "empty geometry"

    with rasterio.open(raster_path) as ds:
        t = ds.transform
        xres, yres = t.a, -t.e
        cell_area = xres * yres
        H, W = ds.height, ds.width
        b = g[~empty].bounds
        col0 = np.floor((b["minx"].to_numpy() - t.c) / xres).astype("int64")
        col1 = np.ceil((b["maxx"].to_numpy() - t.c) / xres).astype("int64")
        row0 = np.floor((t.f - b["maxy"].to_numpy()) / yres).astype("int64")
        row1 = np.ceil((t.f - b["miny"].to_numpy()) / yres).astype("int64")
        col0, row0 = np.clip(col0, 0, W), np.clip(row0, 0, H)
        col1, row1 = np.clip(col1, 0, W), np.clip(row1, 0, H)
        inside = (col1 > col0) & (row1 > row0)
        out.iloc[np.flatnonzero(~empty.to_numpy())[~inside], reason_col] = "outside the raster"
        if not inside.any():
            rb = info["bounds"]
            pb = g[~empty].total_bounds
            raise AnalysisError(
                f"raster {raster_path} (bounds {tuple(round(v, 1) for v in rb)} in its own CRS) "
                f"does not overlap any of the {len(geoms)} polygons (bounds "
                f"{tuple(round(float(v), 1) for v in pb)} in the raster's CRS); check that the "
                "image covers the study area and that its CRS is declared correctly."
            )
        pos = np.flatnonzero(inside)
        sub = g[~empty].iloc[pos]
        r0, r1, c0, c1 = row0[pos], row1[pos], col0[pos], col1[pos]
        srs = ds.crs.to_wkt()
        sub_geoms = sub.to_numpy()
        # per polygon: covered cells, covered valid cells, Σ cov·NDVI, Σ cov above each threshold
        all_thr = [threshold, *thr]
        cov_all = np.zeros(len(sub))
        cov_ok = np.zeros(len(sub))
        cov_val = np.zeros(len(sub))
        cov_gt = np.zeros((len(all_thr), len(sub)))
        groups = _groups(r0, c0, r1, c1, tile=512)
        log.info("NDVI over %d polygons in %d groups of %s", len(sub), len(groups), raster_path)
        for gi, members in enumerate(groups):
            if progress is not None and gi % 50 == 0:
                progress("NDVI zonal statistics")
            wr0, wr1 = int(r0[members].min()), int(r1[members].max())
            wc0, wc1 = int(c0[members].min()), int(c1[members].max())
            # a window larger than MAX_WINDOW_CELLS (one big polygon) is read in
            # strips of rows; coverage fractions add up exactly across strips
            rows_per = max(1, MAX_WINDOW_CELLS // max(1, wc1 - wc0))
            for sr0 in range(wr0, wr1, rows_per):
                sr1 = min(wr1, sr0 + rows_per)
                here = members[(r0[members] < sr1) & (r1[members] > sr0)]
                if not len(here):
                    continue
                win = Window(wc0, sr0, wc1 - wc0, sr1 - sr0)
                values = ndvi(*_read_bands(ds, info, win)).ravel()
                xmin, ymax = t.c + wc0 * xres, t.f - sr0 * yres
                xmax, ymin = t.c + wc1 * xres, t.f - sr1 * yres
                src = NumPyRasterSource(np.zeros((sr1 - sr0, wc1 - wc0)), xmin, ymin, xmax,
                                        ymax, srs_wkt=srs)
                frame = gpd.GeoDataFrame(geometry=sub_geoms[here], crs=sub.crs)
                res = exact_extract(src, frame, ["cell_id", "coverage"], output="pandas")
                for k, ids, cov in zip(here, res["cell_id"], res["coverage"]):
                    ids = np.asarray(ids, dtype="int64")
                    cov = np.asarray(cov, dtype="float64")
                    v = values[ids]
                    ok = ~np.isnan(v)
                    vv, cc = v[ok], cov[ok]
                    cov_all[k] += cov.sum()
                    cov_ok[k] += cc.sum()
                    cov_val[k] += (vv * cc).sum()
                    for ti, tv in enumerate(all_thr):
                        cov_gt[ti, k] += cc[vv > tv].sum()
    area = shapely.area(sub.to_numpy())
    rows = np.flatnonzero(~empty.to_numpy())[pos]  # positions in the output
    with np.errstate(divide="ignore", invalid="ignore"):
        has = cov_ok > 0
        denom = np.where(has, cov_ok, np.nan)
        col = out.columns.get_loc
        out.iloc[rows, col("ndvi_valid_frac")] = np.minimum(1.0, cov_ok * cell_area / area)
        out.iloc[rows, col("ndvi_mean")] = cov_val / denom
        out.iloc[rows, col("veg_fraction")] = cov_gt[0] / denom
        for ti, tv in enumerate(thr, start=1):
            out.iloc[rows, col(threshold_column(tv))] = cov_gt[ti] / denom
    reason = np.where(cov_all <= 0, "outside the raster", "no valid NDVI cells")
    out.iloc[rows[~has], out.columns.get_loc("ndvi_reason")] = reason[~has]
    return out
