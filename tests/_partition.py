"""Central Helsinki for the tests of partitioned runs, and how their results are compared
with the whole run's.

The walking network, facilities, buildings, green space and communities are
OpenStreetMap (tests/data/osm/helsinki_center.osm.pbf, ODbL), projected to
ETRS-TM35FIN (EPSG:3067); each test module adds seeded homes around random
street points (:func:`near_streets`, :func:`home_boxes`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pandas.testing import assert_frame_equal

from gcgeo import osm

HELSINKI = Path(__file__).parent / "data" / "osm" / "helsinki_center.osm.pbf"


def helsinki(*kinds: str) -> dict[str, gpd.GeoDataFrame]:
    """The layers ``kinds`` of the extract, in metres (EPSG:3067)."""
    frames = osm.read_osm(HELSINKI)
    return {k: frames[k].to_crs(3067) for k in kinds}


def near_streets(streets: gpd.GeoDataFrame, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` points at random places along random streets, moved by about 15 m."""
    lines = streets.geometry.to_numpy()
    at = shapely.line_interpolate_point(lines[rng.integers(0, len(lines), n)], rng.random(n),
                                        normalized=True)
    return shapely.get_coordinates(at) + rng.normal(0, 15, (n, 2))


def home_boxes(xy: np.ndarray, **columns: object) -> gpd.GeoDataFrame:
    """Residential buildings of 12 × 12 m around the points ``xy``, ids ``home<i>``."""
    return gpd.GeoDataFrame(
        {"id": [f"home{i}" for i in range(len(xy))], "residential": True, **columns},
        geometry=shapely.box(xy[:, 0] - 6, xy[:, 1] - 6, xy[:, 0] + 6, xy[:, 1] + 6), crs=3067)


def same(got: pd.DataFrame, want: pd.DataFrame, name: str) -> None:
    """Equal frames: floats to 1e-6 (metres, shares), everything else exactly."""
    assert list(got.columns) == list(want.columns), name
    assert got.index.equals(want.index), name
    plain = [c for c in want.columns if c != "geometry"]
    assert_frame_equal(pd.DataFrame(got[plain]), pd.DataFrame(want[plain]), check_exact=False,
                       rtol=0, atol=1e-6, obj=name)
    if "geometry" in want.columns:
        assert shapely.equals_exact(got.geometry.to_numpy(), want.geometry.to_numpy(), 0).all(), name


def same_isochrones(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame, *, rel: float = 1e-9) -> None:
    """Equal isochrone tables: the same rows, keys, homes and residents; areas to ``rel``
    of each polygon's area, and polygons whose symmetric difference is no larger.

    (The polygons are unions of the same buffered street pieces, grouped otherwise in
    each partition, so their vertices may differ in the last digits.)
    """
    assert list(got.columns) == list(want.columns)
    assert got.index.equals(want.index)
    plain = [c for c in want.columns if c not in ("geometry", "area_m2")]
    assert_frame_equal(pd.DataFrame(got[plain]), pd.DataFrame(want[plain]), check_exact=False,
                       rtol=0, atol=1e-6, obj="lc_isochrones")
    a, b = got.geometry.to_numpy(), want.geometry.to_numpy()
    assert (shapely.get_type_id(a) == shapely.get_type_id(b)).all()
    scale = np.maximum(shapely.area(b), 1.0)
    off = shapely.area(shapely.symmetric_difference(a, b)) / scale
    assert (off <= rel).all(), (off.max(), int(np.argmax(off)))
    if "area_m2" in want.columns:
        assert np.allclose(got["area_m2"], want["area_m2"], rtol=rel, atol=0)


def workspace_of(path, layers: dict[str, gpd.GeoDataFrame], *, name: str = "Helsinki"):
    """A workspace at ``path`` holding ``layers`` (in the Helsinki layers' CRS)."""
    from gcgeo import workspace as ws

    ws.init(path, name=name, crs="EPSG:3067")
    for kind, frame in layers.items():
        ws.add_layer(path, kind, frame)
    return path
