"""Reading the values planners write in their tables: one home for each parser,
so that every layer and analysis reads "是", "√" or "1" the same way.

>>> import pandas as pd
>>> flags, unreadable = to_bool(pd.Series(["有", "√", "否", "×", "yes", "maybe", None]))
>>> flags.tolist()
[True, True, False, False, True, <NA>, <NA>]
>>> unreadable.tolist()
[False, False, False, False, False, True, False]
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FALSE_WORDS", "ID_COLUMNS", "TRUE_WORDS", "UNIT_WORDS", "feature_ids", "id_column",
           "list_text", "lists_as_text", "row_list", "slope_text", "text_list", "to_bool", "to_date",
           "to_number", "to_slope"]

#: Written yes (compared trimmed and in lower case).
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "是", "有", "√", "对"})
#: Written no.
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "否", "无", "×", "不是"})


def is_yes(value: Any) -> bool:
    """Whether one stored value reads as yes (:func:`to_bool`); blanks and what cannot be read are no.

    >>> [is_yes(v) for v in (True, "True", 1.0, "是", None, "否", "maybe")]
    [True, True, True, True, False, False, False]
    """
    if value is None or value is pd.NA:
        return False
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):  # (the common words at once; the rest as to_bool reads them)
        word = value.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
    return bool(to_bool(pd.Series([value], dtype=object))[0].fillna(False).iloc[0])


def to_bool(series: pd.Series, *, true: Iterable[str] = (), false: Iterable[str] = ()
            ) -> tuple[pd.Series, pd.Series]:
    """Read a column of yes/no values.

    Returns the values as pandas ``"boolean"`` (true for :data:`TRUE_WORDS`
    such as 是, 有, √, yes, 1; false for :data:`FALSE_WORDS` such as 否, 无,
    ×, no, 0; missing for blanks and for anything else) and, aligned on the
    same index, which values could not be read (not blank, not a yes/no
    word).  A column holding only 1 and 0 (also 1.0/0.0, as a Shapefile or
    Excel column with blanks stores them) reads as true/false; a boolean
    column is kept as it is.

    ``true`` / ``false`` add words a column has of its own (a green space
    marked 公共 / 非公共 is public or not).

    >>> to_bool(pd.Series([1.0, 0.0, None]))[0].tolist()
    [True, False, <NA>]
    >>> to_bool(pd.Series([True, False], dtype=object))[0].tolist()  # booleans held as objects
    [True, False]
    >>> to_bool(pd.Series(["公共", "非公共"]), true=["公共"], false=["非公共"])[0].tolist()
    [True, False]
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean"), pd.Series(False, index=series.index)
    num = pd.to_numeric(series, errors="coerce")
    if series.notna().any() and num[series.notna()].isin([0, 1]).all():
        # (compared as numbers: a map keyed 1 / 0 finds no Python True / False in it)
        return num.astype("Float64").eq(1).astype("boolean"), pd.Series(False, index=series.index)
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    yes = TRUE_WORDS | {str(w).strip().lower() for w in true}
    no = FALSE_WORDS | {str(w).strip().lower() for w in false}
    out[text.isin(yes).fillna(False).to_numpy(bool)] = True
    out[text.isin(no).fillna(False).to_numpy(bool)] = False
    bad = series.notna() & out.isna() & (text != "").fillna(False)
    return out, bad


# --------------------------------------------------------------------------
# numbers with units

#: How planners write a unit after a number, by the unit a column is kept in.
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "m": ("米", "m", "公尺"),
    "mm": ("毫米", "mm"),
    "cm": ("厘米", "cm"),
    "km": ("公里", "千米", "km"),
    "m2": ("平方米", "平米", "\u33a1", "m2", "m²", "sqm"),  # \u33a1: square metre as one character
    "kW": ("千瓦", "kw"),
    "%": ("%",),
    "days": ("天", "日", "d", "days"),
    "persons": ("人",),
    "households": ("户",),
    "spaces": ("个", "位", "个车位"),
    "floors": ("层", "f"),
}

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _strip_unit(text: str, unit: str | None) -> str:
    t = unicodedata.normalize("NFKC", text).strip()
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if unit is not None:
        for word in sorted(UNIT_WORDS.get(unit, (unit,)) + (unit,), key=len, reverse=True):
            if t.lower().endswith(word.lower()) and len(t) > len(word):
                return t[: -len(word)].strip()
    return t


