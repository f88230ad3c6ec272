"""The analysis contract: every descriptor is consistent, and everything is made from it."""

from __future__ import annotations

import sys
import types

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gcgeo import analysis, layers, rules
from gcgeo.analysis.contract import resolve
from gcgeo.cli import main


@pytest.fixture(params=analysis.names())
def desc(request):
    return analysis.get(request.param)


def test_descriptor_names_only_what_exists(desc):
    # one spelling: the module, the command, the registry
    assert desc.name in analysis.REGISTRY and desc.command == desc.name
    assert sys.modules[f"gcgeo.analysis.{desc.name}"].ANALYSIS is desc
    # inputs are layer kinds (a 'turnarounds' input was once declared that no workspace holds)
    assert set(desc.inputs) <= set(layers.KINDS), set(desc.inputs) - set(layers.KINDS)
    assert set(desc.rule_sets) <= set(rules.available())
    for opt in desc.options:
        if opt.rule:  # the rule an option overrides exists, in a rule set the analysis reads
            ruleset, _, key = opt.rule.partition(".")
            assert ruleset in desc.rule_sets, opt.rule
            rules.value(rules.load(ruleset), key)
    for out in desc.outputs:
        assert out.name not in layers.KINDS
        if out.style:
            assert callable(resolve(out.style))
    for view in desc.views:  # its own build function, or its outputs drawn in order
        assert callable(resolve(view.build)) if view.build else view.requires
    if desc.headlines:
        assert callable(resolve(desc.headlines))
    assert all(1 <= c.number <= 16 for c in desc.criteria)
    assert all(c.layer in desc.output_names for c in desc.criteria)


def test_outputs_belong_to_one_analysis():
    seen: dict[str, str] = {}
    for name, d in analysis.descriptors().items():
        for o in d.outputs:
            assert o.name not in seen, f"{o.name} written by {seen.get(o.name)} and {name}"
            seen[o.name] = name


def test_command_line_views_and_report_are_made_from_the_descriptors(desc):
    from gcgeo import maps
    from gcgeo.labels import layer_label
    from gcgeo.report import sections

    res = CliRunner().invoke(main, ["analyze", "ws.gpkg", desc.name, "--help"])
    assert res.exit_code == 0, res.output
    for opt in desc.options:
        assert opt.flag in res.output
    # the old spelling is accepted
    res = CliRunner().invoke(main, ["analyze", "ws.gpkg", desc.name.replace("_", "-"), "--help"])
    assert res.exit_code == 0
    assert sections()[desc.name].outputs == desc.output_names
    if desc.views:
        view = maps.VIEWS[desc.name]
        # outputs with geometry, and styled tables the view draws joined (lc_gaps at its homes)
        drawn = {o.name for o in desc.outputs if o.geometry or o.style}
        assert set(view.requires) <= drawn and view.label("zh") == desc.label_zh
    for o in desc.outputs:
        assert layer_label(o.name, "zh") == o.label_zh


def test_green_view_is_drawn_from_its_sites_alone():
    # the view once required three layers and omitted green_sites, which it draws
    from gcgeo import maps

    assert "green_sites" in maps.VIEWS["green"].requires


def test_options_are_checked_against_their_declaration():
    from gcgeo import InputError

    lc = analysis.get("living_circle")
    for bad, flag in [({"walking_speed": float("inf")}, "--walking-speed"),
                      ({"walking_speed": 0}, "--walking-speed"),
                      ({"snap_tolerance": -1}, "--snap-tolerance"),
                      ({"isochrones": "county"}, "--isochrones"),
                      ({"ndvi_threshold": 0.3}, "--ndvi-threshold")]:
        with pytest.raises(InputError, match=flag):
            lc.check_options(bad)
    assert lc.check_options({"walking_speed": 4.5, "graph": None}) == {"walking_speed": 4.5}
    with pytest.raises(InputError, match="--ndvi-threshold"):
        analysis.get("green").check_options({"ndvi_threshold": 1.5})


