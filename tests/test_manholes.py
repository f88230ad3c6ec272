"""Manhole covers (criterion 4, in part): hand-computed registers, the synthetic county, the command."""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gcgeo import AnalysisError, InputError, RulesError
from gcgeo.analysis import manholes as mh_check
from gcgeo.cli import main
from gcgeo.testing import synthetic_county

CRS = "EPSG:4547"
AS_OF = "2021-06-30"


def _comm(n=2):
    return gpd.GeoDataFrame({"id": [f"C{i}" for i in range(n)], "name": [f"社区{i}" for i in range(n)]},
                            geometry=[shapely.box(i * 1000, 0, i * 1000 + 500, 500) for i in range(n)],
                            crs=CRS)


def _covers(rows, **columns):
    """rows: dicts of attributes with 'at' = (community index, k); extra columns as given."""
    geoms = [shapely.Point(r["at"][0] * 1000 + 10 + 10 * r["at"][1], 10) if r["at"][0] >= 0
             else shapely.Point(5000, 5000) for r in rows]
    data = {k: [r.get(k) for r in rows] for k in sorted({k for r in rows for k in r} - {"at"})}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


def _register():
    """A street office's register, as written: Chinese kinds and states, dates in every spelling."""
    return _covers([
        # community C0
        {"at": (0, 0), "id": "J1", "code": "GT-1", "kind": "污水", "owner": "住建局", "manager": "住建局",
         "contact": "0635-1", "condition": "完好", "fall_net": "有", "last_inspection": "2021/6/20"},
        {"at": (0, 1), "id": "J2", "code": "GT-2", "kind": "污水", "owner": "住建局", "manager": None,
         "contact": None, "condition": "破损", "fall_net": "无", "last_inspection": "2021年1月1日"},
        {"at": (0, 2), "id": "J3", "code": "gt-１", "kind": "燃气", "owner": None, "manager": "燃气公司",
         "contact": None, "condition": "异响", "fall_net": None, "last_inspection": 44376},  # 2021-06-29
        # community C1
        {"at": (1, 0), "id": "J4", "code": "GT-4", "kind": "电力", "owner": "供电公司", "manager": "供电公司",
         "contact": "0635-4", "condition": "完好", "fall_net": None, "last_inspection": "20210401"},
        {"at": (1, 1), "id": "J5", "code": "GT-5", "kind": "雨水", "owner": "住建局", "manager": "住建局",
         "contact": "0635-5", "condition": "沉陷", "fall_net": "√", "last_inspection": "2021-07-02"},
        # outside every community
        {"at": (-1, 0), "id": "J6", "code": "GT-6", "kind": "通信", "owner": "联通", "manager": "联通",
         "contact": "0635-6", "condition": "缺失", "fall_net": None, "last_inspection": "2019-01-01"},
    ])


def _by_kind(findings):
    return {k: sorted(g["feature_id"]) for k, g in findings.groupby("kind")}


