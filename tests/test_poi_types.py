"""Facilities from Amap (高德) and Baidu POI exports: types → living-circle categories."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gcgeo import crs as C
from gcgeo import rules
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.layers.facilities import poi_categories

# Amap Web API fields as exports carry them; the expected categories follow
# the meaning of each type (None: no living-circle category → "other", warned)
AMAP = [
    ("芳村花园幼儿园", "科教文化服务;学校;幼儿园", "141204", "kindergarten"),
    ("中山路小学", "科教文化服务;学校;小学", "141203", "primary_school"),
    ("中健大药房", "医疗保健服务;医药保健销售店;药房", "090601", "pharmacy"),
    # several types: the first that maps decides
    ("好邻居", "购物服务;便民商店/便利店;便民商店/便利店|购物服务;超级市场;超市", "060200|060400",
     "supermarket"),
    ("伊然美发", "生活服务;美容美发店;美容美发店", "071100", None),
    ("鸿运美发", "生活服务;美容美发店;美容美发店", "071100", None),
    ("洁净洗衣", "生活服务;洗衣店;洗衣店", "071400", None),
]


def _amap_csv(path, rows=AMAP):
    lon = 116.23 + np.arange(len(rows)) * 1e-3
    glon, glat = C.wgs84_to_gcj02(lon, np.full(len(rows), 36.87))
    pd.DataFrame({"name": [r[0] for r in rows], "type": [r[1] for r in rows],
                  "typecode": [r[2] for r in rows], "location": "", "lng": glon, "lat": glat}
                 ).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_amap_types_and_codes_map_to_categories(caplog):
    df = pd.DataFrame({"name": [r[0] for r in AMAP], "type": [r[1] for r in AMAP],
                       "typecode": [r[2] for r in AMAP]})
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        out = poi_categories(df, source="pois.csv")
    assert out["category"].tolist() == [r[3] or "other" for r in AMAP]
    assert out["subtype"].tolist() == [r[1] for r in AMAP]
    assert df.columns.tolist() == ["name", "type", "typecode"]  # the caller's frame untouched
    msg = caplog.text
    assert "pois.csv: 3 POI(s) of 2 type(s)" in msg
    assert "生活服务;美容美发店;美容美发店 (2); 生活服务;洗衣店;洗衣店 (1)" in msg
    assert "[poi_types.amap_type]" in msg and "--rules" in msg


def test_codes_alone_and_code_wins_over_name():
    df = pd.DataFrame({"typecode": ["141204", "090601", "141203", "999999", None]})
    assert poi_categories(df)["category"].tolist() == [
        "kindergarten", "pharmacy", "primary_school", "other", "other"]
    # a code of Amap's 中类 (last two digits 00) maps every 小类 under it once the table has it
    r = {"poi_types": {"amap_typecode": {"090600": "pharmacy"}}}
    assert poi_categories(pd.DataFrame({"typecode": ["090602"]}), rules=r)["category"].tolist() == ["pharmacy"]


def test_baidu_tags_and_chinese_headers():
    df = pd.DataFrame({"名称": ["育英幼儿园", "老百姓大药房", "某公司"],
                       "标签": ["教育培训;幼儿园", "医疗;药店", "公司企业;公司"]})
    out = poi_categories(df)
    assert out["category"].tolist() == ["kindergarten", "pharmacy", "other"]
    # 类型 (an alias of category) holding Amap types is read as the Amap type
    df = pd.DataFrame({"类型": ["科教文化服务;学校;幼儿园"]})
    out = poi_categories(df)
    assert out["category"].tolist() == ["kindergarten"] and "poi_类型" in out.columns


def test_frames_with_a_category_are_left_alone():
    df = pd.DataFrame({"类别": ["幼儿园"], "type": ["生活服务;洗衣店;洗衣店"]})
    assert poi_categories(df) is df
    df = pd.DataFrame({"kind": ["幼儿园"], "type": ["x"]})
    assert poi_categories(df, {"kind": "category"}) is df
    df = pd.DataFrame({"name": ["a"]})
    assert poi_categories(df) is df


def test_user_rules_extend_the_table(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[poi_types.amap_type]\n"生活服务;美容美发店" = "other"\n'
                 '"生活服务;洗衣店;洗衣店" = "supermarket"\n', encoding="utf-8")
    r = rules.load("poi_types", f)
    assert r["amap_type"]["科教文化服务;学校;幼儿园"] == "kindergarten"  # built-ins kept
    df = pd.DataFrame({"type": ["生活服务;洗衣店;洗衣店", "科教文化服务;学校;幼儿园"]})
    assert poi_categories(df, rules=f)["category"].tolist() == ["supermarket", "kindergarten"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[poi_types.amap_typ]\n"x" = "other"\n', encoding="utf-8")
    with pytest.raises(rules.RulesError, match="amap_type"):
        rules.load("poi_types", bad)


@pytest.fixture
def gcgeo_logging():
    """The CLI configures the gcgeo logger; put it back for the tests after."""
    log = logging.getLogger("gcgeo")
    saved = (log.handlers[:], log.level, log.propagate)
    yield
    log.handlers[:], log.level, log.propagate = saved[0], saved[1], saved[2]


def test_cli_add_reads_an_amap_export(tmp_path, gcgeo_logging):
    w = tmp_path / "w.gpkg"
    ws.init(w, name="高唐县")
    csv = _amap_csv(tmp_path / "pois.csv")
    runner = CliRunner()
    res = runner.invoke(main, ["add", str(w), "facilities", str(csv), "--src-crs", "gcj02"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "7 features" in res.output
    fac = ws.read_layer(w, "facilities")
    assert fac["category"].tolist() == [r[3] or "other" for r in AMAP]
    text = " ".join(res.output.split())  # the warning, as the planner sees it
    assert "生活服务;美容美发店;美容美发店 (2)" in text and "[poi_types.amap_type]" in text
    # with a rules file the unmapped types are mapped
    mine = tmp_path / "mine.toml"
    mine.write_text('[poi_types.amap_typecode]\n"071100" = "other"\n"071400" = "supermarket"\n',
                    encoding="utf-8")
    res = runner.invoke(main, ["add", str(w), "facilities", str(csv), "--src-crs", "gcj02",
                               "--rules", str(mine), "--overwrite"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert ws.read_layer(w, "facilities")["category"].tolist()[-1] == "supermarket"
