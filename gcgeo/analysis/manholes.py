"""Manhole covers (窨井盖): every cover answered for, coded, sound, netted and inspected.

Task (四) of the Gaotang plan asks that the manager of every kind of cover be
made clear (明确各类窨井盖管理人), and practice adds 一盖一编号、一井一权属:
every cover has its own code and an owner on record.  Per cover this check
finds a missing manager or contact, a missing owner, a missing or shared
code, a fault (破损, 缺失, 沉陷, 凸起, 松动, 异响, 移位), a drainage cover
without a fall-prevention net (防坠网) and an inspection older than the rule's
days before the as-of date.  Per community it gives the share of covers
meeting each rule (``<rule>_status`` pass / fail / unknown with its reason),
and per kind of cover (污水, 雨水, 电力, 通信, 燃气…) the share with a manager
and contact, and the kinds with no manager at all — the list a street office
acts on.  It decides part of criterion 4 (基础设施比较完善).

What a blank means depends on where the row came from.  In a planner's
register a blank manager, contact, owner or code is one that is not named:
the cover fails.  On a cover from OpenStreetMap (``osm_type`` set) a blank is
a tag nobody mapped: unknown.  A blank condition, net or inspection date is
unknown everywhere, and a rule whose column is missing is unknown in every
community, with the reason — never passed.  Covers outside every community
are listed in the findings but in neither table.

>>> import geopandas as gpd, shapely
>>> comm = gpd.GeoDataFrame({"id": ["C1"], "name": ["东关"]},
...                         geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:4547")
>>> mh = gpd.GeoDataFrame({"id": ["J1", "J2"], "kind": ["污水", "燃气"],
...                        "manager": ["住建局", None], "contact": ["0635-1", None]},
...                       geometry=shapely.points([(10, 10), (20, 20)]), crs="EPSG:4547")
>>> out = run({"manholes": mh, "communities": comm}, as_of="2021-03-05")
>>> out["manholes_communities"][["manager_contact_share", "kinds_without_manager", "manager_status"]
...                             ].values.tolist()
[[0.5, 'gas', 'fail']]
>>> out["manholes_findings"][["feature_id", "kind"]].values.tolist()
[['J2', 'no_manager']]
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import rules as _rules
from .._errors import AnalysisError, RulesError
from ..layers import get_spec
from ..layers.manholes import KINDS
from ..values import feature_ids, list_text, to_bool, to_date
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
from .contract import Analysis, Criterion, Option, Output

__all__ = ["FAULT_SEVERITY", "RULES", "run", "summary"]

RULE_SETS = ("manholes",)
#: The rules applied to every cover, in the order of the per-community table.
RULES = ("manager", "owner", "code", "condition", "fall_net", "inspection")
#: How serious each fault of a cover is (a missing cover is a hole in the road).
FAULT_SEVERITY = {"missing": "high", "damaged": "high", "displaced": "high", "sunken": "medium",
                  "raised": "medium", "loose": "medium", "noisy": "low"}
_SPEC = get_spec("manholes")
_TOL = 1e-9


@dataclass
class _Rule:
    """One rule's evidence per cover: ``ok`` true / false / NA (unknown), where it ``applies``."""

    ok: pd.Series
    applies: pd.Series
    fails_as: str       # "{bad} of {n} covers …"
    unknown_as: str     # "{unknown} of {n} covers have no record of …"
    missing: str = ""   # why every cover is unknown (a column is missing), or ""


