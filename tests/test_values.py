"""Reading the values planners write in their tables (gcgeo.values)."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gcgeo import values
from gcgeo.values import FALSE_WORDS, TRUE_WORDS, is_yes, to_bool


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


def test_lists_are_written_alike_in_the_workspace_and_every_export(tmp_path):
    """A list column (e.g. missing categories) reads back as the same JSON text from the
    workspace and from an export, and json.loads gives the list again."""
    import json

    import geopandas as gpd
    import pyogrio
    import shapely

    from gcgeo import io as gio
    from gcgeo import workspace as ws

    frame = gpd.GeoDataFrame({"missing": [["幼儿园", "小学"], None], "n": [2, 0]},
                             geometry=[shapely.Point(0, 0), shapely.Point(1, 1)], crs="EPSG:4547")
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w", crs="EPSG:4547")
    ws.write_layers(path, {"gaps": frame})
    stored = ws.read_layer(path, "gaps")["missing"].tolist()
    assert json.loads(stored[0]) == ["幼儿园", "小学"]
    assert stored[1] is None or stored[1] != stored[1]  # missing stays missing (None or NaN)
    for suffix in (".gpkg", ".geojson", ".csv"):
        out = tmp_path / f"out{suffix}"
        gio.export({"gaps": frame}, out)
        got = pyogrio.read_dataframe(out, layer="gaps" if suffix == ".gpkg" else None)["missing"].tolist()[0]
        # the same JSON text; GeoJSON keeps it as the JSON array itself
        assert (list(got) if suffix == ".geojson" else json.loads(got)) == ["幼儿园", "小学"], suffix
        if suffix != ".geojson":
            assert got == stored[0], suffix


def test_planners_id_columns_become_the_id_and_numbers_keep_their_units(tmp_path):
    """编号 / FID / OBJECTID / <kind>_id are recognised as the id, and 3.5米 is 3.5 at add."""
    import geopandas as gpd
    import shapely

    from gcgeo import workspace as ws

    path = tmp_path / "w.gpkg"
    ws.init(path, name="w", crs="EPSG:4547")
    pts = [shapely.Point(500000 + i, 4000000) for i in range(3)]
    for cols, expect in [({"OBJECTID": [7, 8, 9]}, ["7", "8", "9"]),
                         ({"manhole_id": ["M1", "M2", "M3"]}, ["M1", "M2", "M3"]),
                         ({"FID": [1, 2, 3], "编号": ["A", "B", "C"]}, ["A", "B", "C"])]:
        frame = gpd.GeoDataFrame({**cols, "kind": ["sewage"] * 3}, geometry=pts, crs="EPSG:4547")
        ws.add_layer(path, "manholes", frame, overwrite=True)
        assert ws.read_layer(path, "manholes")["id"].astype(str).tolist() == expect, cols
    lanes = gpd.GeoDataFrame({"id": ["L1", "L2", "L3"], "width_m": ["3.5米", "４ m", "45cm"]},
                             geometry=[shapely.LineString([(0, i), (50, i)]) for i in range(3)],
                             crs="EPSG:4547")
    ws.add_layer(path, "fire_lanes", lanes)
    got = ws.read_layer(path, "fire_lanes")
    assert got["width_m"].tolist()[:2] == [3.5, 4.0]
    assert got["width_m"].isna().iloc[2] and got["width_m_raw"].iloc[2] == "45cm"  # not metres: kept


@pytest.mark.parametrize("written", ["2021-03-05", "2021/3/5", "2021.3.5", "2021年3月5日", "２０２１年３月５日",
                                     "2021 年 3 月 5 日", "20210305", 20210305, "44260", 44260,
                                     44260.75, "2021-03-05 10:30:00", "2021-03-05T10:30"])
def test_to_date_reads_dates_as_planners_write_them(written):
    got, bad = values.to_date(pd.Series([written, None], index=[4, 9], dtype=object))
    assert got.dt.strftime("%Y-%m-%d").tolist()[0] == "2021-03-05" and pd.isna(got.iloc[1])
    assert bad.tolist() == [False, False] and got.index.tolist() == [4, 9]


def test_to_date_excel_serials_count_from_1899_12_30():
    # Excel's day 1 is 1900-01-01 and it counts a 29 February 1900 that never was:
    # 2000-01-01 is serial 36526, 2024-02-29 is 45351
    got, _ = values.to_date(pd.Series([36526, 45351, "45352"], dtype=object))
    assert got.dt.strftime("%Y-%m-%d").tolist() == ["2000-01-01", "2024-02-29", "2024-03-01"]


@pytest.mark.parametrize("written", ["5/3/2021", "03-05-2021", "2021-02-30", "2021-13-01", "2021",
                                     2021, "0021-03-05", "昨天", "2021年3月", True])
def test_to_date_reports_what_it_cannot_read(written):
    got, bad = values.to_date(pd.Series([written, "", None], dtype=object))
    assert got.isna().all()
    assert bad.tolist() == [True, False, False]  # blanks are missing, not unreadable


def test_to_date_keeps_datetime_columns_and_drops_the_time():
    s = pd.Series(pd.to_datetime(["2021-03-05 23:59", None]), index=[2, 1])
    got, bad = values.to_date(s)
    assert got.tolist()[0] == pd.Timestamp("2021-03-05") and pd.isna(got.iloc[1])
    assert not bad.any() and got.index.tolist() == [2, 1]


def test_dates_added_to_a_layer_are_read_alike():
    import geopandas as gpd
    import shapely

    from gcgeo import layers

    df = gpd.GeoDataFrame({"last_inspection": ["2021年3月5日", 44260, "5/3/2021", None]},
                          geometry=[shapely.Point(0, 0)] * 4, crs="EPSG:4547")
    out, bad = layers.coerce_columns(df, "manholes")
    assert out["last_inspection"].tolist()[:2] == ["2021-03-05", "2021-03-05"]
    assert bad["last_inspection"].tolist() == [False, False, True, False]
    assert out["last_inspection_raw"].tolist()[2] == "5/3/2021"  # kept, and reported by validate


@given(st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=True),
                 st.sampled_from(sorted(TRUE_WORDS | FALSE_WORDS) + [" Yes ", "NO", "1.0", "maybe", "", " "]),
                 st.text(max_size=4)))
def test_one_value_reads_as_its_column_of_one_would(value):
    """``is_yes`` answers the common words and flags at once: the same as ``to_bool`` reading
    the value alone, blanks and unreadable values as no."""
    alone = to_bool(pd.Series([value], dtype=object))[0].fillna(False).iloc[0]
    assert is_yes(value) is bool(alone)
