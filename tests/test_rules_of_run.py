"""The thresholds shown beside stored results are those the run used, cited as what they are.

The synthetic county is analysed through the command line with a rules file of
the county's own figures (no clause given), then scored, its dossier and its
report written.  By construction every place showing those results — the
scorecard's threshold and clause, the dossier, the report's "rules used" table
of each analysis — shows the file's figures, each cited as the file's local rule
in place of the built-in clause (``gcgeo.rules.local_clause``), never the
built-in figure or the built-in clause alone.  A recorded rules file that is
gone is said to be gone, not replaced by the built-in rules.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from click.testing import CliRunner

from gcgeo import RulesError, rules
from gcgeo import workspace as ws
from gcgeo.analysis import descriptors
from gcgeo.clauses import clause_text
from gcgeo.cli import main
from gcgeo.testing import synthetic_county

pytestmark = pytest.mark.slow

#: The county's own figures, none of them a built-in one (checked below).
GREEN_NEW, GREEN_OLD, MAX_WALK, TIER, SHARE = 0.094, 0.057, 300, 2000, 0.8517
RULES_FILE = f"""# the county's figures, agreed with the county office (no clause cited)
[green.green_ratio.new]
value = {GREEN_NEW}
[green.green_ratio.old]
value = {GREEN_OLD}
[garbage.max_walk]
value = {MAX_WALK}
[living_circle.tiers.5min]
value = {TIER}
[living_circle.tiers.10min]
value = {TIER}
[living_circle.tiers.15min]
value = {TIER}
[living_circle.min_share_complete]
value = {SHARE}
"""


def _cli(*args):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, (args, res.output)
    return res.output


class _Rows(HTMLParser):
    """The rows of every table of a page: the text of each cell, white space collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _rows(page: str) -> list[list[str]]:
    p = _Rows()
    p.feed(page)
    return p.rows


def _section(page: str, name: str) -> str:
    """An analysis's section of the report: from its heading to the next one."""
    start = page.index(f"<h2 id='{name}'>")
    end = page.find("<h2 ", start + 1)
    return page[start:end if end > 0 else len(page)]


def _rules_used(section: str) -> list[list[str]]:
    """The rows of a section's table of the rules the analysis used (the folded one)."""
    m = re.search(r"<details>.*?</details>", section, flags=re.S)
    return _rows(m.group(0))[1:] if m else []


def _local(name: str, dotted: str) -> str:
    """The clause a figure of the rules file is cited with: the file's local rule, replacing the
    built-in clause (the form gcgeo.rules documents), in English as stored."""
    built = rules.threshold(rules.load(name), dotted)["clause"]
    return f"local rule of rules file county.toml (replacing: {built})"


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """The county analysed (green, garbage, living circle) with the rules file, scored; its
    dossiers and report written."""
    folder = tmp_path_factory.mktemp("rules_of_run")
    c = synthetic_county(0)
    path = folder / "county.gpkg"
    ws.init(path, name="高唐县", crs=c.crs.to_string())
    for kind, frame in c.layers.items():
        ws.add_layer(path, kind, frame)
    mine = folder / "county.toml"
    mine.write_text(RULES_FILE, encoding="utf-8")
    for name in ("green", "garbage", "living_circle"):
        _cli("analyze", path, name, "--rules", mine)
    _cli("score", path)
    _cli("dossier", path, *sorted(c.truth["communities"]), "-o", folder / "dossiers", "--no-pdf")
    _cli("report", path, "-o", folder / "report.html")
    return {"path": path, "rules": mine, "folder": folder, "truth": c.truth}


def test_the_figures_are_the_countys_own():
    """The test's premise: every figure of the file differs from the built-in one."""
    g, lc = rules.load("green"), rules.load("living_circle")
    assert (GREEN_NEW, GREEN_OLD) != (g["green_ratio"]["new"]["value"], g["green_ratio"]["old"]["value"])
    assert MAX_WALK != rules.load("garbage")["max_walk"]["value"]
    assert TIER not in {t["value"] for t in lc["tiers"].values()}
    assert SHARE != lc["min_share_complete"]["value"]


def test_the_scorecard_holds_communities_to_the_files_figures_cited_as_its_local_rules(county):
    card = ws.read_layer(county["path"], "scorecard")
    card["criterion"] = pd.to_numeric(card["criterion"])
    comm = county["truth"]["communities"]
    seven = card[card["criterion"] == 7].set_index("community_id")
    assert len(seven) == len(comm)
    for cid, truth in comm.items():
        old = truth["old_estate"]
        assert seven.loc[cid, "threshold"] == f"{(GREEN_OLD if old else GREEN_NEW) * 100:.1f}%"
        assert seven.loc[cid, "clause"] == _local("green", "green_ratio.old" if old else "green_ratio.new")
    five = card[card["criterion"] == 5]
    g = rules.load("garbage")
    assert set(five["threshold"]) == {f"≤ {MAX_WALK} m; ≥ {g['min_share']['value'] * 100:g}%"}
    assert set(five["clause"]) == {f"{_local('garbage', 'max_walk')}; {g['min_share']['clause']}"}
    ten = card[card["criterion"] == 10]
    assert set(ten["threshold"]) == {f"≥ {SHARE * 100:g}%"}
    assert set(ten["clause"]) == {_local("living_circle", "min_share_complete")}


