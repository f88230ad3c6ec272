"""The gradient of each fire lane (GB 50016-2014 §7.1.8 (5): 不宜大于8%, advisory).

Where it comes from, in order:

1. the lane's own ``slope`` (``fire_lanes.slope``);
2. the ``slope`` of the streets the lane runs along (a street with at least
   half its length on the lane's surface), the steepest of them;
3. a digital elevation model (``dem``), sampled (bilinear) every
   ``gradient_base`` metres along the lane's centre line: the steepest rise
   over one such step.

Slopes are read as planners write them (:func:`gcgeo.values.to_slope`:
``"8%"``, ``"1:12"``, ``"0.08"``, ``8.3``…); a value that cannot be read is
reported with the lane or street and the next source is used.  Without any
source the gradient is unknown (NaN, ``too_steep`` NA).  Like the wall
distance it is reported per lane, not as a finding: the clause is advisory.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..._errors import InputError
from ...values import to_slope
from .centreline import LanePieces
from .inputs import geometries, index_pairs, row_ids, rule_value, short_list

log = logging.getLogger(__name__)

__all__ = ["dem_gradients", "lane_gradients"]


def _given_slopes(frame: pd.DataFrame) -> pd.Series:
    """``slope`` as given: what ``gcgeo add`` could not read as a number (kept in
    ``slope_raw``, e.g. ``"8%"``) put back."""
    s = frame["slope"].astype(object)
    if "slope_raw" in frame.columns:
        s = s.where(frame["slope_raw"].isna().to_numpy(), frame["slope_raw"].astype(object))
    return s


def _read_slopes(frame: pd.DataFrame, what: str, ids: np.ndarray) -> np.ndarray:
    """``slope`` of ``frame`` as per cent (NaN where missing); unreadable ones logged by id."""
    if "slope" not in frame.columns:
        return np.full(len(frame), np.nan)
    given = _given_slopes(frame)
    values, bad = to_slope(given)
    bad_np = bad.to_numpy(bool)
    if bad_np.any():
        shown = [f"{i} ({v!r})" for i, v in zip(ids[bad_np], given.to_numpy(object)[bad_np])]
        log.warning("layer '%s': slope of %d rows cannot be read (%s); write it as 8%%, 1:12 or "
                    "0.08. Their gradient is taken from the next source, if any.", what,
                    int(bad_np.sum()), short_list(np.array(shown, dtype=object)))
    return values.to_numpy(float) * 100.0


def _street_slopes(pk: LanePieces, n_lanes: int, streets: gpd.GeoDataFrame | None) -> np.ndarray:
    """Per lane, the steepest ``slope`` (per cent) of the streets lying along it."""
    out = np.full(n_lanes, np.nan)
    if streets is None or not len(streets) or "slope" not in streets.columns or not len(pk.area):
        return out
    pct = _read_slopes(streets, "streets", row_ids(streets))
    has = np.isfinite(pct)
    if not has.any():
        return out
    lines = geometries(streets)[has]
    pct = pct[has]
    piece, street = index_pairs(shapely.STRtree(lines).query(pk.area, predicate="intersects"))
    if not len(piece):
        return out
    along = shapely.length(shapely.intersection(lines[street], pk.area[piece]))
    ok = along >= 0.5 * shapely.length(lines[street]) - 1e-9
    np.fmax.at(out, pk.lane_pos[piece[ok]], pct[street[ok]])
    return out


def dem_gradients(lines: np.ndarray, crs: Any, dem: str | Path, *, base: float) -> np.ndarray:
    """Steepest gradient (per cent) of each centre line over ``base``-metre steps on ``dem``.

    Elevations are interpolated bilinearly between cell centres, at the
    line's start, every ``base`` metres and at its end (a last step shorter
    than ``base / 2`` is joined to the one before).  NaN for a line off the
    raster or over its nodata cells.
    """
    import rasterio
    from pyproj import Transformer

    out = np.full(len(lines), np.nan)
    try:
        ds = rasterio.open(dem)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"DEM {dem} cannot be read ({exc}); give a GeoTIFF of elevations.") from None
    with ds:
        if ds.crs is None:
            raise InputError(f"DEM {dem} has no coordinate reference system; assign one first.")
        z = ds.read(1, masked=True).astype(float).filled(np.nan)
        inv = ~ds.transform
        to_dem = Transformer.from_crs(crs, ds.crs, always_xy=True)
    for i, line in enumerate(lines):
        if line is None or line.is_empty or line.length <= 0:
            continue
        n = max(1, int(round(line.length / base)))
        at = np.linspace(0.0, line.length, n + 1)
        pts = shapely.get_coordinates(shapely.line_interpolate_point(line, at))
        x, y = to_dem.transform(pts[:, 0], pts[:, 1])
        x, y = np.asarray(x), np.asarray(y)
        col, row = inv.a * x + inv.b * y + inv.c, inv.d * x + inv.e * y + inv.f
        h = _bilinear(z, row - 0.5, col - 0.5)
        if np.isnan(h).any():
            continue
        out[i] = float(np.max(np.abs(np.diff(h)) / np.diff(at))) * 100.0
    return out


def _bilinear(z: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Values of grid ``z`` at fractional cell-centre indices (NaN outside)."""
    rows, cols = z.shape
    out = np.full(len(r), np.nan)
    ok = (r >= 0) & (c >= 0) & (r <= rows - 1) & (c <= cols - 1)
    r0 = np.minimum(np.floor(r[ok]).astype(int), rows - 2 if rows > 1 else 0)
    c0 = np.minimum(np.floor(c[ok]).astype(int), cols - 2 if cols > 1 else 0)
    fr, fc = r[ok] - r0, c[ok] - c0
    r1, c1 = np.minimum(r0 + 1, rows - 1), np.minimum(c0 + 1, cols - 1)
    out[ok] = (z[r0, c0] * (1 - fr) * (1 - fc) + z[r0, c1] * (1 - fr) * fc
               + z[r1, c0] * fr * (1 - fc) + z[r1, c1] * fr * fc)
    return out


