"""Walking graph, snapping and network distances (gcgeo.network)."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _reference import assert_nearest_equal_networkx
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from gcgeo import CRSError, InputError, rules
from gcgeo.analysis import living_circle as lc
from gcgeo.network import (
    augment,
    build_graph,
    compile_network,
    dist_via_ends,
    graph_from_osmnx,
    locate_snaps,
    near_first,
    node_distances,
    point_distances,
    reach_pairs,
    snap,
    snap_points,
)

CRS = "EPSG:3857"


def _streets(lines, **cols):
    return gpd.GeoDataFrame(cols, geometry=[LineString(c) for c in lines], crs=CRS)


def _pts(xy):
    return gpd.GeoSeries([Point(p) for p in xy], crs=CRS)


# An L-shaped street (0,0)-(100,0)-(100,100) plus a spur (100,0)-(200,0).
L_STREETS = [[(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 0), (150, 0), (200, 0)]]


def test_build_graph_joins_end_points_and_measures_lengths():
    G = build_graph(_streets(L_STREETS))
    assert G.number_of_nodes() == 4
    assert G.number_of_edges() == 3
    assert sorted(d["length"] for *_, d in G.edges(data=True)) == [100.0, 100.0, 100.0]
    hub = [n for n in G if (G.nodes[n]["x"], G.nodes[n]["y"]) == (100.0, 0.0)]
    assert len(hub) == 1 and G.degree(hub[0]) == 3
    assert G.graph["crs"].to_epsg() == 3857
    net = compile_network(G)  # compiled edges run from u to v along their geometry
    for e in range(net.n_edges):
        first = shapely.get_coordinates(net.geometry[e])[0].tolist()
        assert first == [net.x[net.u[e]], net.y[net.u[e]]]


def test_build_graph_uses_node_ids_and_skips_unwalkable():
    s = _streets(L_STREETS, u=[1, 2, 2], v=[2, 3, 4], walkable=[True, True, False])
    G = build_graph(s)
    assert set(G.nodes) == {1, 2, 3}
    assert G.number_of_edges() == 2


def test_build_graph_refuses_geographic_crs():
    s = _streets(L_STREETS).set_crs(4326, allow_override=True)
    with pytest.raises(CRSError, match="geographic"):
        build_graph(s)


def test_build_graph_empty_streets_gives_empty_graph():
    G = build_graph(gpd.GeoDataFrame(geometry=[], crs=CRS))
    assert G.number_of_nodes() == 0


def test_snap_points_hand_computed():
    G = build_graph(_streets(L_STREETS))
    pts = _pts([(30, 4), (103, 60), (500, 500)])
    s = snap_points(G, pts, tolerance=50)
    assert s.loc[0, "connector_m"] == pytest.approx(4)
    assert (s.loc[0, "snap_x"], s.loc[0, "snap_y"]) == (30, 0)
    assert s.loc[1, "connector_m"] == pytest.approx(3)
    assert s.loc[1, "snap_y"] == pytest.approx(60)
    assert bool(s.loc[2, "off_network"]) and s.loc[2, "edge"] == -1
    assert not s.loc[[0, 1], "off_network"].any()
    # offset is measured from the edge's u node
    u = s.loc[0, "u"]
    assert s.loc[0, "offset"] == pytest.approx(30 if G.nodes[u]["x"] == 0 else 70)


def test_point_distances_hand_computed():
    G = build_graph(_streets(L_STREETS))
    homes = _pts([(30, 4), (190, -2), (500, 500)])
    targets = {
        "a": _pts([(103, 60)]),  # on the vertical street, 3 m off
        "b": _pts([(20, 1), (160, 5)]),  # same edge as home 0; and on the spur
        "none": _pts([(900, 900)]),  # off the network
    }
    d = point_distances(G, homes, targets, cutoff=1000, snap_tolerance=50)
    assert d.index.equals(homes.index)
    # home 0: 4 + 70 + 60 + 3
    assert d.loc[0, "a"] == pytest.approx(137)
    # home 0 to b at (20,0) along the same edge: 4 + 10 + 1
    assert d.loc[0, "b"] == pytest.approx(15)
    # home 1 (190,0) to b at (160,0): 2 + 30 + 5
    assert d.loc[1, "b"] == pytest.approx(37)
    assert d.loc[1, "a"] == pytest.approx(2 + 90 + 60 + 3)
    assert d.loc[2].isna().all()
    assert d["none"].isna().all()
    # cutoff
    d2 = point_distances(G, homes, targets, cutoff=100, snap_tolerance=50)
    assert np.isnan(d2.loc[0, "a"]) and d2.loc[0, "b"] == pytest.approx(15)


def test_dist_via_ends_takes_the_nearer_way_round_and_nan_where_nothing_is_reached():
    # nodes 0..3 at 0, 10, unreached (NaN), unreached (inf); two sources (rows)
    nd = np.array([[0.0, 10.0, np.nan, np.inf], [5.0, np.nan, 1.0, np.inf]])
    ends = np.array([[0, 1], [1, 2], [2, 3], [0, 1]])
    gaps = np.array([[30.0, 4.0], [2.0, 7.0], [1.0, 1.0], [np.nan, np.nan]])  # the last off
    conn = np.array([1.0, 2.0, 3.0, np.nan])
    got = dist_via_ends(nd, ends, gaps, conn)
    # by hand: min(0+30, 10+4)+1; min(10+2, NaN)+2; neither end; off the network
    np.testing.assert_array_equal(got[0], [15.0, 14.0, np.nan, np.nan])
    # second source: min(5+30, NaN)+1; min(NaN, 1+7)+2; min(1+1, inf)+3; off
    np.testing.assert_array_equal(got[1], [36.0, 10.0, 5.0, np.nan])


def test_point_distances_target_between_origin_and_node_on_same_edge():
    # origin and two targets on one long edge: direct along-edge distances
    G = build_graph(_streets([[(0, 0), (1000, 0)]]))
    d = point_distances(G, _pts([(500, 0)]), {"x": _pts([(450, 0), (700, 1)])}, cutoff=2000)
    assert d.loc[0, "x"] == pytest.approx(50)


def test_point_distances_uses_edge_length_not_geometry_length():
    # an OSMnx-style edge whose 'length' differs from its drawn length
    G = nx.MultiGraph(crs=CRS)
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=100.0, y=0.0)
    G.add_edge(1, 2, length=200.0)  # no geometry: straight line, scaled by 2
    d = point_distances(G, _pts([(25, 0)]), {"t": _pts([(75, 0)])}, cutoff=1000)
    assert d.loc[0, "t"] == pytest.approx(100)


def test_crs_mismatch_is_refused():
    G = build_graph(_streets(L_STREETS))
    with pytest.raises(CRSError, match="reproject"):
        snap_points(G, _pts([(0, 0)]).set_crs(32650, allow_override=True))


def test_missing_weight_is_reported():
    G = nx.MultiGraph()
    G.add_edge(1, 2)
    with pytest.raises(InputError, match="length"):
        compile_network(G)


def test_graph_from_osmnx_projects_and_keeps_length(tmp_path):
    H = nx.MultiDiGraph(crs="epsg:4326")
    H.add_node(1, x=116.0, y=36.0)
    H.add_node(2, x=116.001, y=36.0)
    H.add_edge(1, 2, key=0, length=90.2)
    H.add_edge(2, 1, key=0, length=90.2)
    G = graph_from_osmnx(H)
    assert not G.is_directed() and G.graph["crs"].is_projected
    assert math.dist((G.nodes[1]["x"], G.nodes[1]["y"]), (G.nodes[2]["x"], G.nodes[2]["y"])) == \
        pytest.approx(90.2, rel=0.01)
    path = tmp_path / "g.graphml"
    nx.write_graphml(H, path)
    G2 = graph_from_osmnx(path)
    assert sorted(d["length"] for *_, d in G2.edges(data=True)) == [90.2, 90.2]


# ---- against networkx on random graphs -----------------------------------


def _random_street_graph(seed: int, n: int = 30, p: float = 0.12):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, size=(n, 2))
    lines = []
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < p:
                lines.append([tuple(xy[i]), tuple(xy[j])])
    return build_graph(_streets(lines)) if lines else None, rng


def _reference_point_distances(G, homes, targets, cutoff, tol):
    """Independent reference: split edges with networkx and run its Dijkstra."""
    net = compile_network(G)
    H = nx.Graph()
    for a, b, d in G.edges(data=True):
        w = d["length"]
        if not H.has_edge(a, b) or H[a][b]["weight"] > w:
            H.add_edge(a, b, weight=w)
    allpts = {}
    for name, pts in [("o", homes)] + [(k, v) for k, v in targets.items()]:
        for i, p in pts.items():
            # brute-force nearest edge
            dists = [shapely.distance(p, g) for g in net.geometry]
            e = int(np.argmin(dists))
            if dists[e] > tol:
                continue
            g = net.geometry[e]
            t = g.project(p) / g.length * net.weight[e]
            allpts[(name, i)] = (e, t, dists[e])
    byedge = {}
    for key, (e, t, _c) in allpts.items():
        byedge.setdefault(e, []).append((t, key))
    for e, items in byedge.items():
        a, b = net.nodes[net.u[e]].item(), net.nodes[net.v[e]].item()
        w = net.weight[e]
        items.sort()
        # drop the original edge only if it is the unique shortest (a, b) link
        chain = [(0.0, a)] + [(t, ("snap", key)) for t, key in items] + [(w, b)]
        for (t0, n0), (t1, n1) in itertools.pairwise(chain):
            if n0 != n1:
                if H.has_edge(n0, n1):
                    H[n0][n1]["weight"] = min(H[n0][n1]["weight"], t1 - t0)
                else:
                    H.add_edge(n0, n1, weight=t1 - t0)
        for _t, key in items:
            H.add_edge(("snap", key), ("pt", key), weight=allpts[key][2])
    out = pd.DataFrame(np.nan, index=homes.index, columns=list(targets))
    for k in targets:
        srcs = [("pt", key) for key in allpts if key[0] == k]
        if not srcs:
            continue
        dist = nx.multi_source_dijkstra_path_length(H, srcs, cutoff=cutoff, weight="weight")
        for i in homes.index:
            if ("o", i) in allpts:
                out.loc[i, k] = dist.get(("pt", ("o", i)), np.nan)
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cutoff=st.floats(100, 3000))
def test_point_distances_equal_networkx_on_split_graph(seed, cutoff):
    G, rng = _random_street_graph(seed)
    if G is None:
        return
    homes = _pts(rng.uniform(-50, 1050, size=(15, 2)))
    targets = {"a": _pts(rng.uniform(0, 1000, size=(3, 2))), "b": _pts(rng.uniform(0, 1000, size=(1, 2)))}
    got = point_distances(G, homes, targets, cutoff=cutoff, snap_tolerance=120)
    want = _reference_point_distances(G, homes, targets, cutoff, 120)
    # the parallel edge the original (a,b) keeps in the reference graph never shortens a path
    pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=1e-6, rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cutoff=st.floats(50, 1500), chunk=st.integers(1, 4),
       near=st.booleans(), max_cells=st.sampled_from([1, 10**6]))
def test_reach_pairs_equal_networkx_target_by_target(seed, cutoff, chunk, near, max_cells):
    # every (home, facility) pair within the cutoff, each facility's search run on the nodes
    # near its chunk only: the same pairs and distances as networkx from each facility alone,
    # however the facilities are chunked and ordered
    G, rng = _random_street_graph(seed)
    if G is None:
        return
    homes = _pts(rng.uniform(-50, 1050, size=(15, 2)))
    fac = _pts(rng.uniform(0, 1000, size=(7, 2)))
    net = compile_network(G)
    aug = augment(net, snap(net, fac, 120))
    p = reach_pairs(aug, locate_snaps(aug, snap(net, homes, 120)), aug.target_node, cutoff=cutoff,
                    chunk=chunk, xy=shapely.get_coordinates(fac.to_numpy()) if near else None,
                    max_cells=max_cells)
    got = {(int(i), int(j)): float(d) for i, j, d in zip(p.point, p.target, p.distance)}
    assert len(got) == len(p)  # each pair once
    want = _reference_point_distances(G, homes, {f"f{j}": fac.iloc[[j]] for j in range(len(fac))},
                                      cutoff, 120).to_numpy(float)
    expected = {(int(i), int(j)): float(want[i, j]) for i, j in zip(*np.nonzero(np.isfinite(want)))}
    assert got.keys() == expected.keys()
    for key, d in expected.items():
        assert got[key] == pytest.approx(d, rel=1e-9, abs=1e-6)


def test_near_first_takes_neighbours_together():
    # two clusters 5 km apart, given interleaved: each comes out in one run
    rng = np.random.default_rng(4)
    a, b = rng.uniform(0, 400, (20, 2)), rng.uniform(5000, 5400, (20, 2))
    xy = np.empty((40, 2))
    xy[0::2], xy[1::2] = a, b
    order = near_first(xy)
    assert sorted(order.tolist()) == list(range(40))
    cluster = order % 2
    assert (np.diff(cluster) != 0).sum() == 1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), cutoff=st.floats(0, 2000), k=st.integers(1, 4))
def test_node_distances_equal_networkx(seed, cutoff, k):
    G, rng = _random_street_graph(seed, n=25)
    if G is None:
        return
    src = list(rng.choice(list(G.nodes), size=min(k, G.number_of_nodes()), replace=False))
    got = node_distances(G, src, cutoff=cutoff)
    want = pd.Series(nx.multi_source_dijkstra_path_length(G, src, cutoff=cutoff, weight="length"))
    got_reached = got.dropna()
    assert set(got_reached.index) == set(want.index)
    np.testing.assert_allclose(got_reached.loc[want.index].to_numpy(), want.to_numpy(), atol=1e-9)


# ---- snapping against brute force ------------------------------------------


def _random_polyline_streets(rng, n_lines: int):
    """Random polylines (2-5 vertices, some long) plus lines sharing end points."""
    lines = []
    for _ in range(n_lines):
        k = int(rng.integers(2, 6))
        start = rng.uniform(0, 1000, 2)
        steps = rng.normal(0, rng.choice([5.0, 40.0, 200.0]), size=(k - 1, 2))
        lines.append(np.vstack([start, start + np.cumsum(steps, axis=0)]))
    for a in range(0, n_lines - 1, 3):  # junctions: a line from the end of one to another
        lines.append(np.vstack([lines[a][-1], lines[a + 1][0]]))
    return _streets([[tuple(p) for p in c] for c in lines])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), tol=st.sampled_from([None, 15.0, 60.0]))
def test_snap_points_equal_brute_force(seed, tol):
    rng = np.random.default_rng(seed)
    G = build_graph(_random_polyline_streets(rng, 40))
    net = compile_network(G)
    xy = np.vstack([
        rng.uniform(-100, 1100, size=(150, 2)),
        # points on nodes and vertices: ties between edges meeting there
        shapely.get_coordinates(net.geometry)[rng.integers(0, 40, 20)],
    ])
    pts = _pts(xy)
    got = snap_points(net, pts, tolerance=tol)
    # brute force: exact distance from every point to every edge (GEOS)
    D = shapely.distance(pts.to_numpy()[:, None], net.geometry[None, :])
    dmin = D.min(axis=1)
    off = dmin > (np.inf if tol is None else tol)
    np.testing.assert_array_equal(got["off_network"].to_numpy(), off)
    assert (got["edge"].to_numpy()[off] == -1).all()
    on = ~off
    e = got["edge"].to_numpy()[on]
    np.testing.assert_allclose(got["connector_m"].to_numpy()[on], dmin[on], atol=1e-9, rtol=0)
    # the chosen edge is a nearest one: the brute-force argmin unless another edge is as near
    np.testing.assert_allclose(D[on][np.arange(on.sum()), e], dmin[on], atol=1e-9, rtol=0)
    tie = (D[on] <= dmin[on, None] + 1e-9).sum(axis=1) > 1
    np.testing.assert_array_equal(e[~tie], D[on].argmin(axis=1)[~tie])
    # snapped point lies on that edge, at the connector's distance from the point
    g = net.geometry[e]
    snapped = shapely.points(got[["snap_x", "snap_y"]].to_numpy()[on])
    np.testing.assert_allclose(shapely.distance(snapped, g), 0, atol=1e-9)
    np.testing.assert_allclose(shapely.distance(snapped, pts.to_numpy()[on]), dmin[on], atol=1e-9)
    # offset from u: GEOS's projection along the edge, scaled to its weight
    want = shapely.line_locate_point(g, pts.to_numpy()[on]) / shapely.length(g) * net.weight[e]
    np.testing.assert_allclose(got["offset"].to_numpy()[on], want, atol=1e-6)
    ids = net.nodes.to_numpy()
    assert (got["u"].to_numpy()[on] == ids[net.u[e]]).all()
    assert (got["v"].to_numpy()[on] == ids[net.v[e]]).all()
    assert got["u"].isna().to_numpy()[off].all()


def test_snap_points_edge_that_is_not_a_linestring():
    # an edge drawn as a MultiLineString (possible in user graphs) snaps through GEOS
    G = nx.MultiGraph(crs=CRS)
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=100.0, y=0.0)
    G.add_node(3, x=100.0, y=50.0)
    G.add_edge(1, 2, length=100.0,
               geometry=shapely.MultiLineString([[(0, 0), (50, 0)], [(50, 0), (100, 0)]]))
    G.add_edge(2, 3, length=50.0)
    net = compile_network(G)
    assert net.snap_index is None
    s = snap_points(net, _pts([(70, 3)]), tolerance=10)
    assert (s.loc[0, "u"], s.loc[0, "v"]) == (1, 2)  # oriented along its geometry
    assert s.loc[0, "connector_m"] == pytest.approx(3)
    assert s.loc[0, "offset"] == pytest.approx(70)
    assert (s.loc[0, "snap_x"], s.loc[0, "snap_y"]) == (pytest.approx(70), pytest.approx(0))


def test_snap_points_missing_empty_and_nan_points_are_off_network():
    G = build_graph(_streets(L_STREETS))
    pts = gpd.GeoSeries([Point(np.nan, np.nan), Point(30, 4), None, Point()], crs=CRS)
    for tol in (50, None):
        s = snap_points(G, pts, tolerance=tol)
        assert s["off_network"].tolist() == [True, False, True, True]
        assert s.loc[1, "connector_m"] == pytest.approx(4)
    with pytest.raises(InputError, match=r"row\(s\) \[1\]"):
        snap_points(G, gpd.GeoSeries([Point(0, 0), LineString([(0, 0), (1, 1)])], crs=CRS))


# ---- living circle: isochrones near the search limit ----------------------


def test_facility_isochrone_keeps_homes_within_limit_plus_buffer():
    # the home at (280, 10) snaps to the node at x = 280, which both edges share; it is
    # 1020 + 10 m from the facility: beyond the 15-min 1000 m but within the 50 m buffer,
    # so the isochrone keeps it whichever edge it is attributed to
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (280, 0)]), LineString([(280, 0), (1300, 0)])], crs=CRS)
    homes = gpd.GeoDataFrame({"population": [10.0, 10.0]},
                             geometry=[Point(280, 10), Point(150, 10)], crs=CRS)
    layers = {"streets": streets, "facilities": gpd.GeoDataFrame(
        {"category": ["supermarket"]}, geometry=[Point(1300, 0)], crs=CRS)}
    r = rules.load("living_circle")
    r["categories"] = {"supermarket": {"tiers": ["15min"], "clause": "test", "status": "local"}}
    out = lc.run(layers, rules=r, origins=homes, isochrones="facility")
    f15 = out["lc_isochrones"].geometry.iloc[0]
    assert f15.covers(Point(280, 10)) and f15.covers(Point(800, 0))
    # the home at 1160 m is farther than 1000 + 50 m: the area nearest to it is cut away
    assert not f15.covers(Point(150, 10)) and not f15.covers(Point(240, 0))


def test_walkable_read_in_planners_words_and_bad_values_named():
    from gcgeo import InputError
    from gcgeo.network import build_graph

    streets = gpd.GeoDataFrame(
        {"walkable": ["是", "否", None]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)]),
                  LineString([(100, 0), (100, 50)])], crs=CRS)
    G = build_graph(streets)
    assert G.number_of_edges() == 2  # the 否 row is left out, the blank one kept
    with pytest.raises(InputError, match="'walkable'.*maybe"):
        build_graph(streets.assign(walkable=["是", "maybe", None]))


def test_a_network_in_pieces_is_reported(caplog):
    import logging

    streets = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(100.3, 0), (200, 0)])], crs=CRS)
    layers = {"streets": streets,
              "facilities": gpd.GeoDataFrame({"category": ["supermarket"]},
                                             geometry=[Point(200, 5)], crs=CRS)}
    homes = gpd.GeoDataFrame({"population": [1.0]}, geometry=[Point(10, 5)], crs=CRS)
    r = rules.load("living_circle")
    r["categories"] = {"supermarket": {"tiers": ["5min"], "clause": "t", "status": "local"}}
    exact = {"living_circle": r, "network": {"join_tolerance": 0}}  # join only meeting ends
    with caplog.at_level(logging.INFO, logger="gcgeo"):
        out = lc.run(layers, rules=exact, origins=homes, isochrones="none")
    assert "2 separate parts" in caplog.text  # a 0.3 m gap splits the street
    assert np.isnan(out["lc_origins"]["dist_supermarket_m"].iloc[0])
    # by default (network.join_tolerance, 1 m) the near miss is joined: the first
    # line's end moves to (100.3, 0), and the walk is 5 + 90.3 + 99.7 + 5 m
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="gcgeo"):
        out = lc.run(layers, rules=r, origins=homes, isochrones="none")
    assert "separate parts" not in caplog.text
    assert out["lc_origins"]["dist_supermarket_m"].iloc[0] == pytest.approx(200.0)


# ---- near misses of hand-drawn streets ------------------------------------


def test_join_tolerance_joins_dangling_ends_only():
    lines = [
        [(0, 0), (100, 0)],  # A
        [(50, 0.6), (50, 80)],  # B: stops 0.6 m short of A (a T)
        [(0, -100), (100, -100)], [(100.4, -99.7), (200, -100)],  # K, C: ends 0.5 m apart
        [(30, -50), (30, -1.5)],  # D: 1.5 m short of A, beyond the tolerance
        [(60, -30), (60, 30)],  # E: crosses A without a shared vertex (a bridge)
        [(0, 20), (80, 0.5), (90, 20)],  # F: its bend is 0.5 m from A, not an end
        [(20, 30), (20, 0.8)], [(20, 0.8), (25, 40)],  # G, H meet 0.8 m from A: a node, not a dangle
    ]
    streets = _streets(lines)
    plain = build_graph(streets)
    G = build_graph(streets, join_tolerance=1.0)
    assert G.number_of_edges() == plain.number_of_edges() + 1  # A split once, at B's foot
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    at = {p: n for n, p in xy.items()}
    foot = at[(50.0, 0.0)]  # B's end moved onto A, which is split there
    assert G.degree(foot) == 3
    b = [d for _, n, d in G.edges(foot, data=True) if d["length"] > 70][0]
    assert b["length"] == pytest.approx(79.4 + 0.6)
    # K and C: C's start comes first (starts before ends), K's end moves onto it
    assert G.degree(at[(100.4, -99.7)]) == 2 and (100.0, -100.0) not in at
    # D, E, F, G/H are left as they were
    assert (30.0, -1.5) in at and G.degree(at[(30.0, -1.5)]) == 1
    assert G.degree(at[(60.0, 30.0)]) == 1 and G.degree(at[(60.0, -30.0)]) == 1
    assert G.degree(at[(20.0, 0.8)]) == 2
    assert nx.number_connected_components(G) == nx.number_connected_components(plain) - 2
    # the streets layer itself is not touched
    assert streets.geometry.iloc[1].coords[0] == (50, 0.6)
    with pytest.raises(InputError, match="join_tolerance"):
        build_graph(streets, join_tolerance=-1)


# ---- chains of degree-2 nodes ----------------------------------------------


def _chainy_graph(rng) -> nx.MultiGraph:
    """A random junction graph whose edges are cut into chains of degree-2 nodes,
    with parallel chains, a chain looping back to its junction, a detached ring,
    dead-end chains, zero lengths and parallel edges."""
    J = nx.gnm_random_graph(12, 20, seed=int(rng.integers(1 << 30)))
    G = nx.MultiGraph()
    G.add_nodes_from(J.nodes)
    nxt = [100]

    def chain(a, b, k):
        prev = a
        for _ in range(k):
            G.add_edge(prev, nxt[0], length=float(rng.choice([0.0, *rng.uniform(1, 120, 5)])))
            prev = nxt[0]
            nxt[0] += 1
        G.add_edge(prev, b, length=float(rng.uniform(0, 120)))

    for a, b in J.edges:
        chain(a, b, int(rng.integers(0, 6)))
        if rng.random() < 0.2:
            chain(a, b, int(rng.integers(0, 4)))  # a second way between the same junctions
        if rng.random() < 0.1:
            G.add_edge(a, b, length=float(rng.uniform(0, 50)))  # a parallel edge
    chain(0, 0, 4)  # loops back to where it starts
    chain(1, 1000, 3)  # dead end
    for j in J.nodes:  # dead-end spurs: once set aside, their junctions join chains
        if rng.random() < 0.6:
            chain(j, 2000 + j, int(rng.integers(0, 3)))
    ring = [nxt[0] + i for i in range(5)]
    nx.add_cycle(G, ring, length=10.0)  # a ring reached by nothing
    return G


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), cutoff=st.floats(0, 800), k=st.integers(1, 4))
def test_contracted_chains_give_networkx_distances(seed, cutoff, k):
    from gcgeo.network import contract_chains

    rng = np.random.default_rng(seed)
    G = _chainy_graph(rng)
    net = compile_network(G)
    nodes = list(G.nodes)
    # sources at junctions and inside chains alike
    sources = {f"c{i}": [nodes[j] for j in rng.choice(len(nodes), size=int(rng.integers(1, 4)),
                                                     replace=False)] for i in range(k)}
    keep = np.concatenate([net.nodes.get_indexer(s) for s in sources.values()])
    chains = contract_chains(net.csr(), keep)
    assert chains is not None and len(chains.interior) > 0.3 * net.n_nodes  # the path is taken
    got = lc.nearest_facility_distance(G, sources, cutoff=cutoff)
    assert_nearest_equal_networkx(got, G, sources, cutoff)


def test_chains_hand_computed():
    from gcgeo.network import contract_chains, multi_source

    # junction 0 -(10)- 1 -(20)- 2 -(30)- 3 (junction, with a spur 3-4 and 3-5),
    # and a ring 6-7-8 of its own
    G = nx.MultiGraph()
    for a, b, w in [(0, 1, 10), (1, 2, 20), (2, 3, 30), (3, 4, 5), (3, 5, 5), (0, 9, 1),
                    (0, 10, 1), (6, 7, 1), (7, 8, 1), (8, 6, 1)]:
        G.add_edge(a, b, length=float(w))
    net = compile_network(G)
    pos = net.nodes.get_indexer
    ch = contract_chains(net.csr(), pos([0]))
    assert sorted(net.nodes[ch.interior]) == [1, 2, 6, 7, 8]
    # dead ends are set aside, each with its one neighbour
    assert dict(zip(net.nodes[ch.leaf], net.nodes[ch.leaf_to])) == {4: 3, 5: 3, 9: 0, 10: 0}
    # the core is 0 and 3, joined by the chain 0-1-2-3 as one edge of 60 m
    assert sorted(net.nodes[ch.core]) == [0, 3]
    core = list(net.nodes[ch.core])
    assert ch.csr[core.index(0), core.index(3)] == ch.csr[core.index(3), core.index(0)] == 60.0
    assert ch.csr.nnz == 2
    # contracted again: with the source at 0, node 3 is now a dead end of the core
    assert ch.inner is not None and list(ch.inner.leaf) == [core.index(3)]
    d = multi_source(net.csr(), pos([0]), 1000.0, chains=ch)
    want = {0: 0, 1: 10, 2: 30, 3: 60, 4: 65, 5: 65, 9: 1, 10: 1}
    got = dict(zip(net.nodes, d))
    assert {k: got[k] for k in want} == pytest.approx(want)
    assert all(np.isnan(got[k]) for k in (6, 7, 8))
    # a source inside the chain must be kept; from node 2 with a 25 m cutoff
    ch2 = contract_chains(net.csr(), pos([2]))
    d2 = dict(zip(net.nodes, multi_source(net.csr(), pos([2]), 25.0, chains=ch2)))
    assert d2[2] == 0 and d2[1] == 20 and np.isnan(d2[0]) and np.isnan(d2[3])


# ---- the network straight from the streets layer -----------------------------


def _same_network(a, b):
    assert list(a.nodes) == list(b.nodes)
    for f in ("x", "y", "u", "v", "weight", "geom_length"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert shapely.equals_exact(a.geometry, b.geometry, 0).all()
    assert a.crs == b.crs and a.directed == b.directed


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), with_ids=st.booleans())
def test_network_from_streets_equals_the_compiled_networkx_graph(seed, with_ids):
    """Same nodes, edges in the same order (snapping breaks ties by edge order),
    lengths and geometries as compile_network(build_graph(...))."""
    from gcgeo.network import network_from_streets

    rng = np.random.default_rng(seed)
    streets = _random_polyline_streets(rng, 25)
    # parallel streets, reversed duplicates and a loop back to its start
    streets = pd.concat([streets, streets.iloc[:3],
                         streets.iloc[3:5].set_geometry(streets.geometry.iloc[3:5].reverse()),
                         _streets([[(0, 0), (50, 0), (50, 50), (0, 0)]])], ignore_index=True)
    if with_ids:  # as an OSM import gives them: node ids at the ends, lines drawn u -> v
        G = build_graph(streets)
        net = compile_network(G)
        streets = gpd.GeoDataFrame(
            {"u": net.nodes[net.u].to_numpy()[::-1], "v": net.nodes[net.v].to_numpy()[::-1]},
            geometry=net.geometry[::-1], crs=CRS)
    _same_network(network_from_streets(streets), compile_network(build_graph(streets)))
    # and with near misses joined (no effect where node ids are given)
    _same_network(network_from_streets(streets, join_tolerance=3.0),
                  compile_network(build_graph(streets, join_tolerance=3.0)))


def test_network_from_streets_on_helsinki_and_empty():
    from pathlib import Path

    from gcgeo.network import network_from_streets
    from gcgeo.osm import read_osm

    pbf = Path(__file__).parent / "data" / "osm" / "helsinki_center.osm.pbf"
    helsinki_streets = read_osm(pbf)["streets"].to_crs(3067)  # with OSM node ids u, v
    assert {"u", "v"} <= set(helsinki_streets.columns)

    _same_network(network_from_streets(helsinki_streets),
                  compile_network(build_graph(helsinki_streets)))
    empty = helsinki_streets.iloc[:0]
    assert network_from_streets(empty).n_edges == 0 == compile_network(build_graph(empty)).n_edges


# ---- networks from node and edge tables --------------------------------------


def _edge_table(G):
    rows = [(a, b, k, d["length"], d["geometry"]) for a, b, k, d in G.edges(keys=True, data=True)]
    edges = gpd.GeoDataFrame(rows, columns=["u", "v", "key", "length", "geometry"],
                             geometry="geometry", crs=CRS)
    return edges.set_index(["u", "v", "key"])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_network_from_osmnx_style_tables_equals_the_graph(seed):
    """The tables OSMnx's graph_to_gdfs gives (edges indexed by u, v, key, some
    lines drawn v -> u) make the same network as the graph: same distances, same
    snapping."""
    from gcgeo.network import network_from_frames

    G, rng = _random_street_graph(seed)
    if G is None:
        return
    nodes = pd.DataFrame({"x": [d["x"] for _, d in G.nodes(data=True)],
                          "y": [d["y"] for _, d in G.nodes(data=True)]}, index=list(G.nodes))
    edges = _edge_table(G)
    flip = rng.random(len(edges)) < 0.5
    edges.loc[flip, "geometry"] = edges.geometry[flip].reverse()
    net = network_from_frames(nodes, edges)
    assert net.crs == compile_network(G).crs and net.n_edges == G.number_of_edges()
    src = list(rng.choice(list(G.nodes), size=3))
    want = pd.Series(nx.multi_source_dijkstra_path_length(G, src, cutoff=800, weight="length"))
    got = node_distances(net, src, cutoff=800).dropna()
    assert set(got.index) == set(want.index)
    np.testing.assert_allclose(got.loc[want.index].to_numpy(), want.to_numpy(), atol=1e-9)
    pts = _pts(rng.uniform(0, 1000, size=(20, 2)))
    a, b = snap_points(net, pts, tolerance=100), snap_points(G, pts, tolerance=100)
    same = ["connector_m", "snap_x", "snap_y", "off_network"]
    pd.testing.assert_frame_equal(a[same], b[same], atol=1e-9)
    on = ~a["off_network"].to_numpy()
    # a point nearest to where two streets meet or cross may go to either (the
    # tie is decided by rounding, which a line's direction changes)
    tie = on & (a["edge"] != b["edge"]).to_numpy()
    at = shapely.points(a[["snap_x", "snap_y"]].to_numpy()[tie])
    for frame in (a, b):
        assert (shapely.distance(net.lines[frame["edge"].to_numpy()[tie]], at) < 1e-6).all()
    # a line drawn v -> u is read from its other end: offsets then run the other way
    both = on & ~tie
    turned = (a["u"] != b["u"]).to_numpy()[both]
    assert (a["u"][both][turned] == b["v"][both][turned]).all()
    w = net.weight[a["edge"].to_numpy()[both]]
    np.testing.assert_allclose(np.where(turned, w - a["offset"][both], a["offset"][both]),
                               b["offset"][both], atol=1e-9)
    homes, shops = pts.iloc[:15], {"shop": pts.iloc[15:]}
    pd.testing.assert_frame_equal(point_distances(net, homes, shops, cutoff=900, snap_tolerance=100),
                                  point_distances(G, homes, shops, cutoff=900, snap_tolerance=100),
                                  atol=1e-9)


def test_network_from_pandana_style_tables_draws_straight_lines_when_needed():
    from gcgeo.network import network_from_frames

    # a square 0-1-2-3 of 100 m sides whose edge 0-1 is a 200 m path, and a diagonal 1-3
    nodes = pd.DataFrame({"x": [0.0, 100, 100, 0], "y": [0.0, 0, 100, 100]}, index=[10, 11, 12, 13])
    edges = pd.DataFrame({"from": [10, 11, 12, 13, 11], "to": [11, 12, 13, 10, 13],
                          "w": [200.0, 100, 100, 100, 150]})
    net = network_from_frames(nodes, edges, weight="w", crs=CRS)
    assert net.geometry is None  # nothing drawn for node distances
    d = node_distances(net, [10], cutoff=1000)
    assert d.to_dict() == {10: 0.0, 11: 200.0, 12: 200.0, 13: 100.0}
    # snapping draws the straight lines: (10, 5) lies 10 m along the 100 m line
    # of the 200 m edge 10-11, so 20 m along it, 5 m off
    s = snap_points(net, _pts([(10, 5)]), tolerance=50).iloc[0]
    assert (s["u"], s["v"]) == (10, 11)
    assert s["offset"] == pytest.approx(20.0) and s["connector_m"] == pytest.approx(5.0)
    assert shapely.equals_exact(net.lines[4], LineString([(100, 0), (0, 100)]), 0)
    np.testing.assert_allclose(net.geom_length, [100, 100, 100, 100, math.hypot(100, 100)])
    # directed: distances run from the sources along the edges
    dnet = network_from_frames(nodes, edges, weight="w", crs=CRS, directed=True)
    DG = nx.DiGraph()
    DG.add_weighted_edges_from(edges.itertuples(index=False), weight="w")
    want = nx.multi_source_dijkstra_path_length(DG, [12], cutoff=1000, weight="w")
    assert node_distances(dnet, [12], cutoff=1000).dropna().to_dict() == want


@pytest.mark.parametrize("nodes, edges, words", [
    (pd.DataFrame({"x": [0.0]}), pd.DataFrame(), "columns 'x' and 'y'"),
    (pd.DataFrame({"x": [0.0, 1], "y": [0.0, 1]}, index=[5, 5]), pd.DataFrame(), "[5]"),
    (pd.DataFrame({"x": [0.0, "a"], "y": [0.0, 1]}), pd.DataFrame(), "node(s) [1]"),
    (pd.DataFrame({"x": [0.0, 1], "y": [0.0, 1]}), pd.DataFrame({"a": [0], "b": [1]}),
     "'u' and 'v'"),
    (pd.DataFrame({"x": [0.0, 1], "y": [0.0, 1]}), pd.DataFrame({"u": [0], "v": [1]}),
     "no 'length' column"),
    (pd.DataFrame({"x": [0.0, 1], "y": [0.0, 1]}),
     pd.DataFrame({"u": [0, 1], "v": [1, 0], "length": [1.0, -1]}, index=["e1", "e2"]),
     "row(s) ['e2']"),
    (pd.DataFrame({"x": [0.0, 1], "y": [0.0, 1]}),
     pd.DataFrame({"u": [0, 1], "v": [1, 7], "length": [1.0, 1]}), "row(s) [1] name a node"),
    (pd.DataFrame({"x": [0.0, 1], "y": [0.0, 1]}),
     gpd.GeoDataFrame({"u": [0], "v": [1], "length": [1.0]}, geometry=[Point(0, 0)]),
     "not a LineString"),
])
def test_network_from_frames_names_the_bad_row(nodes, edges, words):
    from gcgeo.network import network_from_frames

    with pytest.raises(InputError, match=None) as e:
        network_from_frames(nodes, edges)
    assert words in str(e.value)


# ---- streets joined where they cross (CAD centre lines) -----------------------


def test_split_crossings_joins_a_grid_of_long_lines():
    """Three east-west and three north-south lines drawn through their junctions:
    joined, every node lies its Manhattan distance from the south-west end, but
    for the west ends of the upper lines, reached round by x = 50."""
    from gcgeo.network import crossings

    lines = ([[(0, y), (300, y)] for y in (0, 100, 200)]
             + [[(x, -50), (x, 250)] for x in (50, 150, 250)])
    streets = _streets(lines)
    apart = build_graph(streets)
    assert nx.number_connected_components(apart) == 6
    G = build_graph(streets, split_crossings=True)
    assert (G.number_of_nodes(), G.number_of_edges()) == (12 + 9, 3 * 4 + 3 * 4)
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    origin = next(n for n, p in xy.items() if p == (0.0, 0.0))
    d = nx.single_source_dijkstra_path_length(G, origin, weight="length")
    want = {n: abs(x) + abs(y) + (100 if x == 0 and y > 0 else 0) for n, (x, y) in xy.items()}
    assert d == pytest.approx(want)
    assert sum(e["length"] for *_, e in G.edges(data=True)) == pytest.approx(1800)
    # the same without networkx objects
    _same_network(network_from_streets_(streets, split_crossings=True), compile_network(G))
    found = crossings(streets)
    assert len(found) == 9 and set(zip(found["x"], found["y"])) == {
        (x, y) for x in (50.0, 150.0, 250.0) for y in (0.0, 100.0, 200.0)}


def network_from_streets_(streets, **kw):
    from gcgeo.network import network_from_streets

    return network_from_streets(streets, **kw)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_split_crossings_equals_geos_noding(seed):
    """Random straight streets joined where they cross give the network of the
    same linework noded by GEOS (shapely.node): the same junctions, lengths and
    distances."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 500, size=(12, 2, 2))
    streets = _streets([[tuple(a), tuple(b)] for a, b in pts])
    G = build_graph(streets, split_crossings=True)
    noded = shapely.get_parts(shapely.node(shapely.MultiLineString(list(streets.geometry))))
    H = build_graph(_streets([list(g.coords) for g in noded]))
    assert G.number_of_edges() == H.number_of_edges()
    gx = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    hx = np.array([(d["x"], d["y"]) for _, d in H.nodes(data=True)])
    assert len(gx) == len(hx)
    gap, match = cKDTree(hx).query(gx)
    assert gap.max() < 1e-6  # the same junctions, to rounding
    assert sorted(e["length"] for *_, e in G.edges(data=True)) == pytest.approx(
        sorted(e["length"] for *_, e in H.edges(data=True)))
    gnodes, hnodes = list(G.nodes), list(H.nodes)
    for s in rng.choice(len(gnodes), size=3):
        dg = nx.single_source_dijkstra_path_length(G, gnodes[s], weight="length")
        dh = nx.single_source_dijkstra_path_length(H, hnodes[match[s]], weight="length")
        assert len(dg) == len(dh)
        for i, n in enumerate(gnodes):
            if n in dg:
                assert dg[n] == pytest.approx(dh[hnodes[match[i]]], abs=1e-6)


