"""Tables of points as planners keep them: CSV (any common encoding) and Excel sheets.

Plumbing of :func:`gcgeo.io.read_table_points`: reading the cells as text or
as Excel shows them, finding the coordinate columns, and turning a reader's
failure into a message that says what is wrong with the file.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._encoding import choose_encoding, decode_error
from ._errors import FileFormatError, GcgeoError, InputError
from ._sniff import expected, unreadable, what_is

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
            return _tidy_excel(pd.read_excel(book, sheet_name=sheet if sheet is not None else 0,
                                             dtype=object))
    except GcgeoError:
        raise
    except ImportError as exc:
        raise FileFormatError(f"{path}: reading Excel files needs a package that is missing "
                              f"({_short(exc)}); install it with 'pip install openpyxl'.") from None
    except Exception as exc:  # noqa: BLE001 - any failure of the reader is the file's
        raise unreadable(path, exc, expected=expected(path.suffix.lower())) from None


def _csv_encoding(path: Path, raw: bytes) -> str:
    """The encoding of a CSV file's bytes: its byte-order mark's, or its text's own."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    lines = ((f"line {k}", line) for k, line in enumerate(raw.split(b"\n"), start=1))
    enc = choose_encoding(lines, source=str(path))
    return "utf-8-sig" if enc in (None, "UTF-8") else enc


def read_csv(path: Path, *, sep: str | None, encoding: str | None) -> pd.DataFrame:
    """A CSV file's cells as text; its encoding ``encoding`` or found by :func:`_csv_encoding`."""
    raw = path.read_bytes()
    kind = what_is(path)
    if not raw or (kind is not None and ".csv" not in kind.suffixes):
        raise unreadable(path, None, expected="a CSV table (text)")
    enc = encoding or _csv_encoding(path, raw)
    try:
        # read as text: codes such as "0001" keep their zeros; the layer specs
        # type the columns later (gcgeo.layers.coerce_columns)
        return pd.read_csv(path, sep=sep, engine="python", encoding=enc, dtype=str,
                           keep_default_na=False, na_values=[""], skip_blank_lines=False)
    except UnicodeError as exc:
        raise decode_error(str(path), exc, enc) from None
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