def test_a_register_by_hand():
    out = mh_check.run({"manholes": _register(), "communities": _comm()}, as_of=AS_OF)
    f = out["manholes_findings"]
    assert _by_kind(f) == {
        "no_manager": ["J2"],
        "no_contact": ["J3"],          # a manager no one can call
        "no_owner": ["J3"],
        "duplicate_code": ["J1", "J3"],  # GT-1 and gt-１ are one code
        "cover_damaged": ["J2"], "cover_noisy": ["J3"], "cover_sunken": ["J5"], "cover_missing": ["J6"],
        "no_fall_net": ["J2"],         # drainage only: J3 (gas) and J4 (power) need none
        "inspection_overdue": ["J2", "J6"],   # 180 and 911 days before 2021-06-30
        "inspection_after_as_of": ["J5"],
    }
    late = f[f["kind"] == "inspection_overdue"].set_index("feature_id")
    assert late["measured"].astype(int).tolist() == [180, 911]
    assert late["required"].astype(float).tolist() == [90, 90] and set(late["unit"]) == {"days"}
    assert f.loc[f["feature_id"] == "J6", "community"].isna().all()  # listed, in no community
    assert f.set_index("kind").loc["cover_missing", "severity"] == "high"
    assert f.set_index("kind").loc["no_manager", "clause"].startswith("高唐县绿色社区创建行动实施方案")

    t = out["manholes_communities"].set_index("community_id")
    assert t["covers"].tolist() == [3, 2]
    # C0: only J1 has a manager and a contact; C1: both
    assert t["manager_contact_share"].tolist() == pytest.approx([1 / 3, 1.0])
    assert t["owner_share"].tolist() == pytest.approx([2 / 3, 1.0])
    assert t["coded_share"].tolist() == pytest.approx([1 / 3, 1.0])
    assert t["sound_share"].tolist() == pytest.approx([1 / 3, 0.5])
    assert t["fall_net_share"].tolist() == pytest.approx([0.5, 1.0])  # J1 yes, J2 no; J5 yes
    # C0: J1 (10 days) and J3 (1 day) in time, J2 late; C1: J4 (90 days, in time), J5 after as-of
    assert t["inspected_share"].tolist() == pytest.approx([2 / 3, 1.0])
    assert t["manager_status"].tolist() == ["fail", "pass"]
    assert t["condition_status"].tolist() == ["fail", "fail"]
    # C1's J5 was inspected after the as-of date: not counted, so unknown, and said why
    assert t.loc["C1", "inspection_status"] == "unknown"
    assert "J5" not in t.loc["C1", "inspection_reason"] and "1 of 2" in t.loc["C1", "inspection_reason"]
    assert t.loc["C0", "manager_reason"] == "2 of 3 covers have no manager or no contact"
    assert t["status"].tolist() == ["fail", "fail"] and set(t["as_of"]) == {AS_OF}


@pytest.mark.parametrize("word,share,status", [("有", 1.0, "pass"), ("无", 0.0, "fail")])
def test_a_complete_fall_net_column_is_read_after_the_workspace_stores_it(tmp_path, word, share, status):
    """A column with a 有 / 无 on every cover is stored as booleans, and read back as such."""
    from gcgeo import workspace as ws

    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县", crs=CRS)
    ws.add_layer(path, "communities", _comm(1))
    covers = _covers([{"at": (0, k), "id": f"J{k}", "kind": "污水", "fall_net": word} for k in range(3)])
    ws.add_layer(path, "manholes", covers)
    stored = ws.read_layer(path, "manholes")
    assert stored["fall_net"].tolist() == [word == "有"] * 3  # stored as true / false
    out = mh_check.run({"manholes": stored, "communities": ws.read_layer(path, "communities")}, as_of=AS_OF)
    t = out["manholes_communities"]
    assert t["fall_net_share"].tolist() == [share] and t["fall_net_status"].tolist() == [status]
    f = out["manholes_findings"]
    assert sorted(f.loc[f["kind"] == "no_fall_net", "feature_id"]) == ([] if share else ["J0", "J1", "J2"])


def test_the_kinds_without_a_manager_a_street_office_can_act_on():
    out = mh_check.run({"manholes": _register(), "communities": _comm()}, as_of=AS_OF)
    k = out["manholes_kinds"]
    assert "geometry" not in k.columns
    got = {(r.community_id, r.manhole_kind): (r.covers, r.covers_with_manager, r.managed_covers, r.no_manager)
           for r in k.itertuples()}
    assert got == {("C0", "sewer"): (2, 1, 1, False), ("C0", "gas"): (1, 1, 0, False),
                   ("C1", "drain"): (1, 1, 1, False), ("C1", "power"): (1, 1, 1, False)}
    assert k.set_index("manhole_kind").loc["sewer", "manhole_kind_zh"] == "污水"
    # no manager for any gas cover of C0 once its manager is struck out
    reg = _register()
    reg.loc[reg["id"] == "J3", "manager"] = None
    out = mh_check.run({"manholes": reg, "communities": _comm()}, as_of=AS_OF)
    assert out["manholes_communities"]["kinds_without_manager"].tolist() == ["gas", ""]
    k = out["manholes_kinds"].set_index(["community_id", "manhole_kind"])
    assert bool(k.loc[("C0", "gas"), "no_manager"]) and not k.loc[("C0", "sewer"), "no_manager"]