def lane_gradients(lanes: gpd.GeoDataFrame, pk: LanePieces, streets: gpd.GeoDataFrame | None,
                   dem: str | Path | None, r: Mapping[str, Any]) -> pd.DataFrame:
    """Per lane (on the lanes' index): ``gradient_pct``, ``gradient_source`` (``slope``,
    ``streets``, ``dem`` or ``""``) and ``too_steep`` (above the rule ``gradient``;
    NA when unknown)."""
    n = len(lanes)
    grad = _read_slopes(lanes, "fire_lanes", pk.lane_ids)
    source = np.where(np.isfinite(grad), "slope", "").astype(object)
    todo = ~np.isfinite(grad)
    if todo.any():
        st = _street_slopes(pk, n, streets)
        use = todo & np.isfinite(st)
        grad[use], source[use] = st[use], "streets"
        todo &= ~use
    if todo.any() and dem is not None and len(pk.line):
        want = todo[pk.lane_pos]
        parts, owner = shapely.get_parts(pk.line[want], return_index=True)
        vals = dem_gradients(parts, lanes.crs, dem, base=float(rule_value(r, "gradient_base")))
        lane = pk.lane_pos[np.flatnonzero(want)[owner]]
        by_dem = np.full(n, np.nan)
        ok = np.isfinite(vals)
        np.fmax.at(by_dem, lane[ok], vals[ok])
        use = todo & np.isfinite(by_dem)
        grad[use], source[use] = by_dem[use], "dem"
    limit = float(rule_value(r, "gradient"))
    steep = pd.array(np.where(np.isfinite(grad), grad > limit + 1e-9, False), dtype="boolean")
    steep[~np.isfinite(grad)] = pd.NA
    return pd.DataFrame({"gradient_pct": np.round(grad, 2), "gradient_source": source,
                         "too_steep": steep}, index=lanes.index)
