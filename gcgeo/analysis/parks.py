"""Parks by living-circle tier and their sports grounds (GB 50180-2018 §4.0.4).

Table 4.0.4 gives each tier's residential park a least size and width
(15-minute 5.0 hm² / 80 m, 10-minute 1.0 hm² / 50 m, 5-minute 0.4 hm² /
30 m) and its note wants 10–15% of a park to be sports ground.  These
functions read the green sites of :func:`gcgeo.analysis.green.green_sites`:

* :func:`park_tiers` names the largest tier whose size and width a park
  meets (``"15min"``, ``"10min"``, ``"5min"``, or ``""``);
* :func:`sports_shares` measures the sports grounds inside each park:
  green_space rows of a sports kind (rule ``park.sports_kinds``, e.g. drawn
  pitches or OSM ``leisure=pitch``) clipped to the park.  Where the layer
  maps no sports ground at all the share is unknown, never 0.

>>> import geopandas as gpd, shapely
>>> sites = gpd.GeoDataFrame({"kinds": ["park"], "is_park": [True]},
...                          geometry=[shapely.box(0, 0, 100, 100)], crs=3857)
>>> park_tiers(sites, sizes={"5min": (4000, 30), "10min": (10000, 50), "15min": (50000, 80)},
...            park_kinds=["park"]).tolist()
['10min']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import rules as _rules
from .widths import wide_parts

__all__ = ["TIERS", "park_figures", "park_tiers", "sports_shares"]

#: The living-circle tiers, smallest first.
TIERS = ("5min", "10min", "15min")


def park_tiers(sites: gpd.GeoDataFrame, *, sizes: Mapping[str, tuple[float, float]],
               park_kinds: Iterable[str]) -> pd.Series:
    """The largest tier whose park size and width each site meets (``park_tier``).

    ``sizes`` maps a tier of :data:`TIERS` to its (least area m², least width
    m); a site must hold a polygon of a ``park_kinds`` kind (its ``kinds``
    column, comma-separated) and have a part that wide (the negative-buffer
    test of :func:`gcgeo.analysis.widths.wide_parts`).  ``""`` where it meets
    none.
    """
    pk = set(park_kinds)
    kinds = sites["kinds"].astype("string").fillna("") if "kinds" in sites.columns else \
        pd.Series("", index=sites.index)
    is_kind = np.array([bool(set(k.split(",")) & pk) for k in kinds], dtype=bool)
    area = sites.geometry.area.to_numpy()
    tier = np.full(len(sites), "", dtype=object)
    for name in TIERS:
        if name not in sizes:
            continue
        min_area, min_width = (float(v) for v in sizes[name])
        wide = wide_parts(sites.geometry, min_width=min_width).notna().to_numpy()
        tier[is_kind & (area >= min_area) & wide] = name
    return pd.Series(tier, index=sites.index, name="park_tier", dtype=object)


def sports_shares(sites: gpd.GeoDataFrame, green_space: gpd.GeoDataFrame, *,
                  parks: Sequence[bool] | np.ndarray, sports_kinds: Iterable[str],
                  share_range: Sequence[float]) -> pd.DataFrame:
    """Sports ground inside each park: ``sports_m2``, ``sports_share`` (of the park's
    area), ``sports_share_pass`` (within ``share_range``, both ends included) and
    ``sports_reason``; on the sites' index, NaN / NA for sites that are not parks.

    Sports grounds are the ``green_space`` rows whose ``kind`` is one of
    ``sports_kinds``, clipped to the park (overlaps counted once).  When the
    layer has none at all the share is unknown: nothing tells a park without
    sports ground from one whose ground is not drawn.
    """
    lo, hi = (float(v) for v in share_range)
    park = np.asarray(parks, dtype=bool)
    out = pd.DataFrame({"sports_m2": np.nan, "sports_share": np.nan,
                        "sports_share_pass": pd.array([pd.NA] * len(sites), dtype="boolean"),
                        "sports_reason": ""}, index=sites.index)
    out["sports_reason"] = out["sports_reason"].astype(object)
    if not park.any():
        return out
    kinds = set(sports_kinds)
    sports = green_space.geometry[green_space["kind"].astype("string").str.strip()
                                  .isin(kinds).fillna(False).to_numpy(bool)] \
        if "kind" in green_space.columns else green_space.geometry.iloc[:0]
    sports = sports[sports.notna() & ~sports.is_empty]
    if not len(sports):
        out.loc[park, "sports_reason"] = (f"no sports grounds in the green_space layer (kind "
                                          f"{' / '.join(sorted(kinds))}): the share is unknown")
        return out
    ground = shapely.union_all(shapely.make_valid(sports.to_crs(sites.crs).to_numpy()))
    geoms = sites.geometry.to_numpy()
    m2 = np.full(len(sites), np.nan)
    m2[park] = shapely.area(shapely.intersection(geoms[park], ground))
    share = m2 / shapely.area(geoms)
    out["sports_m2"] = m2
    out["sports_share"] = share
    flag = pd.array((share >= lo) & (share <= hi), dtype="boolean")
    flag[~park] = pd.NA
    out["sports_share_pass"] = flag
    return out


def park_figures(sites: gpd.GeoDataFrame, green_space: gpd.GeoDataFrame,
                 rules: Mapping[str, Any]) -> pd.DataFrame:
    """The green analysis's park step: ``park_tier`` and the sports share of every
    park (a site with a tier), with the green rules ``rules`` (``park.*``; the
    10-minute tier is ``park.min_area`` / ``park.min_width``)."""
    V = lambda key: _rules.value(rules, key)  # noqa: E731
    sizes = {"5min": (V("park.tier_5min.min_area"), V("park.tier_5min.min_width")),
             "10min": (V("park.min_area"), V("park.min_width")),
             "15min": (V("park.tier_15min.min_area"), V("park.tier_15min.min_width"))}
    tier = park_tiers(sites, sizes=sizes, park_kinds=V("park.kinds"))
    sports = sports_shares(sites, green_space, parks=(tier != "").to_numpy(bool),
                           sports_kinds=V("park.sports_kinds"), share_range=V("park.sports_share"))
    return pd.concat([tier, sports], axis=1)
