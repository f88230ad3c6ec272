"""What the analyses' stored results say about each criterion in each community.

An analysis declares the criteria it measures in its descriptor
(:class:`gcgeo.analysis.Criterion`: number, layer, column, how).  For each
declaration and community this module reads the deciding column's value in
the stored layer and turns it into evidence: ``met`` / ``not_met`` /
``unknown`` (see :meth:`gcgeo.score.criteria.Standard.status_of`), with the
deciding figure, the threshold and clause it was held against, the analysis
and its run time.  Evidence is ``unknown`` — never passed — when the analysis
has not run (with the command that runs it), when its results are stale
(with the command that refreshes them), when they were computed as of
another day than the scorecard's (an analysis taking ``as_of``, such as
manholes: with the command that runs it as of the scorecard's day; see
:func:`dated`), when it gives figures but no verdict
(``column`` None), or when the community has no row or the value is not one
the rules read as met or not met.  Evidence of a declaration measuring only
part of its criterion carries the part and what is not measured
(``part``, ``unmeasured``): the scorecard lets it fail the criterion but
pass it only with an attestation.

Figures are found by the conventions the analyses share:

* ``<rule>_status`` (an inventory check, :mod:`gcgeo.analysis.checks`): the
  reason from ``<rule>_reason``; the threshold and clause of rule ``<rule>``
  in the analysis's rule sets; the figure from a column named ``<rule>``, or
  the rule's name without ``min_`` / ``max_`` (``share_complete`` for
  ``min_share_complete``) or ending in it (``managed_share`` for ``min_share``);
* ``<x>_pass`` (true / false): the figure ``<x>``, the threshold ``<x>_req``,
  the reason ``<x>_reason``, the clauses of rule table ``<x>``;
* any other column (``criterion8``): its value, and the clause of a rule
  table of the same name.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._errors import RulesError
from ..labels import column_format, format_value, layer_label, percent_against, unit_text
from ..reasons import reason_text
from ..values import feature_ids
from .criteria import Standard

__all__ = ["Evidence", "computed_as_of", "dated", "measure", "run_time"]


@dataclass(frozen=True)
class Evidence:
    """What one analysis's stored result says about one criterion in one community."""

    status: str
    analysis: str
    ran_at: str = ""
    figure: str = ""
    threshold: str = ""
    clause: str = ""
    reason: str = ""
    stale: bool = False
    command: str = ""
    layer: str = ""
    column: str = ""
    part: str = ""
    unmeasured: str = ""

    @property
    def partial(self) -> bool:
        """Whether the analysis measures only part of the criterion (``unmeasured`` says what not)."""
        return bool(self.unmeasured)


_TEXT = {
    "not_run": ("尚未运行“{label}”分析（{how}）", "the {name} analysis has not run ({how})"),
    "stale": ("“{label}”分析结果早于其输入（{why}）的修改，已过期",
              "the {label} results predate changes to their inputs ({why}): stale"),
    "as_of": ("“{label}”分析结果按 {ran} 计算，评分日期为 {as_of}，两者不一致；请按评分日期重新运行该分析",
              "the {label} results were computed as of {ran}, the scorecard is as of {as_of}; run the "
              "analysis again as of {as_of}"),
    "no_verdict": ("“{label}”分析只给出指标、不作判定（{how}）；请查看图层 {layer} 并认定",
                   "the {name} analysis gives figures but no verdict ({how}); see layer {layer} "
                   "and attest the criterion"),
    "no_column": ("图层 {layer} 缺少判定列 {column}；请重新运行分析",
                  "layer {layer} lacks the deciding column {column}; run the analysis again"),
    "no_row": ("图层 {layer} 中没有该社区", "layer {layer} has no row for the community"),
    "no_ids": ("图层 {layer} 没有社区编号列", "layer {layer} has no community id column"),
    "value": ("判定值为“{value}”", "the deciding value is '{value}'"),
}


def _text(key: str, lang: str, **kw: Any) -> str:
    zh, en = _TEXT[key]
    return (zh if lang == "zh" else en).format(**kw)


