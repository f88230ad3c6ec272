"""Community isochrones drawn from cells laid over the town (gcgeo.analysis._iso_town)
against the reached streets buffered by plain shapely, the communities and the homes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box
from test_network import _random_street_graph

from gcgeo.analysis import _iso_grid, _iso_town, lc_isochrones
from gcgeo.analysis import _isochrones as iso
from gcgeo.network import augment, compile_network, multi_source, network_from_streets, snap

BUF = 50.0
CELL = _iso_grid.CELL
TIERS = {"5min": 300.0, "15min": 1000.0}
REQ = {"5min": ["a", "b"], "15min": ["a", "b", "c"]}
COMMUNITIES = gpd.GeoDataFrame(
    {"id": ["W", "E", "P", "S"], "name": ["W", "E", "P", "S"]},
    geometry=[box(-1, -1, 500, 1001), box(500, -1, 1001, 1001),  # an edge on a grid line
              Polygon([(120, 80), (880, 160), (760, 930), (300, 700), (90, 500)]),
              box(333.3, 411.7, 377.9, 433.1)])  # smaller than the buffer


def _town_case(seed: int):
    """A random network, three categories' node distances from facilities on it, and
    homes: random ones with random distances (some far or unreached) and pairs a
    metre or two apart, one in reach and one not (cells holding both)."""
    G, rng = _random_street_graph(seed, n=25, p=0.15)
    if G is None:
        return None
    net = compile_network(G)
    pts = shapely.points(rng.uniform(0, 1000, size=(6, 2)))
    aug = augment(net, snap(net, gpd.GeoSeries(pts, crs=net.crs), None).reset_index(drop=True))
    node_d = {}
    for c, sel in zip("abc", ([0, 1, 2], [3, 4], [5])):
        src = aug.target_node[sel]
        src = np.unique(src[src >= 0])
        node_d[c] = multi_source(aug.csr, src, 5000.0) if len(src) else \
            np.full(aug.n_nodes, np.nan)
    xy = rng.uniform(0, 1000, size=(60, 2))
    twin = xy[:20] + rng.uniform(-2, 2, size=(20, 2))
    homes = np.vstack([xy, twin])
    dist = {}
    for c in "abc":
        d = rng.uniform(0, 1400, len(homes))
        d[rng.random(len(homes)) < 0.1] = np.nan
        d[:20] = rng.uniform(0, 250, 20)  # in reach at every tier ...
        d[60:] = np.nan  # ... and their twins unreached
        dist[c] = d
    out = gpd.GeoDataFrame({"connector_m": rng.uniform(0, 70, len(homes))},
                           geometry=shapely.points(homes), crs=net.crs)
    return aug, node_d, out, dist


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 100_000))
@example(seed=7)
def test_community_isochrones_against_the_buffered_reached_streets(seed):
    case = _town_case(seed)
    if case is None:
        return
    aug, node_d, out, dist = case
    comm = COMMUNITIES.set_crs(out.crs)
    got = lc_isochrones.community_isochrones(aug, node_d, out, comm, TIERS, REQ, BUF, dist)
    # every community, tier and category, and "all" per tier
    want = [(i, c, t) for i in comm["id"] for t in TIERS for c in REQ[t] + ["all"]]
    assert list(zip(got["community_id"], got["category"], got["tier"])) == want
    assert got.geom_type.eq("MultiPolygon").all() and got.is_valid.all()
    # no vertex to drop: none repeated, and in boxes none on a straight line between its
    # neighbours (GEOS's clip of the others may leave one, as it did before)
    geoms = got.geometry.to_numpy()
    n = shapely.get_num_coordinates(geoms)
    assert (shapely.get_num_coordinates(shapely.remove_repeated_points(geoms, 0.0)) == n).all()
    boxes = got["community_id"].ne("P").to_numpy()
    assert (shapely.get_num_coordinates(shapely.simplify(geoms[boxes], 0.0)) == n[boxes]).all()
    pieces = iso.Pieces(aug, BUF)
    homes = out.geometry.to_numpy()
    conn = out["connector_m"].to_numpy()
    tol = _iso_grid.tolerance(BUF)
    ref = {}  # per category and tier: plain shapely's buffers, the homes' cells
    for t, T in TIERS.items():
        for c in REQ[t]:
            lines = pieces.lines(pieces.reach(node_d[c], T))
            ml = shapely.multilinestrings(lines) if len(lines) else shapely.MultiLineString()
            far = ~(dist[c] <= T + BUF)
            good = (dist[c] <= T) & (conn <= BUF)
            ref[(c, t)] = (shapely.buffer(ml, BUF, quad_segs=32),
                           shapely.buffer(ml, BUF - tol, quad_segs=32),
                           shapely.union_all(shapely.buffer(homes[good], CELL * 1.5)),
                           shapely.union_all(shapely.buffer(homes[far], CELL * 1.5)))
    by = got.set_index(["community_id", "category", "tier"]).geometry
    for (cid, cat, t), g in by.items():
        T = TIERS[t]
        poly = comm.geometry[comm["id"] == cid].iloc[0]
        cats = REQ[t] if cat == "all" else [cat]
        # within the community, exactly
        assert shapely.difference(g, poly).area <= 1e-9 * max(g.area, 1.0)
        d = np.column_stack([dist[c] for c in cats])
        far = ~(d <= T + BUF).all(axis=1)
        good = (d <= T).all(axis=1) & (conn <= BUF)
        covered = shapely.covers(g, homes)
        assert not (covered & far).any(), (cid, cat, t)
        assert covered[good & shapely.covers(poly, homes)].all(), (cid, cat, t)
        if cat == "all":  # the intersection of the tier's categories
            each = shapely.intersection_all([by[(cid, c, t)] for c in REQ[t]])
            assert shapely.symmetric_difference(g, each).area <= 1e-6 * max(each.area, 1.0)
            continue
        outer, inner, at_good, at_far = ref[(cat, t)]
        # never beyond the buffered streets, but for the cells covering homes in reach
        beyond = shapely.difference(shapely.difference(g, outer), at_good)
        assert beyond.area <= 1e-6 * max(g.area, 1.0), (cid, cat, t, beyond.area)
        # and all of it within the buffer less the grid's tolerance, but next to far homes
        short = shapely.difference(shapely.difference(shapely.intersection(inner, poly), g),
                                   at_far)
        assert short.area <= 1e-6 * max(g.area, 1.0), (cid, cat, t, short.area)


def test_box_communities_are_clipped_exactly():
    """One street y = 500 from x = 0 to 1000 reached whole: the box [100, 600.3] ×
    [480.2, 521.7] holds the part of its buffer inside the box, the box's edges
    exact (not on the cells' lines), and nothing else."""
    street = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 500), (1000, 500)])],
                              crs=3857)
    net = network_from_streets(street)
    aug = augment(net, snap(net, gpd.GeoSeries([shapely.Point(500, 500)], crs=net.crs),
                            None).reset_index(drop=True))
    nd = multi_source(aug.csr, np.unique(aug.target_node), 5000.0)
    out = gpd.GeoDataFrame({"connector_m": [0.0]}, geometry=[shapely.Point(5000, 5000)],
                           crs=net.crs)
    comm = gpd.GeoDataFrame({"id": ["B"], "name": ["B"]},
                            geometry=[box(100, 480.2, 600.3, 521.7)], crs=net.crs)
    got = lc_isochrones.community_isochrones(
        aug, {"a": nd}, out, comm, {"15min": 1000.0}, {"15min": ["a"]}, BUF,
        {"a": np.array([np.nan])})
    assert list(got["category"]) == ["a", "all"]
    for g in got.geometry:
        assert shapely.equals(g, comm.geometry.iloc[0]) and g.is_valid
    assert got["area_m2"].iloc[0] == pytest.approx(500.3 * 41.5)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 100_000), density=st.sampled_from([0.3, 0.5, 0.8, 0.95]))
