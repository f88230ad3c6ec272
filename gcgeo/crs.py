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

from ._errors import CRSError, InputError

log = logging.getLogger(__name__)

__all__ = [
    "FAR_OUTSIDE_M",
    "SHIFTED",
    "STRAY_FACTOR",
    "STRAY_KM",
    "align",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cgcs2000_zone_epsg",
    "check_axes",
    "check_coordinates",
    "check_strays",
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
    if lat > 84 or lat < -80:  # beyond UTM: the polar stereographic CRS of its pole
        return CRS.from_epsg(32661 if lat > 0 else 32761)
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


# --------------------------------------------------------------------------
# coordinates that cannot be right


#: Features farther than this outside the study area are reported when a layer is added
FAR_OUTSIDE_M = 10_000.0
#: A row farther than both ``STRAY_KM`` kilometres and ``STRAY_FACTOR`` times the median
#: row's distance from the rows' median position is refused (:func:`check_strays`)
STRAY_KM = 500.0
STRAY_FACTOR = 10.0
_MAX_NAMED = 8
_SAMPLE = 20_000  # coordinates looked at for the area-of-use checks


def _rows(mask: np.ndarray) -> str:
    """Feature numbers (counted from 1, in the order of the file) where ``mask`` holds."""
    rows = [str(int(i) + 1) for i in np.flatnonzero(mask)[:_MAX_NAMED]]
    more = f" and {int(mask.sum()) - _MAX_NAMED} more" if mask.sum() > _MAX_NAMED else ""
    return f"feature{'s' if mask.sum() > 1 else ''} {', '.join(rows)}{more}"


def _num(v: float) -> str:
    """A coordinate as a planner reads it: 4,078,801 (metres), 116.28 (degrees)."""
    return f"{int(v):,}" if abs(v) >= 1000 else f"{v:g}"


def _place(lon: float, lat: float) -> str:
    """147.6°E 3.4°N: where (lon, lat) is, to a tenth of a degree."""
    return f"{abs(lon):.1f}°{'E' if lon >= 0 else 'W'} {abs(lat):.1f}°{'N' if lat >= 0 else 'S'}"


def _origin(source: str, declared: str | None) -> str:
    """Where the CRS of ``source`` was named: --src-crs, a Shapefile's .prj, or the file."""
    if declared:
        return f"--src-crs {declared}"
    return "its .prj" if source.lower().endswith(".shp") else "the CRS stored in the file"


def _wrong_zone_fix(origin: str) -> str:
    if origin.startswith("--src-crs"):
        return f"If {origin} names the wrong zone, give the right one."
    return f"If {origin} names the wrong zone, declare the right CRS with --src-crs."


def _false_easting(crs: CRS) -> float | None:
    op = crs.coordinate_operation
    if op is None:
        return None
    for p in op.params:
        if p.name.lower() == "false easting":
            return float(p.value)
    return None


def _zone_crs(crs: CRS, zone: int) -> str:
    """The zone-numbered CGCS2000 CRS of Gauss–Krüger ``zone`` (3° or 6°), as words."""
    if "china 2000" in (crs.datum.name if crs.datum else "").lower():
        if 25 <= zone <= 45:
            return f"EPSG:{4513 + zone - 25} (CGCS2000 3° zone {zone})"
        if 13 <= zone <= 23:
            return f"EPSG:{4491 + zone - 13} (CGCS2000 6° zone {zone})"
    return f"the CRS of Gauss–Krüger zone {zone} with zone-numbered eastings"


def _check_zone_numbers(x: np.ndarray, crs: CRS, source: str, origin: str) -> None:
    """Refuse eastings whose zone number (their millions) contradicts the CRS's."""
    fe = _false_easting(crs)
    if fe is None or not len(x):
        return
    zones = np.unique(np.floor(x / 1e6).astype(np.int64))
    if fe >= 1e7 and fe % 1e6 == 5e5:  # a zone-numbered Gauss–Krüger CRS
        own = int(fe // 1e6)
        if len(zones) == 1 and zones[0] != own and 13 <= zones[0] <= 45:
            raise CRSError(
                f"{source}: its eastings begin with zone number {zones[0]} ({x.min():,.0f}…), but "
                f"its CRS {crs.name} is zone {own} (eastings {own},xxx,xxx): {origin} names the "
                f"wrong zone, which would put every feature hundreds of kilometres away. Declare "
                f"the right one with --src-crs, e.g. {_zone_crs(crs, int(zones[0]))}.")
    elif fe == 5e5 and len(zones) == 1 and 13 <= zones[0] <= 45 and x.min() >= 1e7:
        raise CRSError(
            f"{source}: its eastings carry a zone number ({x.min():,.0f}…: zone {zones[0]}), but "
            f"its CRS {crs.name} expects eastings without one (around 500,000 m). Declare the "
            f"zone-numbered CRS with --src-crs, e.g. {_zone_crs(crs, int(zones[0]))}.")


def _sample(coords: np.ndarray) -> np.ndarray:
    if len(coords) <= _SAMPLE:
        return coords
    step = int(math.ceil(len(coords) / _SAMPLE))
    return coords[::step]


def _outside_by(lon: np.ndarray, lat: np.ndarray, bounds: tuple[float, float, float, float],
                slack: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Where each (lon, lat) lies outside ``bounds``: how many degrees, and whether by
    more than ``slack`` times the area's width or height (at least 1°) beyond its edge."""
    w, s, e, n = bounds
    dx = np.maximum(w - lon, 0) + np.maximum(lon - e, 0)
    dy = np.maximum(s - lat, 0) + np.maximum(lat - n, 0)
    far = (dx > max(1.0, slack * (e - w))) | (dy > max(1.0, slack * (n - s)))
    return np.maximum(dx, dy), far


def _to_lonlat(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of positions in ``crs``; NaN or inf where the projection has none."""
    from pyproj import Transformer

    if crs.is_geographic:
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True).transform(
        x, y, errcheck=False)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _far_from_area(crs: CRS, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Where (x, y) in projected ``crs`` is no position, or lies far outside its area of use."""
    lon, lat = _to_lonlat(crs, x, y)
    finite = np.isfinite(lon) & np.isfinite(lat)
    if crs.area_of_use is None:
        return ~finite
    far = _outside_by(np.where(finite, lon, 0.0), np.where(finite, lat, 0.0),
                      crs.area_of_use.bounds)[1]
    return ~finite | far


def check_axes(x: Any, y: Any, crs: Any, *, source: str, x_name: str | None = None,
               y_name: str | None = None) -> None:
    """Refuse projected coordinates given with their axes swapped: northings as x.

    Chinese surveys (测量坐标系) call the northing X and the easting Y; read as
    (easting, northing) they land thousands of kilometres away.  The axes are
    taken as swapped when, as given, some positions lie far outside the area
    ``crs`` is made for (more than half its width or height, at least 1°,
    beyond its edge) while, swapped, none does.  ``x_name`` and ``y_name``
    name a table's columns: the message then gives the ``--x``/``--y`` fix.
    Geographic CRSs are left to the lat/lon checks; a CRS without an area of
    use cannot tell.

    >>> check_axes([4078801.5], [434800.0], "EPSG:4548", source="mh.xlsx",
    ...            x_name="X坐标", y_name="Y坐标")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gcgeo._errors.CRSError: mh.xlsx: 'X坐标' holds values like 4,078,801 (northings) and 'Y坐标' like 434,800 ...
    """
    crs = CRS.from_user_input(crs)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not crs.is_projected or crs.area_of_use is None or not len(x):
        return
    if not _far_from_area(crs, x, y).any() or _far_from_area(crs, y, x).any():
        return
    lon, lat = _to_lonlat(crs, x[:1], y[:1])
    landed = (f"around {_place(float(lon[0]), float(lat[0]))}"
              if np.isfinite(lon[0]) and np.isfinite(lat[0]) else "nowhere on the Earth")
    area = crs.area_of_use.name.rstrip(".")
    if x_name is not None and y_name is not None:
        raise CRSError(
            f"{source}: '{x_name}' holds values like {_num(x[0])} (northings) and '{y_name}' like "
            f"{_num(y[0])} (eastings); Chinese surveys put the northing in X, and read as given "
            f"the points would lie {landed}, far outside the area of {crs.name} ({area}). Give "
            f"--x {y_name} --y {x_name}. Nothing was added.")
    raise CRSError(
        f"{source}: its x coordinates hold values like {_num(x[0])} (northings) and its y like "
        f"{_num(y[0])} (eastings): the axes are swapped (Chinese surveys put the northing in X), "
        f"which puts the features {landed}, far outside the area of its CRS {crs.name} ({area}). "
        "Swap them in the source (QGIS: Processing › 'Swap X and Y coordinates') and add it "
        "again. Nothing was added.")


#: Kilometres from the other rows within which a projection's (0, 0) is taken as a position,
#: not a blank (:func:`check_strays`).
ZERO_NEAR_KM = 50.0


def check_strays(x: Any, y: Any, crs: Any, *, source: str, rows: Any = None,
                 what: str = "feature") -> None:
    """Refuse rows lying apart from all the others: a layer gcgeo measures lies in one region.

    ``x``, ``y`` hold each row's position in ``crs`` as given (for a line or
    polygon, the middle of its bounds).  A row is refused when

    * its coordinates are exactly (0, 0): what geocoders and spreadsheets
      leave for an address they could not place (in metres of a projection,
      only where the other rows lie more than :data:`ZERO_NEAR_KM` from it:
      a drawing in local coordinates may start at its origin); or
    * it lies more than :data:`STRAY_KM` (500 km) from the rows' median
      position (median longitude, median latitude; (0, 0) rows left out) *and*
      more than :data:`STRAY_FACTOR` (10) times as far as the median row does.

    The median stands while fewer than half the rows stray, so the stray
    does not move it.  The second condition keeps wide layers: the features
    of a province lie a few hundred kilometres from their median, and only a
    row ten times farther than that is refused; a county's features lie
    within tens of kilometres, and a row 500 km off (a geocoder's namesake
    in another province, a dropped digit) is refused.  Fewer than three
    positioned rows have no median to tell which is wrong; the workspace
    then checks that its working CRS measures the whole extent truly.

    ``rows`` names each row (e.g. ``"line 4"`` of a CSV file, ``"row 4"`` of
    a sheet; by default ``"feature N"``), ``what`` says what a row is.
    Raises :class:`~gcgeo.InputError` naming the rows, their coordinates and
    the fix.

    >>> check_strays([116.27, 116.28, 0, 116.281], [36.84, 36.845, 0, 36.846], "EPSG:4326",
    ...              source="poi.csv", rows=["line 2", "line 3", "line 4", "line 5"],
    ...              what="row")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gcgeo._errors.InputError: poi.csv: 1 of 4 rows lies apart from the others ...: line 4: (0, 0) — ...
    """
    from pyproj import Geod

    crs = CRS.from_user_input(crs)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    if not n:
        return
    zero = (x == 0) & (y == 0)
    lon, lat = _to_lonlat(crs, x, y)
    if zero.any() and not crs.is_geographic:
        # metres at a projection's (0, 0) are a blank only far from the other rows: a drawing
        # in local coordinates (a site plan, a test grid) may well start there
        rest = np.isfinite(lon) & np.isfinite(lat) & ~zero
        if rest.any():
            _, _, d0 = Geod(ellps="WGS84").inv(float(np.median(lon[rest])), float(np.median(lat[rest])),
                                               float(lon[zero][0]), float(lat[zero][0]))
            if np.isfinite(d0) and d0 / 1000.0 <= ZERO_NEAR_KM:
                zero[:] = False
        else:
            zero[:] = False
    ok = np.isfinite(lon) & np.isfinite(lat) & ~zero
    far = np.zeros(n, dtype=bool)
    dist = np.zeros(n)
    centre = None
    if ok.sum() >= 3:
        centre = float(np.median(lon[ok])), float(np.median(lat[ok]))
        k = np.flatnonzero(ok)
        _, _, d = Geod(ellps="WGS84").inv(np.full(len(k), centre[0]), np.full(len(k), centre[1]),
                                          lon[k], lat[k])
        dist[k] = np.asarray(d, dtype=float) / 1000.0
        spread = float(np.median(dist[k]))
        far[k] = dist[k] > max(STRAY_KM, STRAY_FACTOR * spread)
    bad = zero | far
    if not bad.any():
        return
    named = [rows[i] if rows is not None else f"feature {i + 1}"
             for i in np.flatnonzero(bad)[:_MAX_NAMED]]
    items = [f"{label}: (0, 0) — an address that was not geocoded?" if zero[i] else
             f"{label}: ({_num(x[i])}, {_num(y[i])}), {dist[i]:,.0f} km away"
             for label, i in zip(named, np.flatnonzero(bad)[:_MAX_NAMED])]
    count = int(bad.sum())
    more = f"; and {count - _MAX_NAMED} more" if count > _MAX_NAMED else ""
    listed = "; ".join(items) + more
    rest = f" (around {_place(*centre)})" if centre is not None else ""
    them = f"those {what}s" if count > 1 else f"that {what}"
    raise InputError(
        f"{source}: {count} of {n} {what}s {'lie' if count > 1 else 'lies'} apart from the "
        f"others{rest}, where no map of one region holds {'them' if count > 1 else 'it'}: "
        f"{listed}{'' if listed.endswith('?') else '.'} Correct or remove {them} in the file "
        "and add it again. Nothing was added.")


def _check_projected(coords: np.ndarray, index: np.ndarray, crs: CRS, source: str,
                     origin: str) -> None:
    """Refuse degrees given as metres, swapped axes and positions the projection cannot have."""
    x, y = coords[:, 0], coords[:, 1]
    _check_zone_numbers(x, crs, source, origin)
    lon, lat = _to_lonlat(crs, x, y)
    lost = ~(np.isfinite(lon) & np.isfinite(lat))
    area = crs.area_of_use.bounds if crs.area_of_use is not None else None
    where = crs.area_of_use.name.rstrip(".") if crs.area_of_use is not None else "its area"
    looks_degrees = bool(np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90)
                         and max(np.abs(x).max(), np.abs(y).max()) > 1)
    if looks_degrees:
        # degrees read as metres land within 200 m of the projection's (0, 0): outside the
        # area a regional CRS is made for, where the degrees would lie; for a CRS of the
        # whole world (Web Mercator), at its origin (0°N 0°E)
        world = area is None or area[2] - area[0] >= 180
        o_lon, o_lat = _to_lonlat(crs, np.array([0.0]), np.array([0.0]))
        at_origin = world and not lost.all() and bool(np.isfinite(o_lon[0]) and np.isfinite(o_lat[0])) \
            and bool(np.all(np.hypot(lon[~lost] - o_lon[0], lat[~lost] - o_lat[0]) < 0.01))
        off_area = area is not None and not world and bool(
            np.all(~_outside_by(x, y, area, slack=2.0)[1])
            and not np.any(~lost & (_outside_by(lon, lat, area)[0] == 0)))
        if at_origin or off_area:
            raise CRSError(
                f"{source}: its coordinates ({x.min():g}, {y.min():g}) – ({x.max():g}, {y.max():g}) "
                f"are degrees of longitude and latitude, but its CRS {crs.name} is projected (in "
                f"metres), which puts them at the projection's origin, far from {where}. Declare the "
                "coordinates' CRS with --src-crs wgs84 (or cgcs2000, gcj02, bd09).")
    check_axes(x, y, crs, source=source)
    if lost.any():
        raise CRSError(
            f"{source}: the coordinates of {_rows(np.isin(np.arange(index.max() + 1), index[lost]))} "
            f"({x[lost].min():,.0f}, {y[lost].min():,.0f}…) are no position in its CRS "
            f"{crs.name}; the CRS ({origin}) or the coordinates are wrong. "
            "Declare the right CRS with --src-crs.")


def _area_of_use(coords: np.ndarray, index: np.ndarray, crs: CRS, source: str,
                 origin: str) -> list[str]:
    """Positions far outside the area projected ``crs`` is made for: refused where the CRS
    distorts lengths there by more than :data:`MAX_SCALE_ERROR` (no survey in it has such
    coordinates, and nothing measured from them would be right), else a warning."""
    from pyproj import Proj

    if crs.area_of_use is None:
        return []
    w, s, e, n = crs.area_of_use.bounds
    where = crs.area_of_use.name.rstrip(".")
    lon, lat = _to_lonlat(crs, coords[:, 0], coords[:, 1])
    beyond, far = _outside_by(lon, lat, (w, s, e, n))
    if not far.any():
        return []
    rows = np.zeros(int(index.max()) + 1, dtype=bool)
    rows[index[far]] = True
    said = (f"{source}: {int(rows.sum())} feature(s) ({_rows(rows)}) lie up to "
            f"{beyond.max():.1f}° outside the area its CRS {crs.name} is made for ({where}, "
            f"{w:g}°–{e:g}°E, {s:g}°–{n:g}°N)")
    try:
        f = Proj(crs).get_factors(lon[far], lat[far], errcheck=False)
        err = np.maximum(np.abs(np.asarray(f.meridional_scale) - 1.0),
                         np.abs(np.asarray(f.parallel_scale) - 1.0))
    except Exception:  # noqa: BLE001 - PROJ cannot project there at all
        err = np.full(int(far.sum()), np.inf)
    untrue = ~(err <= MAX_SCALE_ERROR)  # NaN: no scale there at all
    if untrue.any():
        worst = float(np.nanmax(np.where(np.isfinite(err), err, np.nan), initial=0.0))
        distorts = (f"distorts lengths by {worst:.0%}" if np.isfinite(err).all()
                    else "cannot measure at all")
        raise CRSError(
            f"{said}, where that CRS {distorts}: no survey in it has such coordinates, and no "
            f"result measured from them would be right. {origin[0].upper() + origin[1:]} or the "
            "coordinates are wrong: declare the CRS they are in with --src-crs (for lon/lat: "
            "wgs84, cgcs2000, gcj02, bd09), or correct those features. Nothing was added.")
    return [f"{said}. {_wrong_zone_fix(origin)}"]


def _check_geographic(coords: np.ndarray, index: np.ndarray, n_rows: int, crs: CRS,
                      source: str) -> list[str]:
    """Refuse latitudes beyond ±90° and longitudes beyond ±180°; warn about lat/lon that
    read as lon/lat would lie in China while they lie nowhere near it."""
    x, y = coords[:, 0], coords[:, 1]
    bad_rows = np.zeros(n_rows, dtype=bool)
    off = (np.abs(y) > 90) | (np.abs(x) > 180)
    if off.any():
        bad_rows[index[off]] = True
        if np.all(np.abs(x) <= 90) and np.all(np.abs(y) <= 180):
            raise CRSError(
                f"{source}: latitudes beyond ±90° (up to {np.abs(y).max():g}) in {_rows(bad_rows)}, "
                "while every longitude stays within ±90°: the coordinates are swapped, (lat, lon) "
                "instead of (lon, lat). Swap them in the source (QGIS: Processing › 'Swap X and Y "
                "coordinates'; for a CSV give --x and --y the other way round). Nothing was added.")
        raise CRSError(
            f"{source}: the coordinates of {_rows(bad_rows)} ({x[off].min():,.0f}, "
            f"{y[off].min():,.0f}…) are not degrees, yet its CRS {crs.name} is in degrees. "
            "Declare the projected CRS they are in with --src-crs, e.g. a CGCS2000 3° zone "
            "(EPSG:4534–4554, or 4513–4533 when eastings carry the zone number).")
    if bool(np.all(in_china(y, x))) and not bool(np.any(in_china(x, y))):
        return [f"{source}: every feature lies at latitude {y.min():.1f}°–{y.max():.1f}°, "
                f"longitude {x.min():.1f}°–{x.max():.1f}°, where read as (lat, lon) it would lie "
                "in China: if the coordinates are swapped, swap them in the source (QGIS: "
                "Processing › 'Swap X and Y coordinates'; for a CSV give --x and --y the other "
                "way round) and add the file again with --overwrite."]
    return []


def _far_outside(gdf: gpd.GeoDataFrame, area: gpd.GeoSeries, far_m: float, source: str,
                 area_name: str, origin: str) -> list[str]:
    """Say how many features lie farther than ``far_m`` outside ``area``, and how far."""
    if area.crs is None or not len(area):
        return []
    metric_crs = area.crs if CRS.from_user_input(area.crs).is_projected else \
        choose_metric_crs(gpd.GeoDataFrame(geometry=area))
    # measured from the area's convex outline: quick for any layer, and what is far
    # from the outline is at least as far from the area
    shape = shapely.convex_hull(shapely.union_all(np.asarray(area.to_crs(metric_crs).values,
                                                             dtype=object)))
    if shape is None or shape.is_empty:
        return []
    shapely.prepare(shape)
    geoms = np.asarray(gdf.geometry.to_crs(metric_crs).values, dtype=object)
    d = np.nan_to_num(shapely.distance(shape, geoms), nan=0.0)
    far = d > far_m
    if not far.any():
        return []
    return [f"{source}: {int(far.sum())} of {len(gdf)} features lie more than {far_m / 1000:g} km "
            f"outside {area_name}, up to {d.max() / 1000:,.0f} km away ({_rows(far)}). Check the "
            f"file's CRS ({origin}: a neighbouring Gauss–Krüger zone puts features ~270 km east "
            "or west) and its coordinates; 'gcgeo validate' lists them."]


def check_coordinates(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    study_area: gpd.GeoSeries | None = None,
    area_name: str = "the study area",
    far_m: float = FAR_OUTSIDE_M,
    declared: str | None = None,
) -> list[str]:
    """Refuse coordinates that cannot be right; return warnings about those that are likely wrong.

    Raises :class:`~gcgeo.CRSError` naming ``source`` (the file) and the
    features at fault for: no CRS; a geocentric CRS; infinite or NaN
    coordinates; latitudes beyond ±90° (with the fix when lat and lon are
    swapped) or longitudes beyond ±180°; degrees in a projected CRS;
    eastings whose zone number contradicts the CRS's; projected axes
    swapped, northings as x (:func:`check_axes`); positions the projection
    cannot have; positions far outside the area the projected CRS is made
    for where it distorts lengths by more than :data:`MAX_SCALE_ERROR`.
    Raises :class:`~gcgeo.InputError` for features at (0, 0) or far from all
    the others (:func:`check_strays`).  Returns one message per suspicion:
    other positions far outside the area the projected CRS is made for;
    lat/lon that read swapped would lie in China; features more than
    ``far_m`` metres outside ``study_area`` (a GeoSeries with its CRS;
    ``area_name`` names it), with their count and distance.  ``declared``
    is the CRS as the user declared it (``--src-crs``), None when it is the
    file's own: the messages then say which to fix.

    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([36.85], [116.2]), crs=4326)
    >>> check_coordinates(pts, source="poi.geojson")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gcgeo._errors.CRSError: poi.geojson: latitudes beyond ±90° (up to 116.2) in feature 1, ...
    """
    if gdf.crs is None:
        raise CRSError(f"{source} has no CRS; declare it with --src-crs (wgs84, cgcs2000, gcj02, "
                       "bd09 or an EPSG code).")
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geocentric:
        raise CRSError(
            f"{source}: its CRS {crs.name} is geocentric (x, y, z in metres from the centre of "
            "the Earth), not a map's: reproject it to a map CRS (e.g. EPSG:4326 or a CGCS2000 zone) "
            "in the program that made it, or declare the CRS the coordinates are in with --src-crs.")
    origin = _origin(source, declared)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        bad = np.zeros(len(gdf), dtype=bool)
        bad[index[~finite]] = True
        raise CRSError(
            f"{source}: infinite or missing (NaN) coordinates in {_rows(bad)}; fix or delete "
            f"{'them' if bad.sum() > 1 else 'it'} in the source, then add the file again. "
            "Nothing was added.")
    if not len(coords):
        return []
    found: list[str] = []
    keep = _sample(np.column_stack([coords, index]))
    if crs.is_geographic:
        found += _check_geographic(coords, index, len(gdf), crs, source)
    elif crs.is_projected:
        _check_projected(keep[:, :2], keep[:, 2].astype(np.int64), crs, source, origin)
    box = shapely.bounds(geoms)
    check_strays((box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2, crs, source=source)
    if crs.is_projected:
        found += _area_of_use(keep[:, :2], keep[:, 2].astype(np.int64), crs, source, origin)
    if study_area is not None:
        found += _far_outside(gdf, study_area, far_m, source, area_name, origin)
    return found
