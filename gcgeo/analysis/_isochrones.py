"""Isochrone polygons of the living circle: the reached street linework, buffered.

A service area is the street linework reached within a distance, buffered
(never a convex hull), minus the area nearest to any home that is out of
reach (:func:`drop_unreached`).

A whole city has hundreds of thousands of street pieces, and the living
circle asks for one area per community, tier and category, each a union of
buffered pieces, which is what costs.  :class:`Pieces` therefore assembles
the union from square tiles of the street network (:data:`TILE`):

- each piece is buffered once, when first needed (buffering pieces and
  merging them is ~60 times faster in GEOS than buffering one
  MultiLineString of overlapping pieces, for the same polygon);
- a tile whose reached pieces are all reached whole is merged once for that
  set of pieces and reused by every category, tier and community reaching
  the same set (far from the frontier of a reach, every piece that can be
  reached at all);
- a tile with a partly reached piece is merged once per search and shared
  by the communities around it.

Union is associative, so the area is the one that merging every buffered
reached piece in one go gives (tested).  GEOS works outside the GIL, so the
callers run communities in threads (:func:`pool`).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.errors import GEOSException

from ..network import Augmented, substrings

#: Side (metres) of the square tiles the street pieces are grouped in (80 m
#: was fastest on a city-sized network with a 50 m buffer: 100 m and 50 m
#: took 10 % longer, 250 m 40 %, 500 m 2.5 times as long).
TILE = 80.0
#: Segments per quarter circle of the buffers.
QUAD_SEGS = 4


def pool() -> ThreadPoolExecutor:
    """Threads for the polygon work, one per core this process may use."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    return ThreadPoolExecutor(max_workers=max(1, min(n, 8)), thread_name_prefix="gcgeo-iso")


def multi(g: shapely.Geometry | None) -> shapely.Geometry:
    """``g`` as a MultiPolygon of its polygon parts (empty when there are none)."""
    if g is None or g.is_empty:
        return shapely.MultiPolygon()
    polys = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.MultiPolygon(polys)


@dataclass(frozen=True, eq=False)
class Reach:
    """What a search reaches within a distance: pieces wholly reached
    (``whole``, a mask over the pieces) and the reached ends of the others
    (``part_lines``, on the pieces ``part_piece``)."""

    whole: np.ndarray
    part_piece: np.ndarray
    part_lines: np.ndarray


