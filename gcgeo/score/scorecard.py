"""The scorecard: every community against the 16 criteria, and the county against its targets.

:func:`score` joins what the analyses measured (:mod:`gcgeo.score.measured`)
with what street offices attested (:mod:`gcgeo.score.attest`) into

* ``scorecard`` — one row per community and criterion: ``status`` (``met`` /
  ``not_met`` / ``unknown``), ``source`` (``measured`` / ``attested`` /
  ``none``), the deciding figure, threshold and clause, the analysis and when
  it ran or the attestation's file and row, whether the measurement is stale,
  why a criterion is unknown and the command that would settle it;
* ``score_communities`` — per community the criteria met, not met and
  unknown; it meets the standard only when all 16 are met;
* ``score_county`` — the number and share of communities meeting the
  standard against each target, with the criteria that block most
  communities and the communities closest to passing.

A measurement decides (``met`` / ``not_met``) over an attestation; where they
disagree both are shown (``conflict``) and the measurement wins unless the
rules say ``conflicts.prefer = "attested"``.  A measurement that has no
verdict (not run, stale, figures only, data incomplete) leaves the decision
to the attestation; with neither, the criterion is ``unknown`` — never
passed.  A measurement of only part of a criterion (its analysis says what
it does not measure) fails the criterion when the part fails, but a passing
part counts as met only with an attestation of the criterion (source
``measured_attested``); without one the criterion is ``unknown``, its reason
naming the part that passes and what still needs attesting.  :func:`decide`
is the whole rule.  Attestations dated after the assessment date (``as_of``)
do not count for it.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .._errors import InputError
from ..values import feature_ids
from . import attest as _attest
from .criteria import Standard, load, measuring
from .measured import Evidence, dated, measure, run_time

__all__ = ["COMMUNITY_COLUMNS", "SCORECARD_COLUMNS", "Scorecard", "as_of_date", "blocking", "closest",
           "county", "decide", "progress", "score"]

#: Columns of the ``scorecard`` table, in order.
SCORECARD_COLUMNS = ("as_of", "community_id", "community_name", "criterion", "area", "criterion_zh", "status",
                     "source", "measured_status", "attested_status", "conflict", "figure", "threshold",
                     "clause", "analysis", "ran_at", "stale", "attestation", "evidence", "document",
                     "attested_by", "attested_on", "reason", "command")
#: Columns of ``score_communities`` (with the community's geometry).
COMMUNITY_COLUMNS = ("as_of", "community_id", "community_name", "street_office", "criteria_met",
                     "criteria_not_met", "criteria_unknown", "short", "meets_standard", "not_met", "unknown",
                     "conflicts", "stale")


@dataclass
class Scorecard:
    """The result of :func:`score` (the tables it stores, and the tables derived from them)."""

    as_of: _dt.date
    standard: Standard
    scorecard: pd.DataFrame
    communities: gpd.GeoDataFrame | pd.DataFrame
    county: pd.DataFrame
    blocking: pd.DataFrame
    closest: pd.DataFrame
    attestations: pd.DataFrame
    #: Sentences about evidence left unknown because an analysis's results were computed as of
    #: another day (:func:`gcgeo.score.measured.dated`); stale results are :func:`gcgeo.pipeline.stale`'s.
    warnings: list[str] = field(default_factory=list)
    #: What the scorecard was computed from, kept with it by :func:`gcgeo.score.store` so that
    #: :func:`gcgeo.score.current` can tell when it no longer matches the workspace: ``as_of``,
    #: ``rules_file`` (or ``rules``, a mapping) and per measuring analysis its run time and
    #: whether its results were stale.
    inputs: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The layers :func:`gcgeo.score.store` writes, by name."""
        return {"scorecard": self.scorecard, "score_communities": self.communities,
                "score_county": self.county, "score_attestations": self.attestations}


