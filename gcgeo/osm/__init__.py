"""Import an offline OpenStreetMap extract (.osm.pbf or .osm XML) into gcgeo layers.

Which OSM tags become which layer, and how tag values become columns, is
data: ``gcgeo/rules/osm_tags.toml``.  Users adjust it like any rule set, by
an override file (``rules=`` below).

>>> from gcgeo import osm                                          # doctest: +SKIP
>>> layers = osm.read_osm("helsinki_center.osm.pbf")               # doctest: +SKIP
>>> sorted(layers)                                                 # doctest: +SKIP
['buildings', 'chargers', 'communities', 'facilities', ...]

Every feature keeps ``osm_type`` ('node', 'way', 'relation') and ``osm_id``
so a planner can trace it back (https://www.openstreetmap.org/way/123), an
``id`` unique within its layer ("w123"; street segments of a way split at
intersections are "w123-1", "w123-2"…; street blocks are "block-1"…) and
``osm_tag``, the tag that put it in the layer (facilities: ``subtype``).
OpenStreetMap data are © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from .._errors import FileFormatError, InputError
from ..layers import get_spec
from . import _reader
from ._tables import Tables, load_tables

__all__ = ["LAYER_KINDS", "read_osm", "sniff_format"]

log = logging.getLogger(__name__)

#: Layer kinds an OSM import can fill, in the order they are built.
LAYER_KINDS: tuple[str, ...] = (
    "streets", "buildings", "green_space", "parking", "chargers", "manholes", "ramps",
    "fire_lanes", "facilities", "garbage_points", "heritage", "communities",
)

_GEOD = Geod(ellps="WGS84")
_HOW_TO_GET = ("Download an extract (.osm.pbf) from Geofabrik or BBBike, or export "
               "OSM XML (.osm) from openstreetmap.org, and give that file.")


# ---------------------------------------------------------------- input checks
def sniff_format(path: str | os.PathLike) -> str:
    """The OSM format of ``path`` from its first bytes: "pbf", "osm" (XML),
    "osm.gz" or "osm.bz2".  Anything else is a :class:`FileFormatError`."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"OSM file {p} does not exist; check the path. {_HOW_TO_GET}")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not an OSM file; give the .osm.pbf file in it.")
    with open(p, "rb") as fh:
        head = fh.read(1024)
    if not head:
        raise FileFormatError(f"OSM file {p} is empty (0 bytes); the download or copy did not "
                              f"finish. {_HOW_TO_GET}")
    if len(head) >= 15 and head[4] == 0x0A and head[5] == 9 and head[6:15] == b"OSMHeader":
        return "pbf"
    if head[:2] == b"\x1f\x8b":
        return "osm.gz"
    if head[:3] == b"BZh":
        return "osm.bz2"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<?xml") or text.startswith(b"<osm"):
        if b"<osm" in head:
            return "osm"
        raise FileFormatError(f"{p} is an XML file but not OpenStreetMap XML (no <osm> "
                              f"element at its start). {_HOW_TO_GET}")
    if head[:4] == b"\xffo5m" or head[:3] == b"\xffo5":
        raise FileFormatError(f"{p} is an .o5m file, which gcgeo does not read; convert it "
                              f"with 'osmium cat {p.name} -o {p.stem}.osm.pbf'.")
    shown = head[:40].decode("utf-8", "replace").replace("\n", " ").strip()
    raise FileFormatError(
        f"{p} is not an OpenStreetMap file: it is neither OSM PBF (.osm.pbf) nor OSM XML "
        f"(.osm); it starts with {shown!r}. {_HOW_TO_GET}")


def _check_bbox(bbox: Any) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        vals = tuple(float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(f"bbox {bbox!r} is not four numbers; give it as minx,miny,maxx,maxy "
                         "in degrees (e.g. 24.93,60.16,24.96,60.18).") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise InputError(f"bbox {bbox!r} must be four finite numbers minx,miny,maxx,maxy in "
                         "degrees (e.g. 24.93,60.16,24.96,60.18).")
    minx, miny, maxx, maxy = vals
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90
            and -90 <= maxy <= 90):
        raise InputError(
            f"bbox {vals} is not in longitude/latitude degrees (WGS-84); OSM data are in "
            "degrees, so give minx,miny,maxx,maxy as lon,lat,lon,lat (e.g. 116.1,36.8,116.3,36.9).")
    if minx >= maxx or miny >= maxy:
        raise InputError(
            f"bbox {vals} is empty: minx must be below maxx and miny below maxy; give it as "
            "minx,miny,maxx,maxy (west, south, east, north).")
    return minx, miny, maxx, maxy


