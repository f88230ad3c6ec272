"""Snapping points (homes, facilities) onto the nearest point of the nearest
edge of the walking network, with the straight connector to the street.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._errors import CRSError, InputError
from .build import Network, compile_network
from .segments import nearest_segment, on_segments

if TYPE_CHECKING:
    import networkx as nx

log = logging.getLogger(__name__)

__all__ = ["check_points", "snap", "snap_points"]


def check_points(net: Network, points: gpd.GeoSeries, what: str) -> gpd.GeoSeries:
    """``points`` (a GeoSeries, or a GeoDataFrame's geometry), checked for snapping onto ``net``.

    They must be points (missing or empty ones are allowed: they end up off
    the network) in the network's projected CRS, or have no CRS.  ``what``
    names them in the error (:class:`~gcgeo.InputError`,
    :class:`~gcgeo.CRSError`) raised otherwise.
    """
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
    out = snap(net, check_points(net, points, "points"), tolerance)
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


def snap(net: Network, pts: gpd.GeoSeries, tolerance: float | None, *,
         among: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`snap_points` of points already checked (:func:`check_points`), without the
    node ids ``u``/``v``: ``edge`` and ``offset`` refer to the arrays of ``net``.

    ``among`` (a flag per edge, with a finite ``tolerance``) snaps onto the
    flagged edges only, as onto a network without the others."""
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
        seg, t, dist = nearest_segment(ix, xy[:, 0], xy[:, 1], tol, allowed=among)
        hit = seg >= 0
        s, th, q = seg[hit], t[hit], vi[hit]
        e = ix.edge[s]
        edge[q] = e
        conn[q] = dist[hit]
        sx[q], sy[q], offset[q] = on_segments(ix, s, th, net.geom_length[e], net.weight[e])
    elif among is not None and net.n_edges and valid.any():
        raise ValueError("snapping among some edges needs their geometries as LineStrings")
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

