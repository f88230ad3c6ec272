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

The package holds one concern per module: :mod:`~gcgeo.network.build`
(streets, tables, OSMnx graphs and GraphML files to a graph or a
:class:`Network`), :mod:`~gcgeo.network.clean` (junctions, near-missed ends,
crossings), :mod:`~gcgeo.network.segments` (the snapping index),
:mod:`~gcgeo.network.snapping` (points onto edges),
:mod:`~gcgeo.network.paths` (the searches), :mod:`~gcgeo.network.edit` (a
network changed in place: edges dropped, new lines joined, the snapped points
moved) and :mod:`~gcgeo.network.update` (distances after such a change, from
those before it); ``__all__`` lists what is public here.  The steps of :func:`point_distances` are public too, for
analyses that search one network many times: :func:`check_points` and
:func:`snap` the points, :func:`augment` the network with the targets,
:func:`contract_chains` of its ``csr``, :func:`multi_source` from each kind
of target, then :func:`locate_snaps` and :func:`point_dist` read the origins'
distances off the nodes' (:func:`distances_snapped` does all of it).

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

from .build import (
    Network,
    build_graph,
    compile_network,
    graph_from_osmnx,
    graph_network,
    join_tolerance,
    joined_by_ids,
    network_from_frames,
    network_from_streets,
    split_crossings,
)
from .clean import crossings, near_misses, substrings
from .pairs import ReachPairs, near_first, near_searches, reach_pairs
from .paths import (
    Augmented,
    Chains,
    augment,
    contract_chains,
    dist_via_ends,
    distances_snapped,
    locate_snaps,
    multi_source,
    node_distances,
    point_dist,
    point_distances,
)
from .snapping import check_points, snap, snap_points

__all__ = [
    "Augmented",
    "Chains",
    "Network",
    "ReachPairs",
    "augment",
    "build_graph",
    "check_points",
    "compile_network",
    "contract_chains",
    "crossings",
    "dist_via_ends",
    "distances_snapped",
    "graph_from_osmnx",
    "graph_network",
    "join_tolerance",
    "joined_by_ids",
    "locate_snaps",
    "multi_source",
    "near_first",
    "near_misses",
    "near_searches",
    "network_from_frames",
    "network_from_streets",
    "node_distances",
    "point_dist",
    "point_distances",
    "reach_pairs",
    "snap",
    "snap_points",
    "split_crossings",
    "substrings",
]
