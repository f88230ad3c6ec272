"""Attestations: what a street office declares, with its evidence, per community and criterion.

:func:`write_template` writes the spreadsheet a street office fills in: one
row per community and criterion (one sheet per street office), Chinese (or
English) headers, a drop-down for the status (符合 / 不符合 / 未知), the
evidence, a document or photo path, who attested and when.  :func:`read`
reads it back — and CSV files and TOML files of the same fields — and
reports, all at once, every row naming a community or criterion that does not
exist, rows that contradict each other, bad or missing dates, and a ``met``
without evidence, by file, sheet and row.  Columns it does not know are kept
(``extra``, as JSON); rows left blank are skipped.

A TOML file holds one ``[[attestation]]`` table per row::

    [[attestation]]
    community = "C01"
    criterion = 2
    status = "met"          # or 符合 / 不符合 / 未知, met / not_met / unknown
    evidence = "居民议事会章程，2022年3月起每月议事"
    document = "photos/C01-议事会.jpg"
    attested_by = "汇鑫街道 王某"
    date = 2022-03-15
"""

from __future__ import annotations

import csv
import datetime as _dt
import io as _stdio
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .criteria import NUMBERS, Standard

__all__ = ["ATTEST_COLUMNS", "FIELDS", "STATUS_WORDS", "read", "write_template"]

#: The template's columns: field → (zh heading, en heading).  Fields marked
#: ``info`` are written for the reader's convenience and not read back.
FIELDS: dict[str, tuple[str, str]] = {
    "community_id": ("社区编号", "Community id"),
    "community_name": ("社区名称", "Community"),
    "street_office": ("街道", "Street office"),
    "criterion": ("项号", "Criterion"),
    "criterion_text": ("创建标准", "Criterion text"),
    "measured": ("测量结果（供参考）", "Measured (for reference)"),
    "status": ("认定结果", "Status"),
    "evidence": ("佐证说明", "Evidence"),
    "document": ("佐证材料（文件或照片路径）", "Document or photo (path)"),
    "attested_by": ("认定人", "Attested by"),
    "date": ("认定日期", "Date"),
    "note": ("备注", "Note"),
}
_INFO = ("community_name", "street_office", "criterion_text", "measured")
_ALIASES = {"community": "community_id", "社区": "community_id", "社区id": "community_id",
            "criterion_number": "criterion", "number": "criterion", "序号": "criterion",
            "认定状态": "status", "状态": "status", "evidence_text": "evidence", "说明": "evidence",
            "photo": "document", "佐证材料": "document", "attested": "date", "日期": "date",
            "认定单位": "attested_by", "who": "attested_by"}

#: The columns of the table :func:`read` returns.
ATTEST_COLUMNS = ("community_id", "criterion", "status", "evidence", "document", "attested_by", "date",
                  "note", "file", "sheet", "row", "extra")

#: Status words a sheet may hold → status (compared trimmed, in lower case).
STATUS_WORDS: dict[str, str] = {
    "符合": "met", "达标": "met", "是": "met", "met": "met", "yes": "met",
    "不符合": "not_met", "未达标": "not_met", "否": "not_met", "not_met": "not_met",
    "not met": "not_met", "no": "not_met",
    "未知": "unknown", "不确定": "unknown", "unknown": "unknown",
}
_STATUS_SHOWN = {"zh": ("符合", "不符合", "未知"), "en": ("met", "not_met", "unknown")}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def _heading_map() -> dict[str, str]:
    out = {}
    for field, (zh, en) in FIELDS.items():
        for h in (field, zh, en):
            out[_norm(h)] = field
    out.update({_norm(k): v for k, v in _ALIASES.items()})
    return out


def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower())


# --------------------------------------------------------------------------
# the template


def _sheet_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "sheet"
    base = base[:31]
    out, k = base, 2
    while out.lower() in taken:
        suffix = f" ({k})"
        out, k = base[: 31 - len(suffix)] + suffix, k + 1
    taken.add(out.lower())
    return out


_INSTRUCTIONS = {
    "zh": ["绿色社区创建标准认定表（{name}）",
           "每个社区、每项标准一行。请在“认定结果”列下拉选择：符合 / 不符合 / 未知。",
           "“符合”须填写佐证说明或佐证材料（文件、照片路径）；凡填写结果的行须填写认定人和认定日期（如 2022-03-15）。",
           "“测量结果”列是 gcgeo 根据已有数据测得的结果，仅供参考；测量与认定不一致时，两者都会显示。",
           "未填写的行不计入。请勿修改社区编号和项号。填好后交回，用 gcgeo score 工作区 --attest 本文件 读入。"],
    "en": ["Green community attestation sheet ({name})",
           "One row per community and criterion. Choose the status in the 'Status' column: met / not_met / "
           "unknown.",
           "'met' needs evidence text or a document (file or photo path); every row with a status needs who "
           "attested and the date (e.g. 2022-03-15).",
           "'Measured' is what gcgeo measured from the data, for reference; where it and the attestation "
           "disagree, both are shown.",
           "Rows left blank are not counted. Do not change the community ids or criterion numbers. Send it "
           "back and read it with: gcgeo score WORKSPACE --attest THIS_FILE."],
}