def to_number(series: pd.Series, *, unit: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Read a column of numbers as planners write them.

    Full-width digits (３.５), thousands separators (1,200) and the column's
    own unit after the number (``unit="m"``: 3.5米, 3.5 m; ``"m2"``: 120 平方米)
    are read; another unit is not converted but reported unreadable, so a
    value is never silently taken in the wrong unit.  Returns the numbers as
    float64 (NaN where blank or unreadable) and which values were given but
    could not be read.

    >>> v, bad = to_number(pd.Series(["3.5米", " 4 m", "３.５", "1,200", "45cm", None, ""]), unit="m")
    >>> v.tolist()
    [3.5, 4.0, 3.5, 1200.0, nan, nan, nan]
    >>> bad.tolist()
    [False, False, False, False, True, False, False]
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype("float64"), pd.Series(False, index=series.index)
    text = series.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                      else _strip_unit(str(v), unit))
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    given = series.notna() & text.fillna("").astype(str).str.len().gt(0)
    return values, given & values.isna()


# --------------------------------------------------------------------------
# slopes

_NUM_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_SLOPE_RATIO = re.compile(rf"^({_NUM_RE})\s*[:/]\s*({_NUM_RE})$")
_SLOPE_PERCENT = re.compile(rf"^({_NUM_RE})\s*(%|‰)$")
_SLOPE_DEGREES = re.compile(rf"^({_NUM_RE})\s*(?:°|度)$")
_SLOPE_BARE = re.compile(rf"^({_NUM_RE})$")


def _slope(value: Any) -> tuple[float, bool]:
    """One slope as rise/run and whether it was given but could not be read."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return np.nan, False
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = abs(float(value))
        out = v / 100.0 if v > 1 else v
    else:
        t = unicodedata.normalize("NFKC", str(value)).strip().lower().replace(" ", "")
        if not t:
            return np.nan, False
        t = t.removeprefix("i=")  # engineers write a gradient "i=2%"
        if (m := _SLOPE_RATIO.match(t)) is not None:
            rise, run = abs(float(m.group(1))), abs(float(m.group(2)))
            if run == 0:
                return np.nan, True
            out = rise / run
        elif (m := _SLOPE_PERCENT.match(t)) is not None:
            out = abs(float(m.group(1))) / (100.0 if m.group(2) == "%" else 1000.0)
        elif (m := _SLOPE_DEGREES.match(t)) is not None:
            deg = abs(float(m.group(1)))
            if deg >= 90:
                return np.nan, True
            out = float(np.tan(np.radians(deg)))
        elif (m := _SLOPE_BARE.match(t)) is not None:
            v = abs(float(m.group(1)))
            out = v / 100.0 if v > 1 else v
        else:
            return np.nan, True
    if not np.isfinite(out) or out > 1.0:
        return np.nan, True
    return out, False


def to_slope(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read a column of slopes as planners write them, as rise over run (1:20 → 0.05).

    ``"1:12"``, ``"1/12"``, ``"1：12"`` are a ratio; ``"8%"`` (``"8.3 %"``,
    ``"50‰"``) a percentage; ``"3°"`` or ``"3度"`` an angle; ``"i=2%"`` as
    engineers write a gradient.  A bare number (``8.3``, ``"0.083"``) is a
    percentage when above 1 and a ratio otherwise, so 8.3 and 0.083 both
    read 0.083, and 1 reads 1:1 (write ``"1%"`` for one per cent).  The
    sign (up or down) is dropped.  Returns the slopes as float64 (NaN where
    blank or unreadable) and which values were given but could not be read:
    text that is none of these forms, a zero run, and anything steeper than
    1:1 (45°: ``"12:1"``, ``"150%"`` — taken for a mistake, never read).

    >>> v, bad = to_slope(pd.Series(["1:12", "1/20", "8%", "8.3", 0.083, 5, "i=2%", "陡", "12:1", None]))
    >>> [round(x, 4) for x in v.tolist()]
    [0.0833, 0.05, 0.08, 0.083, 0.083, 0.05, 0.02, nan, nan, nan]
    >>> bad.tolist()
    [False, False, False, False, False, False, False, True, True, False]
    """
    read = [_slope(v) for v in series.tolist()]
    values = pd.Series([r[0] for r in read], index=series.index, dtype="float64")
    bad = pd.Series([r[1] for r in read], index=series.index, dtype=bool)
    return values, bad