def run_time(meta: Mapping[str, Any], name: str) -> str:
    """When analysis ``name`` last ran, as stored in the workspace metadata ('' if never)."""
    for key in (f"analysis:{name}", f"analysis:{name.replace('_', '-')}"):
        if meta.get(key):
            return str(meta[key])
    return ""


def _ran_with(meta: Mapping[str, Any], name: str) -> dict[str, Any]:
    """What analysis ``name`` last ran with (:func:`gcgeo.pipeline.last_run`; {} if it never ran)."""
    from ..pipeline import last_run

    return last_run(meta, name) or {}


def takes_as_of(desc: Any) -> bool:
    """Whether the analysis's results depend on the day they are computed as of (an ``as_of`` option)."""
    return any(o.name == "as_of" for o in getattr(desc, "options", ()))


def computed_as_of(desc: Any, frame: pd.DataFrame | None, meta: Mapping[str, Any]) -> str | None:
    """The day (``YYYY-MM-DD``) the stored results of ``desc`` were computed as of.

    None when the analysis takes no ``as_of`` or has not run.  Read from the
    results' own ``as_of`` column, else from the ``--as-of`` it ran with, else
    the day it ran (an analysis given no ``as_of`` counts from that day).
    """
    if not takes_as_of(desc):
        return None
    if frame is not None and "as_of" in frame.columns:
        days = frame["as_of"].dropna().astype(str).str.strip()
        days = days[days != ""]
        if len(days):
            return str(days.iloc[0])[:10]
    given = _ran_with(meta, desc.name).get("options", {}).get("as_of")
    if given:
        return str(given)[:10]
    ran = run_time(meta, desc.name)
    if not ran:
        return None
    try:
        t = _dt.datetime.fromisoformat(ran)
    except ValueError:
        return None
    return (t.astimezone() if t.tzinfo else t).date().isoformat()


def _analyze_command(workspace: str, desc: Any, meta: Mapping[str, Any], as_of: str | None) -> str:
    """``gcgeo analyze WS NAME``, with the rules file it ran with and, for an analysis taking
    ``as_of``, the scorecard's day."""
    rules = _ran_with(meta, desc.name).get("rules_file")
    day = f" --as-of {as_of}" if as_of and takes_as_of(desc) else ""
    return f"gcgeo analyze {workspace} {desc.name}{day}" + (f" --rules {rules}" if rules else "")


def dated(layers: Mapping[str, pd.DataFrame], meta: Mapping[str, Any],
          measuring: Mapping[int, Iterable[tuple[Any, Any]]], as_of: str, *,
          workspace: str = "WS") -> dict[str, str]:
    """Analyses whose stored results were computed as of another day than ``as_of`` (the
    scorecard's), each with a sentence naming both days, the criteria it cannot decide
    and the command that runs it as of ``as_of``."""
    found: dict[str, tuple[Any, str, list[int]]] = {}
    for number, pairs in sorted(measuring.items()):
        for desc, crit in pairs:
            ran = computed_as_of(desc, layers.get(crit.layer), meta)
            if ran is None or ran == as_of or crit.column is None:
                continue
            found.setdefault(desc.name, (desc, ran, []))[2].append(int(number))
    return {name: (f"the '{name}' results were computed as of {ran} but the scorecard is as of {as_of}, so "
                   f"they do not decide criterion {', '.join(map(str, numbers))}; run "
                   f"`{_analyze_command(workspace, desc, meta, as_of)}`, then score again.")
            for name, (desc, ran, numbers) in found.items()}


def _rule_trees(desc: Any, meta: Mapping[str, Any]) -> dict[str, dict[str, Any]] | str:
    """The analysis's rule sets as it ran with them (:func:`gcgeo.pipeline.run_rules`), or
    the sentence saying why they cannot be had again."""
    from ..pipeline import run_rules

    try:
        resolved = run_rules(meta, desc)
    except RulesError as exc:
        return str(exc)
    return {n: resolved[n] for n in resolved}