def test_split_crossings_from_the_rules_in_the_living_circle():
    """A home on a north-south street and a shop on an east-west one it crosses:
    reached only when crossings are joined (the rule, or the option)."""
    streets = _streets([[(0, 0), (400, 0)], [(200, -200), (200, 200)]])
    homes = gpd.GeoDataFrame({"id": ["h"], "kind": ["residential"], "population": [3]},
                             geometry=[shapely.box(205, 95, 215, 105)], crs=CRS)
    shop = gpd.GeoDataFrame({"id": ["f"], "category": ["supermarket"]},
                            geometry=[Point(50, 2)], crs=CRS)
    layers = {"streets": streets, "buildings": homes, "facilities": shop}
    apart = lc.run(layers, isochrones="none")["lc_origins"]
    assert np.isnan(apart["dist_supermarket_m"].iloc[0])
    joined = lc.run(layers, rules={"network": {"split_crossings": True}}, isochrones="none")
    # the home's centre (210, 100): 10 m to its street, 100 m down it, 150 m west, 2 m to the shop
    assert joined["lc_origins"]["dist_supermarket_m"].iloc[0] == pytest.approx(262)
    again = lc.run(layers, split_crossings=True, isochrones="none")["lc_origins"]
    assert again["dist_supermarket_m"].iloc[0] == pytest.approx(262)
    with pytest.raises(rules.RulesError, match="true or false"):
        lc.run(layers, rules={"network": {"split_crossings": "yes"}}, isochrones="none")


