"""The workspace: one GeoPackage per study area.

It holds every inventory layer (named after its kind), the outputs of the
analyses, and two attribute tables QGIS and ArcGIS show as plain tables:

* ``gcgeo_metadata`` (key, value): study-area name, working CRS, rules
  version, gcgeo version, created, rasters attached;
* ``gcgeo_layers``: one row per layer — kind, features, geometry, when it was
  added, from which file / layer / declared CRS, and which analysis made it.

Every change is atomic: the workspace is copied beside itself, the copy is
changed, and the copy is renamed over the original (with the original's
permissions).  An interrupted command leaves the old workspace as it was, and
the next command on it removes the copy left behind.  Changes are serialised
by a lock file beside the workspace (:func:`lock`): a second command waits
for the first and then works on its result.  A read-only workspace is refused
before anything is written (:func:`check_writable`), and so are a layer name
the file cannot hold (:func:`check_layer_name`) and data of another region,
which the working CRS chosen for the first data would measure wrongly (unless
every layer is replaced: then the workspace moves to a CRS that suits them).

>>> import gcgeo.workspace as ws                       # doctest: +SKIP
>>> ws.init("gaotang.gpkg", name="高唐县")               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from . import __version__, gpkg_write
from . import crs as _crs
from . import io as _io
from . import layers as _layers
from . import rules as _rules
from ._errors import (
    CRSError,
    LayerError,
    OutputExistsError,
    WorkspaceError,
)
from ._guards import (
    MAX_LAYER_NAME,
    RESERVED_PREFIXES,
    check_first_crs,
    check_layer_name,
    moved_crs,
)
from ._sniff import cut_short_database, describe, display
from ._wsfile import (
    LOCK_TIMEOUT_S,
    check_not_locked,
    check_not_open,
    check_writable,
    creating,
    lock,
    sweep_if_free,
    transaction,
)

log = logging.getLogger(__name__)

__all__ = [
    "LAYERS_TABLE",
    "LOCK_TIMEOUT_S",
    "MAX_LAYER_NAME",
    "META_TABLE",
    "RESERVED_PREFIXES",
    "add_layer",
    "add_raster",
    "check_layer_name",
    "check_writable",
    "creating",
    "info",
    "init",
    "join_frames",
    "list_layers",
    "lock",
    "read_layer",
    "read_layers",
    "study_area",
    "validate",
    "write_layers",
]

META_TABLE = "gcgeo_metadata"
LAYERS_TABLE = "gcgeo_layers"
_LAYER_COLUMNS = ["layer", "kind", "features", "geometry", "added", "source", "source_layer",
                  "src_crs", "analysis"]


def _now() -> str:
    # to the microsecond: a layer replaced in the same second as an analysis ran
    # must still be known as newer than its results
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="microseconds")


def _require(path: Path) -> None:
    if not path.exists():
        raise WorkspaceError(
            f"workspace {path} does not exist; create it with 'gcgeo init {path} --name NAME'."
        )
    check_not_locked(path)
    if cut_short_database(path):  # GDAL may still list its layers; its last pages are gone
        raise WorkspaceError(
            f"{path} is cut short: a GeoPackage smaller than its header says (a copy or download "
            "that did not finish, or a disk that filled). Nothing was changed. Copy the workspace "
            "again from where it came from, or use your last good copy.")
    try:
        names = {str(n) for n, _ in pyogrio.list_layers(path)}
    except Exception:  # noqa: BLE001 - any GDAL failure means "not a workspace"
        raise WorkspaceError(f"{path} is not a readable GeoPackage ({describe(path)}); is it a gcgeo "
                             "workspace? Create one with 'gcgeo init WS.gpkg --name NAME'.") from None
    if META_TABLE not in names:
        raise WorkspaceError(
            f"{path} is {describe(path)}, not a gcgeo workspace (no {META_TABLE} table); create "
            f"one with 'gcgeo init WS.gpkg --name NAME' and add its layers."
        )
    sweep_if_free(path)


def _write_table(path: Path, name: str, df: pd.DataFrame) -> None:
    pyogrio.write_dataframe(df, path, layer=name, driver="GPKG", use_arrow=True,
                            dataset_options=gpkg_write.CREATION)


def _read_meta(path: Path) -> dict[str, str]:
    df = pyogrio.read_dataframe(path, layer=META_TABLE, use_arrow=True)
    return dict(zip(df["key"].astype(str), df["value"].astype(str)))


def _read_layer_table(path: Path, names: set[str] | None = None) -> pd.DataFrame:
    """The workspace's table of layers; ``names``, the layers in the file, when known."""
    if names is None:
        names = {str(n) for n, _ in pyogrio.list_layers(path)}
    if LAYERS_TABLE not in names:
        return pd.DataFrame(columns=_LAYER_COLUMNS)
    df = pd.DataFrame(pyogrio.read_dataframe(path, layer=LAYERS_TABLE, use_arrow=True))
    return df.reindex(columns=_LAYER_COLUMNS)


