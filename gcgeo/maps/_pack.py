"""Compact layer data for the page: quantised, delta-coded coordinates and columnar values.

A city's homes, buildings and streets written as GeoJSON took 114 MB: every
coordinate in full, every value formatted in every feature. A layer is
packed instead the way TopoJSON and Google's polyline encoding pack lines:

* coordinates are integers of 1e-6° (≈ 0.1 m, finer than any drawn pixel)
  counted from the layer's south-west corner; the vertices of a line or ring
  are differences from the previous vertex, so most take two or three digits;
  large layers, drawn one by one only when zoomed in, use 5e-6° (``DETAIL_SCALE``);
* a polygon's rings are stored open, without the vertex that closes them (Leaflet
  closes a ring itself): a building's five vertices are four;
* each shown column is one array; when its display texts repeat (a community
  name, "yes", a distance rounded to metres) it is a list of the distinct
  texts and one index per feature, written as fixed-width base-64 digits;
* colours are an index into the layer's palette, the same way.

``gcgeo/maps/js/gcgeo_layer.js`` decodes a feature only when it is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..labels import column_format, format_value, format_values

__all__ = ["DETAIL_SCALE", "DIGITS", "SCALE", "dumps", "indexes", "pack_colors", "pack_geometries", "pack_values"]

#: Drawn coordinates are integers of 1/SCALE degrees.
SCALE = 1_000_000
#: ... and of large layers (streets, buildings, homes of a city): 5e-6°, rounded within 0.28 m, half a
#: pixel at zoom 18 on the equator (0.6 m a pixel) and less where pixels are larger or further north.
DETAIL_SCALE = 200_000


def _join_runs(texts: Sequence[str], owner: np.ndarray, n: int, empty: str = "[]") -> list[str]:
    """``texts`` grouped by ``owner`` (sorted ascending) into one JSON array per owner 0..n-1."""
    out = [empty] * n
    if not len(texts):
        return out
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    stops = np.r_[starts[1:], len(owner)]
    for a, b in zip(starts.tolist(), stops.tolist()):
        out[int(owner[a])] = "[" + ",".join(texts[a:b]) + "]"
    return out


#: Numbers written at a time by :func:`_int_texts`.
_CHUNK = 1 << 18


def _int_texts(values: np.ndarray) -> tuple[str, np.ndarray, np.ndarray]:
    """The integers ``values`` in decimal joined by commas, and where each starts and ends in that text.

    The digits are written into one byte buffer, a digit place at a time for every number:
    numpy's own conversion (``astype(str)``) took 84 bytes and then a Python string per number,
    and a city's isochrones hold four million of them.

    >>> text, starts, ends = _int_texts(np.array([0, -12, 345]))
    >>> text, text[starts[1]:ends[1]]
    ('0,-12,345', '-12')
    """
    v = np.asarray(values, dtype=np.int64)
    if not len(v):
        return "", np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(v) > _CHUNK:  # a chunk at a time: the buffers stay small
        texts, starts, ends, at = [], [], [], 0
        for i in range(0, len(v), _CHUNK):
            t, a, b = _int_texts(v[i:i + _CHUNK])
            texts.append(t)
            starts.append(a + at)
            ends.append(b + at)
            at += len(t) + 1
        return ",".join(texts), np.concatenate(starts), np.concatenate(ends)
    neg = v < 0
    rest = np.abs(v)
    digits = np.ones(len(v), np.int64)
    for k in range(1, 19):  # an int64 has at most 19 digits
        more = rest >= 10**k
        if not more.any():
            break
        digits += more
    ends = np.cumsum(digits + neg + 1) - 1  # each number is followed by a comma
    starts = ends - digits - neg
    buf = np.full(int(ends[-1]), ord(","), dtype=np.uint8)  # without the last comma
    buf[starts[neg]] = ord("-")
    at = ends - 1
    for k in range(int(digits.max())):  # units first
        on = digits > k
        buf[at[on]] = ord("0") + rest[on] % 10
        rest //= 10
        at -= 1
    return buf.tobytes().decode("ascii"), starts, ends


def _rings(coords: np.ndarray, ring_of: np.ndarray, n_rings: int, origin: np.ndarray, scale: int, *,
           closed: bool = False) -> list[str]:
    """One ``[dx,dy,dx,dy…]`` text per ring, the first vertex counted from ``origin``; ``closed``
    rings (polygons) without their last vertex, which repeats the first."""
    q = np.round(coords * scale).astype(np.int64) - origin
    first = np.r_[True, ring_of[1:] != ring_of[:-1]]
    if closed and len(q):
        last = np.r_[first[1:], True]
        keep = ~last | first  # a ring of one vertex keeps it
        q, ring_of, first = q[keep], ring_of[keep], first[keep]
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), np.int64))
    d[first] = q[first]
    text, starts, ends = _int_texts(d.ravel())
    out = ["[]"] * n_rings
    head = np.flatnonzero(first)  # each ring's first vertex, and the one after its last
    tail = np.r_[head[1:], len(q)]
    for r, a, b in zip(ring_of[head].tolist(), starts[2 * head].tolist(), ends[2 * tail - 1].tolist()):
        out[r] = "[" + text[a:b] + "]"
    return out


def _highest_parts(g: shapely.Geometry) -> shapely.Geometry:
    """A geometry collection as the multi-geometry of its parts of the highest dimension."""
    parts = [p for p in shapely.get_parts(g) if not p.is_empty]
    if not parts:
        return shapely.Point()
    top = max(shapely.get_dimensions(parts))
    keep = [p for p in parts if shapely.get_dimensions(p) == top]
    return shapely.union_all(keep) if top else shapely.multipoints(shapely.get_coordinates(keep))


def _feature_texts(geoms: np.ndarray, dim: int, origin: np.ndarray, scale: int) -> list[str]:
    """One JSON text per geometry: "x,y" for a point, lines, or polygons of rings."""
    if dim == 0:
        pts = shapely.get_geometry(geoms, 0)  # a point itself, a multi-point's first
        q = np.round(shapely.get_coordinates(pts) * scale).astype(np.int64) - origin
        text, starts, ends = _int_texts(q.ravel())
        return [text[a:b] for a, b in zip(starts[0::2].tolist(), ends[1::2].tolist())]
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    if dim == 1:
        coords, ring_of = shapely.get_coordinates(parts, return_index=True)
        return _join_runs(_rings(coords, ring_of, len(parts), origin, scale), part_of, len(geoms))
    rings, poly_of = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    polys = _join_runs(_rings(coords, ring_of, len(rings), origin, scale, closed=True), poly_of, len(parts))
    return _join_runs(polys, part_of, len(geoms))


def pack_geometries(geoms: np.ndarray, scale: int = SCALE) -> tuple[str, str, list[int], str | None]:
    """Lon/lat geometries as (kind, JSON text, origin, kinds) for the page, as integers of 1/scale °.

    kind "point": a flat ``[x0,y0,x1,y1…]`` (a multi-point by its first point);
    "line": per feature a list of lines; "polygon": per feature a list of
    polygons, each a list of rings; "mixed": per feature its own, a point as
    ``[x,y]``, with ``kinds`` one letter per feature (p, l, a). A geometry
    collection is drawn by its parts of the highest dimension.
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    tid = shapely.get_type_id(geoms)
    for i in np.flatnonzero(tid == 7).tolist():
        geoms[i] = _highest_parts(geoms[i])
    tid = shapely.get_type_id(geoms)
    dims = np.where(np.isin(tid, [0, 4]), 0, np.where(np.isin(tid, [1, 2, 5]), 1, 2))
    xy = shapely.get_coordinates(geoms)
    origin = np.floor(xy.min(axis=0) * scale).astype(np.int64) if len(xy) else np.zeros(2, np.int64)
    texts: list[str] = [""] * len(geoms)
    present = sorted(set(dims.tolist()))
    for d in present:
        idx = np.flatnonzero(dims == d)
        for i, t in zip(idx.tolist(), _feature_texts(geoms[idx], d, origin, scale)):
            texts[i] = t
    names = ("point", "line", "polygon")
    if len(present) == 1:
        return names[present[0]], "[" + ",".join(texts) + "]", origin.tolist(), None
    texts = [f"[{t}]" if d == 0 else t for t, d in zip(texts, dims.tolist())]
    return "mixed", "[" + ",".join(texts) + "]", origin.tolist(), "".join("pla"[d] for d in dims.tolist())


