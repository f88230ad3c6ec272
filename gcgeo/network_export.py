"""The walking network out of gcgeo: GraphML that OSMnx loads, and node/edge layers.

The network is the one the analyses walk on: the workspace's ``streets``
built into a graph (:func:`gcgeo.network.build_graph`, walkable lines only,
joined by the rules ``network.join_tolerance`` and
``network.split_crossings``).  Written the way OSMnx writes its own:

* :func:`save_graphml` — a directed multigraph, each street piece in both
  directions (``oneway`` false, ``reversed`` on the second), every attribute
  as text, edge ``geometry`` as WKT and the graph's ``crs``, so
  ``osmnx.load_graphml`` reads it back as an OSMnx graph;
* :func:`graph_layers` — ``nodes`` (index ``osmid``: ``x``, ``y``,
  ``street_count``) and ``edges`` (``u``, ``v``, ``key``, ``length``…), each
  piece once, as ``osmnx.save_graph_geopackage`` writes them.

Lengths stay in metres whatever CRS the coordinates are written in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import __version__
from . import network as _network
from ._errors import InputError
from .crs import metric
from .export import OutputCRS, atomic_path

log = logging.getLogger(__name__)

__all__ = ["NETWORK_LAYER", "graph_layers", "save_graphml", "to_osmnx", "walking_graph"]

#: The name ``--layers`` knows the walking network by.
NETWORK_LAYER = "network"


def walking_graph(streets: gpd.GeoDataFrame | None, *, rules: Any = None) -> nx.MultiGraph:
    """The undirected walking graph of a ``streets`` layer, as the analyses build it;
    each edge's ``street`` is the ``id`` of the street it is a piece of (its row label
    where the layer has no ids), ``name`` the street's name."""
    if streets is None:
        raise InputError("the walking network is built from the 'streets' layer, and the workspace "
                         "has none; add it with `gcgeo import-osm` or `gcgeo add WS streets FILE`.")
    streets = metric(streets, "layer 'streets'")
    G = _network.build_graph(streets, join_tolerance=_network.join_tolerance(rules),
                             split_crossings=_network.split_crossings(rules))
    # street names travel with their pieces, as OSMnx's edges carry "name"; the graph
    # knows a piece's street by its row, a planner by the street's id in the workspace
    names = streets["name"] if "name" in streets.columns else None
    ids = streets["id"] if "id" in streets.columns else None
    for _, _, d in G.edges(data=True):
        row = d.get("street")
        name = names.get(row) if names is not None else None
        if isinstance(name, str) and name.strip():
            d["name"] = name
        if ids is not None and row in ids.index and not pd.isna(ids[row]):
            d["street"] = ids[row]
    return G


def _int_ids(G: nx.Graph) -> nx.Graph:
    """``G`` with integer node ids (OSMnx reads node ids as integers)."""
    if all(isinstance(n, (int, np.integer)) for n in G.nodes):
        return G
    return nx.convert_node_labels_to_integers(G, ordering="sorted" if _sortable(G) else "default")


def _sortable(G: nx.Graph) -> bool:
    try:
        sorted(G.nodes)
        return True
    except TypeError:
        return False


def _transform(G: nx.Graph, target: OutputCRS | None) -> tuple[nx.Graph, Any]:
    """Node coordinates and edge geometries in the output CRS; lengths untouched."""
    crs = G.graph.get("crs")
    if target is None:
        return G, crs
    nodes = list(G.nodes)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([G.nodes[n]["x"] for n in nodes],
                                                       [G.nodes[n]["y"] for n in nodes]), crs=crs)
    edges = list(G.edges(keys=True, data=True)) if G.is_multigraph() else list(G.edges(data=True))
    lines = gpd.GeoDataFrame(geometry=[e[-1]["geometry"] for e in edges], crs=crs)

    pts = _apply(pts, target)
    lines = _apply(lines, target)
    H = G.copy()
    for n, p in zip(nodes, pts.geometry):
        H.nodes[n]["x"], H.nodes[n]["y"] = float(p.x), float(p.y)
    for e, g in zip(edges, lines.geometry):
        (H.edges[e[0], e[1], e[2]] if G.is_multigraph() else H.edges[e[0], e[1]])["geometry"] = g
    return H, target.crs


def _apply(frame: gpd.GeoDataFrame, target: OutputCRS) -> gpd.GeoDataFrame:
    from . import crs as _crs

    if target.shift:
        return _crs.shift_from_wgs84(frame, target.shift)
    return frame.to_crs(target.crs)


