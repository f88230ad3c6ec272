"""The report's opening section: the county's answer, when a scorecard is stored.

:func:`county_section` gives, as one HTML fragment, the share of communities
meeting the standard against each target, the share over time (a table and
a line figure, inline SVG), the community × criterion matrix coloured by
status, the criteria blocking most communities and the communities closest
to passing.  It reads the stored tables (``score_county``, ``scorecard``,
``score_communities``, ``score_history``) and computes nothing new.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..maps.palette import STATUS_TINT
from ..reasons import reason_text
from ..values import is_yes
from . import labels as L
from .criteria import Standard, load
from .scorecard import blocking, closest, progress

__all__ = ["CSS", "STATUS_CELL", "county_section", "progress_svg"]

#: A criterion's cell by its status: the tint of the maps' colour of that status.
STATUS_CELL = {"met": STATUS_TINT["pass"], "not_met": STATUS_TINT["fail"], "unknown": STATUS_TINT["unknown"]}

#: Styles of the section (added once to the report's page).
CSS = """
.score .lead{font-size:16px;margin:8px 0 12px}.score .big{font-size:22px;font-weight:bold}
.score td.yes{color:#1a7f37;font-weight:bold}.score td.no{color:#b42318;font-weight:bold}
.score table.matrix td,.score table.matrix th{text-align:center;padding:3px 5px}
.score table.matrix td.name,.score table.matrix th.name{text-align:left}
.score .legend span{display:inline-block;padding:1px 8px;margin-right:6px;border:1px solid #ccc}
""" + "".join(f".score td.{k}{{background:{v}}}" for k, v in STATUS_CELL.items())

_T = {
    "title": ("县域绿色社区创建达标情况", "The county's answer: green community standard"),
    "lead": ("截至 {date}，{n} 个社区中有 {m} 个达到{std}（{share}）。",
             "As of {date}, {m} of {n} communities meet the {std} ({share})."),
    "targets": ("目标完成情况", "Against the targets"),
    "progress": ("历次评估", "Progress over time"),
    "matrix": ("各社区逐项评分", "Community × criterion"),
    "blocking": ("主要阻碍项", "Criteria blocking most communities"),
    "closest": ("最接近达标的社区", "Communities closest to passing"),
    "none_close": ("没有只差一两项的社区。", "No community is only one or two criteria short."),
    "notes": ("测量与认定不一致 {c} 处；分析结果已过期 {s} 处（详见评分明细）。",
              "{c} criteria where measurement and attestation disagree; {s} rest on stale results "
              "(layer scorecard)."),
    "reached": ("已达到", "reached"), "not_yet": ("尚未达到", "not yet"), "missed": ("未按期达到", "missed"),
}


def _t(key: str, lang: str, **kw: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**kw)


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if f != f else f"{f * 100:.1f}%"


def _targets(county: pd.DataFrame, lang: str) -> str:
    cols = ["target_label", "target_date", "target_share", "share_meeting", "n_meeting", "communities_needed"]
    head = "".join(f"<th>{_e(L.column(c, lang))}</th>" for c in cols) + f"<th>{_e(L.column('reached', lang))}</th>"
    rows = []
    for _, r in county.iterrows():
        label = r["target_label"] if lang == "zh" else str(r["target"]).replace("_", " ")
        cells = [label, r["target_date"], _pct(r["target_share"]), _pct(r["share_meeting"]),
                 f"{int(r['n_meeting'])}/{int(r['n_communities'])}", int(r["communities_needed"])]
        state = "reached" if is_yes(r["reached"]) else ("missed" if is_yes(r["due"]) else "not_yet")
        css = "yes" if state == "reached" else "no" if state == "missed" else ""
        tip = L.value("clause", r.get("clause", ""), lang)
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells)
                    + f"<td class='{css}' title='{_e(tip)}'>{_e(_t(state, lang))}</td></tr>")
    clauses = "".join(f"<li>{_e(L.value('clause', c, lang))}</li>" for c in dict.fromkeys(county["clause"].astype(str))
                      if c)
    return (f"<h3>{_e(_t('targets', lang))}</h3><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
            f"</tbody></table><ul class='meta'>{clauses}</ul>")


def progress_svg(prog: pd.DataFrame, targets: pd.DataFrame | None = None, *, width: int = 560,
                 height: int = 220) -> str:
    """The share meeting the standard per assessment date as an inline SVG line figure,
    the targets as dashed lines."""
    left, right, top, bottom = 48, 16, 12, 28
    w, h = width - left - right, height - top - bottom
    n = len(prog)

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(share: float) -> float:
        return top + h * (1 - max(0.0, min(1.0, share)))

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' role='img' font-size='11' font-family='sans-serif'>"]
    for s in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f"<line x1='{left}' x2='{left + w}' y1='{y(s):.1f}' y2='{y(s):.1f}' stroke='#eee'/>"
                     f"<text x='{left - 6}' y='{y(s) + 4:.1f}' text-anchor='end' fill='#666'>{s * 100:.0f}%</text>")
    for _, t in (targets if targets is not None else pd.DataFrame()).iterrows():
        ty = y(float(t["target_share"]))
        parts.append(f"<line x1='{left}' x2='{left + w}' y1='{ty:.1f}' y2='{ty:.1f}' stroke='#d97706' "
                     f"stroke-dasharray='5,4'/><text x='{left + w}' y='{ty - 3:.1f}' text-anchor='end' "
                     f"fill='#d97706'>{_e(t['target_date'])} {_pct(t['target_share'])}</text>")
    pts = [(x(i), y(float(s))) for i, s in enumerate(prog["share_meeting"])]
    if len(pts) > 1:
        parts.append("<polyline fill='none' stroke='#2c7fb8' stroke-width='2' points='"
                     + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + "'/>")
    for i, ((a, b), (_, r)) in enumerate(zip(pts, prog.iterrows())):
        anchor = "middle" if n == 1 or 0 < i < n - 1 else ("start" if i == 0 else "end")
        parts.append(f"<circle cx='{a:.1f}' cy='{b:.1f}' r='3.5' fill='#2c7fb8'><title>{_e(r['as_of'])}: "
                     f"{_pct(r['share_meeting'])}</title></circle>"
                     f"<text x='{a:.1f}' y='{height - 8}' text-anchor='{anchor}' fill='#444'>{_e(r['as_of'])}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _progress(history: pd.DataFrame | None, county: pd.DataFrame, lang: str) -> str:
    if history is None or not len(history):
        return ""
    prog = progress(history)
    cols = ["as_of", "n_communities", "n_meeting", "share_meeting"]
    rows = "".join("<tr>" + "".join(f"<td>{_e(L.value(c, r[c], lang))}</td>" for c in cols) + "</tr>"
                   for _, r in prog.iterrows())
    head = "".join(f"<th>{_e(L.column(c, lang))}</th>" for c in cols)
    return (f"<h3>{_e(_t('progress', lang))}</h3><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody>"
            f"</table><figure>{progress_svg(prog, county)}</figure>")


def _matrix(card: pd.DataFrame, per: pd.DataFrame, std: Standard, lang: str) -> str:
    order = per.sort_values(["short", "community_id"], kind="stable")
    cells = {(r.community_id, int(r.criterion)): r for r in card.itertuples(index=False)}
    numbers = [c.number for c in std.criteria]
    head = (f"<th class='name'>{_e(L.column('community_name', lang))}</th>"
            f"<th>{_e(L.column('criteria_met', lang))}</th>"
            + "".join(f"<th title='{_e(std.criterion(n).text(lang))}'>{n}<br><small>"
                      f"{_e(std.criterion(n).short(lang))}</small></th>" for n in numbers))
    mark = {"met": "✓", "not_met": "✗", "unknown": "?"}
    body = []
    for _, c in order.iterrows():
        tds = []
        for n in numbers:
            r = cells.get((c["community_id"], n))
            st = r.status if r is not None else "unknown"
            tip = " · ".join(x for x in (L.value("status", st, lang), L.value("source", r.source, lang) if r else "",
                                          getattr(r, "figure", ""), getattr(r, "threshold", ""),
                                          reason_text(str(getattr(r, "reason", "") or ""), lang)) if x)
            tds.append(f"<td class='{st}' title='{_e(tip)}'>{mark.get(st, '?')}</td>")
        name = c["community_name"] or c["community_id"]
        body.append(f"<tr><td class='name'>{_e(name)}</td><td>{int(c['criteria_met'])}/16</td>{''.join(tds)}</tr>")
    legend = "".join(f"<span class='{k}' style='background:{v}'>{mark[k]} {_e(L.value('status', k, lang))}</span>"
                     for k, v in STATUS_CELL.items())
    return (f"<h3>{_e(_t('matrix', lang))}</h3><p class='legend'>{legend}</p><div class='scroll'>"
            f"<table class='matrix'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def _blocking(card: pd.DataFrame, std: Standard, lang: str) -> str:
    block = blocking(card).head(8)
    if not len(block):
        return ""
    cols = ["criterion", "n_short", "n_not_met", "n_unknown", "n_only"]
    head = "".join(f"<th>{_e(L.column(c, lang))}</th>" for c in cols[:1]) + \
        f"<th>{_e(L.column('criterion_zh', lang))}</th>" + \
        "".join(f"<th>{_e(L.column(c, lang))}</th>" for c in cols[1:])
    rows = "".join(f"<tr><td>{int(r['criterion'])}</td><td>{_e(std.criterion(int(r['criterion'])).text(lang))}</td>"
                   + "".join(f"<td class='num'>{int(r[c])}</td>" for c in cols[1:]) + "</tr>"
                   for _, r in block.iterrows())
    return f"<h3>{_e(_t('blocking', lang))}</h3><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _closest(per: pd.DataFrame, std: Standard, lang: str) -> str:
    near = closest(per, std.closest_short)
    if not len(near):
        return f"<h3>{_e(_t('closest', lang))}</h3><p class='meta'>{_e(_t('none_close', lang))}</p>"

    def listed(text: Any) -> str:
        nums = [int(p) for p in str(text or "").split(",") if p.strip().isdigit()]
        sep = "；" if lang == "zh" else "; "
        return sep.join(f"{n} {std.criterion(n).short(lang)}" for n in nums) if nums else "—"

    cols = ["community_name", "short", "not_met", "unknown"]
    head = "".join(f"<th>{_e(L.column(c, lang))}</th>" for c in cols)
    rows = "".join(f"<tr><td>{_e(r['community_name'] or r['community_id'])}</td><td class='num'>{int(r['short'])}"
                   f"</td><td>{_e(listed(r['not_met']))}</td><td>{_e(listed(r['unknown']))}</td></tr>"
                   for _, r in near.iterrows())
    return f"<h3>{_e(_t('closest', lang))}</h3><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def county_section(layers: Mapping[str, Any], lang: str = "zh") -> str:
    """The report's opening section (an empty string when no scorecard is stored)."""
    needed = ("scorecard", "score_communities", "score_county")
    if any(layers.get(k) is None or not len(layers[k]) for k in needed):
        return ""
    std = load()
    card = pd.DataFrame(layers["scorecard"])
    per = pd.DataFrame(layers["score_communities"])
    per = per.drop(columns=[c for c in per.columns if str(per[c].dtype) == "geometry"])
    for c in ("criteria_met", "short"):
        per[c] = pd.to_numeric(per[c]).astype(int)
    for c in ("conflict", "stale"):
        card[c] = card[c].map(is_yes)
    county = pd.DataFrame(layers["score_county"])
    first = county.iloc[0]
    lead = _t("lead", lang, date=first["as_of"], n=int(first["n_communities"]), m=int(first["n_meeting"]),
              std=std.name(lang), share=_pct(first["share_meeting"]))
    notes = _t("notes", lang, c=int(card["conflict"].sum()), s=int(card["stale"].sum()))
    return (f"<section class='score' id='scorecard'><style>{CSS}</style><h2>{_e(_t('title', lang))}</h2>"
            f"<p class='lead'>{_e(lead)}</p>{_targets(county, lang)}"
            f"{_progress(layers.get('score_history'), county, lang)}{_matrix(card, per, std, lang)}"
            f"{_blocking(card, std, lang)}{_closest(per, std, lang)}<p class='meta'>{_e(notes)}</p></section>")
