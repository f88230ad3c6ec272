"""The study-area report: one self-contained HTML page.

For every analysis that has been run (its output layers are in ``layers``)
the page gives a few headline figures and the per-community table from the
analysis's own ``summary(outputs)``; then the static figures (PNG embedded as
base64 ``data:`` URIs, so the page is one file to send) and links to the
interactive maps (relative to the report's folder, so keep them beside it).

The sections are made from the analyses' descriptors (:func:`sections`): a
new analysis gets its section without a change here.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__
from ._errors import InputError
from .analysis.contract import resolve
from .clauses import clause_parts, clause_text
from .labels import GEOMETRY_LABELS, code_label, column_label, format_value, layer_label, ui, unit_text
from .maps._offline import write_atomic
from .reasons import reason_text
from .values import text_list

__all__ = ["Section", "headline_figures", "report_workspace", "sections", "write_report"]

log = logging.getLogger(__name__)

Layers = Mapping[str, "gpd.GeoDataFrame | pd.DataFrame"]


@dataclass(frozen=True)
class Section:
    """One analysis in the report, made from its descriptor (:func:`sections`).

    ``outputs`` names the layers the analysis writes; the section appears when
    any is present. ``summary(outputs)`` gives the per-community table and
    ``headlines(outputs, lang)`` the (label, value text) pairs.
    """

    name: str
    label_zh: str
    label_en: str
    outputs: tuple[str, ...]
    summary: Callable[[Layers], pd.DataFrame] | None = None
    headlines: Callable[[Layers, str], list[tuple[str, str]]] | None = None
    tables: tuple[str, ...] = ()
    rule_sets: tuple[str, ...] = ()
    criteria: tuple[int, ...] = ()

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


def sections() -> dict[str, Section]:
    """One report section per registered analysis, in registry order."""
    from . import analysis

    out = {}
    for name, desc in analysis.descriptors().items():
        out[name] = Section(name, desc.label_zh, desc.label_en, desc.output_names, desc.summary,
                            resolve(desc.headlines) if desc.headlines else None,
                            tuple(o.name for o in desc.outputs if o.report_table), tuple(desc.rule_sets),
                            tuple(sorted({int(c.number) for c in desc.criteria})))
    return out


def headline_figures(layers: Layers, section: str, *, lang: str = "en") -> list[tuple[str, str]]:
    """(label, value) headline pairs of ``section`` from ``layers`` (empty when it has not run)."""
    s = sections()[section]
    out = {k: layers[k] for k in s.outputs if k in layers}
    return s.headlines(out, lang) if s.headlines and out else []


# --- HTML ---------------------------------------------------------------------------

_CSS = """
body{font:14px/1.5 -apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","WenQuanYi Micro Hei",
  "Microsoft YaHei",sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:24px}
