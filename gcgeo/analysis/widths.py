"""The parts of shapes at least a width wide: the width tests of green space and parks.

GB 50180-2018 asks concentrated green to be at least 8 m wide and a park of
each living-circle tier 30, 50 or 80 m wide; both are tested with
:func:`wide_parts`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["wide_parts"]

#: Tolerance (m) so that a strip exactly ``min_width`` wide passes the width test.
_WIDTH_EPS = 1e-6


def wide_parts(geoms: gpd.GeoSeries, *, min_width: float) -> gpd.GeoSeries:
    """The parts of each geometry at least ``min_width`` wide (negative-buffer test).

    Erode by ``min_width / 2``, grow back by the same distance with square
    (mitred) corners, and keep what lies inside the original: a rectangle at
    least ``min_width`` wide is kept whole, a thinner strip vanishes, and the
    thin tail of a wider shape is cut off.
    """
    r = float(min_width) / 2.0 - _WIDTH_EPS
    arr = geoms.to_numpy()
    valid = (geoms.notna() & ~geoms.is_empty).to_numpy()
    out = np.full(len(arr), None, dtype=object)
    if valid.any():
        g = arr[valid]
        if r > 0:
            eroded = shapely.buffer(g, -r, quad_segs=16)
            grown = shapely.buffer(eroded, r, join_style="mitre", mitre_limit=10.0)
            kept = shapely.intersection(grown, g)
        else:
            kept = g
        kept = np.array([k if (k is not None and not k.is_empty and k.area > 0) else None
                         for k in kept], dtype=object)
        out[valid] = kept
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)
