"""Community isochrones drawn from square cells laid once over the town.

Per community, tier and category the living circle draws the buffered street
linework reached within the tier, inside the community; per tier also the
part every category reaches ("all").  A city has tens of communities and tens
of (category, tier) pairs, thousands of polygons; merging buffered street
pieces for each (:mod:`gcgeo.analysis._isochrones`) took half a minute at
167k street nodes.  Here the buffer is made of square cells, as for the
facility isochrones (:mod:`gcgeo.analysis._iso_grid`), and laid once per
category and tier over the whole town (:class:`Town`):

- points at most half a cell apart along every street piece get their
  distance from one search per category (a piece's points in one cell kept as
  one run: its first and last); the cells of the points within the
  tier are marked on one grid over the communities (less a border) and grown
  by the buffer's disc: a cell is in when it lies wholly within
  :func:`gcgeo.analysis._iso_grid.inner_radius` of a marked cell's points
  (farthest corners).  So no cell reaches beyond the buffer of the reached
  streets, and every point within
  :func:`gcgeo.analysis._iso_grid.tolerance` less than the buffer of them is
  in: the edge is a staircase up to that much inside the buffer's arcs
  (17.6 m with the 50 m buffer and 5 m cells);
- the homes decide the rest exactly, as per facility: a home within the tier
  along the network whose connector is at most the buffer gets a cell that
  covers it; a home farther than the tier plus the buffer (or not reached)
  has every cell that covers it taken out.  A cell holding both is out, and
  each home in reach it leaves uncovered gets a small square of its own,
  clear of the cells in and of the far homes;
- a community's polygon is its window of the town's cells, traced
  (:func:`gcgeo.analysis._iso_grid.trace`), clipped exactly to the
  community (a box by clamping the corners, any other by GEOS where the
  polygon reaches out of the cells inside it: :meth:`Town.clip`); windows
  with the same cells share one polygon (far from the frontier of a reach
  most categories reach every street);
- "all" is the cells every category of the tier has in, clipped alike: the
  intersection of the categories' polygons (drawn by their intersection
  where a category needed squares of its own there).
"""

from __future__ import annotations

import numpy as np
import shapely

from . import _iso_grid as _grid
from . import _isochrones as _iso


def disc(buffer: float, cell: float) -> tuple[int, np.ndarray]:
    """The cells a marked cell puts in: for row offsets ``dy`` from ``-k`` to
    ``k``, the column offsets up to ``half[dy + k]`` either side (none where
    negative), so that the farthest corners of the two cells lie within the
    inner radius of the buffer.  Returns ``k`` and ``half``."""
    rad = _grid.inner_radius(buffer) / cell
    k = max(int(np.floor(rad)) - 1, 0)
    dy = np.abs(np.arange(-k, k + 1)) + 1.0
    # farthest corners (|dx| + 1, |dy| + 1) cells apart
    half = np.floor(np.sqrt(np.maximum(rad ** 2 - dy ** 2, 0.0))) - 1
    half[dy ** 2 + 1.0 > rad ** 2] = -1
    return k, half


