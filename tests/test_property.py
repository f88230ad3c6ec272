"""Property management (criterion 12): hand-computed shares, the synthetic county, the command."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gcgeo.analysis import property as prop
from gcgeo.cli import main
from gcgeo.testing import synthetic_county

CRS = "EPSG:4547"


def _comm(flags):
    return gpd.GeoDataFrame({"id": [f"C{i}" for i in range(len(flags))],
                             "name": [f"社区{i}" for i in range(len(flags))],
                             "property_managed": flags},
                            geometry=[shapely.box(i * 1000, 0, i * 1000 + 500, 500)
                                      for i in range(len(flags))], crs=CRS)


def _homes(rows):
    """rows: (community index, households, residents, managed)"""
    return gpd.GeoDataFrame(
        {"use": ["residential"] * len(rows), "households": [r[1] for r in rows],
         "population": [r[2] for r in rows], "property_managed": [r[3] for r in rows]},
        geometry=[shapely.box(c * 1000 + 10 * k, 10, c * 1000 + 10 * k + 8, 18)
                  for k, (c, *_rest) in enumerate(rows)], crs=CRS)


def test_shares_by_households_with_the_community_flag_filling_gaps():
    comm = _comm([True, False, None])
    b = _homes([(0, 10, 30, False), (0, 30, 90, None),   # 30 of 40 managed (gap filled: True)
                (1, 25, 70, True), (1, 75, 200, None),   # 25 of 100 (gap filled: False)
                (2, 50, 100, None)])                       # nothing known
    out = prop.run({"communities": comm, "buildings": b})
    t = out["property_communities"].set_index("community_id")
    assert t.loc["C0", "managed_share"] == pytest.approx(30 / 40)
    assert t.loc["C1", "managed_share"] == pytest.approx(25 / 100)
    assert np.isnan(t.loc["C2", "managed_share"])
    assert t["min_share_status"].tolist() == ["pass", "fail", "unknown"]
    assert t.loc["C2", "min_share_reason"]  # unknown says why
    f = out["property_findings"].set_index("feature_id")
    assert f.loc["C1", "kind"] == "below_share" and f.loc["C2", "kind"] == "management_unknown"
    # a community below the share is a problem; one without a record is a gap in the data,
    # told at the severity every analysis gives missing data
    assert f.loc["C1", "severity"] == "high" and f.loc["C2", "severity"] == "low"
    assert "C0" not in f.index
    assert set(f["clause"]) and all("30%" in c for c in f["clause"])
    from gcgeo.labels import format_value  # the counts show as whole numbers, as counted
    assert format_value(t.loc["C1", "homes_counted"], "homes_counted", "zh") == "100"
    assert format_value(2808.0, "homes_counted", "zh") == "2,808"


def test_residents_then_buildings_when_households_are_missing():
    comm = _comm([None])
    b = _homes([(0, None, 10, True), (0, None, 30, False)])
    t = prop.run({"communities": comm, "buildings": b})["property_communities"]
    assert t["weight_basis"].iloc[0] == "residents" and t["managed_share"].iloc[0] == pytest.approx(0.25)
    b = b.drop(columns="population")
    t = prop.run({"communities": comm, "buildings": b})["property_communities"]
    assert t["weight_basis"].iloc[0] == "buildings" and t["managed_share"].iloc[0] == pytest.approx(0.5)


def test_without_buildings_the_community_flag_decides_and_the_rule_can_be_changed():
    comm = _comm([True, False])
    t = prop.run({"communities": comm})["property_communities"]
    assert t["managed_share"].tolist() == [1.0, 0.0]
    assert t["min_share_status"].tolist() == ["pass", "fail"]
    b = _homes([(0, 10, 30, True), (0, 30, 90, False)])  # 25%
    strict = prop.run({"communities": comm[:1], "buildings": b}, rules={"min_share": 0.2})
    assert strict["property_communities"]["min_share_status"].tolist() == ["pass"]


def test_the_synthetic_county_by_construction():
    county = synthetic_county(seed=0)
    comm = county.layers["communities"]
    out = prop.run(county.layers)["property_communities"]
    want = np.where(comm["property_managed"].astype(bool), "pass", "fail")
    assert out["min_share_status"].tolist() == want.tolist()


def test_the_command_writes_both_layers_and_the_report_shows_them(tmp_path):
    from gcgeo import workspace as ws

    county = synthetic_county(seed=0)
    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    for kind in ("communities", "buildings"):
        ws.add_layer(path, kind, county.layers[kind])
    res = CliRunner().invoke(main, ["analyze", str(path), "property"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "第12项" in res.output  # the column labels of its descriptor, in Chinese
    names = set(ws.list_layers(path)["layer"])
    assert {"property_findings", "property_communities"} <= names
    report = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(path), "-o", str(report)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    html = report.read_text(encoding="utf-8")
    assert "物业管理" in html and "无物业管理" in html  # section, and the finding kind in Chinese