def run(layers: Mapping[str, gpd.GeoDataFrame], *, rules: Mapping[str, Any] | None = None,
        progress: Callable[[str], None] | None = None,
        as_of: datetime.date | str | None = None) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Check every manhole cover; see the module docstring.

    ``as_of`` is the day inspections are counted back from (a date or
    ``YYYY-MM-DD``; today when None).  Returns ``manholes_findings`` (one row
    per problem of a cover), ``manholes_communities`` (per community: covers,
    the share meeting each rule, ``<rule>_status`` / ``<rule>_reason``) and
    ``manholes_kinds`` (per community and kind of cover: covers, those with a
    manager and contact, and whether the kind has no manager at all).
    """
    r = _rules.load("manholes", rules)
    day = ANALYSIS.option("as_of").check(as_of) or datetime.date.today()
    if layers.get("manholes") is None:
        raise AnalysisError("the manholes analysis needs the 'manholes' layer; add it with "
                            "`gcgeo add WS manholes FILE` (or `gcgeo import-osm`).")
    got = prepare(layers, "manholes", ["communities"])
    mh, comm = got["manholes"], got["communities"]
    assert mh is not None
    if progress:
        progress("reading the covers")
    covers, findings = _read(mh)
    covers["community"] = (community_of(mh.geometry, comm) if comm is not None and len(comm)
                           else pd.Series("(all)", index=mh.index, dtype=object))
    evidence = _evidence(covers, mh, r, day)
    if progress:
        progress("judging every cover and community")
    findings += _findings(covers, mh, evidence, r, day)
    ids = communities_index(comm)
    figures, statuses = _communities(covers, evidence, r, ids)
    figures["as_of"] = day.isoformat()
    crs = mh.crs
    return {"manholes_findings": findings_frame(findings, crs, comm),
            "manholes_communities": community_table(comm, figures, statuses, crs),
            "manholes_kinds": _kinds(covers, evidence["manager"], comm, ids)}


# --------------------------------------------------------------------------
# reading the covers


def _column(mh: gpd.GeoDataFrame, col: str) -> pd.Series | None:
    """Column ``col`` where set, else the original text the workspace kept in ``<col>_raw``."""
    if col not in mh.columns:
        return None
    s = mh[col].astype(object).where(mh[col].notna(), None)
    raw = f"{col}_raw"
    if raw in mh.columns:
        s = s.where(s.notna(), mh[raw].astype(object).where(mh[raw].notna(), None))
    return s


def _text(s: pd.Series | None) -> pd.Series | None:
    """Trimmed text, None where blank."""
    if s is None:
        return None
    t = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
              else unicodedata.normalize("NFKC", str(v)).strip() or None)
    return t.astype(object)


def _read(mh: gpd.GeoDataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """The covers' values, read as planners write them, and the values that cannot be read."""
    ids = feature_ids(mh)
    osm = _text(_column(mh, "osm_type"))
    out = pd.DataFrame({"fid": ids, "osm": osm.notna() if osm is not None else False},
                       index=mh.index)
    unreadable: list[Finding] = []
    for col in ("kind", "condition"):
        text = _text(_column(mh, col))
        if text is None:
            out[col] = None
            continue
        lookup = _SPEC.column(col).value_lookup()
        key = pd.Series([None if v is None else lookup.get(v.lower()) for v in text],
                        index=text.index, dtype=object)
        unreadable += _unreadable(mh, ids, text.notna() & key.isna(), text, col,
                                  ", ".join(_SPEC.column(col).allowed or ()))
        out[col] = key
    out["kind"] = out["kind"].fillna("unknown")
    for col in ("manager", "contact", "owner", "code", "id"):
        out[col] = _text(_column(mh, col))
    net = _column(mh, "fall_net")
    if net is not None:
        flag, bad = to_bool(net)
        unreadable += _unreadable(mh, ids, bad, net, "fall_net", "有 / 无 (yes / no)")
        out["fall_net"] = flag
    else:
        out["fall_net"] = pd.Series(pd.NA, index=mh.index, dtype="boolean")
    when = _column(mh, "last_inspection")
    if when is not None:
        dates, bad = to_date(when)
        unreadable += _unreadable(mh, ids, bad, when, "last_inspection", "a date such as 2021-03-05")
        out["date"] = dates
    else:
        out["date"] = pd.Series(pd.NaT, index=mh.index, dtype="datetime64[ns]")
    return out, unreadable


