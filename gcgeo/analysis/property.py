"""Property management: the share of each community's homes under a property manager.

Criterion 12 of the Shandong Green Community standard asks that property
management cover at least 30% of a community (物业管理覆盖面不低于30%, rule
``property.min_share``).  A residential building is managed when its own
``property_managed`` says so; where it says nothing, the community's
``property_managed`` applies to it.  The share is weighted by households,
else residents, else counted in buildings, and says which.  Without buildings
the community's own flag decides (a whole community managed or not).  A
community with no record either way is ``unknown``, never passed.

>>> import geopandas as gpd, shapely
>>> comm = gpd.GeoDataFrame({"id": ["C1"], "name": ["东关"], "property_managed": [False]},
...                         geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:4547")
>>> b = gpd.GeoDataFrame({"use": ["residential"] * 3, "households": [40, 20, 40],
...                       "property_managed": [True, None, False]},
...                      geometry=[shapely.box(i * 30, 0, i * 30 + 20, 20) for i in range(3)],
...                      crs="EPSG:4547")
>>> out = run({"communities": comm, "buildings": b})["property_communities"]
>>> out[["managed_share", "weight_basis", "min_share_status"]].values.tolist()
[[0.4, 'households', 'pass']]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import rules as _rules
from .._errors import AnalysisError
from ..layers.buildings import residential_mask
from ..values import to_bool
from .checks import (
    Finding,
    check_outputs,
    check_view,
    communities_index,
    community_of,
    community_table,
    findings_frame,
    prepare,
    rule,
)
from .contract import Analysis, Criterion

__all__ = ["run", "summary"]

RULE_SETS = ("property",)


def run(layers: Mapping[str, gpd.GeoDataFrame], *, rules: Mapping[str, Any] | None = None,
        progress: Callable[[str], None] | None = None) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Property-management share per community; see the module docstring.

    Returns ``property_findings`` (communities below the share, or without a record) and
    ``property_communities`` (``homes_counted``, ``homes_managed``, ``managed_share``,
    ``weight_basis`` and ``min_share_status`` / ``min_share_reason``).
    """
    r = _rules.load("property", rules)
    if layers.get("communities") is None or not len(layers["communities"]):
        raise AnalysisError("the property analysis needs the 'communities' layer (with "
                            "'property_managed'); add it with `gcgeo add WS communities FILE`.")
    got = prepare(layers, "communities", ["buildings"])
    comm, buildings = got["communities"], got["buildings"]
    assert comm is not None
    need, unit, clause = rule(r, "min_share")
    ids = communities_index(comm)
    cflag = (to_bool(comm["property_managed"])[0] if "property_managed" in comm.columns
             else pd.Series(pd.NA, index=comm.index, dtype="boolean"))
    cflag.index = ids
    figures, basis = _shares(comm, buildings, cflag, ids)
    share = figures["managed_share"]
    status = pd.Series(np.where(share.isna(), "unknown", np.where(share >= need, "pass", "fail")),
                       index=ids, dtype=object)
    reason = pd.Series("", index=ids, dtype=object)
    reason[share.isna()] = "property management not recorded for the community or its buildings"
    reason[status == "fail"] = [f"{v:.0%} < {need:.0%}" for v in share[status == "fail"]]
    findings = []
    points = comm.geometry.representative_point()
    points.index = ids
    for cid in ids:
        if status[cid] == "pass":
            continue
        kind = "management_unknown" if status[cid] == "unknown" else (
            "not_managed" if share[cid] == 0 else "below_share")
        findings.append(Finding(cid, "communities", kind, points[cid],
                                measured=None if pd.isna(share[cid]) else round(float(share[cid]), 4),
                                required=need, unit=unit, clause=clause,
                                # a record missing is a data gap (low), as in every analysis
                                # (ramps, chargers, parking); a share below the rule is high
                                severity="low" if kind == "management_unknown" else "high",
                                message=reason[cid]))
    table = community_table(comm, figures.assign(weight_basis=basis), {"min_share": (status, reason)},
                            comm.crs)
    return {"property_findings": findings_frame(findings, comm.crs, comm),
            "property_communities": table}


