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

The other modes cut the area nearest to a far home
(:func:`gcgeo.analysis._isochrones.drop_unreached`); here the cells do.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage

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
        xy, k = shapely.get_coordinates(shapely.segmentize(geom[ok], self.cell / 2),
                                        return_index=True)
        piece = ok[k]
        step = np.hypot(*np.diff(xy, axis=0).T) if len(xy) else np.zeros(0)
        step = np.concatenate([[0.0], np.where(piece[1:] == piece[:-1], step, 0.0)])[:len(xy)]
        along = np.cumsum(step)
        first = np.searchsorted(piece, piece)
        # position from the piece's start, in weight units (as node distances are)
        self.xy = xy
        self.pos = np.minimum((along - along[first]) / pieces.scale[piece], pieces.length[piece])
        self.piece = piece
        self.start = np.searchsorted(piece, np.arange(n + 1))
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
        low = (xy.min(axis=0) if len(xy) else np.zeros(2)) - 4 * self.buffer
        self.origin = np.floor(low / self.cell) * self.cell
        top = (xy.max(axis=0) if len(xy) else np.zeros(2)) + 4 * self.buffer
        self.homes = np.asarray(homes, dtype=float).reshape(-1, 2)
        with np.errstate(invalid="ignore"):
            here = np.flatnonzero(((self.homes >= self.origin) & (self.homes <= top)).all(axis=1))
        hc = np.floor((self.homes[here] - self.origin) / self.cell).astype(np.int64)
        self._cols = int(np.floor((top[0] - self.origin[0]) / self.cell)) + 2
        key = hc[:, 1] * self._cols + hc[:, 0]
        order = np.argsort(key, kind="stable")
        self._home_key = key[order]
        self._home_idx = here[order]

    def reached_pieces(self, nd: np.ndarray) -> np.ndarray:
        """The pieces with an end reached in node distances ``nd`` (the others are
        reached at no distance)."""
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

    def _homes_in(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The homes whose cell lies in columns, rows ``lo`` to ``hi`` (exclusive)."""
        c0, c1 = max(int(lo[0]), 0), min(int(hi[0]), self._cols)
        rows = np.arange(max(int(lo[1]), 0), max(int(hi[1]), 0))
        if c1 <= c0 or not len(rows):
            return np.zeros(0, dtype=np.int64)
        a = np.searchsorted(self._home_key, rows * self._cols + c0)
        b = np.searchsorted(self._home_key, rows * self._cols + c1)
        cnt = b - a
        idx = np.arange(cnt.sum()) + np.repeat(a - np.cumsum(cnt) + cnt, cnt)
        return self._home_idx[idx]

    def area(self, pts: np.ndarray, home_dist: np.ndarray, connector: np.ndarray,
             limit: float) -> tuple[shapely.Geometry, np.ndarray]:
        """The cells within the buffer of the reached points ``pts``, with the homes
        settled exactly (see the module): a MultiPolygon and the homes it covers."""
        none = np.zeros(0, dtype=np.int64)
        if not len(pts):
            return shapely.MultiPolygon(), none
        s, o, k = self.cell, self.origin, self.reach
        ij = np.floor((pts - o) / s).astype(np.int64)
        lo = ij.min(axis=0) - k - 3
        hi = ij.max(axis=0) + k + 4
        near = self._homes_in(lo - 1, hi + 1)  # (a home on a cell's edge: its neighbour's too)
        hxy = self.homes[near]
        hd = home_dist[near]
        good = (hd <= limit) & (connector[near] <= self.buffer)
        bad = ~(hd <= limit + self.buffer)
        cx, cy = _covering(hxy, o, s)
        if good.any():  # (within one buffer of a reached point: inside already, but be sure)
            lo = np.minimum(lo, [cx[0][good].min() - 1, cy[0][good].min() - 1])
            hi = np.maximum(hi, [cx[1][good].max() + 2, cy[1][good].max() + 2])
        m = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), bool)
        m[ij[:, 1] - lo[1], ij[:, 0] - lo[0]] = True
        m = _dilate(m, self.half)
        # far homes: every cell that covers one out; homes in reach: one cell in
        r4, c4, in4 = _cells4(cx, cy, lo, m.shape)
        out4 = in4 & bad
        m[r4[out4], c4[out4]] = False
        m[cy[0][good] - lo[1], cx[0][good] - lo[0]] = True
        clash = (m[r4, c4] & out4).any(axis=0)
        extra = np.zeros(0, dtype=object)
        if clash.any():
            # a cell holding both: out, and each home in reach it leaves uncovered gets
            # a square of its own, clear of the cells in and of the far homes
            out4 &= clash
            m[r4[out4], c4[out4]] = False
            lost = good & ~(m[r4, c4] & in4).any(axis=0)
            extra = _squares(hxy[lost], hxy[bad], m, lo, o, s)
        covered = (m[r4, c4] & in4).any(axis=0)
        for b in extra:  # (a square may hold another home than its own, never a far one)
            x0, y0, x1, y1 = b.bounds
            covered |= (hxy[:, 0] >= x0) & (hxy[:, 0] <= x1) & (hxy[:, 1] >= y0) & (hxy[:, 1] <= y1)
        g = trace(m, o, lo, s)
        if len(extra):
            g = shapely.MultiPolygon(list(g.geoms) + list(extra))
        return g, np.sort(near[covered])


def _cells4(cx: np.ndarray, cy: np.ndarray, lo: np.ndarray, shape: tuple[int, int]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (up to four) cells of :func:`_covering` ranges as grid rows and
    columns, shape (4, n), and whether each lies in the grid."""
    r = np.stack([cy[0], cy[0], cy[1], cy[1]]) - lo[1]
    c = np.stack([cx[0], cx[1], cx[0], cx[1]]) - lo[0]
    inside = (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
    return np.where(inside, r, 0), np.where(inside, c, 0), inside


def _squares(pts: np.ndarray, far: np.ndarray, m: np.ndarray, lo: np.ndarray,
             o: np.ndarray, s: float) -> np.ndarray:
    """Squares around ``pts`` (homes none of whose cells is in) clear of the cells in
    ``m``, of the points ``far`` and of each other."""
    pts = np.unique(pts, axis=0)
    half = np.full(len(pts), 0.45 * s)
    f = np.floor((pts - o) / s).astype(np.int64)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            c, r = f[:, 0] + dx, f[:, 1] + dy
            gr, gc = r - lo[1], c - lo[0]
            ok = (gr >= 0) & (gr < m.shape[0]) & (gc >= 0) & (gc < m.shape[1])
            on = np.zeros(len(pts), bool)
            on[ok] = m[gr[ok], gc[ok]]
            # the Chebyshev distance to the closed cell (exact cell edges)
            gap_x = np.maximum(np.maximum(o[0] + c * s - pts[:, 0],
                                          pts[:, 0] - (o[0] + (c + 1) * s)), 0.0)
            gap_y = np.maximum(np.maximum(o[1] + r * s - pts[:, 1],
                                          pts[:, 1] - (o[1] + (r + 1) * s)), 0.0)
            half = np.where(on, np.minimum(half, 0.45 * np.maximum(gap_x, gap_y)), half)
    for other, share in ((far, 0.45), (pts, 0.45 / 2)):
        cheb = np.abs(pts[:, None, :] - other[None, :, :]).max(axis=2)
        if other is pts:
            np.fill_diagonal(cheb, np.inf)
        if cheb.size:
            half = np.minimum(half, share * cheb.min(axis=1))
    # (a home in reach at the very point of a far one cannot be both: the far one wins)
    pts, half = pts[half > 0], half[half > 0]
    return shapely.box(*(pts - half[:, None]).T, *(pts + half[:, None]).T)


def _covering(xy: np.ndarray, o: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """For points ``xy``, the first and last column (row) of the cells whose closed
    squares hold each: ``(cols, rows)``, each an array of shape (2, n)."""
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


def _dilate(m: np.ndarray, half: np.ndarray) -> np.ndarray:
    """``m`` grown by the disc whose row ``dy`` (from ``-k`` to ``k``, symmetric)
    spans ``half[dy + k]`` columns either side (none where negative)."""
    h, _ = m.shape
    k = (len(half) - 1) // 2
    # grown sideways by 0, 1, … columns (shifted copies: cheaper than a distance)
    wide = [m]
    for w in range(1, int(max(half.max(), 0)) + 1):
        g = wide[-1].copy()
        g[:, w:] |= m[:, :-w]
        g[:, :-w] |= m[:, w:]
        wide.append(g)
    out = wide[int(half[k])].copy() if half[k] >= 0 else np.zeros_like(m)
    for dy in range(1, k + 1):
        hw = int(half[dy + k])
        if hw < 0:
            break
        out[:h - dy] |= wide[hw][dy:]
        out[dy:] |= wide[hw][:h - dy]
    return out


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
    if not m.any():
        return shapely.MultiPolygon()
    if m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any():
        p = np.pad(m, 1)
        off = np.asarray(offset, dtype=np.int64) - 1  # (the padding)
    else:
        p = m
        off = np.asarray(offset, dtype=np.int64)
    segs = []  # per kind: start (col, row), end, the cell in
    # horizontal grid lines i (between rows i-1 and i), columns j
    below, above = p[:-1], p[1:]
    for e, dx, cell_row in ((above & ~below, 1, 1), (below & ~above, -1, 0)):
        segs.append(_runs(e, dx, horizontal=True, cell_row=cell_row))
    # vertical grid lines j (between columns j-1 and j), rows i
    west, east = p[:, :-1], p[:, 1:]
    for e, dy, cell_col in ((west & ~east, 1, 0), (east & ~west, -1, 1)):
        segs.append(_runs(e.T, dy, horizontal=False, cell_row=cell_col))
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
    lab = None
    if two.any():
        # where two cells meet at a corner only: turn away from the corner (left) when
        # they belong to different 4-connected groups, towards it (right) when to the same
        # one, so that every ring passes the corner once and the rings are simple
        lab, _ = ndimage.label(p)
        alt = order[a[two] + 1]
        px, py = ex[two], ey[two]
        nw = p[py, px - 1]
        c1 = np.where(nw, lab[py, px - 1], lab[py, px])  # NW or NE
        c2 = np.where(nw, lab[py - 1, px], lab[py - 1, px - 1])  # SE or SW
        turn = np.where(c1 == c2, -1, 1)  # (-dy, dx) × turn
        want_x, want_y = -dys[two] * turn, dxs[two] * turn
        ok = (dxs[alt] == want_x) & (dys[alt] == want_y)
        nxt[two] = np.where(ok, alt, nxt[two])
    seq, ring_len = _cycles(nxt)
    n_rings = len(ring_len)
    # coordinates: each ring's segment starts, closed
    firsts = np.concatenate([[0], np.cumsum(ring_len)[:-1]])
    pts = np.column_stack([origin[0] + (off[0] + sx[seq]) * s,
                           origin[1] + (off[1] + sy[seq]) * s])
    closing = pts[firsts]
    ins = np.cumsum(ring_len)
    coords = np.insert(pts, ins, closing, axis=0)
    ring_idx = np.repeat(np.arange(n_rings), ring_len + 1)
    lr = shapely.linearrings(coords, indices=ring_idx)
    shell = shapely.is_ccw(lr)
    owner = _owners(shell, coords, ring_idx)
    if owner is None:
        if lab is None:
            lab, _ = ndimage.label(p)
        first_seg = seq[firsts]
        owner = lab[cr[first_seg], cc[first_seg]]
    # shells first within each polygon
    o = np.lexsort((~shell, owner))
    _, poly_idx = np.unique(owner[o], return_inverse=True)
    polys = shapely.polygons(lr[o], indices=poly_idx)
    return shapely.MultiPolygon(list(polys))


def _owners(shell: np.ndarray, coords: np.ndarray, ring: np.ndarray) -> np.ndarray | None:
    """The shell each ring belongs to, where the bounds tell (each hole within the
    bounds of one shell only); None where they do not."""
    n = len(shell)
    if shell.sum() == 1:
        return np.zeros(n, dtype=np.int64)
    first = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    lo = np.minimum.reduceat(coords, first)
    hi = np.maximum.reduceat(coords, first)
    sh, ho = np.flatnonzero(shell), np.flatnonzero(~shell)
    within = ((lo[ho, None] >= lo[None, sh]) & (hi[ho, None] <= hi[None, sh])).all(axis=2)
    if not (within.sum(axis=1) == 1).all():
        return None
    owner = np.empty(n, dtype=np.int64)
    owner[sh] = sh
    owner[ho] = sh[within.argmax(axis=1)]
    return owner


def _runs(e: np.ndarray, d: int, *, horizontal: bool, cell_row: int) -> tuple[np.ndarray, ...]:
    """Runs of boundary edges ``e`` (lines × positions, false at both ends of
    every line) directed ``d`` (+1/-1) along the line: start and end (col,
    row), direction, the cell in."""
    w = e.shape[1]
    flat = e.ravel()
    rise = np.flatnonzero(flat[1:] & ~flat[:-1]) + 1
    fall = np.flatnonzero(flat[:-1] & ~flat[1:])
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
    after the other, and the length of each.  (A plain loop: faster here than
    pointer jumping in numpy, which takes log2(n) passes.)"""
    nx = nxt.tolist()
    seen = bytearray(len(nx))
    seq: list[int] = []
    lens: list[int] = []
    for s in range(len(nx)):
        if seen[s]:
            continue
        k = len(seq)
        t = s
        while not seen[t]:
            seen[t] = 1
            seq.append(t)
            t = nx[t]
        lens.append(len(seq) - k)
    return np.array(seq, dtype=np.int64), np.array(lens, dtype=np.int64)
