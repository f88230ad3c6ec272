"""A small street grid whose walks are worked out by hand: the hand-computed cases of the
checks that measure walks (garbage, chargers)."""

from __future__ import annotations

import geopandas as gpd
import shapely

CRS = "EPSG:4547"


def grid_streets(n: int = 2, block: float = 100.0) -> gpd.GeoDataFrame:
    """Streets on every multiple of ``block`` from 0 to ``n * block``, split at every crossing."""
    lines = []
    for k in range(n + 1):
        for m in range(n):
            lines.append(shapely.LineString([(m * block, k * block), ((m + 1) * block, k * block)]))
            lines.append(shapely.LineString([(k * block, m * block), (k * block, (m + 1) * block)]))
    return gpd.GeoDataFrame({"name": [f"S{i}" for i in range(len(lines))]}, geometry=lines, crs=CRS)


def boxes(rows: list[dict], crs: str = CRS) -> gpd.GeoDataFrame:
    """Rows with a ``box`` (minx, miny, maxx, maxy) → polygons."""
    return gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "box"} for r in rows],
                            geometry=[shapely.box(*r["box"]) for r in rows], crs=crs)


def points(rows: list[dict], crs: str = CRS) -> gpd.GeoDataFrame:
    """Rows with an ``xy`` → points."""
    return gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "xy"} for r in rows],
                            geometry=[shapely.Point(*r["xy"]) for r in rows], crs=crs)


def grid_workspace(path):
    """A workspace at ``path``: a 4 × 4 grid of 100 m blocks, three homes along it, a
    supermarket and a park."""
    from gcgeo import workspace as ws

    ws.init(path, name="grid", crs=CRS)
    ws.add_layer(path, "streets", grid_streets(4))
    ws.add_layer(path, "buildings", boxes([
        {"id": "H1", "use": "residential", "population": 10, "box": (60, 5, 70, 15)},
        {"id": "H2", "use": "residential", "population": 20, "box": (305, 205, 315, 215)},
        {"id": "H3", "use": "residential", "population": 30, "box": (190, 380, 199, 395)}]))
    ws.add_layer(path, "facilities", points([{"id": "s", "category": "supermarket", "xy": (0, 0)},
                                             {"id": "p", "category": "park", "xy": (400, 400)}]))
    return path

