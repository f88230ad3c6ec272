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

import codecs
import logging
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import crs as _crs
from . import shapefile
from ._errors import CRSError, FileFormatError, InputError
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

try:  # pyogrio's Arrow path reports undecodable text as an ArrowException
    from pyarrow.lib import ArrowException as _ArrowException

    _ARROW_ERRORS: tuple[type[BaseException], ...] = (_ArrowException,)
except ImportError:  # pragma: no cover - pyarrow is a dependency
    _ARROW_ERRORS = ()

log = logging.getLogger(__name__)

__all__ = [
    "EXPORT_SUFFIXES",
    "ExportReport",
    "atomic_path",
    "check_output",
    "export",
    "move_into_place",
    "raise_if_disk_full",
    "read_table_points",
    "read_vector",
    "shapefile_field_names",
]

_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
_X_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "x坐标", "东坐标", "easting", "point_x")
_Y_NAMES = ("lat", "latitude", "纬度", "y", "y坐标", "北坐标", "northing", "point_y")


# --- reading --------------------------------------------------------------


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path (and the working directory).")
    if path.is_dir() and path.suffix.lower() not in (".gdb",):
        raise InputError(f"{path} is a folder; give the file inside it (e.g. the .shp or .gpkg).")


def _guess_dbf_encoding(dbf: Path) -> str:
    """Encoding of a Shapefile's .dbf without a .cpg: UTF-8 if it decodes, else GBK."""
    raw = dbf.read_bytes()
    if len(raw) < 32:
        return "UTF-8"
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[header_len:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        body.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return "latin1"


def _cpg_encoding(text: str) -> str:
    """The encoding a .cpg names, as GDAL and Python know it.

    ArcGIS writes Windows code pages: ``ANSI 936`` or ``936`` is GBK (CP936),
    ``65001`` is UTF-8, any other number ``n`` is ``cp<n>``.
    """
    t = text.strip()
    m = re.fullmatch(r"(?:ANSI|OEM|CP)?\s*(\d+)", t, flags=re.IGNORECASE)
    if m:
        n = int(m.group(1))
        return {936: "CP936", 65001: "UTF-8"}.get(n, f"cp{n}")
    return t


def _check_encoding(path: Path, enc: str, given: bool) -> None:
    """Refuse an encoding Python does not know, naming where it came from."""
    try:
        codecs.lookup(enc)
    except LookupError:
        where = ("given as --encoding" if given
                 else f"named by {path.with_suffix('.cpg').name}")
        raise FileFormatError(
            f"{path}: unknown text encoding '{enc}' ({where}); give the file's encoding with "
            "--encoding, e.g. UTF-8, GBK or GB18030."
        ) from None


def _shapefile_encoding(path: Path, encoding: str | None) -> str | None:
    if encoding:
        _check_encoding(path, encoding, given=True)
        return encoding
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        cpg = path.with_suffix(".CPG")
    if cpg.exists():
        text = cpg.read_text(errors="replace").strip()
        if text:
            enc = _cpg_encoding(text)
            _check_encoding(path, enc, given=False)
            return enc
    dbf = path.with_suffix(".dbf")
    if dbf.exists():
        enc = _guess_dbf_encoding(dbf)
        log.info("%s has no .cpg; its text reads as %s", path.name, enc)
        return enc
    return None


def _gpkg_layers(path: Path) -> list[str]:
    # the styles QGIS (and gcgeo's exports) keep beside the layers are no layer to read
    return [str(n) for n, _ in pyogrio.list_layers(path) if str(n) != "layer_styles"]


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
    """
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    if suffix in _TABLE_SUFFIXES:
        return read_table_points(path, x=x, y=y, src_crs=src_crs, sheet=sheet, encoding=encoding)
    try:
        if suffix == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            kwargs: dict[str, Any] = {}
            if suffix == ".shp":
                enc = _shapefile_encoding(path, encoding)
                if enc:
                    kwargs["encoding"] = enc
            elif encoding:
                _check_encoding(path, encoding, given=True)
                kwargs["encoding"] = encoding
            if layer is None and suffix in (".gpkg", ".kml", ".gdb", ".sqlite"):
                names = _gpkg_layers(path)
                if len(names) > 1:
                    raise InputError(
                        f"{path} holds {len(names)} layers ({', '.join(names)}); choose one "
                        "with --layer NAME."
                    )
                layer = names[0] if names else None  # (not its layer_styles table)
            elif layer is not None and suffix in (".gpkg", ".kml", ".gdb", ".sqlite"):
                names = _gpkg_layers(path)
                if layer not in names:
                    raise InputError(
                        f"{path} has no layer '{layer}'; its layers are: {', '.join(names)}."
                    )
            gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=True, **kwargs)
    except InputError:
        raise
    except (LookupError, UnicodeError, *_ARROW_ERRORS) as exc:
        raise FileFormatError(
            f"{path}: its text could not be decoded ({_short(exc)}); give the file's encoding "
            "with --encoding, e.g. UTF-8, GBK or GB18030."
        ) from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError,
            ValueError) as exc:
        raise FileFormatError(
            f"{path} could not be read as a vector file ({_short(exc)}); check that it is a "
            "complete GeoPackage, Shapefile (with its .shx and .dbf), GeoJSON, FlatGeobuf, "
            "GeoParquet, KML, CSV or XLSX file."
        ) from None
    if suffix == ".kml":
        gdf = _tidy_kml(gdf)
    if suffix == ".shp":  # gcgeo's short field names back to its column names
        gdf = shapefile.restore_field_names(gdf, path)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise FileFormatError(f"{path} has no geometry column; for tables of points give --x and --y.")
    return _apply_crs(gdf, src_crs, path)


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


def _find_column(columns: list[str], wanted: str | None, names: tuple[str, ...], axis: str,
                 path: Path) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise InputError(
                f"{path} has no column '{wanted}' (given as --{axis}); its columns are: "
                f"{', '.join(columns)}."
            )
        return wanted
    lower = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    raise InputError(
        f"{path}: no {axis} coordinate column found among {', '.join(map(str, columns))}; name "
        f"it with --{axis} COLUMN."
    )


def _cell_text(v: Any) -> Any:
    """A spreadsheet cell as text, integral numbers without a trailing '.0'."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _tidy_excel(df: pd.DataFrame) -> pd.DataFrame:
    """Type the columns of a sheet read with ``dtype=object``.

    A column of numbers (or dates) only becomes numeric (or dates); a column
    holding any text cell is all text, so codes typed as text keep their
    leading zeros and numbers mixed in read as the text Excel shows.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        values = s.dropna()
        if len(values) and values.map(lambda v: isinstance(v, str)).any():
            out[col] = s.map(_cell_text).astype(object)
        else:
            out[col] = s.infer_objects()
    return out


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
    are reported by row number.
    """
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    if encoding and suffix not in (".xlsx", ".xls"):
        _check_encoding(path, encoding, given=True)
    try:
        if suffix in (".xlsx", ".xls"):
            # dtype=object: text cells stay text ("0101"), numbers stay numbers
            df = _tidy_excel(pd.read_excel(path, sheet_name=sheet if sheet is not None else 0,
                                           dtype=object))
        else:
            sep = "\t" if suffix == ".tsv" else None
            enc = encoding
            if enc is None:
                raw = path.read_bytes()
                try:
                    raw.decode("utf-8")
                    enc = "utf-8-sig"
                except UnicodeDecodeError:
                    enc = "gb18030"
            # read as text: codes such as "0001" keep their zeros; the layer specs
            # type the columns later (gcgeo.layers.coerce_columns)
            df = pd.read_csv(path, sep=sep, engine="python", encoding=enc, dtype=str,
                             keep_default_na=False, na_values=[""], skip_blank_lines=False)
    except (LookupError, UnicodeError) as exc:
        raise FileFormatError(
            f"{path}: its text could not be decoded ({_short(exc)}); give the file's encoding "
            "with --encoding, e.g. UTF-8, GBK or GB18030."
        ) from None
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as exc:
        raise FileFormatError(f"{path} could not be read as a table ({_short(exc)}).") from None
    columns = [str(c) for c in df.columns]
    df.columns = columns
    # the index stays the file's row (line = index + 2) until the frame is built
    empty = df.apply(lambda s: s.isna() | s.map(lambda v: isinstance(v, str) and not v.strip()))
    empty_rows = empty.all(axis=1) if len(columns) else pd.Series(True, index=df.index)
    if empty_rows.any():
        log.info("%s: %d empty row(s) skipped", path.name, int(empty_rows.sum()))
        df = df[~empty_rows]
    xcol = _find_column(columns, x, _X_NAMES, "x", path)
    ycol = _find_column(columns, y, _Y_NAMES, "y", path)
    if src_crs is None:
        raise CRSError(
            f"{path} is a table of coordinates ({xcol}, {ycol}) and carries no CRS; declare it "
            "with --src-crs: wgs84 (GPS), gcj02 (Amap/Tencent), bd09 (Baidu), cgcs2000, or an "
            "EPSG code such as EPSG:4547."
        )
    xs = pd.to_numeric(df[xcol], errors="coerce")
    ys = pd.to_numeric(df[ycol], errors="coerce")
    bad = xs.isna() | ys.isna()
    if bad.any():
        rows = [str(int(i) + 2) for i in bad.index[bad.to_numpy()][:10]]
        raise InputError(
            f"{path}: {int(bad.sum())} row(s) have missing or non-numeric coordinates in "
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
    return _crs.declare_crs(gdf, src_crs, source=str(path))
