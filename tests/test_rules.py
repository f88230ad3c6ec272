"""Rules as data: loading, overrides from files and mappings, clauses present."""

from __future__ import annotations

import pytest

from gcgeo import RulesError, rules


def _uncited(node, where):
    """Threshold tables (with a value) below ``node`` lacking a clause or a known status."""
    if isinstance(node, list):
        for i, v in enumerate(node):
            yield from _uncited(v, f"{where}[{i}]")
    elif isinstance(node, dict):
        if "value" in node and not (
            isinstance(node.get("clause"), str) and node["clause"].strip()
            and node.get("status") in {"verified", "secondary", "unverified", "local"}
        ):
            yield where
        for k, v in node.items():
            yield from _uncited(v, f"{where}.{k}")


def test_every_threshold_cites_a_clause_and_a_status():
    assert set(rules.available()) >= {"fire_lanes", "green", "living_circle", "network", "osm_tags"}
    for name in rules.available():
        assert list(_uncited(rules.load(name), name)) == []
    # the check itself: a threshold without a clause, or without a status, is found
    found = list(_uncited({"a": {"value": 1, "status": "local"}, "b": {"value": 2, "clause": "x"},
                           "c": {"value": 3, "clause": " ", "status": "local"},
                           "d": [{"value": 4, "clause": "x", "status": "guessed"}],
                           "e": {"value": 5, "clause": "x", "status": "verified"}}, "t"))
    assert found == ["t.a", "t.b", "t.c", "t.d[0]"]


def test_overrides_from_file_mapping_and_complete_set(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[living_circle.tiers.10min]\nvalue = 450\n[green.ndvi]\nthreshold = 0.25\n',
                 encoding="utf-8")
    r = rules.load("living_circle", f)
    assert rules.value(r, "tiers.10min") == 450
    assert rules.value(r, "tiers.5min") == 300  # the rest kept
    assert rules.value(rules.load("green", f), "ndvi.threshold") == 0.25
    assert rules.value(rules.load("living_circle", {"tiers": {"15min": 800}}), "tiers.15min") == 800
    whole = {"living_circle": {"tiers": {"15min": 800}}}
    assert rules.value(rules.load("living_circle", whole), "tiers.15min") == 800
    edited = rules.load("living_circle")
    edited["categories"] = {"park": edited["categories"]["park"]}
    assert list(rules.load("living_circle", edited)["categories"]) == ["park"]