# --------------------------------------------------------------------------
# the steps of point_distances, public for analyses that search one network often


def test_engine_steps_hand_computed():
    """A home at (10, 5) beside the street (0, 0)-(100, 0), a shop at (103, 40)
    beside the street (100, 0)-(100, 50): 5 + 90 + 40 + 3 = 138 m."""
    from gcgeo.network import augment, check_points, distances_snapped, locate_snaps, multi_source, point_dist, snap

    net = compile_network(build_graph(_streets([[(0, 0), (100, 0)], [(100, 0), (100, 50)]])))
    homes = check_points(net, _pts([(10, 5), (500, 500)]), "homes")
    osnap = snap(net, homes, 50.0)
    assert osnap["off_network"].tolist() == [False, True]
    assert osnap["offset"].iloc[0] == pytest.approx(10) and osnap["connector_m"].iloc[0] == 5
    tsnap = snap(net, check_points(net, _pts([(103, 40)]), "shops"), 50.0)
    assert tsnap["offset"].iloc[0] == pytest.approx(40) and tsnap["connector_m"].iloc[0] == 3
    aug = augment(net, tsnap)
    # a virtual node 40 m up the second street, and the shop on a 3 m leaf off it
    assert aug.n_nodes == net.n_nodes + 2 and aug.target_node.tolist() == [net.n_nodes + 1]
    assert aug.split.tolist() == [False, True]
    on, left, right, to_l, to_r, conn = locate_snaps(aug, osnap)
    assert on.tolist() == [True, False]
    assert (to_l[0], to_r[0], conn[0]) == pytest.approx((10, 90, 5))
    assert (net.x[left[0]], net.x[right[0]]) == (0, 100)
    nd = multi_source(aug.csr, aug.target_node, 1000.0)
    assert nd[net.n_nodes] == pytest.approx(3)  # the virtual node
    assert (nd[left[0]], nd[right[0]]) == pytest.approx((143, 43))
    d = point_dist(aug, osnap, nd)
    assert d[0] == pytest.approx(138) and np.isnan(d[1])
    # one row per source: the same as each row alone (inf or NaN for nodes not reached)
    two = np.stack([nd, np.where(np.arange(aug.n_nodes) == right[0], 7.0, np.inf)])
    d2 = point_dist(aug, osnap, two)
    assert d2.shape == (2, 2) and np.array_equal(d2[0], d, equal_nan=True)
    assert d2[1][0] == pytest.approx(7 + 90 + 5) and np.isnan(d2[1][1])
    got = distances_snapped(net, osnap, {"shop": tsnap, "none": tsnap.iloc[:0]}, cutoff=1000.0)
    assert got.columns.tolist() == ["shop", "none"] and got.index.equals(homes.index)
    assert got["shop"].iloc[0] == pytest.approx(138) and got.iloc[1].isna().all()
    assert got["none"].isna().all()
    assert distances_snapped(net, osnap, {"shop": tsnap}, cutoff=137.0)["shop"].isna().all()


