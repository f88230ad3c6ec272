"""Facility isochrones drawn from square cells (gcgeo.analysis._iso_grid) against the
buffered reached streets of the other modes and against the homes' guarantees."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from test_isochrones import BUF, _case

from gcgeo.analysis import _iso_grid as grid
from gcgeo.analysis import _isochrones as iso


def _boxes(m, origin, offset, s):
    i, j = np.nonzero(m)
    x = origin[0] + (offset[0] + j) * s
    y = origin[1] + (offset[1] + i) * s
    return shapely.box(x, y, origin[0] + (offset[0] + j + 1) * s,
                       origin[1] + (offset[1] + i + 1) * s)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), h=st.integers(1, 14), w=st.integers(1, 14),
       share=st.floats(0.1, 0.9), s=st.sampled_from([0.3, 1.0, 5.0]))
def test_trace_is_the_union_of_the_cells(seed, h, w, share, s):
    rng = np.random.default_rng(seed)
    m = rng.random((h, w)) < share
    origin = rng.uniform(-1e6, 1e6, 2)
    offset = rng.integers(-100, 100, 2)
    g = grid.trace(m, origin, offset, s)
    assert g.geom_type == "MultiPolygon" and g.is_valid, shapely.is_valid_reason(g)
    boxes = _boxes(m, origin, offset, s)
    ref = shapely.union_all(boxes) if len(boxes) else shapely.MultiPolygon()
    assert shapely.symmetric_difference(g, ref).area <= 1e-9 * max(ref.area, 1.0) * 1e3
    assert abs(g.area - m.sum() * s * s) <= 1e-6 * max(g.area, 1.0)
    # every cell's centre is covered, every empty cell's centre is not
    cx = origin[0] + (offset[0] + np.arange(w) + 0.5) * s
    cy = origin[1] + (offset[1] + np.arange(h) + 0.5) * s
    X, Y = np.meshgrid(cx, cy)
    assert (shapely.covers(g, shapely.points(X.ravel(), Y.ravel())) == m.ravel()).all()


def test_trace_cells_meeting_at_corners():
    # two diagonal cells apart; a ring of cells closed only at a corner; a hole touching
    # the shell at a corner
    for m in (np.array([[1, 0], [0, 1]]), np.array([[0, 1, 1], [1, 0, 1], [1, 1, 1]]),
              np.array([[1, 1, 1, 1], [1, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1]])):
        g = grid.trace(m.astype(bool), np.zeros(2), np.zeros(2, int), 1.0)
        assert g.is_valid and g.area == m.sum()


def test_least_over_the_disc_is_the_disc_grown_per_limit():
    rng = np.random.default_rng(3)
    half = np.array([-1, 1, 3, 4, 4, 4, 3, 1, -1])
    k = 4
    disc = np.zeros((2 * k + 1, 2 * k + 1), bool)
    for i, hw in enumerate(half):
        if hw >= 0:
            disc[i, k - hw:k + hw + 1] = True
    for _ in range(10):
        a = np.where(rng.random((40, 50)) < 0.05, rng.uniform(0, 100, (40, 50)), np.inf)
        # values up to the sides (worked on a padded copy), and with empty margins as
        # wide as the disc (worked in place, a row's end beside the next row's start)
        for b in (a, np.pad(a, ((0, 0), (4, 4)), constant_values=np.inf)):
            least = grid._least(b, half)
            for T in (0.0, 20.0, 55.5, 100.0):
                assert ((least <= T) == ndimage.binary_dilation(b <= T, structure=disc)).all()


def _reached(aug, pieces, nd, limit):
    lines = pieces.lines(pieces.reach(nd, limit))
    return shapely.multilinestrings(lines) if len(lines) else shapely.MultiLineString()


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 100_000), limit=st.sampled_from([80.0, 250.0, 600.0]),
       cell=st.sampled_from([2.0, 5.0]))
def test_cells_lie_within_the_buffer_and_cover_all_but_its_edge(seed, limit, cell):
    case = _case(seed)
    if case is None:
        return
    aug, nd, rng = case
    pieces = iso.Pieces(aug, BUF)
    g = grid.Grid(pieces, np.zeros((0, 2)), cell=cell)
    cand = g.reached_pieces(nd)
    assert (cand == np.flatnonzero(~(np.isnan(nd[aug.piece_u]) & np.isnan(nd[aug.piece_v])))).all()
    xy, d = g.distances(nd, cand)
    area, inside = g.area(xy[d <= limit], np.zeros(0), np.zeros(0), limit)
    assert area.is_valid and not len(inside)
    # the same reach drawn by the other modes (buffered pieces merged in one go)
    old = pieces.union(pieces.reach(nd, limit))
    assert shapely.difference(area, old).area <= 1e-6 * max(old.area, 1.0)
    # independently of any polygon: by distance to the reached linework
    lines = _reached(aug, pieces, nd, limit)
    p = shapely.points(rng.uniform(-100, 1100, size=(3000, 2)))
    dist = shapely.distance(lines, p) if not lines.is_empty else np.full(len(p), np.inf)
    covered = shapely.covers(area, p)
    assert (dist[covered] <= BUF + 1e-9).all()
    assert covered[dist <= BUF - grid.tolerance(BUF, cell)].all()
    # and against the other modes' polygon: a point in one and not the other lies
    # within the tolerance of the edge
    other = shapely.covers(old, p)
    assert (np.abs(dist[covered != other] - BUF) <= grid.tolerance(BUF, cell)).all()


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 100_000), limit=st.sampled_from([150.0, 400.0]))
def test_homes_in_reach_in_and_far_homes_out_exactly(seed, limit):
    case = _case(seed)
    if case is None:
        return
    aug, nd, rng = case
    pieces = iso.Pieces(aug, BUF)
    lines = _reached(aug, pieces, nd, limit)
    if lines.is_empty:
        return
    # homes near the reached streets, some on cell edges and corners, some sharing a
    # cell (or a point on an edge) with a home of the other kind
    near = shapely.get_coordinates(shapely.line_interpolate_point(
        lines, rng.uniform(0, lines.length, 150))) + rng.normal(0, 20, (150, 2))
    # (the grid's origin and cells as the homes will make them)
    g = grid.Grid(pieces, near, cell=5.0)
    on_grid = g.origin + np.round((near[:40] - g.origin) / g.cell) * g.cell
    on_grid[20:, 1] = near[20:40, 1]  # on a vertical edge only
    twin = near[:30] + rng.uniform(-0.3, 0.3, (30, 2))
    xy = np.concatenate([near, on_grid, twin, on_grid[:10]])
    n = len(xy)
    homes = shapely.points(xy)
    g = grid.Grid(pieces, xy, cell=5.0)
    # a home's connector reaches at least the reached streets (its street may be farther)
    conn = shapely.distance(lines, homes) + rng.exponential(5.0, n)
    hd = rng.uniform(0, 2 * limit, n)
    hd[rng.random(n) < 0.1] = np.nan
    hd[-10:] = 3 * limit  # far homes at the very points of homes on the grid
    conn[-10:] = 0.0
    pxy, d = g.distances(nd, g.reached_pieces(nd))
    area, inside = g.area(pxy[d <= limit], hd, conn, limit)
    assert area.is_valid and area.geom_type == "MultiPolygon"
    covered = shapely.covers(area, homes)
    # the homes inside, as the cells give them, are those the polygon covers
    assert np.array_equal(inside, np.flatnonzero(covered))
    good = (hd <= limit) & (conn <= BUF)
    bad = ~(hd <= limit + BUF)
    # a home in reach at the very point of a far one cannot be both: the far one wins
    far_points = {tuple(p) for p in xy[bad]}
    same_point = np.array([tuple(p) in far_points for p in xy])
    assert same_point[-10:].all() and same_point[150:160].all()
    assert covered[good & ~same_point].all()
    assert not covered[bad].any()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(1, 6))
def test_trace_many_is_trace_of_each(seed, n):
    rng = np.random.default_rng(seed)
    masks = [rng.random(tuple(rng.integers(0, 12, 2))) < rng.uniform(0.1, 0.9) for _ in range(n)]
    offsets = [rng.integers(-50, 50, 2) for _ in range(n)]
    origin = rng.uniform(-1e5, 1e5, 2)
    got = grid.trace_many(masks, offsets, origin, 2.5)
    assert len(got) == n
    for g, m, off in zip(got, masks, offsets):
        one = grid.trace(m, origin, off, 2.5)
        assert g.geom_type == "MultiPolygon" and g.is_valid
        assert shapely.equals_exact(g, one, tolerance=0.0)
        boxes = _boxes(m, origin, off, 2.5)
        ref = shapely.union_all(boxes) if len(boxes) else shapely.MultiPolygon()
        assert shapely.symmetric_difference(g, ref).area <= 1e-9 * max(ref.area, 1.0)


def test_cycles_in_the_order_of_a_walk():
    rng = np.random.default_rng(8)
    for n in (1, 2, 7, 300):
        nxt = rng.permutation(n)
        seq, lens = grid._cycles(nxt)
        # the walk from each least unvisited member, one cycle after the other
        seen, want, want_len = set(), [], []
        for s in range(n):
            if s in seen:
                continue
            k = len(want)
            while s not in seen:
                seen.add(s)
                want.append(s)
                s = int(nxt[s])
            want_len.append(len(want) - k)
        assert seq.tolist() == want and lens.tolist() == want_len


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_cells_of_several_limits_are_each_limits_own(seed):
    # one window and one disc for all the limits of a facility, traced together, give
    # every limit the polygon and homes it has when drawn alone
    case = _case(seed)
    if case is None:
        return
    aug, nd, rng = case
    pieces = iso.Pieces(aug, BUF)
    lines = _reached(aug, pieces, nd, 600.0)
    if lines.is_empty:
        return
    xy = shapely.get_coordinates(shapely.line_interpolate_point(
        lines, rng.uniform(0, lines.length, 200))) + rng.normal(0, 25, (200, 2))
    g = grid.Grid(pieces, xy, cell=5.0)
    conn = rng.exponential(30.0, len(xy))
    hd = rng.uniform(0, 900, len(xy))
    hd[rng.random(len(xy)) < 0.1] = np.nan
    limits = [300.0, 120.0, 600.0, 300.0]
    ij, d = g.reached_cells(nd, max(limits))
    drawn = grid.draw(g.cells(ij, d, hd.__getitem__, conn, limits), g.origin, g.cell)
    pxy, pd_ = g.distances(nd, g.reached_pieces(nd))
    for T, (area, inside) in zip(limits, drawn):
        alone, alone_in = g.area(pxy[pd_ <= T], hd, conn, T)
        assert area.is_valid and shapely.equals_exact(area, alone, tolerance=0.0)
        assert np.array_equal(inside, alone_in)
        assert np.array_equal(inside, np.flatnonzero(shapely.covers(area, shapely.points(xy))))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), limits=st.integers(1, 4), n=st.integers(0, 30))
def test_the_cells_covering_points_and_any_over_them(seed, limits, n):
    # points on a 1 m lattice (many on cells' edges and corners) on cells of 2 m, in a
    # grid of 6 × 5 cells from cell (1, 2): each point's cells are those whose closed
    # squares hold it, and any over them is any over those
    rng = np.random.default_rng(seed)
    xy = rng.integers(-2, 18, size=(n, 2)).astype(float)
    o, s, lo, shape = np.zeros(2), 2.0, np.array([1, 2]), (5, 6)
    cx, cy = grid.covering(xy, o, s)
    cov = grid._Covering(cx, cy, lo, shape)
    a = rng.random((limits, 5, 6)) < 0.3
    got = cov.any(a[:, cov.row, cov.col] & cov.inside[None])
    for h, (x, y) in enumerate(xy):
        cells = {(r, c) for r in range(5) for c in range(6)
                 if (lo[0] + c) * s <= x <= (lo[0] + c + 1) * s
                 and (lo[1] + r) * s <= y <= (lo[1] + r + 1) * s}
        mine = {(int(r), int(c)) for r, c, i, k in zip(cov.row, cov.col, cov.inside, cov.home)
                if i and k == h}
        assert mine == cells
        for j in range(limits):
            assert got[j, h] == any(a[j, r, c] for r, c in cells)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), rows=st.integers(1, 30), cols=st.integers(1, 30),
       fill=st.sampled_from([0.2, 0.5, 0.6, 0.9]))
def test_groups_of_runs_are_the_4_connected_labels(seed, rows, cols, fill):
    # the same partition of the true cells as scipy.ndimage.label (4-connected)
    from scipy import ndimage

    p = np.zeros((rows, cols + 2), bool)
    p[:, 1:-1] = np.random.default_rng(seed).random((rows, cols)) < fill
    r, c = np.nonzero(p)
    lab, _ = ndimage.label(p)
    got = grid._groups(p, np.flatnonzero(p[:, 1:] != p[:, :-1]))(r, c)
    pairs = {(int(x), int(y)) for x, y in zip(lab[r, c], got)}
    assert len(pairs) == len({x for x, _ in pairs}) == len({y for _, y in pairs})


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(1, 30), spacing=st.sampled_from([0.5, 2.5, 7.0]),
       decimals=st.integers(0, 3))
def test_segmentized_coords_are_geos_segmentize(seed, n, spacing, decimals):
    """The points along lines, worked out from their vertices, are GEOS's segmentize's, value
    for value (lines with repeated vertices, segments just over the spacing, lines of zero
    length kept as they are, missing lines skipped)."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        k = int(rng.integers(2, 6))
        xy = np.round(rng.uniform(0, 20, (k, 2)), decimals)
        if rng.random() < 0.2:
            xy = np.repeat(xy[:1], k, axis=0)  # a line of zero length
        elif rng.random() < 0.3:
            xy = np.repeat(xy, rng.integers(1, 3, k), axis=0)  # repeated vertices
        elif rng.random() < 0.2:
            xy = np.array([[0.0, 0.0], [spacing * int(rng.integers(1, 4)) + 1e-9, 0.0]])
        lines.append(shapely.LineString(xy))
    lines.insert(int(rng.integers(0, n + 1)), None)
    arr = np.array(lines, dtype=object)
    flat = ~shapely.is_missing(arr) & (shapely.length(arr) == 0)
    want_lines = arr.copy()
    some = ~shapely.is_missing(arr) & ~flat
    want_lines[some] = shapely.segmentize(arr[some], spacing)
    want = shapely.get_coordinates(want_lines, return_index=True)
    got = grid.segmentized_coords(arr, spacing)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])
