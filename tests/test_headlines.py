"""The report's headline figures say what a planner can act on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gcgeo import headlines


def _lc(pop_source="given", population=(10.0, 20.0, 30.0, 40.0)):
    """Four homes; a kindergarten required within 300 m is 100, 400, beyond the cutoff and
    250 m away; the data have no pharmacy."""
    org = pd.DataFrame({
        "origin_id": [0, 1, 2, 3], "population": list(population), "pop_source": pop_source,
        "dist_kindergarten_m": [100.0, 400.0, np.nan, 250.0],
        "dist_pharmacy_m": np.nan,
        "all_within_5min": [False] * 4, "in_data_within_5min": [True, False, False, True]})
    cats = pd.DataFrame({"category": ["kindergarten", "pharmacy"], "tier": ["5min", "5min"],
                         "required_m": [300.0, 300.0], "facilities": [2, 0],
                         "status": ["ok", "no facility"]})
    # a gaps table with a row per home and tier would say 6: it is not read
    gaps = pd.DataFrame({"origin_id": [1, 1, 1, 2, 2, 2], "category": ["kindergarten"] * 6})
    return {"lc_origins": org, "lc_categories": cats, "lc_gaps": gaps}


def test_homes_and_residents_lacking_each_category_within_its_distance():
    rows = dict(headlines.living_circle(_lc(), "en"))
    # homes 1 (400 m) and 2 (none within the cutoff): 20 + 30 residents
    assert rows["Kindergarten: homes with none within 300 m"] == "2 homes, 50 residents"
    assert rows["Homes"] == "4" and rows["Residents"] == "100"
    # a category with no facility in the data is its own headline, not 4 homes lacking it
    assert rows["Pharmacy"].startswith("No facility of this kind in the data")
    assert not any(k.startswith("Pharmacy:") for k in rows)
    strict = [v for k, v in rows.items() if k.startswith("Share of residents with") and "found in" not in k]
    in_data = [v for k, v in rows.items()
               if k.startswith("Share of residents") and k.endswith("(only the categories found in the data)")]
    assert strict == ["0.0%"] and in_data == ["50.0%"]  # homes 0 and 3: (10 + 40) / 100
    # the kindergarten (the one category in the data) is within 300 m of homes 0 and 3
    assert rows[next(k for k in rows if k.startswith("Facility categories within"))] == "0.5 of 1 (2 required)"
    # an average over residents, and said so: with 140 residents in home 3, (10 + 140) / 200
    rows = dict(headlines.living_circle(_lc(population=(10.0, 20.0, 30.0, 140.0)), "en"))
    label = next(k for k in rows if k.startswith("Facility categories within"))
    assert rows[label] == "0.8 of 1 (2 required)" and "per resident on average" in label
    zh = dict(headlines.living_circle(_lc(population=(10.0, 20.0, 30.0, 140.0)), "zh"))
    assert zh[next(k for k in zh if "可达的设施类别" in k)] == "0.8 / 1（要求 2 类）"
    assert next(k for k in zh if "可达的设施类别" in k).startswith("居民")
    zh = dict(headlines.living_circle(_lc(), "zh"))
    assert zh["幼儿园：300 米内没有的居住点"] == "2 个居住点，居民 50 人"
    assert zh["药店"].startswith("数据中没有此类设施")


def test_placeholder_population_is_said_to_be_homes():
    rows = dict(headlines.living_circle(_lc("one per building", (1.0,) * 4), "en"))
    assert rows["Kindergarten: homes with none within 300 m"] == "2 homes"
    assert rows["Residents"].startswith("not known")
    shares = {k: v for k, v in rows.items() if k.startswith("Share of")}
    assert len(shares) == 2 and all(k.startswith("Share of homes with") for k in shares)
    assert sorted(shares.values()) == ["0.0%", "50.0%"]  # homes 0 and 3 of 4
    zh = dict(headlines.living_circle(_lc("one per building", (1.0,) * 4), "zh"))
    assert zh["幼儿园：300 米内没有的居住点"] == "2 个居住点" and zh["居民数"].startswith("未知")
    assert zh["人口来源"] == "每栋按1人计（占位） 4 个居住点"
    assert rows["Population source"] == "one per building (placeholder): 4 home(s)"


def test_placeholder_population_and_codes_are_said_in_words():
    org = pd.DataFrame({"pop_source": ["one per building"] * 3})
    zh = dict(headlines.living_circle({"lc_origins": org}, "zh"))
    assert "占位" in zh["人口来源"] and "one per building" not in zh["人口来源"]
    fc = pd.DataFrame({"criterion8": ["pass", "fail", "pass"], "lanes_km": [0.2, 0.3, 0.1]})
    zh = dict(headlines.fire_lanes({"fire_communities": fc}, "zh"))
    assert zh["第8项（消防通道）"] == "达标 2 个，未达标 1 个"
    en = dict(headlines.fire_lanes({"fire_communities": fc}, "en"))
    assert en["Criterion 8 (fire lanes)"] == "pass 2, fail 1"


def test_isochrones_not_drawn_are_said_so_with_the_command_that_draws_them():
    import geopandas as gpd
    import shapely

    none = gpd.GeoDataFrame({"tier": pd.Series(dtype=str)}, geometry=[], crs=4548)
    rows = dict(headlines.living_circle({**_lc(), "lc_isochrones": none}, "en"))
    assert rows["Walking isochrones"] == ("not drawn (drawn on request: gcgeo analyze WS "
                                          "living-circle --isochrones community)")
    assert "未绘制" in dict(headlines.living_circle({**_lc(), "lc_isochrones": none}, "zh"))["步行等时圈"]
    drawn = gpd.GeoDataFrame({"tier": ["5min"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548)
    for out in ({**_lc(), "lc_isochrones": drawn}, _lc()):  # drawn, or not read
        assert "Walking isochrones" not in dict(headlines.living_circle(out, "en"))