@example(seed=3, density=0.5)
def test_communities_not_boxes_are_clipped_as_by_geos(seed, density):
    """Random cells (many holes, and cells meeting at corners) in the window of a
    community that is no box (rotated, concave, with a hole): the drawn polygons
    equal plain shapely's intersection of the traced cells with the community."""
    rng = np.random.default_rng(seed)
    street = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (400, 0)])], crs=3857)
    net = network_from_streets(street)
    aug = augment(net, snap(net, gpd.GeoSeries([shapely.Point(0, 0)], crs=net.crs),
                            None).reset_index(drop=True))
    ring = shapely.affinity.rotate(Polygon([(0, 0), (300, 0), (300, 260), (150, 120),
                                            (0, 260)]), float(rng.uniform(0, 90)))
    poly = shapely.difference(ring, shapely.Point(150, 60).buffer(30)) if seed % 2 else ring
    poly = shapely.affinity.translate(poly, *rng.uniform(-7, 7, 2))
    town = _iso_town.Town(iso.Pieces(aug, BUF), np.zeros((0, 2)), np.zeros(0),
                          np.array([poly]), cell=CELL)
    win, near, inner = town.window(poly)
    assert near is not None and inner is not None and inner.any()
    assert not (inner & ~near).any()
    shape = near.shape
    ms = [(rng.random(shape) < density) & near for _ in range(3)]
    ms.append(np.ones(shape, bool) & near)
    got = town.draw(ms, win, poly, inner)
    c0, r0 = win[1].start + town.base[0], win[0].start + town.base[1]
    for m, g in zip(ms, got):
        want = shapely.intersection(_iso_grid.trace(m, town.origin, np.array([c0, r0]), CELL),
                                    poly)
        assert g.geom_type == "MultiPolygon" and g.is_valid
        assert shapely.symmetric_difference(g, want).area <= 1e-6 * max(want.area, 1.0)
        assert shapely.equals(g, iso.multi(want))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 40), cols=st.integers(1, 200),
       fill=st.floats(0.0, 0.6), buffer=st.sampled_from([12.0, 50.0, 120.0, 400.0]))
def test_dilate_grows_every_cell_by_the_disc(seed, rows, cols, fill, buffer):
    # packed into 64-bit words (or a byte a cell for a disc wider than a word): every cell
    # within the disc's rows and half-widths of a cell in, and no other, at any grid edge
    k, half = _iso_town.disc(buffer, 5.0)
    m = np.random.default_rng(seed).random((rows, cols)) < fill
    want = np.zeros_like(m)
    for r, c in zip(*np.nonzero(m)):
        for dy in range(-k, k + 1):
            if half[dy + k] >= 0 and 0 <= r + dy < rows:
                want[r + dy, max(c - int(half[dy + k]), 0):c + int(half[dy + k]) + 1] = True
    got = _iso_town.dilate(m, half)
    assert got.dtype == bool and got.shape == m.shape
    np.testing.assert_array_equal(got, want)
