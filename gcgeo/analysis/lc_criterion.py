"""Criterion 10 of the Shandong standard per community, from the living circle.

The criterion (补齐在卫生防疫、养老服务等方面的短板，完善“15分钟生活圈”) gives no
figure.  gcgeo reads it as :data:`COMPLETE`, the share of a community's
residents with every category the tiers require within its own tier's walking
distance (each tier's ``all_within_<tier>`` at once), held against rule
``living_circle.min_share_complete`` (every resident unless a county's rules
file says less).  :func:`judge_complete` writes the verdict the scorecard reads.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["COMPLETE", "judge_complete", "own_tiers"]

#: Per community: the share of residents with every required category within its own
#: tier's walking distance (``min_share_complete_status`` / ``_reason`` judge it).
COMPLETE = "share_complete"
#: Per community and tier: the share of residents with every category of the tier that the
#: data hold within the tier distance (``share_in_data_within_<tier>``).
_IN_DATA = "share_in_data_within_"


def own_tiers(req: Mapping[str, list[str]]) -> dict[str, str]:
    """Category → the nearest tier requiring it (``req`` as :func:`required_categories`).

    >>> own_tiers({"5min": ["shop"], "10min": ["shop", "school"]})
    {'shop': '5min', 'school': '10min'}
    """
    out: dict[str, str] = {}
    for t, cats in req.items():
        for c in cats:
            out.setdefault(c, t)
    return out


def _apart(share: float, need: float) -> tuple[str, str]:
    """``share`` and ``need`` as percentages of three significant digits, more where three
    would print a share on the wrong side of its requirement (85.2% against 85.17%).

    >>> _apart(0.625, 1.0), _apart(0.851613, 0.8517), _apart(0.8996, 0.9)
    (('62.5', '100'), ('85.16', '85.17'), ('89.96', '90'))
    """
    for digits in range(3, 8):
        a, b = f"{share * 100:.{digits}g}", f"{need * 100:.{digits}g}"
        if (float(a) < float(b)) == (share < need) and (float(a) > float(b)) == (share > need):
            return a, b
    return f"{share * 100:.7g}", f"{need * 100:.7g}"


def judge_complete(comm: pd.DataFrame, missing: list[str], need: float,
                   own: Mapping[str, str] | None = None) -> None:
    """Criterion 10 per community, in place: ``min_share_complete_status`` is ``pass``
    where :data:`COMPLETE` reaches ``need``, ``fail`` where it falls short, and
    ``unknown`` — with ``min_share_complete_reason`` saying why — where the community
    has no residents or a required category has no facility in the data at all
    (``missing``): the strict reading cannot tell a shortfall on the ground from
    one in the data.  Even then a community fails where the categories the data
    hold already fall short: the share with every category within its tier
    distance is at most the share of any tier counting only those categories
    (``share_in_data_within_<tier>``), so a tier below ``need`` settles it, whatever
    the missing categories hold.  A shortfall's reason names the (at most three)
    categories fewest residents reach within their own tier (``own``: category →
    tier, the community's ``share_<category>_<tier>``).

    >>> c = pd.DataFrame({"residents": [10.0, 10.0, 0.0], COMPLETE: [1.0, 0.25, np.nan],
    ...                   "share_shop_5min": [1.0, 0.25, np.nan], "share_school_10min": [1.0, 0.5, np.nan]})
    >>> judge_complete(c, [], 1.0, {"shop": "5min", "school": "10min"})
    >>> c["min_share_complete_status"].tolist()
    ['pass', 'fail', 'unknown']
    >>> c["min_share_complete_reason"].tolist()[1:]
    ['25% of residents have every required category within its tier distance (100% required); \
fewest reached: shop 25%, school 50%', 'no homes in the community']
    >>> judge_complete(c, ["kindergarten"], 1.0)
    >>> c["min_share_complete_status"].tolist(), c["min_share_complete_reason"].iloc[0]
    (['unknown', 'unknown', 'unknown'], 'no kindergarten facility in the data; add them to the \
facilities layer or attest the criterion')
    >>> c["share_in_data_within_10min"] = [1.0, 0.5, np.nan]  # the categories the data hold
    >>> judge_complete(c, ["kindergarten"], 0.8)
    >>> c["min_share_complete_status"].tolist(), c["min_share_complete_reason"].iloc[1]
    (['unknown', 'fail', 'unknown'], 'at most 50% of residents can have every required category \
within its tier distance (80% required): 50% have those the data hold within the 10min tier; no \
kindergarten facility in the data')
    """
    if not len(comm) or COMPLETE not in comm.columns:
        return
    share = comm[COMPLETE].to_numpy(float)
    empty = ~(comm["residents"].to_numpy(float) > 0) | np.isnan(share)
    ok = np.nan_to_num(share, nan=0.0) >= need - 1e-12
    status = np.where(empty, "unknown", np.where(ok, "pass", "fail")).astype(object)
    cols = {c: f"share_{c}_{t}" for c, t in (own or {}).items() if f"share_{c}_{t}" in comm.columns}
    least = pd.DataFrame({c: comm[col].to_numpy(float) for c, col in cols.items()})

    def fewest(i: int) -> str:
        row = least.iloc[i].dropna() if len(cols) else pd.Series(dtype=float)
        row = row[row < 1.0].sort_values(kind="stable").head(3)
        return ("; fewest reached: " + ", ".join(f"{c} {v * 100:.3g}%" for c, v in row.items())
                if len(row) else "")

    reason = np.array([
        "no homes in the community" if e else "" if k else
        "{}% of residents have every required category within its tier distance ({}% required){}"
        .format(*_apart(v, need), fewest(i))
        for i, (e, k, v) in enumerate(zip(empty, ok, np.nan_to_num(share)))], dtype=object)
    if missing:
        status[:] = "unknown"
        reason[~empty] = (f"no {', '.join(missing)} facility in the data; add them to the "
                          "facilities layer or attest the criterion")
        tiers = [c for c in comm.columns if str(c).startswith(_IN_DATA)]
        if tiers:  # the categories in the data, each tier: bounds on the share with them all
            bound = comm[tiers].to_numpy(float)
            low = np.nanargmin(np.where(np.isnan(bound), np.inf, bound), axis=1)
            most = bound[np.arange(len(comm)), low]
            short = ~empty & (most < need - 1e-12)
            status[short] = "fail"
            for i in np.flatnonzero(short):
                got, req = _apart(most[i], need)
                reason[i] = (f"at most {got}% of residents can have every required "
                             f"category within its tier distance ({req}% required): "
                             f"{got}% have those the data hold within the "
                             f"{tiers[low[i]][len(_IN_DATA):]} tier; no {', '.join(missing)} "
                             "facility in the data")
    comm["min_share_complete_status"] = status
    comm["min_share_complete_reason"] = reason
