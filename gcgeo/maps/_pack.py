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
* colours are an index into the layer's palette, the same way;
* a large layer's text is then deflated and base-64 coded (:func:`deflated`): a page
  has no HTTP compression to lean on, and the city's homes, buildings and streets
  shrink to about a third.

``gcgeo/maps/js/gcgeo_layer.js`` inflates a layer when it is first drawn, and decodes a
feature only when it is drawn.
"""

from __future__ import annotations

import base64
import json
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..labels import column_format, format_value, format_values

__all__ = ["DEFLATE_ABOVE", "DETAIL_SCALE", "DIGITS", "SCALE", "Packed", "deflated", "deflating", "dumps",
           "indexes", "pack_colors", "pack_layer", "pack_values"]

#: Drawn coordinates are integers of 1/SCALE degrees.
SCALE = 1_000_000
#: ... and of large layers (streets, buildings, homes of a city): 5e-6°, rounded within 0.28 m, half a
#: pixel at zoom 18 on the equator (0.6 m a pixel) and less where pixels are larger or further north.
DETAIL_SCALE = 200_000


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
        chunks = [_int_texts(v[i:i + _CHUNK]) for i in range(0, len(v), _CHUNK)]
        shift = np.cumsum([0] + [len(t) + 1 for t, _, _ in chunks[:-1]])
        return (",".join(t for t, _, _ in chunks), np.concatenate([a + d for (_, a, _), d in zip(chunks, shift)]),
                np.concatenate([b + d for (_, _, b), d in zip(chunks, shift)]))
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


def _ring_texts(xy: np.ndarray, offsets: np.ndarray, origin: np.ndarray, scale: int, *,
                closed: bool = False) -> list[str]:
    """One ``[dx,dy,dx,dy…]`` text per line or ring, whose vertices are ``xy[offsets[i]:offsets[i + 1]]``
    (lon/lat), the first counted from ``origin``; ``closed`` rings (polygons) without their last
    vertex, which repeats the first."""
    sizes = np.diff(np.asarray(offsets, dtype=np.int64))
    q = np.round(xy * scale).astype(np.int64) - origin
    if closed:
        shut = sizes > 1  # a ring of one vertex keeps it
        keep = np.ones(len(q), dtype=bool)
        keep[np.asarray(offsets[1:], dtype=np.int64)[shut] - 1] = False
        q, sizes = q[keep], sizes - shut
    head = np.cumsum(sizes) - sizes  # each ring's first vertex
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), np.int64))
    first = head[sizes > 0]
    d[first] = q[first]
    text, starts, ends = _int_texts(d.ravel())
    return ["[" + text[starts[2 * a]:ends[2 * (a + k) - 1]] + "]" if k else "[]"
            for a, k in zip(head.tolist(), sizes.tolist())]


def _nest(texts: list[str], offsets: np.ndarray) -> list[str]:
    """``texts`` in groups, group i ``texts[offsets[i]:offsets[i + 1]]``, one JSON array each."""
    return ["[" + ",".join(texts[a:b]) + "]" for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def _highest_parts(g: shapely.Geometry) -> shapely.Geometry:
    """A geometry collection as the multi-geometry of its parts of the highest dimension."""
    parts = [p for p in shapely.get_parts(g) if not p.is_empty]
    if not parts:
        return shapely.Point()
    top = max(shapely.get_dimensions(parts))
    keep = [p for p in parts if shapely.get_dimensions(p) == top]
    return shapely.union_all(keep) if top else shapely.multipoints(shapely.get_coordinates(keep))


_T = shapely.GeometryType


def _feature_texts(kind: shapely.GeometryType, xy: np.ndarray, offsets: tuple[np.ndarray, ...], origin: np.ndarray,
                   scale: int) -> list[str]:
    """One JSON text per geometry of a ragged array (``shapely.to_ragged_array``, its coordinates
    ``xy`` in lon/lat): "x,y" for a point (a multi-point's first), lines, or polygons of rings."""
    if kind in (_T.POINT, _T.MULTIPOINT):
        first = xy if kind == _T.POINT else xy[np.asarray(offsets[0][:-1], dtype=np.int64)]
        q = np.round(first * scale).astype(np.int64) - origin
        text, starts, ends = _int_texts(q.ravel())
        return [text[a:b] for a, b in zip(starts[0::2].tolist(), ends[1::2].tolist())]
    if kind == _T.LINESTRING:
        return ["[" + t + "]" for t in _ring_texts(xy, offsets[0], origin, scale)]
    if kind == _T.MULTILINESTRING:
        return _nest(_ring_texts(xy, offsets[0], origin, scale), offsets[1])
    polygons = _nest(_ring_texts(xy, offsets[0], origin, scale, closed=True), offsets[1])
    return ["[" + t + "]" for t in polygons] if kind == _T.POLYGON else _nest(polygons, offsets[2])


@dataclass(frozen=True)
class Packed:
    """A layer's geometries packed for the page (see :func:`pack_layer`)."""

    kind: str  # "point", "line", "polygon" or "mixed"
    text: str  # the JSON array of the features' geometries
    origin: list[int]  # what the coordinates count from, in 1/scale °
    kinds: str | None  # of a "mixed" layer, one letter per feature: p, l or a
    bounds: list[float] | None  # lon/lat [minx, miny, maxx, maxy] of every vertex (None without any)


def pack_layer(geoms: np.ndarray, scale: int = SCALE, *,
               to_lonlat: Callable[[np.ndarray], np.ndarray] | None = None) -> Packed:
    """Geometries (none missing or empty) packed for the page, as integers of 1/scale °.

    kind "point": a flat ``[x0,y0,x1,y1…]`` (a multi-point by its first point);
    "line": per feature a list of lines; "polygon": per feature a list of
    polygons, each a list of rings; "mixed": per feature its own, a point as
    ``[x,y]``, with ``kinds`` one letter per feature (p, l, a). A geometry
    collection is drawn by its parts of the highest dimension. ``to_lonlat``
    takes the geometries' coordinates (an n × 2 array) to the drawn lon/lat;
    without it they are lon/lat. The coordinates are read once, as ragged
    arrays (``shapely.to_ragged_array``): no geometry is copied.
    """
    geoms = np.asarray(geoms, dtype=object)
    tid = shapely.get_type_id(geoms)
    bounds_of = geoms
    if (tid == _T.GEOMETRYCOLLECTION).any() or (tid == _T.LINEARRING).any():
        geoms = geoms.copy()
        for i in np.flatnonzero(tid == _T.GEOMETRYCOLLECTION).tolist():
            geoms[i] = _highest_parts(geoms[i])
        for i in np.flatnonzero(tid == _T.LINEARRING).tolist():  # drawn as the line it is
            geoms[i] = shapely.LineString(shapely.get_coordinates(geoms[i]))
        tid = shapely.get_type_id(geoms)
    dims = np.where(np.isin(tid, [0, 4]), 0, np.where(np.isin(tid, [1, 2, 5]), 1, 2))
    present = sorted(set(dims.tolist()))
    ragged: dict[int, tuple[np.ndarray, shapely.GeometryType, np.ndarray, tuple[np.ndarray, ...]]] = {}
    for d in present:
        idx = np.flatnonzero(dims == d)
        kind, xy, offsets = shapely.to_ragged_array(geoms[idx])
        ragged[d] = (idx, kind, xy if to_lonlat is None else to_lonlat(xy), offsets)
    xy = np.concatenate([r[2] for r in ragged.values()]) if ragged else np.zeros((0, 2))
    xy = xy[~np.isnan(xy).any(axis=1)]
    origin = np.floor(xy.min(axis=0) * scale).astype(np.int64) if len(xy) else np.zeros(2, np.int64)
    if bounds_of is not geoms:  # the parts left out of collections count too
        xy = shapely.get_coordinates(bounds_of)
        xy = xy if to_lonlat is None or not len(xy) else to_lonlat(xy)
    bounds = [*map(float, xy.min(axis=0)), *map(float, xy.max(axis=0))] if len(xy) else None
    texts: list[str] = [""] * len(geoms)
    for idx, kind, lonlat, offsets in ragged.values():
        for i, t in zip(idx.tolist(), _feature_texts(kind, lonlat, offsets, origin, scale)):
            texts[i] = t
    for i in np.flatnonzero(tid == _T.MISSING).tolist():
        texts[i] = "[]"
    names = ("point", "line", "polygon")
    if len(present) == 1:
        return Packed(names[present[0]], "[" + ",".join(texts) + "]", origin.tolist(), None, bounds)
    texts = [f"[{t}]" if d == 0 else t for t, d in zip(texts, dims.tolist())]
    return Packed("mixed", "[" + ",".join(texts) + "]", origin.tolist(), "".join("pla"[d] for d in dims.tolist()),
                  bounds)


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


#: A layer's packed text longer than this many characters goes into the page deflated (:func:`deflated`);
#: shorter ones stay JSON, readable in the page's source, where deflating would save little.
DEFLATE_ABOVE = 65_536


def deflated(text: str, n: int) -> str:
    """A layer's packed JSON ``text`` (``n`` features) for the page: as it is when short, else
    ``{"z": base-64 of its raw deflate (RFC 1951) of its UTF-8, "n": n, "b": bytes inflated}``,
    which ``gcgeo/maps/js/gcgeo_layer.js`` inflates in the page when the layer is first read.

    >>> import json
    >>> text = dumps({"k": "point", "g": [12, -3] * 20_000})
    >>> page = json.loads(deflated(text, 20_000))
    >>> page["n"], page["b"] == len(text), len(page["z"]) < len(text) // 100
    (20000, True, True)
    >>> zlib.decompress(base64.b64decode(page["z"]), wbits=-15).decode() == text
    True
    """
    if len(text) <= DEFLATE_ABOVE:
        return text
    raw = text.encode("utf-8")
    z = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate: no zlib header or checksum to check
    data = z.compress(raw) + z.flush()
    return dumps({"z": base64.b64encode(data).decode("ascii"), "n": n, "b": len(raw)})


def deflating(text: str, n: int) -> Callable[[], str]:
    """:func:`deflated` in a thread of its own, for the page's text when it is asked for.

    zlib lets go of Python's lock while it deflates, so a map's large layers are deflated
    on the second core while the next layers are packed (about a second of a city's map).

    >>> later = deflating("[1,2]", 1)
    >>> later()
    '[1,2]'
    """
    if len(text) <= DEFLATE_ABOVE:
        return lambda: text
    out: list[str] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            out.append(deflated(text, n))
        except BaseException as exc:  # noqa: BLE001 - raised where the text is asked for
            failed.append(exc)

    thread = threading.Thread(target=work, name="gcgeo-deflate", daemon=True)
    thread.start()

    def result() -> str:
        thread.join()
        if failed:
            raise failed[0]
        return out[0]

    return result
