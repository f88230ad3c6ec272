"""Reading the fire-lane inputs: rules, the CRS gate, row ids, numbers, geometries.

Every module of the analysis reads its layers and rules through these, so a
width written ``"4.5米"``, a row's id or a repaired geometry mean the same
thing everywhere.
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

from ... import rules as _rules
from ...crs import align, require_metric
from ...values import feature_ids, to_number

log = logging.getLogger(__name__)

#: Name of the built-in rule set (``gcgeo/rules/fire_lanes.toml``).
RULES_NAME = "fire_lanes"


def load_rules(rules: Mapping[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """The fire-lane rules: built-in, or updated by a user's TOML path or mapping."""
    return _rules.load(RULES_NAME, rules)


def rule_value(r: Mapping[str, Any], key: str) -> Any:
    """The value of threshold ``key`` (dotted, e.g. ``"lane.default_width"``) in rules ``r``."""
    return _rules.value(r, key)


def rule_clause(r: Mapping[str, Any], key: str) -> str:
    """The clause of the standard threshold ``key`` cites (``""`` when it cites none)."""
    return str(_rules.threshold(r, key).get("clause", ""))


def check_metric(gdf: gpd.GeoDataFrame, what: str) -> None:
    """Refuse layer ``what`` unless it is in a projected (metric) CRS (:func:`gcgeo.crs.require_metric`)."""
    require_metric(gdf, f"layer '{what}'")


def align_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries | None, crs: Any, what: str):
    """``gdf`` in ``crs``, the lanes' CRS (:func:`gcgeo.crs.align`: a layer without a CRS is refused)."""
    return align(gdf, crs, f"layer '{what}'", against="the fire lanes")


def row_ids(gdf: pd.DataFrame | pd.Series) -> np.ndarray:
    """Labels users know rows by (:func:`gcgeo.values.feature_ids`: the ``id`` column where
    set, else ``#<row>``)."""
    frame = gdf if isinstance(gdf, pd.DataFrame) else pd.DataFrame(index=gdf.index)
    return feature_ids(frame).to_numpy(dtype=object)


def read_numbers(gdf: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of ``col`` in metres, and a mask of values given but unreadable.

    Read by :func:`gcgeo.values.to_number`: ``"3.5米"``, ``"3.5m"`` or
    ``" 3.5 M "`` read as 3.5; a missing column or blank cell is NaN and not
    unreadable.
    """
    n = len(gdf)
    if col not in gdf.columns:
        return np.full(n, np.nan), np.zeros(n, bool)
    values, bad = to_number(gdf[col], unit="m")
    return values.to_numpy(dtype="float64", na_value=np.nan, copy=True), bad.to_numpy(dtype=bool, copy=True)


def numbers(gdf: pd.DataFrame, col: str) -> np.ndarray:
    """Numbers of ``col`` as :func:`read_numbers` reads them (NaN where missing or unreadable)."""
    return read_numbers(gdf, col)[0]


def geometries(obj: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """The geometries of a frame or series as a numpy object array (for shapely 2 calls)."""
    series = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
    return np.asarray(series.array, dtype=object)


def short_list(ids: np.ndarray, limit: int = 10) -> str:
    """``ids`` joined with commas for a message, the first ``limit`` and "and N more"."""
    text = [str(i) for i in ids]
    more = f" and {len(text) - limit} more" if len(text) > limit else ""
    return ", ".join(text[:limit]) + more


def repair(geoms: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    """Invalid geometries made valid (warning names the ids); empty ones set to None."""
    out = geoms.copy()
    missing = shapely.is_missing(out) | shapely.is_empty(out)
    if missing.any():
        log.warning("layer '%s': %d rows without geometry skipped (ids %s).", what,
                    int(missing.sum()), short_list(ids[missing]))
        out[missing] = None
    bad = ~missing & ~shapely.is_valid(out)
    if bad.any():
        reasons = shapely.is_valid_reason(out[bad])
        log.warning("layer '%s': %d invalid geometries repaired with make_valid (ids %s; %s).",
                    what, int(bad.sum()), short_list(ids[bad]), reasons[0])
        out[bad] = shapely.make_valid(out[bad])
    return out


def index_pairs(res: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (input, tree) index arrays of an STRtree query result, as ints (empty when none)."""
    res = np.asarray(res)
    if res.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return res[0].astype(int), res[1].astype(int)