def _unreadable(mh: gpd.GeoDataFrame, ids: pd.Series, bad: pd.Series, values: pd.Series, col: str,
                want: str) -> list[Finding]:
    label = _SPEC.column(col).label("zh")
    return [Finding(ids[i], "manholes", "unreadable_value", mh.geometry[i], measured=str(values[i]),
                    required=want, severity="low", extra={"column": col},
                    message=f"cover {ids[i]}: {col} ({label}) {str(values[i])!r} cannot be read; "
                            f"write {want}")
            for i in bad[bad.fillna(False).astype(bool)].index]


# --------------------------------------------------------------------------
# the evidence per rule


def _given(text: pd.Series | None, osm: pd.Series, index: pd.Index) -> pd.Series:
    """True where named; false where a register leaves it blank; NA where OSM has no tag."""
    if text is None:
        return pd.Series(pd.NA, index=index, dtype="boolean")
    out = pd.Series(text.notna().to_numpy(), index=index, dtype="boolean")
    out[(~text.notna() & osm).to_numpy(bool)] = pd.NA
    return out


def _codes(c: pd.DataFrame, mh: gpd.GeoDataFrame) -> tuple[pd.Series | None, str]:
    """Each cover's code (``code``, else its id unless OSM made it) and where it came from."""
    if "code" in mh.columns:
        return c["code"], "code"
    if "id" in mh.columns:
        return c["id"].where(~c["osm"].astype(bool), None), "id"
    return None, ""


def _code_key(code: pd.Series | None) -> pd.Series | None:
    """Codes compared as a clerk would: trimmed, full-width folded, case ignored."""
    if code is None:
        return None
    return code.map(lambda v: None if pd.isna(v) else str(v).casefold()).astype(object)


def _evidence(c: pd.DataFrame, mh: gpd.GeoDataFrame, r: Mapping[str, Any],
              day: datetime.date) -> dict[str, _Rule]:
    """Each rule's evidence per cover; notes ``has_manager`` and ``days`` (since the last
    inspection, to ``day``) on the covers ``c``."""
    every = pd.Series(True, index=c.index)
    osm = c["osm"].astype(bool)
    need_contact = bool(_rules.value(r, "manager.require_contact"))
    has_manager = _given(c["manager"] if "manager" in mh.columns else None, osm, c.index)
    has_contact = _given(c["contact"] if "contact" in mh.columns else None, osm, c.index)
    managed = has_manager & has_contact if need_contact else has_manager
    c["has_manager"] = has_manager
    lacking = [f"'{k}' ({_SPEC.column(k).label('zh')})" for k in ("manager", "contact")
               if k not in mh.columns and (k == "manager" or need_contact)]
    code, _ = _codes(c, mh)
    key = _code_key(code)
    coded = _given(code, osm, c.index)
    if key is not None:
        coded[(key.notna() & key.duplicated(keep=False)).to_numpy(bool)] = False
    kinds = _fall_net_kinds(r)
    # a cover of unknown kind may be a drainage cover: it needs a net unless it has one
    unsure = (c["kind"] == "unknown").to_numpy(bool)
    netted = c["fall_net"].astype("boolean").copy()
    netted[unsure & (~netted).fillna(False).to_numpy(bool)] = pd.NA
    cond = c["condition"]
    sound = pd.Series(pd.NA, index=c.index, dtype="boolean")
    sound[(cond == "good").to_numpy(bool)] = True
    sound[cond.isin(list(FAULT_SEVERITY)).to_numpy(bool)] = False
    max_days = float(_rules.value(r, "inspection.max_days"))
    days = (pd.Timestamp(day) - c["date"]).dt.days
    inspected = pd.Series(pd.NA, index=c.index, dtype="boolean")
    inspected[(days >= 0).to_numpy(bool)] = (days[days >= 0] <= max_days).to_numpy()
    c["days"] = days
    return {
        "manager": _Rule(managed, every,
                         "have no manager" + (" or no contact" if need_contact else ""),
                         "their manager" + (" and contact" if need_contact else ""),
                         _no_column(lacking)),
        "owner": _Rule(_given(c["owner"] if "owner" in mh.columns else None, osm, c.index), every,
                       "have no recorded owner", "their owner",
                       "" if "owner" in mh.columns else _no_column(["'owner' (权属单位)"])),
        "code": _Rule(coded, every, "have no code or share one", "their code",
                      "" if code is not None else _no_column(["'code' (井盖编号) or 'id' (编号)"])),
        "condition": _Rule(sound, every, "are faulty (damaged, missing, sunken…)", "their condition",
                           "" if "condition" in mh.columns else _no_column(["'condition' (状况)"])),
        "fall_net": _Rule(netted, c["kind"].isin(kinds) | unsure, f"of the kinds {', '.join(kinds)} "
                          "have no fall-prevention net", "a fall-prevention net",
                          "" if "fall_net" in mh.columns else _no_column(["'fall_net' (防坠网)"])),
        "inspection": _Rule(inspected, every,
                            f"were last inspected more than {max_days:g} days before {day.isoformat()}",
                            f"an inspection on or before {day.isoformat()}",
                            "" if "last_inspection" in mh.columns else
                            _no_column(["'last_inspection' (最近巡检日期)"])),
    }


