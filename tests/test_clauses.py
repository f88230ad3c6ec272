"""The rules' clauses on Chinese pages: no English left but codes.

Every clause of the built-in rules files (read from the files, so a clause
added tomorrow is checked too) is shown in Chinese through
:func:`gcgeo.clauses.clause_text`.  What may stay in Latin letters is
computed from the clause itself: the prefixes of the standard codes it cites
(``GB 50180-2018``, ``CJJ 27-2012``), acronyms written in capitals (DEM, OSM),
the program's name, and data codes — names with an underscore
(``height_m``), words in quotes (``'public'``), OpenStreetMap tags
(``leisure=pitch / track``) and rule keys in a dotted path
(``service.gate_spacing``).  Any other run of three or more Latin letters is
an English word a county's staff would read.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import gcgeo
from gcgeo import kml
from gcgeo.clauses import clause_parts, clause_text
from gcgeo.labels import format_value
from gcgeo.score import labels as score_labels

RULES = Path(gcgeo.__file__).parent / "rules"
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _clauses(node, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "clause" and isinstance(v, str):
                out.add(v)
            else:
                _clauses(v, out)
    elif isinstance(node, list):
        for v in node:
            _clauses(v, out)
    return out


def _keys(node, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            out.add(str(k))
            _keys(v, out)
    return out


def builtin() -> dict[str, set[str]]:
    """Rules file name → the clauses it holds."""
    return {p.name: _clauses(tomllib.loads(p.read_text(encoding="utf-8")), set()) for p in sorted(RULES.glob("*.toml"))}


def rule_keys() -> set[str]:
    keys: set[str] = set()
    for p in RULES.glob("*.toml"):
        keys |= _keys(tomllib.loads(p.read_text(encoding="utf-8")), set())
    return keys | {p.stem for p in RULES.glob("*.toml")}


def allowed(clause: str, keys: set[str]) -> set[str]:
    """The Latin words the Chinese of ``clause`` may keep: codes, computed from the clause."""
    ok = {"gcgeo"}
    ok |= set(re.findall(r"\b([A-Z]{2,4})(?:/T)? \d", clause))  # GB 50180-2018, CJJ 27-2012, GB/T 51168
    ok |= set(re.findall(r"\b[A-Z]{2,}\b", clause))  # acronyms: DEM, OSM
    ok |= {w for w in _WORD.findall(clause) if "_" in w}  # column and rule names: height_m
    ok |= set(re.findall(r"'(\w+)'", clause))  # a quoted column: 'public'
    for tag in re.findall(r"\w+=\w+(?: / \w+)*", clause):  # OSM tags: leisure=pitch / track
        ok |= set(_WORD.findall(tag))
    for path in re.findall(r"\w+(?:\.\w+)+", clause):  # a rule's dotted key: service.gate_spacing
        words = set(_WORD.findall(path))
        if words <= keys:
            ok |= words
    return ok


def english_left(zh: str, clause: str, keys: set[str]) -> list[str]:
    """The words of ``zh`` with three or more Latin letters that are no code of ``clause``."""
    ok = allowed(clause, keys)
    return [w for w in _WORD.findall(zh) if re.search(r"[A-Za-z]{3}", w) and w not in ok]


def test_every_builtin_clause_reads_in_chinese():
    keys = rule_keys()
    files = builtin()
    assert sum(map(len, files.values())) > 100  # the scan found the rules' clauses
    bad = {}
    for name, clauses in files.items():
        for c in sorted(clauses):
            zh = clause_text(c, "zh")
            left = english_left(zh, c, keys)
            if left or re.search(r"§|\be\.g\.|\bed\.", zh):
                bad[(name, c)] = (zh, left)
    assert not bad, "\n".join(f"{n}: {c!r}\n  -> {zh!r} {left}" for (n, c), (zh, left) in bad.items())


def test_the_check_finds_an_untranslated_clause():
    keys = rule_keys()
    # an English clause without its translation fails; its codes alone do not
    lamp = "typical lamp post"
    assert english_left(clause_text(lamp, "zh"), lamp, keys) == ["typical", "lamp", "post"]
    new = "GB 50180-2018 §4.0.4 (a new note); gcgeo convention: kinds of `park_tier` counted"
    assert english_left(clause_text(new, "zh"), new, keys) == ["new", "note", "kinds", "counted"]
    assert english_left("GB 50180-2018 第4.0.4条；gcgeo约定：height_m为高度", "gcgeo: height_m", keys) == []


def test_english_pages_show_the_clause_as_written():
    for clauses in builtin().values():
        for c in clauses:
            assert clause_text(c, "en") == c
            assert format_value(c, "clause", "en") == c and score_labels.value("clause", c, "en") == c


@pytest.mark.parametrize("clause, zh", [
    ("GB 50180-2018 Appendix B (5-minute table: 社区商业网点 — 超市、药店、洗衣店、美发店等)",
     "GB 50180-2018 附录B（五分钟生活圈居住区配套设施表：社区商业网点 — 超市、药店、洗衣店、美发店等）"),
    ("GB 50180-2018 Appendix B (15- and 10-minute table: 初中, 15-minute)",
     "GB 50180-2018 附录B（十五分钟、十分钟生活圈居住区配套设施表：初中，十五分钟生活圈）"),
    ("GB 50016-2014 (2018 ed.) §7.1.8 (1): 车道的净宽度和净空高度均不应小于4.0m",
     "GB 50016-2014（2018年版）第7.1.8条第1款：车道的净宽度和净空高度均不应小于4.0m"),
    ("GB 50180-2018 §2.0.3 / Table 3.0.4 (10-minute living circle, walking distance 500 m)",
     "GB 50180-2018 第2.0.3条／表3.0.4（十分钟生活圈居住区，步行距离500 m）"),
    ("GB 50180-2018 §4.0.4 (15-minute tier park ≥ 80 m wide)",
     "GB 50180-2018 第4.0.4条（十五分钟生活圈居住区公园宽度 ≥ 80 m）"),
    ("GB 50180-2018 Table 4.0.9: effective sunlight hours on 大寒日 8:00–16:00",
     "GB 50180-2018 表4.0.9：大寒日有效日照时间带8:00–16:00"),
    ("山东省绿色社区创建标准（试行） criterion 8: 停车有序，无占用消防、救护等生命通道",
     "山东省绿色社区创建标准（试行）第8项：停车有序，无占用消防、救护等生命通道"),
    ("一盖一编号 (practice; provincial notices of 2021: 建立健全窨井盖管理档案)",
     "一盖一编号（实践做法；2021年省级通知：建立健全窨井盖管理档案）"),
    ("local policy (no national or Shandong figure found); e.g. 广西《标准》：服务半径不宜大于200米",
     "地方政策（未查得国家或山东省数值）；例如广西《标准》：服务半径不宜大于200米"),
    ("no standard figure; drawing setting", "无规范性数值；绘图设置"),
    ("gcgeo convention: attached green (附属绿地, such as 宅旁绿地) beside buildings is not concentrated green",
     "gcgeo约定：建筑旁的附属绿地（如宅旁绿地）不计为集中绿地"),
    ("typical bollard", "常见阻车桩"),
    ("GB 50180-93 §7.0.2.3 (new areas ≥ 30%); GB 50180-2018 Table 4.0.2 values not retrieved",
     "GB 50180-93 第7.0.2.3条（新区建设 ≥ 30%）；GB 50180-2018 表4.0.2数值未查得"),
    # what is Chinese already stays as it is
    ("山东省绿色社区创建标准（试行）第12项：物业管理覆盖面不低于30%",
     "山东省绿色社区创建标准（试行）第12项：物业管理覆盖面不低于30%"),
])
def test_hand_checked_translations(clause, zh):
    assert clause_text(clause, "zh") == zh


def test_the_scorecards_joined_clauses_part_by_part():
    joined = "GB 50180-2018 §4.0.7 (concentrated green at least 8 m wide); gcgeo convention: any public green " \
             "space counts for the 300 m radius; a clause no table knows"
    assert clause_parts(joined)[1].startswith("gcgeo convention") and len(clause_parts(joined)) == 3
    assert clause_text(joined, "zh") == ("GB 50180-2018 第4.0.7条（集中绿地宽度不小于8 m）；"
                                         "gcgeo约定：任何公共绿地均计入300 m服务半径；a clause no table knows")


def test_tables_maps_exports_and_placemarks_show_the_chinese():
    clause = "GB 50016-2014 (2018 ed.) §7.1.8 (1): 车道的净宽度和净空高度均不应小于4.0m"
    zh = clause_text(clause, "zh")
    assert zh != clause
    # map popups, report cells and CLI tables (format_value); the scorecard's pages and Excel export
    assert format_value(clause, "clause", "zh") == zh and format_value("", "clause", "zh") is None
    shown = score_labels.frame(pd.DataFrame({"criterion": [8], "clause": [clause]}), "zh")
    assert shown[score_labels.column("clause", "zh")].tolist() == [zh]
    # KML placemarks of findings
    findings = gpd.GeoDataFrame({"kind": ["too_narrow"], "measured": [3.2], "required": [4.0], "unit": ["m"],
                                 "clause": [clause]}, geometry=[Point(0, 0)], crs=4547)
    for lang, want in (("zh", zh), ("en", clause)):
        out, _, desc = kml.placemark_fields(findings, lang=lang)
        assert want in out[desc].iloc[0]


def test_reasons_in_popups_and_exports_show_the_chinese():
    """The analyses' ``<rule>_reason`` columns, written in English, read in Chinese wherever
    a Chinese page or export shows them (the same sentences as the report's)."""
    why = ("3 of 31 residential building(s) farther than 70 m walk from a sorting point "
           "(90% served, 100% required)")
    zh = "31栋住宅楼中有3栋步行70米内无垃圾分类投放点（覆盖90%，要求100%）"
    assert format_value(why, "sorting_coverage_reason", "zh") == zh
    assert format_value(why, "sorting_coverage_reason", "en") == why
    assert format_value(" ", "min_share_reason", "zh") is None
    shown = score_labels.frame(pd.DataFrame({"criterion": [5], "reason": [why]}), "zh")
    assert shown[score_labels.column("reason", "zh")].tolist() == [zh]
