"""Living-circle isochrones: the buffered streets reached per community or per facility.

Built from the reached street pieces (never convex hulls); the pieces and tiles
they share are merged once (:mod:`gcgeo.analysis._isochrones`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..network import locate_snaps, point_dist
from ..values import feature_ids
from . import _isochrones as _iso

__all__ = ["community_isochrones", "facility_isochrones"]


def community_isochrones(aug, node_d, out, communities, tier_m, req, buf, dist):
    """Per community, tier and category the buffered reached streets inside the
    community, and per tier their intersection ("all").

    The communities are worked on in threads (GEOS works outside the GIL);
    the tiles they share are merged once (see :mod:`gcgeo.analysis._isochrones`).
    """
    rows = []
    if communities is not None:
        homes = _iso.Homes(out.geometry.to_numpy(), buf)
        cid = feature_ids(communities).to_numpy()
        names = communities["name"].to_numpy(object) if "name" in communities.columns \
            else np.full(len(communities), None)
        polys = communities.geometry.to_numpy()
        live = [i for i in range(len(polys)) if polys[i] is not None and not polys[i].is_empty]
        pieces = _iso.Pieces(aug, buf)
        area = {}
        with _iso.pool() as ex:
            for c in dict.fromkeys(c for t in tier_m for c in req[t]):
                for t, T in tier_m.items():
                    if c not in req[t]:
                        continue
                    reached = pieces.tiled(pieces.reach(node_d[c], T))

                    def one(i, reached=reached, c=c, T=T):
                        return _iso.drop_unreached(reached.within(polys[i]), homes, dist[c], T)

                    for i, a in zip(live, ex.map(one, live)):
                        area[(i, c, t)] = a

            def community_rows(i):
                got = []
                for t, T in tier_m.items():
                    allg = None
                    for c in req[t]:
                        a = area[(i, c, t)]
                        got.append((cid[i], names[i], c, t, T, a))
                        allg = a if allg is None else _iso.multi(shapely.intersection(allg, a))
                    if allg is not None:
                        got.append((cid[i], names[i], "all", t, T, allg))
                return got

            for got in ex.map(community_rows, live):
                rows.extend(got)
    df = pd.DataFrame(rows, columns=["community_id", "community_name", "category", "tier",
                                     "distance_m", "geometry"])
    df["buffer_m"] = buf
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=out.crs)
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def facility_isochrones(aug, fac, fcat, osnap, out, tier_m, req, buf, chunk: int = 32):
    """Per facility and tier the buffered streets reached from it."""
    from scipy.sparse.csgraph import dijkstra

    homes = _iso.Homes(out.geometry.to_numpy(), buf)
    fid = feature_ids(fac).to_numpy()
    rows = []
    on = np.flatnonzero(aug.target_node >= 0)
    where = locate_snaps(aug, osnap)
    pieces = _iso.Pieces(aug, buf)

    def one(i, d, tiers_i):
        hd = point_dist(aug, osnap, d, where=where)
        # the pieces with a reached end; the others are reached at no tier
        cand = np.flatnonzero(~(np.isnan(d[aug.piece_u]) & np.isnan(d[aug.piece_v])))
        return [(fid[i], fcat[i], t, T, _iso.drop_unreached(
            pieces.tiled(pieces.reach(d, T, cand), cand).whole(), homes, hd, T))
            for t, T in tiers_i]

    with _iso.pool() as ex:
        for s in range(0, len(on), chunk):
            sel = on[s:s + chunk]
            tiers_of = [[(t, T) for t, T in tier_m.items() if fcat[i] in req[t]] for i in sel]
            lim = max((T for tt in tiers_of for _, T in tt), default=0.0)
            if lim == 0:
                continue
            # homes up to the limit plus the buffer need exact distances (see drop_unreached)
            D = dijkstra(aug.csr, directed=True, indices=aug.target_node[sel], limit=lim + buf)
            D[~np.isfinite(D)] = np.nan
            for got in ex.map(one, sel, D, tiers_of):
                rows.extend(got)
    df = pd.DataFrame(rows, columns=["facility_id", "category", "tier", "distance_m", "geometry"])
    df["buffer_m"] = buf
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=out.crs)
    gdf["area_m2"] = gdf.geometry.area
    return gdf
