"""The walking network: a networkx graph of streets, snapping, fast shortest paths.

The graph is a :class:`networkx.MultiGraph` in a projected metric CRS whose
nodes carry ``x`` and ``y`` and whose edges carry ``length`` (metres) and
``geometry`` (a LineString from node ``u`` to node ``v``), the convention of
OSMnx, so an OSMnx graph or GraphML file can be used as it is
(:func:`graph_from_osmnx`).

Points (homes, facilities) are snapped to the nearest point on the nearest
edge, not to the nearest node; the straight connector from the point to the
street counts in the distance.  Points farther than a tolerance from every
street are reported as off the network instead of being snapped across a
river.

The shortest-path work runs in compiled code
(:func:`scipy.sparse.csgraph.dijkstra` with many sources, ``min_only`` and a
``limit``) over arrays extracted once from the graph (:func:`compile_network`).
Snapped targets become virtual nodes that split their edge, so partial edge
lengths are exact; snapped origins are read off the two ends of the piece of
edge they lie on, which is exact as well.  Before searching, chains of
degree-2 nodes are contracted to single edges and dead ends set aside
(repeatedly, while that pays); their distances are filled in afterwards,
exactly — a city's walking network searches about a quarter of its nodes.

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> streets = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0)]),
...                                       LineString([(100, 0), (100, 50)])], crs=3857)
>>> G = build_graph(streets)
>>> homes = gpd.GeoSeries([Point(10, 5)], crs=3857)
>>> shops = {"supermarket": gpd.GeoSeries([Point(103, 40)], crs=3857)}
>>> point_distances(G, homes, shops, cutoff=1000).round(1)
   supermarket
0        138.0
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from . import rules as _rules
from ._errors import CRSError, InputError

log = logging.getLogger(__name__)

__all__ = [
    "Network",
    "build_graph",
    "compile_network",
    "crossings",
    "graph_from_osmnx",
    "join_tolerance",
    "near_misses",
    "network_from_frames",
    "network_from_streets",
    "node_distances",
    "point_distances",
    "snap_points",
    "split_crossings",
]

#: Coordinates are rounded to this many decimals (0.1 mm) when street lines
#: are joined at shared end points.
_JOIN_DECIMALS = 4
#: Positions along an edge closer than this (metres) are the same position.
_POS_EPS = 1e-6


# --------------------------------------------------------------------------
# building the graph


def _projected_crs(crs: Any, what: str) -> CRS:
    if crs is None:
        raise CRSError(
            f"{what} has no CRS; declare it (e.g. gdf.set_crs(...)) and reproject to a "
            "metric CRS (gcgeo.crs.to_metric) before building the walking graph."
        )
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        raise CRSError(
            f"{what} is in the geographic CRS {crs.name!r}; lengths would be in degrees. "
            "Reproject it to a metric CRS first (gcgeo.crs.to_metric)."
        )
    return crs


def join_tolerance(rules: Any = None) -> float:
    """The rule ``network.join_tolerance`` (m), with a user's ``rules`` overrides
    (a TOML path or a mapping, as :func:`gcgeo.rules.load` takes them)."""
    return float(_rules.value(_rules.load("network", rules), "join_tolerance"))


def split_crossings(rules: Any = None) -> bool:
    """The rule ``network.split_crossings``, with a user's ``rules`` overrides."""
    v = _rules.value(_rules.load("network", rules), "split_crossings")
    if not isinstance(v, bool):
        raise _rules.RulesError(f"rule network.split_crossings must be true or false, not {v!r}.")
    return v


def build_graph(streets: gpd.GeoDataFrame, *, crs: Any = None,
                join_tolerance: float = 0.0, split_crossings: bool = False) -> nx.MultiGraph:
    """Build the undirected walking graph from a streets layer.

    ``streets`` holds LineStrings (MultiLineStrings are split into their
    parts) in a projected metric CRS; ``crs`` declares it when the frame has
    none.  Rows with ``walkable`` false are left out.  When the layer carries
    node ids ``u`` and ``v`` (as OSM imports do) they are used, otherwise lines
    are joined where their end points coincide (to 0.1 mm) and split where an
    end point lies on another line (T-junctions).  Lines that cross without
    either ending there are not joined (bridges stay bridges).  With
    ``join_tolerance`` (metres) a dangling end, one that meets no other line,
    is joined to the nearest other dangling end within that distance (both
    move to the first of them) or else to the nearest point of another line
    within it (the line is split there and the end moved onto it): the near
    misses of hand-drawn streets.  With ``split_crossings`` two lines that
    cross are joined there, for CAD centre lines drawn through their junctions
    (then a bridge needs its own line ending short of the street below, or
    node ids).

    Nodes carry ``x`` and ``y``; edges carry ``length`` (metres, the line's
    length), ``geometry`` (oriented from ``u`` to ``v``) and ``street`` (the
    streets row label).  The graph attribute ``crs`` holds the CRS.
    """
    crs, nodes, u_ids, v_ids, lengths, arr, labels = _street_arrays(streets, crs, join_tolerance,
                                                                    split_crossings)
    G = nx.MultiGraph(crs=crs)
    if len(arr) == 0:
        return G
    G.add_nodes_from(
        (i, {"x": float(x), "y": float(y)})
        for i, x, y in zip(nodes["id"].tolist(), nodes["x"].tolist(), nodes["y"].tolist())
    )
    G.add_edges_from(
        (u, v, {"length": float(w), "geometry": g, "street": lab})
        for u, v, w, g, lab in zip(u_ids.tolist(), v_ids.tolist(), lengths.tolist(), arr, labels)
    )
    log.info("walking graph: %d nodes, %d edges", G.number_of_nodes(), G.number_of_edges())
    return G


def network_from_streets(streets: gpd.GeoDataFrame, *, crs: Any = None,
                         join_tolerance: float = 0.0, split_crossings: bool = False) -> Network:
    """``compile_network(build_graph(streets))`` without the networkx objects.

    The same nodes, edges (in the same order), lengths and geometries, built
    straight from the arrays: an analysis that only needs distances skips
    creating a million Python objects for a city.
    """
    crs, nodes, u_ids, v_ids, lengths, arr, labels = _street_arrays(streets, crs, join_tolerance,
                                                                    split_crossings)
    index = pd.Index(nodes["id"].tolist() if len(arr) else [], tupleize_cols=False)
    u = index.get_indexer(u_ids) if len(arr) else np.zeros(0, dtype=np.int64)
    v = index.get_indexer(v_ids) if len(arr) else np.zeros(0, dtype=np.int64)
    # the order networkx reports the edges of a MultiGraph in: by the endpoint
    # added first, then by when that pair was first joined, then by key
    first_end = np.minimum(u, v)
    pair = pd.Series(np.arange(len(u))).groupby(
        [first_end, np.maximum(u, v)], sort=False).transform("min").to_numpy()
    order = np.lexsort((np.arange(len(u)), pair, first_end))
    x = nodes["x"].to_numpy(float) if len(arr) else np.zeros(0)
    y = nodes["y"].to_numpy(float) if len(arr) else np.zeros(0)
    # reported from the endpoint added first, then turned to run along the geometry
    u, v = _oriented(np.minimum(u, v)[order], np.maximum(u, v)[order], arr[order], x, y)
    log.info("walking network: %d nodes, %d edges", len(index), len(u))
    return Network(nodes=index, x=x, y=y, u=u.astype(np.int64), v=v.astype(np.int64),
                   weight=lengths[order].astype(float), geometry=arr[order],
                   geom_length=lengths[order].astype(float), crs=crs, directed=False)