def test_check_points_names_the_points():
    from gcgeo.network import check_points

    net = compile_network(build_graph(_streets([[(0, 0), (100, 0)]])))
    frame = gpd.GeoDataFrame(geometry=_pts([(1, 1)]))
    assert check_points(net, frame, "homes").equals(frame.geometry)
    with pytest.raises(InputError, match=r"homes must be points; row\(s\) \[1\]"):
        check_points(net, gpd.GeoSeries([Point(0, 0), LineString([(0, 0), (1, 1)])], crs=CRS),
                     "homes")
    with pytest.raises(CRSError, match="homes are in a geographic CRS"):
        check_points(net, gpd.GeoSeries([Point(0, 0)], crs=4326), "homes")
    with pytest.raises(CRSError, match="shops are in .* but the walking graph"):
        check_points(net, gpd.GeoSeries([Point(0, 0)], crs=3067), "shops")
    with pytest.raises(InputError, match="shops must be a GeoSeries"):
        check_points(net, [Point(0, 0)], "shops")


def test_substrings_keep_the_vertices_between():
    from gcgeo.network import substrings

    lines = np.array([LineString([(0, 0), (10, 0), (10, 10)]), LineString([(0, 0), (0, 8)])])
    got = substrings(lines, np.array([5.0, 2.0]), np.array([15.0, 8.0]))
    assert shapely.get_coordinates(got[0]).tolist() == [[5, 0], [10, 0], [10, 5]]
    assert shapely.get_coordinates(got[1]).tolist() == [[0, 2], [0, 8]]
    assert len(substrings(np.zeros(0, dtype=object), np.zeros(0), np.zeros(0))) == 0