def _set_meta(tmp: Path, updates: Mapping[str, Any]) -> None:
    meta = _read_meta(tmp)
    meta.update({k: "" if v is None else str(v) for k, v in updates.items()})
    _write_table(tmp, META_TABLE, pd.DataFrame({"key": list(meta), "value": list(meta.values())}))


def init(
    path: str | os.PathLike,
    *,
    name: str,
    crs: Any = None,
    boundary: gpd.GeoDataFrame | None = None,
    overwrite: bool = False,
) -> Path:
    """Create an empty workspace for the study area ``name``.

    ``crs`` fixes the working (projected, metric) CRS; without it the CRS is
    chosen from the first layer added (see :func:`gcgeo.crs.choose_metric_crs`).
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise WorkspaceError(f"a workspace is a GeoPackage: name it '{path.stem}.gpkg', not {path.name}.")
    _refuse_foreign(path)
    if path.exists() and not overwrite:
        raise _exists(path)
    working = None
    if crs is not None:
        working, shift = _crs.parse_crs(crs)
        if shift or not working.is_projected:
            raise CRSError(f"working CRS {crs} is not projected; use a metric CRS such as EPSG:4548.")
        method = working.coordinate_operation.method_name if working.coordinate_operation else ""
        if "Mercator" in method and "Transverse" not in method:
            raise CRSError(
                f"working CRS {crs} ({method}) distorts lengths and areas (by 25% at 37°N); use a "
                "CGCS2000 3° zone (EPSG:4534–4554) or UTM, or leave --crs out to choose one."
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    check_writable(path)
    meta = {
        "name": name,
        "crs": working.to_string() if working is not None else "",
        "rules_version": _rules.RULES_VERSION,
        "gcgeo_version": __version__,
        "created": _now(),
        "rasters": "{}",
    }
    with lock(path):
        _refuse_foreign(path)  # made meanwhile by another program
        if path.exists() and not overwrite:  # made meanwhile by another command
            raise _exists(path)
        with transaction(path, create=True) as tmp:
            _write_table(tmp, META_TABLE, pd.DataFrame({"key": list(meta),
                                                        "value": list(meta.values())}))
            _write_table(tmp, LAYERS_TABLE,
                         pd.DataFrame({c: pd.Series(dtype="str") for c in _LAYER_COLUMNS}))
            if boundary is not None:
                _put_layers(tmp, {"study_area": boundary}, working, kind="study_area", source=None)
    log.info("created workspace %s", path)
    return path


def _refuse_foreign(path: Path) -> None:
    """Refuse ``path`` if it exists and is not a gcgeo workspace, saying what it holds.

    Only a workspace may be started afresh with ``overwrite``: any other file
    (a planner's GeoPackage of layers, a spreadsheet named .gpkg) is not
    gcgeo's to replace, with ``overwrite`` or without.
    """
    if not path.exists():
        return
    shown = display(path)
    fix = "give the workspace another name, or add this file's layers with 'gcgeo add'"
    if path.is_dir():
        raise WorkspaceError(f"{shown} is a folder, not a gcgeo workspace; give the workspace "
                             "another name.")
    try:
        listed = [(str(n), g) for n, g in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 - any GDAL failure: not a GeoPackage it can open
        listed = None
    if listed is not None and META_TABLE in {n for n, _ in listed}:
        return
    if not listed:
        what = "an empty GeoPackage" if listed is not None else describe(path)
        raise WorkspaceError(f"{shown} is not a gcgeo workspace: it is {what}; give the workspace "
                             "another name. Nothing was changed.")
    held = []
    for name, _ in listed[:10]:
        try:
            n = pyogrio.read_info(path, layer=name).get("features")
        except Exception:  # noqa: BLE001 - a layer GDAL cannot count is still named
            n = None
        held.append(f"{name} ({n} feature{'s' if n != 1 else ''})" if n is not None and n >= 0
                    else name)
    more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
    raise WorkspaceError(
        f"{shown} is not a gcgeo workspace: it holds layer{'s' if len(listed) > 1 else ''} "
        f"{', '.join(held)}{more}; {fix}. Nothing was changed.")


def _exists(path: Path) -> OutputExistsError:
    return OutputExistsError(f"{path} exists; give --overwrite to start it afresh, or use it as it is.")


def info(path: str | os.PathLike) -> dict[str, Any]:
    """The workspace's metadata as a dict (``crs`` as a pyproj CRS or None)."""
    path = Path(path)
    _require(path)
    meta: dict[str, Any] = dict(_read_meta(path))
    meta["crs"] = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    meta["rasters"] = json.loads(meta.get("rasters") or "{}")
    return meta


def list_layers(path: str | os.PathLike, *, counts: bool = True) -> pd.DataFrame:
    """One row per layer: kind, features, geometry type, added, source, analysis.

    ``counts=False`` leaves out the column of features (counting them looks at
    every layer: tenths of a second in a city's workspace), for callers asking
    only which layers there are."""
    path = Path(path)
    _require(path)
    present = {str(n): str(g) for n, g in pyogrio.list_layers(path)}
    table = _read_layer_table(path, set(present))
    table = table[table["layer"].isin(present)].copy()
    if counts:
        table["features"] = [
            pyogrio.read_info(path, layer=n)["features"] for n in table["layer"]
        ] if len(table) else []
    else:  # (not the count stored when the layer was added)
        table = table.drop(columns="features")
    return table.reset_index(drop=True)


def _catalogue(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The layers in the file with their geometry types, and the kind of each layer the
    table of layers knows."""
    names = {str(n): str(g) for n, g in pyogrio.list_layers(path)}
    table = _read_layer_table(path, set(names))
    return names, {str(k): str(v) for k, v in zip(table["layer"], table["kind"])}


def _read(path: Path, name: str, names: Mapping[str, str], kinds: Mapping[str, str], *,
          fid: bool = False) -> gpd.GeoDataFrame | pd.DataFrame:
    if name not in names:
        shown = sorted(n for n in names if not n.startswith("gcgeo_"))
        raise WorkspaceError(
            f"workspace {path} has no layer '{name}'; it has: {', '.join(shown) or 'no layers'}. "
            f"Add it with 'gcgeo add {path} {name} FILE' or run the analysis that makes it."
        )
    df = pyogrio.read_dataframe(path, layer=name, use_arrow=True, fid_as_index=fid)
    kind = kinds.get(name)
    if isinstance(df, gpd.GeoDataFrame) and not len(df):
        # (written back, and exported, as it is: gpkg_write.write_frames; an inventory layer
        # stored untyped by an older gcgeo takes its kind's type)
        stored = names[name] if names[name] not in ("Unknown", "None") else None
        declared = _layers.SPECS[kind].declared_type(stored) if kind in _layers.SPECS else stored
        if declared:
            df.attrs["geometry_type"] = declared
    if kind in _layers.SPECS:
        df, _ = _layers.coerce_columns(df, kind)
    booleans = gpkg_write.boolean_columns(path, name, df)
    if booleans:  # (read with NULLs as objects: written back, and exported, as booleans)
        df.attrs[gpkg_write.BOOLEANS] = booleans
    return df


def read_layer(path: str | os.PathLike, name: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read one layer (or attribute table) of the workspace, typed by its spec."""
    path = Path(path)
    _require(path)
    return _read(path, name, *_catalogue(path))


def read_layers(path: str | os.PathLike, names: list[str] | None = None) -> dict[str, Any]:
    """Read several layers (all but the metadata tables by default)."""
    path = Path(path)
    _require(path)
    present, kinds = _catalogue(path)  # listed once: GDAL lists a GeoPackage in ~15 ms
    if names is None:
        names = [n for n in kinds if n in present and not n.startswith("gcgeo_")]
    workers = min(len(names), os.cpu_count() or 1, 4)
    if workers < 2:
        return {n: _read(path, n, present, kinds) for n in names}
    # GDAL reads (and shapely parses) with Python's lock released: several layers at once
    with ThreadPoolExecutor(workers, thread_name_prefix="gcgeo-read") as pool:
        return dict(zip(names, pool.map(lambda n: _read(path, n, present, kinds), names)))


def _working_crs(path: Path) -> CRS | None:
    value = _read_meta(path).get("crs")
    return CRS.from_user_input(value) if value else None


def _put_layers(tmp: Path, frames: Mapping[str, pd.DataFrame], working: CRS | None, *,
                kind: str | Mapping[str, str], source: str | None, source_layer: str | None = None,
                src_crs: str | None = None, analysis: str | None = None,
                spatial_index: Collection[str] | None = None,
                rules: Mapping[str, Any] | None = None) -> None:
    from . import gpkg_styles

    table = _read_layer_table(tmp)
    for name in frames:
        check_layer_name(name)
    working_frames = {n: f.to_crs(working) if isinstance(f, gpd.GeoDataFrame) and working is not None
                      and f.crs is not None and not f.crs.equals(working) else f for n, f in frames.items()}
    working_frames = {n: _typed_if_empty(f, kind if isinstance(kind, str) else kind.get(n, ""))
                      for n, f in working_frames.items()}
    written = gpkg_write.write_frames(tmp, working_frames, spatial_index=spatial_index)
    rows = []
    for name, (out, types) in written.items():
        k = kind if isinstance(kind, str) else kind.get(name, "")
        rows.append({"layer": name, "kind": k, "features": str(len(out)), "geometry": "/".join(types),
                     "added": _now(), "source": source or "", "source_layer": source_layer or "",
                     "src_crs": src_crs or "", "analysis": analysis or ""})
    table = table[~table["layer"].isin(frames)]
    table = pd.concat([table, pd.DataFrame(rows, columns=_LAYER_COLUMNS)], ignore_index=True)
    _write_table(tmp, LAYERS_TABLE, table.astype(str))
    # QGIS opens the workspace with gcgeo's symbology, class breaks at the run's thresholds
    gpkg_styles.write_styles(tmp, frames, kinds=kind,
                             rules={analysis: rules} if analysis and rules is not None else None)


def _typed_if_empty(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """``frame``, and where it is an inventory layer without rows a copy declaring its kind's
    geometry type (:meth:`gcgeo.layers.LayerSpec.declared_type`), which the GeoPackage layer
    takes (:func:`gcgeo.gpkg_write.write_frames`) and every export after it: untyped, QGIS
    would draw it with no style and a Shapefile export guess a type."""
    if kind not in _layers.SPECS or not isinstance(frame, gpd.GeoDataFrame) or len(frame):
        return frame
    declared = _layers.SPECS[kind].declared_type(frame.attrs.get("geometry_type"))
    if declared is None or declared == frame.attrs.get("geometry_type"):
        return frame
    out = frame.copy()
    out.attrs["geometry_type"] = declared
    return out


def join_frames(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Frames of one layer as one frame, in the first one's CRS and geometry column name."""
    if len(frames) == 1:
        return frames[0]
    first = frames[0]
    crs, geom = first.crs, first.geometry.name
    same = []
    for f in frames:
        if f.crs is not None and crs is not None:
            f = f.to_crs(crs)
        same.append(f.rename_geometry(geom) if f.geometry.name != geom else f)
    return gpd.GeoDataFrame(pd.concat(same, ignore_index=True), geometry=geom, crs=crs)


def _map_each(frames: Mapping[str, gpd.GeoDataFrame], spec: _layers.LayerSpec,
              columns: Mapping[str, str] | None, rules: Any
              ) -> tuple[gpd.GeoDataFrame, dict[str, str], set[str]]:
    """Each file's columns mapped onto ``spec`` (a POI export's categories read), then joined.

    ``columns`` entries apply to the files holding their column; one no file holds is
    refused.  Returns the joined frame, the renames made and the columns read into
    others (a POI export's types, read into categories).
    """
    columns = dict(columns or {})
    if len(frames) > 1:
        held = {c for f in frames.values() for c in f.columns}
        for src in columns:
            if src not in held:
                listed = "; ".join(f"{n}: {', '.join(map(str, f.columns))}" for n, f in frames.items())
                raise LayerError(
                    f"column mapping names '{src}', but none of the files has such a column; "
                    f"their columns are: {listed}.")
    mapped, renames, read = [], {}, set()
    for src, gdf in frames.items():
        own = {k: v for k, v in columns.items() if k in gdf.columns} if len(frames) > 1 else columns
        if spec.kind == "facilities":  # POI exports: Amap / Baidu types → living-circle categories
            given = gdf
            gdf = _layers.facilities.poi_categories(gdf, own, rules=rules, source=src)
            if gdf is not given:
                read |= {c if c in gdf.columns else f"poi_{c}"
                         for c in _layers.facilities.poi_type_columns(given)}
        out, done = _layers.map_columns(gdf, spec, own, source=src)
        mapped.append(out)
        renames.update(done)
    return join_frames(mapped), renames, read


def add_layer(
    path: str | os.PathLike,
    kind: str,
    gdf: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame],
    *,
    name: str | None = None,
    columns: Mapping[str, str] | None = None,
    source: str | os.PathLike | None = None,
    source_layer: str | None = None,
    src_crs: str | None = None,
    overwrite: bool = False,
    rules: str | os.PathLike | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Map, type and project ``gdf`` as layer kind ``kind`` and store it.

    ``gdf`` may be several files of one layer, source → frame (as
    :func:`gcgeo.handoff.read_each` reads them): each file's columns are mapped
    before they are joined, so 名称 in one file and name in another fill one
    column; ``source`` defaults to their names.

    Facilities from a POI export (Amap type/typecode, Baidu tag) get their
    categories from the ``poi_types`` rule set, extended by ``rules``.

    A layer of the same name is only replaced with ``overwrite`` (analysis
    results made from the old layer stay until the analysis is run again, and
    :func:`gcgeo.pipeline.stale` reports them meanwhile).
    Returns a summary:
    the layer name, features, column renames, working CRS, the number of
    validation errors/warnings (run :func:`validate` for the full report), the
    columns kept but not used (``unused_columns``), the spec's columns still
    missing (``missing_columns``) and guesses pairing them (``column_hints``,
    for ``--columns``; never applied).
    """
    path = Path(path)
    check_not_open(path)
    _require(path)
    check_writable(path)
    spec = _layers.get_spec(kind)
    name = kind if name is None else name
    check_layer_name(name)
    _refuse_existing(path, [name], overwrite)
    if rules is not None:  # a bad rules file is refused now, not only when a POI export needs it
        _rules.load("poi_types", Path(rules) if isinstance(rules, os.PathLike) else rules)
    if isinstance(gdf, Mapping):
        frames = dict(gdf)
        if source is None:
            source = " + ".join(frames)
    else:
        frames = {str(source) if source is not None else "the input": gdf}
    src = str(source) if source is not None else None
    mapped, renames, read = _map_each(frames, spec, columns, rules)
    typed, bad = _layers.coerce_columns(mapped, spec)
    unused = [c for c in _layers.unused_columns(typed, spec) if c not in read]
    missing = _layers.missing_columns(typed, spec)
    if unused:
        log.info("%s: columns not used by gcgeo (kept as they are): %s", src or "the input",
                 ", ".join(unused))
    renames.update(gpkg_write.reserved_renames(typed))  # FID → fid_src: stored as writable() stores it
    if typed.crs is None:
        raise CRSError(
            f"{src or 'the layer'} has no CRS; declare it with --src-crs (wgs84, cgcs2000, gcj02, "
            "bd09 or an EPSG code)."
        )
    with lock(path):  # from here another command's change is seen, or waits
        _refuse_existing(path, [name], overwrite)
        working = _working_crs(path)
        doubts = _crs.check_coordinates(typed, source=src or "the layer", declared=src_crs,
                                        **_reference(path, working))
        new_working = None
        if working is None:
            if not (typed.geometry.notna() & ~typed.geometry.is_empty).any():
                raise CRSError(
                    f"{src or 'the layer'} has no feature with a position ({len(typed)} row(s)), so "
                    f"the workspace cannot take its working CRS from it; add a layer with features "
                    f"first, or start the workspace with its CRS: 'gcgeo init {path} --name NAME "
                    "--overwrite --crs EPSG:45xx' (your county's CGCS2000 zone, e.g. EPSG:4548 at "
                    "117°E). Nothing was added.")
            working = _crs.choose_metric_crs(typed)
            check_first_crs(working, {name: typed}, source=src or "the layer")
            new_working = working
        else:  # data of another region move the workspace, or are refused
            new_working = moved_crs(path, working, {name: typed}, overwrite=overwrite,
                                 source=src or "the layer")
            working = new_working or working
        with transaction(path) as tmp:
            if new_working is not None:
                _set_meta(tmp, {"crs": new_working.to_string()})
            _put_layers(tmp, {name: typed}, working, kind=kind, source=src,
                        source_layer=source_layer, src_crs=src_crs)
    report = _layers.validate(typed.to_crs(working), spec, layer=name)
    for doubt in doubts:
        log.warning("%s", doubt)
    log.info("added %s (%d features) to %s", name, len(typed), path)
    return {"layer": name, "kind": kind, "features": len(typed), "renamed": renames,
            "crs": working.to_string(), "errors": len(report.errors),
            "warnings": len(report.warnings), "unreadable_values": {k: int(v.sum()) for k, v in bad.items()},
            "coordinate_warnings": doubts, "unused_columns": unused,
            "missing_columns": [c.name for c in missing],
            "column_hints": _layers.guess_columns(unused, missing)}


def _refuse_existing(path: Path, names: list[str], overwrite: bool, *, rename: bool = True) -> None:
    """Refuse layers of these names the workspace holds already, unless ``overwrite``;
    ``rename`` says whether the command can store them under another name (``--name``)."""
    present = {str(n) for n, _ in pyogrio.list_layers(path)}
    folded = {n.lower(): n for n in present}
    for n in names:
        other = folded.get(n.lower())
        if other is not None and other != n:
            raise OutputExistsError(
                f"workspace {path} has a layer '{other}', and GeoPackage layer names ignore "
                f"case, so '{n}' would be the same layer; give --name {other} (with --overwrite "
                "to replace it) or another name.")
    if overwrite:
        return
    clash = [n for n in names if n in present]
    if clash:
        raise OutputExistsError(
            f"workspace {path} already has layer(s) {', '.join(clash)}; give --overwrite to "
            "replace them" + (" (or --name to add under another name)." if rename else ".")
        )


def write_layers(
    path: str | os.PathLike,
    frames: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    *,
    analysis: str | None = None,
    kind: str | Mapping[str, str] = "result",
    source: str | None = None,
    overwrite: bool = True,
    meta: Mapping[str, str] | None = None,
    spatial_index: Collection[str] | None = None,
    rules: Mapping[str, Any] | None = None,
) -> list[str]:
    """Write several layers in one atomic step (e.g. an analysis's outputs).

    Existing layers of the same names are replaced, unless ``overwrite`` is
    false (then nothing is written and :class:`OutputExistsError` names them).
    ``meta`` entries are stored in the metadata table in the same step.
    ``spatial_index`` names the layers given a spatial index, those a map or
    QGIS draws (by default every layer with geometry); the others have none.
    ``rules``: the rule sets ``analysis`` ran with, so that the layers' QGIS styles
    draw class breaks at the thresholds it applied.
    """
    path = Path(path)
    check_not_open(path)
    _require(path)
    check_writable(path)
    for name in frames:
        check_layer_name(name)
    working = _working_crs(path)
    if working is not None and not overwrite:  # another region is told before a name clash
        moved_crs(path, working, frames, overwrite=False, source=source or "the new layers")
    _refuse_existing(path, list(frames), overwrite, rename=False)  # (the layers' names are fixed)
    with lock(path):  # from here another command's change is seen, or waits
        _refuse_existing(path, list(frames), overwrite, rename=False)
        working = _working_crs(path)
        new_working = None
        if working is None:
            geo = [f for f in frames.values() if isinstance(f, gpd.GeoDataFrame) and len(f)
                   and f.crs is not None]
            if geo:
                both = pd.concat([f.geometry.to_crs(geo[0].crs) for f in geo])
                working = new_working = _crs.choose_metric_crs(gpd.GeoDataFrame(geometry=both))
                check_first_crs(working, frames, source=source or "the new layers")
        else:  # data of another region move the workspace, or are refused
            new_working = moved_crs(path, working, frames, overwrite=overwrite,
                                 source=source or "the new layers")
            working = new_working or working
        with transaction(path) as tmp:
            if new_working is not None:
                _set_meta(tmp, {"crs": new_working.to_string()})
            _put_layers(tmp, frames, working, kind=kind, source=source, analysis=analysis,
                        spatial_index=spatial_index, rules=rules)
            if analysis or meta:
                _set_meta(tmp, {**({f"analysis:{analysis}": _now()} if analysis else {}),
                                **(meta or {})})
    return list(frames)


def add_raster(path: str | os.PathLike, raster: str | os.PathLike, *, name: str = "raster",
               bands: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Record a raster's absolute path (and band roles) in the workspace metadata.

    The raster stays where it is; analyses read it from there.
    """
    import rasterio

    path = Path(path)
    check_not_open(path)
    _require(path)
    check_writable(path)
    raster = Path(raster).resolve()
    if not raster.exists():
        raise WorkspaceError(f"raster {raster} does not exist; check the path.")
    try:
        with rasterio.open(raster) as src:
            desc = {"path": str(raster), "count": src.count,
                    "crs": src.crs.to_string() if src.crs else "",
                    "res": list(src.res), "bounds": list(src.bounds)}
    except rasterio.errors.RasterioIOError as exc:
        raise WorkspaceError(f"{raster} is not a raster gcgeo can read ({exc}).") from None
    _io.check_raster(raster)
    if not desc["crs"]:
        raise CRSError(f"raster {raster} has no CRS; assign one (e.g. gdal_edit.py -a_srs) first.")
    for role, band in (bands or {}).items():
        if not 1 <= int(band) <= desc["count"]:
            raise WorkspaceError(f"raster {raster} has {desc['count']} band(s); {role} band {band} does not exist.")
    desc["bands"] = dict(bands or {})
    with lock(path):
        rasters = info(path)["rasters"]
        rasters[name] = desc
        with transaction(path) as tmp:
            _set_meta(tmp, {"rasters": json.dumps(rasters, ensure_ascii=False)})
    return desc


def _community_problems(path: Path, inventory: pd.DataFrame, area: shapely.Geometry | None
                        ) -> list[_layers.Problem]:
    """Communities against each other, their buildings and the study area, as stored now
    (:func:`gcgeo.layers.check_communities`); the study area only where one was given."""
    first = {k: n for n, k in reversed(list(zip(inventory["layer"], inventory["kind"])))}
    if "communities" not in first:
        return []
    catalogue = _catalogue(path)
    comm = _read(path, first["communities"], *catalogue)
    buildings = _read(path, first["buildings"], *catalogue) if "buildings" in first else None
    return _layers.check_communities(comm, buildings, area if "study_area" in catalogue[0] else None,
                                     layer=first["communities"], buildings_layer=first.get("buildings", ""))


def study_area(path: str | os.PathLike) -> shapely.Geometry | None:
    """The study area: the ``study_area`` layer, else the union of communities."""
    path = Path(path)
    names = {str(n) for n, _ in pyogrio.list_layers(path)}
    for layer in ("study_area", "communities"):
        if layer in names:
            gdf = pyogrio.read_dataframe(path, layer=layer)
            if len(gdf):
                return shapely.union_all(np.asarray(shapely.make_valid(gdf.geometry.values)))
    return None


def _reference(path: Path, working: CRS | None) -> dict[str, Any]:
    """Where a new layer's features are expected: the study area, else the other layers' extent."""
    area = study_area(path)
    if area is not None:
        return {"study_area": gpd.GeoSeries([area], crs=working)}
    boxes = []
    for name, geom_type in pyogrio.list_layers(path):
        if geom_type is not None and not str(name).startswith("gcgeo_"):
            bounds = pyogrio.read_info(path, layer=name).get("total_bounds")
            if bounds is not None and np.all(np.isfinite(bounds)):
                boxes.append(shapely.box(*bounds))
    if not boxes or working is None:
        return {}
    return {"study_area": gpd.GeoSeries(boxes, crs=working), "area_name": "the other layers"}


def validate(
    path: str | os.PathLike,
    *,
    fix: bool = False,
    layers: list[str] | None = None,
    outside_tolerance_m: float | None = None,
    rules: str | os.PathLike | Mapping[str, Any] | None = None,
) -> tuple[_layers.ValidationReport, list[str]]:
    """Validate every inventory layer (streets by the ``network`` rules of ``rules``, as the
    analyses walk them); with ``fix`` repair what is safe and store it.  Returns the report
    and the changes made."""
    path = Path(path)  # a user's rules file is read (and a bad one refused) before any work
    net = None if rules is None else _rules.load("network", Path(rules) if isinstance(rules, os.PathLike) else rules)
    if fix:
        check_not_open(path)
    _require(path)
    if fix:
        check_writable(path)
    with lock(path) if fix else nullcontext():  # repairs to the workspace as it is now
        return _validate(path, fix=fix, layers=layers, outside=outside_tolerance_m, network_rules=net)


def _validate(path: Path, *, fix: bool, layers: list[str] | None, outside: float | None,
              network_rules: Mapping[str, Any] | None) -> tuple[_layers.ValidationReport, list[str]]:
    table = list_layers(path)
    inventory = table[table["kind"].isin(_layers.KINDS)]
    if layers:
        unknown = set(layers) - set(inventory["layer"])
        if unknown:
            raise WorkspaceError(f"workspace {path} has no inventory layer(s) {', '.join(sorted(unknown))}.")
        inventory = inventory[inventory["layer"].isin(layers)]
    area = study_area(path)
    working = _working_crs(path)
    kwargs = {} if outside is None else {"outside_tolerance_m": outside}
    report = _layers.ValidationReport()
    changes: list[str] = []
    fixed: dict[str, gpd.GeoDataFrame] = {}
    kinds: dict[str, str] = {}
    catalogue = _catalogue(path)
    for layer, kind in zip(inventory["layer"], inventory["kind"]):
        # indexed by the GeoPackage feature id: the row a problem names is the fid QGIS shows
        gdf = _read(path, layer, *catalogue, fid=True)
        if fix:
            gdf, ch = _layers.fix(gdf, kind, layer=layer, to_crs=working)
            if ch:
                changes.extend(ch)
                # stored afresh below, numbered from 1 as GeoPackage does
                gdf = gdf.set_axis(pd.RangeIndex(1, len(gdf) + 1))
                fixed[layer] = gdf
                kinds[layer] = kind
        report.extend(_layers.validate(gdf, kind, layer=layer,
                                       study_area=area if kind != "communities" else None,
                                       network_rules=network_rules, **kwargs))
    if fixed:
        sources = dict(zip(table["layer"], table["source"]))
        with transaction(path) as tmp:
            for layer, gdf in fixed.items():
                _put_layers(tmp, {layer: gdf}, working, kind=kinds[layer],
                            source=f"{sources.get(layer) or ''} (repaired by validate --fix)")
    report.problems.extend(_community_problems(path, inventory, area))
    return report, changes
