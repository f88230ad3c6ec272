"""What-if (gcgeo.planning.whatif, `gcgeo whatif`): each change equals rerunning the
living circle on the changed inputs; wrong ids and files are named."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box
from test_living_circle import CRS, _random_case, _rules

from gcgeo import InputError
from gcgeo import workspace as ws
from gcgeo.analysis import living_circle as lc
from gcgeo.cli import main
from gcgeo.planning import load_state
from gcgeo.planning.whatif import whatif

RULES = {"supermarket": ["5min"], "park": ["10min"], "pharmacy": ["15min"]}


def _case(seed):
    _, layers = _random_case(seed)
    layers["facilities"]["id"] = [f"F{i}" for i in range(len(layers["facilities"]))]
    layers["streets"]["id"] = [f"S{i}" for i in range(len(layers["streets"]))]
    return layers


def _assert_equals_rerun(after, layers):
    """The what-if state against `living_circle.run` on the changed layers."""
    out = lc.run(layers, rules=_rules(RULES), isochrones="none")
    o = out["lc_origins"]
    for c in after.categories:
        np.testing.assert_allclose(o[f"dist_{c}_m"].to_numpy(float), after.distances[c], atol=1e-6)
    comm = out["lc_communities"].set_index("community_id")
    mine = after.community_shares()
    for t in after.tiers:
        np.testing.assert_allclose(comm[f"share_all_within_{t}"].to_numpy(float),
                                   mine[f"share_all_within_{t}"].to_numpy(float), atol=1e-12)
    return out


def _changes(layers, rng):
    fac, streets = layers["facilities"], layers["streets"]
    new = gpd.GeoDataFrame({"category": ["park", "supermarket", "park"]},
                           geometry=[Point(p) for p in rng.uniform(0, 1000, (3, 2))], crs=CRS)
    gone = list(fac["id"].iloc[[0, 2]])
    closed = list(streets["id"].iloc[rng.choice(len(streets), 3, replace=False)])
    link = gpd.GeoDataFrame(geometry=[LineString(rng.uniform(0, 1000, (2, 2)))], crs=CRS)
    return {
        "add_facility": (new, dict(layers, facilities=pd.concat([fac, new], ignore_index=True))),
        "remove_facility": (",".join(gone), dict(layers, facilities=fac[~fac["id"].isin(gone)])),
        "close_street": (closed, dict(layers, streets=streets[~streets["id"].isin(closed)])),
        "open_link": (link, dict(layers, streets=pd.concat([streets, link], ignore_index=True))),
    }


@pytest.mark.parametrize("seed", [0, 1, 2, 4])
def test_each_change_equals_a_full_rerun(seed, caplog):
    caplog.set_level(logging.ERROR)
    layers = _case(seed)
    state = load_state(layers, rules=_rules(RULES))
    before = lc.run(layers, rules=_rules(RULES), isochrones="none")["lc_communities"]
    for kind, (arg, changed) in _changes(layers, np.random.default_rng(seed)).items():
        res = whatif(state, **{kind: arg})
        out = _assert_equals_rerun(res.after, changed)
        # the table: before from the stored run, after from the rerun
        for t in state.tiers:
            rows = res.communities[res.communities["tier"] == t].set_index("community_id")
            np.testing.assert_allclose(rows["share_before"], before.set_index("community_id")[f"share_all_within_{t}"])
            np.testing.assert_allclose(rows["share_after"],
                                       out["lc_communities"].set_index("community_id")[f"share_all_within_{t}"])
            pop = out["lc_origins"]["population"].to_numpy(float)
            srv = out["lc_origins"][f"all_within_{t}"].to_numpy(bool)
            crit = res.criteria.set_index("tier").loc[t]
            assert crit["share_after"] == pytest.approx(pop[srv].sum() / pop.sum())
        assert (res.criteria["criterion"] == 10).all()
    # the before state is left as it was
    _assert_equals_rerun(state, layers)


def test_changes_compose_in_one_call(caplog):
    caplog.set_level(logging.ERROR)
    layers = _case(3)
    state = load_state(layers, rules=_rules(RULES))
    ch = _changes(layers, np.random.default_rng(3))
    res = whatif(state, add_facility=ch["add_facility"][0], remove_facility=ch["remove_facility"][0],
                 close_street=ch["close_street"][0])
    fac = ch["remove_facility"][1]["facilities"]
    both = dict(ch["close_street"][1],
                facilities=pd.concat([fac, ch["add_facility"][0]], ignore_index=True))
    _assert_equals_rerun(res.after, both)


def test_parks_drawn_as_areas_are_reached_at_their_entrances_as_in_the_living_circle(caplog):
    caplog.set_level(logging.ERROR)
    layers = _case(5)
    fac = layers["facilities"].copy()
    parks = np.flatnonzero(fac["category"].to_numpy() == "park")
    assert len(parks) >= 2
    g = fac.geometry.to_numpy().copy()
    g[parks] = [p.buffer(60, quad_segs=2) for p in g[parks]]  # each park a 120 m wide area
    fac = fac.set_geometry(gpd.GeoSeries(g, index=fac.index, crs=CRS))
    layers = dict(layers, facilities=fac)
    state = load_state(layers, rules=_rules(RULES))
    _assert_equals_rerun(state, layers)
    gone = fac["id"].iloc[parks[0]]
    res = whatif(state, remove_facility=gone)  # every entrance of the park goes with it
    _assert_equals_rerun(res.after, dict(layers, facilities=fac[fac["id"] != gone]))
    new = gpd.GeoDataFrame({"category": ["park"]}, geometry=[box(400, 400, 520, 480)], crs=CRS)
    res = whatif(state, add_facility=new)
    _assert_equals_rerun(res.after, dict(layers, facilities=pd.concat([fac, new], ignore_index=True)))


def test_a_new_kindergarten_serves_the_homes_near_it_hand_computed(caplog):
    caplog.set_level(logging.ERROR)
    streets = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[LineString([(0, 0), (1000, 0)]),
                                                             LineString([(1000, 0), (2000, 0)])], crs=CRS)
    buildings = gpd.GeoDataFrame({"use": "residential", "population": [10.0, 20.0]},
                                 geometry=[box(97, 7, 103, 13), box(1897, 7, 1903, 13)], crs=CRS)
    fac = gpd.GeoDataFrame({"id": ["k1"], "category": ["kindergarten"]}, geometry=[Point(0, 5)], crs=CRS)
    state = load_state({"streets": streets, "buildings": buildings, "facilities": fac},
                       rules=_rules({"kindergarten": ["5min"]}))
    new = gpd.GeoDataFrame({"category": ["kindergarten"]}, geometry=[Point(1700, -5)], crs=CRS)
    res = whatif(state, add_facility=new)
    # homes 10 m and 10 m off the street; the new one 200 m along and 5 m off
    assert res.after.distances["kindergarten"][1] == pytest.approx(10 + 200 + 5, abs=1e-6)
    assert res.after.distances["kindergarten"][0] == pytest.approx(10 + 100 + 5, abs=1e-6)
    row = res.criteria.set_index("tier").loc["5min"]
    assert row["share_before"] == pytest.approx(10 / 30) and row["share_after"] == pytest.approx(1.0)
    gone = whatif(state, remove_facility="k1")
    assert np.isnan(gone.after.distances["kindergarten"]).all()
    closed = whatif(res.after, close_street="b")  # the new one is now cut off from home 2
    assert np.isnan(closed.after.distances["kindergarten"][1])


def test_bad_changes_are_named(caplog):
    caplog.set_level(logging.ERROR)
    layers = _case(0)
    state = load_state(layers, rules=_rules(RULES))
    with pytest.raises(InputError, match=r"--remove-facility.*F99.*F0"):
        whatif(state, remove_facility="F1,F99")
    with pytest.raises(InputError, match=r"--close-street.*nope"):
        whatif(state, close_street="nope")
    with pytest.raises(InputError, match="no 'category' column"):
        whatif(state, add_facility=gpd.GeoDataFrame(geometry=[Point(1, 1)], crs=CRS),
               names={"add_facility": "--add-facility new.gpkg"})
    with pytest.raises(InputError, match=r"cinema.*supermarket"):
        whatif(state, add_facility=gpd.GeoDataFrame({"category": ["cinema"]}, geometry=[Point(1, 1)], crs=CRS))
    with pytest.raises(InputError, match="must be lines"):
        whatif(state, open_link=gpd.GeoDataFrame(geometry=[Point(1, 1)], crs=CRS))
    with pytest.raises(InputError, match="give a change"):
        whatif(state)


@pytest.fixture
def workspace(tmp_path):
    layers = _case(1)
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    for kind in ("streets", "buildings", "facilities", "communities"):
        ws.add_layer(path, kind, layers[kind])
    gpd.GeoDataFrame({"category": ["park", "supermarket"]},
                     geometry=[Point(300, 300), Point(700, 600)], crs=CRS).to_file(tmp_path / "new.gpkg")
    gpd.GeoDataFrame({"kind": ["park"]}, geometry=[Point(300, 300)], crs=CRS).to_file(tmp_path / "nocat.gpkg")
    return path


def _whatif(path, *args, code=0):
    res = CliRunner().invoke(main, ["whatif", str(path), *args])
    assert res.exit_code == code, res.output
    return " ".join(res.output.split())


def test_cli_reports_and_stores_the_change_leaving_the_living_circle_alone(workspace, tmp_path):
    CliRunner().invoke(main, ["analyze", str(workspace), "living_circle", "--isochrones", "none"])
    lc_before = ws.read_layer(workspace, "lc_communities")
    out = _whatif(workspace, "--add-facility", str(tmp_path / "new.gpkg"), "-o", str(tmp_path / "c.csv"))
    assert "criterion 10" in out and "→" in out
    comm = ws.read_layer(workspace, "whatif_communities")
    assert set(comm["tier"]) == {"5min", "10min", "15min"}
    assert (comm["share_after"] >= comm["share_before"] - 1e-12).all()
    assert len(ws.read_layer(workspace, "whatif_criteria")) == 3
    pd.testing.assert_frame_equal(pd.DataFrame(ws.read_layer(workspace, "lc_communities")),
                                  pd.DataFrame(lc_before))
    assert (tmp_path / "c.csv").exists()
    from gcgeo import maps

    m = maps.dashboard(ws.read_layers(workspace), views=["planning"], lang="en", basemap="none")
    assert "What-if change: 15-minute living circle" in m.get_root().render()
    assert "--overwrite" in _whatif(workspace, "--remove-facility", "#0", code=2)
    _whatif(workspace, "--close-street", "S0", "--overwrite")


def test_cli_walks_the_network_kept_beside_the_workspace(workspace, tmp_path, monkeypatch):
    """The what-if reads the walking network kept beside the workspace (built by its first
    run) instead of building it again, and its changes come out as on a network built afresh."""
    from gcgeo import network_cache
    from gcgeo.planning import state as state_mod

    cache = network_cache.cache_path(workspace)
    assert not cache.exists()
    _whatif(workspace, "--close-street", "S0")
    assert cache.exists()  # built by this run, kept once its results were stored
    fresh = pd.DataFrame(ws.read_layer(workspace, "whatif_communities"))
    builds = []
    for mod in (network_cache, state_mod):
        real = mod.network_from_streets
        monkeypatch.setattr(mod, "network_from_streets",
                            lambda *a, real=real, **k: builds.append(1) or real(*a, **k))
    _whatif(workspace, "--close-street", "S0", "--overwrite")
    assert builds == []
    pd.testing.assert_frame_equal(pd.DataFrame(ws.read_layer(workspace, "whatif_communities")), fresh)
    _whatif(workspace, "--add-facility", str(tmp_path / "new.gpkg"), "--overwrite")
    assert builds == []
    added = pd.DataFrame(ws.read_layer(workspace, "whatif_communities"))
    monkeypatch.undo()
    cache.unlink()  # the same change on a network built now
    _whatif(workspace, "--add-facility", str(tmp_path / "new.gpkg"), "--overwrite")
    pd.testing.assert_frame_equal(pd.DataFrame(ws.read_layer(workspace, "whatif_communities")), added)


@pytest.mark.parametrize("args, needles", [
    (["--remove-facility", "F1,NOPE"], ["--remove-facility", "NOPE"]),
    (["--close-street", "X9"], ["--close-street", "X9", "streets"]),
    (["--add-facility", "{d}/nocat.gpkg"], ["--add-facility", "nocat.gpkg", "'category'"]),
    (["--add-facility", "{d}/missing.gpkg"], ["--add-facility", "no such file"]),
    (["--open-link", "{d}/new.gpkg"], ["--open-link", "new.gpkg", "lines"]),
    ([], ["give a change"]),
])
def test_cli_bad_input(workspace, tmp_path, args, needles):
    out = _whatif(workspace, *[a.format(d=tmp_path) for a in args], code=2)
    for n in needles:
        assert n in out, out
