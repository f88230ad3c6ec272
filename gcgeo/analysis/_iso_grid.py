"""Facility isochrones drawn from square cells: the reached streets' buffer, per facility.

One polygon per facility and tier is the buffer of the street linework
reached from the facility.  Merging its few thousand buffered pieces costs
GEOS tens of milliseconds a polygon (:mod:`gcgeo.analysis._isochrones`, which
the other modes use); here the buffer is made of square cells of
:data:`CELL` metres, in work proportional to the cells in the polygon's
bounds:

- points at most half a cell apart along every street piece, with their
  position on it, are made once per network (:class:`Grid`); a search gives
  each its distance, and the points within the tier are the reached ones;
- a cell is in when it lies wholly within one buffer of a reached point:
  the farthest corners of its cell and of the point's are at most
  :func:`inner_radius` apart.  So no cell reaches beyond the buffer of the
  reached streets (nor beyond the chords of the buffer polygons of the
  other modes), and every point within :func:`tolerance` less than the
  buffer of the reached streets is in;
- the homes decide the rest exactly: a home within the tier along the network
  (connector counted) whose connector is at most the buffer gets a cell
  that covers it; a home farther than the tier plus the buffer (or not
  reached) has every cell that covers it taken out (a point on an edge
  is covered by the cells either side).  Where a cell holds both kinds it
  is taken out, and each home in reach it leaves uncovered gets a small
  square of its own, clear of the far homes and of the cells in;
- the cells in are traced into rings in one pass (:func:`trace`), and the
  homes inside are read off the cells (the polygon is their union, corners
  computed alike, so this is exact).

A facility's tiers are drawn in one window (:meth:`Grid.cells`): each cell
gets the first tier a point in it is within, then the least such tier over
the disc around it, so a tier's cells are those at most that tier (the same
cells as growing each tier's points by the disc); the homes are settled for
every tier at once.  Many polygons are traced in one pass
(:func:`trace_many`, :func:`draw`): their cells laid one above the other.

The other modes cut the area nearest to a far home
(:func:`gcgeo.analysis._isochrones.drop_unreached`); here the cells do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, depth_first_order

from . import _isochrones as _iso

#: Side (m) of the cells the facility isochrones are drawn from (at most; a
#: tenth of the buffer where that is less).  5 m with the 50 m buffer: 2.5 m
#: took the disc 4.4 times and the polygons 1.7 times as long on central
#: Helsinki, for an edge 9 m instead of 17.6 m short of the buffer at worst
#: (:func:`tolerance`).
CELL = 5.0
#: Segments per quarter circle of the buffers of the other modes (their arcs
#: are chords, up to ``buffer × (1 - cos(π / (4 × QUAD_SEGS)))`` inside the circle).
_CHORD = np.cos(np.pi / (4 * _iso.QUAD_SEGS))


def segmentized_coords(lines: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates of ``lines`` with vertices added at most ``spacing`` apart, and the
    line of each: ``shapely.get_coordinates(shapely.segmentize(lines, spacing),
    return_index=True)``, worked out from the lines' vertices without making new lines (a
    third of the time).  Each segment longer than ``spacing`` is cut into ``ceil(length /
    spacing)`` equal parts, its points placed by GEOS's arithmetic (the same floating-point
    values), and a point equal to the one before is left out, as GEOS does.  A line of zero
    length (a street drawn as two equal points, which GEOS refuses to segmentize) is kept
    as it is."""
    xy, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    n = len(xy)
    if n == 0:
        return xy, idx
    a = np.flatnonzero(idx[1:] == idx[:-1])  # each segment's first vertex
    dx = xy[a + 1, 0] - xy[a, 0]
    dy = xy[a + 1, 1] - xy[a, 1]
    ln = np.sqrt(dx * dx + dy * dy)
    with np.errstate(invalid="ignore", divide="ignore"):
        cnt = np.where(ln > spacing, np.ceil(ln / spacing), 1).astype(np.int64)
    per = np.ones(n, dtype=np.int64)  # the points each vertex gives: a segment's, or a line's last
    per[a] = cnt
    src = np.repeat(np.arange(n), per)
    j = np.arange(len(src)) - np.repeat(np.cumsum(per) - per, per)
    out = np.take(xy, src, axis=0)
    inner = np.flatnonzero(j)
    seg = np.full(n, -1, dtype=np.int64)
    seg[a] = np.arange(len(a))
    s = np.take(seg, np.take(src, inner))
    # (as GEOS: the part's length, then the fraction)
    frac = (np.take(j, inner) * np.take(ln / cnt, s)) / np.take(ln, s)
    out[inner, 0] += frac * np.take(dx, s)
    out[inner, 1] += frac * np.take(dy, s)
    line = np.take(idx, src)
    long = np.zeros(int(idx.max()) + 1, dtype=bool)
    long[idx[a[ln > 0]]] = True
    again = np.zeros(len(out), dtype=bool)
    again[1:] = (line[1:] == line[:-1]) & (out[1:, 0] == out[:-1, 0]) & (out[1:, 1] == out[:-1, 1])
    keep = ~(again & long[line])
    if keep.all():
        return out, line
    return np.compress(keep, out, axis=0), np.compress(keep, line)


