"""Read a planner's vector files in the forms they come in; export with the
driver chosen from the file's suffix.

Reading: GeoPackage (any layer), Shapefile (UTF-8 or GBK, honouring .cpg, with
an encoding override), GeoJSON, FlatGeobuf, GeoParquet, KML, and CSV / XLSX of
points with x/y or lon/lat columns and a declared CRS (``wgs84``,
``cgcs2000``, ``gcj02``, ``bd09`` or an EPSG code).

Export (the driver chosen from the suffix, atomic writes) lives in
:mod:`gcgeo.export`; its public names are re-exported here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import _shapefile, shapefile
from . import crs as _crs
from ._encoding import check_known, decode_error, misread_error
from ._errors import (
    CRSError,
    FileFormatError,
    InputError,
)
from ._sniff import display, expected, unreadable, what_is
from ._tabular import X_NAMES, Y_NAMES, find_column, read_csv, read_excel
from .export import (
    EXPORT_SUFFIXES,
    ExportReport,
    atomic_path,
    check_output,
    export,
    move_into_place,
    raise_if_disk_full,
    shapefile_field_names,
)

log = logging.getLogger(__name__)

__all__ = [
    "EXPORT_SUFFIXES",
    "ExportReport",
    "MAX_COLUMNS",
    "atomic_path",
    "check_output",
    "check_raster",
    "export",
    "move_into_place",
    "raise_if_disk_full",
    "read_table_points",
    "read_vector",
    "shapefile_field_names",
]

_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")



# --- reading --------------------------------------------------------------

#: Suffixes whose files GDAL's OSM driver reads (as five layers: points, lines…)
_OSM_SUFFIXES = (".osm", ".pbf")
#: Formats of one layer (listing a big GeoJSON's layers would read it twice)
_SINGLE_LAYER_SUFFIXES = (".shp", ".geojson", ".json", ".fgb")
#: Drivers that know their feature count without reading every feature
_COUNTED_SUFFIXES = (".shp", ".gpkg", ".fgb", ".sqlite")
#: Attribute columns a workspace layer can hold: a GeoPackage (SQLite) table
#: has at most 2,000 columns, its feature id and geometry included.
MAX_COLUMNS = 1998


def _check_exists(path: Path) -> None:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            f"the file name {display(path)} is not UTF-8 text (the bytes shown as \\x.. come from "
            "another encoding, e.g. a ZIP made on Chinese Windows), and GDAL cannot open it. "
            "Rename the file to a name in UTF-8 (in the file manager, or with 'mv') and add it "
            "again."
        ) from None
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path (and the working directory).")
    if path.is_dir() and path.suffix.lower() not in (".gdb",):
        raise InputError(f"{path} is a folder; give the file inside it (e.g. the .shp or .gpkg).")


def _is_osm(path: Path) -> bool:
    return path.suffix.lower() in _OSM_SUFFIXES


def _choose_layer(path: Path, layer: str | None) -> str | None:
    """``layer`` if ``path`` has it; else its only map layer; else refuse, listing them.

    OpenStreetMap files always need ``layer``: their five layers (points,
    lines, multipolygons…) hold different features of one map.
    """
    suffix = path.suffix.lower()
    if layer is None and suffix in _SINGLE_LAYER_SUFFIXES:
        kind = what_is(path)
        if kind is None or suffix in kind.suffixes:  # as its name says: one layer, not listed
            return None
    try:
        # the styles QGIS (and gcgeo's exports) keep beside the layers are no layer to read
        listed = [(str(n), g) for n, g in pyogrio.list_layers(path) if str(n) != "layer_styles"]
    except Exception as exc:  # noqa: BLE001 - any failure to open is the file's
        raise unreadable(path, exc, expected=expected(path.suffix.lower())) from None
    names = [n for n, _ in listed]
    if layer is not None:
        if layer not in names:
            raise InputError(f"{path} has no layer '{layer}'; its layers are: {', '.join(names)}. "
                             "Choose one with --layer NAME.")
        return layer
    spatial = [(n, g) for n, g in listed if g is not None]  # no geometry type: a plain table
    if len(spatial) <= 1 and not _is_osm(path):
        return spatial[0][0] if spatial else None
    shown = ", ".join(f"{n} ({g})" for n, g in spatial)
    hint = (" For an OpenStreetMap file: points for places (shops, schools), lines for streets, "
            "multipolygons for areas (parks, buildings); or 'gcgeo import-osm' fills every "
            "layer kind at once." if _is_osm(path) else "")
    raise InputError(f"{path} holds {len(spatial)} map layers: {shown}. Choose one with "
                     f"--layer NAME.{hint}")


def _check_all_read(path: Path, layer: str | None, n: int) -> None:
    """Refuse a layer GDAL stopped reading early (it says nothing when reading by Arrow)."""
    if path.suffix.lower() not in _COUNTED_SUFFIXES:
        return
    try:
        announced = int(pyogrio.read_info(path, layer=layer)["features"])
    except Exception:  # noqa: BLE001 - the count is a check, the read succeeded
        return
    if announced > n:
        raise FileFormatError(
            f"{path}: only {n} of its {announced} features could be read; the file is damaged "
            "or incomplete (e.g. a copy cut short). Nothing was read. Get a complete copy, or "
            "export it again from the program that made it."
        )


def _drop_unbuilt(gdf: gpd.GeoDataFrame, path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """OpenStreetMap features whose geometry could not be built (cut by the extract) left out."""
    missing = gdf.geometry.isna().to_numpy()
    if missing.any():
        log.warning("%s: %d of %d features of layer %s have no complete geometry (relations "
                    "cut at the edge of the extract); they are left out", display(path),
                    int(missing.sum()), len(gdf), layer)
        gdf = gdf[~missing].reset_index(drop=True)
    return gdf


def _check_text(gdf: pd.DataFrame, path: Path, encoding: str | None) -> None:
    """Refuse text GDAL passed on undecoded (a .cpg saying UTF-8 over GBK text), naming the rows."""
    import pyarrow as pa

    for col in gdf.columns:
        values = gdf[col].array
        if not hasattr(values, "__arrow_array__"):
            continue
        arr = pa.array(values)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            continue
        try:
            arr.validate(full=True)
        except pa.ArrowInvalid:
            raw = arr.cast(pa.large_binary()).to_pylist()
            bad = [(f"row {i + 1}, {col}", v) for i, v in enumerate(raw)
                   if v is not None and not _is_utf8(v)]
            raise misread_error(str(path), bad, encoding) from None


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_geo(path: Path, *, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            return gpd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any failure of the reader is the file's
            raise unreadable(path, exc, expected=expected(suffix)) from None
    kwargs: dict[str, Any] = {}
    enc = None
    if suffix == ".shp":
        _shapefile.check_complete(path)
        enc = _shapefile.text_encoding(path, encoding)
        if enc and _shapefile.cut_names(path, enc):
            return _read_cut_names(path, enc)
    elif encoding:
        check_known(encoding, source=str(path), named_by="given as --encoding")
        enc = encoding
    if enc:
        kwargs["encoding"] = enc
    if _is_osm(path):
        # files saved from Overpass list nodes out of order: GDAL's own index then drops
        # features without a word; broken rings of relations cut by the extract are left out
        kwargs.update(USE_CUSTOM_INDEXING="NO", on_invalid="fix")
    layer = _choose_layer(path, layer)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=True, **kwargs)
    except UnicodeError as exc:
        raise decode_error(str(path), exc, enc) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the reader is the file's
        raise unreadable(path, exc, expected=expected(suffix)) from None
    _check_all_read(path, layer, len(gdf))
    _check_text(gdf, path, enc)
    if _is_osm(path) and isinstance(gdf, gpd.GeoDataFrame):
        gdf = _drop_unbuilt(gdf, path, layer)
    return gdf


def _read_cut_names(path: Path, encoding: str) -> gpd.GeoDataFrame:
    """A Shapefile some of whose field names the .dbf's 10-byte limit cut in the middle of a
    character (:func:`gcgeo._shapefile.cut_names`), read as GDAL gives it its bytes
    (ISO-8859-1 maps each byte to one character and back): the names without the cut
    character, every text value decoded strictly in ``encoding``.
    """
    try:
        gdf = pyogrio.read_dataframe(path, use_arrow=True, encoding="ISO-8859-1")
    except Exception as exc:  # noqa: BLE001 - any failure of the reader is the file's
        raise unreadable(path, exc, expected=expected(".shp")) from None
    geometry = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    bad: list[tuple[str, bytes]] = []
    for col in gdf.columns:
        if col == geometry or not pd.api.types.is_string_dtype(gdf[col]):
            continue
        name = _shapefile.field_name(str(col).encode("latin-1"), encoding)
        values: list[str | None] = []
        for i, v in enumerate(gdf[col].tolist()):
            raw = v.encode("latin-1") if isinstance(v, str) else None
            try:
                values.append(None if raw is None else raw.decode(encoding))
            except UnicodeDecodeError:
                bad.append((f"row {i + 1}, {name}", raw or b""))
                values.append(None)
        gdf[col] = pd.Series(values, index=gdf.index, dtype=gdf[col].dtype)
    if bad:
        raise misread_error(str(path), bad, encoding)
    return gdf.rename(columns={c: _shapefile.field_name(str(c).encode("latin-1"), encoding)
                               for c in gdf.columns if c != geometry})


def _check_width(frame: pd.DataFrame, path: Path) -> None:
    n = len(frame.columns) - (1 if isinstance(frame, gpd.GeoDataFrame) else 0)
    if n > MAX_COLUMNS:
        raise InputError(
            f"{path} has {n:,} columns; a layer of a gcgeo workspace (a GeoPackage) holds at most "
            f"{MAX_COLUMNS:,}. Keep the columns you need (delete the others, e.g. in Excel or "
            "QGIS) and add it again."
        )


def read_vector(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    src_crs: Any = None,
    x: str | None = None,
    y: str | None = None,
    sheet: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read any supported vector file into a GeoDataFrame.

    ``src_crs`` declares the coordinates' CRS: required for tables of
    coordinates and for files without one; for files with a CRS it overrides
    it (e.g. ``gcj02`` for lon/lat copied from Amap, which a file would label
    as WGS-84).  GCJ-02 and BD-09 are converted to true WGS-84 here.

    A file of several map layers (a GeoPackage, a KML with folders, any
    OpenStreetMap file) needs ``layer``; without it the layers are listed.
    A Shapefile whose .shp, .shx and .dbf disagree is refused; the text of
    one without a .cpg is read in the encoding its .dbf's code-page byte
    names or its text shows (a guess is logged as a warning); a field name
    the .dbf's 10-byte limit cut in the middle of a character is read
    without that character, with a warning.  A file that
    cannot be read is a :class:`~gcgeo.FileFormatError` saying whether it is
    empty, another kind of file than its name says, or damaged.
    """
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    if suffix in _TABLE_SUFFIXES:
        return read_table_points(path, x=x, y=y, src_crs=src_crs, sheet=sheet, encoding=encoding)
    gdf = _read_geo(path, layer=layer, encoding=encoding)
    if suffix == ".kml":
        gdf = _tidy_kml(gdf)
    if suffix == ".shp":  # gcgeo's short field names back to its column names
        gdf = shapefile.restore_field_names(gdf, path, encoding=encoding)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        kind = what_is(path)  # GDAL read it by its content: say what it really is
        if kind is not None and suffix not in kind.suffixes:
            raise unreadable(path, None, expected=expected(suffix))
        raise FileFormatError(f"{path} has no geometry column; for tables of points give --x and --y.")
    _check_width(gdf, path)
    return _apply_crs(gdf, src_crs, path)