class Pieces:
    """The street pieces of an augmented network (edges split at the
    facilities), their buffers and their tiles."""

    def __init__(self, aug: Augmented, buffer: float, *, tile: float = TILE):
        net = aug.net
        self.aug = aug
        self.buffer = float(buffer)
        e = aug.piece_edge
        w = net.weight[e]
        # positions along a piece are in weight units, its geometry in metres
        self.scale = np.divide(net.geom_length[e], w, out=np.ones_like(w), where=w > 0)
        self.s0 = aug.piece_from * self.scale
        self.s1 = aug.piece_to * self.scale
        self.length = aug.piece_to - aug.piece_from
        geom = net.lines[e]
        cut = ~((aug.piece_from == 0) & (aug.piece_to == w))
        if cut.any():
            geom[cut] = substrings(net.lines[e[cut]], self.s0[cut], self.s1[cut])
        self.geom = geom
        self._buffers = np.full(len(geom), None, dtype=object)
        # tiles, by the centre of each piece's bounding box
        b = shapely.bounds(geom) if len(geom) else np.zeros((0, 4))
        ok = np.isfinite(b).all(axis=1) & ~shapely.is_empty(geom)
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        self.tile_of = np.full(len(geom), -1, dtype=np.int64)
        if ok.any():
            x0, y0 = cx[ok].min(), cy[ok].min()
            ix = np.floor((cx[ok] - x0) / tile).astype(np.int64)
            iy = np.floor((cy[ok] - y0) / tile).astype(np.int64)
            key = ix * (int(iy.max()) + 1) + iy
            _, self.tile_of[ok] = np.unique(key, return_inverse=True)
        self.order = np.argsort(self.tile_of, kind="stable")
        first = np.searchsorted(self.tile_of[self.order], 0)
        self.order = self.order[first:]  # pieces with no geometry have no tile
        n_tiles = int(self.tile_of.max()) + 1 if len(geom) else 0
        counts = np.bincount(self.tile_of[self.order], minlength=n_tiles)
        self.start = np.concatenate([[0], np.cumsum(counts)])
        # what a tile's buffered pieces can cover: their bounds, one buffer wider
        bt = b[self.order]
        lo = self.start[:-1]
        env = shapely.box(np.minimum.reduceat(bt[:, 0], lo) - self.buffer,
                          np.minimum.reduceat(bt[:, 1], lo) - self.buffer,
                          np.maximum.reduceat(bt[:, 2], lo) + self.buffer,
                          np.maximum.reduceat(bt[:, 3], lo) + self.buffer) if n_tiles else []
        self.tiles = shapely.STRtree(env)
        self._merged: dict[tuple[int, bytes], shapely.Geometry] = {}

    def tile_pieces(self, k: int) -> np.ndarray:
        return self.order[self.start[k]:self.start[k + 1]]

    def buffers(self, idx: np.ndarray) -> np.ndarray:
        """The buffered pieces ``idx`` (each buffered once, when first asked for)."""
        out = self._buffers[idx]
        todo = np.flatnonzero(shapely.is_missing(out))
        if len(todo):
            out[todo] = shapely.buffer(self.geom[idx[todo]], self.buffer, quad_segs=QUAD_SEGS)
            self._buffers[idx[todo]] = out[todo]
        return out

    def reach(self, nd: np.ndarray, limit: float, candidates: np.ndarray | None = None) -> Reach:
        """The pieces reached within ``limit`` of sources whose node distances are ``nd``.

        ``candidates`` restricts the pieces looked at (those touching a
        reached node); ``whole`` is then a mask over them.
        """
        aug = self.aug
        p = slice(None) if candidates is None else candidates
        du, dv = nd[aug.piece_u[p]], nd[aug.piece_v[p]]
        length = self.length[p]
        a = np.clip(np.where(np.isnan(du), -1.0, limit - du), -1.0, None)
        b = np.clip(np.where(np.isnan(dv), -1.0, limit - dv), -1.0, None)
        whole = (a >= 0) & (b >= 0) & (a + b >= length)
        from_u = ~whole & (a > 0)
        from_v = ~whole & (b > 0)
        idx = np.arange(len(length)) if candidates is None else candidates
        s0, s1, scale = self.s0[p], self.s1[p], self.scale[p]
        piece = np.concatenate([idx[from_u], idx[from_v]])
        lo = np.concatenate([s0[from_u], (s1 - np.minimum(b, length) * scale)[from_v]])
        hi = np.concatenate([(s0 + np.minimum(a, length) * scale)[from_u], s1[from_v]])
        e = aug.piece_edge[piece]
        lines = substrings(aug.net.lines[e], lo, hi)
        keep = ~shapely.is_empty(lines) if len(lines) else np.zeros(0, bool)
        return Reach(whole=whole, part_piece=piece[keep], part_lines=lines[keep])

    def split_lines(self, nd: np.ndarray, src: np.ndarray,
                    limit: float) -> tuple[np.ndarray, np.ndarray]:
        """The linework reached within ``limit``, each bit with the source it is nearest to.

        ``nd`` and ``src`` are the node distances and nearest sources of one
        multi-source search (``src`` < 0 where not reached).  A piece whose ends
        are nearest to two sources is cut where the two distances meet.
        Returns the source of each bit and the bits.
        """
        aug = self.aug
        du, dv = nd[aug.piece_u], nd[aug.piece_v]
        su, sv = src[aug.piece_u], src[aug.piece_v]
        length = self.length
        a = np.where(np.isnan(du), -1.0, limit - du)
        b = np.where(np.isnan(dv), -1.0, limit - dv)
        meet = (su != sv) & ~np.isnan(du) & ~np.isnan(dv)
        with np.errstate(invalid="ignore"):
            x = np.where(meet, np.clip((length + dv - du) / 2, 0.0, length), length)
        whole = ~meet & (a >= 0) & (b >= 0) & (a + b >= length)
        hi_u = np.minimum(np.minimum(a, length), x)  # from u: [0, hi_u]
        lo_v = np.maximum(np.maximum(length - b, 0.0), np.where(meet, x, 0.0))  # from v: [lo_v, L]
        from_u = ~whole & (a >= 0) & (hi_u > 0)
        from_v = ~whole & (b >= 0) & (lo_v < length)
        w = np.flatnonzero(whole)
        fu, fv = np.flatnonzero(from_u), np.flatnonzero(from_v)
        piece = np.concatenate([fu, fv])
        lo = np.concatenate([self.s0[fu], self.s0[fv] + lo_v[fv] * self.scale[fv]])
        hi = np.concatenate([self.s0[fu] + hi_u[fu] * self.scale[fu], self.s1[fv]])
        bits = substrings(aug.net.lines[aug.piece_edge[piece]], lo, hi)
        label = np.concatenate([su[w], su[fu], sv[fv]])
        lines = np.concatenate([self.geom[w], bits])
        keep = ~(shapely.is_missing(lines) | shapely.is_empty(lines)) if len(lines) else \
            np.zeros(0, bool)
        return label[keep], lines[keep]

    def lines(self, r: Reach, candidates: np.ndarray | None = None) -> np.ndarray:
        """The reached linework of ``r``: whole pieces, then reached ends."""
        idx = np.flatnonzero(r.whole) if candidates is None else candidates[r.whole]
        return np.concatenate([self.geom[idx], r.part_lines])

    def union(self, r: Reach, candidates: np.ndarray | None = None) -> shapely.Geometry:
        """The buffered linework of ``r`` in one piece (no tiles)."""
        idx = np.flatnonzero(r.whole) if candidates is None else candidates[r.whole]
        idx = idx[self.tile_of[idx] >= 0]
        parts = np.concatenate([self.buffers(idx),
                                shapely.buffer(r.part_lines, self.buffer, quad_segs=QUAD_SEGS)])
        return shapely.union_all(parts) if len(parts) else shapely.MultiPolygon()

    def tiled(self, r: Reach, candidates: np.ndarray | None = None) -> TiledArea:
        """The buffered linework of ``r``, merged tile by tile on demand."""
        if candidates is not None:
            whole = np.zeros(len(self.geom), bool)
            whole[candidates[r.whole]] = True
            r = Reach(whole=whole, part_piece=r.part_piece, part_lines=r.part_lines)
        return TiledArea(self, r)

    def merged(self, k: int, whole: np.ndarray) -> shapely.Geometry | None:
        """The buffered pieces of tile ``k`` selected by ``whole``, merged (kept for reuse)."""
        if not whole.any():
            return None
        key = (k, np.packbits(whole).tobytes())
        if key not in self._merged:
            self._merged[key] = shapely.union_all(self.buffers(self.tile_pieces(k)[whole]))
        return self._merged[key]

    def whole_tile(self, k: int) -> shapely.Geometry | None:
        """Every piece of tile ``k``, buffered and merged."""
        return self.merged(k, np.ones(self.start[k + 1] - self.start[k], bool))