def _no_column(cols: list[str]) -> str:
    if not cols:
        return ""
    return f"the manholes layer has no {' and no '.join(cols)} column; add it to decide this rule"


def _fall_net_kinds(r: Mapping[str, Any]) -> list[str]:
    kinds, _, _ = rule(r, "fall_net.kinds")
    wrong = [k for k in kinds if k not in KINDS]
    if wrong:
        raise RulesError(f"rule manholes fall_net.kinds names {', '.join(map(repr, wrong))}, which is "
                         f"no kind of cover; use some of: {', '.join(KINDS)}.")
    return list(kinds)


# --------------------------------------------------------------------------
# findings per cover


def _findings(c: pd.DataFrame, mh: gpd.GeoDataFrame, ev: Mapping[str, _Rule], r: Mapping[str, Any],
              day: datetime.date) -> list[Finding]:
    out: list[Finding] = []
    geom = mh.geometry
    clause = {k: rule(r, f"{k}.min_share")[2] for k in RULES}
    code, source = _codes(c, mh)
    key = _code_key(code)
    holders = (pd.Series(c["fid"].to_numpy(), index=c.index).groupby(key).agg(list)
               if key is not None and key.notna().any() else pd.Series(dtype=object))
    max_days, unit, _ = rule(r, "inspection.max_days")

    def add(i: Any, kind: str, severity: str, message: str, **kw: Any) -> None:
        extra = {"code": None if code is None else code[i], "manhole_kind": c.at[i, "kind"],
                 "manager": c.at[i, "manager"] if "manager" in c else None}
        out.append(Finding(c.at[i, "fid"], "manholes", kind, geom[i], severity=severity,
                           message=f"cover {c.at[i, 'fid']} ({c.at[i, 'kind']}): {message}",
                           extra=extra, **kw))

    for i in c.index:
        if _false(c.at[i, "has_manager"]):
            add(i, "no_manager", "high", "no manager named", clause=clause["manager"])
        elif _false(ev["manager"].ok[i]):
            add(i, "no_contact", "medium", f"manager {c.at[i, 'manager']} has no contact",
                clause=clause["manager"])
        if _false(ev["owner"].ok[i]):
            add(i, "no_owner", "medium", "no owner (权属单位) on record", clause=clause["owner"])
        if _false(ev["code"].ok[i]):
            if code is None or key is None or pd.isna(code[i]):
                add(i, "no_code", "medium", f"no code in its {source or 'code'} column",
                    clause=clause["code"])
            else:
                others = [f for f in holders[key[i]] if f != c.at[i, "fid"]]
                add(i, "duplicate_code", "medium",
                    f"code {code[i]} is also the code of {', '.join(others) or 'another cover'}",
                    measured=len(holders[key[i]]), required=1, unit="covers", clause=clause["code"])
        fault = c.at[i, "condition"]
        if fault in FAULT_SEVERITY:
            add(i, f"cover_{fault}", FAULT_SEVERITY[fault], f"the cover is {fault}",
                measured=fault, required="good", clause=clause["condition"])
        if ev["fall_net"].applies[i] and _false(ev["fall_net"].ok[i]):
            add(i, "no_fall_net", "medium", "no fall-prevention net (防坠网)",
                measured="no", required="yes", clause=clause["fall_net"])
        days = c.at[i, "days"]
        if pd.notna(days) and days > max_days:
            add(i, "inspection_overdue", "medium",
                f"last inspected {int(days)} days before {day.isoformat()} (at most {max_days:g})",
                measured=int(days), required=max_days, unit=unit, clause=clause["inspection"])
        elif pd.notna(days) and days < 0:
            when = c.at[i, "date"].date().isoformat()
            add(i, "inspection_after_as_of", "low",
                f"inspected on {when}, after the as-of date {day.isoformat()}; not counted",
                measured=when, required=f"on or before {day.isoformat()}")
    return out