def test_bad_rules_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[living_circle\n", encoding="utf-8")
    with pytest.raises(RulesError, match="bad.toml"):
        rules.load("living_circle", bad)
    with pytest.raises(RulesError, match="available"):
        rules.load("traffic")
    with pytest.raises(RulesError, match="status"):
        rules.load("living_circle", {"tiers": {"10min": {"status": "guessed"}}})
    with pytest.raises(RulesError, match="mapping"):
        rules.load("living_circle", 42)


# ---- the user's rules file: both forms, checked once per run -----------------


def _file(tmp_path, text, name="mine.toml"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def _line(text, needle):
    """1-based line of the first line of ``text`` containing ``needle``."""
    return next(n for n, s in enumerate(text.splitlines(), 1) if needle in s)


def _error(sets, user):
    with pytest.raises(RulesError) as info:
        rules.resolve(sets, user)
    return str(info.value)


def test_the_built_in_form_overrides_without_the_rule_sets_name(tmp_path):
    f = _file(tmp_path, "# strict reading of GB 50180-2018\n[tiers.15min]\nvalue = 800\n")
    r = rules.resolve(("living_circle", "network"), f)
    assert rules.value(r["living_circle"], "tiers.15min") == 800
    assert rules.value(r["living_circle"], "tiers.10min") == 500  # the rest kept
    assert r["network"] == rules.load("network")
    assert r.source == f.resolve()
    # load() goes the same way; for another rule set the table is not its own and is left
    assert rules.value(rules.load("living_circle", f), "tiers.15min") == 800
    assert rules.load("network", f) == rules.load("network")
    # a plain value stands for the threshold's value
    short = rules.resolve(("living_circle",), _file(tmp_path, "tiers.15min = 800\n", "s.toml"))
    assert short["living_circle"]["tiers"]["15min"]["value"] == 800
    assert short["living_circle"]["tiers"]["15min"]["status"] == "local"


def test_the_namespaced_form_and_both_forms_in_one_file(tmp_path):
    f = _file(tmp_path, "[living_circle.tiers.15min]\nvalue = 800\n"
                        "[network.join_tolerance]\nvalue = 2\n")
    r = rules.resolve(("living_circle", "network"), f)
    assert rules.value(r["living_circle"], "tiers.15min") == 800
    assert rules.value(r["network"], "join_tolerance") == 2
    mixed = _file(tmp_path, "[tiers.15min]\nvalue = 800\n[green.ndvi.threshold]\nvalue = 0.4\n"
                            "[ndvi.sensitivity]\nvalue = [0.25]\n", "mixed.toml")
    r = rules.resolve(("living_circle", "green"), mixed)
    assert rules.value(r["living_circle"], "tiers.15min") == 800
    assert rules.value(r["green"], "ndvi.threshold") == 0.4
    assert rules.value(r["green"], "ndvi.sensitivity") == [0.25]
    # the green tables are another run's: a living-circle run leaves them be
    assert rules.resolve(("living_circle",), mixed)["living_circle"] == r["living_circle"]
    # the same rule in both forms is one too many
    twice = _file(tmp_path, "[tiers.15min]\nvalue = 800\n[living_circle.tiers.15min]\nvalue = 900\n",
                  "twice.toml")
    assert "again" in _error(("living_circle",), twice)


def test_a_table_two_rule_sets_of_the_run_have_must_be_namespaced(tmp_path):
    text = '[streets]\nnot_drivable = ["footway"]\n'
    f = _file(tmp_path, text)
    msg = _error(("fire_lanes", "osm_tags"), f)
    assert "mine.toml" in msg and "line 1" in msg
    assert "fire_lanes and osm_tags" in msg and "[fire_lanes.streets" in msg
    # with one of them in the run it is not ambiguous
    r = rules.resolve(("fire_lanes",), f)
    assert rules.value(r["fire_lanes"], "streets.not_drivable") == ["footway"]
    ok = _file(tmp_path, '[fire_lanes.streets]\nnot_drivable = ["footway"]\n', "ok.toml")
    r = rules.resolve(("fire_lanes", "osm_tags"), ok)
    assert r["fire_lanes"]["streets"]["not_drivable"] == ["footway"]
    assert r["osm_tags"]["streets"] == rules.load("osm_tags")["streets"]


def test_a_misspelt_key_names_file_line_and_the_close_match(tmp_path):
    text = "# my county\n\n[tiers.10min]\nvalue = 450\n\n[tiers.15mn]\nvalue = 800\n"
    msg = _error(("living_circle", "network"), _file(tmp_path, text))
    assert "mine.toml" in msg
    assert f"line {_line(text, '15mn')}" in msg and _line(text, "15mn") == 6
    assert "'tiers.15mn'" in msg and "did you mean 'tiers.15min'" in msg
    # quoted keys and keys inside inline tables are found too
    text = '[tiers]\n"10min" = { value = 450, status = "guessed" }\n"15mn" = 800\n'
    msg = _error(("living_circle",), _file(tmp_path, text, "q.toml"))
    assert f"line {_line(text, '15mn')}: 'tiers.15mn'" in msg
    assert f"line {_line(text, 'guessed')}: 'tiers.10min.status'" in msg


def test_a_misspelt_section_names_the_rule_set_it_resembles(tmp_path):
    text = "[living_circle.tiers.10min]\nvalue = 450\n[living_circel.tiers.15min]\nvalue = 800\n"
    msg = _error(("living_circle",), _file(tmp_path, text))
    assert f"line {_line(text, 'circel')}: 'living_circel'" in msg
    assert "did you mean 'living_circle'" in msg
    # and a misspelt key below a rule set's name
    text = "[living_circle.tiers.15min]\nvalu = 800\n"
    msg = _error(("living_circle",), _file(tmp_path, text, "k.toml"))
    assert "line 2: 'living_circle.tiers.15min.valu'" in msg and "value" in msg


def test_wrong_types_name_what_was_expected_and_what_was_given(tmp_path):
    text = ('[snapping.tolerance]\nvalue = "100"\n'            # text for a number
            "[isochrones.buffer]\nvalue = true\n"               # bool for a number
            "[green.ndvi.sensitivity]\nvalue = 0.3\n"           # scalar for a list
            '[categories.park]\ntiers = "10min"\n'              # scalar for a list
            "[network.split_crossings]\nvalue = 1\n")           # number for a bool
    msg = _error(("living_circle", "network"), _file(tmp_path, text))
    assert "has 5 problems" in msg
    hundred = _line(text, '"100"')
    assert f"line {hundred}: 'snapping.tolerance.value' must be a number" in msg
    assert "not a text ('100')" in msg
    assert f"line {_line(text, 'true')}: 'isochrones.buffer.value' must be a number" in msg
    assert "not true/false" in msg
    assert "'green.ndvi.sensitivity.value' must be a list" in msg
    assert "'categories.park.tiers' must be a list" in msg
    assert "'network.split_crossings.value' must be true or false, not a number (1)" in msg
    # TOML ints are numbers where the built-in has a float, and the other way round
    ok = _file(tmp_path, "[network.join_tolerance]\nvalue = 2\n[tiers.15min]\nvalue = 800.5\n",
               "ok.toml")
    r = rules.resolve(("living_circle", "network"), ok)
    assert rules.value(r["network"], "join_tolerance") == 2
    assert rules.value(r["living_circle"], "tiers.15min") == 800.5


def test_values_out_of_range_give_the_value_and_the_allowed_range(tmp_path):
    text = ("[isochrones.buffer]\nvalue = -5\n"
            "[green.ndvi.threshold]\nvalue = 1.5\n"
            "[green.green_ratio.new]\nvalue = 1.2\n"
            "[tiers.5min]\nminutes = 0\n"
            "[fire_lanes.footprints.car]\nwidth_m = -1.8\n"
            "[fire_lanes.gradient]\nvalue = 120\n"
            "[network.gap_report]\nvalue = nan\n")
    msg = _error(("living_circle",), _file(tmp_path, text))
    assert "has 7 problems" in msg
    assert f"line {_line(text, '-5')}: 'isochrones.buffer.value' = -5 is out of range; " \
           "allowed: >= 0" in msg
    assert f"line {_line(text, '1.5')}: 'green.ndvi.threshold.value' = 1.5 is out of range; " \
           "allowed: -1 to 1" in msg
    assert f"line {_line(text, '1.2')}: 'green.green_ratio.new.value' = 1.2 is out of range; " \
           "allowed: 0 to 1" in msg
    assert "'tiers.5min.minutes' = 0 is out of range; allowed: > 0" in msg
    assert "'fire_lanes.footprints.car.width_m' = -1.8 is out of range" in msg
    assert "'fire_lanes.gradient.value' = 120 is out of range; allowed: 0 to 100" in msg
    assert "'network.gap_report.value' = nan is not a finite number" in msg
    # the bounds themselves are gcgeo's, and so is the unit
    msg = _error(("living_circle",), {"tiers": {"15min": {"value": 1, "unit": "km"}}})
    assert "'tiers.15min.unit' cannot be changed ('m'): give the value in m" in msg
    # the limits are allowed
    r = rules.resolve(("green",), {"ndvi": {"threshold": -1}, "green_ratio": {"new": 1}})
    assert rules.value(r["green"], "ndvi.threshold") == -1


def test_every_numeric_built_in_rule_has_a_range():
    def numbers(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from numbers(v, path + (k,))
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield path

    for name in rules.available():
        for path in numbers(rules.load(name), ()):
            node = override = {}
            for part in path[:-1]:
                node[part] = {}
                node = node[part]
            node[path[-1]] = -1e9
            bound = path[-1] in ("min", "max")  # the bounds themselves are fixed
            with pytest.raises(RulesError, match="cannot be changed" if bound else "out of range"):
                rules.resolve((name,), {name: override})


def test_an_open_table_takes_new_entries_with_the_keys_they_need(tmp_path):
    from gcgeo.analysis import living_circle as lc

    text = '[categories.library]\nlabel_zh = "图书馆"\nlabel_en = "Library"\ntiers = ["15min"]\n'
    r = rules.resolve(("living_circle",), _file(tmp_path, text))["living_circle"]
    assert r["categories"]["library"]["tiers"] == ["15min"]
    assert "kindergarten" in r["categories"]  # the built-in ones kept
    assert "library" in lc.required_categories(r, lc.tiers(r))["15min"]
    bad = '[categories.library]\nlabel_zh = "图书馆"\ntiers = ["15min"]\ncolour = "red"\n'
    msg = _error(("living_circle",), _file(tmp_path, bad, "bad.toml"))
    assert "line 1: 'categories.library' is a new entry of categories and lacks label_en" in msg
    assert "line 4: 'categories.library.colour' is not a key" in msg
    # a new obstruction kind; its shape must be one gcgeo draws
    fp = rules.resolve(("fire_lanes",), {"footprints": {"cart": {"width_m": 1.2, "length_m": 2.0}}})
    assert fp["fire_lanes"]["footprints"]["cart"] == {"width_m": 1.2, "length_m": 2.0}
    msg = _error(("fire_lanes",), {"footprints": {"car": {"shape": "circel"}}})
    assert "'footprints.car.shape' = 'circel' is not a choice" in msg and "circle" in msg
    # a closed table does not: tiers are the standard's
    assert "'tiers.20min' is not a key" in _error(("living_circle",), {"tiers": {"20min": 1500}})


def test_osm_tag_rules_are_checked_entry_by_entry(tmp_path):
    text = ('[[osm_tags.facilities.rules]]\ntags = { amenity = ["library"] }\ncategory = "culture_centre"\n'
            '[[osm_tags.facilities.rules]]\ntags = { amenity = "library" }\ncatgory = "culture_centre"\n'
            "[fire_lanes.rules]\nx = 1\n")
    msg = _error(("osm_tags",), _file(tmp_path, text))
    assert "has 3 problems" in msg
    assert "line 5: 'osm_tags.facilities.rules[2].tags.amenity' must be a list" in msg
    assert "line 6: 'osm_tags.facilities.rules[2].catgory'" in msg
    assert "did you mean 'osm_tags.facilities.rules[2].category'" in msg
    assert "line 7" in msg and "[osm_tags.fire_lanes.rules" in msg
    ok = _file(tmp_path, text.split("[[osm_tags.facilities.rules]]\ntags = { amenity = \"")[0],
               "ok.toml")
    r = rules.resolve(("osm_tags",), ok)["osm_tags"]
    assert r["facilities"]["rules"] == [{"tags": {"amenity": ["library"]}, "category": "culture_centre"}]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = ("[tiers.15mn]\nvalue = 800\n"
            "[snapping.tolerance]\nvalue = \"far\"\n"
            "[isochrones.buffer]\nvalue = -1\n"
            "[tiers.10min]\nstatus = \"guessed\"\n"
            "[fire_lanes.lane.turnaround_kinds]\nloop = 1\n")  # a table where a list is
    msg = _error(("living_circle", "network"), _file(tmp_path, text))
    assert msg.startswith(f"rules file {tmp_path / 'mine.toml'} has 5 problems")
    for needle, key in (("15mn", "tiers.15mn"), ("far", "snapping.tolerance.value"),
                        ("-1", "isochrones.buffer.value"), ("guessed", "tiers.10min.status"),
                        ("turnaround_kinds", "fire_lanes.lane.turnaround_kinds")):
        assert f"line {_line(text, needle)}: '{key}'" in msg
    assert "use one of verified, secondary, unverified, local" in msg


def test_the_digest_follows_values_not_comments(tmp_path):
    f = _file(tmp_path, "[tiers.15min]\nvalue = 800\n")
    d800 = rules.resolve(("living_circle",), f).digest("living_circle")
    f.write_text("# strict reading\n\n[tiers.15min]   # GB 50180-2018\nvalue = 800  # m\n",
                 encoding="utf-8")
    r = rules.resolve(("living_circle", "network"), f)
    assert r.digest("living_circle") == d800
    f.write_text("[tiers.15min]\nvalue = 900\n", encoding="utf-8")
    assert rules.resolve(("living_circle",), f).digest("living_circle") != d800
    builtin = rules.resolve(("living_circle", "network"))
    assert builtin.digest("living_circle") != d800
    assert builtin.digest("network") == r.digest("network")  # not touched by the file
    assert builtin.source is None
    # what a caller does with a copy changes neither the rules nor the digest
    lc = builtin["living_circle"]
    lc["tiers"]["15min"]["value"] = 1
    assert rules.value(builtin["living_circle"], "tiers.15min") == 1000
    assert builtin.digest("living_circle") == rules.resolve(("living_circle",)).digest("living_circle")
    with pytest.raises(RulesError, match="not resolved"):
        builtin.digest("green")


def test_read_file_parses_a_users_file_unchecked(tmp_path):
    f = _file(tmp_path, "[tiers.15mn]\nvalue = 800\n")
    assert rules.read_file(f) == {"tiers": {"15mn": {"value": 800}}}
    with pytest.raises(RulesError, match="does not exist"):
        rules.read_file(tmp_path / "gone.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[tiers.15min]\nnote = "gr\u00fcn"\n'.encode("latin-1"))
    with pytest.raises(RulesError, match="UTF-8"):
        rules.resolve(("living_circle",), latin)


def test_a_figure_overridden_without_a_clause_is_cited_as_the_files_local_rule(tmp_path):
    """A value of the user's is not what the built-in clause says: it is cited as a local rule
    of the file, naming the clause it replaces, with status local; a clause of its own is kept."""
    built = rules.load("green")["green_ratio"]
    f = _file(tmp_path, "[green.green_ratio.new]\nvalue = 0.0901\n"     # a figure of its own
                        "[green.green_ratio.old]\nvalue = 0.25\n"       # the built-in figure again
                        "[garbage.max_walk]\nvalue = 300\nclause = \"高唐县生活垃圾分类实施方案 第3条\"\n"
                        "[living_circle]\ntiers.10min = 450\n", "county.toml")
    r = rules.resolve(("green", "garbage", "living_circle"), f)
    new = r["green"]["green_ratio"]["new"]
    assert new["value"] == 0.0901
    assert new["clause"] == f"local rule of rules file county.toml (replacing: {built['new']['clause']})"
    assert new["status"] == "local"
    assert r["green"]["green_ratio"]["old"] == built["old"]  # the built-in figure: its clause still says it
    walk = r["garbage"]["max_walk"]
    assert (walk["value"], walk["clause"], walk["status"]) == (300, "高唐县生活垃圾分类实施方案 第3条", "local")
    tier = r["living_circle"]["tiers"]["10min"]
    assert tier["value"] == 450 and tier["status"] == "local"
    assert tier["clause"] == ("local rule of rules file county.toml (replacing: "
                              f"{rules.load('living_circle')['tiers']['10min']['clause']})")
    # a category's figure (the tiers that must provide it) is cited the same way; its labels are not figures
    cats = rules.load("living_circle", {"categories": {"pharmacy": {"tiers": ["10min"]},
                                                       "market": {"label_en": "Wet market"}}})["categories"]
    assert cats["pharmacy"]["clause"].startswith("local rule of the rules given (replacing: GB 50180-2018")
    assert cats["market"]["clause"] == rules.load("living_circle")["categories"]["market"]["clause"]
    # in Chinese: the file's local rule, then the clause it replaces
    from gcgeo.clauses import clause_text

    assert clause_text(new["clause"], "zh") == ("规则文件 county.toml 中的地方规定（替代：GB 50180-93 第7.0.2.3条"
                                                "（新区建设 ≥ 30%）；GB 50180-2018 表4.0.2数值未查得）")


def test_gcgeo_rules_shows_a_files_overrides_as_its_local_rules(tmp_path):
    from click.testing import CliRunner

    from gcgeo.cli import main

    f = _file(tmp_path, "[garbage.max_walk]\nvalue = 300\n", "county.toml")
    res = CliRunner().invoke(main, ["rules", "garbage", "--rules", str(f)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    built = rules.load("garbage")["max_walk"]
    expected = ["300", "m", f"local rule of rules file county.toml (replacing: {built['clause']})", "local"]
    assert _row(res.output, "garbage.max_walk")[1:5] == [_bare(c) for c in expected]
    plain = CliRunner().invoke(main, ["rules", "garbage"], catch_exceptions=False)
    expected = ["70.0", "m", built["clause"], built["status"]]
    assert _row(plain.output, "garbage.max_walk")[1:5] == [_bare(c) for c in expected]


def _bare(text):
    return "".join(text.split())


def _row(output, rule):
    """The cells of ``rule``'s row of a table the CLI printed, its wrapped lines joined, without
    white space (where the table wrapped a cell is not known)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"│ {rule} "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("│  ")), len(lines))
    split = [[c.strip() for c in line.split("│")[1:-1]] for line in lines[start:end]]
    return [_bare("".join(col)) for col in zip(*split, strict=True)]
