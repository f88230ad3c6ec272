"""Tables of points as planners keep them: CSV (any common encoding) and Excel sheets.

Plumbing of :func:`gcgeo.io.read_table_points`: reading the cells as text or
as Excel shows them, finding the coordinate columns, and turning a reader's
failure into a message that says what is wrong with the file.
"""

from __future__ import annotations

import codecs
import csv
import io as _stdio
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._encoding import choose_encoding, decode_error, without_cut_character
from ._errors import FileFormatError, GcgeoError, InputError
from ._sniff import expected, unreadable, what_is

log = logging.getLogger(__name__)

__all__ = ["X_NAMES", "Y_NAMES", "find_column", "read_csv", "read_excel"]

#: Column names taken for x / longitude and y / latitude (lower case)
X_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "x坐标", "东坐标", "easting", "point_x")
Y_NAMES = ("lat", "latitude", "纬度", "y", "y坐标", "北坐标", "northing", "point_y")


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def find_column(columns: list[str], wanted: str | None, names: tuple[str, ...], axis: str,
                 path: Path) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise InputError(
                f"{path} has no column '{wanted}' (given as --{axis}); its columns are: "
                f"{', '.join(columns)}."
            )
        return wanted
    lower = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    raise InputError(
        f"{path}: no {axis} coordinate column found among {', '.join(map(str, columns))}; name "
        f"it with --{axis} COLUMN."
    )


def _cell_text(v: Any) -> Any:
    """A spreadsheet cell as text, integral numbers without a trailing '.0'."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _tidy_excel(df: pd.DataFrame) -> pd.DataFrame:
    """Type the columns of a sheet read with ``dtype=object``.

    A column of numbers (or dates) only becomes numeric (or dates); a column
    holding any text cell is all text, so codes typed as text keep their
    leading zeros and numbers mixed in read as the text Excel shows.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        values = s.dropna()
        if len(values) and values.map(lambda v: isinstance(v, str)).any():
            out[col] = s.map(_cell_text).astype(object)
        else:
            out[col] = s.infer_objects()
    return out


def _check_title_row(path: Path, sheet: str | int | None) -> None:
    """Refuse a sheet whose first row holds merged cells: a title over several columns (设施信息
    over 名称 and 类别), the column names in a row below, which no column is found by."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return
    from openpyxl import load_workbook

    book = load_workbook(path)  # (a read-only sheet does not know its merged cells)
    try:
        page = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet or 0]
        merged = sorted((r for r in page.merged_cells.ranges if r.min_row == 1 and r.max_col > r.min_col),
                        key=lambda r: r.min_col)
        shown = ", ".join(f"{r.coord} '{page.cell(row=1, column=r.min_col).value}'" for r in merged[:5])
        title = page.title
    finally:
        book.close()
    if merged:
        raise InputError(
            f"{path}, sheet {title}: row 1 has merged cells ({shown}), so the columns under them "
            "have no names; gcgeo reads row 1 as the column names. Delete the title row(s) above "
            "the row of column names (or unmerge the cells and give each column its own name), "
            "save, and give the file again.")


def read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """A sheet of a workbook, its cells typed as Excel shows them (see :func:`_tidy_excel`)."""
    try:
        with pd.ExcelFile(path) as book:
            names = [str(n) for n in book.sheet_names]
            if sheet is not None and str(sheet) not in names and not (
                    isinstance(sheet, int) and 0 <= sheet < len(names)):
                raise InputError(f"{path} has no sheet '{sheet}' (given as --sheet); its sheets "
                                 f"are: {', '.join(names)}.")
            # dtype=object: text cells stay text ("0101"), numbers stay numbers
            df = pd.read_excel(book, sheet_name=sheet if sheet is not None else 0, dtype=object)
        if any(str(c).startswith("Unnamed: ") for c in df.columns):
            _check_title_row(path, sheet)
        return _tidy_excel(df)
    except GcgeoError:
        raise
    except ImportError as exc:
        raise FileFormatError(f"{path}: reading Excel files needs a package that is missing "
                              f"({_short(exc)}); install it with 'pip install openpyxl'.") from None
    except Exception as exc:  # noqa: BLE001 - any failure of the reader is the file's
        raise unreadable(path, exc, expected=expected(path.suffix.lower())) from None


def _without_cut(line: bytes) -> bytes:
    """``line`` without the bytes of a character cut at its end (UTF-8, else GB18030), if any."""
    for enc in ("utf-8", "gb18030"):
        try:
            line.decode(enc)
            return line
        except UnicodeDecodeError:
            whole = without_cut_character(line, enc)
        if whole is not None:
            return whole
    return line


def _csv_encoding(path: Path, raw: bytes) -> str:
    """The encoding of a CSV file's bytes: its byte-order mark's, or its text's own.

    A file cut short may end in the middle of a character: its last line is
    judged without those bytes (:func:`_check_cut_character` refuses it then).
    """
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    lines = raw.split(b"\n")
    last = lines[-1]
    if not raw.endswith(b"\n"):
        lines[-1] = _without_cut(last)
    enc = choose_encoding(((f"line {k}", line) for k, line in enumerate(lines, start=1)),
                          source=str(path))
    if enc is None and lines[-1] != last:  # all else ASCII: the last line's own bytes decide
        lines[-1] = last
        enc = choose_encoding(((f"line {k}", line) for k, line in enumerate(lines, start=1)),
                              source=str(path))
    return "utf-8-sig" if enc in (None, "UTF-8") else enc


def _check_cut_character(path: Path, raw: bytes, encoding: str) -> None:
    """Refuse a file that ends in the middle of a character of ``encoding``: it was cut short."""
    if raw.endswith(b"\n") or encoding.lower().replace("_", "-").startswith("utf-16"):
        return
    start = raw.rfind(b"\n") + 1
    if without_cut_character(raw[start:], encoding) is None:
        return
    line = raw.count(b"\n", 0, start) + 1
    raise FileFormatError(
        f"{path}, line {line}: the file ends in the middle of a character, so it was cut short "
        "(an interrupted copy or download?) and its last value is incomplete. Nothing was read. "
        "Get a complete copy, or export it again from the program that made it."
    )


def _delimiter(text: str, sep: str | None) -> str:
    """The separator pandas' reader takes: ``sep``, else the one sniffed from the first line."""
    if sep is not None:
        return sep
    first = text.split("\n", 1)[0]
    return csv.Sniffer().sniff(first).delimiter