def test_bad_option_values_exit_2_naming_the_option(tmp_path):
    from gcgeo import workspace as ws

    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    runner = CliRunner()
    for args, flag in [(["living_circle", "--walking-speed", "inf"], "--walking-speed"),
                       (["living_circle", "--snap-tolerance", "-1"], "--snap-tolerance"),
                       (["fire_lanes", "--station-spacing", "0"], "--station-spacing")]:
        res = runner.invoke(main, ["analyze", str(path), *args])
        assert res.exit_code == 2, res.output
        assert flag in res.output


# --------------------------------------------------------------------------
# adding an analysis: one module and one registry line


def _toy_module() -> types.ModuleType:
    """A whole analysis: counts the facilities inside each community."""
    from gcgeo.analysis import Analysis, Criterion, Option, Output

    mod = types.ModuleType("gcgeo.analysis.toy_count")

    def run(layers, *, rules=None, progress=None, minimum=None):
        comm, fac = layers["communities"], layers["facilities"]
        n = [int(shapely.contains(g, fac.geometry.values).sum()) for g in comm.geometry.values]
        out = gpd.GeoDataFrame({"name": comm["name"], "n_facilities": n}, geometry=comm.geometry.values,
                               crs=comm.crs)
        out["enough"] = out["n_facilities"] >= (minimum or 1)
        return {"toy_communities": out}

    def summary(outputs):
        return pd.DataFrame(outputs["toy_communities"].drop(columns="geometry"))

    mod.run, mod.summary = run, summary
    mod.ANALYSIS = Analysis(
        name="toy_count", label_zh="设施计数", label_en="Facility count", run=run, summary=summary,
        requires=("communities", "facilities"), rule_sets=(),
        outputs=(Output("toy_communities", "社区设施数", "Facilities by community",
                        columns={"n_facilities": ("设施数量", "Facilities inside", "int"),
                                 "enough": ("数量达标", "Enough", "bool")}),),
        options=(Option("minimum", "int", "facilities a community needs", "社区所需设施数", min=0),),
        criteria=(Criterion(4, "toy_communities", "enough", "facilities inside the community"),),
    )
    return mod