def check_raster(path: str | os.PathLike) -> None:
    """Refuse a raster whose data cannot be read to its end (a GeoTIFF cut short).

    GDAL opens a cut GeoTIFF from its header and fails only when an analysis
    reads the missing rows; this reads the last block of every band now.
    """
    import rasterio
    from rasterio.windows import Window

    path = Path(path)
    try:
        with rasterio.open(path) as ds:
            rows, cols = ds.block_shapes[0]
            row = (ds.height - 1) // rows * rows
            col = (ds.width - 1) // cols * cols
            ds.read(window=Window(col, row, ds.width - col, ds.height - row))
    except rasterio.errors.RasterioError as exc:
        raise unreadable(path, exc, expected="a raster (GeoTIFF)") from None


_KML_BOOKKEEPING = ("description", "timestamp", "begin", "end", "altitudeMode", "tessellate",
                    "extrude", "visibility", "drawOrder", "icon", "snippet")


def _tidy_kml(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop LIBKML's empty style columns; give back the attributes' own names."""
    # LIBKML's "not set" values: -1 (tessellate, visibility), 0 or -1 (extrude)
    unset = {"tessellate": {-1}, "visibility": {-1}, "extrude": {0, -1}}
    drop = [c for c in _KML_BOOKKEEPING if c in gdf.columns
            and (gdf[c].isna().all() or (c in unset and gdf[c].dropna().isin(unset[c]).all()))]
    gdf = gdf.drop(columns=drop)
    if "id2" in gdf.columns and "id" in gdf.columns:  # placemark ids shadowed ours
        gdf = gdf.drop(columns="id").rename(columns={"id2": "id"})
    if "Name" in gdf.columns and "name" not in gdf.columns:
        gdf = gdf.rename(columns={"Name": "name"})
    return gdf


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _apply_crs(gdf: gpd.GeoDataFrame, src_crs: Any, path: Path) -> gpd.GeoDataFrame:
    if src_crs is not None:
        if gdf.crs is not None:
            log.info("%s: declared CRS %s replaces the file's %s", path.name, src_crs,
                     gdf.crs.to_string())
        return _crs.declare_crs(gdf, src_crs, source=str(path))
    if gdf.crs is None:
        raise CRSError(
            f"{path} has no coordinate reference system (no .prj or CRS in the file); declare "
            "it with --src-crs (wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as EPSG:4547)."
        )
    return gdf


def read_table_points(
    path: str | os.PathLike,
    *,
    x: str | None = None,
    y: str | None = None,
    src_crs: Any = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a CSV or XLSX table of points with x/y (or lon/lat) columns.

    The CRS must be declared (``src_crs``): a table carries none, and lon/lat
    copied from Amap (GCJ-02) or Baidu (BD-09) look like WGS-84 but lie
    hundreds of metres away.  Rows with missing or non-numeric coordinates
    are reported by row number; so are rows at (0, 0) or far from all the
    others (:func:`gcgeo.crs.check_strays`: file lines of a CSV file, rows of
    a sheet).  Projected coordinates whose northings stand in the x column
    (the Chinese survey convention) are refused with the --x/--y fix
    (:func:`gcgeo.crs.check_axes`).
    """
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    if encoding and suffix not in (".xlsx", ".xls"):
        check_known(encoding, source=str(path), named_by="given as --encoding")
    df = read_excel(path, sheet) if suffix in (".xlsx", ".xls") else \
        read_csv(path, sep="\t" if suffix == ".tsv" else None, encoding=encoding)
    columns = [str(c) for c in df.columns]
    df.columns = columns
    # the index stays the file's row (line = index + 2) until the frame is built
    empty = df.apply(lambda s: s.isna() | s.map(lambda v: isinstance(v, str) and not v.strip()))
    empty_rows = empty.all(axis=1) if len(columns) else pd.Series(True, index=df.index)
    if empty_rows.any():
        log.info("%s: %d empty row(s) skipped", path.name, int(empty_rows.sum()))
        df = df[~empty_rows]
    xcol = find_column(columns, x, X_NAMES, "x", path)
    ycol = find_column(columns, y, Y_NAMES, "y", path)
    if src_crs is None:
        raise CRSError(
            f"{path} is a table of coordinates ({xcol}, {ycol}) and carries no CRS; declare it "
            "with --src-crs: wgs84 (GPS), gcj02 (Amap/Tencent), bd09 (Baidu), cgcs2000, or an "
            "EPSG code such as EPSG:4547."
        )
    xs = pd.to_numeric(df[xcol], errors="coerce")
    ys = pd.to_numeric(df[ycol], errors="coerce")
    bad = ~(np.isfinite(xs.astype(float)) & np.isfinite(ys.astype(float)))  # NaN, inf
    if bad.any():
        rows = [str(int(i) + 2) for i in bad.index[bad.to_numpy()][:10]]
        raise InputError(
            f"{path}: {int(bad.sum())} row(s) have missing, non-numeric or infinite coordinates in "
            f"'{xcol}'/'{ycol}' (file lines {', '.join(rows)}{'…' if bad.sum() > 10 else ''}); "
            "fix or remove them."
        )
    crs, _ = _crs.parse_crs(src_crs)
    if crs.is_geographic and len(xs):
        ax, ay = float(xs.abs().max()), float(ys.abs().max())
        if 90 < ay <= 180 and ax <= 90:
            raise InputError(
                f"{path}: '{xcol}' holds values up to {ax:g} (latitudes?) and '{ycol}' up to "
                f"{ay:g} (longitudes?); the x/y columns look swapped: give --x {ycol} --y {xcol}."
            )
    gdf = gpd.GeoDataFrame(
        df.drop(columns=[xcol, ycol]).reset_index(drop=True),
        geometry=gpd.points_from_xy(xs, ys), crs=None,
    )
    _check_width(gdf, path)
    gdf = _crs.declare_crs(gdf, src_crs, source=str(path))
    # the checks that name columns and file lines (gcgeo.crs.check_coordinates names features)
    _crs.check_axes(xs, ys, gdf.crs, source=str(path), x_name=xcol, y_name=ycol)
    where = "row" if suffix in (".xlsx", ".xls") else "line"
    _crs.check_strays(xs, ys, gdf.crs, source=str(path), what="row",
                      rows=[f"{where} {int(i) + 2}" for i in df.index])
    return gdf