def network_from_frames(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    weight: str = "length",
    crs: Any = None,
    directed: bool = False,
) -> Network:
    """A network from node and edge tables, as pandana and OSMnx's ``graph_to_gdfs`` keep them.

    ``nodes`` is indexed by node id with columns ``x`` and ``y``.  ``edges``
    names its end nodes in columns (or index levels) ``u`` and ``v`` (or
    ``from`` and ``to``) and holds ``weight`` per edge, non-negative (metres
    for walking).  Edges with a ``geometry`` column keep it (a GeoDataFrame's
    CRS is taken when ``crs`` is not given); otherwise each edge is the
    straight line between its nodes.  The result goes anywhere a graph is
    taken (:func:`node_distances`, :func:`snap_points`, the analyses).
    """
    if not isinstance(nodes, pd.DataFrame) or not {"x", "y"} <= set(nodes.columns):
        raise InputError("nodes must be a table indexed by node id with columns 'x' and 'y'.")
    if not nodes.index.is_unique:
        dup = nodes.index[nodes.index.duplicated()].unique()[:5].tolist()
        raise InputError(f"nodes: node id(s) {dup} appear more than once; give each node one row.")
    x = pd.to_numeric(nodes["x"], errors="coerce").to_numpy(float)
    y = pd.to_numeric(nodes["y"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise InputError(f"nodes: node(s) {nodes.index[bad][:5].tolist()} have no numeric x/y.")
    if not isinstance(edges, pd.DataFrame):
        raise InputError("edges must be a table with columns 'u', 'v' and the weight.")
    flat = edges.reset_index() if any(n in ("u", "v", "from", "to") for n in edges.index.names) \
        else edges
    ends = next((p for p in (("u", "v"), ("from", "to")) if set(p) <= set(flat.columns)), None)
    if ends is None:
        raise InputError("edges need columns (or index levels) 'u' and 'v', or 'from' and 'to', "
                         "naming their end nodes.")
    if weight not in flat.columns:
        raise InputError(f"edges have no '{weight}' column; give every edge its length in metres "
                         "or choose another weight.")
    w = pd.to_numeric(flat[weight], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        raise InputError(f"edges: row(s) {edges.index[bad][:5].tolist()} have no finite, "
                         f"non-negative '{weight}'.")
    index = pd.Index(nodes.index, tupleize_cols=False)
    u = index.get_indexer(flat[ends[0]])
    v = index.get_indexer(flat[ends[1]])
    bad = (u < 0) | (v < 0)
    if bad.any():
        raise InputError(f"edges: row(s) {edges.index[bad][:5].tolist()} name a node that is not "
                         "in the nodes table.")
    if crs is None:
        crs = next((t.crs for t in (edges, nodes) if isinstance(t, gpd.GeoDataFrame)), None)
    geom = None  # straight lines between the nodes, drawn only if needed
    glen = np.hypot(x[v] - x[u], y[v] - y[u])
    if "geometry" in flat.columns and flat["geometry"].notna().any():
        geom = np.asarray(flat["geometry"].to_numpy(), dtype=object).copy()
        none = pd.isna(geom)
        types = shapely.get_type_id(geom)
        notline = ~none & (types != shapely.GeometryType.LINESTRING)
        if notline.any():
            raise InputError(f"edges: row(s) {edges.index[notline][:5].tolist()} have a "
                             "geometry that is not a LineString.")
        if none.any():
            geom[none] = _straight_lines(x, y, u[none], v[none])
        if directed:
            flip = _starts_at_v(u, v, geom, x, y)
            geom[flip] = shapely.reverse(geom[flip])
        else:
            u, v = _oriented(u, v, geom, x, y)
        glen = shapely.length(geom)
    return Network(
        nodes=index, x=x, y=y, u=u.astype(np.int64), v=v.astype(np.int64), weight=w,
        geometry=geom, geom_length=np.asarray(glen, dtype=float),
        crs=CRS.from_user_input(crs) if crs is not None else None, directed=bool(directed),
    )


def _street_arrays(streets: gpd.GeoDataFrame, crs: Any, join_tolerance: float = 0.0,
                   split_crossings: bool = False):
    """The walking network of a streets layer as arrays (see :func:`build_graph`):
    the CRS, the nodes (``id``, ``x``, ``y``), per line its end node ids,
    length, geometry and streets row label."""
    if not isinstance(streets, gpd.GeoDataFrame):
        raise InputError("streets must be a GeoDataFrame of LineStrings (layer 'streets').")
    crs = _projected_crs(streets.crs if streets.crs is not None else crs, "layer 'streets'")
    df = streets
    if "walkable" in df.columns:
        from .layers._validate import _to_bool  # reads 是/否, yes/no, 1/0

        flag, unreadable = _to_bool(df["walkable"])
        if unreadable.any():
            raise InputError(
                f"layer 'streets' column 'walkable' holds values that are not yes/no "
                f"({', '.join(sorted(set(df['walkable'][unreadable].astype(str)))[:5])}); "
                "use true/false, yes/no or 是/否."
            )
        keep = flag.fillna(True).to_numpy(bool)
        if not keep.all():
            log.info("streets: %d row(s) with walkable = false left out", int((~keep).sum()))
        df = df[keep]
    geoms = df.geometry
    bad = geoms.isna() | geoms.is_empty
    types = geoms.geom_type
    notline = ~bad & ~types.isin(["LineString", "MultiLineString"])
    if notline.any():
        rows = ", ".join(map(str, df.index[notline.to_numpy()][:5]))
        raise InputError(
            f"layer 'streets' has {int(notline.sum())} row(s) that are not lines "
            f"(rows {rows}); keep only LineStrings (gcgeo validate --fix can explode "
            "multi-part lines)."
        )
    df = df[~bad.to_numpy()]
    has_uv = {"u", "v"} <= set(df.columns) and not df[["u", "v"]].isna().any().any()
    if has_uv and (df.geometry.geom_type == "MultiLineString").any():
        has_uv = False
        log.info("streets: multi-part lines present, node ids u/v ignored; joining end points")
    parts = df.geometry.explode(index_parts=False) if not has_uv else df.geometry
    labels = parts.index.to_numpy()
    arr = parts.to_numpy()
    if not (join_tolerance >= 0):
        raise InputError(f"join_tolerance must be a distance of 0 m or more, not {join_tolerance}.")
    if not has_uv and len(arr):
        arr, labels = _split_at_junctions(arr, labels, float(join_tolerance),
                                          bool(split_crossings))
    if len(arr) == 0:
        log.warning("streets: no lines; the walking graph is empty")
        return crs, None, None, None, np.zeros(0), arr, labels
    n_coords = shapely.get_num_coordinates(arr)
    coords = shapely.get_coordinates(arr)
    first = np.concatenate([[0], np.cumsum(n_coords)[:-1]])
    last = first + n_coords - 1
    start = coords[first]
    end = coords[last]
    lengths = shapely.length(arr)
    if has_uv:
        u_ids = df["u"].to_numpy()
        v_ids = df["v"].to_numpy()
        pts = np.concatenate([start, end])
        ids = np.concatenate([u_ids, v_ids])
        nodes = pd.DataFrame({"id": ids, "x": pts[:, 0], "y": pts[:, 1]}).drop_duplicates("id")
    else:
        pts = np.round(np.concatenate([start, end]), _JOIN_DECIMALS)
        keys, inverse = np.unique(pts, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        u_ids = inverse[: len(arr)]
        v_ids = inverse[len(arr):]
        nodes = pd.DataFrame({"id": np.arange(len(keys)), "x": keys[:, 0], "y": keys[:, 1]})
    return crs, nodes, u_ids, v_ids, lengths, arr, labels


def graph_from_osmnx(
    G_or_path: nx.Graph | str | Path, *, crs: Any = None
) -> nx.MultiGraph:
    """An undirected walking graph from an OSMnx graph or a GraphML file.

    Edge ``length`` (metres) is kept.  A graph in a geographic CRS is
    projected to ``crs`` (default: :func:`gcgeo.crs.choose_metric_crs` for
    its extent); edges without geometry get the straight line between their
    nodes.  The input graph is not modified.
    """
    if isinstance(G_or_path, (str, Path)):
        path = Path(G_or_path)
        if not path.exists():
            raise InputError(f"GraphML file {path} does not exist; check the path.")
        try:
            src = nx.read_graphml(path, node_type=str)
        except Exception as exc:  # noqa: BLE001 - any parse error means a bad file
            raise InputError(f"{path} cannot be read as GraphML ({exc}).") from None
        src = _graphml_types(src)
    elif isinstance(G_or_path, nx.Graph):
        src = G_or_path
    else:
        raise InputError("pass a networkx graph (e.g. from OSMnx) or the path of a GraphML file.")
    src_crs = src.graph.get("crs")
    if src_crs is None:
        raise CRSError(
            "the graph has no 'crs' graph attribute; set G.graph['crs'] (OSMnx graphs "
            "carry it, e.g. 'epsg:4326')."
        )
    src_crs = CRS.from_user_input(src_crs)
    nodes = list(src.nodes)
    try:
        xs = np.array([float(src.nodes[n]["x"]) for n in nodes])
        ys = np.array([float(src.nodes[n]["y"]) for n in nodes])
    except KeyError:
        raise InputError("every graph node needs 'x' and 'y' attributes (OSMnx convention).") from None
    target = src_crs
    transform = None
    if not src_crs.is_projected:
        if crs is None:
            from .crs import choose_metric_crs

            probe = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=src_crs)
            crs = choose_metric_crs(probe)
        target = _projected_crs(crs, "the target CRS")
        from pyproj import Transformer

        transform = Transformer.from_crs(src_crs, target, always_xy=True)
        xs, ys = transform.transform(xs, ys)
    elif crs is not None and CRS.from_user_input(crs) != src_crs:
        raise CRSError(
            f"the graph is already projected ({src_crs.name}); project it to {crs} with "
            "osmnx.project_graph, or leave crs unset."
        )
    pos = dict(zip(nodes, zip(xs.tolist(), ys.tolist())))
    G = nx.MultiGraph(crs=target)
    G.add_nodes_from((n, {"x": pos[n][0], "y": pos[n][1]}) for n in nodes)
    edges = []
    for u, v, data in src.edges(data=True):
        if "length" not in data:
            raise InputError(f"edge ({u}, {v}) has no 'length'; OSMnx graphs carry it in metres.")
        geom = data.get("geometry")
        if isinstance(geom, str):
            geom = shapely.from_wkt(geom)
        if geom is None:
            geom = shapely.LineString([pos[u], pos[v]])
        elif transform is not None:
            geom = shapely.transform(geom, lambda c: np.column_stack(
                transform.transform(c[:, 0], c[:, 1])))
        # orient geometry from u to v
        c0 = shapely.get_coordinates(geom)[0]
        if math.dist(c0, pos[u]) > math.dist(c0, pos[v]) + 1e-9:
            geom = shapely.reverse(geom)
        edges.append((u, v, {"length": float(data["length"]), "geometry": geom}))
    G.add_edges_from(edges)
    return G


def _graphml_types(G: nx.Graph) -> nx.Graph:
    """Cast the string attributes of a GraphML file written by OSMnx."""
    H = G.copy()
    H.graph = dict(G.graph)
    for _, d in H.nodes(data=True):
        for k in ("x", "y"):
            if k in d:
                d[k] = float(d[k])
    for _, _, d in H.edges(data=True):
        if "length" in d:
            d["length"] = float(d["length"])
    return H


def _substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised substring of lines between distances ``start`` < ``end``."""
    if len(geoms) == 0:
        return np.zeros(0, dtype=object)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    seg = np.concatenate([[0.0], seg])
    first = np.ones(len(idx), bool)
    first[1:] = idx[1:] != idx[:-1]
    seg[first] = 0.0
    cum = np.cumsum(seg)
    cum -= np.repeat(cum[first], np.bincount(idx, minlength=len(geoms)))
    keep = (cum > start[idx]) & (cum < end[idx])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    n = len(geoms)
    xy = np.concatenate([p0, coords[keep], p1])
    owner = np.concatenate([np.arange(n), idx[keep], np.arange(n)])
    key = np.concatenate([np.full(n, -np.inf), cum[keep], np.full(n, np.inf)])
    order = np.lexsort((key, owner))
    return shapely.linestrings(xy[order], indices=owner[order])


def _ends(arr: np.ndarray) -> np.ndarray:
    """The end points of the lines: their starts, then their ends."""
    return np.concatenate([shapely.get_point(arr, 0), shapely.get_point(arr, -1)])


def _join_near_ends(arr: np.ndarray, ends: np.ndarray, dangling: np.ndarray,
                    tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Move dangling ends lying within ``tolerance`` of each other onto one point
    (the first of each group), so that the lines join there.  Returns the
    lines and which ends moved."""
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(arr)
    moved = np.zeros(2 * n, bool)
    d = np.flatnonzero(dangling)
    if len(d) < 2:
        return arr, moved
    xy = shapely.get_coordinates(ends)
    pairs = cKDTree(xy[d]).query_pairs(tolerance, output_type="ndarray")
    pairs = pairs[d[pairs[:, 0]] % n != d[pairs[:, 1]] % n]  # not a line's own two ends
    if len(pairs) == 0:
        return arr, moved
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                              shape=(len(d), len(d)))
    _, group = connected_components(graph, directed=False)
    first = np.full(group.max() + 1, len(d))
    np.minimum.at(first, group, np.arange(len(d)))
    joined = np.bincount(group, minlength=len(first))[group] > 1
    target = xy.copy()
    target[d] = xy[d][first[group]]
    moved[d[joined]] = True
    log.info("streets: %d dangling end(s) joined to another within %g m", int(moved.sum()),
             tolerance)
    return _move_ends(arr, target), moved


def _move_ends(arr: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The lines with their first and last coordinates set to ``target`` (starts, then ends)."""
    n = len(arr)
    coords, idx = shapely.get_coordinates(arr, return_index=True)
    counts = np.bincount(idx, minlength=n)
    last = np.cumsum(counts) - 1
    coords[last - counts + 1] = target[:n]
    coords[last] = target[n:]
    return shapely.linestrings(coords, indices=idx)


def _on_other_lines(tree: shapely.STRtree, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (end, line) where an end (starts, then ends, of the lines in
    ``tree``) lies on another line, to 0.1 mm."""
    n = len(ends) // 2
    pi, li = tree.query(ends, predicate="dwithin", distance=10.0 ** -_JOIN_DECIMALS)
    keep = pi % n != li
    return pi[keep], li[keep]


def _dangling(ends: np.ndarray, on_other: np.ndarray) -> np.ndarray:
    """Which ends meet no other end (to 0.1 mm) and lie on no other line
    (``on_other``, the ends that do, from :func:`_on_other_lines`)."""
    key = pd.DataFrame(np.round(shapely.get_coordinates(ends), _JOIN_DECIMALS))
    dangling = ~key.duplicated(keep=False).to_numpy()
    dangling[on_other] = False
    return dangling


def near_misses(streets: gpd.GeoDataFrame, *, beyond: float, within: float) -> pd.DataFrame:
    """Street ends that stop short of another street, more than ``beyond`` and at
    most ``within`` metres from it: gaps the walking network does not join.

    Only dangling ends count (meeting no other end and lying on no other
    line).  Returns one row per such end: ``row`` (the streets row label),
    ``end`` ("start" / "end"), ``distance_m`` and ``nearest_row``, the row
    of the nearest other street; nearest gaps first.  A layer with node ids
    ``u``/``v`` (an OSM import) is joined by those, and has none.
    """
    cols = ["row", "end", "distance_m", "nearest_row"]
    geoms = streets.geometry
    if {"u", "v"} <= set(streets.columns) and not streets[["u", "v"]].isna().any().any():
        return pd.DataFrame(columns=cols)
    geoms = geoms[geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(
        ["LineString", "MultiLineString"])]
    parts = geoms.explode(index_parts=False)
    arr, labels = parts.to_numpy(), parts.index.to_numpy()
    n = len(arr)
    if n == 0:
        return pd.DataFrame(columns=cols)
    ends = _ends(arr)
    tree = shapely.STRtree(arr)
    q = np.flatnonzero(_dangling(ends, _on_other_lines(tree, ends)[0]))
    qi, ql = tree.query(ends[q], predicate="dwithin", distance=within)
    owner = np.concatenate([np.arange(n), np.arange(n)])
    other = labels[owner[q[qi]]] != labels[ql]  # not a part of the same row
    qi, ql = qi[other], ql[other]
    dist = shapely.distance(ends[q[qi]], arr[ql])
    best = np.lexsort((ql, dist, qi))
    best = best[np.r_[True, qi[best][1:] != qi[best][:-1]]] if len(best) else best
    gap = dist[best] > beyond
    p, line, d = q[qi[best]][gap], ql[best][gap], dist[best][gap]
    out = pd.DataFrame({"row": labels[owner[p]], "end": np.where(p < n, "start", "end"),
                        "distance_m": d, "nearest_row": labels[line]}, columns=cols)
    return out.sort_values(["distance_m", "row"], kind="stable").reset_index(drop=True)


def crossings(streets: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where two streets cross with neither ending there: the walking network
    joins them only with ``split_crossings`` (see :func:`build_graph`).

    Returns one row per crossing: ``row`` and ``other_row`` (the streets row
    labels, ``row`` first in the layer), ``x`` and ``y``.  A layer with node ids
    ``u``/``v`` (an OSM import) is joined by those, and has none.
    """
    cols = ["row", "other_row", "x", "y"]
    if {"u", "v"} <= set(streets.columns) and not streets[["u", "v"]].isna().any().any():
        return pd.DataFrame(columns=cols)
    geoms = streets.geometry
    geoms = geoms[geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(
        ["LineString", "MultiLineString"])]
    parts = geoms.explode(index_parts=False)
    arr, labels = parts.to_numpy(), parts.index.to_numpy()
    line, point = _crossings(arr) if len(arr) else (np.zeros(0, int), np.zeros(0, object))
    half = len(line) // 2  # each crossing comes once for each line: first, then second
    a, b = line[:half], line[half:]
    xy = shapely.get_coordinates(point[:half]) if half else np.zeros((0, 2))
    out = pd.DataFrame({"row": labels[a], "other_row": labels[b], "x": xy[:, 0], "y": xy[:, 1]},
                       columns=cols)
    return out[out["row"] != out["other_row"]].reset_index(drop=True)  # parts of one row


def _split_at_junctions(arr: np.ndarray, labels: np.ndarray, join_tolerance: float = 0.0,
                        split_crossings: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Split lines where another line's end point lies on their interior
    (T-junctions).  With ``join_tolerance``, dangling ends (meeting no other
    end and lying on no other line) are joined first: to another dangling end
    within that distance (:func:`_join_near_ends`), or else to the nearest
    point of another line within it, which is split there.  With
    ``split_crossings``, two lines that cross are both split at the crossing."""
    tol = 10.0 ** -_JOIN_DECIMALS
    n = len(arr)
    ends = _ends(arr)
    owner = np.concatenate([np.arange(n), np.arange(n)])
    tree = shapely.STRtree(arr)
    pi, li = _on_other_lines(tree, ends)
    if join_tolerance > tol:
        dangling = _dangling(ends, pi)
        arr, moved = _join_near_ends(arr, ends, dangling, join_tolerance)
        if moved.any():  # those ends meet now; the lines moved by less than the tolerance
            dangling &= ~moved
            ends = _ends(arr)
            tree = shapely.STRtree(arr)
            pi, li = _on_other_lines(tree, ends)
        q = np.flatnonzero(dangling)
        qi, ql = tree.query(ends[q], predicate="dwithin", distance=join_tolerance)
        other = owner[q[qi]] != ql
        qi, ql = qi[other], ql[other]
        if len(qi):
            # the nearest other line of each dangling end (the lowest-numbered on ties)
            dist = shapely.distance(ends[q[qi]], arr[ql])
            best = np.lexsort((ql, dist, qi))
            best = best[np.r_[True, qi[best][1:] != qi[best][:-1]]]
            near_p, near_l = q[qi[best]], ql[best]
            target = shapely.get_coordinates(ends)
            for _ in range(2):  # once more onto the lines as moved (their own ends may have)
                on = shapely.line_interpolate_point(
                    arr[near_l], shapely.line_locate_point(arr[near_l], ends[near_p]))
                target[near_p] = shapely.get_coordinates(on)
                arr = _move_ends(arr, target)
                ends = _ends(arr)
            log.info("streets: %d dangling end(s) joined to a line within %g m", len(near_p),
                     join_tolerance)
            pi, li = np.concatenate([pi, near_p]), np.concatenate([li, near_l])
    at = ends[pi]  # line li[j] is cut at point at[j]
    if split_crossings:
        cl, cp = _crossings(arr)
        if len(cl):
            log.info("streets: %d crossing(s) of two lines made junctions", len(cl) // 2)
        li, at = np.concatenate([li, cl]), np.concatenate([at, cp])
    if len(li) == 0:
        return arr, labels
    pos = shapely.line_locate_point(arr[li], at)
    glen = shapely.length(arr[li])
    inner = (pos > tol) & (pos < glen - tol)
    li, pos, at = li[inner], pos[inner], at[inner]
    if len(li) == 0:
        return arr, labels
    order = np.lexsort((pos, li))
    li, pos, at = li[order], pos[order], at[order]
    # one cut per place: the same point, or two within 0.1 mm along the line
    new = np.r_[True, (li[1:] != li[:-1]) | (pos[1:] - pos[:-1] > tol)]
    li, pos, at = li[new], pos[new], shapely.get_coordinates(at[new])
    lines_cut, first = np.unique(li, return_index=True)
    count = np.diff(np.r_[first, len(li)])  # cuts per line
    n_pieces = count + 1
    owner_l = np.repeat(lines_cut, n_pieces)
    k = np.arange(len(owner_l)) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    cut_of = np.repeat(first, n_pieces) + k  # the cut a piece ends at (one past, for the last)
    is_first, is_last = k == 0, k == np.repeat(count, n_pieces)
    lo = np.where(is_first, 0.0, pos[np.minimum(cut_of - 1, len(pos) - 1)])
    hi = np.where(is_last, shapely.length(arr[owner_l]), pos[np.minimum(cut_of, len(pos) - 1)])
    pieces = _substrings(arr[owner_l], lo, hi)
    # the ends at a cut are the cut's point exactly, so that the pieces meet there
    target = shapely.get_coordinates(_ends(pieces))
    m = len(pieces)
    target[:m][~is_first] = at[cut_of[~is_first] - 1]
    target[m:][~is_last] = at[cut_of[~is_last]]
    pieces = _move_ends(pieces, target)
    untouched = np.setdiff1d(np.arange(len(arr)), lines_cut)
    log.info("streets: %d line(s) split at junctions", len(lines_cut))
    return (np.concatenate([arr[untouched], pieces]),
            np.concatenate([labels[untouched], labels[owner_l]]))


def _crossings(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where two lines cross, each away from its ends: per crossing, both lines
    (``line``) and the point (``point``), once for each."""
    a, b = shapely.STRtree(arr).query(arr)  # boxes that meet; each pair once, then tested
    keep = a < b
    a, b = a[keep], b[keep]
    cross = shapely.crosses(arr[a], arr[b])  # three times faster than the tree's predicate
    a, b = a[cross], b[cross]
    if not len(a):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    parts, idx = shapely.get_parts(shapely.intersection(arr[a], arr[b]), return_index=True)
    pt = shapely.get_type_id(parts) == shapely.GeometryType.POINT
    parts, idx = parts[pt], idx[pt]
    return np.concatenate([a[idx], b[idx]]), np.concatenate([parts, parts])


# --------------------------------------------------------------------------
# compiled arrays


@dataclass(frozen=True, eq=False)
class Network:
    """A walking graph as arrays, extracted once for the compiled code.

    ``nodes`` holds the graph's node ids (position = array index); per edge
    ``u``/``v`` (node positions), ``weight``, ``geometry`` (oriented u → v;
    None for straight lines between the nodes, drawn the first time
    :attr:`lines` is read) and ``geom_length``.  ``directed`` is the input
    graph's direction.
    """

    nodes: pd.Index
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    weight: np.ndarray
    geometry: np.ndarray | None
    geom_length: np.ndarray
    crs: CRS | None
    directed: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    def csr(self, *, undirected: bool | None = None) -> sparse.csr_matrix:
        """Adjacency matrix (minimum weight over parallel edges)."""
        und = (not self.directed) if undirected is None else undirected
        key = f"csr_{und}"
        if key not in self._cache:
            self._cache[key] = _csr(self.u, self.v, self.weight, self.n_nodes, und)
        return self._cache[key]

    @property
    def lines(self) -> np.ndarray:
        """The edge geometries, oriented u → v."""
        if self.geometry is not None:
            return self.geometry
        if "lines" not in self._cache:
            self._cache["lines"] = _straight_lines(self.x, self.y, self.u, self.v)
        return self._cache["lines"]

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree over the edge geometries."""
        if "tree" not in self._cache:
            self._cache["tree"] = shapely.STRtree(self.lines)
        return self._cache["tree"]

    @property
    def snap_index(self) -> _SnapIndex | None:
        """Segments of the edges and a KD-tree over them for exact snapping (built once).

        None when some edge geometry is not a LineString (snapping then uses
        :attr:`tree`).
        """
        if "snap" not in self._cache:
            self._cache["snap"] = _snap_index(self.lines)
        return self._cache["snap"]


def _straight_lines(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The straight line from node ``u[i]`` to node ``v[i]`` for every i."""
    if not len(u):
        return np.zeros(0, dtype=object)
    return shapely.linestrings(np.stack([np.column_stack([x[u], y[u]]),
                                         np.column_stack([x[v], y[v]])], axis=1))


def _csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int, undirected: bool) -> sparse.csr_matrix:
    if undirected:
        u, v, w = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w])
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    if len(u):
        # sort by (u, v), keep the least weight of parallel edges
        key = u.astype(np.int64) * np.int64(n) + v
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.ones(len(key), bool)
        first[1:] = key[1:] != key[:-1]
        starts = np.flatnonzero(first)
        w = np.minimum.reduceat(np.asarray(w, dtype=np.float64)[order], starts)
        u, v = u[order][starts], v[order][starts]
    # built directly in CSR form: rows sorted, no duplicates, explicit zeros kept
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1) if len(u) else None
    indptr = np.cumsum(indptr)
    idx_dtype = np.int32 if n < 2**31 - 1 and len(u) < 2**31 - 1 else np.int64
    return sparse.csr_matrix(
        (w.astype(np.float64), v.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n, n)
    )


def _starts_at_v(u: np.ndarray, v: np.ndarray, geom: np.ndarray, x: np.ndarray,
                 y: np.ndarray) -> np.ndarray:
    """Which edges' geometries start nearer their ``v`` node than their ``u`` node."""
    coords, cidx = shapely.get_coordinates(geom, return_index=True)
    first = np.full((len(geom), 2), np.nan)  # first coordinate of each geometry
    first[cidx[::-1]] = coords[::-1]
    du = np.hypot(first[:, 0] - x[u], first[:, 1] - y[u])
    dv = np.hypot(first[:, 0] - x[v], first[:, 1] - y[v])
    return dv < du


def _oriented(u: np.ndarray, v: np.ndarray, geom: np.ndarray, x: np.ndarray,
              y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``u``/``v`` swapped where the edge's geometry runs from ``v`` to ``u``."""
    flip = _starts_at_v(u, v, geom, x, y) if len(geom) else np.zeros(0, bool)
    return np.where(flip, v, u), np.where(flip, u, v)


def compile_network(G: nx.Graph | Network, *, weight: str = "length") -> Network:
    """Extract the arrays of ``G`` once; pass the result anywhere a graph is taken.

    Edges need a non-negative numeric ``weight`` attribute.  Edges without a
    ``geometry`` get the straight line between their nodes' ``x``/``y`` (when
    the nodes have coordinates).
    """
    if isinstance(G, Network):
        return G
    if not isinstance(G, nx.Graph):
        raise InputError("expected a networkx graph (e.g. from gcgeo.network.build_graph).")
    nodes = pd.Index(list(G.nodes), tupleize_cols=False)
    if not nodes.is_unique:  # pragma: no cover - networkx guarantees it
        raise InputError("graph node ids are not unique.")
    has_xy = all("x" in d and "y" in d for _, d in G.nodes(data=True)) and len(nodes) > 0
    x = np.array([d.get("x", np.nan) for _, d in G.nodes(data=True)], dtype=float)
    y = np.array([d.get("y", np.nan) for _, d in G.nodes(data=True)], dtype=float)
    us, vs, ws, gs = [], [], [], []
    missing = 0
    for a, b, d in G.edges(data=True):
        us.append(a)
        vs.append(b)
        w = d.get(weight)
        if w is None:
            missing += 1
            w = np.nan
        ws.append(w)
        gs.append(d.get("geometry"))
    if missing:
        raise InputError(
            f"{missing} edge(s) of the graph have no '{weight}' attribute; give every edge "
            f"a length in metres (build_graph does) or choose another weight."
        )
    u = nodes.get_indexer(us) if us else np.zeros(0, dtype=np.intp)
    v = nodes.get_indexer(vs) if vs else np.zeros(0, dtype=np.intp)
    w = np.asarray(ws, dtype=float)
    if len(w) and (not np.isfinite(w).all() or (w < 0).any()):
        raise InputError(f"edge '{weight}' values must be finite and non-negative.")
    geom = np.array(gs, dtype=object) if gs else np.zeros(0, dtype=object)
    none = np.array([g is None for g in gs], dtype=bool)
    if has_xy and len(geom) and none.all():  # straight lines, drawn only if needed
        geom, glen = None, np.hypot(x[v] - x[u], y[v] - y[u])
    elif has_xy and len(geom):
        geom[none] = _straight_lines(x, y, u[none], v[none])
        glen = shapely.length(geom)
    else:
        glen = np.full(len(w), np.nan)
    if geom is not None and len(geom) and has_xy:
        # networkx reports an undirected edge from either end: orient u -> v
        # along the geometry so that offsets are measured from u.
        if G.is_directed():
            flip = _starts_at_v(u, v, geom, x, y)
            if flip.any():
                geom = geom.copy()
                geom[flip] = shapely.reverse(geom[flip])
        else:
            u, v = _oriented(u, v, geom, x, y)
    crs = G.graph.get("crs")
    return Network(
        nodes=nodes, x=x, y=y, u=u.astype(np.int64), v=v.astype(np.int64), weight=w,
        geometry=geom, geom_length=np.asarray(glen, dtype=float),
        crs=CRS.from_user_input(crs) if crs is not None else None,
        directed=G.is_directed(),
    )


# --------------------------------------------------------------------------
# node distances


def node_distances(
    G: nx.Graph | Network,
    sources: Iterable[Hashable],
    *,
    cutoff: float,
    weight: str = "length",
) -> pd.Series:
    """Distance from the nearest of ``sources`` to every node (NaN beyond ``cutoff``).

    Indexed by the graph's nodes; equals
    :func:`networkx.multi_source_dijkstra_path_length` with the same cutoff.
    """
    net = compile_network(G, weight=weight)
    src = list(sources)
    idx = net.nodes.get_indexer(src) if src else np.zeros(0, dtype=np.intp)
    if (idx < 0).any():
        bad = [s for s, i in zip(src, idx) if i < 0][:5]
        raise InputError(f"source node(s) {bad} are not in the graph.")
    csr = net.csr()
    chains = None if net.directed else _chains(csr, idx)
    d = _multi_source(csr, np.unique(idx), cutoff, chains=chains)
    return pd.Series(d[: net.n_nodes], index=net.nodes, dtype=float)


def _multi_source(
    csr: sparse.csr_matrix, sources: np.ndarray, cutoff: float, *, chains: _Chains | None = None
) -> np.ndarray:
    """Min distance from any source, NaN beyond cutoff (compiled Dijkstra).

    With ``chains`` (:func:`_chains` of ``csr``, every source kept) the search
    runs on the contracted graph and the chain nodes are filled in after.
    """
    n = csr.shape[0]
    if len(sources) == 0 or n == 0:
        return np.full(n, np.nan)
    limit = float(cutoff) if np.isfinite(cutoff) else np.inf
    if chains is None:
        d = dijkstra(csr, directed=True, indices=sources, min_only=True, limit=limit)
    else:
        d = chains.distances(sources, limit)
    d[~np.isfinite(d) | (d > cutoff)] = np.nan
    return d


#: Contract only when at least this share of the nodes lies inside chains or at dead ends.
_CHAIN_MIN_SHARE = 0.1
#: Rounds of contraction at most.
_CHAIN_MAX_DEPTH = 8


@dataclass(frozen=True, eq=False)
class _Chains:
    """An undirected graph with its chains of degree-2 nodes contracted and
    its dead-end nodes set aside, for the searches to settle fewer nodes.

    ``csr`` joins the ``core`` nodes only (numbered by their position in
    ``core``): every chain is one edge between its two end nodes, as long
    as the chain.  Dead end ``leaf[i]`` (one edge, once the chains are
    contracted) lies ``leaf_w[i]`` from ``leaf_to[i]``.  Interior node
    ``interior[i]`` lies ``acc[i, k]`` from end node ``end[i, k]`` (k = 0,
    1; the number of nodes, one past the last, when the chain is a ring
    with no end).  From sources that are all core nodes, any path to a dead
    end passes its one neighbour and any path into a chain enters at one of
    its ends, so those distances follow from the core's.
    """

    csr: sparse.csr_matrix
    core: np.ndarray
    leaf: np.ndarray
    leaf_to: np.ndarray
    leaf_w: np.ndarray
    interior: np.ndarray
    end: np.ndarray
    acc: np.ndarray
    inner: _Chains | None = None  # the core contracted again, when that pays

    def distances(self, sources: np.ndarray, limit: float) -> np.ndarray:
        """Distance of every node from the nearest source (inf when not reached)."""
        n = len(self.core) + len(self.leaf) + len(self.interior)
        pos = np.empty(n, dtype=np.int64)
        pos[self.core] = np.arange(len(self.core))
        d = np.full(n + 1, np.inf)  # one extra, last entry at infinity
        if self.inner is not None:
            d[self.core] = self.inner.distances(pos[sources], limit)
        else:
            d[self.core] = dijkstra(self.csr, directed=True, indices=pos[sources],
                                    min_only=True, limit=limit)
        d[self.leaf] = d[self.leaf_to] + self.leaf_w
        via = d[self.end]
        via += self.acc
        d[self.interior] = np.minimum(via[:, 0], via[:, 1])
        return d[:n]


def _chains(csr: sparse.csr_matrix, keep: np.ndarray, *, depth: int = 0) -> _Chains | None:
    """Contract the degree-2 nodes of a symmetric ``csr`` (no self-loops, no
    parallel entries, as :func:`_csr` builds it) and set its dead ends aside,
    keeping the nodes in ``keep`` (the sources) in the core.

    None when too few nodes lie inside chains for the contraction to pay.
    Chains are walked by pointer jumping over the half-edges (each step
    doubles the reach), so the cost is O(E log L) array work for chains of
    at most L nodes.
    """
    n = csr.shape[0]
    indptr = csr.indptr.astype(np.int64)
    col = csr.indices.astype(np.int64)
    deg = np.diff(indptr)
    kept = np.zeros(n, bool)
    kept[np.asarray(keep, dtype=np.int64)] = True
    interior = (deg == 2) & ~kept
    if n == 0 or (interior | ((deg == 1) & ~kept)).sum() < _CHAIN_MIN_SHARE * n:
        return None
    row = np.repeat(np.arange(n, dtype=np.int64), deg)
    # half-edge h runs row[h] -> col[h]; through an interior node it goes on
    # along that node's other half-edge
    into = interior[col]
    nxt = np.full(len(col), -1, dtype=np.int64)
    first = indptr[col[into]]
    nxt[into] = first + (col[first] == row[into])
    acc = csr.data.astype(np.float64).copy()
    end = np.where(into, -1, col)
    active = np.flatnonzero(into)
    for _ in range(max(1, len(col)).bit_length()):  # each round doubles the reach
        if not len(active):
            break
        j = nxt[active]
        acc[active] += acc[j]
        end[active] = end[j]
        nxt[active] = nxt[j]
        active = active[nxt[active] >= 0]
    end[active] = n  # rings of interior nodes only, with no way in: a node at infinity
    # one edge per chain end: the half-edges leaving the other nodes (parallel
    # chains stay parallel entries, which Dijkstra takes as they are)
    out = np.flatnonzero(~interior[row] & (end < n))
    cdeg = np.bincount(row[out], minlength=n)
    is_leaf = (cdeg == 1) & ~kept & ~interior
    lh = out[is_leaf[row[out]]]  # the one half-edge of each dead end, in node order
    out = out[~is_leaf[row[out]] & ~is_leaf[end[out]]]
    core = np.flatnonzero(~interior & ~is_leaf)
    pos = np.full(n, -1, dtype=np.int64)
    pos[core] = np.arange(len(core))
    indptr_c = np.zeros(len(core) + 1, dtype=csr.indptr.dtype)
    np.cumsum(np.bincount(pos[row[out]], minlength=len(core)), out=indptr_c[1:])
    cs = sparse.csr_matrix((acc[out], pos[end[out]].astype(csr.indices.dtype), indptr_c),
                           shape=(len(core), len(core)))
    nodes = np.flatnonzero(interior)
    h = indptr[nodes][:, None] + np.arange(2)
    # setting dead ends aside leaves new chains and dead ends: contract again
    inner = (_chains(cs, np.flatnonzero(kept[core]), depth=depth + 1)
             if depth < _CHAIN_MAX_DEPTH else None)
    return _Chains(csr=cs, core=core, leaf=row[lh], leaf_to=end[lh], leaf_w=acc[lh],
                   interior=nodes, end=end[h], acc=acc[h], inner=inner)


# --------------------------------------------------------------------------
# snapping index


#: Street segments are cut into pieces no longer than twice this (CRS units,
#: metres) for the snapping index: a point's distance to a segment is at least
#: its distance to the nearest piece midpoint minus this.
_PIECE_HALF = 5.0
#: Nearest piece midpoints looked at per point before the exact ball search.
_SNAP_K = 8
#: Slack (CRS units) for rounding in the piece bound.
_SNAP_EPS = 1e-6


@dataclass(frozen=True, eq=False)
class _SnapIndex:
    """The straight segments of every edge and a KD-tree over short pieces of them.

    Segment ``s`` runs from (``x0``, ``y0``) by (``dx``, ``dy``) and belongs to
    edge ``edge[s]``, starting ``start[s]`` along the edge's geometry.  Each
    segment is cut into equal pieces of half-length at most ``half``; the
    KD-tree holds the piece midpoints and ``piece_seg`` their segment.  Any
    point within distance ``d`` of a segment is within ``d + half`` of one of
    its piece midpoints, which makes the nearest-segment search exact.
    """

    x0: np.ndarray
    y0: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    inv_len2: np.ndarray  # 1 / squared length, 0 for a zero-length segment
    seg_len: np.ndarray
    start: np.ndarray
    edge: np.ndarray
    piece_seg: np.ndarray
    kd: Any
    half: float


def _snap_index(geometry: np.ndarray) -> _SnapIndex | None:
    """Segments and piece KD-tree of the edge lines; None when a geometry is not a LineString."""
    from scipy.spatial import cKDTree

    present = ~pd.isna(geometry)
    if present.any():
        types = shapely.get_type_id(geometry[present])
        if (types != shapely.GeometryType.LINESTRING).any():
            return None
    coords, idx = shapely.get_coordinates(geometry, return_index=True)
    same = idx[1:] == idx[:-1]  # consecutive coordinates of one line form a segment
    a = np.flatnonzero(same)
    x0, y0 = coords[a, 0], coords[a, 1]
    dx, dy = coords[a + 1, 0] - x0, coords[a + 1, 1] - y0
    seg_len = np.hypot(dx, dy)
    edge = idx[a].astype(np.int64)
    cum = np.cumsum(seg_len)
    first = np.ones(len(a), bool)
    first[1:] = edge[1:] != edge[:-1]
    base = np.maximum.accumulate(np.where(first, np.arange(len(a)), 0))
    start = cum - seg_len - (cum[base] - seg_len[base])
    half = _PIECE_HALF
    n_pieces = np.maximum(1, np.ceil(seg_len / (2 * half))).astype(np.int64)
    piece_seg = np.repeat(np.arange(len(a)), n_pieces)
    k = np.arange(len(piece_seg)) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    frac = (k + 0.5) / n_pieces[piece_seg]
    mid = np.column_stack([x0[piece_seg] + frac * dx[piece_seg], y0[piece_seg] + frac * dy[piece_seg]])
    # the sliding-midpoint build is twice as fast here and queries no slower
    kd = cKDTree(mid, balanced_tree=False) if len(mid) else None
    len2 = dx * dx + dy * dy
    inv_len2 = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0)
    return _SnapIndex(x0=x0, y0=y0, dx=dx, dy=dy, inv_len2=inv_len2, seg_len=seg_len,
                      start=start, edge=edge, piece_seg=piece_seg, kd=kd, half=half)


#: Snap queries of more points than this run in grid order.
_SNAP_SORT_MIN = 5000
#: Grid cell (CRS units, metres) of that order.
_SNAP_SORT_CELL = 100.0


def _grid_order(xy: np.ndarray) -> np.ndarray:
    """A permutation visiting the points cell by cell of a coarse grid."""
    lo = xy.min(axis=0)
    cell = np.floor((xy - lo) / _SNAP_SORT_CELL).astype(np.int64)
    return np.argsort(cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1], kind="stable")


def _seg_project(ix: _SnapIndex, seg: np.ndarray, px: np.ndarray, py: np.ndarray):
    """Projection parameter (0..1) and *squared* distance of points onto segments."""
    dx, dy = ix.dx[seg], ix.dy[seg]
    rx, ry = px - ix.x0[seg], py - ix.y0[seg]
    t = rx * dx
    t += ry * dy
    t *= ix.inv_len2[seg]
    np.clip(t, 0.0, 1.0, out=t)
    dx *= t
    dy *= t
    rx -= dx
    ry -= dy
    rx *= rx
    ry *= ry
    rx += ry
    return t, rx


def _nearest_segment(ix: _SnapIndex, px: np.ndarray, py: np.ndarray, tol: float):
    """Exact nearest segment of every point (the lowest-numbered one among ties).

    Returns the segment (-1 beyond ``tol``), the projection parameter and the
    distance.  A first pass looks at the ``_SNAP_K`` nearest piece midpoints;
    a point is settled when the farthest of them is more than ``half`` beyond
    its best distance (then no other segment can be as near).  The rest get
    every piece within their best distance plus ``half``.
    """
    n = len(px)
    seg = np.full(n, -1, dtype=np.int64)
    t = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    if n == 0 or ix.kd is None:
        return seg, t, dist
    h = ix.half
    k = min(_SNAP_K, ix.kd.n)
    bound = tol + h if np.isfinite(tol) else np.inf
    # points in the order of a coarse grid: neighbours in a row share tree
    # paths, which makes the query about a third faster than in random order
    xy = np.column_stack([px, py])
    order = _grid_order(xy) if n > _SNAP_SORT_MIN else None
    dk, pk = ix.kd.query(xy if order is None else xy[order], k=k, distance_upper_bound=bound,
                         workers=-1)
    dk, pk = dk.reshape(n, k), pk.reshape(n, k)
    if order is not None:
        back = np.empty_like(order)
        back[order] = np.arange(n)
        dk, pk = dk[back], pk[back]
    found = pk < ix.kd.n
    cand = np.where(found, ix.piece_seg[np.where(found, pk, 0)], 0)
    tt, dd = _seg_project(ix, cand, px[:, None], py[:, None])  # squared distances
    dd[~found] = np.inf
    best2 = dd.min(axis=1)
    # among equally near segments the lowest (segments are numbered in edge order)
    rank = np.where(dd == best2[:, None], cand, np.iinfo(np.int64).max)
    j = rank.argmin(axis=1)
    rows = np.arange(n)
    best = np.sqrt(best2)
    hit = np.isfinite(best)
    seg[hit] = cand[rows, j][hit]
    t[hit] = tt[rows, j][hit]
    dist[hit] = best[hit]
    limit = np.minimum(best, tol)
    # settled: fewer than k pieces within the bound, or the k-th is beyond limit + half
    settled = ~found[:, -1] | (dk[:, -1] - h > limit + _SNAP_EPS)
    todo = np.flatnonzero(~settled)
    if len(todo):
        r = limit[todo] + h + _SNAP_EPS
        lists = ix.kd.query_ball_point(np.column_stack([px[todo], py[todo]]), r, workers=-1)
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        pieces = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64,
                             count=int(counts.sum()))
        _pick(ix, np.repeat(todo, counts), ix.piece_seg[pieces], px, py, seg, t, dist)
    off = ~(dist <= tol)
    seg[off], t[off], dist[off] = -1, np.nan, np.nan
    return seg, t, dist


def _pick(ix: _SnapIndex, qi: np.ndarray, cand: np.ndarray, px: np.ndarray, py: np.ndarray,
          seg: np.ndarray, t: np.ndarray, dist: np.ndarray) -> None:
    """Point ``qi[j]`` may snap to segment ``cand[j]``: keep the nearest (lowest on ties).

    ``qi`` comes in runs of equal points (as ``np.repeat`` makes it).
    """
    if len(qi) == 0:
        return
    tt, dd = _seg_project(ix, cand, px[qi], py[qi])  # squared distances
    start = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
    run = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(qi)]))
    nearest = dd == np.minimum.reduceat(dd, start)[run]
    lowest = np.where(nearest, cand, np.iinfo(np.int64).max)
    w = np.flatnonzero(nearest & (cand == np.minimum.reduceat(lowest, start)[run]))
    w = w[np.r_[True, qi[w[1:]] != qi[w[:-1]]]]  # one per point
    q = qi[w]
    seg[q], t[q], dist[q] = cand[w], tt[w], np.sqrt(dd[w])


# --------------------------------------------------------------------------
# snapping


def _check_points(net: Network, points: gpd.GeoSeries, what: str) -> gpd.GeoSeries:
    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if not isinstance(points, gpd.GeoSeries):
        raise InputError(f"{what} must be a GeoSeries of points.")
    if points.crs is not None:
        pcrs = CRS.from_user_input(points.crs)
        if not pcrs.is_projected:
            raise CRSError(f"{what} are in a geographic CRS; reproject them to the graph's CRS.")
        if net.crs is not None and pcrs != net.crs:
            raise CRSError(
                f"{what} are in {pcrs.name!r} but the walking graph is in {net.crs.name!r}; "
                "reproject them (points.to_crs(G.graph['crs']))."
            )
    elif net.crs is not None and not net.crs.is_projected:
        raise CRSError("the walking graph is in a geographic CRS; use graph_from_osmnx to project it.")
    if net.crs is not None and not net.crs.is_projected:
        raise CRSError("the walking graph is in a geographic CRS; use graph_from_osmnx to project it.")
    arr = points.to_numpy()
    types = shapely.get_type_id(arr)  # -1 where missing
    notpt = (types >= 0) & (types != shapely.GeometryType.POINT) & ~shapely.is_empty(arr)
    if notpt.any():
        raise InputError(
            f"{what} must be points; row(s) {list(points.index[notpt][:5])} are "
            "not (use representative points of polygons)."
        )
    return points


def snap_points(
    G: nx.Graph | Network,
    points: gpd.GeoSeries,
    *,
    tolerance: float | None = None,
    weight: str = "length",
) -> pd.DataFrame:
    """Snap points to the nearest point on the nearest edge.

    Returns a frame indexed like ``points`` with ``edge`` (position of the
    edge in the compiled network, -1 when off-network), ``u``/``v`` (the
    edge's node ids), ``offset`` (distance along the edge from ``u`` in the
    edge's ``weight`` units: the geometric position scaled to the edge's
    weight), ``connector_m`` (straight distance from the point to the street),
    ``snap_x``/``snap_y`` and ``off_network`` (true when no edge lies within
    ``tolerance`` metres, or the point is empty).
    """
    net = compile_network(G, weight=weight)
    out = _snap(net, _check_points(net, points, "points"), tolerance)
    on = ~out["off_network"].to_numpy()
    ids = net.nodes.to_numpy()
    u_id = np.full(len(out), None, dtype=object)
    v_id = np.full(len(out), None, dtype=object)
    if on.any():
        e = out["edge"].to_numpy()[on]
        u_id[on] = ids[net.u[e]]
        v_id[on] = ids[net.v[e]]
    out.insert(1, "u", u_id)
    out.insert(2, "v", v_id)
    return out


def _snap(net: Network, pts: gpd.GeoSeries, tolerance: float | None) -> pd.DataFrame:
    """:func:`snap_points` without the node ids ``u``/``v`` (checked points)."""
    n = len(pts)
    arr = pts.to_numpy()
    valid = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if n else np.zeros(0, bool)
    edge = np.full(n, -1, dtype=np.int64)
    conn = np.full(n, np.nan)
    offset = np.full(n, np.nan)
    sx = np.full(n, np.nan)
    sy = np.full(n, np.nan)
    tol = np.inf if tolerance is None else float(tolerance)
    ix = net.snap_index if net.n_edges and valid.any() else None
    if ix is not None and not np.isnan(net.geom_length).all():
        vi = np.flatnonzero(valid)
        xy = shapely.get_coordinates(arr[vi])
        finite = np.isfinite(xy).all(axis=1)  # POINT (NaN NaN) is not empty but nowhere
        vi, xy = vi[finite], xy[finite]
        seg, t, dist = _nearest_segment(ix, xy[:, 0], xy[:, 1], tol)
        hit = seg >= 0
        s, th, q = seg[hit], t[hit], vi[hit]
        e = ix.edge[s]
        edge[q] = e
        conn[q] = dist[hit]
        sx[q] = ix.x0[s] + th * ix.dx[s]
        sy[q] = ix.y0[s] + th * ix.dy[s]
        along = ix.start[s] + th * ix.seg_len[s]
        glen = net.geom_length[e]
        frac = np.divide(along, glen, out=np.zeros_like(along), where=glen > 0)
        offset[q] = np.clip(frac, 0.0, 1.0) * net.weight[e]
    elif net.n_edges and valid.any() and not np.isnan(net.geom_length).all():
        # edges that are not plain LineStrings: GEOS nearest edge and projection
        vi = np.flatnonzero(valid)
        kw = {} if tolerance is None else {"max_distance": float(tolerance)}
        (qi, ei), dist = net.tree.query_nearest(
            arr[vi], return_distance=True, all_matches=False, **kw
        )
        edge[vi[qi]] = ei
        conn[vi[qi]] = dist
        on = edge >= 0
        if on.any():
            e = edge[on]
            g = net.lines[e]
            along = shapely.line_locate_point(g, arr[on])
            pxy = shapely.get_coordinates(shapely.line_interpolate_point(g, along))
            sx[on], sy[on] = pxy[:, 0], pxy[:, 1]
            glen = net.geom_length[e]
            frac = np.divide(along, glen, out=np.zeros_like(along), where=glen > 0)
            offset[on] = np.clip(frac, 0.0, 1.0) * net.weight[e]
    on = edge >= 0
    out = pd.DataFrame(
        {
            "edge": edge,
            "offset": offset,
            "connector_m": conn,
            "snap_x": sx,
            "snap_y": sy,
            "off_network": ~on,
        },
        index=pts.index,
    )
    n_off = int((~on).sum())
    if n_off:
        log.info("%d of %d point(s) are off the walking network (tolerance %s m)", n_off, n, tolerance)
    return out


# --------------------------------------------------------------------------
# the network augmented with snapped targets


@dataclass(frozen=True, eq=False)
class _Augmented:
    """``net`` with targets inserted: split edges, virtual nodes, leaves.

    ``csr`` spans the base nodes, then one node per distinct interior
    position on a split edge, then one leaf per target with a connector.
    ``target_node[i]`` is the node a search for target ``i`` starts from
    (-1 when off-network).  ``chain_*`` describe, for every split edge, the
    sorted positions along it and the node at each (edge ends included).
    """

    net: Network
    csr: sparse.csr_matrix
    n_nodes: int
    target_node: np.ndarray
    split: np.ndarray  # bool per base edge
    chain_start: np.ndarray  # per base edge, index into chain arrays (or -1)
    chain_count: np.ndarray
    chain_pos: np.ndarray
    chain_node: np.ndarray
    piece_edge: np.ndarray  # per augmented street piece: base edge
    piece_from: np.ndarray  # position along base edge
    piece_to: np.ndarray
    piece_u: np.ndarray  # augmented node at piece_from
    piece_v: np.ndarray


def _augment(net: Network, snaps: pd.DataFrame) -> _Augmented:
    n = net.n_nodes
    on = snaps["edge"].to_numpy() >= 0
    t_edge = snaps["edge"].to_numpy()
    t_off = snaps["offset"].to_numpy()
    t_conn = snaps["connector_m"].to_numpy()
    target_node = np.full(len(snaps), -1, dtype=np.int64)
    e_on = t_edge[on]
    p_on = t_off[on]
    w_on = net.weight[e_on] if len(e_on) else np.zeros(0)
    at_u = p_on <= _POS_EPS
    at_v = ~at_u & (p_on >= w_on - _POS_EPS)
    inner = ~at_u & ~at_v
    snap_node = np.empty(len(e_on), dtype=np.int64)
    snap_node[at_u] = net.u[e_on[at_u]]
    snap_node[at_v] = net.v[e_on[at_v]]
    # distinct interior positions per edge become virtual nodes
    ie, ip = e_on[inner], p_on[inner]
    order = np.lexsort((ip, ie))
    ie_s, ip_s = ie[order], ip[order]
    new = np.ones(len(ie_s), bool)
    new[1:] = (ie_s[1:] != ie_s[:-1]) | (ip_s[1:] - ip_s[:-1] > _POS_EPS)
    grp = np.cumsum(new) - 1
    vnode = n + grp
    inner_node = np.empty(len(ie_s), dtype=np.int64)
    inner_node[order] = vnode
    snap_node[inner] = inner_node
    n_virtual = int(new.sum())
    uniq_e = ie_s[new]
    uniq_p = ip_s[new]
    # chains: for every split edge, u, interior nodes..., v
    split = np.zeros(net.n_edges, bool)
    split[uniq_e] = True
    se = np.flatnonzero(split)
    counts_inner = np.bincount(uniq_e, minlength=net.n_edges)[se] if len(se) else np.zeros(0, int)
    chain_count_se = counts_inner + 2
    chain_start = np.full(net.n_edges, -1, dtype=np.int64)
    chain_count = np.zeros(net.n_edges, dtype=np.int64)
    starts = (np.cumsum(chain_count_se) - chain_count_se).astype(np.int64)
    chain_start[se] = starts
    chain_count[se] = chain_count_se
    total = int(chain_count_se.sum())
    chain_pos = np.empty(total)
    chain_node = np.empty(total, dtype=np.int64)
    chain_pos[starts] = 0.0
    chain_node[starts] = net.u[se]
    ends = starts + chain_count_se - 1
    chain_pos[ends] = net.weight[se]
    chain_node[ends] = net.v[se]
    # interior slots: for each unique (edge, pos), its rank within its edge
    if len(uniq_e):
        first_of_edge = np.ones(len(uniq_e), bool)
        first_of_edge[1:] = uniq_e[1:] != uniq_e[:-1]
        run_start = np.maximum.accumulate(np.where(first_of_edge, np.arange(len(uniq_e)), 0))
        rank = np.arange(len(uniq_e)) - run_start
        slot = chain_start[uniq_e] + 1 + rank
        chain_pos[slot] = uniq_p
        chain_node[slot] = n + np.arange(n_virtual)
    # street pieces: unsplit base edges + consecutive chain pairs
    keep = np.flatnonzero(~split)
    if total:
        is_last = np.zeros(total, bool)
        is_last[ends] = True
        a = np.flatnonzero(~is_last)
        owner = np.repeat(se, chain_count_se)
        pe = np.concatenate([keep, owner[a]])
        pf = np.concatenate([np.zeros(len(keep)), chain_pos[a]])
        pt = np.concatenate([net.weight[keep], chain_pos[a + 1]])
        pu = np.concatenate([net.u[keep], chain_node[a]])
        pv = np.concatenate([net.v[keep], chain_node[a + 1]])
    else:
        pe, pf, pt, pu, pv = keep, np.zeros(len(keep)), net.weight[keep], net.u[keep], net.v[keep]
    # leaves for targets with a connector
    conn_on = t_conn[on]
    has_conn = conn_on > 0
    n_leaf = int(has_conn.sum())
    leaf = n + n_virtual + np.arange(n_leaf)
    start_node = snap_node.copy()
    start_node[has_conn] = leaf
    target_node[np.flatnonzero(on)] = start_node
    m = n + n_virtual + n_leaf
    eu = np.concatenate([pu, snap_node[has_conn]])
    ev = np.concatenate([pv, leaf])
    ew = np.concatenate([pt - pf, conn_on[has_conn]])
    csr = _csr(eu, ev, ew, m, undirected=True)
    return _Augmented(
        net=net, csr=csr, n_nodes=m, target_node=target_node, split=split,
        chain_start=chain_start, chain_count=chain_count, chain_pos=chain_pos,
        chain_node=chain_node, piece_edge=pe, piece_from=pf, piece_to=pt,
        piece_u=pu, piece_v=pv,
    )


def _locate(aug: _Augmented, snaps: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Where snapped points lie in the augmented graph: the nodes either side and the gaps.

    Returns ``on`` (mask of points on the network) and, for those, the left
    and right node, the distance back to the left node and on to the right
    one, and the connector.
    """
    net = aug.net
    e = snaps["edge"].to_numpy()
    on = e >= 0
    e = e[on]
    p = snaps["offset"].to_numpy()[on]
    c = snaps["connector_m"].to_numpy()[on]
    left = net.u[e].copy()
    right = net.v[e].copy()
    pl = np.zeros(len(e))
    pr = net.weight[e].copy()
    sp_ = aug.split[e]
    if sp_.any():
        es, ps = e[sp_], p[sp_]
        lo = aug.chain_start[es].copy()  # chain_pos[lo] <= p
        hi = lo + aug.chain_count[es] - 1  # chain_pos[hi] >= p
        while True:
            gap = hi - lo > 1
            if not gap.any():
                break
            mid = (lo + hi) // 2
            go_right = gap & (aug.chain_pos[mid] <= ps)
            go_left = gap & ~go_right
            lo = np.where(go_right, mid, lo)
            hi = np.where(go_left, mid, hi)
        left[sp_] = aug.chain_node[lo]
        right[sp_] = aug.chain_node[hi]
        pl[sp_] = aug.chain_pos[lo]
        pr[sp_] = aug.chain_pos[hi]
    return on, left, right, p - pl, pr - p, c


def _point_dist(
    aug: _Augmented,
    snaps: pd.DataFrame,
    node_dist: np.ndarray,
    *,
    where: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """Distance to snapped points from node distances of the augmented graph (exact).

    ``where`` is :func:`_locate` of ``snaps``, when already computed.
    """
    on, left, right, to_l, to_r, c = _locate(aug, snaps) if where is None else where
    out = np.full(len(on), np.nan)
    if not on.any():
        return out
    dl = node_dist[left]
    dr = node_dist[right]
    with np.errstate(invalid="ignore"):
        via_l = np.where(np.isnan(dl), np.inf, dl + to_l)
        via_r = np.where(np.isnan(dr), np.inf, dr + to_r)
    d = np.minimum(via_l, via_r) + c
    d[~np.isfinite(d)] = np.nan
    out[on] = d
    return out


def point_distances(
    G: nx.Graph | Network,
    origins: gpd.GeoSeries,
    targets: Mapping[str, gpd.GeoSeries],
    *,
    cutoff: float,
    snap_tolerance: float | None = None,
    weight: str = "length",
) -> pd.DataFrame:
    """Network distance from every origin to the nearest target of each key.

    Origins and targets are snapped to the nearest point on the nearest edge
    (:func:`snap_points`); the connectors count.  Returns a frame indexed like
    ``origins`` with one column per key of ``targets`` (metres), NaN beyond
    ``cutoff``, for origins off the network, and for keys with no target on
    the network.  The graph is treated as undirected (walking).
    """
    net = compile_network(G, weight=weight)
    osnap = _snap(net, _check_points(net, origins, "origins"), snap_tolerance)
    tsnaps = {k: _snap(net, _check_points(net, t, f"targets '{k}'"), snap_tolerance)
              for k, t in targets.items()}
    return _distances_snapped(net, osnap, tsnaps, cutoff=cutoff)


def _distances_snapped(
    net: Network,
    osnap: pd.DataFrame,
    tsnaps: Mapping[str, pd.DataFrame],
    *,
    cutoff: float,
) -> pd.DataFrame:
    keys = list(tsnaps)
    allt = pd.concat([s.reset_index(drop=True) for s in tsnaps.values()], ignore_index=True) \
        if keys else osnap.iloc[:0]
    owner = np.repeat(np.arange(len(keys)), [len(s) for s in tsnaps.values()]) if keys else np.zeros(0, int)
    aug = _augment(net, allt)
    where = _locate(aug, osnap)
    chains = _chains(aug.csr, aug.target_node[aug.target_node >= 0])
    out = {}
    for k, key in enumerate(keys):
        src = aug.target_node[(owner == k) & (aug.target_node >= 0)]
        if len(src) == 0:
            log.warning("no '%s' target on the walking network; its distances are all missing", key)
            out[key] = np.full(len(osnap), np.nan)
            continue
        nd = _multi_source(aug.csr, np.unique(src), cutoff, chains=chains)
        d = _point_dist(aug, osnap, nd, where=where)
        d[d > cutoff] = np.nan
        out[key] = d
    return pd.DataFrame(out, index=osnap.index, columns=keys, dtype=float)