def _is_ratio(t: Mapping[str, Any] | None) -> bool:
    u = str((t or {}).get("unit", "")).lower()
    return "ratio" in u or "share" in u or u.startswith("fraction")


def _fmt_threshold(t: Mapping[str, Any], lang: str) -> str:
    v, unit = t.get("value"), str(t.get("unit", ""))
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "" if v is None else str(v)
    if _is_ratio(t):
        return f"{v * 100:g}%"
    return f"{v:g} {unit_text(unit, lang)}".strip()


def _rule_node(trees: Mapping[str, Mapping[str, Any]], stem: str) -> Mapping[str, Any] | None:
    for tree in trees.values():
        node: Any = tree
        for part in stem.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            return node
    return None


def _clauses(node: Mapping[str, Any] | None, *, value: Any = None) -> list[str]:
    """The clause of a rule table, else of its thresholds (those whose value is ``value``,
    when given: the threshold a community was held against)."""
    if node is None:
        return []
    if node.get("clause"):
        return [str(node["clause"])]
    out: list[str] = []
    for v in node.values():
        if not (isinstance(v, Mapping) and v.get("clause")) or str(v["clause"]) in out:
            continue
        if value is not None and not _same(v.get("value"), value):
            continue
        out.append(str(v["clause"]))
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    except (TypeError, ValueError):
        return a == b


def _comparator(stem: str) -> str:
    return "≥ " if stem.startswith("min_") else "≤ " if stem.startswith("max_") else ""


