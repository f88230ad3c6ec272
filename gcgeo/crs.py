"""Coordinates: CRS declarations, the metric working CRS, GCJ-02 and BD-09.

Planners' data arrive as WGS-84 (GPS, OSM), CGCS2000 (EPSG:4490 and its
Gauss–Krüger zones, survey files), GCJ-02 (Amap, Tencent) or BD-09 (Baidu).
The last two are not in PROJ; they are implemented here, vectorised over
numpy arrays, forward and inverse.  The inverses are iterated to a fixed
point, so a round trip errs far below 1 cm anywhere in China.

Outside China (the published rectangle) the GCJ-02 shift is not applied, as
the published algorithm does; the BD-09 step on top of GCJ-02 is applied
everywhere, again as published.

>>> import numpy as np
>>> lon, lat = wgs84_to_gcj02(np.array([116.391]), np.array([39.907]))
>>> back = gcj02_to_wgs84(lon, lat)
>>> bool(abs(back[0][0] - 116.391) < 1e-9)
True
"""

from __future__ import annotations

import logging
import math
from typing import Any, overload

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _ProjCRSError

from ._errors import CRSError

log = logging.getLogger(__name__)

__all__ = [
    "SHIFTED",
    "align",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cgcs2000_zone_epsg",
    "choose_metric_crs",
    "declare_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "metric",
    "parse_crs",
    "require_metric",
    "to_metric",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Declarations that are offsets on top of WGS-84 rather than PROJ CRSs.
SHIFTED = ("gcj02", "bd09")

_ALIASES = {
    "wgs84": "EPSG:4326",
    "wgs-84": "EPSG:4326",
    "wgs 84": "EPSG:4326",
    "4326": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "cgcs-2000": "EPSG:4490",
    "china2000": "EPSG:4490",
    "4490": "EPSG:4490",
}
_SHIFT_ALIASES = {"gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02",
                  "tencent": "gcj02", "mars": "gcj02", "bd09": "bd09", "bd-09": "bd09",
                  "baidu": "bd09", "bd09ll": "bd09"}

# --- GCJ-02 / BD-09 -------------------------------------------------------

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_TOL_DEG = 1e-11  # ~1 µm; iteration stops below this
_MAX_ITER = 30


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    if lon.shape != lat.shape:
        raise ValueError(f"lon and lat must have the same shape, got {lon.shape} and {lat.shape}")
    return lon, lat


def in_china(lon: Any, lat: Any) -> np.ndarray:
    """True where (lon, lat) lies in the rectangle the published GCJ-02 code shifts."""
    lon, lat = _arrays(lon, lat)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlon += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = dlon * 180.0 / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → GCJ-02 (Amap, Tencent) on arrays of longitudes and latitudes."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon: np.ndarray, lat: np.ndarray, start=None) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) for x by fixed-point iteration from ``start``."""
    x, y = (lon.copy(), lat.copy()) if start is None else start
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        if not (np.nanmax(np.abs(ex), initial=0.0) > _TOL_DEG
                or np.nanmax(np.abs(ey), initial=0.0) > _TOL_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS-84, iterated so that the round trip errs < 1 mm."""
    lon, lat = _arrays(lon, lat)
    x, y = _invert(wgs84_to_gcj02, lon, lat)
    outside = ~in_china(lon, lat)
    return np.where(outside, lon, x), np.where(outside, lat, y)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02: the published one-step inverse, then iterated."""
    lon, lat = _arrays(lon, lat)
    return _invert(gcj02_to_bd09, lon, lat, start=_bd09_to_gcj02_approx(lon, lat))


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS-84 (via GCJ-02), both steps iterated."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _shift_geoms(geoms: np.ndarray, func) -> np.ndarray:
    def f(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, f)


def shift_to_wgs84(gdf: gpd.GeoDataFrame, declared: str) -> gpd.GeoDataFrame:
    """Convert a frame whose lon/lat are in GCJ-02 or BD-09 to true WGS-84."""
    out = gdf.copy()
    geoms = _shift_geoms(np.asarray(gdf.geometry.values, dtype=object), _TO_WGS84[declared])
    return out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs="EPSG:4326"))


def shift_from_wgs84(gdf: gpd.GeoDataFrame, target: str) -> gpd.GeoDataFrame:
    """WGS-84 frame → GCJ-02 / BD-09 lon/lat (for drawing on Amap/Baidu tiles only)."""
    src = gdf.to_crs("EPSG:4326") if gdf.crs is not None and not gdf.crs.equals(4326) else gdf
    geoms = _shift_geoms(np.asarray(src.geometry.values, dtype=object), _FROM_WGS84[target])
    return src.set_geometry(gpd.GeoSeries(geoms, index=src.index, crs="EPSG:4326"))


