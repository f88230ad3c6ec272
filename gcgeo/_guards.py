"""What a workspace refuses before it writes: names it cannot hold, data it cannot measure.

* :func:`check_layer_name`: the rule for layer names (GeoPackage, SQLite and
  gcgeo reserve prefixes; names stay short enough to name exported files);
* :func:`moved_crs`: whether the working CRS measures new data truly, and
  where the workspace moves when every layer is replaced;
* :func:`check_first_crs`: whether the working CRS chosen for the first data
  measures all of them truly.

:mod:`gcgeo.workspace` calls both on every write.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS, Transformer

from . import crs as _crs
from ._errors import CRSError, InputError

log = logging.getLogger("gcgeo.workspace")

__all__ = ["MAX_LAYER_NAME", "RESERVED_PREFIXES", "check_first_crs", "check_layer_name",
           "moved_crs"]


#: Longest layer name gcgeo stores (characters): exports name files after layers, and
#: databases such as PostGIS cut names at 63.
MAX_LAYER_NAME = 63
#: Prefixes GeoPackage, SQLite and gcgeo keep for their own tables (compared ignoring case).
RESERVED_PREFIXES = ("gpkg", "rtree_", "sqlite_", "gcgeo_")


def check_layer_name(name: str) -> None:
    """Refuse a layer name a workspace cannot hold, saying the rule.

    Names are 1 to :data:`MAX_LAYER_NAME` characters, without control
    characters or spaces at either end, and do not start with a prefix of
    :data:`RESERVED_PREFIXES` (GeoPackage keeps ``gpkg_`` and ``rtree_``
    for its own tables, SQLite ``sqlite_``, gcgeo ``gcgeo_``).

    >>> check_layer_name("公园")
    >>> check_layer_name("gpkg_parks")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gcgeo._errors.InputError: layer name 'gpkg_parks' starts with 'gpkg', a prefix reserved ...
    """
    text = str(name)
    why = None
    if not text.strip():
        why = "is empty; give a name (e.g. --name parks)"
    elif text != text.strip():
        why = f"starts or ends with a space; give --name {text.strip()!r}"
    elif any(ord(c) < 32 or ord(c) == 127 for c in text):
        plain = "".join("_" if ord(c) < 32 or ord(c) == 127 else c for c in text)
        why = f"holds a control character (a line break or tab); give --name {plain!r}"
    elif len(text) > MAX_LAYER_NAME:
        why = (f"is {len(text)} characters long; layer names are at most {MAX_LAYER_NAME} "
               "characters (exports name files after them); give a shorter --name")
    else:
        for prefix in RESERVED_PREFIXES:
            if text.lower().startswith(prefix):
                owner = {"sqlite_": "SQLite", "gcgeo_": "gcgeo"}.get(prefix, "GeoPackage")
                rest = text[len(prefix):].lstrip("_") or "layer"
                why = (f"starts with '{text[:len(prefix)]}', a prefix reserved for {owner}'s "
                       f"own tables; choose another name (e.g. --name {rest})")
                break
    if why:
        shown = text if len(text) <= 70 else text[:60] + "…"
        raise InputError(f"layer name {shown!r} {why}.")


def _lonlat_box(extents: list[tuple[Any, np.ndarray]]) -> tuple[float, float, float, float] | None:
    """West, south, east, north (degrees) around (crs, bounds) pairs; None if none is finite."""
    boxes = []
    for crs, b in extents:
        if crs is None or not np.all(np.isfinite(b)):
            continue
        box = Transformer.from_crs(crs, 4326, always_xy=True).transform_bounds(*b)
        if np.all(np.isfinite(box)):
            boxes.append(box)
    if not boxes:
        return None
    a = np.array(boxes)
    return float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 2].max()), float(a[:, 3].max())


def _scale_error_over(crs: CRS, box: tuple[float, float, float, float]) -> float:
    """The largest error of lengths ``crs`` makes at the corners and centre of ``box``."""
    w, s, e, n = box
    worst = 0.0
    for lon, lat in ((w, s), (w, n), (e, s), (e, n), ((w + e) / 2, (s + n) / 2)):
        try:
            err = _crs.scale_error(crs, lon, lat)
        except Exception:  # noqa: BLE001 - PROJ cannot project there at all
            return float("inf")
        worst = max(worst, err if np.isfinite(err) else float("inf"))
    return worst


def _deg(value: float, sides: str, digits: int = 1) -> str:
    """45.5°N, 24°E: a latitude (``sides="NS"``) or longitude (``"EW"``)."""
    text = f"{abs(value):.{digits}f}".rstrip("0").rstrip(".")
    return f"{text}°{sides[0] if value >= 0 else sides[1]}"


def _where(box: tuple[float, float, float, float]) -> str:
    lon, lat = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return f"{_deg(lon, 'EW', 2)} {_deg(lat, 'NS', 2)}"


def moved_crs(path: Path, working: CRS, frames: Mapping[str, Any], *, overwrite: bool,
           source: str) -> CRS | None:
    """The working CRS the workspace moves to for ``frames``; None when ``working`` suits them.

    The working CRS is chosen from the first data stored.  New data it does
    not measure truly (lengths off by more than :data:`gcgeo.crs.MAX_SCALE_ERROR`,
    e.g. Helsinki in the 117°E Gauss–Krüger zone: lengths +15 %, areas +33 %)
    are refused, naming both places and CRSs, unless every layer of the
    workspace is being replaced (``overwrite``): then the workspace moves to
    the CRS :func:`gcgeo.crs.choose_metric_crs` picks for the new data, and a
    warning says so.
    """
    geo = {k: f for k, f in frames.items()
           if isinstance(f, gpd.GeoDataFrame) and len(f) and f.crs is not None}
    box = _lonlat_box([(f.crs, f.geometry.total_bounds) for f in geo.values()])
    if box is None or not working.is_projected:
        return None
    err = _scale_error_over(working, box)
    if err <= _crs.MAX_SCALE_ERROR:
        return None
    both = pd.concat([f.geometry.to_crs(4326) for f in geo.values()])
    suited = _crs.choose_metric_crs(gpd.GeoDataFrame(geometry=both))
    staying = sorted({str(n) for n, g in pyogrio.list_layers(path) if g} - set(frames))
    off = ("cannot project them at all" if not np.isfinite(err) else
           f"makes lengths {err:.0%} and areas {(1 + err) ** 2 - 1:.0%} wrong there")
    if overwrite and not staying:
        log.warning("workspace %s moved from working CRS %s (%s) to %s (%s) for %s around %s: "
                    "the old CRS %s, and every layer was replaced.", path, working.to_string(),
                    working.name, suited.to_string(), suited.name, source, _where(box), off)
        return suited
    a = working.area_of_use
    made_for = (f", made for {_deg(a.west, 'EW')}–{_deg(a.east, 'EW')}, "
                f"{_deg(a.south, 'NS')}–{_deg(a.north, 'NS')}" if a is not None else "")
    infos = [pyogrio.read_info(path, layer=n) for n in staying[:20]]
    have = _lonlat_box([(i["crs"], np.asarray(i["total_bounds"], float)) for i in infos])
    region = f"; its layers lie around {_where(have)}" if have is not None else ""
    if staying:
        shown = ", ".join(staying[:12]) + ("…" if len(staying) > 12 else "")
        fix = (f"Store the new data in a new workspace (e.g. gcgeo import-osm NEW.gpkg FILE, or "
               f"gcgeo init NEW.gpkg --name NAME and add them there); its layer(s) {shown} "
               "would stay where they are, so --overwrite cannot move this workspace.")
    else:
        fix = ("Store the new data in a new workspace, or, if this workspace is to hold them, "
               f"give --overwrite: the workspace then moves to {suited.to_string()} "
               f"({suited.name}), which suits them.")
    raise CRSError(
        f"{source} lies around {_where(box)}, but workspace {path} measures in its working CRS "
        f"{working.to_string()} ({working.name}{made_for}){region}, which {off}. Nothing was "
        f"written. {fix}")


def check_first_crs(chosen: CRS, frames: Mapping[str, Any], *, source: str) -> None:
    """Refuse the first data of a workspace when ``chosen``, the working CRS picked for their
    middle, measures them untruly at their edges (lengths off by more than
    :data:`gcgeo.crs.MAX_SCALE_ERROR`).

    A 3° Gauss–Krüger zone or a UTM zone measures within 1 % up to ~900 km
    from its central meridian: a county, a city or a province fits; data
    spanning thousands of kilometres (features of several regions, or a
    stray row :func:`gcgeo.crs.check_strays` could not tell from the rest)
    does not, and no single working CRS would give right lengths and areas.
    """
    geo = [f for f in frames.values()
           if isinstance(f, gpd.GeoDataFrame) and len(f) and f.crs is not None]
    box = _lonlat_box([(f.crs, f.geometry.total_bounds) for f in geo])
    if box is None or not chosen.is_projected:
        return
    err = _scale_error_over(chosen, box)
    if err <= _crs.MAX_SCALE_ERROR:
        return
    off = ("cannot project all of them" if not np.isfinite(err) else
           f"makes lengths up to {err:.0%} and areas {(1 + err) ** 2 - 1:.0%} wrong at their edges")
    w, s, e, n = box
    raise CRSError(
        f"{source} spans {_deg(w, 'EW')}–{_deg(e, 'EW')}, {_deg(s, 'NS')}–{_deg(n, 'NS')}: no one "
        f"working CRS measures all of it truly; {chosen.to_string()} ({chosen.name}), the one "
        f"for its middle, {off}. A workspace holds one county, city or province. Check the "
        "coordinates of the features far from the others, or store each region in its own "
        "workspace (gcgeo init NEW.gpkg). Nothing was written.")