_TEXT = {
    "attest_it": ("待街道认定（{how}）", "to be attested by the street office ({how})"),
    "no_analysis": ("尚无分析测量此项，请认定", "no analysis measures this criterion yet; attest it"),
    "after": ("认定日期 {date} 晚于评估日期", "attested on {date}, after the assessment date"),
    "attested_unknown": ("认定为未知", "attested as unknown"),
    "conflict": ("测量为{m}，认定为{a}（{where}）；以{win}为准",
                 "measured {m}, attested {a} ({where}); the {win} decides"),
    "measured": ("测量结果", "measurement"),
    "attested": ("认定结果", "attestation"),
    "part_passes": ("部分测量：{part} 达标；{rest} 需证明材料，请认定此项",
                    "measured in part: {part} passes; {rest} still need the planner's documents: "
                    "attest the criterion"),
    "part_attested": ("部分测量：{part} 达标；{rest} 经认定符合",
                      "measured in part: {part} passes; {rest} attested met"),
    "part_fails": ("部分测量：{part} 未达标", "measured in part: {part} fails"),
    "part_refused": ("部分测量：{part} 达标；认定为不符合，以认定为准",
                     "measured in part: {part} passes; attested not met, which decides"),
}
_STATUS_WORDS = {"met": ("符合", "met"), "not_met": ("不符合", "not met"), "unknown": ("未知", "unknown")}


def _t(key: str, lang: str, **kw: Any) -> str:
    zh, en = _TEXT[key]
    return (zh if lang == "zh" else en).format(**kw)


def _word(status: str, lang: str) -> str:
    zh, en = _STATUS_WORDS[status]
    return zh if lang == "zh" else en


def as_of_date(value: Any = None) -> _dt.date:
    """The assessment date: ``value`` (a date or ``YYYY-MM-DD``) or today."""
    if value is None:
        return _dt.date.today()
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"--as-of {value!r} is not a date; write it as 2022-12-31.") from None


def _stale_messages(workspace: Path) -> dict[str, str]:
    from ..pipeline import stale, stale_message

    return {name: stale_message(workspace, name, changed) for name, changed in stale(workspace).items()}


def _inputs(source: str | os.PathLike | Mapping[str, pd.DataFrame], meta: Mapping[str, Any] | None,
            stale: Mapping[str, Any] | None, wanted: set[str]
            ) -> tuple[dict[str, pd.DataFrame], dict[str, Any], dict[str, str], str]:
    """Layers, metadata, stale messages and the workspace's name for commands."""
    if isinstance(source, (str, os.PathLike)):
        from .. import workspace as ws

        path = Path(source)
        present = set(ws.list_layers(path, counts=False)["layer"].astype(str))
        layers = ws.read_layers(path, [n for n in ("communities", *sorted(wanted)) if n in present])
        return layers, ws.info(path), _stale_messages(path), str(path)
    msgs = {k: (v if isinstance(v, str) else f"changes to {', '.join(map(str, v))}")
            for k, v in (stale or {}).items()}
    return dict(source), dict(meta or {}), msgs, "WS"