.stale{border:2px solid #d97706;background:#fff7ed;padding:4px 16px;margin:12px 0}
h1{font-size:26px;margin:0 0 4px}h2{margin-top:36px;border-bottom:2px solid #2c7fb8;padding-bottom:4px}
h3{margin-top:22px}
table{border-collapse:collapse;margin:8px 0 16px;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef3f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#666}.kv th{width:300px}
figure{margin:12px 0 28px;background:#fff;padding:8px;border:1px solid #ddd}
figure img{max-width:100%;height:auto}figcaption{color:#555;font-size:13px}
.scroll{overflow-x:auto}
"""


def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def cell_text(value: Any, column: str, lang: str, *, kind: str | None = None) -> str | None:
    """A table cell as a planner reads it: :func:`gcgeo.labels.format_value`, then any code
    the analyses write (a status, a kind, a manhole type…) translated, alone or in a list.

    >>> cell_text("no_lanes", "criterion8", "zh"), cell_text("water, power", "kinds", "zh")
    ('无消防车道', '给水、电力')
    >>> cell_text('["高唐县热力公司"]', "owners", "zh"), cell_text("东关社区", "name", "zh")
    ('高唐县热力公司', '东关社区')
    """
    text = format_value(value, column, lang, kind=kind)
    if text is None or not isinstance(value, str):
        return text
    if column == "reason" or column.endswith("_reason"):
        return reason_text(text, lang)
    sep = "、" if lang == "zh" else ", "
    items = text_list(text)
    if items is not None:
        return sep.join(code_label(v, lang) or v for v in items) if items else None
    if lang != "zh" or text != value:
        return text
    label = code_label(text, lang)
    if label is not None:
        return label
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 1 and all(code_label(p, lang) for p in parts):
        return sep.join(str(code_label(p, lang)) for p in parts)
    return text


def _table(df: pd.DataFrame, lang: str, *, kind: str | None = None, max_rows: int = 500) -> str:
    if df is None or len(df) == 0:
        return "<p class='meta'>–</p>"
    df = pd.DataFrame(df)
    geom = [c for c in df.columns if isinstance(df[c].dtype, gpd.array.GeometryDtype)]
    df = df.drop(columns=geom)
    head = "".join(f"<th>{_esc(column_label(str(c), lang, kind=kind))}</th>" for c in df.columns)
    body = []
    for _, row in df.head(max_rows).iterrows():
        cells = []
        for c in df.columns:
            v = row[c]
            text = cell_text(v, str(c), lang, kind=kind)
            num = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
            cells.append(f"<td class='num'>{_esc(text or '–')}</td>" if num else f"<td>{_esc(text or '–')}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p class='meta'>… {len(df) - max_rows} more rows in the workspace.</p>"
            if len(df) > max_rows else "")
    rows = "".join(body)
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f"</div>{more}")


def _summary_table(section: Section, outputs: Layers) -> pd.DataFrame | None:
    if section.summary is None:
        return None
    try:
        return section.summary(outputs)
    except Exception as exc:  # noqa: BLE001 - a section must not sink the whole report
        log.warning("report: no per-community table for %s (%s)", section.name, exc)
        return None


def _metadata_rows(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for k, v in metadata.items():
        if isinstance(v, Mapping | list | tuple):
            text = json.dumps(v, ensure_ascii=False, default=str)
            if len(text) > 400:
                text = text[:400] + " …"
        else:
            text = str(v)
        rows.append((str(k), text))
    return rows


def _changed_input(item: str, lang: str) -> str:
    """An input named by :func:`gcgeo.pipeline.stale`, in the report's language
    (layer names stay as they are)."""
    if item == "built-in rules":
        return ui("builtin_rules", lang)
    for prefix, key in (("rules file", "rules_file"), ("raster", "raster_file")):
        if item == prefix or item.startswith(prefix + " "):
            return (ui(key, lang) + item[len(prefix):]).strip()
    return layer_label(item, lang)


def _inventory(layers: Layers, lang: str) -> str:
    """Every layer by its label, with its feature count and geometry types."""
    rows = []
    for k, df in layers.items():
        geom = "–"
        if isinstance(df, gpd.GeoDataFrame) and len(df):
            sep = "、" if lang == "zh" else ", "
            geom = sep.join(GEOMETRY_LABELS.get(g, (g, g))[0 if lang == "zh" else 1]
                            for g in sorted(set(df.geometry.geom_type.dropna())))
        rows.append(f"<tr><td>{_esc(layer_label(k, lang))}</td><td class='num'>{len(df)}</td>"
                    f"<td>{_esc(geom)}</td></tr>")
    return (f"<h2 id='inventory'>{_esc(ui('inventory', lang))}</h2><table><thead><tr>"
            f"<th>{_esc(ui('layers', lang))}</th><th>{_esc(ui('features', lang))}</th>"
            f"<th>{_esc(ui('geometry', lang))}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


#: Workspace metadata keys as shown in the appendix.
_META_KEYS = {"name": ("工作区名称", "Workspace"), "crs": ("坐标系", "Coordinate reference system"),
              "rules_version": ("内置规则版本", "Built-in rules version"),
              "gcgeo_version": ("gcgeo 版本", "gcgeo version"), "created": ("创建时间", "Created"),
              "rasters": ("栅格", "Rasters"), "score:as_of": ("评分的评估日期", "Scorecard assessed on"),
              "score:at": ("评分时间", "Scored at")}


def _meta_key(key: str, lang: str) -> str:
    if key in _META_KEYS:
        return _META_KEYS[key][0 if lang == "zh" else 1]
    name, _, what = key.removeprefix("analysis:").partition(":")
    if key.startswith("analysis:") and name in sections():
        label = sections()[name].label(lang)
        if not what:
            return f"{label}：{ui('ran_at', lang)}" if lang == "zh" else f"{label}: {ui('ran_at', lang)}"
        if what == "inputs":
            return f"{label}：{ui('rule_digest', lang)}" if lang == "zh" else f"{label}: {ui('rule_digest', lang)}"
    return key


def _appendix(layers: Layers, metadata: Mapping[str, Any], lang: str) -> str:
    """Technical details at the end: workspace metadata (run times, rule digests) and layer names."""
    meta = "".join(f"<tr><th>{_esc(_meta_key(k, lang))}</th><td><small>{_esc(k)}</small></td><td>{_esc(v)}</td></tr>"
                   for k, v in _metadata_rows(metadata))
    names = "".join(f"<tr><td>{_esc(layer_label(k, lang))}</td><td>{_esc(k)}</td></tr>" for k in layers)
    return (f"<section id='appendix'><h2>{_esc(ui('appendix', lang))}</h2>"
            f"<p class='meta'>{_esc(ui('appendix_note', lang))}</p>"
            + (f"<h3>{_esc(ui('metadata', lang))}</h3><table class='kv'>{meta}</table>" if meta else "")
            + f"<h3>{_esc(ui('layer_name', lang))}</h3><table><thead><tr><th>{_esc(ui('layers', lang))}</th>"
            f"<th>{_esc(ui('layer_name', lang))}</th></tr></thead><tbody>{names}</tbody></table></section>")


def _basis(section: Section, card: pd.DataFrame | None, lang: str) -> str:
    """The criteria this analysis decides, with the threshold and clause held against and the
    communities by status, from the stored scorecard (empty without one)."""
    if card is None or not len(card) or not section.criteria or "analysis" not in card.columns:
        return ""
    from .score import labels as score_labels
    from .score.criteria import load as load_standard

    std = load_standard()
    mine = pd.DataFrame(card)
    mine = mine[mine["analysis"].astype(str).str.split("; ").map(lambda names: section.name in names)]
    rows = []
    for n in section.criteria:
        sub = mine[pd.to_numeric(mine["criterion"]) == n]
        if not len(sub):
            continue
        sep = "；" if lang == "zh" else "; "
        thresholds = sep.join(dict.fromkeys(t for t in sub["threshold"].astype(str) if t and t != "nan")) or "–"
        clauses = sep.join(dict.fromkeys(_clause(c, lang) or clause_text(c, lang) for c in sub["clause"].astype(str)
                                         if c and c != "nan")) or "–"
        counts = sub["status"].value_counts()
        tally = sep.join(f"{score_labels.value('status', k, lang)} {counts[k]}"
                         for k in ("met", "not_met", "unknown") if counts.get(k, 0))
        rows.append(f"<tr><td>{n} {_esc(std.criterion(n).short(lang))}</td><td>{_esc(thresholds)}</td>"
                    f"<td>{_esc(clauses)}</td><td>{_esc(tally)}</td></tr>")
    if not rows:
        return ""
    return (f"<h3>{_esc(ui('basis', lang))}</h3><table><thead><tr><th>{_esc(ui('criterion', lang))}</th>"
            f"<th>{_esc(ui('threshold', lang))}</th><th>{_esc(ui('clause', lang))}</th>"
            f"<th>{_esc(ui('communities_by_status', lang))}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _rule_value(t: Mapping[str, Any], lang: str) -> str:
    """A threshold of the rules as shown: shares as percentages, lists joined, units in ``lang``."""
    v, unit = t.get("value"), str(t.get("unit") or "")
    ratio = unit == "ratio" or unit.startswith("fraction")
    pct = "%" if unit == "%" else ""
    unit = "" if ratio or pct else _ASCII_NOTE.sub("", unit)
    unit = unit_text(unit, lang)

    def num(x: float) -> str:
        return f"{x * 100:g}%" if ratio else f"{x:g}{pct}"

    if isinstance(v, bool):
        return ui("yes" if v else "no", lang)
    if unit == "1:n" and isinstance(v, int | float):
        return f"1:{v:g}"
    if isinstance(v, int | float):
        return f"{num(v)} {unit}".strip()
    if isinstance(v, list | tuple) and v and all(isinstance(x, int | float) for x in v):
        return ("–".join(num(x) for x in v) + f" {unit}").strip()
    if isinstance(v, list | tuple):
        sep = "、" if lang == "zh" else ", "
        return sep.join(code_label(x, lang) or str(x).replace("_", " ") for x in v)
    return code_label(v, lang) or str(v)


#: A clause part citing a standard, or a user's local rule in place of one (gcgeo.rules.local_clause).
_STANDARD = re.compile(r"^(GB|CJJ|JGJ|CECS|DB\d*|T/|JTG|[\u4e00-\u9fff]|local rule of )")
#: An English note in brackets ("(5-minute living circle public green)"; not "(1)" or "(2018 ed.)").
_ASCII_NOTE = re.compile(r"\s*\((?=[^()]*[A-Za-z]{3,})[^()\u4e00-\u9fff]*\)")


def _clause(clause: str, lang: str) -> str:
    """The parts of a rule's clause that cite a standard (not gcgeo's own conventions); in
    Chinese through :func:`gcgeo.clauses.clause_text`, without the English notes it does not know."""
    parts = [p for p in clause_parts(clause) if _STANDARD.match(p)]
    if lang == "zh":
        parts = [clause_text(p, lang) for p in parts]
        # English notes left (a user's rules file): in brackets, and after a colon
        parts = [_ASCII_NOTE.sub("", p) for p in parts]
        parts = [p.split(": ", 1)[0] if len(re.findall(r"[A-Za-z]{3,}", p.split(": ", 1)[-1])) > 2
                 else p for p in parts]
    return ("；" if lang == "zh" else "; ").join(p for p in parts if p)


def _rule_values(section: Section, lang: str, metadata: Mapping[str, Any]) -> str:
    """Every threshold of the rules the analysis ran with (:func:`gcgeo.pipeline.run_rules`,
    its rules file included) that cites a clause: value and clause (folded); where those
    rules cannot be had again, the sentence saying why instead."""
    from ._errors import RulesError
    from .pipeline import run_rules

    seen: dict[tuple[str, str], None] = {}

    def walk(node: Mapping[str, Any]) -> None:
        for v in node.values():
            if isinstance(v, Mapping):
                clause = _clause(str(v.get("clause") or ""), lang)
                if "value" in v and clause:
                    seen.setdefault((_rule_value(v, lang), clause), None)
                walk(v)

    title = _esc(ui("rule_values", lang))
    try:
        resolved = run_rules(metadata, section.name)
    except RulesError as exc:
        why = _esc(reason_text(str(exc), lang))
        return f"<details open><summary>{title}</summary><p class='stale'>{why}</p></details>"
    for name in resolved:
        walk(resolved[name])
    if not seen:
        return ""
    rows = "".join(f"<tr><td>{_esc(v)}</td><td>{_esc(c)}</td></tr>" for v, c in seen)
    count = f"（{len(seen)}）" if lang == "zh" else f" ({len(seen)})"
    return (f"<details><summary>{title}{count}</summary><table><thead><tr>"
            f"<th>{_esc(ui('threshold', lang))}</th><th>{_esc(ui('clause', lang))}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>")


def write_report(
    layers: Layers,
    path: str | os.PathLike,
    *,
    title: str,
    metadata: Mapping[str, Any] | None = None,
    maps: Mapping[str, str | os.PathLike] | None = None,
    figures: Mapping[str, str | os.PathLike] | None = None,
    lang: str = "en",
    stale: Mapping[str, list[str]] | None = None,
) -> Path:
    """Write the study-area report for ``layers`` to ``path`` (atomically) and return the path.

    ``maps``: link text → HTML map file (linked relative to the report);
    ``figures``: view name → PNG (embedded). Sections appear for the
    analyses whose outputs are in ``layers``; an inventory table lists every
    layer with its feature count.  ``stale`` (analysis → input layers changed
    since it ran, see :func:`gcgeo.pipeline.stale`) puts a warning on top.
    """
    path = Path(path)
    doc = _render_report(layers, path, title=title, metadata=metadata, maps=maps, figures=figures,
                         lang=lang, stale=stale)
    out = write_atomic(doc, path)
    log.info("report written: %s", out)
    return out


def _render_report(
    layers: Layers,
    path: Path,
    *,
    title: str,
    metadata: Mapping[str, Any] | None,
    maps: Mapping[str, str | os.PathLike] | None,
    figures: Mapping[str, str | os.PathLike] | None,
    lang: str,
    stale: Mapping[str, list[str]] | None,
) -> str:
    """The report page as text; links are relative to ``path``'s folder."""
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', got {lang!r}")
    parts: list[str] = [f"<h1>{_esc(title)}</h1>",
                        f"<p class='meta'>{_esc(ui('report', lang))} · gcgeo {__version__} · "
                        f"{_esc(ui('generated', lang))} {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}</p>"]

    if stale:
        labels = {k: s.label(lang) for k, s in sections().items()}
        sep = "、" if lang == "zh" else ", "
        op, colon, cl = ("（", "：", "）") if lang == "zh" else (" (", ": ", ")")
        items = "".join(f"<li>{_esc(labels.get(name, name))}{op}{_esc(ui('changed', lang))}{colon}"
                        f"{_esc(sep.join(_changed_input(c, lang) for c in changed))}{cl} — "
                        f"<code>gcgeo analyze … {_esc(name)}</code></li>"
                        for name, changed in stale.items())
        parts.append(f"<div class='stale'><p>{_esc(ui('stale', lang))}</p><ul>{items}</ul></div>")

    from .score.report import county_section  # the county's answer leads, when a scorecard is stored

    parts.append(county_section(layers, lang))

    # contents
    run_sections = [s for s in sections().values() if any(k in layers and len(layers[k]) for k in s.outputs)]
    toc = [f"<li><a href='#{s.name}'>{_esc(s.label(lang))}</a></li>" for s in run_sections]
    if figures:
        toc.append(f"<li><a href='#figures'>{_esc(ui('figures', lang))}</a></li>")
    toc.append(f"<li><a href='#inventory'>{_esc(ui('inventory', lang))}</a></li>")
    toc.append(f"<li><a href='#appendix'>{_esc(ui('appendix', lang))}</a></li>")
    if maps:
        links = "".join(
            f"<li><a href='{_esc(Path(os.path.relpath(Path(p).resolve(), path.resolve().parent)).as_posix())}'>"
            f"{_esc(label)}</a></li>" for label, p in maps.items())
        parts.append(f"<h2 id='maps'>{_esc(ui('maps', lang))}</h2><ul>{links}</ul>")
    parts.append("<ul>" + "".join(toc) + "</ul>")

    for s in run_sections:
        outputs = {k: layers[k] for k in s.outputs if k in layers}
        parts.append(f"<h2 id='{s.name}'>{_esc(s.label(lang))}</h2>")
        heads = s.headlines(outputs, lang) if s.headlines else []
        if heads:
            parts.append("<table class='kv'>" + "".join(
                f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in heads) + "</table>")
        parts.append(_basis(s, layers.get("scorecard"), lang))
        table = _summary_table(s, outputs)
        if table is not None and len(table):
            parts.append(f"<h3>{_esc(ui('community_table', lang))}</h3>")
            parts.append(_table(table, lang))
        for name in s.tables:
            if name in outputs and len(outputs[name]):
                parts.append(f"<h3>{_esc(layer_label(name, lang))}</h3>")
                parts.append(_table(pd.DataFrame(outputs[name]), lang))
        parts.append(_rule_values(s, lang, metadata or {}))

    if figures:
        parts.append(f"<h2 id='figures'>{_esc(ui('figures', lang))}</h2>")
        from .maps import VIEWS

        for name, p in figures.items():
            data = base64.b64encode(Path(p).read_bytes()).decode("ascii")
            cap = VIEWS[name].label(lang) if name in VIEWS else name
            parts.append(f"<figure><img alt='{_esc(cap)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{_esc(cap)}</figcaption></figure>")

    parts.append(_inventory(layers, lang))
    parts.append(_appendix(layers, metadata or {}, lang))
    if any(isinstance(df, pd.DataFrame) and "osm_id" in df.columns for df in layers.values()):
        parts.append("<p class='meta'>Data © OpenStreetMap contributors (ODbL).</p>")

    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_esc(title)}</title>"
            f"<style>{_CSS}</style></head><body><main>{''.join(parts)}</main></body></html>")


def report_workspace(
    workspace: str | os.PathLike,
    path: str | os.PathLike,
    *,
    lang: str = "zh",
    overwrite: bool = False,
    maps: Mapping[str, str | os.PathLike] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Report a workspace: the page at ``path``, its figures and an offline map beside it.

    Writes ``<stem>-map.html`` (offline, one file) and ``<stem>-figures/``
    next to the report, links the map (and any other ``maps`` given) from
    it, and returns what was written.  Existing files are only replaced with
    ``overwrite``; no output may be the workspace itself.  Everything is
    written to a temporary folder first and moved into place at the end, so
    a failure (a full disk…) leaves no partial figures or map.  The county's
    scorecard is the stored one while it holds, else as it stands now
    (:func:`gcgeo.score.current`, its warnings logged).
    """
    from . import io as _io
    from . import maps as _maps
    from . import workspace as _ws
    from .maps import figures as _figures
    from .pipeline import stale
    from .score.current import current

    step = progress or (lambda stage: None)
    path = Path(path)
    map_path = path.with_name(f"{path.stem}-map.html")
    fig_dir = path.parent / f"{path.stem}-figures"
    _io.check_output([path, map_path], inputs=[workspace], overwrite=overwrite)
    _io.check_output([fig_dir / f"{v}.png" for v in _maps.view_names()], inputs=[workspace],
                     overwrite=True)
    step("reading layers")
    layers = _ws.read_layers(workspace)
    meta = _ws.info(workspace)
    scorecard = current(workspace, layers=layers, lang=lang)  # the stored one, or as it stands now
    if scorecard is not None:
        layers.update(scorecard.tables)
        for line in scorecard.warnings:
            log.warning("%s", line)
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        try:
            step("drawing the map")
            # the map and the figures draw the same styled layers: built once
            views = [_maps.get_view(v) for v in _maps.view_names()]
            ran, notes = _maps.rules_ran(meta, layers)  # class breaks at the thresholds each run used
            for line in notes:
                log.warning("%s", line)
            styles = {v.name: v.styles(layers, lang=lang, rules=ran) for v in views if v.available(layers)}
            m = _maps.dashboard(layers, lang=lang, offline=True, title=meta["name"], styles=styles)
            _maps.save_map(m, stage / map_path.name, offline=True)
            del m
            step("drawing figures")
            staged = _figures.save_figures(layers, stage / fig_dir.name, lang=lang,
                                           title=meta["name"], styles=styles)
            step("writing the report")
            links = {ui("offline_map", lang): map_path, **dict(maps or {})}
            doc = _render_report(layers, path, title=meta["name"], metadata=meta, maps=links,
                                 figures=staged, lang=lang, stale=stale(workspace))
            (stage / path.name).write_text(doc, encoding="utf-8")
        except BaseException as exc:
            _io.raise_if_disk_full(exc, path, left="No report, map or figure was written.")
            raise
        figs = {k: fig_dir / p.name for k, p in staged.items()}
        if figs:
            fig_dir.mkdir(exist_ok=True)
        _io.move_into_place([(stage / map_path.name, map_path),
                             *((staged[k], p) for k, p in figs.items()),
                             (stage / path.name, path)])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log.info("report written: %s", path)
    return {"report": path, "map": map_path, **{f"figure {k}": v for k, v in figs.items()}}