def write_template(path: str | os.PathLike, communities: pd.DataFrame, standard: Standard, *,
                   lang: str = "zh", measured: Mapping[tuple[str, int], str] | None = None,
                   overwrite: bool = False, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Write the attestation spreadsheet (``.xlsx``) for ``communities`` and return its path.

    ``communities`` has ``community_id`` and, where known, ``community_name``
    and ``street_office`` (one sheet per street office, else one sheet).
    ``measured`` (``(community id, criterion)`` → text) fills the reference
    column.  Written atomically; an existing file is replaced only with
    ``overwrite``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from ..io import atomic_path

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"--template {path}: the template is an Excel file; give a name ending in .xlsx.")
    lang = "zh" if lang == "zh" else "en"
    measured = measured or {}
    wb = Workbook()
    info = wb.active
    info.title = "填写说明" if lang == "zh" else "Instructions"
    for i, line in enumerate(_INSTRUCTIONS[lang], start=1):
        info.cell(row=i, column=1, value=line.format(name=standard.name(lang)))
    info["A1"].font = Font(bold=True, size=13)
    info.column_dimensions["A"].width = 110
    comm = communities.copy()
    offices = comm["street_office"].fillna("").astype(str) if "street_office" in comm.columns \
        else pd.Series("", index=comm.index)
    taken = {info.title.lower()}
    headers = [FIELDS[f][0 if lang == "zh" else 1] for f in FIELDS]
    fields = list(FIELDS)
    words = _STATUS_SHOWN[lang]
    grey = PatternFill("solid", fgColor="EEEEEE")
    for office in dict.fromkeys(offices.tolist()):
        part = comm[(offices == office).to_numpy()]
        default = "社区" if lang == "zh" else "Communities"
        ws = wb.create_sheet(_sheet_name(office or default, taken))
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for _, c in part.iterrows():
            cid = str(c["community_id"])
            for crit in standard.criteria:
                row = {"community_id": cid, "community_name": c.get("community_name", ""),
                       "street_office": office, "criterion": crit.number,
                       "criterion_text": crit.text(lang), "measured": measured.get((cid, crit.number), "")}
                ws.append([row.get(f, None) for f in fields])
        n = ws.max_row
        dv = DataValidation(type="list", formula1='"' + ",".join(words) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle=FIELDS["status"][0 if lang == "zh" else 1],
                            error=("请从下拉列表选择：" if lang == "zh" else "Choose one of: ") + "/".join(words))
        ws.add_data_validation(dv)
        col = {f: i + 1 for i, f in enumerate(fields)}
        letter = {f: ws.cell(row=1, column=i).column_letter for f, i in col.items()}
        if n > 1:
            dv.add(f"{letter['status']}2:{letter['status']}{n}")
        for r in range(2, n + 1):
            ws.cell(row=r, column=col["date"]).number_format = "yyyy-mm-dd"
            ws.cell(row=r, column=col["criterion_text"]).alignment = Alignment(wrap_text=True, vertical="top")
            for f in _INFO:
                ws.cell(row=r, column=col[f]).fill = grey
        widths = {"community_id": 12, "community_name": 14, "street_office": 12, "criterion": 6,
                  "criterion_text": 60, "measured": 22, "status": 12, "evidence": 40, "document": 30,
                  "attested_by": 14, "date": 12, "note": 20}
        for f, w in widths.items():
            ws.column_dimensions[letter[f]].width = w
        ws.freeze_panes = "A2"
    with atomic_path(path, overwrite=overwrite, inputs=inputs) as tmp:
        wb.save(tmp)
    return path


# --------------------------------------------------------------------------
# reading it back


def _cell(v: Any) -> Any:
    """A cell as text (numbers without a trailing .0), a date, or None when blank."""
    if v is None:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else str(v)
    text = str(v).strip()
    return text or None


def _date(v: Any) -> _dt.date | None:
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    text = str(v).strip()
    for f in _DATE_FORMATS:
        try:
            return _dt.datetime.strptime(text, f).date()
        except ValueError:
            continue
    return None


#: The rows of a file, per sheet: (sheet, [(row, where, heading → cell)]); ``row`` is the
#: sheet's row, the CSV line or the line of a TOML entry's header, ``where`` names it in messages.
_Rows = list[tuple[str, list[tuple[int, str, dict[str, Any]]]]]