def _communities(layers: Mapping[str, pd.DataFrame]) -> gpd.GeoDataFrame | pd.DataFrame:
    comm = layers.get("communities")
    if comm is None or not len(comm):
        raise InputError("scoring needs the 'communities' layer (the communities the county scores); add it "
                         "with `gcgeo add WS communities FILE`.")
    out = pd.DataFrame({"community_id": feature_ids(comm).to_numpy(),
                        "community_name": (comm["name"].astype("string").fillna("").to_numpy()
                                           if "name" in comm.columns else ""),
                        "street_office": (comm["street_office"].astype("string").fillna("").to_numpy()
                                          if "street_office" in comm.columns else "")})
    dup = out["community_id"][out["community_id"].duplicated()].unique().tolist()
    if dup:
        raise InputError(f"layer 'communities' has the id(s) {', '.join(map(str, dup[:10]))} more than once; "
                         "each community needs its own id to be scored.")
    if isinstance(comm, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(out, geometry=comm.geometry.to_numpy(), crs=comm.crs)
    return out


def _attestations(attestations: Any, ids: Sequence[str]) -> pd.DataFrame:
    if attestations is None:
        return pd.DataFrame(columns=list(_attest.ATTEST_COLUMNS))
    if isinstance(attestations, pd.DataFrame):
        frame = attestations.copy()
        missing = [c for c in ("community_id", "criterion", "status") if c not in frame.columns]
        if missing:
            raise InputError(f"attestations lack the column(s) {', '.join(missing)}.")
        for c in _attest.ATTEST_COLUMNS:
            if c not in frame.columns:
                frame[c] = ""
            elif c not in ("criterion", "row"):  # as stored in a workspace: blanks may come back as nulls
                frame[c] = frame[c].astype("string").fillna("").astype(str)
        frame["criterion"] = pd.to_numeric(frame["criterion"], errors="coerce")
        return frame[list(_attest.ATTEST_COLUMNS)]
    paths = [attestations] if isinstance(attestations, (str, os.PathLike)) else list(attestations)
    return _attest.read(paths, communities=ids)


def _where(row: Mapping[str, Any], lang: str = "en") -> str:
    """Where an attestation was read: file, sheet and row."""
    name = Path(str(row.get("file") or "")).name
    if not name:
        return ""
    if lang == "zh":
        sheet = f"工作表“{row['sheet']}”" if row.get("sheet") else ""
        return f"{name} {sheet}第{row.get('row')}行"
    sheet = f", sheet '{row['sheet']}'" if row.get("sheet") else ""
    # a spreadsheet's row; a CSV's or TOML file's line (gcgeo.score.attest stores the line)
    unit = "row" if Path(name).suffix.lower() in (".xlsx", ".xlsm", ".xls") else "line"
    return f"{name}{sheet}, {unit} {row.get('row')}"


def _chosen(rows: pd.DataFrame, as_of: _dt.date) -> tuple[dict[str, Any] | None, str]:
    """The attestation that counts (the latest decisive one dated by ``as_of``), and a note."""
    if rows is None or not len(rows):
        return None, ""
    dates = rows["date"].astype(str)
    valid = rows[(dates == "") | (dates <= as_of.isoformat())]
    decisive = valid[valid["status"].isin(["met", "not_met"])]
    if len(decisive):
        return dict(decisive.sort_values("date", kind="stable").iloc[-1]), ""
    later = rows[(dates != "") & (dates > as_of.isoformat()) & rows["status"].isin(["met", "not_met"])]
    if len(later):
        return None, "after:" + str(later["date"].min())
    if len(valid):
        return dict(valid.iloc[-1]), ""
    return None, ""


def _join(values: Sequence[str]) -> str:
    return "; ".join(dict.fromkeys(v for v in values if v))


def _measured(evs: list[Evidence]) -> tuple[str, list[Evidence]]:
    """The combined measured status and the evidence deciding it ('' without any)."""
    if not evs:
        return "", []
    bad = [e for e in evs if e.status == "not_met"]
    if bad:
        return "not_met", bad
    unknown = [e for e in evs if e.status == "unknown"]
    if unknown:
        return "unknown", unknown
    return "met", evs


def decide(measured: str, attested: str, *, partial: bool = False, prefer: str = "measured"
           ) -> tuple[str, str, bool]:
    """How measured and attested evidence combine: ``(status, source, conflict)``.

    ``measured`` is the analyses' combined status ('' when none measures the
    criterion): ``not_met`` when any says not met, else ``unknown`` when any
    has no verdict, else ``met``.  ``partial`` says that every measurement
    passing covers only part of the criterion.  ``attested`` is the
    attestation that counts ('' without one).

    * A measured ``not_met`` decides: a failing part fails the criterion.
    * A measured ``met`` of the whole criterion decides.
    * A measured ``met`` of a part is met only with an attestation ``met``
      (source ``measured_attested``); an attestation ``not_met`` decides
      (it speaks of what was not measured too); without one it is ``unknown``.
    * Without a measured verdict the attestation decides; with neither,
      ``unknown``.

    A measured verdict and an attestation contradicting it are a
    ``conflict``: the measurement wins unless ``prefer`` is ``"attested"``.

    >>> decide("met", "")
    ('met', 'measured', False)
    >>> decide("met", "", partial=True)
    ('unknown', 'none', False)
    >>> decide("met", "met", partial=True)
    ('met', 'measured_attested', False)
    >>> decide("met", "not_met", partial=True)
    ('not_met', 'attested', False)
    >>> decide("not_met", "met", partial=True)
    ('not_met', 'measured', True)
    >>> decide("not_met", "met", prefer="attested")
    ('met', 'attested', True)
    >>> decide("unknown", "met")
    ('met', 'attested', False)
    """
    decisive = attested in ("met", "not_met")
    if measured == "met" and partial:
        if attested == "met":
            return "met", "measured_attested", False
        if attested == "not_met":
            return "not_met", "attested", False
        return "unknown", "none", False
    conflict = measured in ("met", "not_met") and decisive and attested != measured
    if measured in ("met", "not_met") and not (conflict and prefer == "attested"):
        return measured, "measured", conflict
    if decisive:
        return attested, "attested", conflict
    return "unknown", "none", False


def _parts(evs: list[Evidence], lang: str) -> tuple[str, str]:
    """The measured parts and what they leave unmeasured, each joined for a sentence."""
    sep = "、" if lang == "zh" else ", "
    return (sep.join(dict.fromkeys(e.part for e in evs if e.part)),
            ("；" if lang == "zh" else "; ").join(dict.fromkeys(e.unmeasured for e in evs if e.unmeasured)))


def _row(cid: str, name: str, crit: Any, evs: list[Evidence], att: pd.DataFrame | None, standard: Standard,
         as_of: _dt.date, workspace: str, lang: str) -> dict[str, Any]:
    m, deciding = _measured(evs)
    # a measured pass is a pass of a part only, unless one of the passing measurements covers it all
    partial = m == "met" and all(e.partial for e in deciding)
    a, note = _chosen(att, as_of)
    a_status = a["status"] if a else ""
    status, source, conflict = decide(m, a_status, partial=partial, prefer=standard.prefer)
    reasons: list[str] = []
    commands: list[str] = []
    part, rest = _parts(deciding, lang)
    if partial:
        key = {"met": "part_attested", "not_met": "part_refused"}.get(status, "part_passes")
        reasons.append(_t(key, lang, part=part, rest=rest))
    elif m == "not_met" and source == "measured" and part:
        reasons.append(_t("part_fails", lang, part=part))
    if status == "unknown":
        reasons += [e.reason for e in deciding]
        commands += [e.command for e in deciding]
        if not evs:
            how = crit.text(lang) if crit.decided_by == "attested" else _t("no_analysis", lang)
            reasons.append(_t("attest_it", lang, how=how) if crit.decided_by == "attested" else how)
        if note.startswith("after:"):
            reasons.append(_t("after", lang, date=note[len("after:"):]))
        elif a is not None and a_status == "unknown":
            reasons.append(_t("attested_unknown", lang) + (f": {a['note']}" if a.get("note") else ""))
        commands.append(f"gcgeo score {workspace} --template attest.xlsx")
    elif source in ("measured", "measured_attested"):
        reasons += [e.reason for e in deciding]
    if conflict:
        win = "attested" if standard.prefer == "attested" else "measured"
        reasons.append(_t("conflict", lang, m=_word(m, lang), a=_word(a_status, lang), where=_where(a or {}, lang),
                          win=_t(win, lang)))
    use = deciding if source in ("measured", "measured_attested") or status == "unknown" else []
    return {
        "as_of": as_of.isoformat(), "community_id": cid, "community_name": name, "criterion": crit.number,
        "area": crit.area, "criterion_zh": crit.zh, "status": status, "source": source,
        "measured_status": m, "attested_status": a_status, "conflict": bool(conflict),
        "figure": _join([e.figure for e in use]), "threshold": _join([e.threshold for e in use]),
        "clause": _join([e.clause for e in use]) or crit.clause,
        "analysis": _join([e.analysis for e in evs]), "ran_at": _join([e.ran_at for e in evs]),
        "stale": any(e.stale for e in evs),
        "attestation": _where(a, lang) if a else "", "evidence": (a or {}).get("evidence", ""),
        "document": (a or {}).get("document", ""), "attested_by": (a or {}).get("attested_by", ""),
        "attested_on": (a or {}).get("date", ""), "reason": _join(reasons),
        "command": _join(commands) if status == "unknown" else "",
    }


def score(
    source: str | os.PathLike | Mapping[str, pd.DataFrame],
    *,
    meta: Mapping[str, Any] | None = None,
    stale: Mapping[str, Any] | None = None,
    attestations: Any = None,
    as_of: Any = None,
    rules: str | os.PathLike | Mapping[str, Any] | None = None,
    lang: str = "zh",
    descriptors: Mapping[str, Any] | None = None,
) -> Scorecard:
    """Score every community of ``source`` against the 16 criteria.

    ``source`` is a workspace (its stored results, metadata and stale
    analyses are read) or a mapping of layers (then ``meta`` holds the
    ``analysis:NAME`` run times and ``stale`` maps stale analyses to what
    changed).  ``attestations``: files (:func:`gcgeo.score.attest.read`) or
    a table of them.  ``as_of``: the assessment date (today by default).
    ``rules``: a rules file overriding the rule set ``score``.  ``lang``
    writes the reasons in Chinese or English.  ``descriptors`` (by default
    the registered analyses) say which analyses measure which criteria.
    """
    lang = "zh" if lang == "zh" else "en"
    when = as_of_date(as_of)
    standard = load(rules)
    declared = measuring(descriptors)
    wanted = {c.layer for pairs in declared.values() for _, c in pairs}
    layers, meta, stale_msgs, workspace = _inputs(source, meta, stale, wanted)
    comm = _communities(layers)
    ids = comm["community_id"].tolist()
    att = _attestations(attestations, ids)
    warnings = list(dated(layers, meta, declared, when.isoformat(), workspace=workspace).values())
    evidence = measure(layers, meta, ids, declared, standard, stale=stale_msgs, as_of=when.isoformat(),
                       workspace=workspace, lang=lang)
    groups = {k: g for k, g in att.groupby(["community_id", "criterion"])} if len(att) else {}
    rows = []
    for cid, name in zip(comm["community_id"], comm["community_name"]):
        for crit in standard.criteria:
            rows.append(_row(cid, name, crit, evidence.get((cid, crit.number), []),
                             groups.get((cid, crit.number)), standard, when, workspace, lang))
    card = pd.DataFrame(rows, columns=list(SCORECARD_COLUMNS))
    per = _per_community(card, comm, when)
    block = blocking(card)
    near = closest(per, standard.closest_short)
    inputs = {"as_of": when.isoformat(),
              "rules_file": str(Path(rules).resolve()) if isinstance(rules, (str, os.PathLike)) else None,
              "rules": dict(rules) if isinstance(rules, Mapping) else None,
              "analyses": {d.name: {"ran": run_time(meta, d.name), "stale": d.name in stale_msgs}
                           for pairs in declared.values() for d, _ in pairs}}
    return Scorecard(when, standard, card, per, county(per, standard, when, block, near), block, near,
                     att.reset_index(drop=True), warnings, inputs)


def _ids_text(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _per_community(card: pd.DataFrame, comm: gpd.GeoDataFrame | pd.DataFrame, as_of: _dt.date
                   ) -> gpd.GeoDataFrame | pd.DataFrame:
    rows = []
    for cid, g in card.groupby("community_id", sort=False):
        st = g["status"]
        rows.append({"community_id": cid,
                     "criteria_met": int((st == "met").sum()), "criteria_not_met": int((st == "not_met").sum()),
                     "criteria_unknown": int((st == "unknown").sum()),
                     "not_met": _ids_text(g.loc[st == "not_met", "criterion"]),
                     "unknown": _ids_text(g.loc[st == "unknown", "criterion"]),
                     "conflicts": _ids_text(g.loc[g["conflict"], "criterion"]),
                     "stale": _ids_text(g.loc[g["stale"], "criterion"])})
    per = pd.DataFrame(rows)
    total = card.groupby("community_id", sort=False).size().reindex(per["community_id"]).to_numpy()
    per["short"] = total - per["criteria_met"].to_numpy()
    per["meets_standard"] = per["short"] == 0
    base = comm.drop(columns=[c for c in comm.columns if c in per.columns and c != "community_id"])
    out = base.merge(per, on="community_id", how="left")
    out["as_of"] = as_of.isoformat()
    cols = [c for c in COMMUNITY_COLUMNS if c in out.columns]
    if isinstance(out, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(out[cols], geometry=out.geometry, crs=comm.crs)
    return pd.DataFrame(out[cols])


def blocking(card: pd.DataFrame) -> pd.DataFrame:
    """The criteria keeping communities from the standard, most blocking first.

    Per criterion: communities where it is not met, unknown, both
    (``n_short``), and where it is the only criterion short (``n_only``),
    with their ids.  Criteria short nowhere are left out.
    """
    short = card[card["status"] != "met"]
    per_comm = short.groupby("community_id").size()
    rows = []
    for n, g in short.groupby("criterion"):
        rows.append({"criterion": int(n), "n_not_met": int((g["status"] == "not_met").sum()),
                     "n_unknown": int((g["status"] == "unknown").sum()), "n_short": len(g),
                     "n_only": int((per_comm.reindex(g["community_id"]) == 1).sum()),
                     "communities": _ids_text(g["community_id"])})
    out = pd.DataFrame(rows, columns=["criterion", "n_not_met", "n_unknown", "n_short", "n_only", "communities"])
    return out.sort_values(["n_short", "n_not_met", "criterion"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


def closest(per: pd.DataFrame, max_short: int) -> pd.DataFrame:
    """Communities not meeting the standard that are at most ``max_short`` criteria short."""
    near = per[(per["short"] > 0) & (per["short"] <= max_short)]
    cols = ["community_id", "community_name", "short", "not_met", "unknown"]
    near = pd.DataFrame(near[[c for c in cols if c in near.columns]])
    return near.sort_values(["short", "community_id"], kind="stable").reset_index(drop=True)


def county(per: pd.DataFrame, standard: Standard, as_of: _dt.date, block: pd.DataFrame | None = None,
           near: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per target: the communities meeting the standard against it.

    ``communities_needed`` is how many more must meet the standard to reach
    the target; ``due`` says whether its date has passed by ``as_of``.
    """
    n = len(per)
    meeting = int(per["meets_standard"].sum()) if n else 0
    share = meeting / n if n else float("nan")
    block_text = _ids_text(block["criterion"]) if block is not None and len(block) else ""
    near_text = _ids_text(near["community_id"]) if near is not None and len(near) else ""
    rows = []
    for t in standard.targets:
        need = max(0, math.ceil(round(t.share * n, 9)) - meeting)
        rows.append({"as_of": as_of.isoformat(), "target": t.name, "target_label": t.label("zh"),
                     "target_date": t.date.isoformat(), "target_share": t.share, "n_communities": n,
                     "n_meeting": meeting, "share_meeting": share, "communities_needed": need,
                     "reached": need == 0 and n > 0, "due": as_of >= t.date, "clause": t.clause,
                     "blocking_criteria": block_text, "closest_communities": near_text})
    return pd.DataFrame(rows)


def progress(history: pd.DataFrame) -> pd.DataFrame:
    """Per assessment date in ``score_history``: communities scored, meeting, and the share."""
    if history is None or not len(history):
        return pd.DataFrame(columns=["as_of", "n_communities", "n_meeting", "share_meeting"])
    meets = history["meets_standard"].map(lambda v: str(v).strip().lower() in ("true", "1", "1.0"))
    g = pd.DataFrame({"as_of": history["as_of"].astype(str), "m": meets}).groupby("as_of")["m"]
    out = pd.DataFrame({"n_communities": g.size(), "n_meeting": g.sum().astype(int)}).reset_index()
    out["share_meeting"] = out["n_meeting"] / out["n_communities"]
    return out.sort_values("as_of").reset_index(drop=True)
