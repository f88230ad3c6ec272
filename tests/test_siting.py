"""Siting (gcgeo.planning.siting, `gcgeo site`): the K sites bringing most unserved
residents within the tier, against brute force over every choice of K, and bad input."""

from __future__ import annotations

import itertools
import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import sparse
from shapely.geometry import Point
from test_living_circle import CRS, _random_case

from gcgeo import workspace as ws
from gcgeo.analysis import living_circle as lc
from gcgeo.cli import main
from gcgeo.planning import load_state
from gcgeo.planning.siting import coverage, site, solve_mclp

# ---- the covering problem against brute force --------------------------------------


def _brute(cover: np.ndarray, w: np.ndarray, k: int) -> float:
    best = 0.0
    for comb in itertools.combinations(range(cover.shape[0]), min(k, cover.shape[0])):
        best = max(best, float(w[cover[list(comb)].any(axis=0)].sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_coverage_equals_networkx_from_either_side(seed):
    # sites x demand within reach, searched from the smaller side on the nodes near each
    # chunk of neighbours: the pairs networkx finds from every site alone
    import networkx as nx

    rng = np.random.default_rng(seed)
    n = 220
    xy = rng.uniform(0, 3000, (n, 2))
    G = nx.Graph()
    G.add_nodes_from(range(n))
    for i in range(n):
        d = np.hypot(*(xy - xy[i]).T)
        for j in np.flatnonzero((d > 0) & (d < 380)):
            if i < j and rng.random() < 0.6:
                G.add_edge(i, int(j), weight=float(d[j]) * rng.uniform(1.0, 1.3))
    csr = nx.to_scipy_sparse_array(G, nodelist=range(n), weight="weight", format="csr")
    csr = sparse.csr_matrix(csr)
    reach = 700.0
    for n_sites, n_demand in ((90, 40), (40, 90)):  # either side the smaller
        sites = rng.choice(n, n_sites, replace=False)
        demand = rng.choice(n, n_demand, replace=True)
        got = coverage(csr, sites, demand, reach, site_xy=xy[sites], demand_xy=xy[demand]).toarray()
        want = np.zeros((n_sites, n_demand), bool)
        for a, s_ in enumerate(sites):
            dist = nx.single_source_dijkstra_path_length(G, int(s_), cutoff=reach)
            want[a] = [int(h) in dist for h in demand]
        assert want.any() and not want.all()
        np.testing.assert_array_equal(got, want)
        # the same without positions (chunks in the given order)
        np.testing.assert_array_equal(coverage(csr, sites, demand, reach).toarray(), want)


@pytest.mark.parametrize("seed", range(25))
def test_exact_equals_brute_force_and_greedy_keeps_its_bound(seed):
    rng = np.random.default_rng(seed)
    n_s, n_d = int(rng.integers(2, 9)), int(rng.integers(1, 15))
    cover = rng.random((n_s, n_d)) < rng.uniform(0.1, 0.5)
    w = rng.integers(0, 100, n_d).astype(float)
    k = int(rng.integers(1, n_s + 1))
    best = _brute(cover, w, k)
    ex = solve_mclp(sparse.csr_matrix(cover), w, k, method="exact")
    assert ex.value == pytest.approx(best)
    assert ex.optimal and ex.upper_bound == pytest.approx(best)
    assert len(ex.chosen) <= k
    assert float(w[cover[ex.chosen].any(axis=0)].sum()) == pytest.approx(best)
    assert ex.gains.sum() == pytest.approx(best)
    gr = solve_mclp(sparse.csr_matrix(cover), w, k, method="greedy")
    assert float(w[cover[gr.chosen].any(axis=0)].sum()) == pytest.approx(gr.value)
    assert gr.value >= (1 - (1 - 1 / k) ** k) * best - 1e-9
    assert gr.upper_bound >= best - 1e-9  # a bound on the optimum, never below it
    assert gr.value <= best + 1e-9


def test_greedy_bound_on_the_classic_bad_case():
    # greedy takes the middle site (6) then two more (8), where both sides give 10
    cover = np.array([[1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
                      [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
                      [0, 0, 1, 1, 1, 1, 1, 1, 0, 0]], bool)
    w = np.ones(10)
    gr = solve_mclp(sparse.csr_matrix(cover), w, 2, method="greedy")
    best = _brute(cover, w, 2)
    assert gr.chosen[0] == 2 and gr.value == 8 and best == 10
    assert gr.upper_bound >= best
    assert solve_mclp(sparse.csr_matrix(cover), w, 2, method="exact").value == pytest.approx(best)


# ---- on the network, against rerunning the living circle ------------------------------


def _served(layers, category, tier_m):
    o = lc.run(layers, isochrones="none")["lc_origins"]
    d = np.nan_to_num(o[f"dist_{category}_m"].to_numpy(float), nan=np.inf)
    return o["population"].to_numpy(float), d <= tier_m


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_sites_equal_brute_force_over_living_circle_reruns(seed, caplog):
    caplog.set_level(logging.ERROR)
    _, layers = _random_case(seed)
    st = load_state(layers)
    rng = np.random.default_rng(seed)
    cand = gpd.GeoDataFrame({"id": [f"c{i}" for i in range(6)]},
                            geometry=[Point(p) for p in rng.uniform(0, 1000, (6, 2))], crs=CRS)
    k = 2
    res = site(st, "supermarket", k, candidates=cand)
    T = st.tiers[st.tier_of("supermarket")]
    pop, before = _served(layers, "supermarket", T)
    best = 0.0
    for comb in itertools.combinations(range(len(cand)), k):
        add = gpd.GeoDataFrame({"category": ["supermarket"] * k},
                               geometry=list(cand.geometry.iloc[list(comb)]), crs=CRS)
        lay = dict(layers, facilities=pd.concat([layers["facilities"], add], ignore_index=True))
        _, after = _served(lay, "supermarket", T)
        best = max(best, float(pop[after & ~before].sum()))
    assert res.method == "exact" and res.optimal
    assert res.residents_new == pytest.approx(best)
    assert res.sites["residents_new"].sum() == pytest.approx(best)
    # the chosen sites, added as facilities, serve exactly that many more
    lay = dict(layers, facilities=pd.concat(
        [layers["facilities"], res.sites[["category", "geometry"]]], ignore_index=True))
    _, after = _served(lay, "supermarket", T)
    assert float(pop[after & ~before].sum()) == pytest.approx(best)
    assert res.residents_unserved == pytest.approx(float(pop[~before & (pop > 0)].sum()))


def test_street_nodes_as_candidates_greedy_within_bound(caplog):
    caplog.set_level(logging.ERROR)
    _, layers = _random_case(0)
    st = load_state(layers)
    ex = site(st, "park", 3, method="exact")
    gr = site(st, "park", 3, method="greedy")
    assert ex.candidates == st.net.n_nodes
    assert gr.residents_new <= ex.residents_new + 1e-9
    assert gr.residents_new >= (1 - (1 - 1 / 3) ** 3) * ex.residents_new
    assert gr.upper_bound >= ex.residents_new - 1e-9
    # a node site, added as a park there, serves what it says
    T = st.tiers[st.tier_of("park")]
    pop, before = _served(layers, "park", T)
    lay = dict(layers, facilities=pd.concat(
        [layers["facilities"], ex.sites[["category", "geometry"]]], ignore_index=True))
    _, after = _served(lay, "park", T)
    assert float(pop[after & ~before].sum()) == pytest.approx(ex.residents_new)


# ---- bad input ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    _, layers = _random_case(0)
    path = tmp_path_factory.mktemp("site") / "w.gpkg"
    ws.init(path, name="w")
    for kind in ("streets", "buildings", "facilities", "communities"):
        ws.add_layer(path, kind, layers[kind])
    cand = tmp_path_factory.mktemp("cand")
    pts = gpd.GeoDataFrame({"id": ["a", "b", "c"]},
                           geometry=[Point(200, 200), Point(600, 500), Point(800, 100)], crs=CRS)
    pts.to_file(cand / "cand.gpkg")
    pts.to_crs(4326).to_file(cand / "cand_wgs84.geojson")
    with warnings.catch_warnings():  # a file without a CRS, on purpose
        warnings.simplefilter("ignore", UserWarning)
        pts.set_crs(None, allow_override=True).to_file(cand / "nocrs.shp")
    pts.iloc[:0].to_file(cand / "empty.gpkg")
    gpd.GeoDataFrame(geometry=[Point(5e5, 4e6)], crs=CRS).to_file(cand / "far.gpkg")
    (cand / "broken.gpkg").write_text("not a geopackage")
    return path, cand


def _site(path, *args, code=0):
    res = CliRunner().invoke(main, ["site", str(path), *args])
    assert res.exit_code == code, res.output
    return res.output


def test_cli_writes_sites_layer_and_asks_before_replacing(workspace, tmp_path):
    path, cand = workspace
    out = _site(path, "--category", "supermarket", "--k", "2", "--candidates", str(cand / "cand.gpkg"),
                "-o", str(tmp_path / "sites.geojson"))
    assert "newly served" in out and "optimal" in out
    sites = ws.read_layer(path, "lc_sites")
    assert set(sites["category"]) == {"supermarket"} and len(sites) <= 2
    assert set(sites["candidate_id"]) <= {"a", "b", "c"}
    assert (tmp_path / "sites.geojson").exists()
    # the same candidates in WGS-84 give the same choice
    again = _site(path, "--category", "supermarket", "--k", "2", "--candidates",
                  str(cand / "cand_wgs84.geojson"), "--overwrite")
    assert "newly served" in again
    assert sorted(ws.read_layer(path, "lc_sites")["candidate_id"]) == sorted(sites["candidate_id"])
    out = _site(path, "--category", "supermarket", "--k", "1", code=2)
    assert "--overwrite" in out
    _site(path, "--category", "park", "--k", "1")
    assert set(ws.read_layer(path, "lc_sites")["category"]) == {"supermarket", "park"}
    from gcgeo import maps

    m = maps.dashboard(ws.read_layers(path), views=["planning"], lang="en", basemap="none")
    assert "Sites chosen" in m.get_root().render()


@pytest.mark.parametrize("args, needles", [
    (["--category", "cinema", "--k", "1"], ["--category 'cinema'", "kindergarten", "supermarket"]),
    (["--category", "park", "--k", "0"], ["--k", "1 or more"]),
    (["--category", "park", "--k", "-2"], ["--k", "1 or more"]),
    (["--category", "park", "--k", "4", "--candidates", "{cand}/cand.gpkg"], ["--k 4", "3 candidate"]),
    (["--category", "park", "--k", "1", "--candidates", "{cand}/empty.gpkg"], ["--candidates", "no candidate"]),
    (["--category", "park", "--k", "1", "--candidates", "{cand}/nocrs.shp"], ["nocrs.shp", "CRS"]),
    (["--category", "park", "--k", "1", "--candidates", "{cand}/far.gpkg"], ["far.gpkg", "none of its"]),
    (["--category", "park", "--k", "1", "--candidates", "{cand}/broken.gpkg"], ["--candidates", "broken.gpkg"]),
    (["--category", "park", "--k", "1", "--candidates", "{cand}/missing.gpkg"], ["--candidates", "no such file"]),
    (["--category", "park", "--k", "1", "--tier", "20min"], ["--tier '20min'", "5min"]),
])
def test_bad_input_is_named(workspace, args, needles):
    path, cand = workspace
    out = _site(path, *[a.format(cand=cand) for a in args], code=2)
    flat = " ".join(out.split())
    for n in needles:
        assert n in flat, flat
