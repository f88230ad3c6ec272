"""The map view of the planning questions: the sites chosen (``lc_sites``, from
``gcgeo site``) over the living circle's communities, and the change a
what-if brings per community and tier (``whatif_communities``, from
``gcgeo whatif``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["planning_view"]

#: Change in share served: (upper bound, zh, en), lowest first; colours ``palette.WHATIF_CHANGE``.
_CHANGE = ((-1e-9, "下降", "fewer served"),
           (1e-9, "不变", "no change"),
           (0.1, "提高不足10个百分点", "up by less than 10 points"),
           (np.inf, "提高10个百分点及以上", "up by 10 points or more"))

_WORDS = {
    "sites": ("新增设施选址", "Sites chosen"),
    "change": ("情景变化", "What-if change"),
    "category": ("设施类别", "Category"), "site_rank": ("选址次序", "Rank"),
    "residents_new": ("新增覆盖居民", "Residents newly served"),
    "residents_reached": ("可达未覆盖居民", "Unserved residents within reach"),
    "required_m": ("要求距离（米）", "Required distance (m)"),
    "community_name": ("社区名称", "Community"), "tier": ("生活圈层级", "Tier"),
    "share_before": ("变化前覆盖比例", "Share served before"),
    "share_after": ("变化后覆盖比例", "Share served after"),
    "share_change": ("覆盖比例变化", "Change in share served"),
}


def _w(key: str, lang: str) -> str:
    zh, en = _WORDS[key]
    return zh if lang == "zh" else en


def _pct(v: Any) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v) * 100:.1f}%"


def planning_view(layers: Mapping[str, Any], lang: str) -> list[Any]:
    """The styled planning layers present in ``layers`` (none when neither is)."""
    from ..labels import category_label, tier_label
    from ..maps import LegendItem, Styled, style_layer
    from ..maps.palette import FACILITY_CATEGORIES, OTHER, WHATIF_CHANGE

    out: list[Any] = []
    comm = layers.get("lc_communities")
    if isinstance(comm, gpd.GeoDataFrame) and len(comm) and not isinstance(layers.get("whatif_communities"),
                                                                           gpd.GeoDataFrame):
        out.append(style_layer("lc_communities", comm, lang=lang))
    change = layers.get("whatif_communities")
    if isinstance(change, gpd.GeoDataFrame) and len(change) and "tier" in change.columns:
        tiers = list(dict.fromkeys(change["tier"].astype(str)))
        for t in tiers:
            part = change[change["tier"].astype(str) == t]
            d = pd.to_numeric(part["share_change"], errors="coerce").fillna(0.0).to_numpy()
            k = np.searchsorted([c[0] for c in _CHANGE], d, side="left")
            k = np.minimum(k, len(_CHANGE) - 1)
            data = {_w("community_name", lang): part["community_name"].astype(str).to_numpy(),
                    _w("tier", lang): [tier_label(t, lang)] * len(part),
                    _w("share_before", lang): [_pct(v) for v in part["share_before"]],
                    _w("share_after", lang): [_pct(v) for v in part["share_after"]],
                    _w("share_change", lang): [_pct(v) for v in part["share_change"]]}
            frame = gpd.GeoDataFrame(data, geometry=part.geometry.to_numpy(), crs=part.crs)
            legend = [LegendItem(WHATIF_CHANGE[i], str(_CHANGE[i][1 if lang == "zh" else 2]))
                      for i in sorted(set(k.tolist()))]
            title = f"{_w('change', lang)}: {tier_label(t, lang)}"
            out.append(Styled(f"whatif_communities_{t}", title, frame,
                              np.array([WHATIF_CHANGE[i] for i in k], dtype=object), list(data),
                              legend=legend, legend_title=title, stroke="#333333", weight=1.2,
                              fill_opacity=0.55, show=t == tiers[-1], zorder=1))
    sites = layers.get("lc_sites")
    if isinstance(sites, gpd.GeoDataFrame) and len(sites):
        cats = list(dict.fromkeys(sites["category"].astype(str)))
        colour = {c: FACILITY_CATEGORIES.get(c, OTHER) for c in cats}  # as the facilities are drawn
        cols = [c for c in ("category", "site_rank", "residents_new", "residents_reached", "required_m")
                if c in sites.columns]
        data = {_w(c, lang): sites[c].to_numpy() for c in cols}
        if "category" in cols:
            data[_w("category", lang)] = [category_label(c, lang) for c in sites["category"].astype(str)]
        frame = gpd.GeoDataFrame(data, geometry=sites.geometry.to_numpy(), crs=sites.crs)
        legend = [LegendItem(colour[c], category_label(c, lang), when=(("category", c),)) for c in cats]
        out.append(Styled("lc_sites", _w("sites", lang), frame,
                          np.array([colour[c] for c in sites["category"].astype(str)], dtype=object),
                          list(data), legend=legend, legend_title=_w("sites", lang), radius=9,
                          cluster=False, zorder=6))
    return out
