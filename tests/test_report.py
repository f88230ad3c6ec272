"""The report a planner reads: no code left untranslated in Chinese, technical details at the end.

The synthetic county (gcgeo.demo.gaotang: every analysis run and a scorecard
stored) is reported in Chinese and English, with attestations, a second
assessment date and a stale analysis added so that every part of the page is
drawn.  The code vocabulary is collected independently of the report: the
finding kinds and thresholds of the rules files, the living-circle categories
and tiers, the statuses and value codes the analyses write, the scorecard's
codes, the layer specs' allowed values and every ``<rule>_status`` column of
the results.  None of them may appear as a bare word in what a planner sees
of the Chinese report (text, tooltips, alt text); the appendix (rule digests,
run times, layer names) and commands to type (``<code>``) are for technicians
and are left out of the check.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from gcgeo import layers as _layers
from gcgeo import rules
from gcgeo import score as sc
from gcgeo import workspace as ws
from gcgeo.analysis import checks, descriptors
from gcgeo.clauses import clause_text
from gcgeo.labels import VALUE_LABELS
from gcgeo.score import labels as score_labels

pytestmark = pytest.mark.slow

AS_OF = "2022-06-30"


def code_vocabulary(layers) -> set[str]:
    """Every code a report might show: from the rules, the analyses and the results in ``layers``."""
    codes: set[str] = set()
    for name in rules.available():
        r = rules.load(name)
        codes |= {str(k) for k in r.get("labels", {})}  # finding kinds
    lc = rules.load("living_circle")
    codes |= set(lc["categories"]) | set(lc["tiers"])
    codes |= set(rules.load("fire_lanes")["criterion8"]["failing_kinds"])
    score = rules.load("score")
    codes |= set(score["targets"]) | set(score["areas"])
    codes |= set(checks.STATUSES) | set(checks.SEVERITIES)
    for values in VALUE_LABELS.values():
        codes |= set(values)
    for values in score_labels.VALUES.values():
        codes |= {v for v in values if isinstance(v, str)}
    for spec in _layers.SPECS.values():  # inventory codes (manhole kinds, charger kinds…)
        for col in spec.all_columns:
            codes |= {str(v) for v in col.allowed or ()}
    for desc in descriptors().values():
        codes.add(desc.name)
    for name, df in layers.items():
        if name.endswith("_communities"):  # rule keys: every <rule>_status column
            codes |= {c[: -len("_status")] for c in df.columns if c.endswith("_status") and c != "_status"}
    codes |= {"fail", "pass", "incomplete", "no_lanes", "given", "default", "met", "not_met", "attested"}
    return {c for c in codes if c and c.strip()}


class _Visible(HTMLParser):
    """The text a reader sees: element text, tooltips and alt text; not styles, scripts,
    commands (``<code>``) or the appendix."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: hidden?
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        hide = tag in ("style", "script", "code") or a.get("id") == "appendix"
        if tag not in ("br", "img", "meta", "link", "input", "hr", "circle", "line", "polyline"):
            self.stack.append(hide)
            self.hidden += hide
        if not self.hidden:
            self.parts += [a[k] for k in ("title", "alt") if a.get(k)]

    def handle_endtag(self, tag):
        if self.stack and tag not in ("br", "img", "meta", "link", "input", "hr", "circle", "line", "polyline"):
            self.hidden -= self.stack.pop()

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    p = _Visible()
    p.feed(page)
    return "\n".join(p.parts)


def bare_codes(text: str, codes: set[str]) -> dict[str, str]:
    """code → the first line where it stands as a bare word."""
    found = {}
    lines = text.splitlines()
    for code in sorted(codes):
        pat = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])")
        for line in lines:
            if pat.search(line):
                found[code] = line.strip()[:160]
                break
    return found


