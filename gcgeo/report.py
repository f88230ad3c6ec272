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
from .labels import column_label, format_value, layer_label, ui
from .maps._offline import write_atomic

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

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


def sections() -> dict[str, Section]:
    """One report section per registered analysis, in registry order."""
    from . import analysis

    out = {}
    for name, desc in analysis.descriptors().items():
        out[name] = Section(name, desc.label_zh, desc.label_en, desc.output_names, desc.summary,
                            resolve(desc.headlines) if desc.headlines else None,
                            tuple(o.name for o in desc.outputs if o.report_table))
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
            text = format_value(v, str(c), lang, kind=kind)
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
    return item


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
        items = "".join(f"<li><code>{_esc(name)}</code> ({_esc(ui('changed', lang))}: "
                        f"{_esc(', '.join(_changed_input(c, lang) for c in changed))}) — "
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
        table = _summary_table(s, outputs)
        if table is not None and len(table):
            parts.append(f"<h3>{_esc(ui('community_table', lang))}</h3>")
            parts.append(_table(table, lang))
        for name in s.tables:
            if name in outputs and len(outputs[name]):
                parts.append(f"<h3>{_esc(layer_label(name, lang))}</h3>")
                parts.append(_table(pd.DataFrame(outputs[name]), lang))

    if figures:
        parts.append(f"<h2 id='figures'>{_esc(ui('figures', lang))}</h2>")
        from .maps import VIEWS

        for name, p in figures.items():
            data = base64.b64encode(Path(p).read_bytes()).decode("ascii")
            cap = VIEWS[name].label(lang) if name in VIEWS else name
            parts.append(f"<figure><img alt='{_esc(cap)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{_esc(cap)}</figcaption></figure>")

    inv = []
    for k, df in layers.items():
        geom = "–"
        if isinstance(df, gpd.GeoDataFrame) and len(df):
            geom = ", ".join(sorted(set(df.geometry.geom_type.dropna())))
        label = layer_label(k, lang)
        inv.append(f"<tr><td>{_esc(k)}</td><td>{_esc(label)}</td><td class='num'>{len(df)}</td>"
                   f"<td>{_esc(geom)}</td></tr>")
    parts.append(f"<h2 id='inventory'>{_esc(ui('inventory', lang))}</h2><table><thead><tr><th>layer</th>"
                 f"<th>{_esc(ui('layers', lang))}</th><th>{_esc(ui('features', lang))}</th><th>geometry</th>"
                 f"</tr></thead><tbody>{''.join(inv)}</tbody></table>")
    if metadata:
        parts.append(f"<h3>{_esc(ui('metadata', lang))}</h3><table class='kv'>" + "".join(
            f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in _metadata_rows(metadata)) + "</table>")
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
    a failure (a full disk…) leaves no partial figures or map.
    """
    from . import io as _io
    from . import maps as _maps
    from . import workspace as _ws
    from .maps import figures as _figures
    from .pipeline import stale

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
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        try:
            step("drawing the map")
            m = _maps.dashboard(layers, lang=lang, offline=True, title=meta["name"])
            _maps.save_map(m, stage / map_path.name, offline=True)
            step("drawing figures")
            staged = _figures.save_figures(layers, stage / fig_dir.name, lang=lang,
                                           title=meta["name"])
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