def _crs_text(crs: Any) -> str:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    code = c.to_epsg()
    return f"epsg:{code}" if code else c.to_wkt()


def to_osmnx(G: nx.Graph, *, crs: OutputCRS | None = None) -> nx.MultiDiGraph:
    """An OSMnx-style directed multigraph of the undirected walking graph ``G``.

    Each edge becomes ``u → v`` and ``v → u`` (geometry reversed, ``reversed``
    true), ``oneway`` false, ``length`` in metres; nodes carry ``x``, ``y``
    and ``street_count``; the graph carries ``crs`` and ``created_with``.
    """
    G, out_crs = _transform(_int_ids(G), crs)
    if out_crs is None:
        raise InputError("the walking graph has no CRS; build it from a layer with one.")
    D = nx.MultiDiGraph(crs=_crs_text(out_crs), created_with=f"gcgeo {__version__}",
                        simplified=False)
    for n, d in G.nodes(data=True):
        D.add_node(int(n), x=float(d["x"]), y=float(d["y"]),
                   street_count=int(G.degree(n)))
    pairs = G.edges(keys=True, data=True) if G.is_multigraph() else \
        ((u, v, 0, d) for u, v, d in G.edges(data=True))
    for u, v, _, d in pairs:
        geom = d.get("geometry")
        extra = {k: d[k] for k in ("name",) if k in d}
        street = {"street": str(d["street"])} if "street" in d else {}
        for a, b, rev in ((u, v, False), (v, u, True)):
            g = geom if geom is None or not rev else shapely.reverse(geom)
            D.add_edge(int(a), int(b), length=float(d["length"]), oneway=False, reversed=rev,
                       **({"geometry": g} if g is not None else {}), **extra, **street)
    return D


def save_graphml(G: nx.Graph, path: str | os.PathLike, *, crs: OutputCRS | None = None,
                 overwrite: bool = False, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Write the walking graph ``G`` as GraphML that ``osmnx.load_graphml`` reads.

    Every attribute is written as text (OSMnx converts them back on load),
    atomically: a failed write leaves no file.
    """
    path = Path(path)
    D = to_osmnx(G, crs=crs)
    H = D.copy()
    H.graph = {k: str(v) for k, v in D.graph.items()}
    for _, d in H.nodes(data=True):
        for k, v in d.items():
            d[k] = str(v)
    for _, _, d in H.edges(data=True):
        for k, v in d.items():
            d[k] = shapely.to_wkt(v, rounding_precision=-1) if isinstance(v, shapely.Geometry) else str(v)
    with atomic_path(path, overwrite=overwrite, inputs=inputs) as tmp:
        nx.write_graphml(H, tmp, encoding="utf-8")
    log.info("wrote %s: %d nodes, %d edges", path, H.number_of_nodes(), H.number_of_edges())
    return path


def graph_layers(G: nx.Graph, *, crs: OutputCRS | None = None) -> dict[str, gpd.GeoDataFrame]:
    """``{"nodes": …, "edges": …}`` of the walking graph, as OSMnx's
    ``save_graph_geopackage`` writes them (undirected: each street piece once)."""
    G, out_crs = _transform(_int_ids(G), crs)
    node_ids = list(G.nodes)
    nodes = gpd.GeoDataFrame(
        {"osmid": np.array(node_ids, dtype=np.int64),
         "x": [float(G.nodes[n]["x"]) for n in node_ids],
         "y": [float(G.nodes[n]["y"]) for n in node_ids],
         "street_count": [int(G.degree(n)) for n in node_ids]},
        geometry=gpd.points_from_xy([G.nodes[n]["x"] for n in node_ids],
                                    [G.nodes[n]["y"] for n in node_ids]), crs=out_crs)
    rows: list[Mapping[str, Any]] = []
    pairs = G.edges(keys=True, data=True) if G.is_multigraph() else \
        ((u, v, 0, d) for u, v, d in G.edges(data=True))
    for u, v, k, d in pairs:
        rows.append({"u": int(u), "v": int(v), "key": int(k), "length": float(d["length"]),
                     "name": d.get("name"), "street": None if d.get("street") is None else str(d["street"]),
                     "geometry": d.get("geometry")})
    edges = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["u", "v", "key", "length", "name", "street",
                                                         "geometry"]),
                             geometry="geometry", crs=out_crs)
    if edges["name"].isna().all():
        edges = edges.drop(columns="name")
    return {"nodes": nodes, "edges": edges}