# --- declarations and the working CRS --------------------------------------


def parse_crs(spec: Any) -> tuple[CRS, str | None]:
    """Read a CRS declaration.

    Returns ``(crs, shift)``: ``shift`` is ``"gcj02"`` or ``"bd09"`` when the
    coordinates are lon/lat offset from WGS-84 by those algorithms (then
    ``crs`` is EPSG:4326 after the shift is undone), else ``None``.
    Accepts ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``, ``EPSG:4547``, a
    bare EPSG number, WKT or a pyproj CRS.
    """
    if isinstance(spec, CRS):
        return spec, None
    text = str(spec).strip()
    key = text.lower()
    if key in _SHIFT_ALIASES:
        return CRS.from_epsg(4326), _SHIFT_ALIASES[key]
    text = _ALIASES.get(key, text)
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text), None
    except _ProjCRSError:
        raise CRSError(
            f"'{spec}' is not a coordinate reference system gcgeo knows; use wgs84, cgcs2000, "
            "gcj02 (Amap/Tencent), bd09 (Baidu) or an EPSG code such as EPSG:4547."
        ) from None


def cgcs2000_zone_epsg(lon: float, *, prefixed: bool = False) -> int:
    """EPSG code of the CGCS2000 3° Gauss–Krüger zone containing ``lon``.

    ``prefixed=False`` gives EPSG:4534–4554 (false easting 500 km, central
    meridian 75°E…135°E); ``prefixed=True`` gives EPSG:4513–4533, whose
    eastings carry the zone number.
    """
    zone = int(math.floor(lon / 3.0 + 0.5))
    if not 25 <= zone <= 45:
        raise CRSError(
            f"longitude {lon:.3f} lies outside the CGCS2000 3° zones (73.5°E–136.5°E)."
        )
    return (4513 if prefixed else 4534) + zone - 25