def _rows_xlsx(path: Path) -> _Rows:
    """Per sheet with a heading row: (sheet, [(row number, where, heading → cell)])."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise InputError(f"attestation file {path} cannot be read as an Excel workbook ({exc}); "
                         "save it as .xlsx.") from None
    out = []
    known = _heading_map()
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            head_at, heads = None, None
            data = []
            for r, values in enumerate(rows, start=1):
                if heads is None:
                    cells = [_norm(v) if v is not None else "" for v in values]
                    if sum(c in known for c in cells) >= 3:
                        head_at, heads = r, [str(v).strip() if v is not None else "" for v in values]
                    elif r >= 10:
                        break
                    continue
                data.append((r, f"{path.name}, sheet '{ws.title}', row {r}",
                             {h: v for h, v in zip(heads, values) if h}))
            if heads is not None and head_at is not None:
                out.append((ws.title, data))
    finally:
        wb.close()
    return out


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"attestation file {path} is neither UTF-8 nor GBK text; save it as UTF-8 CSV.")


def _rows_csv(path: Path) -> _Rows:
    """The rows of a CSV file, each numbered by the line it begins on (a quoted value may
    hold line breaks)."""
    reader = csv.reader(_stdio.StringIO(_decode(path), newline=""))
    heads: list[str] | None = None
    rows = []
    start = 1
    for values in reader:
        if heads is None:
            heads = [h.strip() for h in values]
        else:
            rows.append((start, f"{path.name}, line {start}",
                         {h: (v if v.strip() else None) for h, v in zip(heads, values) if h}))
        start = reader.line_num + 1
    return [("", rows)]


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th… 11th, 12th, 13th… 21st."""
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _header_lines(text: str, key: str) -> list[int]:
    """The line of each ``[[key]]`` table header of TOML ``text`` (a header inside a
    multi-line string counted too: the caller checks the count against the entries)."""
    name = re.escape(key)
    found = re.finditer(rf"^[ \t]*\[\[[ \t]*(?:{name}|\"{name}\"|'{name}')[ \t]*\]\]", text, re.M)
    return [text.count("\n", 0, m.start()) + 1 for m in found]


def _rows_toml(path: Path) -> _Rows:
    """The ``[[attestation]]`` entries of a TOML file, each numbered by the line of its
    header (tomllib gives no lines: the headers are found in the text); entries of an
    inline array (``attestation = [{…}, {…}]``) by their place in it."""
    text = _decode(path)
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"attestation file {path} is not valid TOML ({exc}); fix the line it names.") from None
    key = "attestation" if "attestation" in tree else "attestations"
    entries = tree.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise InputError(f"attestation file {path}: write one [[attestation]] table per row "
                         "(community, criterion, status, evidence, document, attested_by, date).")
    lines = _header_lines(text, key)
    if len(lines) != len(entries):
        return [("", [(k, f"{path.name}, the {_ordinal(k)} entry of '{key}'", dict(e))
                      for k, e in enumerate(entries, start=1)])]
    return [("", [(line, f"{path.name}, the {_ordinal(k)} [[{key}]] entry, line {line}", dict(e))
                  for k, (line, e) in enumerate(zip(lines, entries), start=1)])]


_READERS = {".xlsx": _rows_xlsx, ".xlsm": _rows_xlsx, ".csv": _rows_csv, ".txt": _rows_csv,
            ".toml": _rows_toml}


