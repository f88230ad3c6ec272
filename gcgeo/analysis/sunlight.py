"""Sun positions and building shadows: how much concentrated green lies in the sun.

GB 50180-2018 §4.0.7 wants at least 1/3 of a residential block's
concentrated green outside the standard building shadow line (标准的建筑日照
阴影线) — the shadows of the standard sunlight day (大寒日 or 冬至日 by climate
zone, Table 4.0.9) over its effective sunlight hours (8:00–16:00 true solar
time on 大寒日, 9:00–15:00 on 冬至日).  gcgeo reads the line as an isoline of
sunlight hours, as sunlight-analysis software draws it: a point of the green
lies outside it when it gets at least ``min_hours`` of sun in the window
(rule ``green.sunlight.min_hours``).

How it is measured:

* The sun's position comes from the NOAA solar-position formulas
  (:func:`solar_position`; geometric, without refraction), at the middle of
  every ``interval`` minutes of the window in true solar time
  (:func:`sun_path`); each sample stands for ``interval`` minutes of sun.
* A building is a prism of its footprint and its height (``height_m``, else
  ``floors`` × a storey height).  Its shadow on flat ground at one sun
  position is the footprint swept along the shadow vector of length
  ``height / tan(elevation)`` away from the sun (:func:`shadow`: the
  footprint, its translate and the parallelogram each edge sweeps), turned
  from true north to the projection's grid north.
* The green is cut by the outlines of every sample's shadows; each piece is
  in the sun for the samples whose shadows miss it (:func:`sunlit_area`).

>>> import datetime
>>> sun = sun_path(datetime.date(2025, 12, 21), [12.0], lat=36.85, lon=116.23)
>>> round(float(sun.declination[0]), 2), round(float(sun.elevation[0]), 2)
(-23.44, 29.71)
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .. import rules as _rules
from .._errors import RulesError
from ..values import feature_ids, to_number

__all__ = ["STANDARD_DAYS", "SunPosition", "building_heights", "concentrated_sunlight",
           "grid_north", "shadow",
           "solar_position", "standard_day", "sun_path", "sunlit_area", "sunlit_share"]

log = logging.getLogger(__name__)

#: The standard sunlight days (GB 50180-2018 Table 4.0.9) by the names a rule may give,
#: as (month, day) of the solar term (大寒 Jan 20, 冬至 Dec 21) and the rule of its window.
STANDARD_DAYS = {
    "大寒日": ((1, 20), "window_dahan"),
    "冬至日": ((12, 21), "window_dongzhi"),
}
#: The year whose calendar the standard day is taken in (declination differs
#: by less than 0.2° between years for the same date).
_YEAR = 2025


class SunPosition(NamedTuple):
    """The sun seen from a place: angles in degrees, azimuth clockwise from true north,
    equation of time in minutes; arrays of the times asked for."""

    elevation: np.ndarray
    azimuth: np.ndarray
    declination: np.ndarray
    equation_of_time: np.ndarray


# --------------------------------------------------------------------------
# the NOAA solar-position formulas (NOAA Global Monitoring Laboratory's solar
# calculator, after Meeus, Astronomical Algorithms)


def _julian_century(when: np.ndarray) -> np.ndarray:
    """Julian centuries since J2000.0 of UTC instants (numpy datetime64)."""
    seconds = (when - np.datetime64("2000-01-01T12:00:00")) / np.timedelta64(1, "s")
    return seconds / 86400.0 / 36525.0


def _declination_and_eot(jc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solar declination (degrees) and equation of time (minutes) at Julian century ``jc``."""
    rad = np.radians
    l0 = np.mod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0)
    m = 357.52911 + jc * (35999.05029 - 0.0001537 * jc)
    e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    c = (np.sin(rad(m)) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
         + np.sin(rad(2 * m)) * (0.019993 - 0.000101 * jc) + np.sin(rad(3 * m)) * 0.000289)
    omega = rad(125.04 - 1934.136 * jc)
    app_long = l0 + c - 0.00569 - 0.00478 * np.sin(omega)
    mean_obliq = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0
    obliq = mean_obliq + 0.00256 * np.cos(omega)
    decl = np.degrees(np.arcsin(np.sin(rad(obliq)) * np.sin(rad(app_long))))
    y = np.tan(rad(obliq / 2.0)) ** 2
    l2, mm = rad(2 * l0), rad(m)
    eot = 4.0 * np.degrees(y * np.sin(l2) - 2 * e * np.sin(mm) + 4 * e * y * np.sin(mm) * np.cos(l2)
                           - 0.5 * y * y * np.sin(2 * l2) - 1.25 * e * e * np.sin(2 * mm))
    return decl, eot


