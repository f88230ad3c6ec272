"""What every inventory check shares: findings per feature, a status per community and rule.

An inventory check (manholes, ramps, chargers, garbage, heritage, property…)
writes two layers: ``<name>_findings``, one row per problem found on a
feature, and ``<name>_communities``, one row per community with its figures
and, for every rule, ``<rule>_status`` (``pass`` / ``fail`` / ``unknown``)
and ``<rule>_reason`` (why it is unknown, or what failed).  A rule whose
evidence is missing is ``unknown`` with its reason — never passed.

>>> import geopandas as gpd, shapely
>>> comm = gpd.GeoDataFrame({"id": ["C1"], "name": ["东关"]},
...                         geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:4547")
>>> pts = gpd.GeoSeries([shapely.Point(50, 50), shapely.Point(500, 500)], crs="EPSG:4547")
>>> community_of(pts, comm).tolist()
['C1', None]
>>> status_from(pd.Series([0.8, 0.2, float("nan")]), 0.3, reason_missing="no households").tolist()
['pass', 'fail', 'unknown']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import rules as _rules
from ..crs import align, metric
from ..values import feature_ids
from .contract import Output, ViewSpec

__all__ = [
    "FINDING_COLUMNS",
    "SEVERITIES",
    "STATUSES",
    "Finding",
    "check_outputs",
    "check_view",
    "community_of",
    "community_table",
    "findings_frame",
    "rule",
    "status_from",
]

#: Columns of every ``<name>_findings`` layer, in this order.
FINDING_COLUMNS = ("feature_id", "layer", "kind", "measured", "required", "unit", "clause",
                   "severity", "community", "community_name", "message")
#: Severities, mildest first.
SEVERITIES = ("low", "medium", "high")
#: The status of a rule in a community.
STATUSES = ("pass", "fail", "unknown")


@dataclass(frozen=True)
class Finding:
    """One problem on one feature: what was measured against what the rule requires."""

    feature_id: str
    layer: str
    kind: str
    geometry: Any
    measured: float | str | None = None
    required: float | str | None = None
    unit: str = ""
    clause: str = ""
    severity: str = "medium"
    message: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def rule(r: Mapping[str, Any], dotted: str) -> tuple[Any, str, str]:
    """The value, unit and clause of threshold ``dotted`` of rule set ``r``."""
    t = _rules.threshold(r, dotted)
    return t["value"], str(t.get("unit", "")), str(t.get("clause", ""))


def community_of(geoms: gpd.GeoSeries | Sequence[Any], communities: gpd.GeoDataFrame | None
                 ) -> pd.Series:
    """The id (:func:`gcgeo.values.feature_ids`) of the community each geometry lies in.

    A point inside, or a line or polygon whose representative point is
    inside; None outside every community or without communities.
    """
    geoms = gpd.GeoSeries(geoms) if not isinstance(geoms, gpd.GeoSeries) else geoms
    out = pd.Series([None] * len(geoms), index=geoms.index, dtype=object)
    if communities is None or not len(communities) or not len(geoms):
        return out
    arr = np.asarray(geoms.array, dtype=object)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    pts = np.full(len(arr), None, dtype=object)
    pts[ok] = shapely.point_on_surface(arr[ok])
    cgeom = np.asarray(communities.geometry.array, dtype=object)
    tree = shapely.STRtree(cgeom)
    pi, ci = tree.query(pts[ok], predicate="within")
    ids = feature_ids(communities).to_numpy(dtype=object)
    where = np.flatnonzero(ok)
    vals = out.to_numpy(dtype=object, copy=True)
    # a point on the shared edge of two communities goes to the first
    first = pd.Series(ci).groupby(pi).min()
    vals[where[first.index.to_numpy()]] = ids[first.to_numpy()]
    return pd.Series(vals, index=geoms.index, dtype=object)


def findings_frame(findings: Iterable[Finding], crs: Any, communities: gpd.GeoDataFrame | None = None
                   ) -> gpd.GeoDataFrame:
    """The ``<name>_findings`` layer: one row per finding, :data:`FINDING_COLUMNS` first,
    each in the community it lies in."""
    rows = list(findings)
    extra_cols = sorted({k for f in rows for k in f.extra})
    data: dict[str, list[Any]] = {c: [] for c in FINDING_COLUMNS}
    data.update({c: [] for c in extra_cols})
    geoms = []
    for f in rows:
        data["feature_id"].append(str(f.feature_id))
        data["layer"].append(f.layer)
        data["kind"].append(f.kind)
        data["measured"].append(None if f.measured is None else str(f.measured))
        data["required"].append(None if f.required is None else str(f.required))
        data["unit"].append(f.unit)
        data["clause"].append(f.clause)
        data["severity"].append(f.severity)
        data["message"].append(f.message)
        for c in extra_cols:
            data[c].append(f.extra.get(c))
        geoms.append(f.geometry)
    g = gpd.GeoSeries(geoms, crs=crs)
    data["community"] = community_of(g, communities).tolist() if rows else []
    names = {}
    if communities is not None and "name" in communities.columns:
        names = dict(zip(feature_ids(communities), communities["name"].astype("string").fillna("")))
    data["community_name"] = [names.get(c, "") if c is not None else "" for c in data["community"]]
    return gpd.GeoDataFrame(data, geometry=g, crs=crs)


def status_from(value: pd.Series, threshold: float, *, at_least: bool = True,
                reason_missing: str = "") -> pd.Series:
    """``pass`` / ``fail`` per row of ``value`` against ``threshold``; ``unknown`` where NaN."""
    v = pd.to_numeric(value, errors="coerce").astype(float)
    ok = v >= threshold if at_least else v <= threshold
    out = np.where(v.isna(), "unknown", np.where(ok, "pass", "fail"))
    return pd.Series(out, index=value.index, dtype=object)


def community_table(communities: gpd.GeoDataFrame | None, figures: pd.DataFrame,
                    statuses: Mapping[str, tuple[pd.Series, pd.Series]], crs: Any
                    ) -> gpd.GeoDataFrame | pd.DataFrame:
    """The ``<name>_communities`` layer: per community its id, name, ``figures`` and, for each
    rule of ``statuses`` (rule → (status, reason), both on ``figures``' index),
    ``<rule>_status`` and ``<rule>_reason``; then ``status``, the worst of them (fail, then
    unknown, then pass).  ``figures`` is indexed by community id; without communities it
    holds one row for the whole study area."""
    out = figures.copy()
    for name, (status, reason) in statuses.items():
        out[f"{name}_status"] = status.reindex(out.index).fillna("unknown").to_numpy()
        out[f"{name}_reason"] = reason.reindex(out.index).fillna("").to_numpy()
    cols = [f"{n}_status" for n in statuses]
    if cols:
        st = out[cols]
        out["status"] = np.where((st == "fail").any(axis=1), "fail",
                                 np.where((st == "unknown").any(axis=1), "unknown", "pass"))
    out.index.name = "community_id"
    out = out.reset_index()
    if communities is None or not len(communities):
        return pd.DataFrame(out)
    ids = feature_ids(communities)
    geom = dict(zip(ids, communities.geometry.array))
    names = dict(zip(ids, communities["name"] if "name" in communities.columns else [""] * len(ids)))
    out.insert(1, "community_name", [names.get(i, "") for i in out["community_id"]])
    return gpd.GeoDataFrame(out, geometry=[geom.get(i) for i in out["community_id"]], crs=crs)


def communities_index(communities: gpd.GeoDataFrame | None) -> pd.Index:
    """The ids of ``<name>_communities``' rows: every community, or one row ``(all)``."""
    if communities is None or not len(communities):
        return pd.Index(["(all)"], name="community_id")
    return pd.Index(feature_ids(communities), name="community_id")


def prepare(layers: Mapping[str, gpd.GeoDataFrame], main: str, others: Iterable[str]
            ) -> dict[str, gpd.GeoDataFrame | None]:
    """The check's layers through the CRS gate: ``main`` in a metric CRS, the others aligned."""
    base = metric(layers[main], f"layer '{main}'")
    out: dict[str, gpd.GeoDataFrame | None] = {main: base}
    for k in others:
        out[k] = align(layers.get(k), base.crs, f"layer '{k}'", against=f"layer '{main}'")
    return out


def check_outputs(name: str, label_zh: str, label_en: str,
                  columns: Mapping[str, tuple[str, str, str]] | None = None, *,
                  findings_type: str | None = None) -> tuple[Output, Output]:
    """The two outputs of inventory check ``name``, with the shared styles; ``findings_type``
    is the findings' geometry type where the check fixes it (:attr:`Output.geometry_type`)."""
    return (
        Output(f"{name}_findings", f"{label_zh}问题", f"{label_en}: findings",
               style="gcgeo.maps._layers:style_findings", columns=dict(columns or {}),
               geometry_type=findings_type),
        Output(f"{name}_communities", f"社区{label_zh}", f"{label_en} by community",
               style="gcgeo.maps._layers:style_check_communities"),
    )


def check_view(name: str, description: str) -> ViewSpec:
    """The map view of inventory check ``name``: communities by status, findings on top."""
    return ViewSpec(build="", description=description,
                    requires=(f"{name}_communities", f"{name}_findings"))
