"""The report's headline figures say what a planner can act on."""

from __future__ import annotations

import pandas as pd

from gcgeo import headlines


def test_gaps_are_counted_in_homes_not_in_home_tier_pairs():
    gaps = pd.DataFrame({"origin_id": [1, 1, 1, 2, 3],
                         "category": ["kindergarten"] * 3 + ["kindergarten", "pharmacy"],
                         "tier": ["5min", "10min", "15min", "5min", "10min"]})
    rows = dict(headlines.living_circle({"lc_gaps": gaps}, "en"))
    text = rows["Homes lacking a facility of the category"]
    assert "Kindergarten 2" in text  # homes 1 and 2, not 4 rows
    assert "harmacy 1" in text
    zh = dict(headlines.living_circle({"lc_gaps": gaps}, "zh"))
    assert "幼儿园 2" in zh["缺少该类设施的居住点数"]


def test_placeholder_population_and_codes_are_said_in_words():
    org = pd.DataFrame({"pop_source": ["one per building"] * 3})
    zh = dict(headlines.living_circle({"lc_origins": org}, "zh"))
    assert "占位" in zh["人口来源"] and "one per building" not in zh["人口来源"]
    fc = pd.DataFrame({"criterion8": ["pass", "fail", "pass"], "lanes_km": [0.2, 0.3, 0.1]})
    zh = dict(headlines.fire_lanes({"fire_communities": fc}, "zh"))
    assert zh["第8项（消防通道）"] == "达标 2 个，未达标 1 个"
    en = dict(headlines.fire_lanes({"fire_communities": fc}, "en"))
    assert en["Criterion 8 (fire lanes)"] == "pass 2, fail 1"
