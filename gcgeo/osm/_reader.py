"""One streaming pass over an OSM file (PBF or XML) with pyosmium.

The pass classifies every tagged element with the tag tables and keeps only
what a layer needs: attribute records with their geometry, the walkable
ways (node ids and locations, to split them at intersections later) and the
node-use counts of all highway ways (to find dead ends).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely

from . import _classify as C
from ._tables import Tables

log = logging.getLogger(__name__)

#: Layers whose features are points, whatever the OSM element is.
POINT_LAYERS = ("chargers", "manholes", "ramps", "garbage_points")
#: Layers whose features are polygons only.
POLYGON_LAYERS = ("buildings", "green_space", "communities", "_residential_areas")
#: Layers holding polygons for areas and points for nodes (facilities: a park or a
#: school ground keeps its outline, to be reached at its entrances).
MIXED_LAYERS = ("parking", "heritage", "facilities")


@dataclass
class Way:
    """A highway way kept for the network: node ids and (lon, lat) or None."""

    id: int
    tags: dict[str, str]
    refs: list[int]
    coords: list[tuple[float, float] | None]


@dataclass
class Harvest:
    """What one pass over the file collected."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    walk_ways: list[Way] = field(default_factory=list)
    block_lines: list[Any] = field(default_factory=list)
    highway_node_uses: Counter = field(default_factory=Counter)
    fire_lane_ends: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    bounds: list[float] = field(default_factory=lambda: [180.0, 90.0, -180.0, -90.0])

    def add(self, layer: str, otype: str, oid: int, tags: dict[str, str], geom: Any,
            attrs: dict[str, Any]) -> None:
        if geom is None or geom.is_empty:
            self.counts[f"{layer}: no geometry"] += 1
            return
        rec = {"id": f"{otype[0]}{oid}", "name": tags.get("name"), "osm_type": otype,
               "osm_id": oid, **attrs, "geometry": geom}
        self.records.setdefault(layer, []).append(rec)

    def extend_bounds(self, lon: float, lat: float) -> None:
        b = self.bounds
        if lon < b[0]:
            b[0] = lon
        if lat < b[1]:
            b[1] = lat
        if lon > b[2]:
            b[2] = lon
        if lat > b[3]:
            b[3] = lat