def test_a_new_analysis_is_one_module_and_one_registry_line(tmp_path, monkeypatch):
    from gcgeo import workspace as ws
    from gcgeo.labels import column_label
    from gcgeo.report import sections

    monkeypatch.setitem(sys.modules, "gcgeo.analysis.toy_count", _toy_module())
    monkeypatch.setattr(analysis, "REGISTRY", (*analysis.REGISTRY, "toy_count"))
    monkeypatch.setattr(analysis, "_loaded", {})
    column_label.__globals__["analysis_columns"].cache_clear()
    try:
        path = tmp_path / "w.gpkg"
        ws.init(path, name="w", crs="EPSG:32635")
        comm = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[shapely.box(0, 0, 100, 100),
                                                               shapely.box(200, 0, 300, 100)],
                                crs="EPSG:32635")
        fac = gpd.GeoDataFrame({"name": ["x", "y", "z"], "category": ["clinic"] * 3},
                               geometry=shapely.points([(10, 10), (20, 20), (250, 50)]),
                               crs="EPSG:32635")
        ws.add_layer(path, "communities", comm)
        ws.add_layer(path, "facilities", fac)
        res = CliRunner().invoke(main, ["analyze", str(path), "toy_count", "--minimum", "2",
                                        "--lang", "en"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        got = ws.read_layer(path, "toy_communities")
        assert got["n_facilities"].tolist() == [2, 1]  # by construction
        assert got["enough"].tolist() == [True, False]
        assert "Facilities inside" in res.output  # its column labels, from its descriptor
        assert column_label("n_facilities", "zh") == "设施数量"
        assert "toy_count" in sections()
        assert "toy_count" in ws.list_layers(path)["analysis"].tolist()
    finally:
        column_label.__globals__["analysis_columns"].cache_clear()


def test_a_column_means_one_thing_in_every_analysis():
    """Labels are looked up by column name: two analyses labelling one name differently would
    put one analysis's words on the other's figures."""
    from gcgeo.labels import COLUMN_LABELS

    seen: dict[str, tuple[str, tuple[str, str, str]]] = {}
    for name, d in analysis.descriptors().items():
        for o in d.outputs:
            for col, lab in o.columns.items():
                assert col not in COLUMN_LABELS or COLUMN_LABELS[col] == lab, (name, col)
                if col in seen:
                    assert seen[col][1] == lab, f"{col}: {seen[col][0]} and {name} differ"
                seen[col] = (name, lab)


def test_a_date_option_takes_a_day_and_hands_the_analysis_a_date(tmp_path, monkeypatch):
    import datetime

    from gcgeo import InputError
    from gcgeo import workspace as ws
    from gcgeo.analysis import Analysis, Option, Output

    opt = Option("as_of", "date", "the day counted from", "起算日期")
    day = datetime.date(2021, 3, 5)
    assert opt.check("2021-03-05") == day and opt.check(" 2021-03-05 ") == day
    assert opt.check(datetime.datetime(2021, 3, 5, 17, 30)) == day and opt.check(day) == day
    assert opt.check(None) is None
    for bad in ("2021/3/5", "2021-02-30", "yesterday", 20210305):
        with pytest.raises(InputError, match="--as-of .* is not a date; write it as YYYY-MM-DD"):
            opt.check(bad)

    seen = []

    def run(layers, *, rules=None, progress=None, as_of=None):
        seen.append(as_of)
        comm = layers["communities"]
        return {"toy_dates": gpd.GeoDataFrame({"as_of": [str(as_of)] * len(comm)},
                                              geometry=comm.geometry.values, crs=comm.crs)}

    mod = types.ModuleType("gcgeo.analysis.toy_dates")
    mod.ANALYSIS = Analysis(name="toy_dates", label_zh="日期", label_en="Dates", run=run,
                            summary=lambda out: None, requires=("communities",), rule_sets=(),
                            outputs=(Output("toy_dates", "日期", "Dates"),), options=(opt,))
    monkeypatch.setitem(sys.modules, "gcgeo.analysis.toy_dates", mod)
    monkeypatch.setattr(analysis, "REGISTRY", (*analysis.REGISTRY, "toy_dates"))
    monkeypatch.setattr(analysis, "_loaded", {})
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w", crs="EPSG:32635")
    ws.add_layer(path, "communities", gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(0, 0, 9, 9)],
                                                       crs="EPSG:32635"))
    runner = CliRunner()
    res = runner.invoke(main, ["analyze", str(path), "toy_dates", "--as-of", "2021-3-5x"])
    assert res.exit_code == 2 and "--as-of" in res.output and not seen
    res = runner.invoke(main, ["analyze", str(path), "toy_dates", "--as-of", "2021-03-05"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert seen == [day] and type(seen[0]) is datetime.date
    assert ws.read_layer(path, "toy_dates")["as_of"].tolist() == ["2021-03-05"]


def test_a_criterion_measured_in_part_says_what_it_does_not_measure():
    """Each declaration against its criterion's text: only the living circle measures all of its own
    (criterion 10); the others say, in both languages, what is left for the planner's documents."""
    from gcgeo.analysis import Criterion, descriptors

    partial = {(d.name, c.number): c for d in descriptors().values() for c in d.criteria if c.partial}
    whole = {(d.name, c.number) for d in descriptors().values() for c in d.criteria if not c.partial}
    assert whole == {("living_circle", 10)}
    assert set(partial) == {("garbage", 5), ("green", 7), ("manholes", 4), ("chargers", 4), ("chargers", 8),
                            ("fire_lanes", 8), ("ramps", 9), ("property", 12), ("heritage", 16)}
    assert all(c.unmeasured("zh") and c.unmeasured("en") and c.part("zh") and c.part("en")
               for c in partial.values())
    assert "海绵化改造" in partial["garbage", 5].unmeasured("zh") and "道路" in partial["garbage", 5].unmeasured("zh")
    # criterion 7: the green ratio decides, and its text says the other figures do not
    green = partial["green", 7]
    assert green.column == "green_ratio_pass" and green.part("zh") == "绿地率"
    assert "公共活动空间和设施" in green.unmeasured("zh") and "not decided" in green.how_en
    with pytest.raises(ValueError, match="both unmeasured_en and unmeasured_zh"):
        Criterion(5, "x", "y", "z", unmeasured_zh="道路")
    with pytest.raises(ValueError, match="say what is not measured"):
        Criterion(5, "x", "y", "z", part_en="sorting")
