"""A batch's results in one place: a GeoParquet folder per output layer, and a database.

Each area's workspace is its own GeoPackage; besides it, every output layer
of the areas (``lc_origins``, ``green_communities``…) is written as one
GeoParquet file per area, ``RESULTS/<layer>/<area>.parquet``, with an
``area`` column naming the study area, so that the folder of a layer is the
province's table partitioned by area (``geopandas.read_parquet`` of the
folder, or :func:`read_results`, which also reads areas whose columns differ
in type).  The files are written by the area's own task, each to a temporary
name first and then renamed, so a file is whole or absent.

With a PostgreSQL URL, :func:`to_database` writes each layer's combined
table to the database (:func:`gcgeo.postgis.export_layers`: one transaction,
tables replaced), after the areas have run.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["area_file", "read_results", "to_database", "write_area_results"]

#: the column naming each row's study area
AREA = "area"


def area_file(results: Path, layer: str, area: str) -> Path:
    """Where ``area``'s rows of ``layer`` are kept (a file name made of the area's name)."""
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", area).strip("._") or "area"
    return results / layer / f"{safe}.parquet"


def _outputs(workspace: Path) -> list[str]:
    from .. import workspace as ws

    table = ws.list_layers(workspace, counts=False)
    return table.loc[table["analysis"].astype(str) != "", "layer"].astype(str).tolist()


def write_area_results(workspace: Path, area: str, results: Path, *, force: bool = False) -> list[str]:
    """Write the area's output layers under ``results`` where missing or older than the
    workspace; remove the area's files of layers it no longer has.  The layers written."""
    from .. import workspace as ws

    layers = _outputs(workspace)
    stamp = workspace.stat().st_mtime_ns
    written = []
    for layer in layers:
        path = area_file(results, layer, area)
        if not force and path.exists() and path.stat().st_mtime_ns >= stamp:
            continue
        frame = ws.read_layer(workspace, layer)
        frame.insert(0, AREA, area)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
        try:
            frame.to_parquet(tmp, index=False)  # GeoParquet for a GeoDataFrame
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(layer)
    if results.is_dir():
        for folder in results.iterdir():
            old = area_file(results, folder.name, area)
            if folder.is_dir() and folder.name not in layers and old.exists():
                old.unlink()
    return written


def read_results(results: str | os.PathLike, layer: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """Every area's rows of ``layer``, as one frame (in the order of the files' names).

    A GeoDataFrame when the layer has geometry; its CRS is the first area's,
    the other areas' rows reprojected to it.
    """
    from .._errors import InputError

    folder = Path(results) / layer
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise InputError(f"{folder} holds no area's results (*.parquet); run the batch first, "
                         "or check the layer's name.")
    frames: list[Any] = []
    for f in files:
        try:
            frames.append(gpd.read_parquet(f))
        except ValueError:  # no geometry: a plain table
            frames.append(pd.read_parquet(f))
    if isinstance(frames[0], gpd.GeoDataFrame):
        crs = frames[0].crs
        frames = [f.to_crs(crs) if f.crs is not None and crs is not None and f.crs != crs else f
                  for f in frames]
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
    return pd.concat(frames, ignore_index=True)


def to_database(results: str | os.PathLike, url: str) -> list[str]:
    """Write every layer under ``results`` (all areas) to the database ``url``,
    replacing its tables, in one transaction.  The tables written."""
    from .. import postgis

    folder = Path(results)
    layers = sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.parquet")))
    frames = {layer: read_results(folder, layer) for layer in layers}
    if not frames:
        return []
    return postgis.export_layers(frames, url, overwrite=True,
                                 note="gcgeo batch: every study area, column 'area'")
