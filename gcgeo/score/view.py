"""The scorecard map view: communities coloured by criteria met, unmet and unknown in the popup.

Registered in :mod:`gcgeo.maps` as the view ``scorecard`` (interactive group
and static figure); it draws the ``score_communities`` layer it is given and
computes nothing: ``gcgeo map`` gives it the scorecard as it stands
(:func:`gcgeo.score.current`: the stored one while it holds, else computed
again), as the dossier and the report show it.  A community meeting the
standard is green; the others are coloured by how many criteria they are
short.  The popup lists the criteria not met, unknown, and those resting on
stale results (the dossier's "stale" mark), where there are any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..maps.palette import SCORE
from . import labels as L
from .criteria import Standard, load

__all__ = ["CLASSES", "scorecard_view"]

#: (most criteria short, colour, zh, en), best first; the colours are the maps' (``gcgeo.maps.palette``),
#: apart from the statuses of single criteria.
CLASSES = ((0, SCORE[0], "达到创建标准（16项全部符合）", "meets the standard (all 16 met)"),
           (2, SCORE[1], "差1–2项", "1–2 criteria short"),
           (5, SCORE[2], "差3–5项", "3–5 criteria short"),
           (16, SCORE[3], "差6项及以上", "6 or more criteria short"))


def _numbers(text: Any) -> list[int]:
    if text is None or (isinstance(text, float) and text != text):
        return []
    return [int(p) for p in str(text).replace("，", ",").split(",") if p.strip().isdigit()]


def _listed(text: Any, std: Standard, lang: str) -> str:
    nums = _numbers(text)
    if not nums:
        return "—"
    sep = "；" if lang == "zh" else "; "
    return sep.join(f"{n} {std.criterion(n).short(lang)}" for n in nums)


def _class(short: pd.Series) -> np.ndarray:
    s = pd.to_numeric(short, errors="coerce").fillna(16).to_numpy()
    out = np.full(len(s), len(CLASSES) - 1)
    for i in reversed(range(len(CLASSES))):
        out[s <= CLASSES[i][0]] = i
    return out


def scorecard_view(layers: Mapping[str, Any], lang: str) -> list[Any]:
    """The styled ``score_communities`` layer (empty when no scorecard is stored)."""
    from ..maps import LegendItem, Styled

    comm = layers.get("score_communities")
    if not isinstance(comm, gpd.GeoDataFrame) or not len(comm):
        return []
    std = load()
    k = _class(comm["short"])
    stale = "stale" in comm.columns and any(_numbers(v) for v in comm["stale"])  # (a row only where it tells)
    data = {
        L.column("community_name", lang): comm["community_name"].astype(str).to_numpy(),
        L.column("criteria_met", lang): [f"{int(v)}/16" for v in pd.to_numeric(comm["criteria_met"]).fillna(0)],
        L.column("meets_standard", lang): [L.value("meets_standard", v, lang) for v in comm["meets_standard"]],
        L.column("not_met", lang): [_listed(v, std, lang) for v in comm["not_met"]],
        L.column("unknown", lang): [_listed(v, std, lang) for v in comm["unknown"]],
        **({L.column("stale", lang): [_listed(v, std, lang) for v in comm["stale"]]} if stale else {}),
        L.column("as_of", lang): comm["as_of"].astype(str).to_numpy(),
    }
    frame = gpd.GeoDataFrame(data, geometry=comm.geometry.to_numpy(), crs=comm.crs)
    colors = np.array([CLASSES[i][1] for i in k], dtype=object)
    present = sorted(set(k.tolist()))
    legend = [LegendItem(str(CLASSES[i][1]), str(CLASSES[i][2 if lang == "zh" else 3])) for i in present]
    title = "绿色社区创建评分" if lang == "zh" else "Green community scorecard"
    return [Styled("score_communities", title, frame, colors, list(data), legend=legend,
                   legend_title="创建标准达标情况" if lang == "zh" else "Against the standard",
                   stroke="#333333", weight=1.2,
                   fill_opacity=0.55, zorder=1)]