def test_a_blank_from_openstreetmap_is_unknown_not_absent():
    covers = _covers([
        {"at": (0, 0), "id": "n1", "osm_type": "node", "kind": "sewer", "manager": "Helen"},
        {"at": (0, 1), "id": "n2", "osm_type": "node", "kind": "sewer", "manager": None},
        {"at": (1, 0), "id": "n3", "osm_type": "node", "kind": "drain", "manager": None},
    ], contact=[None, None, None], code=[None, None, None])
    out = mh_check.run({"manholes": covers, "communities": _comm()}, as_of=AS_OF)
    assert len(out["manholes_findings"]) == 0  # nothing mapped is nothing found
    t = out["manholes_communities"].set_index("community_id")
    for rule in mh_check.RULES:
        assert t[f"{rule}_status"].tolist() == ["unknown", "unknown"], rule
        assert (t[f"{rule}_reason"] != "").all(), rule
    k = out["manholes_kinds"].set_index(["community_id", "manhole_kind"])
    assert pd.isna(k.loc[("C1", "drain"), "no_manager"])  # not known: nobody mapped it
    # an OSM id is no cover code: without a code column, OSM covers are unknown, register ones decided
    mixed = _covers([{"at": (0, 0), "id": "n1", "osm_type": "node"}, {"at": (1, 0), "id": "J9"}])
    t = mh_check.run({"manholes": mixed, "communities": _comm()}, as_of=AS_OF)["manholes_communities"]
    assert t["code_status"].tolist() == ["unknown", "pass"]


def test_codes_come_from_the_code_column_else_the_id():
    covers = _covers([{"at": (0, k)} for k in range(3)], id=["A", "A", None])
    out = mh_check.run({"manholes": covers}, as_of=AS_OF)
    assert _by_kind(out["manholes_findings"]) == {"duplicate_code": ["A", "A"], "no_code": ["#2"]}
    dup = out["manholes_findings"].query("kind == 'duplicate_code'")
    assert dup["measured"].tolist() == ["2", "2"] and dup["code"].tolist() == ["A", "A"]
    t = out["manholes_communities"]  # no communities: one row for the whole study area
    assert t["community_id"].tolist() == ["(all)"] and t["coded_share"].tolist() == [0.0]
    assert out["manholes_kinds"]["community_id"].tolist() == ["(all)"]


def test_missing_columns_leave_every_rule_unknown_with_its_reason():
    covers = _covers([{"at": (0, 0)}, {"at": (1, 0)}])  # geometry only: no id, no attributes
    out = mh_check.run({"manholes": covers, "communities": _comm()}, as_of=AS_OF)
    t = out["manholes_communities"]
    for rule, column in [("manager", "'manager' (管理人)"), ("owner", "'owner' (权属单位)"),
                         ("code", "'code' (井盖编号)"), ("condition", "'condition' (状况)"),
                         ("fall_net", "'fall_net' (防坠网)"),  # of unknown kind: any may need one
                         ("inspection", "'last_inspection' (最近巡检日期)")]:
        assert t[f"{rule}_status"].tolist() == ["unknown", "unknown"], rule
        assert all(column in r for r in t[f"{rule}_reason"]), (rule, t[f"{rule}_reason"].tolist())
    assert (t["status"] == "unknown").all() and len(out["manholes_findings"]) == 0
    # a community without covers is unknown, never passed
    t = mh_check.run({"manholes": covers.iloc[:1], "communities": _comm()}, as_of=AS_OF
                     )["manholes_communities"].set_index("community_id")
    assert t.loc["C1", "status"] == "unknown"
    assert set(t.loc["C1", [f"{r}_reason" for r in mh_check.RULES]]) == {"no manholes recorded in the community"}


def test_values_that_cannot_be_read_are_reported_with_the_row():
    covers = _covers([{"at": (0, 0), "id": "J1", "condition": "裂了", "fall_net": "maybe",
                       "last_inspection": "5/3/2021", "kind": "路灯"}])
    f = mh_check.run({"manholes": covers}, as_of=AS_OF)["manholes_findings"]
    bad = f[f["kind"] == "unreadable_value"].set_index("column")
    assert sorted(bad.index) == ["condition", "fall_net", "kind", "last_inspection"]
    assert bad.loc["last_inspection", "measured"] == "5/3/2021"
    assert "J1" in bad.loc["last_inspection", "message"] and "2021-03-05" in bad.loc["last_inspection", "message"]
    assert bad.loc["condition", "feature_id"] == "J1" and "damaged" in bad.loc["condition", "required"]