def read(paths: str | os.PathLike | Sequence[str | os.PathLike], *,
         communities: Iterable[str] | None = None, today: _dt.date | None = None) -> pd.DataFrame:
    """The attestations of one or more files (.xlsx, .csv, .toml), checked together.

    Returns one row per filled row (:data:`ATTEST_COLUMNS`; ``date`` as
    ``YYYY-MM-DD``, ``row`` the sheet row, the CSV line the row begins on, or the line of
    the TOML entry's ``[[attestation]]`` header (its place, for entries written as an
    inline array)).  Every
    problem of every file — an unknown community (when ``communities`` is
    given) or criterion, a status that is none of :data:`STATUS_WORDS`, a
    missing, unreadable or future date, a ``met`` without evidence or
    document, a row without who attested, rows for the same community and
    criterion saying met and not met — is raised at once as one
    :class:`~gcgeo.InputError` naming file, sheet and row.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    today = today or _dt.date.today()
    known_communities = set(map(str, communities)) if communities is not None else None
    heading = _heading_map()
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    places: list[str] = []  # where each record was read, as messages name it
    for p in map(Path, paths):
        if not p.is_file():
            problems.append(f"{p}: no such file; check the path given to --attest")
            continue
        reader = _READERS.get(p.suffix.lower())
        if reader is None:
            problems.append(f"{p}: attestations are read from .xlsx, .csv or .toml files, not "
                            f"'{p.suffix or 'no suffix'}'")
            continue
        sheets = reader(p)
        if not sheets:
            problems.append(f"{p.name}: no sheet has the headings of the template "
                            f"({', '.join(v[0] for v in FIELDS.values())}); write one with --template")
        for sheet, rows in sheets:
            for r, where, cells in rows:
                rec = _record(cells, heading, where, problems, known_communities, today)
                if rec is not None:
                    records.append({**rec, "file": str(p), "sheet": sheet, "row": int(r)})
                    places.append(where)
    frame = pd.DataFrame(records, columns=list(ATTEST_COLUMNS))
    problems += _contradictions(frame, places)
    if problems:
        n = len(problems)
        raise InputError(f"the attestations have {n} problem{'s' if n > 1 else ''}; fix "
                         f"{'them' if n > 1 else 'it'} and read the file again:\n  " + "\n  ".join(problems))
    frame["criterion"] = frame["criterion"].astype(int)
    frame["row"] = frame["row"].astype(int)
    return frame.reset_index(drop=True)


def _record(cells: Mapping[str, Any], heading: Mapping[str, str], where: str, problems: list[str],
            communities: set[str] | None, today: _dt.date) -> dict[str, Any] | None:
    """One filled row as a record; its problems appended to ``problems`` (None for a blank row)."""
    got: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for h, v in cells.items():
        field = heading.get(_norm(h))
        value = _cell(v)
        if field is None:
            if value is not None:
                extra[str(h)] = value.isoformat() if isinstance(value, (_dt.date, _dt.datetime)) else value
        elif field not in _INFO:
            got[field] = value
    filled = [f for f in ("status", "evidence", "document", "attested_by", "date", "note") if got.get(f)]
    if not filled and not extra:
        return None
    before = len(problems)
    cid = got.get("community_id")
    if cid is None:
        problems.append(f"{where}: no community id")
    elif communities is not None and str(cid) not in communities:
        problems.append(f"{where}: community '{cid}' is not in the workspace's communities layer")
    number = got.get("criterion")
    n: int | None = None
    try:
        n = int(str(number).strip().lstrip("第").rstrip("项")) if number is not None else None
    except ValueError:
        n = None
    if n is None or n not in NUMBERS:
        problems.append(f"{where}: criterion {number!r} is not one of the standard's 1 to 16")
    word = got.get("status")
    status = STATUS_WORDS.get(_norm(word)) if word is not None else None
    if word is None:
        problems.append(f"{where}: the row is filled in but has no status; choose 符合 / 不符合 / 未知 "
                        "(met / not_met / unknown)")
    elif status is None:
        problems.append(f"{where}: status '{word}' is not one of 符合 / 不符合 / 未知 (met / not_met / unknown)")
    when = None
    if got.get("date") is not None:
        when = _date(got["date"])
        if when is None:
            problems.append(f"{where}: date '{got['date']}' cannot be read; write it as 2022-03-15")
        elif when > today:
            problems.append(f"{where}: date {when.isoformat()} is in the future")
    elif status in ("met", "not_met"):
        problems.append(f"{where}: no date; give the date of the attestation (e.g. 2022-03-15)")
    if status == "met" and not (got.get("evidence") or got.get("document")):
        problems.append(f"{where}: 'met' without evidence; give the evidence text or a document or photo path")
    if status in ("met", "not_met") and not got.get("attested_by"):
        problems.append(f"{where}: no one named as having attested it; fill in who attested")
    if len(problems) > before:
        return None
    return {"community_id": str(cid), "criterion": n, "status": status,
            "evidence": got.get("evidence") or "", "document": got.get("document") or "",
            "attested_by": got.get("attested_by") or "", "date": when.isoformat() if when else "",
            "note": got.get("note") or "", "extra": json.dumps(extra, ensure_ascii=False) if extra else ""}


def _contradictions(frame: pd.DataFrame, places: Sequence[str]) -> list[str]:
    """Rows saying met and not met for the same community and criterion (``places``: where
    each row of ``frame`` was read)."""
    out = []
    where = pd.Series(list(places), index=frame.index, dtype=object)
    decided = frame[frame["status"].isin(["met", "not_met"])]
    for (cid, n), g in decided.groupby(["community_id", "criterion"], sort=True):
        if g["status"].nunique() > 1:
            shown = "; ".join(f"{w}: {st}" for w, st in zip(where[g.index], g["status"]))
            out.append(f"community '{cid}', criterion {n}: the rows contradict each other ({shown}); "
                       "keep the one that holds")
    return out