def _check_boundary(boundary: Any) -> Any:
    if boundary is None:
        return None
    if isinstance(boundary, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if boundary.crs is None:
            raise InputError("the boundary has no CRS; declare it (e.g. EPSG:4326) before "
                             "using it to cut the OSM import.")
        boundary = shapely.union_all(np.asarray(boundary.to_crs(4326).geometry.values))
    if not isinstance(boundary, shapely.Geometry):
        raise InputError(f"boundary must be a shapely geometry in EPSG:4326 or a "
                         f"GeoDataFrame, not {type(boundary).__name__}.")
    if boundary.is_empty or shapely.get_dimensions(boundary) < 2:
        raise InputError("the boundary is empty or not a polygon; give the study area as a "
                         "polygon layer.")
    minx, miny, maxx, maxy = boundary.bounds
    if not (minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90):
        raise InputError(
            f"the boundary's coordinates ({minx:.0f}, {miny:.0f} … {maxx:.0f}, {maxy:.0f}) are not "
            "longitude/latitude; reproject it to EPSG:4326 first (gcgeo reads the file's CRS "
            "when it has one).")
    return boundary if boundary.is_valid else shapely.make_valid(boundary)


# ---------------------------------------------------------------- streets
def _pieces(refs: list[int], coords: list[tuple[float, float] | None],
            uses: Counter) -> list[tuple[int, int, list[tuple[float, float]]]]:
    """(u, v, coordinates) of each piece of one way between intersections;
    nodes the extract lacks (``None``) end a piece too."""
    pieces: list[tuple[int, int, list[tuple[float, float]]]] = []
    run_refs: list[int] = []
    run: list[tuple[float, float]] = []
    last = len(refs) - 1
    for i, (ref, c) in enumerate(zip(refs, coords)):
        if c is None:
            if len(set(run)) >= 2:
                pieces.append((run_refs[0], run_refs[-1], run))
            run_refs, run = [], []
            continue
        run_refs.append(ref)
        run.append(c)
        if len(run) >= 2 and (uses[ref] > 1 or i == last):
            if len(set(run)) >= 2:
                pieces.append((run_refs[0], run_refs[-1], run))
            run_refs, run = [ref], [c]
    return pieces


def _split_streets(h: _reader.Harvest, t: Tables) -> list[dict[str, Any]]:
    """Split walkable ways at intersections: a node used by two or more
    walkable ways (or twice by one) ends a segment.  u, v are OSM node ids."""
    uses: Counter = Counter()
    for w in h.walk_ways:
        uses.update(w.refs)
    copy_tags = t.section("streets").get("copy_tags", ())
    out: list[dict[str, Any]] = []
    for w in h.walk_ways:
        pieces = _pieces(w.refs, w.coords, uses)
        base = {"name": w.tags.get("name"), "osm_type": "way", "osm_id": w.id,
                "kind": w.tags.get("highway"), "walkable": True}
        extra = {k: w.tags.get(k) for k in copy_tags}
        for n, (u, v, coords) in enumerate(pieces, 1):
            sid = f"w{w.id}" if len(pieces) == 1 else f"w{w.id}-{n}"
            out.append({"id": sid, **base, "u": u, "v": v, **extra,
                        "geometry": shapely.LineString(coords)})
    return out


def _geodesic_length(geoms: np.ndarray) -> np.ndarray:
    """Length in metres on the WGS-84 ellipsoid of each line (lon/lat)."""
    if len(geoms) == 0:
        return np.zeros(0)
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    same = idx[1:] == idx[:-1]
    _, _, d = _GEOD.inv(xy[:-1, 0][same], xy[:-1, 1][same], xy[1:, 0][same], xy[1:, 1][same])
    return np.bincount(idx[:-1][same], weights=d, minlength=len(geoms))


# ---------------------------------------------------------------- communities
def _blocks(h: _reader.Harvest, t: Tables, area: Any) -> list[dict[str, Any]]:
    """City blocks: faces of the street network (``shapely.polygonize``)."""
    if not h.block_lines:
        return []
    lines = np.asarray(h.block_lines, dtype=object)
    if area is not None:
        lines = lines[shapely.intersects(lines, area)]
    if not len(lines):
        return []
    noded = shapely.union_all(lines)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))),
                       dtype=object)
    if not len(faces):
        return []
    gs = gpd.GeoSeries(faces, crs=4326)
    from ..crs import choose_metric_crs
    m2 = gs.to_crs(choose_metric_crs(gpd.GeoDataFrame(geometry=gs))).area.to_numpy()
    c = t.section("communities")
    lo = float(c.get("block_min_area", {}).get("value", 0))
    hi = float(c.get("block_max_area", {}).get("value", np.inf))
    keep = (m2 >= lo) & (m2 <= hi)
    if area is not None:
        keep &= shapely.intersects(faces, area)
    source = c.get("blocks", {}).get("source", "street blocks")
    out = []
    for n, geom in enumerate(faces[keep], 1):
        out.append({"id": f"block-{n}", "name": f"Street block {n}", "osm_type": None,
                    "osm_id": None, "source": source, "population": None,
                    "osm_tag": None, "geometry": geom})
    return out