def _bounds(trees: Mapping[str, Mapping[str, Any]], stem: str, node: Mapping[str, Any] | None
            ) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``min_*`` / ``max_*`` thresholds a rule ``stem`` is held against when its table has no
    value of its own: those in its table (``ev_ready.min_share``), in ``<head>.<min|max>_<rest>``
    (``ebike_indoors`` → ``ebike.max_indoors``), else the rule set's own (garbage's
    ``min_share`` and ``max_walk`` for ``sorting_coverage``)."""
    def limits(table: Mapping[str, Any] | None) -> list[tuple[str, Mapping[str, Any]]]:
        return [(str(k), v) for k, v in (table or {}).items()
                if str(k).startswith(("min_", "max_")) and isinstance(v, Mapping) and "value" in v]

    if node is not None:
        return limits(node)
    head, _, rest = stem.partition("_")
    for prefix in ("min_", "max_"):
        t = _rule_node(trees, f"{head}.{prefix}{rest}") if rest else None
        if t is not None and "value" in t:
            return [(prefix + rest, t)]
    own = [found for tree in trees.values() if (found := limits(tree))]
    return own[0] if len(own) == 1 else []


@dataclass(frozen=True)
class _Reading:
    """How to read figures beside one deciding column (see the module docstring)."""

    figure: str | None
    reason: str | None
    threshold_col: str | None
    threshold: str
    clause: str
    node: Mapping[str, Any] | None = None
    ratio: bool = False


def _reading(frame: pd.DataFrame, column: str, trees: Mapping[str, Mapping[str, Any]],
             lang: str) -> _Reading:
    cols = [str(c) for c in frame.columns]
    if column.endswith("_status"):
        stem = column[: -len("_status")]
        node = _rule_node(trees, stem)
        short = re.sub(r"^(min|max)_", "", stem)
        figure = next((c for c in cols if c in (stem, short)), None) or next(
            (c for c in cols if c.endswith("_" + short) and c != column
             and pd.api.types.is_numeric_dtype(frame[c])), None)
        threshold, clause = "", "; ".join(_clauses(node))
        if node is not None and "value" in node:
            threshold = _comparator(stem) + _fmt_threshold(node, lang)
        elif stem:
            bounds = _bounds(trees, stem, node)
            threshold = "; ".join(_comparator(k) + _fmt_threshold(t, lang) for k, t in bounds)
            clause = "; ".join(dict.fromkeys(str(t["clause"]) for _, t in bounds if t.get("clause"))) or clause
        return _Reading(figure, f"{stem}_reason" if f"{stem}_reason" in cols else None, None,
                        threshold, clause, node, _is_ratio(node))
    if column.endswith("_pass"):
        stem = column[: -len("_pass")]
        node = _rule_node(trees, stem)
        return _Reading(stem if stem in cols else None, f"{stem}_reason" if f"{stem}_reason" in cols else None,
                        f"{stem}_req" if f"{stem}_req" in cols else None, "",
                        "; ".join(_clauses(node)), node, column_format(stem) == "pct")
    return _Reading(None, f"{column}_reason" if f"{column}_reason" in cols else None, None, "",
                    "; ".join(_clauses(_rule_node(trees, column))))


def _ids(frame: pd.DataFrame) -> pd.Series | None:
    if "community_id" in frame.columns:
        return frame["community_id"].astype("string").fillna("").astype(str)
    if "id" in frame.columns:
        return feature_ids(frame)
    return None


def _stale_why(message: str, lang: str) -> str:
    """What changed, from :func:`gcgeo.pipeline.stale_message`, in ``lang`` (layers by their labels)."""
    m = re.search(r"predate changes to (.+?); run", message)
    if m is None:
        return message
    if lang != "zh":
        return ", ".join(item if item.startswith(("built-in rules", "rules file", "raster"))
                         else layer_label(item, "en") for item in m.group(1).split(", "))
    words = {"built-in rules": "内置规则", "rules file": "规则文件", "raster": "栅格"}
    out = []
    for item in m.group(1).split(", "):
        head = next((k for k in words if item == k or item.startswith(k + " ")), None)
        out.append(words[head] + item[len(head):] if head else layer_label(item, "zh"))
    return "、".join(out)


def measure(
    layers: Mapping[str, pd.DataFrame],
    meta: Mapping[str, Any],
    communities: Sequence[str],
    measuring: Mapping[int, Iterable[tuple[Any, Any]]],
    standard: Standard,
    *,
    stale: Mapping[str, str] | None = None,
    as_of: str | None = None,
    workspace: str = "WS",
    lang: str = "zh",
) -> dict[tuple[str, int], list[Evidence]]:
    """Evidence per ``(community id, criterion number)`` from every declaring analysis.

    ``measuring`` maps criterion numbers to ``(descriptor, Criterion)`` pairs
    (:func:`gcgeo.score.criteria.measuring`); ``stale`` maps an analysis to
    the sentence saying why its results are stale
    (:func:`gcgeo.pipeline.stale_message`); ``as_of``, the scorecard's day
    (``YYYY-MM-DD``), leaves unknown the results of an analysis computed as
    of another day (:func:`computed_as_of`).
    """
    stale = dict(stale or {})
    out: dict[tuple[str, int], list[Evidence]] = {}
    trees: dict[str, dict[str, dict[str, Any]] | str] = {}
    for number, pairs in measuring.items():
        for desc, crit in pairs:
            label = desc.label_zh if lang == "zh" else desc.label_en
            how = (crit.how_zh or crit.how_en) if lang == "zh" else crit.how_en
            ran = run_time(meta, desc.name)
            frame = layers.get(crit.layer)
            command = _analyze_command(workspace, desc, meta, as_of)
            day = computed_as_of(desc, frame, meta) if ran else None
            base = dict(analysis=desc.name, ran_at=ran, layer=crit.layer, column=crit.column or "",
                        part=(crit.part(lang) or label) if crit.partial else "", unmeasured=crit.unmeasured(lang))
            if not ran or frame is None:
                ev = {c: Evidence("unknown", reason=_text("not_run", lang, label=label, name=desc.name,
                                                          how=how), command=command, **base)
                      for c in communities}
            elif desc.name in stale:
                why = stale[desc.name]
                ev = {c: Evidence("unknown", reason=_text("stale", lang, label=label, name=desc.name,
                                                          why=_stale_why(why, lang)),
                                  stale=True, command=command, **base)
                      for c in communities}
            elif as_of is not None and day is not None and day != as_of and crit.column is not None:
                ev = {c: Evidence("unknown", reason=_text("as_of", lang, label=label, name=desc.name, ran=day,
                                                          as_of=as_of), command=command, **base)
                      for c in communities}
            elif crit.column is None:
                shown = f"“{layer_label(crit.layer, lang)}”" if lang == "zh" else crit.layer
                ev = {c: Evidence("unknown", reason=_text("no_verdict", lang, label=label, name=desc.name,
                                                          how=how, layer=shown), **base)
                      for c in communities}
            elif crit.column not in frame.columns:
                ev = {c: Evidence("unknown", reason=_text("no_column", lang, layer=crit.layer,
                                                          column=crit.column), command=command, **base)
                      for c in communities}
            else:
                if desc.name not in trees:
                    trees[desc.name] = _rule_trees(desc, meta)
                ran_with = trees[desc.name]
                if isinstance(ran_with, str):
                    # no rule's threshold or clause (those of other rules would be wrong), and why
                    ev = {c: dataclasses.replace(e, reason=_join_reasons(lang, e.reason,
                                                                         reason_text(ran_with, lang)))
                          for c, e in _from_layer(frame, crit.column, communities, standard, {}, lang,
                                                  base).items()}
                else:
                    ev = _from_layer(frame, crit.column, communities, standard, ran_with, lang, base)
            for c, e in ev.items():
                out.setdefault((c, int(number)), []).append(e)
    return out


def _number(v: Any) -> float | None:
    """``v`` as a finite float, None for anything else (text, booleans, missing)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not pd.notna(v):
        return None
    return float(v) if math.isfinite(float(v)) else None


