"""The scorecard as an Excel workbook a county hands in.

Sheets: the community × criterion matrix (each cell the status, coloured),
the county against its targets, the blocking criteria, and every row of the
scorecard with its figure, threshold, clause, evidence and reason — with
Chinese or English headings and codes shown translated.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .._errors import InputError
from . import labels as L
from .scorecard import Scorecard

__all__ = ["check_xlsx_name", "export_xlsx", "matrix"]

_FILLS = {"met": "C6EFCE", "not_met": "FFC7CE", "unknown": "E7E6E6"}
_SHEETS = {"matrix": ("评分矩阵", "Matrix"), "county": ("县域进度", "County"),
           "blocking": ("阻碍项", "Blocking criteria"), "detail": ("评分明细", "Scorecard"),
           "attest": ("认定记录", "Attestations")}


def matrix(card: Scorecard, lang: str = "zh") -> pd.DataFrame:
    """Communities × criteria: the status codes, one column per criterion (``1`` … ``16``),
    after the community's id, name, criteria met and whether it meets the standard."""
    wide = card.scorecard.pivot(index="community_id", columns="criterion", values="status")
    per = pd.DataFrame(card.communities).set_index("community_id")
    out = pd.DataFrame({"community_id": per.index, "community_name": per["community_name"].to_numpy(),
                        "criteria_met": per["criteria_met"].to_numpy(),
                        "meets_standard": per["meets_standard"].to_numpy()})
    for n in sorted(wide.columns):
        out[str(n)] = wide[n].reindex(per.index).to_numpy()
    return out


def _sheet(wb, key: str, lang: str):
    return wb.create_sheet(_SHEETS[key][0 if lang == "zh" else 1])


def _write(ws, df: pd.DataFrame, widths: dict[int, float] | None = None) -> None:
    from openpyxl.styles import Alignment, Font

    ws.append([str(c) for c in df.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in df.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else v for v in row])
    for i, w in (widths or {}).items():
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = w
    ws.freeze_panes = "A2"


def check_xlsx_name(path: str | os.PathLike) -> Path:
    """Refuse an ``-o`` that does not end in .xlsx; ``gcgeo score`` calls it before it scores and
    stores anything, so a mistyped name changes nothing."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"-o {path}: the scorecard is written as an Excel file; give a name ending in .xlsx.")
    return path


def export_xlsx(card: Scorecard, path: str | os.PathLike, *, lang: str = "zh", overwrite: bool = False,
                inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Write ``card`` to ``path`` (``.xlsx``), atomically; an existing file only with ``overwrite``."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, PatternFill

    from ..io import atomic_path

    path = check_xlsx_name(path)
    lang = "zh" if lang == "zh" else "en"
    wb = Workbook()
    ws = wb.active
    ws.title = _SHEETS["matrix"][0 if lang == "zh" else 1]
    m = matrix(card, lang)
    crit_cols = [c for c in m.columns if c.isdigit()]
    shown = m.copy()
    for c in crit_cols:
        shown[c] = [L.value("status", v, lang) for v in m[c]]
    shown["meets_standard"] = [L.value("meets_standard", v, lang) for v in m["meets_standard"]]
    heads = [L.column(c, lang) for c in m.columns if not c.isdigit()]
    heads += [f"{int(c)} {card.standard.criterion(int(c)).short(lang)}" for c in crit_cols]
    shown.columns = heads
    _write(ws, shown, {1: 12, 2: 14, 3: 10, 4: 12})
    first = len(m.columns) - len(crit_cols) + 1
    for j, c in enumerate(crit_cols):
        head = ws.cell(row=1, column=first + j)
        head.comment = Comment(card.standard.criterion(int(c)).text(lang), "gcgeo")
        head.alignment = Alignment(wrap_text=True, vertical="top", text_rotation=0)
        ws.column_dimensions[head.column_letter].width = 9
        for i, code in enumerate(m[c], start=2):
            ws.cell(row=i, column=first + j).fill = PatternFill("solid", fgColor=_FILLS.get(code, "FFFFFF"))
    county = card.county.drop(columns=["target"])
    _write(_sheet(wb, "county", lang), L.frame(county, lang))
    block = card.blocking.copy()
    block.insert(1, "short_label", [card.standard.criterion(int(n)).short(lang) for n in block["criterion"]])
    _write(_sheet(wb, "blocking", lang), L.frame(block, lang))
    _write(_sheet(wb, "detail", lang), L.frame(card.scorecard, lang), {6: 40, 12: 30, 14: 40, 23: 40})
    if len(card.attestations):
        _write(_sheet(wb, "attest", lang), L.frame(card.attestations, lang))
    with atomic_path(path, overwrite=overwrite, inputs=inputs) as tmp:
        wb.save(tmp)
    return path