def test_rules_can_be_changed_and_are_checked():
    layers = {"manholes": _register(), "communities": _comm()}
    out = mh_check.run(layers, as_of=AS_OF, rules={"manager": {"require_contact": False},
                                                      "inspection": {"max_days": 200}})
    f = out["manholes_findings"]
    assert "no_contact" not in set(f["kind"])
    assert sorted(f.loc[f["kind"] == "inspection_overdue", "feature_id"]) == ["J6"]
    t = out["manholes_communities"]
    assert t["manager_contact_share"].tolist() == pytest.approx([2 / 3, 1.0])
    out = mh_check.run(layers, as_of=AS_OF, rules={"fall_net": {"kinds": ["gas"]}})
    assert sorted(out["manholes_findings"].query("kind == 'no_fall_net'")["feature_id"]) == []
    assert out["manholes_communities"]["fall_net_status"].tolist() == ["unknown", "pass"]  # J3 not recorded
    with pytest.raises(RulesError, match="fall_net.kinds names 'sewage'"):
        mh_check.run(layers, as_of=AS_OF, rules={"fall_net": {"kinds": ["sewage"]}})
    with pytest.raises(RulesError, match="max_days"):
        mh_check.run(layers, as_of=AS_OF, rules={"inspection": {"max_days": -1}})


def test_as_of_defaults_to_today_and_bad_input_is_named():
    today = datetime.date.today()
    covers = _covers([{"at": (0, 0), "id": "J1", "last_inspection": (today - datetime.timedelta(days=91))
                       .isoformat()}])
    t = mh_check.run({"manholes": covers})["manholes_communities"]
    assert t["as_of"].tolist() == [today.isoformat()] and t["inspection_status"].tolist() == ["fail"]
    with pytest.raises(InputError, match="--as-of"):
        mh_check.run({"manholes": covers}, as_of="30/6/2021")
    with pytest.raises(AnalysisError, match="gcgeo add WS manholes"):
        mh_check.run({"communities": _comm()}, as_of=AS_OF)


# --------------------------------------------------------------------------
# the synthetic county: the problems its generator planted, found and only those


def _expected_overdue(truth, as_of, max_days=90):
    day = pd.Timestamp(as_of)
    late, after = [], []
    for mid, when in truth["manholes_inspected"].items():
        if when is None:
            continue
        days = (day - pd.Timestamp(when)).days
        (late if days > max_days else after if days < 0 else []).append(mid)
    return sorted(late), sorted(after)


@pytest.mark.parametrize("seed", [0, 3])
def test_the_synthetic_county_by_construction(seed):
    county = synthetic_county(seed=seed)
    truth = county.truth
    out = mh_check.run(county.layers, as_of=AS_OF)
    got = _by_kind(out["manholes_findings"])
    if seed == 0:
        assert truth["manholes"] == 24 and len(truth["manholes_without_manager"]) == 7  # as the issue says
    assert got.get("no_manager", []) == sorted(truth["manholes_without_manager"])
    assert got.get("no_contact", []) == sorted(truth["manholes_without_contact"])
    assert got.get("no_owner", []) == sorted(truth["manholes_without_owner"])
    assert got.get("no_code", []) == sorted(truth["manholes_without_code"])
    assert got.get("duplicate_code", []) == sorted(i for ids in truth["manholes_duplicate_codes"].values()
                                                   for i in ids)
    assert got.get("no_fall_net", []) == sorted(truth["manholes_without_fall_net"])
    for fault in ("damaged", "missing", "sunken", "noisy"):
        assert got.get(f"cover_{fault}", []) == sorted(i for i, c in truth["manholes_faults"].items()
                                                        if c == fault), fault
    late, after = _expected_overdue(truth, AS_OF)
    assert got.get("inspection_overdue", []) == late and got.get("inspection_after_as_of", []) == after
    assert "unreadable_value" not in got  # every date spelling of the register is read
    assert after and late  # the as-of date splits the county's inspections

    # per community, from the layers' own geometry and the truth
    comm, covers = county.layers["communities"], county.layers["manholes"]
    t = out["manholes_communities"].set_index("community_id")
    unmanaged = set(truth["manholes_without_manager"]) | set(truth["manholes_without_contact"])
    for cid, poly in zip(comm["id"], comm.geometry):
        inside = covers[covers.within(poly)]
        assert t.loc[cid, "covers"] == len(inside)
        if not len(inside):
            assert t.loc[cid, "status"] == "unknown"
            continue
        bad = inside["id"].isin(unmanaged)
        assert t.loc[cid, "manager_contact_share"] == pytest.approx(1 - bad.mean())
        assert t.loc[cid, "manager_status"] == ("fail" if bad.any() else "pass")
        no_one = sorted(k for k, g in inside.groupby("kind")
                        if g["id"].isin(truth["manholes_without_manager"]).all())
        assert t.loc[cid, "kinds_without_manager"] == ", ".join(k for k in mh_check.KINDS if k in no_one)
        faulty = inside["id"].isin(list(truth["manholes_faults"]))
        assert t.loc[cid, "faulty_covers"] == faulty.sum()
        assert t.loc[cid, "condition_status"] == ("fail" if faulty.any() else "pass")