def test_split_at_junctions_cuts_where_a_line_ends_on_another():
    from gcgeo.network.clean import split_at_junctions

    arr = np.array([LineString([(0, 0), (100, 0)]), LineString([(40, 0), (40, 50)])])
    lines, labels = split_at_junctions(arr, np.array(["a", "b"], dtype=object))
    assert labels.tolist() == ["b", "a", "a"]  # the untouched line, then the pieces in order
    assert [shapely.get_coordinates(g).tolist() for g in lines[1:]] == [
        [[0, 0], [40, 0]], [[40, 0], [100, 0]]]


def test_adjacency_keeps_the_least_of_parallel_edges():
    from gcgeo.network.build import adjacency

    u, v, w = np.array([0, 1, 1, 1]), np.array([1, 0, 1, 2]), np.array([5.0, 3.0, 2.0, 0.0])
    a = adjacency(u, v, w, 3, undirected=True)
    c = a.tocoo()  # the stored entries, explicit zeros included
    entries = {(int(i), int(j)): float(x) for i, j, x in zip(c.row, c.col, c.data)}
    # the self-loop left out; the edge of length 0 kept as an entry
    assert entries == {(0, 1): 3.0, (1, 0): 3.0, (1, 2): 0.0, (2, 1): 0.0}
    d = adjacency(u, v, w, 3, undirected=False)
    assert d.nnz == 3 and d[0, 1] == 5.0 and d[1, 0] == 3.0