def _runs(coords: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Consecutive runs of known locations (a way cut by the extract's edge
    has unknown nodes), each of at least two points."""
    runs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for c in coords:
        if c is None:
            if len(cur) >= 2:
                runs.append(cur)
            cur = []
        else:
            cur.append(c)
    if len(cur) >= 2:
        runs.append(cur)
    return runs


def _polygonal(geom: Any) -> Any:
    """``geom`` made valid, keeping its polygons; a single polygon unwrapped."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    parts = [p for g in parts for p in shapely.get_parts(g) if not p.is_empty and p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _way_polygon(refs: list[int], coords: list[tuple[float, float] | None]) -> Any:
    if len(refs) < 4 or refs[0] != refs[-1] or any(c is None for c in coords):
        return None
    return _polygonal(shapely.Polygon(coords))


def _way_line(coords: list[tuple[float, float] | None]) -> Any:
    runs = _runs(coords)
    if not runs:
        return None
    if len(runs) == 1:
        return shapely.LineString(runs[0])
    return shapely.MultiLineString(runs)


def _point_of(geom: Any) -> Any:
    """A point standing for a way or area: on the surface of polygons, at
    the middle of lines."""
    if geom is None:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return shapely.point_on_surface(geom)
    if geom.geom_type == "MultiLineString":
        geom = max(geom.geoms, key=lambda g: g.length)
    return geom.interpolate(0.5, normalized=True)


def _classify_common(tags: dict[str, str], t: Tables, *, is_node: bool,
                     polygonal: bool) -> dict[str, dict[str, Any]]:
    """Layer name → attributes for one element."""
    out: dict[str, dict[str, Any]] = {}
    if not is_node:
        if polygonal:
            if (b := C.building(tags, t)) is not None:
                out["buildings"] = b
            if (g := C.green_space(tags, t)) is not None:
                out["green_space"] = g
            if (c := C.community(tags, t)) is not None:
                out["communities"] = c
            if t.residential_areas and t.residential_areas[0].matches(tags):
                out["_residential_areas"] = {}
    if (p := C.parking(tags, t)) is not None:
        out["parking"] = p
    if (c := C.charger(tags, t)) is not None:
        out["chargers"] = c
    if (m := C.manhole(tags, t)) is not None and (is_node or polygonal):
        out["manholes"] = m
    if (r := C.ramp(tags, t, is_node=is_node)) is not None:
        out["ramps"] = r
    if (f := C.facility(tags, t)) is not None:
        out["facilities"] = f
    if (g := C.garbage_point(tags, t)) is not None:
        out["garbage_points"] = g
    if (h := C.heritage(tags, t)) is not None:
        out["heritage"] = h
    return out


def _add_all(h: Harvest, found: dict[str, dict[str, Any]], otype: str, oid: int,
             tags: dict[str, str], geom: Any) -> None:
    point = None
    for layer, attrs in found.items():
        if layer in POINT_LAYERS or (layer in MIXED_LAYERS and geom.geom_type in (
                "LineString", "MultiLineString")):
            if point is None:
                point = geom if geom.geom_type == "Point" else _point_of(geom)
            h.add(layer, otype, oid, tags, point, attrs)
        else:
            h.add(layer, otype, oid, tags, geom, attrs)


def _outside(window: tuple[float, float, float, float] | None, lon: float, lat: float) -> bool:
    return window is not None and not (window[0] <= lon <= window[2] and
                                       window[1] <= lat <= window[3])


def read_file(path: Path, fmt: str, t: Tables,
              window: tuple[float, float, float, float] | None = None) -> Harvest:
    """Read ``path`` (format ``fmt``: "pbf", "osm", "osm.gz", "osm.bz2") once.

    ``window`` (minx, miny, maxx, maxy), when given, lets the pass skip
    elements lying wholly outside it early; the caller still clips exactly.
    """
    try:
        import osmium  # heavy; imported when an import is asked for
    except ImportError:  # pragma: no cover - a dependency of gcgeo
        raise ImportError("reading OpenStreetMap files needs pyosmium; install it with "
                          "'pip install osmium'.") from None

    h = Harvest()
    block_hw = set(t.section("communities").get("blocks", {}).get("highways", ()))
    osm_file = osmium.io.File(str(path), fmt)
    if fmt == "pbf":
        locations: Any = "flex_mem"
    else:
        # XML from Overpass often lists ways before their nodes: index the
        # nodes first so every way finds its locations.
        locations = osmium.index.create_map("sparse_mem_map")
        for node in osmium.FileProcessor(osmium.io.File(str(path), fmt), osmium.osm.NODE):
            if isinstance(node, osmium.osm.Node):  # always, given the NODE filter
                locations.set(node.id, node.location)
    proc = (osmium.FileProcessor(osm_file)
            .with_locations(locations)
            .with_areas()
            .with_filter(osmium.filter.EmptyTagFilter()))
    for obj in proc:
        if isinstance(obj, osmium.osm.Node):
            loc = obj.location
            if not loc.valid():
                continue
            lon, lat = loc.lon, loc.lat
            h.extend_bounds(lon, lat)
            h.counts["tagged nodes"] += 1
            if _outside(window, lon, lat):
                continue
            tags = {tag.k: tag.v for tag in obj.tags}
            found = _classify_common(tags, t, is_node=True, polygonal=False)
            if found:
                _add_all(h, found, "node", obj.id, tags, shapely.Point(lon, lat))
        elif isinstance(obj, osmium.osm.Way):
            tags = {tag.k: tag.v for tag in obj.tags}
            h.counts["tagged ways"] += 1
            hw = tags.get("highway")
            found = _classify_common(tags, t, is_node=False, polygonal=True)
            fire = C.fire_lane(tags, t) if hw is not None or "service" in tags or (
                "fire_lane" in tags) or "emergency" in tags else None
            walk = hw is not None and C.walkable(tags, t)
            if not found and fire is None and hw is None:
                continue
            refs = [n.ref for n in obj.nodes]
            coords = [(n.lon, n.lat) if n.location.valid() else None for n in obj.nodes]
            known = [c for c in coords if c is not None]
            if not known:
                continue
            for c in known:
                h.extend_bounds(*c)
            if window is not None and all(_outside(window, *c) for c in known):
                continue
            if hw is not None:
                h.highway_node_uses.update(refs)
                if walk:
                    h.walk_ways.append(Way(obj.id, tags, refs, coords))
                if hw in block_hw and tags.get("area") != "yes":
                    line = _way_line(coords)
                    if line is not None:
                        h.block_lines.append(line)
            if fire is not None:
                line = _way_line(coords)
                if line is not None:
                    ends = (refs[0] if coords[0] is not None else None,
                            refs[-1] if coords[-1] is not None else None)
                    h.fire_lane_ends[obj.id] = ends
                    h.add("fire_lanes", "way", obj.id, tags, line, fire)
            if not found:
                continue
            closed = len(refs) >= 4 and refs[0] == refs[-1] and tags.get("area") != "no"
            poly = _way_polygon(refs, coords) if closed else None
            line = None
            if poly is None:
                line = _way_line(coords)
            for layer in list(found):
                if layer in POLYGON_LAYERS and poly is None:
                    h.counts[f"{layer}: way not closed or cut by the extract"] += 1
                    del found[layer]
                elif layer == "manholes" and poly is None:
                    del found[layer]
            geom = poly if poly is not None else line
            if geom is not None and found:
                _add_all(h, found, "way", obj.id, tags, geom)
        elif isinstance(obj, osmium.osm.Area):
            if obj.from_way():
                continue  # closed ways are made into polygons above
            tags = {tag.k: tag.v for tag in obj.tags}
            found = _classify_common(tags, t, is_node=False, polygonal=True)
            if not found:
                continue
            try:
                wkb = osmium.geom.WKBFactory().create_multipolygon(obj)
                geom = shapely.from_wkb(wkb)
            except Exception:  # noqa: BLE001 - broken relation geometry
                h.counts["relations with broken geometry"] += 1
                continue
            geom = _polygonal(geom)
            if geom is None:
                h.counts["relations with broken geometry"] += 1
                continue
            minx, miny, maxx, maxy = geom.bounds
            h.extend_bounds(minx, miny)
            h.extend_bounds(maxx, maxy)
            if window is not None and (maxx < window[0] or minx > window[2] or
                                       maxy < window[1] or miny > window[3]):
                continue
            _add_all(h, found, "relation", obj.orig_id(), tags, geom)
    return h