def _false(v: Any) -> bool:
    """``v`` is known and false (not NA)."""
    return not pd.isna(v) and not bool(v)


# --------------------------------------------------------------------------
# per community and per kind


def _judge(ev: _Rule, where: pd.Series, ids: pd.Index, need: float
           ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Per community: covers the rule applies to, those meeting it, failing it, unknown; the
    share meeting it of those known; its status and reason."""
    ok = ev.ok.astype("boolean")
    frame = pd.DataFrame({"c": where.to_numpy(object),
                          "n": ev.applies.to_numpy(bool),
                          "good": (ok.fillna(False).to_numpy(bool) & ev.applies.to_numpy(bool)),
                          "bad": ((~ok).fillna(False).to_numpy(bool) & ev.applies.to_numpy(bool))})
    frame = frame.dropna(subset=["c"])
    counts = frame.groupby("c")[["n", "good", "bad"]].sum().reindex(ids, fill_value=0)
    total = frame.groupby("c").size().reindex(ids, fill_value=0)
    n, good, bad = counts["n"], counts["good"], counts["bad"]
    unknown = n - good - bad
    known = good + bad
    share = (good / known.where(known > 0)).astype(float)
    status = pd.Series("unknown", index=ids, dtype=object)
    reason = pd.Series("", index=ids, dtype=object)
    for cid in ids:
        if total[cid] == 0:
            reason[cid] = "no manholes recorded in the community"
        elif n[cid] == 0:
            status[cid], reason[cid] = "pass", "no covers of the kinds this rule applies to"
        elif good[cid] >= (need - _TOL) * n[cid]:
            status[cid] = "pass"
        elif good[cid] + unknown[cid] < (need - _TOL) * n[cid]:
            status[cid] = "fail"
            reason[cid] = f"{bad[cid]} of {n[cid]} covers {ev.fails_as}"
        else:
            reason[cid] = ev.missing or (f"{unknown[cid]} of {n[cid]} covers have no record of "
                                         f"{ev.unknown_as}")
    return pd.DataFrame({"n": n, "good": good, "bad": bad, "share": share}), status, reason


def _communities(c: pd.DataFrame, ev: Mapping[str, _Rule], r: Mapping[str, Any], ids: pd.Index
                 ) -> tuple[pd.DataFrame, dict[str, tuple[pd.Series, pd.Series]]]:
    where = c["community"]
    judged = {k: _judge(ev[k], where, ids, float(rule(r, f"{k}.min_share")[0])) for k in RULES}
    fig = pd.DataFrame(index=ids)
    fig["covers"] = judged["manager"][0]["n"]
    fig["managed_covers"] = judged["manager"][0]["good"]
    fig["manager_contact_share"] = judged["manager"][0]["share"]
    no_manager = _no_manager(c)
    fig["kinds_without_manager"] = [", ".join(k for k in KINDS if (cid, k) in no_manager) for cid in ids]
    fig["owner_share"] = judged["owner"][0]["share"]
    fig["coded_share"] = judged["code"][0]["share"]
    fig["faulty_covers"] = judged["condition"][0]["bad"]
    fig["sound_share"] = judged["condition"][0]["share"]
    fig["fall_net_share"] = judged["fall_net"][0]["share"]
    fig["overdue_inspections"] = judged["inspection"][0]["bad"]
    fig["inspected_share"] = judged["inspection"][0]["share"]
    return fig, {k: (judged[k][1], judged[k][2]) for k in RULES}


def _no_manager(c: pd.DataFrame) -> set[tuple[str, str]]:
    """(community, kind) pairs whose covers all have a record and none has a manager."""
    has = c["has_manager"]
    g = pd.DataFrame({"c": c["community"], "k": c["kind"], "has": has.fillna(False).to_numpy(bool),
                      "known": has.notna().to_numpy(bool)}).dropna(subset=["c"]).groupby(["c", "k"])
    agg = g.agg(has=("has", "sum"), known=("known", "all"))
    return set(agg.index[(agg["has"] == 0) & agg["known"]])


def _kinds(c: pd.DataFrame, ev: _Rule, comm: gpd.GeoDataFrame | None, ids: pd.Index) -> pd.DataFrame:
    """Per community and kind of cover: covers, with a manager, managed, and no manager at all."""
    names = (dict(zip(feature_ids(comm), comm["name"].astype(object)))
             if comm is not None and len(comm) and "name" in comm.columns else {})
    zh = _SPEC.column("kind").value_aliases
    no_manager = _no_manager(c)
    ok = ev.ok.astype("boolean")
    rows = []
    frame = c.assign(good=ok.fillna(False).to_numpy(bool), bad=(~ok).fillna(False).to_numpy(bool))
    frame = frame[frame["community"].isin(list(ids))]
    for (cid, kind), g in frame.groupby(["community", "kind"], sort=False):
        with_manager = int(g["has_manager"].fillna(False).sum())
        known_all = bool(g["has_manager"].notna().all())
        known = int(g["good"].sum() + g["bad"].sum())
        rows.append({"community_id": cid, "community_name": names.get(cid, ""),
                     "manhole_kind": kind, "manhole_kind_zh": zh.get(kind, (kind,))[0],
                     "covers": len(g), "covers_with_manager": with_manager,
                     "managed_covers": int(g["good"].sum()),
                     "manager_contact_share": g["good"].sum() / known if known else np.nan,
                     "no_manager": (cid, kind) in no_manager if (with_manager or known_all) else None,
                     "managers": list_text(sorted(set(g["manager"].dropna())))})
    cols = ["community_id", "community_name", "manhole_kind", "manhole_kind_zh", "covers",
            "covers_with_manager", "managed_covers", "manager_contact_share", "no_manager", "managers"]
    out = pd.DataFrame(rows, columns=cols)
    order = {cid: k for k, cid in enumerate(ids)}
    out = out.assign(_c=out["community_id"].map(order), _k=out["manhole_kind"].map(KINDS.index))
    return out.sort_values(["_c", "_k"]).drop(columns=["_c", "_k"]).reset_index(drop=True)


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: covers, the managed share, kinds without a manager, statuses."""
    t = outputs["manholes_communities"]
    cols = [c for c in ("community_name", "covers", "manager_contact_share", "kinds_without_manager",
                        "faulty_covers", "overdue_inspections", *(f"{k}_status" for k in RULES), "status")
            if c in t.columns]
    return pd.DataFrame(t[cols]).reset_index(drop=True)


_STATUS_LABELS = {
    "manager": ("管理人及联系方式", "Manager and contact"),
    "owner": ("权属单位", "Owner on record"),
    "code": ("一盖一编号", "A code of its own"),
    "condition": ("井盖完好", "Cover sound"),
    "fall_net": ("防坠网", "Fall-prevention net"),
    "inspection": ("按期巡检", "Inspected in time"),
}
_COLUMNS: dict[str, tuple[str, str, str]] = {
    "covers": ("井盖数", "Covers", "int"),
    "managed_covers": ("有管理人及联系方式的井盖", "Covers with manager and contact", "int"),
    "manager_contact_share": ("有管理人及联系方式比例", "Share with manager and contact", "pct"),
    "kinds_without_manager": ("无管理人的井盖类型", "Kinds of cover with no manager", "text"),
    "owner_share": ("权属明确比例", "Share with owner on record", "pct"),
    "coded_share": ("编号唯一比例", "Share with a code of its own", "pct"),
    "faulty_covers": ("病害井盖数", "Faulty covers", "int"),
    "sound_share": ("井盖完好比例", "Share sound", "pct"),
    "fall_net_share": ("防坠网安装比例", "Share with fall-prevention net", "pct"),
    "overdue_inspections": ("巡检超期井盖数", "Covers overdue for inspection", "int"),
    "inspected_share": ("按期巡检比例", "Share inspected in time", "pct"),
    "as_of": ("评估日期", "As of", "text"),
    **{f"{k}_status": (zh, en, "text")
       for k, (zh, en) in _STATUS_LABELS.items()},
    **{f"{k}_reason": (f"{zh}说明", f"{en}: reason", "text") for k, (zh, en) in _STATUS_LABELS.items()},
    # the findings' own columns
    "code": ("井盖编号", "Cover code", "text"),
    "manhole_kind": ("井盖类型", "Kind of cover", "text"),
    "manager": ("管理人", "Manager", "text"),
    "column": ("问题列", "Column", "text"),
}

ANALYSIS = Analysis(
    name="manholes",
    label_zh="窨井盖",
    label_en="Manhole covers",
    description_en="every manhole cover with a manager and contact, an owner, a code of its own, "
                   "sound, netted and inspected; per community and per kind, with the kinds "
                   "no one manages",
    description_zh="窨井盖：管理人及联系方式、权属、一盖一编号、病害、防坠网、巡检；分社区、分类型统计，"
                   "列出无管理人的井盖类型",
    run=run,
    summary=summary,
    requires=("manholes",),
    optional=("communities",),
    rule_sets=RULE_SETS,
    options=(Option("as_of", "date", "the day inspections are counted back from (YYYY-MM-DD); "
                    "today when not given", "巡检天数的起算日期（YYYY-MM-DD），默认今天"),),
    outputs=(*check_outputs("manholes", "窨井盖", "Manhole covers", columns=_COLUMNS,
                              findings_type="Point"),
             Output("manholes_kinds", "各类窨井盖管理人", "Manhole covers by kind", geometry=False,
                    report_table=True, columns={
                        "manhole_kind_zh": ("类型（中文）", "Kind (Chinese)", "text"),
                        "covers_with_manager": ("有管理人的井盖", "Covers with a manager", "int"),
                        "no_manager": ("该类型无人管理", "No manager for the kind", "bool"),
                        "managers": ("管理单位", "Managers", "text"),
                    })),
    criteria=(Criterion(4, "manholes_communities", "status",
                        "part of it: every manhole cover with a manager and contact, an owner and a "
                        "code of its own, sound, netted where drainage, inspected in time",
                        "部分：窨井盖管理人及联系方式、权属、一盖一编号明确，井盖完好，排水井装防坠网，"
                        "按期巡检",
                        part_en="manhole covers", part_zh="窨井盖",
                        unmeasured_en="the community's infrastructure of other kinds",
                        unmeasured_zh="窨井盖以外的各类基础设施"),),
    headlines="gcgeo.headlines:inventory_check",
    views=(check_view("manholes", "communities by manhole-cover status, problem covers on top"),),
)