def _angles(lat: float, decl: np.ndarray, hour_angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elevation and azimuth (clockwise from north), degrees, from latitude, declination
    and hour angle (degrees, negative in the morning)."""
    phi, d, h = np.radians(lat), np.radians(decl), np.radians(hour_angle)
    cos_zen = np.clip(np.sin(phi) * np.sin(d) + np.cos(phi) * np.cos(d) * np.cos(h), -1.0, 1.0)
    zen = np.arccos(cos_zen)
    elevation = 90.0 - np.degrees(zen)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_az = (np.sin(phi) * cos_zen - np.sin(d)) / (np.cos(phi) * np.sin(zen))
    az = np.degrees(np.arccos(np.clip(np.nan_to_num(cos_az, nan=1.0), -1.0, 1.0)))
    azimuth = np.where(hour_angle > 0, np.mod(az + 180.0, 360.0), np.mod(540.0 - az, 360.0))
    return elevation, azimuth


def solar_position(when: Any, lat: float, lon: float) -> SunPosition:
    """The sun's geometric position (no refraction) at UTC instants ``when`` from
    latitude ``lat`` and longitude ``lon`` (degrees, east positive).

    ``when`` is a datetime (naive is UTC) or anything numpy reads as
    datetime64; the result holds arrays, one value per instant.
    """
    stamps = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(when), utc=True)).tz_localize(None)
    t = stamps.to_numpy(dtype="datetime64[ns]")
    decl, eot = _declination_and_eot(_julian_century(t))
    minutes = (t - t.astype("datetime64[D]")) / np.timedelta64(1, "m")
    true_solar = np.mod(minutes + eot + 4.0 * lon, 1440.0)
    hour_angle = true_solar / 4.0 - 180.0
    elevation, azimuth = _angles(lat, decl, hour_angle)
    return SunPosition(elevation, azimuth, decl, eot)


def sun_path(day: _dt.date, solar_hours: Iterable[float], *, lat: float, lon: float) -> SunPosition:
    """The sun at true solar times ``solar_hours`` (hours, 12.0 is solar noon) of ``day``.

    The hour angle is 15° per hour from solar noon; the declination is the
    NOAA one at the UTC instant of that solar time (found with the equation
    of time, twice for convergence).
    """
    hours = np.asarray(list(solar_hours), dtype=float)
    midnight = np.datetime64(day.isoformat(), "ns")
    eot = np.zeros_like(hours)
    for _ in range(2):
        utc_min = hours * 60.0 - 4.0 * lon - eot
        t = midnight + (utc_min * 60e9).astype("timedelta64[ns]")
        decl, eot = _declination_and_eot(_julian_century(t))
    elevation, azimuth = _angles(lat, decl, 15.0 * (hours - 12.0))
    return SunPosition(elevation, azimuth, decl, eot)


def standard_day(name: str) -> tuple[_dt.date, str]:
    """The date of the standard sunlight day ``name`` (大寒日 / 冬至日) and the rule of its window."""
    key = str(name).strip()
    key = {"大寒": "大寒日", "冬至": "冬至日"}.get(key, key)
    if key not in STANDARD_DAYS:
        raise RulesError(f"rule green.sunlight.day is {name!r}; write one of "
                         f"{', '.join(STANDARD_DAYS)} (GB 50180-2018 Table 4.0.9).")
    (month, dom), window = STANDARD_DAYS[key]
    return _dt.date(_YEAR, month, dom), window


@functools.lru_cache(maxsize=8)
def _transformers(crs: Any) -> tuple[Transformer, Transformer]:
    return (Transformer.from_crs(crs, 4326, always_xy=True),
            Transformer.from_crs(4326, crs, always_xy=True))


def grid_north(crs: Any, x: float, y: float) -> tuple[float, float, float]:
    """Latitude and longitude of ``(x, y)`` in ``crs``, and the angle (degrees, clockwise)
    from grid north to true north there (meridian convergence, measured)."""
    to_geo, to_grid = _transformers(crs)
    lon, lat = to_geo.transform(x, y)
    x1, y1 = to_grid.transform(lon, lat + 1e-4)
    return float(lat), float(lon), float(np.degrees(np.arctan2(x1 - x, y1 - y)))


# --------------------------------------------------------------------------
# shadows


def building_heights(buildings: pd.DataFrame, *, storey_height: float) -> tuple[pd.Series, pd.Series]:
    """Heights in metres (NaN when unknown) and where each came from.

    ``height_m`` where readable (``"18米"`` reads 18), else ``floors`` ×
    ``storey_height``; the source is ``"height_m"``, ``"floors"`` or ``""``.
    """
    idx = buildings.index
    h = to_number(buildings["height_m"], unit="m")[0] if "height_m" in buildings.columns \
        else pd.Series(np.nan, index=idx)
    h = h.where(h > 0)
    floors = to_number(buildings["floors"])[0] if "floors" in buildings.columns \
        else pd.Series(np.nan, index=idx)
    by_floors = (floors * float(storey_height)).where(floors > 0)
    source = pd.Series(np.where(h.notna(), "height_m", np.where(by_floors.notna(), "floors", "")),
                       index=idx, dtype=object)
    return h.fillna(by_floors).astype(float), source


class _Edges(NamedTuple):
    """The ring edges of some footprints (exteriors counter-clockwise, holes clockwise)."""

    a: np.ndarray      # (n, 2) start points
    b: np.ndarray      # (n, 2) end points
    owner: np.ndarray  # (n,) position of the footprint each edge belongs to


def _edges(geoms: np.ndarray) -> _Edges:
    oriented = shapely.orient_polygons(geoms, exterior_cw=False)
    rings, owner = shapely.get_rings(oriented, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    return _Edges(xy[:-1][same], xy[1:][same], owner[ring[:-1][same]])


def _offsets(heights: np.ndarray, elevation: float, azimuth: float, north: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Grid x and y of each height's shadow vector (away from the sun)."""
    length = heights / np.tan(np.radians(elevation))
    away = np.radians(azimuth + north + 180.0)
    return length * np.sin(away), length * np.cos(away)


def _sweeps(edges: _Edges, dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parallelograms the edges facing away from the sun sweep, and their owners.

    A point the footprint's sweep reaches outside the footprint is left
    behind where the sweep last crosses the outline, on an edge whose
    outward normal points along the shadow: those edges' parallelograms and
    the footprint make the whole shadow.
    """
    ex, ey = dx[edges.owner], dy[edges.owner]
    a, b = edges.a, edges.b
    # outward normal of a counter-clockwise exterior / clockwise hole: (by - ay, ax - bx)
    facing = (b[:, 1] - a[:, 1]) * ex + (a[:, 0] - b[:, 0]) * ey
    keep = facing > 1e-9
    d = np.stack([ex[keep], ey[keep]], axis=1)
    quads = np.stack([a[keep], b[keep], b[keep] + d, a[keep] + d], axis=1)
    return shapely.polygons(quads), edges.owner[keep]


def shadow(footprints: Sequence[Any] | np.ndarray, heights: np.ndarray | Sequence[float], *,
           elevation: float, azimuth: float, north: float = 0.0) -> np.ndarray:
    """The shadow of each building (footprint prism of its height) on flat ground.

    ``azimuth`` is the sun's, clockwise from true north; ``north`` the angle
    from grid north to true north (:func:`grid_north`).  The shadow is the
    footprint swept ``height / tan(elevation)`` away from the sun: the
    footprint and the parallelograms its edges sweep.  None for a missing
    footprint or height, or with the sun below the horizon.

    >>> s = shadow([shapely.box(0, 0, 10, 10)], [10.0], elevation=45.0, azimuth=180.0)
    >>> [round(v, 6) + 0.0 for v in s[0].bounds], round(s[0].area, 6)
    ([0.0, 0.0, 10.0, 20.0], 200.0)
    """
    geoms = np.asarray(footprints, dtype=object)
    h = np.asarray(heights, dtype=float)
    out = np.full(len(geoms), None, dtype=object)
    ok = np.flatnonzero(~shapely.is_missing(geoms) & np.isfinite(h) & (h > 0))
    if elevation <= 0 or not len(ok):
        return out
    dx, dy = _offsets(h[ok], elevation, azimuth, north)
    quads, owner = _sweeps(_edges(geoms[ok]), dx, dy)
    for k, i in enumerate(ok):
        out[i] = shapely.union_all(np.r_[np.array([geoms[i]], dtype=object), quads[owner == k]])
    return out


def _shadow_union(geoms: np.ndarray, edges: _Edges, heights: np.ndarray, *, elevation: float,
                  azimuth: float, north: float, within: tuple[float, float, float, float]) -> Any:
    """The union of the shadows of footprints ``geoms`` (all with a height), as
    :func:`shadow`, inside the rectangle ``within`` (minx, miny, maxx, maxy)."""
    if not len(geoms):
        return None
    dx, dy = _offsets(heights, elevation, azimuth, north)
    quads, _ = _sweeps(edges, dx, dy)
    pieces = np.r_[geoms, quads]
    lo_x, lo_y, hi_x, hi_y = shapely.bounds(pieces).T
    pieces = pieces[(lo_x <= within[2]) & (hi_x >= within[0]) & (lo_y <= within[3])
                    & (hi_y >= within[1])]
    if not len(pieces):
        return None
    return shapely.union_all(shapely.clip_by_rect(pieces, *within))


def sunlit_area(area: Any, shadows: Sequence[Any], *, hours_per_sample: float,
                min_hours: float) -> tuple[Any, float]:
    """The part of ``area`` in the sun for at least ``min_hours``, and its area.

    ``shadows`` holds one (multi)polygon per sample time — the union of the
    shadows then, or the string ``"night"`` when the sun is down; each
    sample stands for ``hours_per_sample`` hours.  ``area`` is cut by every
    shadow's outline; a piece gets the hours of the samples whose shadow
    misses it.
    """
    if area is None or area.is_empty:
        return None, 0.0
    clipped = []
    night = 0
    for s in shadows:
        if isinstance(s, str):
            night += 1
        elif s is not None and not s.is_empty and s.intersects(area):
            # only the area of the shadow counts (a shadow touching the green leaves lines)
            parts = [p for p in shapely.get_parts(shapely.intersection(s, area))
                     if p.geom_type == "Polygon" and p.area > 0]
            if parts:
                clipped.append(shapely.MultiPolygon(parts))
    need = int(np.ceil(min_hours / hours_per_sample - 1e-9))
    lit_max = len(shadows) - night
    if lit_max < need:
        return None, 0.0
    if not clipped:
        return area, float(area.area)
    lines = [area.boundary] + [c.boundary for c in clipped if not c.is_empty]
    faces = np.asarray(shapely.get_parts(shapely.polygonize(
        shapely.get_parts(shapely.union_all(lines)))), dtype=object)
    if not len(faces):
        return None, 0.0
    pts = shapely.point_on_surface(faces)
    inside = shapely.contains(area, pts)
    faces, pts = faces[inside], pts[inside]
    shaded = np.zeros(len(faces), int)
    for c in clipped:
        shapely.prepare(c)
        shaded += shapely.contains(c, pts)
    lit = faces[(lit_max - shaded) >= need]
    if not len(lit):
        return None, 0.0
    sunlit = shapely.union_all(lit)
    return sunlit, float(sunlit.area)


def sunlit_share(
    green: gpd.GeoSeries,
    buildings: gpd.GeoDataFrame | None,
    *,
    day: str,
    window: Sequence[float],
    interval: float,
    min_hours: float,
    storey_height: float,
) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Per row of ``green`` (a community's concentrated green), the share in the sun.

    ``day`` names the standard sunlight day (大寒日 / 冬至日), ``window`` its
    effective hours in true solar time (``[8, 16]``), ``interval`` the
    minutes each sample stands for, ``min_hours`` the sun a point needs to
    lie outside the shadow line, ``storey_height`` the metres per floor for
    buildings without ``height_m``.

    Returns, on ``green``'s index, ``concentrated_sunlit_m2``,
    ``concentrated_sunlit_share`` and ``sunlight_reason``, and the sunlit
    parts.  Buildings of unknown height near the green (within the reach of
    the tallest known building's lowest-sun shadow) may shade it: the share
    is then an upper bound and the reason names them.  Without a buildings
    layer, or without any height, the share is NaN with the reason.
    """
    idx = green.index
    res = pd.DataFrame({"concentrated_sunlit_m2": np.nan, "concentrated_sunlit_share": np.nan,
                        "sunlight_reason": ""}, index=idx)
    res["sunlight_reason"] = res["sunlight_reason"].astype(object)
    lit_geoms = gpd.GeoSeries([None] * len(idx), index=idx, crs=green.crs)
    has = (green.notna() & ~green.is_empty & (green.area > 0)).to_numpy()
    res.loc[~has, "sunlight_reason"] = "no concentrated green"
    if buildings is None or not len(buildings):
        res.loc[has, "sunlight_reason"] = ("no buildings layer: shadows cannot be drawn (add the "
                                           "buildings with height_m or floors)")
        return res, lit_geoms
    heights, _ = building_heights(buildings, storey_height=storey_height)
    known = heights.notna().to_numpy()
    if not known.any():
        res.loc[has, "sunlight_reason"] = ("no building heights: give the buildings height_m or "
                                           "floors to draw their shadows")
        return res, lit_geoms
    date, hours, step = _samples(day, window, interval)
    bgeom = np.asarray(buildings.geometry.array, dtype=object)
    ids = feature_ids(buildings).to_numpy(dtype=object)
    tree = shapely.STRtree(bgeom)
    h = heights.to_numpy(float)
    for pos in np.flatnonzero(has):
        g = green.iloc[pos]
        c = shapely.centroid(g)
        lat, lon, north = grid_north(_crs_key(green.crs), c.x, c.y)
        sun = sun_path(date, hours, lat=lat, lon=lon)
        up = sun.elevation > 0
        low = float(sun.elevation[up].min()) if up.any() else 90.0
        reach = float(np.nanmax(h)) / np.tan(np.radians(max(low, 0.1)))
        near = tree.query(g, predicate="dwithin", distance=reach)
        unknown = near[~known[near]]
        near = near[known[near]]
        edges = _edges(bgeom[near])
        shadows = [_shadow_union(bgeom[near], edges, h[near], elevation=float(sun.elevation[k]),
                                 azimuth=float(sun.azimuth[k]), north=north, within=g.bounds)
                   if up[k] else "night"
                   for k in range(len(hours))]
        lit, lit_m2 = sunlit_area(g, shadows, hours_per_sample=step, min_hours=min_hours)
        res.iloc[pos, 0] = lit_m2
        res.iloc[pos, 1] = lit_m2 / g.area
        lit_geoms.iloc[pos] = lit
        if len(unknown):
            shown = ", ".join(str(i) for i in ids[unknown][:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            res.iloc[pos, 2] = (f"at most: heights unknown for {len(unknown)} buildings that may "
                                f"shade it ({shown}{more}); give them height_m or floors")
    return res, lit_geoms


def _crs_key(crs: Any) -> str:
    """A hashable spelling of ``crs`` (for the cached transformers)."""
    return crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)


def _samples(day: str, window: Sequence[float], interval: float
             ) -> tuple[_dt.date, np.ndarray, float]:
    """The date, the sample times (true solar hours, mid-slot) of the window and the
    hours each stands for (``interval`` minutes, evened out to fill the window)."""
    date, _ = standard_day(day)
    start, end = (float(v) for v in window)
    if not (0 <= start < end <= 24) or not interval > 0:
        raise RulesError(f"green.sunlight: the window {list(window)} must be two hours of the "
                         f"day, earlier first, and the interval ({interval} min) positive.")
    n = max(1, int(round((end - start) * 60.0 / float(interval))))
    step = (end - start) / n
    return date, start + (np.arange(n) + 0.5) * step, step


def concentrated_sunlight(concentrated: gpd.GeoSeries, buildings: gpd.GeoDataFrame | None,
                          rules: Mapping[str, Any]) -> pd.DataFrame:
    """The green analysis's sunlight step: :func:`sunlit_share` with the green rules
    ``rules`` (``sunlight.*``), the requirement ``concentrated.sunlit_share`` and
    the pass flag, on ``concentrated``'s index.

    A share that is only an upper bound (buildings of unknown height nearby)
    fails when it falls short and is unknown (NA) when it reaches the rule;
    without a share the flag is NA: never passed.
    """
    V = lambda key: _rules.value(rules, key)  # noqa: E731
    day = V("sunlight.day")
    res, _ = sunlit_share(concentrated, buildings, day=day,
                          window=V(f"sunlight.{standard_day(day)[1]}"),
                          interval=V("sunlight.interval"), min_hours=V("sunlight.min_hours"),
                          storey_height=V("sunlight.storey_height"))
    req = float(V("concentrated.sunlit_share"))
    share = res["concentrated_sunlit_share"]
    flag = pd.Series(pd.array(share.to_numpy() >= req, dtype="boolean"), index=res.index)
    bound = res["sunlight_reason"].astype(str).str.startswith("at most").to_numpy()
    flag[share.isna().to_numpy() | (bound & flag.fillna(False).to_numpy(bool))] = pd.NA
    res.insert(2, "concentrated_sunlit_req", req)
    res.insert(3, "concentrated_sunlit_pass", flag)
    return res
