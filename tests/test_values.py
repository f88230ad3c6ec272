"""Reading the values planners write in their tables (gcgeo.values)."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest

from gcgeo import values
from gcgeo.values import to_bool


def test_the_examples_in_the_docstrings_hold():
    result = doctest.testmod(values)
    assert result.attempted >= 3 and result.failed == 0


@pytest.mark.parametrize("word", ["有", "√", "是", "对", "yes", "Y", " TRUE ", "t", "1"])
def test_to_bool_reads_yes(word):
    flag, bad = to_bool(pd.Series([word, None], index=[7, 3]))
    assert flag.tolist() == [True, pd.NA] and flag.index.tolist() == [7, 3]
    assert flag.dtype == "boolean" and bad.tolist() == [False, False]


@pytest.mark.parametrize("word", ["无", "×", "否", "不是", "No", "false", "F", "0"])
def test_to_bool_reads_no(word):
    flag, bad = to_bool(pd.Series([word]))
    assert flag.tolist() == [False] and bad.tolist() == [False]


def test_to_bool_leaves_unknown_values_missing_and_reports_them():
    flag, bad = to_bool(pd.Series(["maybe", "", "  ", None, "是", 2], index=list("abcdef")))
    assert flag.tolist() == [pd.NA, pd.NA, pd.NA, pd.NA, True, pd.NA]
    # only what was written and is no yes/no word is unreadable; blanks are missing
    assert bad[bad].index.tolist() == ["a", "f"]


def test_to_bool_numbers_and_booleans():
    flag, bad = to_bool(pd.Series([1.0, None, 0.0]))  # a Shapefile column with a blank
    assert flag.tolist() == [True, pd.NA, False] and not bad.any()
    flag, bad = to_bool(pd.Series([1, 0, 2]))
    assert flag.tolist() == [True, False, pd.NA] and bad.tolist() == [False, False, True]
    flag, bad = to_bool(pd.Series([True, False]))
    assert flag.dtype == "boolean" and flag.tolist() == [True, False] and not bad.any()