def slope_text(slope: float) -> str:
    """A slope (rise/run) as planners read it: ``1:12 (8.33%)``.

    >>> slope_text(0.1), slope_text(1 / 12), slope_text(0.0)
    ('1:10 (10%)', '1:12 (8.33%)', '0%')
    """
    if not np.isfinite(slope):
        return ""
    pct = f"{slope * 100:.2f}".rstrip("0").rstrip(".")
    if slope <= 0:
        return f"{pct}%"
    run = f"{1.0 / slope:.2f}".rstrip("0").rstrip(".")
    return f"1:{run} ({pct}%)"


# dates

# year first, as Chinese registers write dates: 2021-03-05, 2021/3/5, 2021.3.5, 2021年3月5日
# (a time of day after the date is left aside)
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
#: Day 0 of Excel's serial dates (the 1900 date system, as Excel and WPS write them).
EXCEL_EPOCH = _dt.date(1899, 12, 30)
#: Serial numbers read as Excel dates: 1950-01-01 to 2099-12-31 (a bare 2021 is no date).
EXCEL_SERIALS = (18264, 73050)


def _one_date(value: Any) -> tuple[_dt.date | None, bool]:
    """One value as a date: (the date or None, whether a given value could not be read)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None, False
    if isinstance(value, (_dt.datetime, pd.Timestamp)):
        value = value.date()
    if isinstance(value, _dt.date):
        return (value, False) if 1900 <= value.year <= 2200 else (None, True)
    if isinstance(value, np.datetime64):
        return (None, False) if np.isnat(value) else (pd.Timestamp(value).date(), False)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None, False
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    hit = _YMD.match(text) or _COMPACT.match(text)
    if hit is None:
        serial = math.floor(float(text)) if _NUMBER.match(text) else -1
        if EXCEL_SERIALS[0] <= serial <= EXCEL_SERIALS[1]:
            return EXCEL_EPOCH + _dt.timedelta(days=serial), False
        return None, True
    y, m, d = (int(g) for g in hit.groups())
    if not 1900 <= y <= 2200:  # no register holds a year 0021 or 9999
        return None, True
    try:
        return _dt.date(y, m, d), False
    except ValueError:  # 2021-02-30
        return None, True


def to_date(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read a column of dates as planners write them.

    Year first, with any of ``-`` ``/`` ``.`` or 年月日 between the parts
    (2021-03-05, 2021/3/5, 2021.3.5, 2021年3月5日, full-width digits too),
    written together (20210305), Excel serial numbers (44260, as a sheet
    gives an unformatted date cell; 1950 to 2099) and date or datetime
    values; a time after the date is left aside.  Day-first or month-first
    dates (5/3/2021) cannot be told apart and are reported, as are dates
    that do not exist (2021-02-30) or lie outside the years 1900–2200.
    Returns the dates as ``datetime64`` (NaT where blank or unreadable) and
    which values were given but could not be read.

    >>> d, bad = to_date(pd.Series(["2021/3/5", "2021年3月5日", 44260, "20210305", "5/3/2021", None]))
    >>> d.dt.strftime("%Y-%m-%d").tolist()
    ['2021-03-05', '2021-03-05', '2021-03-05', '2021-03-05', nan, nan]
    >>> bad.tolist()
    [False, False, False, False, True, False]
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        s = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        return s.dt.normalize().astype("datetime64[ns]"), pd.Series(False, index=series.index)
    seen: dict[Any, tuple[_dt.date | None, bool]] = {}
    dates: list[_dt.date | None] = []
    bad: list[bool] = []
    for v in series.tolist():
        key = (type(v), v) if _hashable(v) else None
        got = seen.get(key) if key is not None else None
        if got is None:
            got = _one_date(v)
            if key is not None:
                seen[key] = got
        dates.append(got[0])
        bad.append(got[1])
    out = pd.Series(pd.to_datetime(pd.Series(dates, dtype=object)).to_numpy(), index=series.index,
                    dtype="datetime64[ns]")
    return out, pd.Series(bad, index=series.index, dtype=bool)


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return not (isinstance(v, float) and math.isnan(v))


# --------------------------------------------------------------------------
# feature ids

#: Column names planners give a feature's id (compared in lower case), besides ``<kind>_id``.
ID_COLUMNS = ("id", "编号", "序号", "代码", "code", "fid", "objectid", "object_id", "gid", "ogc_fid")


def id_column(columns: Iterable[str], kind: str | None = None) -> str | None:
    """The column of ``columns`` holding a feature's id: ``id``, then ``<kind>_id``, then the
    names of :data:`ID_COLUMNS` (编号, FID, OBJECTID…), in that order; None when none is there.

    >>> id_column(["名称", "OBJECTID", "编号"])
    '编号'
    >>> id_column(["name", "manhole_id"], kind="manholes")
    'manhole_id'
    """
    lower = {str(c).strip().lower(): str(c) for c in columns}
    candidates = ["id"]
    if kind:
        candidates += [f"{kind}_id", f"{kind.rstrip('s')}_id"]
    candidates += list(ID_COLUMNS[1:])
    for c in candidates:
        if c in lower:
            return lower[c]
    return None


def _index_text(index: pd.Index) -> pd.Series:
    return pd.Series(index.astype(str), index=index, dtype="str")


def feature_ids(df: pd.DataFrame) -> pd.Series:
    """The labels planners know features by, as text on ``df``'s index.

    The ``id`` column where it is set; ``#<row>`` (the frame's index) where it
    is missing or there is no ``id`` column, so a row number never passes for
    an id.  Every finding, gap and table of gcgeo names features this way.

    >>> feature_ids(pd.DataFrame({"id": ["W-1", None]}, index=[1, 2])).tolist()
    ['W-1', '#2']
    >>> feature_ids(pd.DataFrame({"x": [0]}, index=[7])).tolist()
    ['#7']
    """
    rows = "#" + _index_text(df.index)
    if "id" not in df.columns:
        return rows
    ids = df["id"].astype("string").str.strip()
    missing = (ids.isna() | (ids == "")).to_numpy(bool)
    out = ids.astype(object).to_numpy(copy=True)
    out[missing] = rows.to_numpy()[missing]
    return pd.Series(out.astype(str), index=df.index, dtype="str")


# --------------------------------------------------------------------------
# list values in tables


def list_text(value: Any) -> str | None:
    """A list, tuple or set as a table cell: a JSON array (["幼儿园", "小学"]), readable by
    QGIS's ``array`` functions and by :func:`json.loads`; None stays None.

    >>> list_text(("幼儿园", "小学"))
    '["幼儿园", "小学"]'
    """
    if value is None:
        return None
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), ensure_ascii=False, default=str)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def text_list(text: str) -> list[str] | None:
    """The items of a list stored as text by :func:`list_text` (a JSON array); None for
    other text.

    >>> text_list('["幼儿园", "小学"]'), text_list("幼儿园")
    (['幼儿园', '小学'], None)
    """
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        items = json.loads(text)
    except ValueError:
        return None
    return [str(v) for v in items] if isinstance(items, list) else None


def lists_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every column holding lists, sets or dicts written by :func:`list_text`
    (the workspace and every export write them the same way)."""
    out = None
    geom = getattr(df, "_geometry_column_name", None)
    for col in df.columns:
        if col == geom or df[col].dtype != object:
            continue
        sample = df[col].dropna()
        if len(sample) and sample.map(lambda v: isinstance(v, (list, tuple, set, dict, np.ndarray))).any():
            out = df.copy() if out is None else out
            out[col] = df[col].map(list_text)
    return df if out is None else out


def row_list(ids: Iterable[Any], values: Iterable[Any] | None = None, n: int = 8) -> str:
    """Rows named for a message, with their values, the first ``n`` and how many more.

    >>> row_list(["a", "b", "c"], ["x", 1, None], n=2)
    "row a ('x'), row b (1) and 1 more"
    """
    ids = list(ids)
    items = [f"row {i}" + ("" if values is None else f" ({v!r})")
             for i, v in zip(ids, ids if values is None else values)]
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more
