"""Building the walking network: a streets layer, node and edge tables, an
OSMnx graph or a GraphML file become a networkx graph (:func:`build_graph`,
:func:`graph_from_osmnx`) or the compiled arrays of a :class:`Network`
(:func:`network_from_streets`, :func:`network_from_frames`,
:func:`compile_network`) that the searches run on.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse

from .. import rules as _rules
from .._errors import CRSError, InputError
from ..values import to_bool
from .clean import JOIN_DECIMALS, split_at_junctions
from .segments import SnapIndex, build_snap_index, snap_index_of

if TYPE_CHECKING:  # networkx is imported where a graph is made or read: the arrays need none
    import networkx as nx

log = logging.getLogger(__name__)

__all__ = [
    "Network",
    "adjacency",
    "build_graph",
    "compile_network",
    "graph_from_osmnx",
    "join_tolerance",
    "joined_by_ids",
    "network_from_frames",
    "network_from_streets",
    "split_crossings",
]


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
    import networkx as nx

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
                   geom_length=lengths[order].astype(float), crs=crs, directed=False,
                   street=np.asarray(labels, dtype=object)[order])


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


def joined_by_ids(streets: gpd.GeoDataFrame) -> bool:
    """Whether :func:`network_from_streets` joins ``streets`` by their node ids ``u``/``v``
    (an OSM import: every walkable line has both, and none is multi-part) rather
    than by where their end points meet.

    >>> from shapely.geometry import LineString
    >>> s = gpd.GeoDataFrame({"u": [1], "v": [2]}, geometry=[LineString([(0, 0), (1, 0)])])
    >>> joined_by_ids(s), joined_by_ids(s.drop(columns="v"))
    (True, False)
    """
    if not {"u", "v"} <= set(streets.columns):
        return False
    df = _walkable(streets)
    geoms = np.asarray(df.geometry.to_numpy(), dtype=object)
    kind = shapely.get_type_id(geoms)  # -1 where missing
    line = (kind >= 0) & ~shapely.is_empty(geoms)
    ends = df[["u", "v"]].to_numpy()[line]
    return bool(not pd.isna(ends).any() and not (kind[line] == shapely.GeometryType.MULTILINESTRING).any())


def _walkable(df: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows of a streets layer not marked ``walkable`` false."""
    if "walkable" not in df.columns:
        return df
    flag, unreadable = to_bool(df["walkable"])  # reads 是/否, yes/no, 1/0
    if unreadable.any():
        raise InputError(
            f"layer 'streets' column 'walkable' holds values that are not yes/no "
            f"({', '.join(sorted(set(df['walkable'][unreadable].astype(str)))[:5])}); "
            "use true/false, yes/no or 是/否."
        )
    keep = flag.fillna(True).to_numpy(bool)
    if not keep.all():
        log.info("streets: %d row(s) with walkable = false left out", int((~keep).sum()))
    return df[keep]


def _street_arrays(streets: gpd.GeoDataFrame, crs: Any, join_tolerance: float = 0.0,
                   split_crossings: bool = False):
    """The walking network of a streets layer as arrays (see :func:`build_graph`):
    the CRS, the nodes (``id``, ``x``, ``y``), per line its end node ids,
    length, geometry and streets row label."""
    if not isinstance(streets, gpd.GeoDataFrame):
        raise InputError("streets must be a GeoDataFrame of LineStrings (layer 'streets').")
    crs = _projected_crs(streets.crs if streets.crs is not None else crs, "layer 'streets'")
    df = _walkable(streets)
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
        arr, labels = split_at_junctions(arr, labels, float(join_tolerance),
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
        pts = np.round(np.concatenate([start, end]), JOIN_DECIMALS)
        # np.unique(pts, axis=0) by a sort on both columns: the same nodes, in a tenth of the time
        order = np.lexsort((pts[:, 1], pts[:, 0]))
        ordered = pts[order]
        new = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)] if len(pts) else np.zeros(0, bool)
        keys = ordered[new]
        inverse = np.empty(len(pts), dtype=np.intp)
        inverse[order] = np.cumsum(new) - 1
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
    import networkx as nx

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
            from ..crs import choose_metric_crs

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


def graph_network(graph: Any) -> Network:
    """A walking network given in place of a streets layer: a :class:`Network` as it
    is (e.g. the workspace's, kept by :mod:`gcgeo.network_cache`), a GraphML file
    (e.g. saved by OSMnx) or a networkx graph (an OSMnx graph, or one of
    :func:`build_graph` in a projected CRS).  Other values are an error."""
    if isinstance(graph, Network):
        return graph
    if isinstance(graph, (str, Path)):
        return compile_network(graph_from_osmnx(graph))
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise InputError("graph must be a networkx graph or the path of a GraphML file.")
    crs = graph.graph.get("crs")
    if graph.is_directed() or crs is None or not CRS.from_user_input(crs).is_projected:
        return compile_network(graph_from_osmnx(graph))
    return compile_network(graph)


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