class TiledArea:
    """The buffered reach of one search, tile by tile; :meth:`within` gives
    the part inside a polygon."""

    def __init__(self, pieces: Pieces, r: Reach):
        self.p = pieces
        self.r = r
        part_tile = pieces.tile_of[r.part_piece]
        self._part_order = np.argsort(part_tile, kind="stable")
        n_tiles = len(pieces.start) - 1
        counts = np.bincount(part_tile[self._part_order], minlength=n_tiles)
        self._part_start = np.concatenate([[0], np.cumsum(counts)])
        self._done: dict[int, shapely.Geometry | None] = {}

    def tile(self, k: int) -> shapely.Geometry | None:
        if k in self._done:
            return self._done[k]
        p = self.p
        idx = p.tile_pieces(k)
        w = self.r.whole[idx]
        parts = self._part_order[self._part_start[k]:self._part_start[k + 1]]
        if not len(parts):
            # the same pieces are reached whole by many searches (every piece that
            # is reached at all, for a wide reach): merged once for all of them
            g = p.merged(k, w)
        else:
            polys = np.concatenate([
                p.buffers(idx[w]),
                shapely.buffer(self.r.part_lines[parts], p.buffer, quad_segs=QUAD_SEGS)])
            g = shapely.union_all(polys)
        self._done[k] = g
        return g

    def whole(self) -> shapely.Geometry:
        """All of the buffered reach."""
        p = self.p
        ks = np.unique(np.concatenate([p.tile_of[np.flatnonzero(self.r.whole)],
                                       p.tile_of[self.r.part_piece]]))
        polys = [g for g in (self.tile(int(k)) for k in ks[ks >= 0]) if g is not None]
        return shapely.union_all(polys) if polys else shapely.MultiPolygon()

    def within(self, clip: shapely.Geometry) -> shapely.Geometry:
        """The buffered reach inside ``clip``."""
        ks = np.sort(self.p.tiles.query(clip, predicate="intersects"))
        polys = [g for g in (self.tile(int(k)) for k in ks) if g is not None and not g.is_empty]
        if not polys:
            return shapely.MultiPolygon()
        return shapely.intersection(shapely.union_all(polys), clip)


