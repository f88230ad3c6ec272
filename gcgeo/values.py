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

import pandas as pd

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "to_bool"]

#: Written yes (compared trimmed and in lower case).
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "是", "有", "√", "对"})
#: Written no.
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "否", "无", "×", "不是"})


def to_bool(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read a column of yes/no values.

    Returns the values as pandas ``"boolean"`` (true for :data:`TRUE_WORDS`
    such as 是, 有, √, yes, 1; false for :data:`FALSE_WORDS` such as 否, 无,
    ×, no, 0; missing for blanks and for anything else) and, aligned on the
    same index, which values could not be read (not blank, not a yes/no
    word).  A column holding only 1 and 0 (also 1.0/0.0, as a Shapefile or
    Excel column with blanks stores them) reads as true/false; a boolean
    column is kept as it is.

    >>> to_bool(pd.Series([1.0, 0.0, None]))[0].tolist()
    [True, False, <NA>]
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean"), pd.Series(False, index=series.index)
    num = pd.to_numeric(series, errors="coerce")
    if series.notna().any() and num[series.notna()].isin([0, 1]).all():
        return num.map({1: True, 0: False}).astype("boolean"), pd.Series(False, index=series.index)
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(TRUE_WORDS).fillna(False).to_numpy(bool)] = True
    out[text.isin(FALSE_WORDS).fillna(False).to_numpy(bool)] = False
    bad = series.notna() & out.isna() & (text != "").fillna(False)
    return out, bad