#: How far (m) a named street may lie from a community's outline to name it.
_STREET_REACH_M = 60.0


def _name_by_street(recs: list[dict[str, Any]], ways: list[_reader.Way]) -> None:
    """Name the communities no name tag names after their street: the ``addr:street``
    of the polygon, else the named walkable street with the most length within
    60 m of its outline; several of one street are told apart as "street (2)", "(3)"….
    With no street near, the OSM tag and id name it ("landuse=residential w123")."""
    todo = [r for r in recs if not r.get("name")]
    named = [(w.tags["name"], [c for c in w.coords if c is not None]) for w in ways
             if w.tags.get("name")]
    named = [(n, c) for n, c in named if len(c) >= 2]
    if todo and named and any(not r.get("street") for r in todo):
        from ..crs import choose_metric_crs

        polys = gpd.GeoSeries([r["geometry"] for r in todo], crs=4326)
        crs = choose_metric_crs(gpd.GeoDataFrame(geometry=polys))
        outline = polys.to_crs(crs).boundary.to_numpy()
        lines = gpd.GeoSeries([shapely.LineString(c) for _, c in named], crs=4326).to_crs(crs).to_numpy()
        tree = shapely.STRtree(lines)
        for r, ring in zip(todo, outline):
            if r.get("street"):
                continue
            near = ring.buffer(_STREET_REACH_M)
            cand = tree.query(near, predicate="intersects")
            if len(cand):
                along: dict[str, float] = {}
                for k in cand:
                    along[named[k][0]] = along.get(named[k][0], 0.0) + \
                        shapely.intersection(lines[k], near).length
                r["street"] = max(sorted(along), key=lambda n: along[n])
    seen: Counter = Counter()
    for r in recs:
        street = r.pop("street", None)
        if r.get("name"):
            continue
        if street:
            seen[street] += 1
            r["name"] = street if seen[street] == 1 else f"{street} ({seen[street]})"
        else:
            r["name"] = f"{r['osm_tag']} {r['id']}"


def _communities(h: _reader.Harvest, t: Tables, area: Any, mode: str) -> list[dict[str, Any]]:
    recs = h.records.get("communities", [])
    if area is not None:
        recs = [r for r in recs if r["geometry"].intersects(area)]
    if mode in ("auto", "osm") and recs:
        level = min(r["level"] for r in recs)
        chosen = [dict(r) for r in recs if r["level"] == level]
        _name_by_street(chosen, h.walk_ways)
        for r in chosen:
            r.pop("level")
        log.info("communities: %d OSM polygons (%s)", len(chosen), chosen[0]["source"])
        return chosen
    if mode == "osm":
        return []
    blocks = _blocks(h, t, area)
    log.info("communities: no OSM community polygons; %d street blocks", len(blocks))
    return blocks


