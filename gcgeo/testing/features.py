"""Collecting the synthetic town's features and turning them into layers.

A :class:`Builder` takes rows (attributes and a geometry in town coordinates,
metres from the origin) layer by layer, numbers them, and at the end makes
one GeoDataFrame per layer kind with the columns and dtypes of its spec.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

_LAYER_ORDER = ("communities", "buildings", "green_space", "parking", "chargers", "manholes",
                "ramps", "streets", "fire_lanes", "obstructions", "facilities",
                "garbage_points", "heritage")

_DTYPES: dict[str, dict[str, str]] = {
    "communities": {"id": "str", "name": "str", "street_office": "str", "population": "int64",
                    "households": "int64", "old_estate": "bool", "property_managed": "bool",
                    "source": "str"},
    "buildings": {"id": "str", "name": "str", "use": "str", "residential": "bool",
                  "floors": "int64", "height_m": "float64", "population": "float64"},
    "green_space": {"id": "str", "name": "str", "kind": "str", "public": "bool"},
    "parking": {"id": "str", "name": "str", "kind": "str", "capacity": "int64",
                "ev_ready": "int64"},
    "chargers": {"id": "str", "name": "str", "kind": "str", "sockets": "int64",
                 "power_kw": "float64", "operator": "str"},
    "manholes": {"id": "str", "kind": "str", "code": "object", "owner": "object",
                 "manager": "object", "contact": "object", "condition": "str",
                 "fall_net": "boolean", "last_inspection": "object"},
    "ramps": {"id": "str", "kind": "str", "slope": "float64", "width_m": "float64",
              "lip_mm": "float64", "wheelchair": "str"},
    "streets": {"id": "str", "name": "object", "kind": "str", "walkable": "bool",
                "u": "int64", "v": "int64"},
    "fire_lanes": {"id": "str", "name": "str", "kind": "str", "width_m": "float64",
                   "clear_height_m": "Float64", "dead_end": "boolean", "slope": "Float64"},
    "obstructions": {"id": "str", "name": "str", "kind": "str", "width_m": "float64",
                     "length_m": "float64", "height_m": "Float64", "observed": "str"},
    "facilities": {"id": "str", "name": "str", "category": "str"},
    "garbage_points": {"id": "str", "name": "str", "kind": "str"},
    "heritage": {"id": "str", "name": "str", "kind": "str", "grade": "str",
                 "protection_radius_m": "float64"},
}


class Builder:
    """Collects features as rows in absolute coordinates.

    Coordinates given to :meth:`poly`, :meth:`point` and :meth:`line` are
    relative to ``origin``; :meth:`next_id` numbers features per id prefix.
    """

    def __init__(self, origin: tuple[float, float]) -> None:
        self.ox, self.oy = origin
        self.rows: dict[str, list[dict[str, Any]]] = {k: [] for k in _LAYER_ORDER}
        self.counters: dict[str, int] = {}

    def next_id(self, prefix: str, width: int = 3) -> str:
        """The next id with ``prefix``: ``prefix`` and a number of ``width`` digits."""
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}{n:0{width}d}"

    def box(self, x0: float, y0: float, r: tuple[float, ...]) -> tuple[float, float, float, float]:
        """Block-local rectangle → town coordinates (relative to the origin)."""
        return (x0 + r[0], y0 + r[1], x0 + r[2], y0 + r[3])

    def poly(self, r: tuple[float, ...]) -> shapely.Polygon:
        """The rectangle ``r`` (town coordinates) as an absolute polygon."""
        return shapely.box(self.ox + r[0], self.oy + r[1], self.ox + r[2], self.oy + r[3])

    def point(self, x: float, y: float) -> shapely.Point:
        """The town point ``(x, y)`` as an absolute point."""
        return shapely.Point(self.ox + x, self.oy + y)

    def line(self, *pts: tuple[float, float]) -> shapely.LineString:
        """A line through town points, in absolute coordinates."""
        return shapely.LineString([(self.ox + x, self.oy + y) for x, y in pts])

    def add(self, layer: str, /, **row: Any) -> dict[str, Any]:
        """Append one feature (its attributes and ``geometry``) to ``layer``."""
        self.rows[layer].append(row)
        return row

    def layers(self, crs: CRS) -> dict[str, gpd.GeoDataFrame]:
        """Layer kind → GeoDataFrame in ``crs``, every kind present, in a fixed order."""
        return {kind: _frame(self.rows[kind], crs, _DTYPES[kind]) for kind in _LAYER_ORDER}


def _frame(rows: list[dict[str, Any]], crs: CRS, dtypes: dict[str, str]) -> gpd.GeoDataFrame:
    cols = ["id", *[c for c in dtypes if c != "id"]]
    data: dict[str, Any] = {}
    for c in cols:
        values = [r.get(c) for r in rows]
        dt = dtypes.get(c, "object")
        data[c] = pd.array(values, dtype=dt) if dt != "object" else pd.Series(values, dtype=object)
    geoms = [r["geometry"] for r in rows]
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