class Homes:
    """The homes an isochrone must not cover when they are out of reach: an
    STRtree over them and, made when first needed, the area nearest to each
    home within one buffer of it (its Voronoi cell among all homes, cut to
    a disc)."""

    def __init__(self, geoms: np.ndarray, buffer: float):
        self.geoms = geoms
        self.buffer = float(buffer)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else []
        self.tree = shapely.STRtree(geoms) if np.any(present) else None
        self._cell_of: np.ndarray | None = None
        self._cells: np.ndarray | None = None
        self._small: np.ndarray | None = None  # per cell: within one buffer of its home
        self._cut = np.full(len(geoms), None, dtype=object)
        self._lock = threading.Lock()

    def _voronoi(self) -> tuple[np.ndarray, np.ndarray]:
        """The cell of each home (-1 for none) and the cells."""
        present = ~(shapely.is_missing(self.geoms) | shapely.is_empty(self.geoms))
        xy = shapely.get_coordinates(self.geoms[present])
        # one cell per distinct location: homes at the same point share it
        uniq, inv = np.unique(xy, axis=0, return_inverse=True)
        cell_of = np.full(len(self.geoms), -1, dtype=np.int64)
        cell_of[present] = inv.ravel()
        pts = shapely.multipoints(uniq)
        if len(uniq) == 1:
            return cell_of, np.array([shapely.box(*(uniq[0] - 2 * self.buffer),
                                                  *(uniq[0] + 2 * self.buffer))])
        # cells in the order of the points; beyond the homes' extent by more than a buffer
        cells = shapely.voronoi_polygons(
            pts, extend_to=shapely.envelope(pts).buffer(self.buffer * 8 + 10), ordered=True)
        return cell_of, np.asarray(shapely.get_parts(cells))

    def _diagram(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cell of each home, the cells, and which cells lie within one
        buffer of their home (made once; the caller holds the lock)."""
        if self._cell_of is None or self._cells is None or self._small is None:
            cell_of, cells = self._voronoi()
            # a cell whose vertices all lie within the buffer polygon's inner radius
            # of its home is its own cut (both are convex)
            xy, part = shapely.get_coordinates(cells, return_index=True)
            home = np.zeros((len(cells), 2))
            present = cell_of >= 0
            home[cell_of[present]] = shapely.get_coordinates(self.geoms[present])
            far = np.hypot(*(xy - home[part]).T)
            reach = np.zeros(len(cells))
            np.maximum.at(reach, part, far)
            small = reach <= self.buffer * np.cos(np.pi / 32) * (1 - 1e-9)
            self._cell_of, self._cells, self._small = cell_of, cells, small
            return cell_of, cells, small
        return self._cell_of, self._cells, self._small

    def cut_union(self, idx: np.ndarray) -> shapely.Geometry:
        """The union of :meth:`cut` of homes ``idx``: the cells that lie within
        one buffer of their home are merged as the coverage they are (several
        times faster than a general union), the others cut to the buffer."""
        with self._lock:
            cell_of, cells, small = self._diagram()
        whole = np.unique(cell_of[idx])
        whole = whole[small[whole]]
        rest = idx[~small[cell_of[idx]]]
        parts = list(self.cut(rest))
        if len(whole):
            try:
                parts.append(shapely.coverage_union_all(cells[whole]))
            except GEOSException:  # pragma: no cover - cells not noded alike
                parts.extend(cells[whole])
        return shapely.union_all(parts)

    def cut(self, idx: np.ndarray) -> np.ndarray:
        """For homes ``idx``, the area within one buffer of each and nearer to it than
        to any other home."""
        out = self._cut[idx]
        todo = np.flatnonzero(shapely.is_missing(out))
        if len(todo):
            with self._lock:
                cell_of, cells, _ = self._diagram()
            h = idx[todo]
            out[todo] = shapely.intersection(cells[cell_of[h]],
                                             shapely.buffer(self.geoms[h], self.buffer))
            self._cut[h] = out[todo]
        return out


def drop_unreached(area: shapely.Geometry, homes: Homes, home_dist: np.ndarray,
                   limit: float) -> shapely.Geometry:
    """``area`` minus the area nearest to the homes out of reach.

    Buffering may reach across a wall or a river to a home whose street is
    not reached; around each home farther than ``limit`` plus the buffer,
    the area within one buffer of it and nearer to it than to any other home
    (its Voronoi cell) is removed, so no such home is ever covered and no
    other home loses coverage.
    """
    bad = unreached(area, homes, home_dist, limit)
    if not len(bad):
        return multi(area)
    return multi(shapely.difference(area, homes.cut_union(bad)))


def unreached_cuts(area: shapely.Geometry, homes: Homes, home_dist: np.ndarray,
                   limit: float) -> np.ndarray:
    """The areas :func:`drop_unreached` removes from ``area``: around each home
    in it farther than ``limit`` plus the buffer, the part within one buffer
    of the home and nearer to it than to any other home."""
    bad = unreached(area, homes, home_dist, limit)
    return homes.cut(bad) if len(bad) else np.zeros(0, dtype=object)


def unreached(area: shapely.Geometry, homes: Homes, home_dist: np.ndarray,
              limit: float) -> np.ndarray:
    """The homes in ``area`` farther than ``limit`` plus the buffer (positions)."""
    if homes.tree is None or area is None or area.is_empty:
        return np.zeros(0, dtype=np.int64)
    # the homes in the area's bounds that are out of reach, then those of them in
    # the area (few: most homes an isochrone covers are reached)
    near = homes.tree.query(area)
    bad = near[~(home_dist[near] <= limit + homes.buffer)]
    if len(bad):
        shapely.prepare(area)
        bad = bad[shapely.intersects(area, homes.geoms[bad])]
    return bad


def inside(area: shapely.Geometry, homes: Homes) -> np.ndarray:
    """The homes ``area`` covers (positions in ``homes.geoms``)."""
    if homes.tree is None or area is None or area.is_empty:
        return np.zeros(0, dtype=np.int64)
    return np.sort(homes.tree.query(area, predicate="covers"))