def points_along(pieces: _iso.Pieces, sel: np.ndarray, spacing: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points along the pieces ``sel`` (ascending), at most ``spacing`` apart, their
    vertices kept: their x, y, their piece, and their position from the piece's start in
    weight units, as node distances are (at most the piece's length)."""
    xy, k = segmentized_coords(pieces.geom[sel], spacing)
    piece = sel[k]
    step = np.hypot(*np.diff(xy, axis=0).T) if len(xy) else np.zeros(0)
    step = np.concatenate([[0.0], np.where(piece[1:] == piece[:-1], step, 0.0)])[:len(xy)]
    along = np.cumsum(step)
    # each point's piece's first point (the pieces one after the other)
    starts = np.flatnonzero(np.concatenate([[True], piece[1:] != piece[:-1]]))
    first = np.repeat(starts, np.diff(np.append(starts, len(piece))))
    pos = np.minimum((along - np.take(along, first)) / np.take(pieces.scale, piece),
                     np.take(pieces.length, piece))
    return xy, piece, pos


def inner_radius(buffer: float) -> float:
    """The distance within which a cell must lie of a reached point: the
    buffer less the chord error of the buffer polygons of the other modes, so
    a facility's cells lie inside the polygon those modes draw for it."""
    return float(buffer) * _CHORD


def tolerance(buffer: float, cell: float = CELL) -> float:
    """How much of the buffer's edge a grid polygon may leave out: every point
    within ``buffer - tolerance`` of the reached streets is in.

    A point ``ρ`` from the reached linework is at most ``ρ + cell / 2`` from
    a reached point (points half a cell apart, the last one up to that far
    from the frontier), and the farthest corners of their cells are at most
    ``2√2 cell`` farther apart than the two points.
    """
    return float(buffer) - inner_radius(buffer) + cell * (2 * np.sqrt(2) + 0.5)


class Grid:
    """Points along the street pieces of ``pieces`` (at most half a cell
    apart, piece ends included) with their positions, on a grid of ``cell``
    metres, and the homes at ``homes`` (points, NaN for none) by cell."""

    def __init__(self, pieces: _iso.Pieces, homes: np.ndarray, *, cell: float = CELL):
        self.pieces = pieces
        self.cell = float(cell)
        self.buffer = pieces.buffer
        geom = pieces.geom
        n = len(geom)
        ok = np.flatnonzero(~(shapely.is_missing(geom) | shapely.is_empty(geom))) if n else \
            np.zeros(0, dtype=np.int64)
        xy, piece, self.pos = points_along(pieces, ok, self.cell / 2)
        self.start = np.searchsorted(piece, np.arange(n + 1))
        self.xy = xy
        self.piece = piece
        # the pieces at each node (augmented), for the pieces a search reaches
        aug = pieces.aug
        ends = np.concatenate([aug.piece_u, aug.piece_v])
        by_end = np.argsort(ends, kind="stable")
        self._node_pieces = np.concatenate([np.arange(n), np.arange(n)])[by_end]
        self._node_start = np.searchsorted(ends[by_end], np.arange(aug.n_nodes + 1))
        # the cells a marked cell puts in: per row offset dy, the column offsets up
        # to half[dy] (farthest corners within the inner radius)
        rad = inner_radius(self.buffer) / self.cell
        self.reach = max(int(np.floor(rad)) - 1, 0)
        dy = np.arange(-self.reach, self.reach + 1)
        self.half = np.floor(np.sqrt(np.maximum(rad ** 2 - (np.abs(dy) + 1.0) ** 2, 0.0))) - 1
        self.half[(np.abs(dy) + 1.0) ** 2 + 1.0 > rad ** 2] = -1  # not even one column
        # the homes sorted by cell (row, column), for the homes in a window; a home
        # farther than a few buffers beyond the streets is in no window
        # the origin on a lattice of the cell size: the same streets give the same cells
        # whatever else the network holds (a partition's cells are the whole run's)
        low = (np.array([xy[:, 0].min(), xy[:, 1].min()]) if len(xy) else np.zeros(2)) \
            - 4 * self.buffer
        self.origin = np.floor(low / self.cell) * self.cell
        # the points of a piece in one cell, one after the other, as one: their cell
        # (columns, rows) and the first and last position (the least distance of
        # them is the least of the distances at these two)
        ij = np.floor((xy - self.origin) / self.cell).astype(np.int32).T
        step = np.ones(len(piece), bool)
        step[1:] = (piece[1:] != piece[:-1]) | (ij[0, 1:] != ij[0, :-1]) | (ij[1, 1:] != ij[1, :-1])
        first = np.flatnonzero(step)
        self._run_piece = piece[first]
        self._run_ij = ij[:, first].copy()
        self._run_pos = np.stack([self.pos[first], self.pos[np.r_[first[1:], len(piece)] - 1]])
        self._run_start = np.searchsorted(self._run_piece, np.arange(n + 1))
        # a run's way to either end of its piece (for its distances)
        self._run_to_v = pieces.length[self._run_piece] - self._run_pos[1]
        self._run_from_u = self._run_pos[0].copy()
        top = (np.array([xy[:, 0].max(), xy[:, 1].max()]) if len(xy) else np.zeros(2)) \
            + 4 * self.buffer
        self.homes = np.asarray(homes, dtype=float).reshape(-1, 2)
        with np.errstate(invalid="ignore"):
            here = np.flatnonzero(((self.homes >= self.origin) & (self.homes <= top)).all(axis=1))
        hc = np.floor((self.homes[here] - self.origin) / self.cell).astype(np.int64)
        self._cols = int(np.floor((top[0] - self.origin[0]) / self.cell)) + 2
        key = hc[:, 1] * self._cols + hc[:, 0]
        order = np.argsort(key, kind="stable")
        self._home_key = key[order]
        self._home_idx = here[order]
        # in that order: their points, cells and the cells that cover them (:func:`covering`)
        self._home_xy = self.homes[self._home_idx]
        self._home_cell = hc[order]
        cx, cy = covering(self._home_xy, self.origin, self.cell)
        self._home_cov = np.concatenate([cx, cy]).T.copy()  # first, last column; first, last row

    def reached_pieces(self, nd: np.ndarray, nodes: np.ndarray | None = None) -> np.ndarray:
        """The pieces with an end among ``nodes``: by default the nodes reached in node
        distances ``nd`` (finite; the other pieces are reached at no distance)."""
        if nodes is None:
            nodes = np.flatnonzero(np.isfinite(nd))
        cnt = self._node_start[nodes + 1] - self._node_start[nodes]
        idx = np.arange(cnt.sum()) + np.repeat(self._node_start[nodes] - np.cumsum(cnt) + cnt, cnt)
        mask = np.zeros(len(self.start) - 1, bool)
        mask[self._node_pieces[idx]] = True
        return np.flatnonzero(mask)

    def distances(self, nd: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The points along pieces ``cand`` and their distances from node distances ``nd``
        (NaN where neither end is reached)."""
        p = self.pieces
        cnt = self.start[cand + 1] - self.start[cand]
        idx = np.arange(cnt.sum()) + np.repeat(self.start[cand] - np.cumsum(cnt) + cnt, cnt)
        pc = self.piece[idx]
        pos = self.pos[idx]
        d = np.fmin(nd[p.aug.piece_u[pc]] + pos, nd[p.aug.piece_v[pc]] + (p.length[pc] - pos))
        return self.xy[idx], d

    def reached_cells(self, nd: np.ndarray, limit: float, nodes: np.ndarray | None = None,
                      at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The cells (columns, rows: 2 × entries) of the points within ``limit`` of
        node distances ``nd``, with the least distance of those points in each
        (an entry per piece and cell: a cell may have several); ``nodes``: the nodes
        of finite ``nd``, where known.  With ``at`` (every node's position in ``nd``,
        -1 for the last, an infinite distance) ``nd`` holds the distances of some
        nodes only, and ``nodes`` must be given."""
        def dist(of: np.ndarray) -> np.ndarray:
            return np.take(nd, of if at is None else np.take(at, of))

        # (a point is no nearer than the nearer end of its piece: only the pieces with an
        # end within the limit have points within it)
        if nodes is None:
            nodes = np.flatnonzero(nd <= limit)
        else:
            nodes = np.compress(dist(nodes) <= limit, nodes)
        cand = self.reached_pieces(nd, nodes)
        first = np.take(self._run_start, cand)
        cnt = np.take(self._run_start, cand + 1) - first
        idx = np.arange(cnt.sum()) + np.repeat(first - np.cumsum(cnt) + cnt, cnt)
        # (np.take: faster than indexing; the ends' distances per piece, repeated per run)
        aug = self.pieces.aug
        du = np.repeat(dist(np.take(aug.piece_u, cand)), cnt)
        dv = np.repeat(dist(np.take(aug.piece_v, cand)), cnt)
        d = np.fmin(du + np.take(self._run_from_u, idx), dv + np.take(self._run_to_v, idx))
        keep = d <= limit
        return np.take(self._run_ij, np.compress(keep, idx), axis=1), np.compress(keep, d)

    def _homes_in(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The homes whose cell lies in columns, rows ``lo`` to ``hi`` (exclusive), as
        positions in the homes by cell (``_home_idx``)."""
        c0, c1 = max(int(lo[0]), 0), min(int(hi[0]), self._cols)
        r0, r1 = max(int(lo[1]), 0), max(int(hi[1]), 0)
        if c1 <= c0 or r1 <= r0:
            return np.zeros(0, dtype=np.int64)
        # the homes of the rows, one stretch of the order, less those of other columns
        a, b = np.searchsorted(self._home_key, [r0 * self._cols + c0, (r1 - 1) * self._cols + c1])
        col = self._home_cell[a:b, 0]
        return a + np.flatnonzero((col >= c0) & (col < c1))

    def area(self, pts: np.ndarray, home_dist: np.ndarray, connector: np.ndarray,
             limit: float) -> tuple[shapely.Geometry, np.ndarray]:
        """The cells within the buffer of the reached points ``pts``, with the homes
        settled exactly (see the module): a MultiPolygon and the homes it covers."""
        ij = np.floor((pts - self.origin) / self.cell).astype(np.int64).T
        got = self.cells(ij, np.zeros(ij.shape[1]), home_dist.__getitem__, connector, [limit])
        return draw(got, self.origin, self.cell)[0]

    def cells(self, ij: np.ndarray, d: np.ndarray, home_dist: Callable[[np.ndarray], np.ndarray],
              connector: np.ndarray, limits: Sequence[float]) -> list[Cells]:
        """Per limit in ``limits``, the cells within the buffer of the points in
        cells ``ij`` (columns, rows: 2 × points) whose distance ``d`` is within the limit, with the
        homes settled exactly (see the module); ``home_dist(idx)`` gives the homes'
        distances along the network (NaN where not reached).

        One window holds every limit, and each cell gets the least distance of a
        point within the disc around it (:func:`_least`), so a limit's cells are
        those at most the limit: the same cells as growing each limit's points by
        the disc.  (At most 255 limits.)
        """
        s, o, k, buf = self.cell, self.origin, self.reach, self.buffer
        none = np.zeros(0, dtype=np.int64)
        empty = Cells(np.zeros((0, 0), bool), np.zeros(2, np.int64), np.zeros((0, 4)), none)
        use = d <= max(limits, default=-np.inf)
        if not use.all():  # (np.compress: several times faster than a boolean index)
            ij, d = np.compress(use, ij, axis=1), np.compress(use, d)
        x, y = ij
        top = d.max(initial=-np.inf)
        # each limit's window from its own points (a limit without any draws nothing)
        wins: list[tuple[np.ndarray, np.ndarray] | None] = []
        for T in limits:
            t = ij if T >= top else np.compress(d <= T, ij, axis=1)
            wins.append((t.min(axis=1).astype(np.int64) - k - 3,
                         t.max(axis=1).astype(np.int64) + k + 4)
                        if t.shape[1] else None)
        live = [w for w in wins if w is not None]
        if not live:
            return [empty for _ in limits]
        lo = np.min([w[0] for w in live], axis=0)
        hi = np.max([w[1] for w in live], axis=0)
        at = self._homes_in(lo - 1, hi + 1)  # (a home on a cell's edge: its neighbour's too)
        # (np.take: several times faster than indexing rows)
        near = np.take(self._home_idx, at)
        hxy = np.take(self._home_xy, at, axis=0)
        hd = home_dist(near)
        conn_ok = np.take(connector, near) <= buf
        hc = np.take(self._home_cell, at, axis=0)
        hcov = np.take(self._home_cov, at, axis=0).T
        cx, cy = hcov[:2], hcov[2:]
        li = [i for i, w in enumerate(wins) if w is not None]  # the limits drawn
        lim = np.asarray(limits, dtype=float)[li]
        # each limit's homes: those of its own window (as if it were drawn alone)
        wlo = np.array([wins[i][0] for i in li])[:, None, :]  # type: ignore[index]
        whi = np.array([wins[i][1] for i in li])[:, None, :]  # type: ignore[index]
        mine = ((hc[None, :, 0] >= wlo[..., 0] - 1) & (hc[None, :, 0] < whi[..., 0] + 1)
                & (hc[None, :, 1] >= wlo[..., 1] - 1) & (hc[None, :, 1] < whi[..., 1] + 1))
        good = mine & (hd[None] <= lim[:, None]) & conn_ok[None]
        bad = mine & ~(hd[None] <= lim[:, None] + buf)
        for j, i in enumerate(li):
            g = good[j]
            if g.any():  # (within one buffer of a reached point: inside already, but be sure)
                w = wins[i]
                assert w is not None
                gc = np.compress(g, hcov, axis=1)  # first, last column; first, last row
                w = (np.minimum(w[0], gc[0::2].min(axis=1) - 1),
                     np.maximum(w[1], gc[1::2].max(axis=1) + 2))
                wins[i] = w
                lo, hi = np.minimum(lo, w[0]), np.maximum(hi, w[1])
        # each cell's level (the first limit a point in it is within), then the least
        # level within the disc around it: the cells of limit i are those at most i
        order = np.argsort(limits, kind="stable")
        lv = np.full((hi[1] - lo[1], hi[0] - lo[0]), 255, dtype=np.uint8)
        pos = (y - lo[1]) * lv.shape[1] + (x - lo[0])
        flat = lv.ravel()
        flat[pos] = len(limits) - 1
        for r in range(len(limits) - 2, -1, -1):  # (the least level written last)
            flat[np.compress(d <= limits[order[r]], pos)] = r
        lv = _least(lv, self.half)
        rank = np.empty(len(limits), dtype=np.int64)
        rank[order] = np.arange(len(limits))
        # the homes settled for every limit at once, on the whole window (a limit's
        # cells lie in its own window: the cells beyond it are out for that limit)
        m = lv[None] <= rank[li][:, None, None]
        cov = _Covering(cx, cy, lo, lv.shape)
        outc = cov.inside[None] & np.take(bad, cov.home, axis=1)  # far homes: their cells out
        fl, fc = np.nonzero(outc)
        m[fl, cov.row[fc], cov.col[fc]] = False
        gl, gh = np.nonzero(good)  # homes in reach: one cell in
        m[gl, cy[0][gh] - lo[1], cx[0][gh] - lo[0]] = True
        onc = m[:, cov.row, cov.col] & cov.inside[None]
        clash = cov.any(onc & outc)
        extra = [np.zeros((0, 4))] * len(li)
        for j in map(int, np.flatnonzero(clash.any(axis=1))):
            # a cell holding both: out, and each home in reach it leaves uncovered gets
            # a square of its own, clear of the cells in and of the far homes
            oc = outc[j] & clash[j][cov.home]
            m[j][cov.row[oc], cov.col[oc]] = False
            onc[j] = m[j][cov.row, cov.col] & cov.inside
            lost = good[j] & ~cov.any(onc[j][None])[0]
            extra[j] = _squares(np.compress(lost, hxy, axis=0), np.compress(bad[j], hxy, axis=0),
                                m[j], lo, o, s)
        covered = cov.any(onc)
        out = [empty for _ in limits]
        for j, i in enumerate(li):
            w = wins[i]
            assert w is not None
            cov = covered[j]
            if len(extra[j]):  # (a square may hold another home than its own, never a far one)
                x0, y0, x1, y1 = extra[j].T[:, :, None]
                hx, hy = hxy[:, 0], hxy[:, 1]
                cov |= mine[j] & ((hx >= x0) & (hx <= x1) & (hy >= y0) & (hy <= y1)).any(axis=0)
            a, b = w[0] - lo, w[1] - lo
            out[i] = Cells(m[j, a[1]:b[1], a[0]:b[0]], w[0], extra[j],
                           np.sort(np.compress(cov, near)))
        return out


class Cells(NamedTuple):
    """The cells of one polygon: ``mask`` (rows × columns) from cell ``offset``
    (column, row), the squares ``extra`` of homes in reach left without a cell
    (their bounds: xmin, ymin, xmax, ymax),
    and the homes covered."""

    mask: np.ndarray
    offset: np.ndarray
    extra: np.ndarray
    homes: np.ndarray


def draw(cells: Sequence[Cells], origin: np.ndarray, s: float
         ) -> list[tuple[shapely.Geometry, np.ndarray]]:
    """The polygons of ``cells`` (traced together, :func:`trace_many`) with the
    homes each covers."""
    coords, ring_off, poly_off, which = _parts([c.mask for c in cells],
                                               [c.offset for c in cells], origin, s)
    extra = [c.extra for c in cells]
    if any(len(e) for e in extra):  # (each polygon's squares after its traced parts)
        x0, y0, x1, y1 = np.concatenate(extra).T
        k = np.arange(1, len(x0) + 1)
        # (each one ring, as shapely.box draws it: anticlockwise from the lower right)
        sq = np.stack([np.stack([x1, x1, x0, x0, x1], axis=1), np.stack([y0, y1, y1, y0, y0], axis=1)],
                      axis=2).reshape(-1, 2)
        coords = np.concatenate([coords, sq])
        ring_off = np.concatenate([ring_off, ring_off[-1] + 5 * k])
        poly_off = np.concatenate([poly_off, poly_off[-1] + k])
        which = np.concatenate([which, np.repeat(np.arange(len(extra)), [len(e) for e in extra])])
    g = _multipolygons(len(cells), coords, ring_off, poly_off, which)
    return [(g[i], c.homes) for i, c in enumerate(cells)]


class _Covering:
    """The cells of :func:`covering` ranges ``cx``, ``cy`` of ``n`` points as
    rows and columns of a grid of ``shape`` from cell ``lo``: each point's
    first cell (``n`` of them), then for the few points on a cell's edge their
    other three (their second column and first row, first column and second
    row, second column and second row; the same cell again where a range is one),
    with the point of each (``home``) and whether it lies in the grid (where it
    does not, row and column 0)."""

    def __init__(self, cx: np.ndarray, cy: np.ndarray, lo: np.ndarray, shape: tuple[int, int]):
        self.n = n = cx.shape[1]
        self.multi = multi = np.flatnonzero((cx[1] > cx[0]) | (cy[1] > cy[0]))
        r = np.concatenate([cy[0], cy[0][multi], cy[1][multi], cy[1][multi]]) - lo[1]
        c = np.concatenate([cx[0], cx[1][multi], cx[0][multi], cx[1][multi]]) - lo[0]
        self.inside = (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
        self.row, self.col = np.where(self.inside, r, 0), np.where(self.inside, c, 0)
        self.home = np.concatenate([np.arange(n), multi, multi, multi])

    def any(self, a: np.ndarray) -> np.ndarray:
        """Per row of ``a`` (rows × the cells), whether any cell of each point is true:
        rows × points."""
        out = a[:, :self.n].copy()
        if k := len(self.multi):
            n = self.n
            out[:, self.multi] |= a[:, n:n + k] | a[:, n + k:n + 2 * k] | a[:, n + 2 * k:]
        return out


#: The column and row offsets of a cell and its eight neighbours (:func:`_squares`): 9 × 1 × 2.
_NINE = np.stack([np.repeat([-1, 0, 1], 3), np.tile([-1, 0, 1], 3)], axis=1)[:, None, :]


def _squares(pts: np.ndarray, far: np.ndarray, m: np.ndarray, lo: np.ndarray,
             o: np.ndarray, s: float) -> np.ndarray:
    """Squares around ``pts`` (homes none of whose cells is in) clear of the cells in
    ``m``, of the points ``far`` and of each other: their bounds (xmin, ymin, xmax,
    ymax; squares × 4)."""
    if len(pts) > 1:  # each point once, in order of x then y
        pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
        pts = pts[np.concatenate([[True], (pts[1:, 0] != pts[:-1, 0]) | (pts[1:, 1] != pts[:-1, 1])])]
    f = np.floor((pts - o) / s).astype(np.int64)
    # the cell of each and its eight neighbours (9 × points × (column, row))
    cr = f + _NINE
    g = cr - lo
    ok = (g >= 0) & (g < (m.shape[1], m.shape[0]))
    ok = ok[..., 0] & ok[..., 1]  # (cheaper than a reduction over the last axis)
    on = np.zeros(ok.shape, bool)
    on[ok] = m[g[..., 1][ok], g[..., 0][ok]]
    # the Chebyshev distance to the closed cell (exact cell edges)
    gap = np.maximum(np.maximum(o + cr * s - pts, pts - (o + (cr + 1) * s)), 0.0)
    gap = np.where(on, 0.45 * np.maximum(gap[..., 0], gap[..., 1]), np.inf)
    half = np.minimum(0.45 * s, gap.min(axis=0))
    # (a far point a cell or more from every point leaves the squares as they are)
    if len(pts):
        w = (far >= pts.min(axis=0) - s) & (far <= pts.max(axis=0) + s)
        far = far[w[:, 0] & w[:, 1]]
    for other, share in ((far, 0.45), (pts, 0.45 / 2)):
        cheb = np.abs(pts[:, None] - other[None])
        cheb = np.maximum(cheb[..., 0], cheb[..., 1])
        if other is pts:
            np.fill_diagonal(cheb, np.inf)
        if cheb.size:
            half = np.minimum(half, share * cheb.min(axis=1))
    # (a home in reach at the very point of a far one cannot be both: the far one wins)
    pts, half = pts[half > 0], half[half > 0]
    return np.concatenate([pts - half[:, None], pts + half[:, None]], axis=1)


def covering(xy: np.ndarray, o: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """For points ``xy``, the first and last column (row) of the cells (of ``s``, from
    ``o``) whose closed squares hold each, their edges computed as :func:`trace` draws
    them (``o + i × s``): ``(cols, rows)``, each an array of shape (2, n)."""
    out = []
    for a in (0, 1):
        v = xy[:, a]
        f = np.floor((v - o[a]) / s).astype(np.int64)
        # the cell edges exactly as the traced rings have them (o + i × s)
        c = f + np.array([[-1], [0], [1]])
        cov = (o[a] + c * s <= v) & (v <= o[a] + (c + 1) * s)
        first = np.where(cov[0], f - 1, np.where(cov[1], f, f + 1))
        last = np.where(cov[2], f + 1, np.where(cov[1], f, f - 1))
        out.append(np.stack([first, np.maximum(last, first)]))
    return out[0], out[1]


def _least(a: np.ndarray, half: np.ndarray) -> np.ndarray:
    """The least of ``a`` over the disc around each cell, whose row ``dy`` (from ``-k``
    to ``k``, symmetric) spans ``half[dy + k]`` columns either side (none where
    negative): ``_least(a, half) <= T`` is ``a <= T`` grown by the disc.

    Worked on the flat array, a row's end next to the following row's start: exact
    where ``a``'s first and last ``max(half)`` columns hold the largest value of its
    type (as the windows of :meth:`Grid.cells` do), else on a copy padded so."""
    h, w = a.shape
    k = (len(half) - 1) // 2
    hm = int(max(half.max(), 0))
    top = _top(a.dtype)
    if hm and h and w and ((a[:, :hm] != top).any() or (a[:, w - hm:] != top).any()):
        pad = np.full((h, w + 2 * hm), top, dtype=a.dtype)
        pad[:, hm:hm + w] = a
        return _least(pad, half)[:, hm:hm + w].copy()
    f = np.ascontiguousarray(a).ravel()
    # the least over 0, 1, … columns either side (shifted copies: cheaper than a distance)
    wide = [f]
    for s in range(1, hm + 1):
        g = np.empty_like(f)
        g[:s] = wide[-1][:s]
        np.minimum(wide[-1][s:], f[:-s], out=g[s:])
        np.minimum(g[:-s], f[s:], out=g[:-s])
        wide.append(g)
    out = wide[int(half[k])].copy() if half[k] >= 0 else np.full_like(f, top)
    for dy in range(1, min(k, h - 1) + 1):
        hw = int(half[dy + k])
        if hw < 0:
            break
        o = dy * w
        np.minimum(out[:-o], wide[hw][o:], out=out[:-o])
        np.minimum(out[o:], wide[hw][:-o], out=out[o:])
    return out.reshape(h, w)


def _top(dtype: np.dtype) -> float | int:
    """The largest value of ``dtype``."""
    return np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).max


def trace(m: np.ndarray, origin: np.ndarray, offset: np.ndarray, s: float) -> shapely.Geometry:
    """The union of the closed cells where ``m`` is true, as a MultiPolygon: row
    ``i``, column ``j`` is the square from ``origin + (offset + (j, i)) × s``,
    one side ``s`` (its corners computed just so).

    Each run of boundary edges along a grid line is one segment, directed with
    the cells in on its left.  Where two cells meet at a corner only, a ring
    turns so that it passes the corner once (the rings stay simple: two
    polygons, or a shell and its hole, touch there).  Rings around cells in
    (anticlockwise) are shells, the others holes, each given to the shell
    around the same 4-connected cells.
    """
    return trace_many([m], [offset], origin, s)[0]


def trace_many(masks: Sequence[np.ndarray], offsets: Sequence[np.ndarray], origin: np.ndarray,
               s: float) -> list[shapely.Geometry]:
    """:func:`trace` of each mask with its offset, in one pass over them all."""
    return list(_multipolygons(len(masks), *_parts(masks, offsets, origin, s)))


def _parts(masks: Sequence[np.ndarray], offsets: Sequence[np.ndarray], origin: np.ndarray,
           s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The polygons of :func:`trace` for each mask as ragged arrays (as
    :func:`shapely.to_ragged_array` gives them): the rings' coordinates, where each
    ring starts in them and each polygon in the rings (one past the last at the end
    of both), and the mask of each polygon (in the masks' order).  The masks are
    laid one above the other with an empty row between them and an empty column
    either side, and traced as one."""
    none = (np.zeros((0, 2)), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
            np.zeros(0, dtype=np.int64))
    if not masks:
        return none
    hs = np.array([m.shape[0] for m in masks], dtype=np.int64)
    ws = np.array([m.shape[1] if m.ndim == 2 else 0 for m in masks], dtype=np.int64)
    row0 = 1 + np.concatenate([[0], np.cumsum(hs + 1)[:-1]])  # each mask's first row
    p = np.zeros((int(row0[-1] + hs[-1] + 1), int(ws.max(initial=0) + 2)), bool)
    for m, r, h, w in zip(masks, row0, hs, ws):
        if h and w:
            p[r:r + h, 1:1 + w] = m
    if not p.any():
        return none
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    segs = []  # per kind: start (col, row), end, the cell in
    # horizontal grid lines i (between rows i-1 and i), columns j: the cell above in,
    # then the cell below
    up, down = _edges(p)
    segs.append(_runs(up, p.shape[1], 1, horizontal=True, cell_row=1))
    segs.append(_runs(down, p.shape[1], -1, horizontal=True, cell_row=0))
    # vertical grid lines j (between columns j-1 and j), rows i: the cell west in, then
    # the cell east
    t = np.flatnonzero(p[:, 1:] != p[:, :-1])  # (row-major: for the groups too)
    east, west = _edges_across(p, t)
    segs.append(_runs(west, p.shape[0], 1, horizontal=False, cell_row=0))
    segs.append(_runs(east, p.shape[0], -1, horizontal=False, cell_row=1))
    sx, sy, ex, ey, dxs, dys, cr, cc = (np.concatenate(a) for a in zip(*segs))
    n = len(sx)
    # link each segment to the one starting where it ends (the left turn at a saddle)
    width = p.shape[1] + 2
    key = sy * width + sx
    order = np.argsort(key, kind="stable")
    ks = key[order]
    end = ey * width + ex
    a = np.searchsorted(ks, end)
    nxt = order[a]
    two = (a + 1 < n) & (ks[np.minimum(a + 1, n - 1)] == end)
    group_of = _groups(p, t)
    if two.any():
        # where two cells meet at a corner only: turn away from the corner (left) when
        # they belong to different 4-connected groups, towards it (right) when to the same
        # one, so that every ring passes the corner once and the rings are simple
        alt = order[a[two] + 1]
        px, py = ex[two], ey[two]
        nw = p[py, px - 1]
        c1 = group_of(py, np.where(nw, px - 1, px))  # NW or NE
        c2 = group_of(py - 1, np.where(nw, px, px - 1))  # SE or SW
        turn = np.where(c1 == c2, -1, 1)  # (-dy, dx) × turn
        want_x, want_y = -dys[two] * turn, dxs[two] * turn
        ok = (dxs[alt] == want_x) & (dys[alt] == want_y)
        nxt[two] = np.where(ok, alt, nxt[two])
    seq, ring_len = _cycles(nxt)
    firsts = np.cumsum(ring_len) - ring_len
    first_seg = seq[firsts]
    # anticlockwise rings are shells: twice each ring's signed area, exact in the
    # grid's integers (its segments' starts are its vertices)
    cross = sx[seq] * ey[seq] - ex[seq] * sy[seq]
    shell = np.add.reduceat(cross, firsts) > 0
    # each ring's 4-connected cells (beside its first segment), and their shell
    group = group_of(cr[first_seg], cc[first_seg])
    shell_of = np.zeros(int(group.max()) + 1, dtype=np.int64)
    shell_of[group[shell]] = np.flatnonzero(shell)
    owner = shell_of[group]
    # shells first within each polygon, the polygons in their shells' order
    o = np.lexsort((~shell, owner))
    brk = np.flatnonzero(owner[o][1:] != owner[o][:-1]) + 1
    poly_off = np.concatenate([[0], brk, [len(o)]])
    band = np.searchsorted(row0, cr[first_seg[o]], side="right") - 1  # each ring's mask
    # coordinates: each ring's segment starts, closed (its first again after its
    # last), in its mask's cells
    size = ring_len[o] + 1
    ring_off = np.concatenate([[0], np.cumsum(size)])
    src = _ranges(firsts[o], size)
    src[ring_off[1:] - 1] = firsts[o]
    closed = seq[src]
    bx = np.repeat(off[band, 0] - 1, size)
    by = np.repeat(off[band, 1] - row0[band], size)
    coords = np.column_stack([origin[0] + (bx + sx[closed]) * s,
                              origin[1] + (by + sy[closed]) * s])
    return coords, ring_off, poly_off, band[poly_off[:-1]]


def _ranges(start: np.ndarray, cnt: np.ndarray) -> np.ndarray:
    """``start[i], start[i] + 1, …`` (``cnt[i]`` of them) for each ``i``, one after the other."""
    return np.arange(cnt.sum()) + np.repeat(start - np.cumsum(cnt) + cnt, cnt)


def _take_polygons(coords: np.ndarray, ring_off: np.ndarray, poly_off: np.ndarray,
                   order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ragged polygons (:func:`_parts`) ``order``, their rings and coordinates
    kept as they are."""
    nr = np.diff(poly_off)[order]
    rings = _ranges(poly_off[order], nr)
    nc = np.diff(ring_off)[rings]
    return (coords[_ranges(ring_off[rings], nc)], np.concatenate([[0], np.cumsum(nc)]),
            np.concatenate([[0], np.cumsum(nr)]))


def _multipolygons(n: int, coords: np.ndarray, ring_off: np.ndarray, poly_off: np.ndarray,
                   which: np.ndarray) -> np.ndarray:
    """``n`` MultiPolygons of the ragged polygons (:func:`_parts`) of each ``which``
    (in their order), made in one pass (:func:`shapely.from_ragged_array`)."""
    order = np.argsort(which, kind="stable")
    if (np.diff(order) < 0).any():
        coords, ring_off, poly_off = _take_polygons(coords, ring_off, poly_off, order)
        which = which[order]
    mp_off = np.concatenate([[0], np.cumsum(np.bincount(which, minlength=n))])
    return shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords,
                                     (ring_off, poly_off, mp_off))


def _groups(p: np.ndarray, t: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The 4-connected groups of the true cells of ``p`` (false in its first and
    last column), as a function of rows and columns of true cells giving a number
    per group; ``t`` is where a row changes, ``np.flatnonzero(p[:, 1:] != p[:, :-1])``
    (between columns c and c + 1 of a row).  Found on the runs of true cells along
    the rows (a run joins the runs of the row above whose columns overlap its own):
    many fewer than the cells."""
    w = p.shape[1]
    row, col = np.divmod(t, w - 1)
    # each run's first cell and one past its last, as row × w + column (a row's
    # changes pair up: it begins and ends false)
    a = row[0::2] * w + col[0::2] + 1
    b = row[1::2] * w + col[1::2] + 1
    # the runs of the row above that overlap each: from the first that ends after its
    # start to the last that starts before its end
    first = np.searchsorted(b, a - w, side="right")
    cnt = np.maximum(np.searchsorted(a, b - w, side="left") - first, 0)
    n = len(a)
    # (the links run by run: the sparse rows given as they are)
    links = csr_matrix((np.ones(int(cnt.sum()), np.int8), _ranges(first, cnt),
                        np.concatenate([[0], np.cumsum(cnt)])), shape=(n, n))
    _, comp = connected_components(links, directed=False)

    def group_of(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return comp[np.searchsorted(a, r * w + c, side="right") - 1]

    return group_of


def _edges(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boundary edges between lines ``i`` and ``i + 1`` of ``q`` (lines ×
    positions, false at both ends of every line) as flat positions in
    ``q[1:]``: where line ``i + 1`` is in, then where line ``i`` is."""
    pos = np.flatnonzero(q[1:] != q[:-1])
    second = q[1:].ravel()[pos]
    return np.compress(second, pos), np.compress(~second, pos)


def _edges_across(p: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_edges` of ``p.T`` (the edges between columns, column by column) from
    ``t``, where the rows of ``p`` change (as for :func:`_groups`): sorted by column
    (a stable radix sort where the columns fit 16 bits) instead of transposing ``p``."""
    h, w = p.shape
    row, col = np.divmod(t, w - 1)
    by = np.argsort(col.astype(np.uint16) if w <= 1 << 16 else col, kind="stable")
    row, col = np.take(row, by), np.take(col, by)
    pos = col * h + row
    second = np.take(p.ravel(), row * w + col + 1)  # the cell east in
    return np.compress(second, pos), np.compress(~second, pos)


def _runs(pos: np.ndarray, w: int, d: int, *, horizontal: bool, cell_row: int
          ) -> tuple[np.ndarray, ...]:
    """Runs of boundary edges at flat positions ``pos`` (sorted; lines of ``w``
    positions, no edge at either end of a line) directed ``d`` (+1/-1) along
    the line: start and end (col, row), direction, the cell in."""
    brk = np.flatnonzero(np.diff(pos) != 1) + 1
    rise = pos[np.concatenate([[0], brk])] if len(pos) else pos
    fall = pos[np.concatenate([brk - 1, [len(pos) - 1]])] if len(pos) else pos
    line, a = np.divmod(rise, w)
    b = fall % w + 1  # one past the last edge
    if d < 0:
        a, b = b, a
    # the cell in: beside the first edge of the run, on the line's side cell_row
    first = np.minimum(a, b)
    inner = line + cell_row
    dd = np.full(len(a), d)
    zero = np.zeros(len(a), dtype=np.int64)
    at = line + 1  # the grid line between cells line and line + 1
    if horizontal:
        return a, at, b, at, dd, zero, inner, first
    return at, a, at, b, zero, dd, first, inner


def _cycles(nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cycles of the permutation ``nxt``: their members in order, one cycle
    after the other, each from its least member and in the order of those, and
    the length of each.  Found in one depth-first walk of the permutation's graph
    with a spine of ``n`` more nodes, spine node ``i`` leading to member ``i`` and
    then to spine node ``i + 1``: the walk goes round the cycle of member 0, then
    on along the spine to the least member not yet walked, and so on (each node's
    few edges are looked at a few times: linear)."""
    n = len(nxt)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # member i: to nxt[i]; spine node n + i: to member i, then to n + i + 1 (the last
    # spine node to its member only)
    to = np.empty(3 * n - 1, dtype=np.int64)
    to[:n] = nxt
    spine = np.empty((n, 2), dtype=np.int64)
    spine[:, 0] = np.arange(n)
    spine[:, 1] = np.arange(n + 1, 2 * n + 1)
    to[n:] = spine.ravel()[:-1]
    start = np.empty(2 * n + 1, dtype=np.int64)
    start[:n + 1] = np.arange(n + 1)
    start[n + 1:] = np.arange(n + 2, 3 * n + 1, 2)
    start[-1] = 3 * n - 1
    graph = csr_matrix((np.ones(3 * n - 1, dtype=np.int8), to, start), shape=(2 * n, 2 * n))
    walk = depth_first_order(graph, n, directed=True, return_predecessors=False)
    seq = np.compress(walk < n, walk).astype(np.int64)
    # (a cycle ends where the next member is not the one it leads to)
    firsts = np.concatenate([[0], np.flatnonzero(seq[1:] != nxt[seq[:-1]]) + 1, [n]])
    return seq, np.diff(firsts)