# ---------------------------------------------------------------- frames
def _frame(kind: str, recs: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    spec = get_spec(kind)
    df = pd.DataFrame.from_records(recs) if recs else pd.DataFrame(columns=["id", "geometry"])
    lead = ["id", "name", "osm_type", "osm_id"]
    spec_cols = [c.name for c in spec.all_columns if c.name in df.columns and c.name not in lead]
    rest = [c for c in df.columns if c not in lead + spec_cols + ["geometry"]]
    cols = [c for c in lead if c in df.columns] + spec_cols + rest
    out = df[cols].copy()
    for name in cols:
        if not spec.has_column(name):
            continue
        dtype = spec.column(name).dtype
        s = out[name]
        if dtype == "int":
            out[name] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v))
                                  else int(v) for v in s], dtype="Int64")
        elif dtype == "float":
            out[name] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif dtype == "bool":
            out[name] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v))
                                  else bool(v) for v in s], dtype="boolean")
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(df["geometry"].to_numpy(), crs=4326),
                            crs=4326)


def _clip(recs: list[dict[str, Any]], area: Any) -> list[dict[str, Any]]:
    if area is None or not recs:
        return recs
    geoms = np.asarray([r["geometry"] for r in recs], dtype=object)
    keep = shapely.intersects(geoms, area)
    return [r for r, k in zip(recs, keep) if k]


def _infer_residential(buildings: list[dict[str, Any]], areas: list[dict[str, Any]],
                       t: Tables) -> None:
    """Buildings whose own tags say nothing of their use are residential when
    they stand inside a residential area (rules: buildings.residential_areas)."""
    todo = [b for b in buildings if b["residential"] is None]
    if not todo or not areas:
        return
    polys = np.asarray([a["geometry"] for a in areas], dtype=object)
    tree = shapely.STRtree(polys)
    points = shapely.point_on_surface(np.asarray([b["geometry"] for b in todo], dtype=object))
    inside = np.zeros(len(todo), dtype=bool)
    hit, _ = tree.query(points, predicate="within")
    inside[hit] = True
    rule = t.residential_areas[0]
    label = rule.label
    for b, yes in zip(todo, inside):
        if yes:
            b["residential"] = True
            b["residential_source"] = label
    log.debug("buildings: %d inferred residential from %s", int(inside.sum()), label)


def _dead_ends(h: _reader.Harvest, recs: list[dict[str, Any]]) -> None:
    for r in recs:
        ends = h.fire_lane_ends.get(r["osm_id"], (None, None))
        known = [e for e in ends if e is not None]
        if any(h.highway_node_uses[e] == 1 for e in known):
            r["dead_end"] = True
        elif len(known) < 2:
            r["dead_end"] = None
        else:
            r["dead_end"] = False


#: How far (degrees, about 2 km) beyond the bbox/boundary the reading pass
#: still looks, so ways that leave the area keep their intersections.
_WINDOW_MARGIN_DEG = 0.02


def _window(area: Any) -> tuple[float, float, float, float] | None:
    if area is None:
        return None
    minx, miny, maxx, maxy = area.bounds
    m = _WINDOW_MARGIN_DEG
    return minx - m, miny - m, maxx + m, maxy + m