# --------------------------------------------------------------------------
# compiled arrays


@dataclass(frozen=True, eq=False)
class Network:
    """A walking graph as arrays, extracted once for the compiled code.

    ``nodes`` holds the graph's node ids (position = array index); per edge
    ``u``/``v`` (node positions), ``weight``, ``geometry`` (oriented u → v;
    None for straight lines between the nodes, drawn the first time
    :attr:`lines` is read) and ``geom_length``.  ``directed`` is the input
    graph's direction.  ``street`` holds each edge's streets row label when
    the network was built from a streets layer (:func:`network_from_streets`:
    the row a piece of line came from), else None.  ``ragged`` may give the
    edge lines instead of ``geometry`` as their coordinates and where each
    line starts in them (one past the last at the end), made into LineStrings
    the first time :attr:`lines` is read (a network read back from its file
    snaps without them).
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
    street: np.ndarray | None = None
    ragged: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """The number of nodes."""
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """The number of edges."""
        return len(self.u)

    def csr(self, *, undirected: bool | None = None) -> sparse.csr_matrix:
        """Adjacency matrix (minimum weight over parallel edges)."""
        und = (not self.directed) if undirected is None else undirected
        key = f"csr_{und}"
        if key not in self._cache:
            self._cache[key] = adjacency(self.u, self.v, self.weight, self.n_nodes, und)
        return self._cache[key]

    @property
    def lines(self) -> np.ndarray:
        """The edge geometries, oriented u → v."""
        if self.geometry is not None:
            return self.geometry
        if "lines" not in self._cache:
            self._cache["lines"] = _straight_lines(self.x, self.y, self.u, self.v) \
                if self.ragged is None else \
                shapely.from_ragged_array(shapely.GeometryType.LINESTRING, self.ragged[0],
                                          (self.ragged[1],))
        return self._cache["lines"]

    @property
    def given_lines(self) -> np.ndarray | None:
        """The edge lines given (``geometry``, or made from ``ragged``); None when the
        edges are straight lines between their nodes."""
        return self.geometry if self.ragged is None else self.lines

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree over the edge geometries."""
        if "tree" not in self._cache:
            self._cache["tree"] = shapely.STRtree(self.lines)
        return self._cache["tree"]

    @property
    def snap_index(self) -> SnapIndex | None:
        """Segments of the edges and a KD-tree over them for exact snapping (built once).

        None when some edge geometry is not a LineString (snapping then uses
        :attr:`tree`).
        """
        if "snap" not in self._cache:
            if self.geometry is None and self.ragged is not None and "lines" not in self._cache:
                coords, offsets = self.ragged  # (LineStrings: no need to make them)
                idx = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
                self._cache["snap"] = snap_index_of(coords, idx)
            else:
                self._cache["snap"] = build_snap_index(self.lines)
        return self._cache["snap"]


def _straight_lines(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The straight line from node ``u[i]`` to node ``v[i]`` for every i."""
    if not len(u):
        return np.zeros(0, dtype=object)
    return shapely.linestrings(np.stack([np.column_stack([x[u], y[u]]),
                                         np.column_stack([x[v], y[v]])], axis=1))


def adjacency(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int,
              undirected: bool) -> sparse.csr_matrix:
    """The adjacency matrix of ``n`` nodes joined by edges ``u[i]`` → ``v[i]`` of weight ``w[i]``.

    With ``undirected`` every edge runs both ways.  Self-loops are left out and
    parallel edges keep their least weight; an edge of weight 0 stays an
    explicit entry.  This is the CSR form the searches take
    (:meth:`Network.csr`, :func:`gcgeo.network.paths.augment`).
    """
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
    import networkx as nx

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
    straight = bool(has_xy and len(geom) and none.all())  # straight lines, drawn only if needed
    if straight:
        glen = np.hypot(x[v] - x[u], y[v] - y[u])
    elif has_xy and len(geom):
        geom[none] = _straight_lines(x, y, u[none], v[none])
        glen = shapely.length(geom)
    else:
        glen = np.full(len(w), np.nan)
    if not straight and len(geom) and has_xy:
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
        geometry=None if straight else geom, geom_length=np.asarray(glen, dtype=float),
        crs=CRS.from_user_input(crs) if crs is not None else None,
        directed=G.is_directed(),
    )