def dilate(m: np.ndarray, half: np.ndarray) -> np.ndarray:
    """``m`` grown by the :func:`disc` ``half``: a cell is in when some cell in of
    ``m`` lies ``dy`` rows and at most ``half[dy + k]`` columns away.

    The rows are shifted as 64-bit words of packed cells (an eighth of the bytes
    moved, a word shifted at once) when the disc is narrower than a word.
    """
    widest = int(max(half.max(), 0))
    if widest >= 64 or m.ndim != 2 or not m.size:
        return _dilate_cells(m, half)
    h, cols = m.shape
    words = -(-cols // 64)
    x = np.zeros((h, words * 8), np.uint8)
    x[:, :-(-cols // 8)] = np.packbits(m, axis=1, bitorder="little")
    x = x.view("<u8")  # (cell c of a row is bit c % 64 of word c // 64)
    wide = [x]
    for w in range(1, widest + 1):
        g = wide[-1].copy()
        g |= x << np.uint64(w)  # cell c from c - w
        g[:, 1:] |= x[:, :-1] >> np.uint64(64 - w)
        g |= x >> np.uint64(w)  # cell c from c + w
        g[:, :-1] |= x[:, 1:] << np.uint64(64 - w)
        wide.append(g)
    out = _stack(wide, half)
    cells = np.unpackbits(out.view(np.uint8), axis=1, count=cols, bitorder="little")
    return cells.view(bool)


def _dilate_cells(m: np.ndarray, half: np.ndarray) -> np.ndarray:
    """:func:`dilate` a byte per cell (any disc)."""
    wide = [m]
    for w in range(1, int(max(half.max(), 0)) + 1):
        g = wide[-1].copy()
        g[:, w:] |= m[:, :-w]
        g[:, :-w] |= m[:, w:]
        wide.append(g)
    return _stack(wide, half)


def _stack(wide: list[np.ndarray], half: np.ndarray) -> np.ndarray:
    """The rows of the disc ``half`` laid together: ``wide[w]``, the grid grown ``w``
    columns either way, OR-ed onto the rows ``dy`` away for half-width ``half[dy + k]``."""
    h = wide[0].shape[0]
    k = (len(half) - 1) // 2
    out = wide[int(half[k])].copy() if half[k] >= 0 else np.zeros_like(wide[0])
    for dy in range(1, min(k, h - 1) + 1):
        hw = int(half[dy + k])
        if hw < 0:
            break
        out[:h - dy] |= wide[hw][dy:]
        out[dy:] |= wide[hw][:h - dy]
    return out


class Bits:
    """A grid of booleans kept eight to a byte (a category and tier's cells in,
    over the whole town), read by windows (``bits[rows, cols]``, slices) or
    cells (:meth:`at`)."""

    def __init__(self, m: np.ndarray):
        self.packed = np.packbits(m, axis=1)

    def __getitem__(self, win: tuple[slice, slice]) -> np.ndarray:
        rows, cols = win
        b0 = cols.start // 8
        sub = np.unpackbits(self.packed[rows, b0:(cols.stop + 7) // 8], axis=1)
        return sub[:, cols.start - 8 * b0:cols.stop - 8 * b0].view(bool)

    def at(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Whether cells (``r``, ``c``) are in."""
        return ((self.packed[r, c >> 3] >> (7 - (c & 7))) & 1).astype(bool)


class Town:
    """Points along the street pieces of ``pieces`` on one grid of ``cell`` metres
    over ``polys`` (the communities), and the homes at ``homes`` (points, NaN
    for none) with their ``connector`` lengths."""

    def __init__(self, pieces: _iso.Pieces, homes: np.ndarray, connector: np.ndarray,
                 polys: np.ndarray, *, cell: float):
        self.pieces = pieces
        self.cell = s = float(cell)
        self.buffer = pieces.buffer
        self.k, self.half = disc(self.buffer, s)
        lo, hi = shapely.total_bounds(polys).reshape(2, 2)
        pad = (self.k + 3) * s
        # cell (col, row) is the square from (col, row) × s: the same lattice whatever the
        # communities (a partition draws the whole run's cells); the grid starts at base
        self.origin = o = np.zeros(2)
        self.base = b0 = np.floor((lo - pad) / s).astype(np.int64)
        self.shape = (int(np.floor((hi[1] + pad) / s)) - int(b0[1]) + 1,
                      int(np.floor((hi[0] + pad) / s)) - int(b0[0]) + 1)
        rows, cols = self.shape
        # points along the pieces, half a cell apart, those on the grid only; a piece's
        # points in one cell one after the other make one run (the first and the last
        # position: the nearest to either end); in chunks of pieces
        geom = pieces.geom
        ok = np.flatnonzero(~(shapely.is_missing(geom) | shapely.is_empty(geom))) if len(geom) \
            else np.zeros(0, dtype=np.int64)
        with _iso.pool() as ex:
            runs = list(ex.map(lambda i: self._runs(ok[i:i + self.CHUNK], cols, rows),
                               range(0, max(len(ok), 1), self.CHUNK)))
        piece, self.at_u, last, self.flat = (np.concatenate(x) for x in zip(*runs))
        # (a run's distance: from its piece's ends u and v, see distances)
        self.u = pieces.aug.piece_u[piece].astype(np.int32)
        self.v = pieces.aug.piece_v[piece].astype(np.int32)
        self.at_v = pieces.length[piece] - last
        # the homes on the grid and the cells that hold them
        self.homes = np.asarray(homes, dtype=float).reshape(-1, 2)
        self.connector = np.asarray(connector, dtype=float)
        lo_h, hi_h = b0 * s - 2 * s, (b0 + [cols, rows]) * s + 2 * s
        with np.errstate(invalid="ignore"):
            near = np.flatnonzero(((self.homes >= lo_h) & (self.homes <= hi_h)).all(axis=1))
        cov = np.concatenate(_grid.covering(self.homes[near], o, s)) - b0[[0, 0, 1, 1], None]
        inside = (cov[0] >= 0) & (cov[1] < cols) & (cov[2] >= 0) & (cov[3] < rows)
        self.home_on = near[inside]
        c0, c1, r0, r1 = cov[:, inside]
        # the flat positions of the (up to four) cells holding each home, the first one's first
        self.flat4 = np.stack([r0 * cols + c0, r0 * cols + c1, r1 * cols + c0, r1 * cols + c1])

    #: Pieces per chunk of :meth:`_runs` (bounds the memory of the points).
    CHUNK = 20_000

    def _runs(self, sel: np.ndarray, cols: int, rows: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For the pieces ``sel``, the runs of their points in one cell: the piece,
        the first and the last position along it, and the cell (flat)."""
        pieces, s, b0 = self.pieces, self.cell, self.base
        xy, piece, pos = _grid.points_along(pieces, sel, s / 2)
        ij = np.floor(xy / s).astype(np.int64) - b0
        on = (ij[:, 0] >= 0) & (ij[:, 0] < cols) & (ij[:, 1] >= 0) & (ij[:, 1] < rows)
        piece, pos, flat = piece[on], pos[on], (ij[on, 1] * cols + ij[on, 0]).astype(np.int32)
        start = np.flatnonzero(np.r_[True, (piece[1:] != piece[:-1]) | (flat[1:] != flat[:-1])]
                               )[:len(piece)]
        end = np.r_[start[1:], len(piece)][:len(start)] - 1
        return piece[start], pos[start], pos[end], flat[start]

    def distances(self, nd: np.ndarray) -> np.ndarray:
        """The network distance of every run of points from node distances ``nd``
        (NaN: not reached): its nearest point's (along a piece the distance from
        one end grows, from the other shrinks)."""
        return np.fmin(nd[self.u] + self.at_u, nd[self.v] + self.at_v)

    def cells(self, pd_: np.ndarray, home_dist: np.ndarray, limit: float
              ) -> tuple[np.ndarray, np.ndarray]:
        """The cells in for points at distances ``pd_`` within ``limit``, the homes
        settled (see the module); and the squares of the homes in reach that no
        cell may cover (Polygons, one per such home location)."""
        rows, cols = self.shape
        m = np.zeros(rows * cols, bool)
        m[self.flat[pd_ <= limit]] = True
        m = dilate(m.reshape(rows, cols), self.half)
        mf = m.reshape(-1)  # (a view)
        hd = home_dist[self.home_on]
        good = np.flatnonzero((hd <= limit) & (self.connector[self.home_on] <= self.buffer))
        bad = np.flatnonzero(~(hd <= limit + self.buffer))
        f4 = self.flat4
        mf[f4[:, bad]] = False
        mf[f4[0, good]] = True
        clash = mf[f4[:, bad]].any(axis=0)
        if not clash.any():
            return m, np.zeros(0, dtype=object)
        # a cell holding both kinds: out; the homes in reach it leaves uncovered
        # get squares of their own
        mf[f4[:, bad[clash]]] = False
        lost = good[~mf[f4[:, good]].any(axis=0)]
        return m, self._squares(self.homes[self.home_on[lost]],
                                self.homes[self.home_on[bad]], m)

    def _squares(self, pts: np.ndarray, far: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Squares around ``pts`` clear of the cells in ``m``, of the points ``far``
        and of each other."""
        from scipy.spatial import cKDTree

        s = self.cell
        pts = np.unique(pts, axis=0)
        half = np.full(len(pts), 0.45 * s)
        f = np.floor(pts / s).astype(np.int64) - self.base
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                c, r = f[:, 0] + dx, f[:, 1] + dy
                ok = (r >= 0) & (r < m.shape[0]) & (c >= 0) & (c < m.shape[1])
                on = np.zeros(len(pts), bool)
                on[ok] = m[r[ok], c[ok]]
                gx, gy = c + self.base[0], r + self.base[1]  # (the lattice's edges)
                gap_x = np.maximum(np.maximum(gx * s - pts[:, 0], pts[:, 0] - (gx + 1) * s), 0.0)
                gap_y = np.maximum(np.maximum(gy * s - pts[:, 1], pts[:, 1] - (gy + 1) * s), 0.0)
                half = np.where(on, np.minimum(half, 0.45 * np.maximum(gap_x, gap_y)), half)
        if len(far):
            # (only a far point less than a cell away narrows a square: one in the cells
            # around the square's, two either side to be safe from rounding)
            ring = np.stack(np.meshgrid(np.arange(-2, 3), np.arange(-2, 3)), -1).reshape(-1, 2)
            around = (np.floor(pts / s).astype(np.int64)[:, None, :] + ring).reshape(-1, 2)
            cell_f = np.floor(far / s).astype(np.int64)
            far = far[np.isin(cell_f[:, 0] * 2**32 + cell_f[:, 1],
                              around[:, 0] * 2**32 + around[:, 1])]
        if len(far):
            d, _ = cKDTree(far).query(pts, p=np.inf)
            half = np.minimum(half, 0.45 * d)
        if len(pts) > 1:
            d, _ = cKDTree(pts).query(pts, k=2, p=np.inf)
            half = np.minimum(half, 0.45 / 2 * d[:, 1])
        # (a home in reach at the very point of a far one cannot be both: the far one wins)
        pts, half = pts[half > 0], half[half > 0]
        return shapely.box(*(pts - half[:, None]).T, *(pts + half[:, None]).T)

    def window(self, poly: shapely.Geometry
               ) -> tuple[tuple[slice, slice], np.ndarray | None, np.ndarray | None]:
        """The cells of the grid around ``poly``: their rows and columns, which of
        them may meet it (a superset; the polygons are clipped to it exactly) and
        which lie inside it, closed squares in its interior (the polygons need no
        clip there); both None for a box (its window's cells are those whose
        insides meet it)."""
        s = self.cell
        bx, by = int(self.base[0]), int(self.base[1])
        x0, y0, x1, y1 = poly.bounds
        if shapely.equals(poly, shapely.box(x0, y0, x1, y1)):
            c0, r0 = int(np.floor(x0 / s)), int(np.floor(y0 / s))
            c1, r1 = int(np.ceil(x1 / s)), int(np.ceil(y1 / s))
            # (no cell merely touching the box: clamped, it would be a sliver)
            c0 += (c0 + 1) * s <= x0
            r0 += (r0 + 1) * s <= y0
            c1 -= (c1 - 1) * s >= x1
            r1 -= (r1 - 1) * s >= y1
            return (slice(r0 - by, max(r1, r0) - by), slice(c0 - bx, max(c1, c0) - bx)), \
                None, None
        c0, r0 = int(np.floor(x0 / s)) - 1, int(np.floor(y0 / s)) - 1
        c1, r1 = int(np.floor(x1 / s)) + 2, int(np.floor(y1 / s)) + 2
        gx, gy = np.meshgrid((np.arange(c0, c1) + 0.5) * s, (np.arange(r0, r1) + 0.5) * s)
        shapely.prepare(poly)
        centre = shapely.contains_xy(poly, gx, gy)
        # the cells holding points of the outline at most half a cell apart: every
        # cell the outline passes through is within one of them, every cell it
        # touches within two
        b = shapely.get_coordinates(shapely.segmentize(poly.boundary, s / 2))
        bi = np.floor(b / s).astype(np.int64) - [c0, r0]
        edge = np.zeros_like(centre)
        edge[np.clip(bi[:, 1], 0, edge.shape[0] - 1), np.clip(bi[:, 0], 0, edge.shape[1] - 1)] = True
        return (slice(r0 - by, r1 - by), slice(c0 - bx, c1 - bx)), \
            centre | dilate(edge, np.ones(3)), centre & ~dilate(edge, np.full(5, 2.0))

    def draw(self, ms: list[np.ndarray], win: tuple[slice, slice], poly: shapely.Geometry,
             inner: np.ndarray | None) -> list[shapely.Geometry]:
        """The cells in each of ``ms`` (windows at ``win``), traced and clipped to
        ``poly``: a box (``inner`` None) by clamping the rows and columns to it,
        exact for rectilinear rings; any other as :meth:`clip` does.  The windows
        are traced side by side in one go, a column apart, and put back at their
        place with the corners computed as for one alone."""
        s, o = self.cell, self.origin
        h, w = ms[0].shape
        big = np.zeros((h, len(ms) * (w + 1)), bool)
        for k, m in enumerate(ms):
            big[:, k * (w + 1):k * (w + 1) + w] = m
        c0, r0 = win[1].start + self.base[0], win[0].start + self.base[1]
        parts = np.asarray(shapely.get_parts(_grid.trace(big, o, np.array([c0, r0]), s)))
        xy, part = shapely.get_coordinates(parts, return_index=True)
        col = np.rint(xy[:, 0] / s).astype(np.int64)  # the grid line
        first = np.flatnonzero(np.r_[True, part[1:] != part[:-1]]) if len(part) else part
        k = (np.minimum.reduceat(col, first) - c0) // (w + 1) if len(part) else part
        xy[:, 0] = o[0] + (col - k[part] * (w + 1)) * s  # (as trace computes them)
        if inner is None:
            lo, hi = np.array(poly.bounds).reshape(2, 2)
            xy = np.clip(xy, lo, hi)
        parts = shapely.set_coordinates(parts, xy)
        if inner is not None:
            return self.clip(parts, k, ms, (c0, r0), poly, inner)
        return _multi(parts, k, len(ms))

    def clip(self, parts: np.ndarray, k: np.ndarray, ms: list[np.ndarray],
             corner: tuple[int, int], poly: shapely.Geometry, inner: np.ndarray
             ) -> list[shapely.Geometry]:
        """The traced polygons ``parts`` of each window ``ms[k]`` (cell ``corner``
        its first) clipped to ``poly``, per window a MultiPolygon.

        Only what reaches outside the ``inner`` cells goes through GEOS: a part
        or a hole whose bounding cells are all inner is inside ``poly`` as it
        is.  A part reaching out is clipped with its other holes, and gets back
        its inner holes by a point inside each (a cell's centre).  Holes that
        touch another ring at a corner (where two cells in meet diagonally) are
        clipped too: the clip can join the rings they touch (a hole touching
        the outline twice parts the polygon).
        """
        s = self.cell
        h, w = inner.shape
        rings, pi = shapely.get_rings(parts, return_index=True)
        shell = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
        b = np.rint(shapely.bounds(rings) / s).astype(np.int64) - np.array(corner * 2)
        sat = np.zeros((h + 1, w + 1), np.int64)
        sat[1:, 1:] = inner.cumsum(axis=0).cumsum(axis=1)
        x0, y0, x1, y1 = b.T
        within = sat[y1, x1] - sat[y0, x1] - sat[y1, x0] + sat[y0, x0] == (x1 - x0) * (y1 - y0)
        # the parts wholly inside, the holes inside of parts that are not
        keep = within[shell]
        cut = ~keep[pi]
        hole = cut & ~shell & within
        if hole.any():
            # (a corner where two cells in meet diagonally: a saddle of the window's cells)
            q = np.pad(np.asarray(ms), ((0, 0), (1, 1), (1, 1)))
            a, bb, c, d = q[:, :-1, :-1], q[:, :-1, 1:], q[:, 1:, :-1], q[:, 1:, 1:]
            saddle = (a == d) & (bb == c) & (a != bb)
            xy, ri = shapely.get_coordinates(rings[hole], return_index=True)
            g = np.rint(xy / s).astype(np.int64) - np.array(corner)
            at = saddle[k[pi[hole]][ri], g[:, 1], g[:, 0]]
            touch = np.zeros(int(hole.sum()), bool)
            np.logical_or.at(touch, ri, at)
            hole[np.flatnonzero(hole)[touch]] = False
        # the parts reaching out, with the holes not put back, clipped
        mine = cut & ~hole
        owner = np.unique(pi[mine])
        pieces, piece_k = np.zeros(0, dtype=object), np.zeros(0, np.int64)
        from_q = piece_k
        if len(owner):
            clipped = shapely.intersection(
                shapely.polygons(rings[mine], indices=np.searchsorted(owner, pi[mine])), poly)
            pieces, from_q = shapely.get_parts(clipped, return_index=True)
            poly_ok = (shapely.get_type_id(pieces) == 3) & ~shapely.is_empty(pieces)
            pieces, from_q = pieces[poly_ok], from_q[poly_ok]
            piece_k = k[owner[from_q]]
        # the holes put back, each in the piece of its part that holds it
        hr = rings[hole]
        hq = np.searchsorted(owner, pi[hole])  # (the clipped part)
        pt, pc = self._put_back(hr, hq, pieces, from_q)
        out = [shapely.MultiPolygon()] * len(ms)
        if len(pt) != len(hr):  # pragma: no cover - (a guard)
            for j, grp in zip(*_groups(k)):
                out[j] = _iso.multi(shapely.intersection(shapely.MultiPolygon(list(parts[grp])),
                                                         poly))
            return out
        # the pieces' rings, then the holes they get back, by piece
        pr, pp = shapely.get_rings(pieces, return_index=True)
        order = np.argsort(np.r_[pp, pc], kind="stable")
        rebuilt = shapely.polygons(np.r_[pr, hr[pt]][order],
                                   indices=np.r_[pp, pc][order])
        return _multi(np.r_[parts[keep], rebuilt], np.r_[k[keep], piece_k], len(ms))

    def _put_back(self, hr: np.ndarray, hq: np.ndarray, pieces: np.ndarray, from_q: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """For holes ``hr`` of the clipped parts ``hq``, the piece of the part
        (``pieces``, their parts ``from_q``) holding each: the holes found and
        their pieces."""
        s = self.cell
        none = np.zeros(0, np.int64)
        if not len(hr):
            return none, none
        n_q = np.bincount(from_q, minlength=int(hq.max()) + 1)
        first = np.searchsorted(from_q, np.arange(len(n_q)))
        one = n_q[hq] == 1
        pt, pc = [np.flatnonzero(one)], [first[hq[one]]]
        many = np.flatnonzero(n_q[hq] > 1)
        if len(many):
            # a cell's centre inside the hole: its first cell, right of its first edge for
            # a clockwise ring, else left
            sub = hr[many]
            p0 = shapely.get_coordinates(shapely.get_point(sub, 0))
            p1 = shapely.get_coordinates(shapely.get_point(sub, 1))
            u = (p1 - p0) / np.linalg.norm(p1 - p0, axis=1)[:, None]
            side = np.where(shapely.is_ccw(sub), 1.0, -1.0)[:, None]
            c = p0 + (u + side * np.column_stack([-u[:, 1], u[:, 0]])) * (s / 2)
            for q in np.unique(hq[many]):
                at = many[hq[many] == q]
                xy = c[hq[many] == q]
                for j in range(first[q], first[q] + n_q[q]):
                    shapely.prepare(pieces[j])
                    got = shapely.contains_xy(pieces[j], xy[:, 0], xy[:, 1])
                    pt.append(at[got])
                    pc.append(np.full(int(got.sum()), j))
        pt_, pc_ = np.concatenate(pt), np.concatenate(pc)
        return pt_, pc_


def _multi(polys: np.ndarray, which: np.ndarray, n: int) -> list[shapely.Geometry]:
    """``n`` MultiPolygons, the ``j``-th of the ``polys`` where ``which`` is ``j``
    (in their order; empty where none)."""
    out = np.full(n, shapely.MultiPolygon(), dtype=object)
    if len(polys):
        order = np.argsort(which, kind="stable")
        shapely.multipolygons(polys[order], indices=which[order], out=out)
    return list(out)


def _groups(key: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct values of ``key`` and the positions holding each."""
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    grp = np.split(order, bounds) if len(order) else []
    return (key[order[np.r_[0, bounds]]] if len(order) else key), grp


def _squares_in(sq: np.ndarray, tree: shapely.STRtree | None, poly: shapely.Geometry
                ) -> list[shapely.Geometry]:
    """The squares of ``sq`` (indexed by ``tree``) inside ``poly``, clipped to it."""
    if tree is None:
        return []
    mine = sq[tree.query(poly, predicate="intersects")]
    return [p for p in shapely.get_parts(shapely.simplify(shapely.intersection(mine, poly), 0.0))
            if p.geom_type == "Polygon" and not p.is_empty] if len(mine) else []


def _all_squares(town: Town, cats: list[tuple], poly: shapely.Geometry) -> list[shapely.Geometry]:
    """Where the categories ``cats`` ((cells, squares, tree) each) have squares of
    their own inside ``poly``: the part of those squares every category covers
    (by its cells or its squares).  Clear of the cells every category has in."""
    near = [sq[tree.query(poly, predicate="intersects")] for _, sq, tree in cats if tree is not None]
    qs = np.concatenate(near) if near else np.zeros(0, dtype=object)
    if not len(qs):
        return []
    # the squares round one home (one per category) share its centre: the largest holds
    # the others, and what every category covers of it is the part of all of them
    b = shapely.bounds(qs)
    centre = np.round((b[:, :2] + b[:, 2:]) / 2, 6)
    by_size = np.argsort(-shapely.area(qs), kind="stable")
    _, biggest = np.unique(centre[by_size], axis=0, return_index=True)
    s, (bx, by) = town.cell, town.base
    got = []
    for q in qs[by_size[biggest]]:
        piece = q
        x0, y0, x1, y1 = q.bounds
        c = np.arange(int(np.floor(x0 / s)), int(np.floor(x1 / s)) + 1)
        r = np.arange(int(np.floor(y0 / s)), int(np.floor(y1 / s)) + 1)
        cc, rr = np.meshgrid(c, r)
        for m, sq, tree in cats:
            on = m.at(rr - by, cc - bx)
            if on.all():  # (the category's cells cover the square)
                continue
            cover = list(shapely.box(cc[on] * s, rr[on] * s, (cc[on] + 1) * s, (rr[on] + 1) * s))
            if tree is not None:
                cover += list(sq[tree.query(q, predicate="intersects")])
            piece = shapely.intersection(piece, shapely.union_all(cover)) if cover else None
            if piece is None or piece.is_empty:
                break
        else:
            got.append(piece)
    if not got:
        return []
    # (without vertices on a straight line between their neighbours, which GEOS can leave)
    u = shapely.simplify(shapely.intersection(shapely.union_all(got), poly), 0.0)
    return [p for p in shapely.get_parts(u) if p.geom_type == "Polygon" and not p.is_empty]


def community_areas(town: Town, polys: np.ndarray, live: list[int], node_d: dict,
                    home_dist: dict, tier_m: dict, req: dict) -> dict[tuple, shapely.Geometry]:
    """Per live community ``i``, category ``c`` (and "all") and tier ``t`` its
    polygon, keyed ``(i, c, t)`` (see the module)."""
    def of(c: str) -> list[tuple]:
        pd_ = town.distances(node_d[c])
        got = []
        for t, T in tier_m.items():
            if c in req[t]:
                m, sq = town.cells(pd_, home_dist[c], T)
                got.append(((c, t), (Bits(m), sq, shapely.STRtree(sq) if len(sq) else None)))
        return got

    cells: dict[tuple, tuple] = {}
    with _iso.pool() as ex:
        for got in ex.map(of, list(dict.fromkeys(c for t in tier_m for c in req[t]))):
            cells.update(got)

    def one(i: int) -> dict[tuple, shapely.Geometry]:
        poly = polys[i]
        win, near, inner = town.window(poly)
        box = near is None
        keys, subs = [], []
        for t in tier_m:
            every = None
            for c in req[t]:
                sub = cells[(c, t)][0][win]
                sub = sub if box else sub & near
                keys.append((i, c, t))
                subs.append(sub)
                every = sub if every is None else every & sub
            if every is not None:
                keys.append((i, "all", t))
                subs.append(every)
        # one drawing per distinct window of cells
        index: dict[bytes, int] = {}
        which = [index.setdefault(sub.tobytes(), len(index)) for sub in subs]
        distinct = [subs[which.index(j)] for j in range(len(index))]
        drawn = town.draw(distinct, win, poly, inner) if distinct else []
        got = {key: drawn[j] for key, j in zip(keys, which)}
        for t in tier_m:
            for c in req[t]:
                extra = _squares_in(cells[(c, t)][1], cells[(c, t)][2], poly)
                if extra:
                    got[(i, c, t)] = shapely.MultiPolygon(list(got[(i, c, t)].geoms) + extra)
            if req[t]:
                extra = _all_squares(town, [cells[(c, t)] for c in req[t]], poly)
                if extra:
                    got[(i, "all", t)] = shapely.MultiPolygon(list(got[(i, "all", t)].geoms)
                                                              + extra)
        return got

    area: dict[tuple, shapely.Geometry] = {}
    with _iso.pool() as ex:
        for drawn in ex.map(one, live):
            area.update(drawn)
    return area