def test_the_dossier_shows_the_files_figure_beside_its_local_rule(county):
    comm = county["truth"]["communities"]
    for cid, truth in comm.items():
        page = (county["folder"] / "dossiers" / f"{cid}.html").read_text(encoding="utf-8")
        row = next(r for r in _rows(page) if r and r[0] == "7")
        old = truth["old_estate"]
        local = _local("green", "green_ratio.old" if old else "green_ratio.new")
        assert f"{(GREEN_OLD if old else GREEN_NEW) * 100:.1f}%" in row
        assert clause_text(local, "zh") in row
        built = rules.load("green")["green_ratio"]["old" if old else "new"]["clause"]
        assert clause_text(built, "zh") not in row  # the built-in clause never stands alone
        # the Chinese names the file and says what it replaces
        assert clause_text(local, "zh").startswith("规则文件 county.toml 中的地方规定（替代：GB 50180-93")


def test_the_reports_rules_used_are_the_runs(county):
    page = (county["folder"] / "report.html").read_text(encoding="utf-8")
    green = _rules_used(_section(page, "green"))
    assert [f"{GREEN_NEW * 100:g}%", clause_text(_local("green", "green_ratio.new"), "zh")] in green
    assert [f"{GREEN_OLD * 100:g}%", clause_text(_local("green", "green_ratio.old"), "zh")] in green
    assert not [r for r in green if r[0] in ("30%", "25%")]  # the built-in green ratios are not what ran
    circle = _rules_used(_section(page, "living_circle"))
    for tier in ("5min", "10min", "15min"):
        assert [f"{TIER} m", clause_text(_local("living_circle", f"tiers.{tier}"), "zh")] in circle
    assert [f"{SHARE * 100:g}%", clause_text(_local("living_circle", "min_share_complete"), "zh")] in circle
    built = {t["value"] for t in rules.load("living_circle")["tiers"].values()}
    assert not [r for r in circle if r[0] in {f"{v} m" for v in built} | {"100%"}]
    garbage = _rules_used(_section(page, "garbage"))
    assert [f"{MAX_WALK} m", clause_text(_local("garbage", "max_walk"), "zh")] in garbage
    assert not [r for r in garbage if r[0] == "70 m"]
    # the figures the section shows and the table agree
    assert f"≥ {SHARE * 100:g}%" in html.unescape(_section(page, "living_circle"))


def test_a_rules_file_gone_is_said_to_be_gone_not_replaced_by_the_built_in_rules(county, tmp_path):
    from gcgeo.pipeline import run_rules
    from gcgeo.report import write_report
    from gcgeo.score import criteria
    from gcgeo.score.measured import measure

    mine = county["rules"]
    assert rules.value(run_rules(county["path"], "garbage")["garbage"], "max_walk") == MAX_WALK
    meta = ws.info(county["path"])
    moved = mine.with_name("moved.toml")
    mine.rename(moved)
    try:
        with pytest.raises(RulesError, match=re.escape(f"rules file {mine.resolve()} ") + ".*is gone"):
            run_rules(county["path"], "garbage")
        layers = ws.read_layers(county["path"])
        out = tmp_path / "report.html"
        write_report(layers, out, title="高唐县", metadata=meta, lang="zh")
        section = _section(out.read_text(encoding="utf-8"), "garbage")
        assert _rules_used(section) == []
        said = html.unescape(section)
        label = descriptors()["garbage"].label_zh
        assert f"“{label}”分析运行时所用的规则文件 {mine.resolve()} 已不存在" in said
        assert not [r for r in _rows(section) if "70 m" in r]  # no built-in figure in its place
        # the scorecard's evidence, had it not known the results stale: no clause, and why
        standard = criteria.load()
        ids = sorted(county["truth"]["communities"])
        evidence = measure(layers, meta, ids, criteria.measuring(), standard, stale={}, lang="en")
        five = [e for e in evidence[(ids[0], 5)] if e.analysis == "garbage"]
        assert five and all(e.clause == "" and e.threshold == "" for e in five)
        assert all(f"the rules file {mine.resolve()} that the garbage analysis ran with is gone" in e.reason
                   for e in five)
    finally:
        moved.rename(mine)