def _join_reasons(lang: str, *reasons: str) -> str:
    return ("；" if lang == "zh" else "; ").join(r for r in reasons if r)


def _from_layer(frame: pd.DataFrame, column: str, communities: Sequence[str], standard: Standard,
                trees: Mapping[str, Mapping[str, Any]], lang: str, base: Mapping[str, Any]
                ) -> dict[str, Evidence]:
    """Evidence per community read from the deciding column of a stored layer."""
    ids = _ids(frame)
    layer = base["layer"]
    if ids is None:
        return {c: Evidence("unknown", reason=_text("no_ids", lang, layer=layer), **base) for c in communities}
    reading = _reading(frame, column, trees, lang)
    rows = {i: pos for pos, i in reversed(list(enumerate(ids)))}  # the first row of an id
    out = {}
    for c in communities:
        if c not in rows:
            out[c] = Evidence("unknown", reason=_text("no_row", lang, layer=layer), **base)
            continue
        row = frame.iloc[rows[c]]
        value = row[column]
        status = standard.status_of(value)
        figure = ""
        threshold, clause = reading.threshold, reading.clause
        need = _number(reading.node.get("value")) if reading.node is not None else None
        if reading.threshold_col is not None:
            req = row[reading.threshold_col]
            need = _number(req)
            threshold = format_value(req, reading.figure or reading.threshold_col, lang) or ""
            if reading.ratio and need is not None:  # as exact as the rule: 9.01%, not 9.0%
                threshold = f"{need * 100:g}%"
            clause = "; ".join(_clauses(reading.node, value=req)) or clause
        if reading.figure is not None:
            figure = format_value(row[reading.figure], reading.figure, lang) or ""
            v = _number(row[reading.figure])
            if reading.ratio and v is not None:
                # never one figure printed on both sides of its threshold (9.0% passing 9.01%)
                figure = percent_against(v, need)
        reason = str(row[reading.reason]) if reading.reason is not None and pd.notna(row[reading.reason]) \
            else ""
        if status == "unknown" and not reason:
            shown = format_value(value, column, lang) or "–"
            reason = _text("value", lang, value=shown)
        if not figure and status != "unknown":
            figure = format_value(value, column, lang) or ""
        out[c] = Evidence(status, figure=figure, threshold=threshold, clause=clause,
                          reason=reason_text(reason.strip(), lang), **base)
    return out