def read_osm(
    path: str | os.PathLike,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: Any = None,
    progress: Callable[[str], None] | None = None,
    rules: Path | str | Mapping[str, Any] | None = None,
    communities: str = "auto",
) -> dict[str, gpd.GeoDataFrame]:
    """Read an OSM extract into one GeoDataFrame per layer kind found (EPSG:4326).

    Parameters
    ----------
    path
        ``.osm.pbf`` or ``.osm`` (XML, also ``.osm.gz``/``.osm.bz2``); the
        format is read from the file's first bytes, not its name.
    bbox
        ``(minx, miny, maxx, maxy)`` in degrees: keep features that intersect it.
    boundary
        A polygon in EPSG:4326 (shapely geometry, or a GeoDataFrame/GeoSeries
        in any CRS): keep features that intersect it (with ``bbox``: both).
    progress
        Called with the stage name ("reading", "streets", "buildings", …).
    rules
        Overrides of ``rules/osm_tags.toml``: a TOML file whose ``[osm_tags]``
        table is merged into the built-in tables, or such a mapping.
    communities
        "auto" (OSM polygons where present, else street blocks), "osm" (OSM
        polygons only) or "blocks" (street blocks only).

    Returns layer kind → frame, only for kinds with at least one feature.
    Streets are the walking network split at intersections, with OSM node
    ids ``u``, ``v`` and ``length_m``; features that intersect the area are
    kept whole (streets are not cut, so u/v stay true OSM nodes).

    The file is read once, element by element; for a province-wide
    extract, cut the county out first (``osmium extract -b
    minx,miny,maxx,maxy big.osm.pbf -o county.osm.pbf``) and use an extract
    somewhat larger than the study area, so polygons at its edge are whole
    (polygons the extract cuts are skipped, with a warning).

    Raises :class:`gcgeo.FileFormatError` for a file that is not OSM or is
    damaged, :class:`gcgeo.InputError` for a bad bbox/boundary or an area
    without data.
    """
    report = progress or (lambda stage: None)
    if communities not in ("auto", "osm", "blocks"):
        raise InputError(f"communities={communities!r}; use 'auto', 'osm' or 'blocks'.")
    p = Path(path)
    fmt = sniff_format(p)
    box = _check_bbox(bbox)
    bound = _check_boundary(boundary)
    area = shapely.box(*box) if box is not None else None
    if bound is not None:
        area = bound if area is None else shapely.intersection(area, bound)
        if area.is_empty:
            raise InputError(f"the bbox {box} and the boundary do not overlap; give a bbox "
                             "inside the boundary, or only one of them.")
    if area is not None:
        shapely.prepare(area)
    t = load_tables(rules)

    report("reading")
    try:
        h = _reader.read_file(p, fmt, t, window=_window(area))
    except RuntimeError as exc:
        raise FileFormatError(
            f"cannot read OSM file {p}: {exc}. The file is damaged or incomplete (e.g. a "
            f"download that stopped early); download it again. {_HOW_TO_GET}") from None
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"cannot read OSM file {p}: {exc}. {_HOW_TO_GET}") from None
    for what, n in sorted(h.counts.items()):
        log.debug("%s: %s %d", p.name, what, n)
    cut = {k.split(":")[0]: n for k, n in h.counts.items()
           if k.endswith("cut by the extract") and not k.startswith("_")}
    if cut:
        log.warning(
            "%s: polygons skipped because the extract cuts them or they are not closed: %s; "
            "use an extract somewhat larger than the study area so edge features are whole.",
            p.name, ", ".join(f"{n} {k}" for k, n in sorted(cut.items())))

    out: dict[str, gpd.GeoDataFrame] = {}
    for kind in LAYER_KINDS:
        report(kind)
        if kind == "streets":
            recs = _clip(_split_streets(h, t), area)
        elif kind == "communities":
            recs = _communities(h, t, area, communities)
        else:
            recs = _clip(h.records.get(kind, []), area)
        if kind == "fire_lanes":
            _dead_ends(h, recs)
        if kind == "buildings":
            _infer_residential(recs, h.records.get("_residential_areas", []), t)
        if not recs:
            continue
        frame = _frame(kind, recs)
        if kind == "streets":
            frame["length_m"] = _geodesic_length(np.asarray(frame.geometry.values))
        out[kind] = frame
        log.info("%s: %d %s", p.name, len(frame), kind)

    if not out or set(out) == {"communities"}:
        b = h.bounds
        if b[0] > b[2]:
            raise InputError(f"OSM file {p} holds no features gcgeo can import (no streets, "
                             "buildings, green space, amenities…); check that it is the "
                             f"extract you meant. {_HOW_TO_GET}")
        covers = f"longitude {b[0]:.4f}–{b[2]:.4f}, latitude {b[1]:.4f}–{b[3]:.4f}"
        if area is None:
            raise InputError(
                f"OSM file {p} holds no features gcgeo can import (no streets, buildings, "
                f"green space, amenities…) in the area it covers ({covers}); check that it is "
                f"the extract you meant. {_HOW_TO_GET}")
        shown = None if box is None else ",".join(f"{v:g}" for v in box)
        where = (f"the bbox {shown}" if bound is None else "the boundary" if box is None
                 else f"the part of the boundary inside the bbox {shown}")
        raise InputError(
            f"{where} contains no OSM data from {p}: the file covers {covers}. Give a bbox or "
            "boundary inside that range (minx,miny,maxx,maxy = west,south,east,north), or an "
            "extract that covers the study area.")
    return out