def test_the_county_register_through_the_command_and_the_report(tmp_path):
    """The planners' xlsx (编号 类型 管理人 联系方式 状况 巡检日期, dates in four spellings) added
    with the command line, checked with --as-of, and shown in the report."""
    from gcgeo import workspace as ws

    county = synthetic_county(seed=0)
    files = county.write_inputs(tmp_path / "in")
    path = tmp_path / "w.gpkg"
    runner = CliRunner()
    ws.init(path, name="高唐县", crs=county.crs)
    ws.add_layer(path, "communities", county.layers["communities"])
    res = runner.invoke(main, ["add", str(path), "manholes", str(files["manholes_xlsx"]),
                               "--src-crs", county.crs.to_string()], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["analyze", str(path), "manholes", "--as-of", AS_OF], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "无管理人的井盖类型" in res.output  # its column labels, in Chinese
    assert {"manholes_findings", "manholes_communities", "manholes_kinds"} <= set(ws.list_layers(path)["layer"])
    f = ws.read_layer(path, "manholes_findings")
    got = _by_kind(f)
    assert got["no_manager"] == sorted(county.truth["manholes_without_manager"])
    late, after = _expected_overdue(county.truth, AS_OF)
    assert got["inspection_overdue"] == late and got["inspection_after_as_of"] == after
    assert "unreadable_value" not in got
    kinds = ws.read_layer(path, "manholes_kinds")
    assert len(kinds) and kinds["covers"].sum() == ws.read_layer(path, "manholes_communities")["covers"].sum()
    res = runner.invoke(main, ["analyze", str(path), "manholes", "--as-of", "2021/6/30"])
    assert res.exit_code == 2 and "--as-of" in res.output
    report = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(path), "-o", str(report)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    html = report.read_text(encoding="utf-8")
    # the section, its finding kinds and its per-kind table, in Chinese
    assert "窨井盖" in html and "井盖无管理人" in html and "巡检超期" in html and "该类型无人管理" in html


def test_the_criterion_it_decides_is_declared():
    (c,) = mh_check.ANALYSIS.criteria
    assert c.number == 4 and c.layer == "manholes_communities" and c.column == "status"
    assert np.isin(["manholes"], mh_check.ANALYSIS.requires).all()


def test_import_osm_fills_owner_code_and_manager_for_the_check(tmp_path):
    from gcgeo import osm

    f = tmp_path / "covers.osm"
    f.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" lat="36.87" lon="116.23" version="1"><tag k="manhole" v="sewer"/>'
        '<tag k="owner" v="高唐县住建局"/><tag k="operator" v="高唐县排水公司"/>'
        '<tag k="ref" v="GT-WS-1"/><tag k="phone" v="0635-1234567"/></node>\n'
        '<node id="2" lat="36.871" lon="116.231" version="1"><tag k="manhole" v="gas"/>'
        '<tag k="ref" v="GT-WS-1"/></node>\n</osm>\n', encoding="utf-8")
    covers = osm.read_osm(f)["manholes"].set_index("osm_id")
    assert covers.loc[1, ["owner", "manager", "contact", "code"]].tolist() == [
        "高唐县住建局", "高唐县排水公司", "0635-1234567", "GT-WS-1"]
    out = mh_check.run({"manholes": covers.reset_index()}, as_of=AS_OF)
    # the shared ref is found; the untagged gas cover's manager is unknown, not absent
    assert _by_kind(out["manholes_findings"]) == {"duplicate_code": ["n1", "n2"]}
    t = out["manholes_communities"]
    assert t["manager_status"].tolist() == ["unknown"] and t["code_status"].tolist() == ["fail"]