def build_county(folder: Path) -> Path:
    """The demo's synthetic county, attested for three communities, scored twice, one analysis stale."""
    from gcgeo.demo import gaotang

    path = gaotang(folder / "gaotang")["gaotang workspace"]
    card = sc.score(path, as_of=AS_OF)
    ids = card.communities["community_id"].tolist()
    rows = [{"community_id": c, "criterion": n, "status": "met" if (c, n) != (ids[1], 12) else "not_met",
             "evidence": "会议纪要", "attested_by": "街道办 王某", "date": "2022-03-15"}
            for c in ids[:3] for n in range(1, 17)]
    attest = folder / "attest.csv"
    pd.DataFrame(rows).to_csv(attest, index=False, encoding="utf-8")
    sc.store(path, sc.score(path, attestations=[attest], as_of="2022-01-31"))
    sc.store(path, sc.score(path, attestations=[attest], as_of=AS_OF))
    # a changed input: the fire-lane results are now stale
    ws.write_layers(path, {"obstructions": ws.read_layer(path, "obstructions")}, kind={"obstructions": "obstructions"},
                    overwrite=True)
    return path


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return build_county(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def reports(county):
    from gcgeo.report import report_workspace

    out = {}
    for lang in ("zh", "en"):
        written = report_workspace(county, county.parent / f"report-{lang}.html", lang=lang, overwrite=True)
        out[lang] = written["report"].read_text(encoding="utf-8")
    return out


def test_the_vocabulary_is_what_the_analyses_write(county):
    codes = code_vocabulary(ws.read_layers(county))
    # spot checks that the collection reaches every source
    assert {"no_manager", "too_narrow", "kindergarten", "10min", "end_2021", "not_met", "sorting_coverage",
            "ev_ready", "no_lanes", "given", "pass", "gas", "living_circle"} <= codes


def test_no_code_is_left_bare_in_the_chinese_report(county, reports):
    page = reports["zh"]
    codes = code_vocabulary(ws.read_layers(county))
    text = visible_text(page)
    assert "县域绿色社区创建达标情况" in text and "基础设施清单" in text  # the page was read
    assert bare_codes(text, codes) == {}


def test_the_english_report_shows_no_underscored_code(county, reports):
    codes = {c for c in code_vocabulary(ws.read_layers(county)) if "_" in c}
    text = visible_text(reports["en"])
    assert "The county's answer" in text
    assert bare_codes(text, codes) == {}


def test_technical_details_are_in_the_appendix_at_the_end(county, reports):
    page = reports["zh"]
    start = page.index("id='appendix'")
    digest = re.search(r"[0-9a-f]{64}", page)
    assert digest and digest.start() > start  # rule digests only in the appendix
    assert page.index("analysis:green") > start
    for section in ("id='scorecard'", "id='green'", "id='inventory'"):
        assert page.index(section) < start
    assert "<section id='appendix'><h2>附录：技术信息</h2>" in page


def test_thresholds_and_clauses_beside_the_figures(county, reports):
    page = reports["zh"]
    text = visible_text(page)
    # each inventory check's rule: its threshold and clause stand in its section
    prop = page[page.index("<h2 id='property'>"):page.index("<h2 id='heritage'>")]
    clause = rules.load("property")["min_share"]["clause"]
    assert clause in prop and "≥ 30%" in visible_text(prop)
    fire = page[page.index("<h2 id='fire_lanes'>"):page.index("<h2 id='property'>")]
    assert clause_text(rules.load("fire_lanes")["clear_width"]["clause"], "zh") in fire
    # the scorecard's measured criteria with their thresholds and clauses
    card = ws.read_layer(county, "scorecard")
    measured = card[card["threshold"].astype(str).str.len() > 0]
    for _, r in measured.drop_duplicates("criterion").iterrows():
        assert str(r["threshold"]) in text
    assert "依据条款" in text
    # a check whose rule table has no value of its own is held against the rule set's limits
    g = rules.load("garbage")
    five = card[pd.to_numeric(card["criterion"]) == 5].iloc[0]
    assert five["threshold"] == f"≤ {g['max_walk']['value']:g} m; ≥ {g['min_share']['value'] * 100:g}%"
    assert g["max_walk"]["clause"] in five["clause"] and g["min_share"]["clause"] in five["clause"]


def test_no_english_clause_in_the_chinese_report(reports):
    """The rules' clauses stand in Chinese (gcgeo.clauses): their English notes and citation
    words in none of what a planner reads, the same clauses in the English report as written."""
    zh, en = visible_text(reports["zh"]), visible_text(reports["en"])
    english = re.compile(r"§|\bTable \d|Appendix [A-Z]|-minute|criterion \d|\bed\.\)|provincial notices|"
                         r"\bpractice\b|gcgeo (?:convention|default)|no (?:standard|national) figure|\bsetting\b|"
                         r"living circle|public green|\btier\b|residential|local policy|values not retrieved")
    assert not english.findall(zh), [ln for ln in zh.splitlines() if english.search(ln)][:5]
    assert english.findall(en)  # the English report cites them as the rules do
    assert "表3.0.4（五分钟生活圈居住区，步行距离300 m）" in zh and "表4.0.9：日照标准日" in zh
    assert "（2018年版）第7.1.8条第1款" in zh and "（实践做法；2021年省级通知：" in zh


def test_the_stale_warning_names_analyses_and_inputs_in_words(reports):
    text = visible_text(reports["zh"])
    assert re.search(r"消防车道[^\n]*已修改[^\n]*占用障碍物", text), text[:3000]


def test_progress_over_time_by_assessment_date(county, reports):
    hist = sc.progress(sc.history(county))
    assert {"2022-01-31", AS_OF} <= set(hist["as_of"])
    page = reports["zh"]
    section = page[page.index("id='scorecard'"):page.index("</section>")]
    assert section.count("<circle") == len(hist)
    for d in hist["as_of"]:
        assert f"<td>{d}</td>" in section


def test_rule_units_read_alike_in_the_report_and_the_scorecard():
    """One unit table (labels.UNIT_LABELS) for the report's rules and the scorecard's
    thresholds: the same rule reads the same (written by hand)."""
    from gcgeo.report import _rule_value
    from gcgeo.score.measured import _fmt_threshold

    for t, zh, en in (({"value": 0, "unit": "chargers"}, "0 处", "0 chargers"),
                      ({"value": 2.0, "unit": "h"}, "2 小时", "2 h"),
                      ({"value": 1.5, "unit": "m2/person"}, "1.5 m²/人", "1.5 m²/person")):
        assert _rule_value(t, "zh") == _fmt_threshold(t, "zh") == zh
        assert _rule_value(t, "en") == _fmt_threshold(t, "en") == en
