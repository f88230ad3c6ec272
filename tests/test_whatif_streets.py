"""What-if on the streets (gcgeo.planning.whatif close_streets / open_links): the
network is changed in place, not built again, and the result equals loading
and rerunning the living circle on the changed streets: every home's distance
per category, the homes reached, where homes and facilities snap."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, MultiLineString, Point, box
from test_living_circle import _rules

from gcgeo.analysis import living_circle as lc
from gcgeo.network import joined_by_ids
from gcgeo.network.update import after_addition, after_removal, tight_heads
from gcgeo.planning import load_state
from gcgeo.planning.whatif import whatif

CRS = 32650
RULES = {"supermarket": ["5min"], "park": ["10min"], "pharmacy": ["15min"]}
REBUILT = "built again"


def _rerun(layers, rules=None):
    return load_state(layers, rules=rules or _rules(RULES))


def _assert_same(after, layers, rules=None):
    """``after`` against loading ``layers`` afresh and against `living_circle.run` on them."""
    r = rules or _rules(RULES)
    ref = load_state(layers, rules=r)
    out = lc.run(layers, rules=r, isochrones="none")["lc_origins"]
    for c in after.categories:
        np.testing.assert_allclose(after.distances[c], ref.distances[c], atol=1e-6, rtol=0)
        np.testing.assert_allclose(after.distances[c], out[f"dist_{c}_m"].to_numpy(float),
                                   atol=1e-6, rtol=0)
    for mine, theirs in ((after.home_snaps, ref.home_snaps),
                         (after.facility_snaps, ref.facility_snaps)):
        assert (mine["off_network"].to_numpy() == theirs["off_network"].to_numpy()).all()
        for k in ("snap_x", "snap_y", "connector_m"):
            np.testing.assert_allclose(mine[k].to_numpy(float), theirs[k].to_numpy(float),
                                       atol=1e-6, rtol=0)
    return ref


def _grid(rng, n=6, step=100.0, span=3):
    """A street grid drawn as lines running over up to ``span`` blocks (so that
    other lines end on them), some blocks left out (dead ends)."""
    lines = []
    for i in range(n):
        for vertical in (True, False):
            j = 0
            while j < n - 1:
                k = min(n - 1, j + int(rng.integers(1, span + 1)))
                a, b = (i * step, j * step), (i * step, k * step)
                if not vertical:
                    a, b = a[::-1], b[::-1]
                if rng.random() > 0.1:
                    lines.append(LineString([a, b]))
                j = k
    return gpd.GeoDataFrame({"id": [f"S{i}" for i in range(len(lines))]}, geometry=lines, crs=CRS)


def _city(seed, n_homes=60, n_fac=9):
    rng = np.random.default_rng(seed)
    streets = _grid(rng)
    hxy = rng.uniform(-20, 520, (n_homes, 2))
    homes = gpd.GeoDataFrame({"use": "residential", "population": rng.integers(1, 50, n_homes) * 1.0},
                             geometry=[box(x - 2, y - 2, x + 2, y + 2) for x, y in hxy], crs=CRS)
    fac = gpd.GeoDataFrame({"id": [f"F{i}" for i in range(n_fac)],
                            "category": rng.choice(list(RULES), n_fac)},
                           geometry=[Point(p) for p in rng.uniform(0, 500, (n_fac, 2))], crs=CRS)
    return {"streets": streets, "buildings": homes, "facilities": fac}, rng


def _with_ids(streets, step=100.0):
    """The streets with OSM-style node ids from their end points (an import with ``u``/``v``)."""
    ends = np.array([[line.coords[0], line.coords[-1]] for line in streets.geometry])
    key = np.round(ends / step).astype(np.int64)
    ids = key[..., 0] * 1000 + key[..., 1] + 10_000
    return streets.assign(u=ids[:, 0], v=ids[:, 1])


def _random_link(rng, net):
    """A line between two of: a node, a point inside an edge, a free point."""
    pts = []
    for kind in rng.choice(3, 2):
        if kind == 0:
            i = rng.integers(net.n_nodes)
            pts.append((net.x[i], net.y[i]))
        elif kind == 1:
            g = net.lines[rng.integers(net.n_edges)]
            p = g.interpolate(rng.uniform(0.2, 0.8), normalized=True)
            pts.append((p.x, p.y))
        else:
            pts.append(tuple(rng.uniform(0, 500, 2)))
    return LineString(pts)


@pytest.mark.parametrize("seed", range(8))
def test_random_closures_and_links_equal_a_rebuild(seed, caplog):
    caplog.set_level(logging.INFO, logger="gcgeo.planning.whatif")
    layers, rng = _city(seed)
    if seed % 2:
        layers["streets"] = _with_ids(layers["streets"])
    state = load_state(layers, rules=_rules(RULES))
    streets = layers["streets"]
    closed = list(streets["id"].iloc[rng.choice(len(streets), int(rng.integers(1, 5)),
                                                 replace=False)])
    res = whatif(state, close_street=closed)
    _assert_same(res.after, dict(layers, streets=streets[~streets["id"].isin(closed)]))
    # two random links, a diagonal through the grid's nodes and one ending on it
    lines = [_random_link(rng, state.net) for _ in range(2)]
    lines += [LineString([(100, 100), (400, 400)]), LineString([(150, 150), (150, 100)])]
    links = gpd.GeoDataFrame(geometry=lines, crs=CRS)
    res = whatif(state, open_link=links)
    if seed % 2:  # the streets keep their node ids: the rerun is on the layer the what-if made
        assert joined_by_ids(res.after.streets)
        changed = res.after.streets
    else:
        changed = pd.concat([streets, links], ignore_index=True)
    _assert_same(res.after, dict(layers, streets=changed))
    # one change after another: the link, then closing streets on the new network
    res2 = whatif(res.after, close_street=closed[:1])
    _assert_same(res2.after, dict(layers, streets=res2.after.streets))
    assert REBUILT not in caplog.text


def _two_streets(**kw):
    """Streets a (y = 0) and b (y = 30) from x = 0 to 1000, joined at both ends."""
    lines = [LineString([(0, 0), (1000, 0)]), LineString([(0, 30), (1000, 30)]),
             LineString([(0, 0), (0, 30)]), LineString([(1000, 0), (1000, 30)])]
    return gpd.GeoDataFrame({"id": ["a", "b", "w", "e"], **kw}, geometry=lines, crs=CRS)


def test_closing_the_street_a_home_and_a_facility_lie_on_snaps_them_onto_the_next(caplog):
    caplog.set_level(logging.INFO, logger="gcgeo.planning.whatif")
    homes = gpd.GeoDataFrame({"use": "residential", "population": [10.0]},
                             geometry=[box(498, 8, 502, 12)], crs=CRS)
    fac = gpd.GeoDataFrame({"id": ["k"], "category": ["supermarket"]}, geometry=[Point(100, 8)],
                           crs=CRS)
    layers = {"streets": _two_streets(), "buildings": homes, "facilities": fac}
    r = _rules({"supermarket": ["15min"]})
    state = load_state(layers, rules=r)
    assert state.distances["supermarket"][0] == pytest.approx(8 + 400 + 10)
    res = whatif(state, close_street="a")
    # both snap onto b now: 22 m and 20 m away, 400 m apart along it
    assert res.after.distances["supermarket"][0] == pytest.approx(22 + 400 + 20, abs=1e-9)
    assert res.after.home_snaps["snap_y"].iloc[0] == pytest.approx(30)
    assert res.after.facility_snaps["snap_y"].iloc[0] == pytest.approx(30)
    _assert_same(res.after, dict(layers, streets=layers["streets"].iloc[1:]), rules=r)
    assert REBUILT not in caplog.text


def _u_shape():
    """Streets a (y = 0) and b (y = 100), 400 m long, joined at x = 0 only."""
    lines = [LineString([(0, 0), (400, 0)]), LineString([(0, 100), (400, 100)]),
             LineString([(0, 0), (0, 100)])]
    return gpd.GeoDataFrame({"id": ["a", "b", "w"]}, geometry=lines, crs=CRS)


@pytest.mark.parametrize("ids", [False, True])
def test_a_link_landing_inside_two_streets_cuts_them_and_shortens_the_walk(ids, caplog):
    caplog.set_level(logging.INFO, logger="gcgeo.planning.whatif")
    streets = _u_shape()
    if ids:
        streets = streets.assign(u=[1, 3, 1], v=[2, 4, 3])
    homes = gpd.GeoDataFrame({"use": "residential", "population": [10.0, 5.0]},
                             geometry=[box(378, 108, 382, 112), box(98, 108, 102, 112)], crs=CRS)
    fac = gpd.GeoDataFrame({"id": ["k"], "category": ["park"]}, geometry=[Point(390, -5)], crs=CRS)
    layers = {"streets": streets, "buildings": homes, "facilities": fac}
    r = _rules({"park": ["15min"]})
    state = load_state(layers, rules=r)
    assert state.distances["park"][0] == pytest.approx(5 + 390 + 100 + 380 + 10)
    link = gpd.GeoDataFrame(geometry=[LineString([(380, 0), (380, 100)])], crs=CRS)
    res = whatif(state, open_link=link)
    # the facility 10 m past the link's foot, the first home at its head
    assert res.after.distances["park"][0] == pytest.approx(5 + 10 + 100 + 10, abs=1e-9)
    assert res.after.distances["park"][1] == pytest.approx(5 + 10 + 100 + 280 + 10, abs=1e-9)
    assert res.after.net.n_edges == 3 + 2 + 1  # a and b cut in two, the link
    changed = res.after.streets if ids else pd.concat([streets, link], ignore_index=True)
    if ids:  # the layer the what-if made: a and b cut at the link, new node ids
        assert len(changed) == 6 and joined_by_ids(changed)
        assert changed["u"].notna().all() and changed["v"].notna().all()
    _assert_same(res.after, dict(layers, streets=changed), rules=r)
    assert REBUILT not in caplog.text


def test_homes_nearer_the_new_link_than_their_street_walk_from_it(caplog):
    caplog.set_level(logging.INFO, logger="gcgeo.planning.whatif")
    homes = gpd.GeoDataFrame({"use": "residential", "population": [10.0, 5.0]},
                             geometry=[box(258, 43, 262, 47), box(98, 8, 102, 12)], crs=CRS)
    fac = gpd.GeoDataFrame({"id": ["k"], "category": ["park"]}, geometry=[Point(265, 103)], crs=CRS)
    layers = {"streets": _u_shape(), "buildings": homes, "facilities": fac}
    r = _rules({"park": ["15min"]})
    state = load_state(layers, rules=r)
    assert state.home_snaps["snap_y"].iloc[0] == pytest.approx(0)  # 45 m down to a
    assert state.distances["park"][0] == pytest.approx(45 + 260 + 100 + 265 + 3)
    link = gpd.GeoDataFrame(geometry=[LineString([(250, 0), (250, 100)])], crs=CRS)
    res = whatif(state, open_link=link)
    hs = res.after.home_snaps
    assert hs["snap_x"].iloc[0] == pytest.approx(250) and hs["connector_m"].iloc[0] == pytest.approx(10)
    assert hs["snap_y"].iloc[1] == pytest.approx(0) and hs["snap_x"].iloc[1] == pytest.approx(100)
    assert res.after.distances["park"][0] == pytest.approx(10 + 55 + 15 + 3, abs=1e-9)
    assert res.after.distances["park"][1] == pytest.approx(10 + 150 + 100 + 15 + 3, abs=1e-9)
    _assert_same(res.after, dict(layers, streets=pd.concat([_u_shape(), link], ignore_index=True)),
                 rules=r)
    assert REBUILT not in caplog.text


@pytest.mark.parametrize("ids", [False, True])
def test_multi_part_links_and_streets_not_walkable(ids, caplog):
    caplog.set_level(logging.INFO, logger="gcgeo.planning.whatif")
    streets = _u_shape().assign(walkable=[True, True, False])  # w is not walkable: a and b apart
    if ids:
        streets = streets.assign(u=[1, 3, 1], v=[2, 4, 3])
    homes = gpd.GeoDataFrame({"use": "residential", "population": [10.0, 5.0]},
                             geometry=[box(258, 43, 262, 47), box(98, 8, 102, 12)], crs=CRS)
    fac = gpd.GeoDataFrame({"id": ["k"], "category": ["park"]}, geometry=[Point(265, 103)], crs=CRS)
    layers = {"streets": streets, "buildings": homes, "facilities": fac}
    r = _rules({"park": ["15min"]})
    state = load_state(layers, rules=r)
    assert np.isnan(state.distances["park"]).all()
    links = gpd.GeoDataFrame(geometry=[MultiLineString([[(250, 0), (250, 100)], [(300, 0), (300, 50)]]),
                                       LineString([(10, 10), (10, 10)])], crs=CRS)
    res = whatif(state, open_link=links)
    np.testing.assert_allclose(res.after.distances["park"], [10 + 55 + 15 + 3, 10 + 150 + 100 + 15 + 3])
    changed = res.after.streets if ids else pd.concat([streets, links], ignore_index=True)
    _assert_same(res.after, dict(layers, streets=changed), rules=r)
    res = whatif(res.after, close_street="w")  # closing a street that is not walked changes nothing
    np.testing.assert_allclose(res.after.distances["park"], [83, 278])
    assert REBUILT not in caplog.text


def test_where_joining_again_could_move_streets_the_network_is_built_again(caplog):
    caplog.set_level(logging.INFO, logger="gcgeo.planning.whatif")
    # c stops 0.5 m short of a (joined by the 1 m join tolerance); d is a dead end
    streets = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"]},
        geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 0), (0, 300)]),
                  LineString([(500, 300), (500, 0.5)]), LineString([(0, 300), (300, 300)])],
        crs=CRS)
    homes = gpd.GeoDataFrame({"use": "residential", "population": [10.0, 4.0]},
                             geometry=[box(508, 148, 512, 152), box(198, 308, 202, 312)], crs=CRS)
    fac = gpd.GeoDataFrame({"id": ["k"], "category": ["park"]}, geometry=[Point(900, 5)], crs=CRS)
    layers = {"streets": streets, "buildings": homes, "facilities": fac}
    r = _rules({"park": ["15min"]})
    state = load_state(layers, rules=r)
    res = whatif(state, close_street="a")  # c's end had been moved onto a
    assert REBUILT in caplog.text
    _assert_same(res.after, dict(layers, streets=streets.iloc[1:]), rules=r)
    caplog.clear()
    link = gpd.GeoDataFrame(geometry=[LineString([(300.6, 300), (300.6, 600)])], crs=CRS)
    res = whatif(state, open_link=link)  # within the tolerance of d's dead end
    assert REBUILT in caplog.text
    _assert_same(res.after, dict(layers, streets=pd.concat([streets, link], ignore_index=True)),
                 rules=r)


def _random_graph(rng, n=60, p=0.08):
    w = rng.uniform(1, 10, (n, n)) * (rng.random((n, n)) < p)
    w = np.triu(w, 1)
    return sparse.csr_matrix(w + w.T)


@pytest.mark.parametrize("seed", range(6))
def test_distances_after_removing_or_adding_edges_equal_a_new_search(seed):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng)
    src = rng.choice(g.shape[0], 3, replace=False)
    cutoff = 25.0

    def search(m, sources=src):
        d = dijkstra(m, indices=sources, min_only=True, limit=cutoff)
        return np.where(d <= cutoff, d, np.nan)

    before = search(g)
    coo = sparse.triu(g).tocoo()
    gone = rng.random(coo.nnz) < 0.3
    keep = sparse.coo_matrix((coo.data[~gone], (coo.row[~gone], coo.col[~gone])), shape=g.shape)
    smaller = (keep + keep.T).tocsr()
    heads = tight_heads(coo.row[gone], coo.col[gone], coo.data[gone], before)
    np.testing.assert_allclose(after_removal(smaller, before, heads, cutoff), search(smaller))
    # a source taken away: searched again from where it led
    np.testing.assert_allclose(after_removal(g, before, src[:1], cutoff), search(g, src[1:]))
    # and back: the removed edges added again, searched from their ends
    ends = np.concatenate([coo.row[gone], coo.col[gone]])
    np.testing.assert_allclose(after_addition(g, search(smaller), ends, cutoff), before)