def test_nearest_segment_is_the_nearest_line():
    from gcgeo.network.segments import build_snap_index, nearest_segment

    rng = np.random.default_rng(3)
    lines = shapely.linestrings(rng.uniform(0, 200, size=(30, 3, 2)))
    ix = build_snap_index(lines)
    p = rng.uniform(-20, 220, size=(300, 2))
    seg, t, dist = nearest_segment(ix, p[:, 0], p[:, 1], 25.0)
    want = shapely.distance(shapely.points(p)[:, None], lines[None, :]).min(axis=1)
    near = want <= 25.0
    assert near.any() and (~near).any()
    assert ((seg >= 0) == near).all() and np.isnan(dist[~near]).all()
    np.testing.assert_allclose(dist[near], want[near], atol=1e-9)
    # the point at t along the segment is that far from the point
    s = seg[near]
    sx, sy = ix.x0[s] + t[near] * ix.dx[s], ix.y0[s] + t[near] * ix.dy[s]
    np.testing.assert_allclose(np.hypot(sx - p[near, 0], sy - p[near, 1]), want[near], atol=1e-9)
    assert build_snap_index(np.array([shapely.MultiLineString([[(0, 0), (1, 0)]])])) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 6)] * 4).filter(lambda c: c[:2] != c[2:]), min_size=1, max_size=25))
def test_dangling_ends_are_those_meeting_no_end_and_no_other_line(coords):
    """The dangling ends ``near_misses`` reports from, against a brute force: an end is dangling
    when no other end is at its place and no other line passes within 0.1 mm of it. Lines
    on a small grid, so that ends meet ends, lie on lines and repeat."""
    from gcgeo.network.clean import _dangling_ends, _ends

    arr = np.array([LineString([c[:2], c[2:]]) for c in coords], dtype=object)
    n = len(arr)
    ends = _ends(arr)
    xy = shapely.get_coordinates(ends)
    expected = []
    for k in range(2 * n):
        meets_end = any(j != k and np.allclose(xy[j], xy[k]) for j in range(2 * n))
        on_line = any(j != k % n and shapely.distance(ends[k], arr[j]) <= 1e-4 for j in range(n))
        expected.append(not meets_end and not on_line)
    assert _dangling_ends(shapely.STRtree(arr), ends).tolist() == expected