def _shares(comm: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None, cflag: pd.Series,
            ids: pd.Index) -> tuple[pd.DataFrame, pd.Series]:
    """Homes and managed homes per community, and what they were counted in."""
    out = pd.DataFrame(index=ids, data={"homes_counted": np.nan, "homes_managed": np.nan})
    basis = pd.Series("community flag", index=ids, dtype=object)
    if buildings is not None and len(buildings):
        homes_mask, _ = residential_mask(buildings)
        b = buildings[homes_mask.to_numpy(bool)]
        where = community_of(b.geometry, comm)
        bflag = (to_bool(b["property_managed"])[0] if "property_managed" in b.columns
                 else pd.Series(pd.NA, index=b.index, dtype="boolean"))
        managed = bflag.copy()
        fill = managed.isna().to_numpy() & where.notna().to_numpy()
        managed[fill] = cflag.reindex(where[fill]).to_numpy()
        weight, how = _weights(b)
        frame = pd.DataFrame({"c": where, "w": weight, "m": managed.astype("boolean")}).dropna(subset=["c"])
        known = frame[frame["m"].notna()]
        homes = known.groupby("c")["w"].sum()
        on = known[known["m"].astype(bool)].groupby("c")["w"].sum()
        has_b = frame.groupby("c").size()
        out.loc[homes.index, "homes_counted"] = homes
        out.loc[homes.index, "homes_managed"] = on.reindex(homes.index).fillna(0.0)
        basis[has_b.index] = how
    # communities without buildings: the community's own flag, all or nothing
    alone = out["homes_counted"].isna() & cflag.notna().to_numpy()
    out.loc[alone, "homes_counted"] = 1.0
    out.loc[alone, "homes_managed"] = cflag[alone].astype(float).to_numpy()
    basis[alone & (basis != "community flag")] = "community flag"
    out["managed_share"] = out["homes_managed"] / out["homes_counted"].where(out["homes_counted"] > 0)
    return out, basis


def _weights(b: gpd.GeoDataFrame) -> tuple[np.ndarray, str]:
    """Households per building where every one is known, else residents, else 1 each."""
    for col, how in (("households", "households"), ("population", "residents")):
        if col in b.columns:
            w = pd.to_numeric(b[col], errors="coerce").to_numpy(float)
            if len(w) and np.isfinite(w).all():
                return w, how
    return np.ones(len(b)), "buildings"


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: the managed share, its basis and status."""
    t = outputs["property_communities"]
    cols = [c for c in ("community_name", "homes_counted", "homes_managed", "managed_share", "weight_basis",
                        "min_share_status", "min_share_reason") if c in t.columns]
    return pd.DataFrame(t[cols]).reset_index(drop=True)


ANALYSIS = Analysis(
    name="property",
    label_zh="物业管理",
    label_en="Property management",
    description_en="share of each community's homes under property management against criterion "
                   "12's 30%",
    description_zh="各社区物业管理覆盖面（第12项：不低于30%）",
    run=run,
    summary=summary,
    requires=("communities",),
    optional=("buildings",),
    rule_sets=RULE_SETS,
    outputs=check_outputs("property", "物业管理", "Property management", findings_type="Point", columns={
        # (counts of homes, shown whole: residents estimated from floor area are not)
        "homes_counted": ("计入的住户（户、人或栋）", "Homes counted (households, residents or buildings)",
                          "int"),
        "homes_managed": ("其中有物业管理", "Of which under property management", "int"),
        "managed_share": ("物业管理覆盖面", "Share under property management", "pct"),
        "weight_basis": ("计算依据", "Counted in", "text"),
        "min_share_status": ("第12项（物业管理）", "Criterion 12 (property management)", "text"),
        "min_share_reason": ("说明", "Reason", "text"),
    }),
    criteria=(Criterion(12, "property_communities", "min_share_status",
                        "share of homes under property management, at least 30%",
                        "物业管理覆盖面不低于30%",
                        part_en="property-management coverage", part_zh="物业管理覆盖面",
                        unmeasured_en="property management of every new residential compound, and the "
                                      "management model agreed by residents of retrofitted old compounds",
                        unmeasured_zh="新建住宅小区物业管理全覆盖、改造后老旧小区居民协商确定管理模式"),),
    headlines="gcgeo.headlines:inventory_check",
    views=(check_view("property", "communities by property-management share"),),
)