#: Digits of the indexes into a column's texts or the palette (URL-safe base 64: no JSON escapes).
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DIGIT_BYTES = np.frombuffer(DIGITS.encode("ascii"), dtype=np.uint8)


def indexes(codes: np.ndarray, n: int) -> dict[str, Any]:
    """``codes`` (0 ≤ code < n) as ``{"w": width, "x": text}``: each code ``width`` base-64 digits,
    most significant first (a home's ten distances took 5 characters each as JSON numbers, 2 here)."""
    w = 1
    while 64 ** w < n:
        w += 1
    c = np.asarray(codes, dtype=np.int64)
    digits = np.stack([(c // 64 ** (w - 1 - k)) % 64 for k in range(w)], axis=1) if len(c) else \
        np.zeros((0, w), np.int64)
    return {"w": w, "x": _DIGIT_BYTES[digits.ravel()].tobytes().decode("ascii")}


def pack_values(values: pd.Series | Sequence[Any], name: str, lang: str, *, kind: str | None = None) -> Any:
    """The display texts of one column for the page.

    ``{"k": text}`` when every feature shows the same; else ``{"d": texts, "w": width, "x": indexes}``
    (see :func:`indexes`) when the texts repeat, the most frequent first; else a list. Each
    distinct value is formatted once (``gcgeo.labels.format_value``; numbers shown as whole
    metres or counts are rounded first, which shows the same); missing values are ``null``.
    """
    s = pd.Series(values).reset_index(drop=True)
    if column_format(name, kind) in ("m", "int") and pd.api.types.is_float_dtype(s.dtype):
        s = s.round(0)
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists)
        return [format_value(v, name, lang, kind=kind) for v in s.tolist()]
    numbers = uniques.dtype.kind in "iuf"  # formatted by the column's format, looked up once
    shown = format_values(uniques.to_numpy() if numbers else uniques.tolist(), name, lang, kind=kind)
    # distinct values may read alike (3.21 m and 3.4 m are both "3"): index the texts
    text_codes, texts = pd.factorize(pd.Series(shown + [None], dtype=object), use_na_sentinel=False)
    mapped = text_codes[np.where(codes >= 0, codes, len(shown))]
    table = [t if isinstance(t, str) else None for t in texts.tolist()]  # NaN from the factorising → null
    if len(table) * 2 > len(s):
        return [table[c] for c in mapped.tolist()]
    counts = np.bincount(mapped, minlength=len(table))
    order = np.argsort(-counts, kind="stable")
    used = order[counts[order] > 0]
    if len(used) == 1:
        return {"k": table[used[0]]}
    rank = np.empty(len(table), np.int64)
    rank[used] = np.arange(len(used))
    return {"d": [table[i] for i in used.tolist()], **indexes(rank[mapped], len(used))}


def pack_colors(colors: np.ndarray) -> tuple[list[str], Any]:
    """The distinct colours and the feature's colour: one index (every feature alike) or
    :func:`indexes`."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(colors, dtype=object)))
    palette = [str(u) for u in uniques.tolist()]
    return palette, 0 if len(palette) <= 1 else indexes(codes, len(palette))


def dumps(obj: Any) -> str:
    """Compact JSON safe inside a ``<script>`` element."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