#: a number as a CSV cell holds it: its whole part and its decimals
_NUMBER = re.compile(r"[+-]?(\d*)(?:\.(\d*))?")


def _decimals(text: str) -> int | None:
    """How many decimals number ``text`` is written with; None if it is no number."""
    m = _NUMBER.fullmatch(text.strip())
    if m is None or not (m.group(1) or m.group(2)):
        return None
    return len(m.group(2) or "")


def _looks_cut(last: str, others: list[str]) -> str | None:
    """Why ``last``, the value a file ends with (no line break after it), looks cut short
    beside the other values of its column; None if it does not.

    >>> _looks_cut("113.2", ["113.254871", "113.266012"])
    "'113.2' has 1 decimal(s) where the column's other values have 6"
    """
    filled = [v for v in others if v.strip()]
    if not last.strip():
        return ("it is empty where every other row has a value"
                if len(filled) >= 2 and len(filled) == len(others) else None)
    mine = _decimals(last)
    theirs = [d for d in map(_decimals, filled) if d is not None]
    if mine is None or len(theirs) < 2 or len(theirs) < len(filled):
        return None
    low, high = min(theirs), max(theirs)
    if mine < low and (low == high or low - mine >= 2):
        have = str(low) if low == high else f"{low} to {high}"
        return f"'{last}' has {mine} decimal(s) where the column's other values have {have}"
    return None


