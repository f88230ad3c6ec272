"""One submission-ready dossier per community: HTML and PDF.

A dossier holds what a street office hands in for one community: whether it
meets the standard, the 16 criteria with their status, the deciding figure,
threshold and clause, the evidence and who attested it; a map of the
community with the findings of the analyses inside it; and the community's
attestations.  It is made from the stored scorecard (run ``gcgeo score``
first), or, when that no longer holds (an analysis it read has run again or
gone stale), from the scorecard as it stands now (:func:`gcgeo.score.current`).

The PDF is printed by headless Chromium (``--print-to-pdf``) from the same
page, with the network switched off, so what is printed is what the HTML
shows; Chinese is set in gcgeo's bundled font (``gcgeo/maps/fonts``), so the
PDF needs no CJK font on the machine.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html
import io as _stdio
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__
from .._errors import GcgeoError, InputError, WorkspaceError
from ..reasons import reason_text
from ..values import is_yes
from . import labels as L
from .criteria import Standard, load
from .current import Current, current
from .report import STATUS_CELL

log = logging.getLogger(__name__)

__all__ = ["CHROMIUM_NAMES", "community_map", "dossier_html", "find_chromium", "print_pdf", "write_dossiers"]

#: Executables tried for printing, in order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_CSS = """
@page{size:A4;margin:14mm 12mm}
body{font:10.5pt/1.5 "gcgeo Sans SC","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
  color:#222;margin:0}
h1{font-size:17pt;margin:0 0 2mm}h2{font-size:12.5pt;border-bottom:1.5pt solid #2c7fb8;margin:6mm 0 2mm}
.meta{color:#555;font-size:9pt}.verdict{font-size:13pt;font-weight:bold;margin:2mm 0}
.yes{color:#1a7f37}.no{color:#b42318}
table{border-collapse:collapse;width:100%;font-size:8.8pt}th,td{border:0.6pt solid #bbb;padding:1.2mm 1.5mm;
  vertical-align:top;text-align:left}th{background:#eef3f8}tr{page-break-inside:avoid}
td.n{text-align:center;width:7mm}td.s{white-space:nowrap}td.t{width:34%}img{max-width:100%}
""" + "".join(f"td.{k}{{background:{v}}}" for k, v in STATUS_CELL.items())


def _e(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return html.escape(str(v))


_T = {
    "title": ("绿色社区创建申报材料", "Green community dossier"),
    "yes": ("达到{std}（16项全部符合）", "Meets the {std} (all 16 criteria met)"),
    "no": ("尚未达到{std}：符合 {met} 项，不符合 {nm} 项，未知 {unk} 项",
           "Does not yet meet the {std}: {met} met, {nm} not met, {unk} unknown"),
    "criteria": ("逐项评分", "The 16 criteria"),
    "map": ("社区地图与问题点", "Map of the community and its findings"),
    "attest": ("认定记录", "Attestations"),
    "none": ("无", "none"),
    "as_of": ("评估日期", "Assessed on"),
    "made": ("gcgeo {v} 生成于 {t}", "made by gcgeo {v} on {t}"),
    "office": ("街道", "Street office"),
}


def _t(key: str, lang: str, **kw: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**kw)


def _community_layers(layers: Mapping[str, Any], cid: str, geom: Any) -> dict[str, gpd.GeoDataFrame]:
    """The community, its buildings, green space and fire lanes, its homes lacking
    facilities of the living circle (criterion 10's evidence) and every analysis's
    findings inside it."""
    from ..maps import gaps_at_homes

    out: dict[str, gpd.GeoDataFrame] = {}
    comm = layers.get("score_communities")
    if isinstance(comm, gpd.GeoDataFrame):
        out["communities"] = comm[comm["community_id"].astype(str) == cid]
    gaps = gaps_at_homes(layers)
    found = {**layers, "lc_gaps": gaps} if gaps is not None else layers
    for name in ("buildings", "green_space", "fire_lanes", "lc_gaps",
                 *sorted(k for k in layers if str(k).endswith("_findings"))):
        frame = found.get(name)
        if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
            continue
        keys = [c for c in ("community_id", "community") if c in frame.columns]
        if (name.endswith("_findings") or name == "lc_gaps") and keys:
            mask = pd.Series(False, index=frame.index)
            for c in keys:
                mask |= frame[c].astype("string").fillna("").eq(cid).to_numpy()
        else:
            mask = frame.geometry.intersects(geom)
        if bool(mask.any()):
            out[name] = frame[mask.to_numpy()]
    return out


def community_map(layers: Mapping[str, Any], cid: str, *, lang: str = "zh", title: str = "") -> bytes | None:
    """A PNG of the community with its buildings, fire lanes and findings (None without geometry)."""
    from ..maps import View, style_layer
    from ..maps.figures import plot_view

    comm = layers.get("score_communities")
    if not isinstance(comm, gpd.GeoDataFrame):
        return None
    row = comm[comm["community_id"].astype(str) == cid]
    if not len(row) or row.geometry.isna().all():
        return None
    sub = _community_layers(layers, cid, row.geometry.iloc[0])

    def build(ls: Mapping[str, Any], lg: str) -> list[Any]:
        out = [style_layer(k, v, lang=lg) for k, v in ls.items()]
        if "lc_gaps" in ls:  # the homes' colours are their gaps': the buildings grey beneath
            out = [_plain(s, lg) if s.key == "buildings" else s for s in out]
        return out

    view = View("dossier", _t("map", "zh"), _t("map", "en"), tuple(sub), build)
    fig = plot_view(sub, view, lang=lang, title=title)
    if fig is None:
        return None
    buf = _stdio.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _plain(styled: Any, lang: str) -> Any:
    """``styled`` (a layer of the community map) in one neutral colour."""
    from ..maps import LegendItem
    from ..maps.palette import OTHER
    from ..names import layer_label

    return dataclasses.replace(styled, colors=np.full(len(styled.gdf), OTHER, dtype=object),
                               legend=[LegendItem(OTHER, layer_label(styled.key, lang))])


def _criteria_rows(card: pd.DataFrame, std: Standard, lang: str) -> str:
    heads = ["criterion", "criterion_zh", "status", "source", "figure", "threshold", "clause", "evidence",
             "attested_by", "reason"]
    th = "".join(f"<th>{_e(L.column(h, lang))}</th>" for h in heads)
    rows = []
    for _, r in card.sort_values("criterion").iterrows():
        n = int(r["criterion"])
        text = std.criterion(n).text(lang)
        evidence = "；".join(x for x in (str(r.get("evidence") or ""), str(r.get("document") or "")) if x)
        who = " ".join(x for x in (str(r.get("attested_by") or ""), str(r.get("attested_on") or "")) if x)
        stale = is_yes(r.get("stale"))
        mark = f"<br><small>{_e(L.column('stale', lang))}</small>" if stale else ""
        cells = [f"<td class='n'>{n}</td>", f"<td class='t'>{_e(text)}</td>",
                 f"<td class='s {_e(r['status'])}'>{_e(L.value('status', r['status'], lang))}{mark}</td>",
                 f"<td class='s'>{_e(L.value('source', r['source'], lang))}</td>", f"<td>{_e(r.get('figure'))}</td>",
                 f"<td class='s'>{_e(r.get('threshold'))}</td>",
                 f"<td>{_e(L.value('clause', r.get('clause'), lang))}</td>",
                 f"<td>{_e(evidence)}</td>", f"<td>{_e(who)}</td>",
                 f"<td>{_e(reason_text(str(r.get('reason') or ''), lang))}{_measuring(r.get('command'))}</td>"]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _measuring(command: Any) -> str:
    """The commands (re)running an analysis among a criterion's ``command`` (stale results, results
    of another day, an analysis not run), to print under its reason; '' without any."""
    runs = [c.strip() for c in str(command or "").split(";") if c.strip().startswith("gcgeo analyze ")]
    return "".join(f"<br><code>{_e(c)}</code>" for c in runs)


def _attestations(att: pd.DataFrame | None, cid: str, lang: str) -> str:
    if att is None or not len(att):
        return f"<p class='meta'>{_e(_t('none', lang))}</p>"
    mine = att[att["community_id"].astype(str) == cid]
    if not len(mine):
        return f"<p class='meta'>{_e(_t('none', lang))}</p>"
    cols = ["criterion", "status", "evidence", "document", "attested_by", "date", "note", "file", "sheet", "row"]
    th = "".join(f"<th>{_e(L.column(c, lang))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(
        f"<td>{_e(L.value(c, Path(str(r[c])).name if c == 'file' else r[c], lang))}</td>" for c in cols) + "</tr>"
        for _, r in mine.sort_values(["criterion", "date"]).iterrows())
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def dossier_html(layers: Mapping[str, Any], community: str, *, lang: str = "zh", title: str = "",
                 font_face: str = "") -> str:
    """The dossier of ``community`` (its id or name) as one HTML page, the map embedded."""
    card, per = layers.get("scorecard"), layers.get("score_communities")
    if card is None or per is None or not len(card):
        raise WorkspaceError("no scorecard is stored in the workspace; run `gcgeo score WS` first.")
    cid = _community_id(per, community)
    std = load()
    mine = pd.DataFrame(card)[pd.DataFrame(card)["community_id"].astype(str) == cid]
    p = pd.DataFrame(per).set_index(pd.DataFrame(per)["community_id"].astype(str)).loc[cid]
    name = str(p.get("community_name") or cid)
    met = L.value("meets_standard", p["meets_standard"], "en") == "yes"
    counts = {k: int((mine["status"] == k).sum()) for k in ("met", "not_met", "unknown")}
    verdict = (_t("yes", lang, std=std.name(lang)) if met else
               _t("no", lang, std=std.name(lang), met=counts["met"], nm=counts["not_met"], unk=counts["unknown"]))
    png = community_map(layers, cid, lang=lang, title=name)
    figure = (f"<h2>{_e(_t('map', lang))}</h2><img alt='{_e(name)}' "
              f"src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>") if png else ""
    office = str(p.get("street_office") or "")
    sub = " · ".join(x for x in (title, f"{_t('office', lang)} {office}" if office else "",
                                 f"{_t('as_of', lang)} {p.get('as_of', '')}") if x)
    made = _t("made", lang, v=__version__, t=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{_e(name)} · {_e(_t('title', lang))}</title><style>{font_face}{_CSS}</style></head><body>"
            f"<h1>{_e(name)}（{_e(cid)}）{_e(_t('title', lang))}</h1><p class='meta'>{_e(sub)}</p>"
            f"<p class='verdict {'yes' if met else 'no'}'>{_e(verdict)}</p>"
            f"<h2>{_e(_t('criteria', lang))}</h2>{_criteria_rows(mine, std, lang)}{figure}"
            f"<h2>{_e(_t('attest', lang))}</h2>{_attestations(layers.get('score_attestations'), cid, lang)}"
            f"<p class='meta'>{_e(std.name(lang))} · {_e(made)}</p></body></html>")


def _community_id(per: Any, community: str) -> str:
    ids = pd.DataFrame(per)["community_id"].astype(str)
    if str(community) in set(ids):
        return str(community)
    names = pd.DataFrame(per)["community_name"].astype(str)
    hit = ids[names == str(community)]
    if len(hit) == 1:
        return str(hit.iloc[0])
    shown = ", ".join(f"{i} {n}" for i, n in list(zip(ids, names))[:20])
    raise InputError(f"no community '{community}' in the scorecard; give an id or name of: {shown}.")


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    return next((p for p in (shutil.which(n) for n in CHROMIUM_NAMES) if p), None)


def _font_face() -> str:
    """@font-face rules pointing at gcgeo's bundled font (for printing on this machine)."""
    folder = Path(__file__).resolve().parent.parent / "maps" / "fonts"
    rules = []
    for weight, name in (("normal", "gcgeoSansSC-Regular.otf"), ("bold", "gcgeoSansSC-Bold.otf")):
        if (folder / name).is_file():
            rules.append(f"@font-face{{font-family:'gcgeo Sans SC';font-weight:{weight};"
                         f"src:url('{(folder / name).as_uri()}') format('opentype')}}")
    return "".join(rules)


def print_pdf(page: str | os.PathLike, pdf: str | os.PathLike, *, chromium: str | None = None,
              timeout: float = 120.0) -> Path:
    """Print the HTML file ``page`` to ``pdf`` with headless Chromium (network refused)."""
    exe = chromium or find_chromium()
    if exe is None:
        raise GcgeoError("printing the dossier to PDF needs Chromium; install it (Debian: apt-get install "
                         "chromium) or give --no-pdf for the HTML only.")
    pdf = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="gcgeo-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(page).resolve().as_uri()]
        try:
            res = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise GcgeoError(f"Chromium did not print {page} within {timeout:.0f} s.") from None
    if res.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = res.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise GcgeoError(f"Chromium could not print {page} to PDF ({' / '.join(tail) or res.returncode}).")
    return pdf


def write_dossiers(workspace: str | os.PathLike, folder: str | os.PathLike, communities: Sequence[str] | None = None,
                   *, lang: str = "zh", pdf: bool = True, overwrite: bool = False,
                   chromium: str | None = None, scorecard: Current | None = None) -> dict[str, dict[str, Path]]:
    """Write ``<id>.html`` and ``<id>.pdf`` per community (all when ``communities`` is None) into ``folder``.

    The scorecard is the stored one while it holds, else as it stands now
    (:func:`gcgeo.score.current`: an analysis it read has run again or gone
    stale; its warnings are logged), or ``scorecard`` when given.
    Everything is made in a temporary folder beside ``folder`` and moved
    into place at the end; existing files are replaced only with
    ``overwrite``.  Returns community id → {"html": path, "pdf": path}.
    """
    from .. import io as _io
    from .. import workspace as ws
    from ..maps import gaps_at_homes

    layers = ws.read_layers(workspace)
    if scorecard is None:
        scorecard = current(workspace, layers=layers, lang=lang)
        for line in scorecard.warnings if scorecard is not None else ():
            log.warning("%s", line)
    if scorecard is not None:
        layers.update(scorecard.tables)
    per = layers.get("score_communities")
    if per is None:
        raise WorkspaceError(f"workspace {workspace} has no scorecard; run `gcgeo score {workspace}` first.")
    gaps = gaps_at_homes(layers)  # (placed at their homes once, not once per community)
    if gaps is not None:
        layers["lc_gaps"] = gaps
    ids = [_community_id(per, c) for c in communities] if communities else \
        pd.DataFrame(per)["community_id"].astype(str).tolist()
    folder = Path(folder)
    kinds = ("html", "pdf") if pdf else ("html",)
    targets = {cid: {k: folder / f"{cid}.{k}" for k in kinds} for cid in ids}
    _io.check_output([p for t in targets.values() for p in t.values()], inputs=[workspace], overwrite=overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    title = str(ws.info(workspace).get("name") or "")
    stage = Path(tempfile.mkdtemp(prefix=".gcgeo-dossier.", dir=folder))
    try:
        moves = []
        for cid in ids:
            page = dossier_html(layers, cid, lang=lang, title=title)
            (stage / f"{cid}.html").write_text(page, encoding="utf-8")
            moves.append((stage / f"{cid}.html", targets[cid]["html"]))
            if pdf:
                printing = stage / f".{cid}.print.html"
                printing.write_text(dossier_html(layers, cid, lang=lang, title=title, font_face=_font_face()),
                                    encoding="utf-8")
                print_pdf(printing, stage / f"{cid}.pdf", chromium=chromium)
                moves.append((stage / f"{cid}.pdf", targets[cid]["pdf"]))
        _io.move_into_place(moves)
    except BaseException as exc:
        _io.raise_if_disk_full(exc, folder, left="No dossier was written.")
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return targets