def _lonlat_center(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    minx, miny, maxx, maxy = gdf.to_crs("EPSG:4326").total_bounds
    return (minx + maxx) / 2.0, (miny + maxy) / 2.0


#: Largest relative error of lengths a working CRS may make at the data
#: (Web Mercator makes 25 % at 37°N; CGCS2000 3° zones and UTM under 0.1 %).
MAX_SCALE_ERROR = 0.01


def scale_error(crs: CRS, lon: float, lat: float) -> float:
    """Relative error of lengths measured in projected ``crs`` at (lon, lat)."""
    from pyproj import Proj

    f = Proj(crs).get_factors(lon, lat)
    return max(abs(f.meridional_scale - 1.0), abs(f.parallel_scale - 1.0))


def choose_metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The working CRS for metric analysis of ``gdf``.

    The data's own CRS if projected and true to scale there (within
    :data:`MAX_SCALE_ERROR`: not Web Mercator); else, for data in China, the
    CGCS2000 3° Gauss–Krüger zone (EPSG:4534–4554) of its centre; else its
    UTM zone.
    """
    if gdf.crs is None:
        raise CRSError("the layer has no CRS; declare it (wgs84, cgcs2000, gcj02, bd09, EPSG:…).")
    if gdf.empty or gdf.geometry.is_empty.all():
        if gdf.crs.is_projected:
            return gdf.crs
        raise CRSError("cannot choose a metric CRS for an empty layer; give one explicitly.")
    lon, lat = _lonlat_center(gdf)
    if gdf.crs.is_projected:
        err = scale_error(gdf.crs, lon, lat)
        if err <= MAX_SCALE_ERROR:
            return gdf.crs
        log.warning("%s distorts lengths by %.0f%% here; measuring in a conformal zone instead",
                    gdf.crs.to_string(), err * 100)
    if bool(in_china(lon, lat)) and 73.5 <= lon <= 136.5 and lat >= 3.0:
        return CRS.from_epsg(cgcs2000_zone_epsg(lon))
    utm = gdf.estimate_utm_crs()
    return utm


def to_metric(gdf: gpd.GeoDataFrame, crs: Any = None, *, what: str = "layer") -> gpd.GeoDataFrame:
    """``gdf`` in a projected metric CRS (``crs`` if given, else chosen)."""
    if gdf.crs is None:
        raise CRSError(f"{what} has no CRS; declare it before metric work.")
    target = parse_crs(crs)[0] if crs is not None else choose_metric_crs(gdf)
    if not target.is_projected:
        raise CRSError(
            f"{target.to_string()} is geographic (degrees); metric analysis needs a projected "
            "CRS such as a CGCS2000 zone (EPSG:4534–4554) or UTM."
        )
    return gdf if gdf.crs.equals(target) else gdf.to_crs(target)


def declare_crs(gdf: gpd.GeoDataFrame, src_crs: Any, *, source: str = "the input") -> gpd.GeoDataFrame:
    """Set the CRS the user declared for ``gdf`` and undo GCJ-02/BD-09 shifts.

    ``cgcs2000`` given for projected coordinates picks the zone from
    zone-prefixed eastings (≥ 10⁷); plain eastings need the zone's EPSG code.
    """
    crs, shift = parse_crs(src_crs)
    out = gdf.set_crs(crs, allow_override=True)
    if not len(gdf):
        return out
    minx, miny, maxx, maxy = gdf.total_bounds
    if crs.is_geographic and (abs(minx) > 180 or abs(maxx) > 180 or abs(miny) > 90
                              or abs(maxy) > 90):
        if crs.equals(CRS.from_epsg(4490)) and minx >= 1e7:
            zone = int(minx // 1e6)
            code = 4513 + zone - 25
            if 4513 <= code <= 4533 and int(maxx // 1e6) == zone:
                return gdf.set_crs(code, allow_override=True)
        raise CRSError(
            f"{source} was declared {src_crs}, but its coordinates ({minx:.0f}, {miny:.0f}) – "
            f"({maxx:.0f}, {maxy:.0f}) are not degrees; declare its projected CRS instead, e.g. "
            "a CGCS2000 3° zone (EPSG:4534–4554, or 4513–4533 when eastings carry the zone)."
        )
    if shift:
        out = shift_to_wgs84(out, shift)
    return out


# --------------------------------------------------------------------------
# the CRS gate: one policy for every analysis


def require_metric(obj: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> None:
    """Refuse ``obj`` for metric work unless it is in a projected CRS.

    For the building blocks that take frames as they come (a green ratio, a
    clear width): a frame without a CRS, or in degrees, would give numbers in
    nobody's unit.  The analyses' ``run`` functions use :func:`metric`, which
    reprojects degrees instead.
    """
    if obj.crs is None:
        raise CRSError(
            f"{what} has no CRS; declare it (when adding it: --src-crs, e.g. --src-crs EPSG:4490 "
            "for lon/lat; in Python: gdf.set_crs(...)) and reproject it to a metric CRS "
            "(gcgeo.crs.to_metric).")
    if not CRS.from_user_input(obj.crs).is_projected:
        raise CRSError(
            f"{what} is in the geographic CRS {obj.crs.name!r} (degrees); lengths and areas need "
            f"metres. Reproject it first: gcgeo.crs.to_metric (a CGCS2000 zone in China, UTM "
            "elsewhere).")


def metric(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """The gate of an analysis's main layer: ``gdf`` in a projected metric CRS.

    A layer without a CRS is refused (its coordinates could be degrees or any
    projection); one in degrees is reprojected to the CRS
    :func:`choose_metric_crs` picks (the CGCS2000 3° zone in China, UTM
    elsewhere), as the workspace stores every layer; a projected one is kept.
    Every other layer of the analysis then goes through :func:`align`.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{what} has no CRS; declare it when adding it (--src-crs, e.g. --src-crs EPSG:4490 "
            "for lon/lat) or in Python with gdf.set_crs(...).")
    if CRS.from_user_input(gdf.crs).is_projected:
        return gdf
    out = to_metric(gdf, what=what)
    log.info("%s is in degrees (%s); measured in %s", what, gdf.crs.name, out.crs.name)
    return out


@overload
def align(gdf: None, crs: Any, what: str, *, against: str = ...) -> None: ...
@overload
def align(gdf: gpd.GeoDataFrame, crs: Any, what: str, *, against: str = ...) -> gpd.GeoDataFrame: ...
def align(gdf: gpd.GeoDataFrame | None, crs: Any, what: str, *, against: str = "the analysis"
          ) -> gpd.GeoDataFrame | None:
    """``gdf`` in ``crs`` (the CRS of the analysis's main layer); None stays None.

    A layer without a CRS is refused when ``crs`` is set: its coordinates may
    be degrees or another projection, and guessing would silently find nothing.
    """
    if gdf is None or crs is None:
        return gdf
    if gdf.crs is None:
        raise CRSError(
            f"{what} has no CRS while {against} is in {CRS.from_user_input(crs).name}; its "
            "coordinates cannot be matched. Declare its CRS when adding it (--src-crs, e.g. "
            "--src-crs EPSG:4490 for lon/lat, or gcgeo.crs.declare_crs) so it can be reprojected.")
    if not gdf.crs.equals(crs):
        log.debug("reprojecting %s to %s", what, CRS.from_user_input(crs).name)
        return gdf.to_crs(crs)
    return gdf