def _check_rows(path: Path, text: str, sep: str | None) -> None:
    """Refuse rows with fewer fields than the header, naming their lines; warn when the
    file ends without a line break after a value that looks cut short.

    pandas fills a short row's missing fields with blanks and reads the values
    it has into the first columns, so a value left out in the middle shifts
    the others into the wrong columns without a word (a long row it refuses).
    """
    delimiter = _delimiter(text, sep)
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=True)
    ended = text.endswith(("\n", "\r"))
    header: list[str] | None = None
    short: list[tuple[int, int]] = []
    column: list[str] = []  # the last column's values, when the file ends without a line break
    start = last = 1  # the line the row being read begins on; the last row's
    fields: list[str] = []
    try:
        for fields in reader:
            if header is None:
                header, start = fields, reader.line_num + 1
                continue
            if len(fields) < len(header) and any(f.strip() for f in fields):
                short.append((start, len(fields)))
            if not ended and len(fields) == len(header):
                column.append(fields[-1])
            last, start = start, reader.line_num + 1
    except csv.Error as exc:
        raise FileFormatError(_bad_quote(path, start, exc, ended=ended)) from None
    if header is None:
        return
    n = len(header)
    if short:
        raise FileFormatError(_short_rows(path, short, n, cut=not ended and short[-1][0] == last))
    if not ended and column and fields and len(fields) == n:
        why = _looks_cut(column[-1], column[:-1])
        if why is not None:
            log.warning("%s, line %d, column '%s': the file ends without a line break after this "
                        "value, and %s: the file may have been cut short (an interrupted copy or "
                        "download?). Check that row against the original.", path, last,
                        header[-1], why)


def _bad_quote(path: Path, line: int, exc: csv.Error, *, ended: bool) -> str:
    """The refusal of the row beginning on ``line`` that the reader failed on (``exc``)."""
    if "end of data" in str(exc):
        why = ("a quote opened in that row is never closed" + (
            "" if ended else " before the file ends without a line break: the file was cut short "
            "(an interrupted copy or download?), or")
            + " a value holds a stray quote (\") that needs doubling (\"\")")
    else:
        why = (f"{_short(exc)}; a value holding a quote (\") needs quotes around it and that quote "
               "doubled (\"a \"\"b\"\" c\")")
    return f"{path}, line {line}: {why}. Nothing was read. Fix that row and add the file again."


def _short_rows(path: Path, short: list[tuple[int, int]], n: int, *, cut: bool) -> str:
    """The refusal of rows with fewer fields than the header (line, fields), ``cut`` when
    the last of them ends the file without a line break."""
    shown = ", ".join(f"{line} ({k} field{'s' if k != 1 else ''})" for line, k in short[:10])
    more = f" and {len(short) - 10} more" if len(short) > 10 else ""
    lines = "line" if len(short) == 1 else "lines"
    head = f"{path}, {lines} {shown}{more}: fewer fields than the {n} its header names"
    if cut:
        return (f"{head}; line {short[-1][0]} ends the file without a line break, so the file was "
                "cut short (an interrupted copy or download?). Nothing was read. Get a complete "
                "copy, or export it again from the program that made it.")
    return (f"{head}: a value left out shifts the ones after it into the wrong columns. Nothing "
            f"was read. Give every row all {n} fields (an empty one as nothing between two "
            "separators) and add the file again.")


def read_csv(path: Path, *, sep: str | None, encoding: str | None) -> pd.DataFrame:
    """A CSV file's cells as text; its encoding ``encoding`` or found by :func:`_csv_encoding`.

    A row with fewer fields than the header is refused by line (:func:`_check_rows`),
    and so is a file ending in the middle of a character; a file ending without a line
    break after a value that looks cut short is read with a warning.
    """
    raw = path.read_bytes()
    kind = what_is(path)
    if not raw or (kind is not None and ".csv" not in kind.suffixes):
        raise unreadable(path, None, expected="a CSV table (text)")
    enc = encoding or _csv_encoding(path, raw)
    _check_cut_character(path, raw, enc)
    try:
        text = raw.decode(enc)
    except UnicodeError as exc:
        raise decode_error(str(path), exc, enc) from None
    try:
        _check_rows(path, text, sep)
        # read as text: codes such as "0001" keep their zeros; the layer specs
        # type the columns later (gcgeo.layers.coerce_columns)
        return pd.read_csv(_stdio.StringIO(text), sep=sep, engine="python", dtype=str,
                           keep_default_na=False, na_values=[""], skip_blank_lines=False)
    except GcgeoError:
        raise
    except csv.Error as exc:
        raise FileFormatError(
            f"{path}: its columns could not be told apart ({_short(exc)}); gcgeo looks for commas, "
            "semicolons or tabs between them. Save it from Excel as 'CSV UTF-8 (comma "
            "delimited)' and add it again."
        ) from None
    except pd.errors.ParserError as exc:
        raise FileFormatError(
            f"{path}: its rows do not fit its header ({_short(exc)}); a value holding the "
            "separator needs quotes (\"a, b\"). Fix that row and add the file again."
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the reader is the file's
        raise unreadable(path, exc, expected="a CSV table") from None
