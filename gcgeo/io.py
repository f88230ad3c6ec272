"""Read a planner's vector files in the forms they come in; export with the
driver chosen from the file's suffix.

Reading: GeoPackage (any layer), Shapefile (UTF-8 or GBK, honouring .cpg, with
an encoding override), GeoJSON, FlatGeobuf, GeoParquet, KML, and CSV / XLSX of
points with x/y or lon/lat columns and a declared CRS (``wgs84``,
``cgcs2000``, ``gcj02``, ``bd09`` or an EPSG code).

Export: .gpkg, .shp (field names shortened to 10 characters, the mapping
reported, a .cpg written), .geojson (RFC 7946, EPSG:4326), .csv (lon/lat for
points, else WKT, in EPSG:4326), .fgb, .parquet, .kml.  Every write goes to a
temporary file first and is renamed into place, so an interrupted export
never leaves a half-written file; an export of several files writes them all
before any is renamed, so a failed one leaves none.  An existing file (a
Shapefile's .dbf, .shx… included) is only replaced when ``overwrite`` is
given, and an output is never written onto an input (:func:`check_output`).
A full disk is reported as such (:class:`~gcgeo.DiskFullError`), naming the file.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import _shapefile
from . import crs as _crs
from ._encoding import check_known, decode_error, misread_error
from ._errors import (
    CRSError,
    DiskFullError,
    FileFormatError,
    GcgeoError,
    InputError,
    OutputExistsError,
)
from ._sniff import display, expected, unreadable, what_is
from ._tabular import X_NAMES, Y_NAMES, find_column, read_csv, read_excel
from .values import lists_as_text

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

#: Export suffix → (GDAL driver or special writer, multi-layer?)
EXPORT_SUFFIXES: dict[str, tuple[str, bool]] = {
    ".gpkg": ("GPKG", True),
    ".shp": ("ESRI Shapefile", False),
    ".geojson": ("GeoJSON", False),
    ".json": ("GeoJSON", False),
    ".csv": ("csv", False),
    ".fgb": ("FlatGeobuf", False),
    ".parquet": ("parquet", False),
    ".kml": ("KML", False),
}
_SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
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
        listed = [(str(n), g) for n, g in pyogrio.list_layers(path)]
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
    names or its text shows (a guess is logged as a warning).  A file that
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
    are reported by row number.
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
    return _crs.declare_crs(gdf, src_crs, source=str(path))


# --- writing --------------------------------------------------------------


PathLike = str | os.PathLike


def _occupied(path: Path) -> list[Path]:
    """The files writing ``path`` fills: a Shapefile's .shp and its sidecars."""
    if path.suffix.lower() == ".shp":
        return [path] + [path.with_suffix(s) for s in _SHAPEFILE_SIDECARS if s != ".shp"]
    return [path]


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (by name, symbolic or hard link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def check_output(
    outputs: PathLike | Iterable[PathLike],
    *,
    inputs: Iterable[PathLike] = (),
    overwrite: bool = False,
) -> list[Path]:
    """Refuse outputs that land on an input, or replace a file without ``overwrite``.

    ``outputs`` are the files a command will write; a Shapefile counts with
    its sidecars (.shx, .dbf, .prj, .cpg, …).  ``inputs`` are the files it
    reads (its workspace, …): an output that is one of them, or one of their
    sidecars, by the same name or through a link, is refused with
    :class:`~gcgeo.InputError` naming both, even with ``overwrite``.  Without
    ``overwrite`` an existing output raises :class:`~gcgeo.OutputExistsError`.
    Returns every file the outputs occupy.

    >>> check_output("ws.gpkg", inputs=["./ws.gpkg"], overwrite=True)  # doctest: +SKIP
    Traceback (most recent call last):
    gcgeo._errors.InputError: output ws.gpkg is the input ./ws.gpkg: …
    """
    outs = [Path(outputs)] if isinstance(outputs, (str, os.PathLike)) else [Path(p) for p in outputs]
    read = [(Path(i), side) for i in inputs for side in _occupied(Path(i))]
    files: list[tuple[Path, Path]] = [(o, side) for o in outs for side in _occupied(o)]
    for out, side in files:
        for given, inp in read:
            if _same_file(side, inp):
                via = "" if side == out else f" writes {side} beside it, which"
                what = f"the input {given}" if inp == given else f"{inp}, part of the input {given}"
                raise InputError(
                    f"output {out}{via} is {what}: writing it would destroy that input. "
                    "Choose another output file name (or folder)."
                )
    if not overwrite:
        existing = [(out, side) for out, side in files if side.exists() or side.is_symlink()]
        if existing:
            named = ", ".join(str(side) if side == out else f"{side} (part of {out})"
                              for out, side in existing)
            raise OutputExistsError(f"{named} exist{'s' if len(existing) == 1 else ''}; "
                                    "give --overwrite to replace "
                                    f"{'it' if len(existing) == 1 else 'them'}.")
    return [side for _, side in files]


#: Texts GDAL, SQLite and the C library use when a write finds the disk full
_FULL_TEXTS = ("no space left on device", "disk is full", "disk quota exceeded",
               "not enough space on the disk")
#: Below this much free space, a failed write of a database or image is taken for a full disk
_NEARLY_FULL_BYTES = 1 << 20


def _says_disk_full(exc: BaseException, folder: Path) -> bool:
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(t in str(e).lower() for t in _FULL_TEXTS):
            return True
        e = e.__cause__ or e.__context__
    if isinstance(exc, OSError) and exc.errno is not None:
        return False  # the system said what went wrong, and it was not the disk
    if isinstance(exc, (OSError, RuntimeError)):
        # GDAL reports a failed write as a failed COMMIT or ROLLBACK, or not at all
        try:
            return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
        except OSError:
            return False
    return False


def raise_if_disk_full(exc: BaseException, target: PathLike, *, left: str) -> None:
    """Raise :class:`~gcgeo.DiskFullError` naming ``target`` if ``exc`` came of a full disk.

    Call it where a write failed, before removing the temporary files (their
    size is part of the evidence).  ``left`` says in what state the failure
    left things, e.g. "The workspace was left as it was."
    """
    if not isinstance(exc, Exception):
        return
    target = Path(target)
    folder = target.parent if target.parent.exists() else Path(".")
    if isinstance(exc, GcgeoError):  # said already, or not about the disk
        if not isinstance(exc, DiskFullError):
            return
    elif not _says_disk_full(exc, folder):
        return
    try:
        free = f"{shutil.disk_usage(folder).free / 1e6:.1f} MB free in {folder}"
    except OSError:
        free = f"in {folder}"
    raise DiskFullError(
        f"cannot write {target}: the disk is full (no space left on device, {free}). {left} "
        "Free some space, or write to another disk, and run the command again."
    ) from None


@contextmanager
def atomic_path(target: PathLike, *, overwrite: bool = False,
                inputs: Iterable[PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it into place on success.

    Nothing is left behind on failure, and ``target`` is untouched until the
    final rename.  Raises :class:`OutputExistsError` if ``target`` exists and
    ``overwrite`` is false, :class:`InputError` if it is one of ``inputs``
    (see :func:`check_output`) and :class:`DiskFullError` if the disk fills.
    """
    target = Path(target)
    check_output(target, inputs=inputs, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix,
                               dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException as exc:
        raise_if_disk_full(exc, target, left=f"{target.name} was not written.")
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def shapefile_field_names(columns: list[str]) -> dict[str, str]:
    """Map column names to unique Shapefile field names of at most 10 characters.

    Lengths are counted in bytes of UTF-8, which is what the .dbf stores.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        base = str(col)
        name = base
        while len(name.encode("utf-8")) > 10:
            name = name[:-1]
        candidate, k = name, 1
        while candidate.lower() in used:
            suffix = f"_{k}"
            stem = name
            while len((stem + suffix).encode("utf-8")) > 10:
                stem = stem[:-1]
            candidate, k = stem + suffix, k + 1
        used.add(candidate.lower())
        out[base] = candidate
    return out


@dataclass
class ExportReport:
    """What an export wrote."""

    files: list[Path] = field(default_factory=list)
    renamed_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"wrote {p}" for p in self.files]
        for layer, m in self.renamed_fields.items():
            pairs = ", ".join(f"{k} → {v}" for k, v in m.items())
            lines.append(f"{layer}: Shapefile field names shortened: {pairs}")
        return "\n".join(lines + self.notes)


def _prepare(gdf: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Make columns writable: lists and dicts as the workspace writes them
    (:func:`gcgeo.values.list_text`), nullable types kept."""
    return lists_as_text(gdf.copy())


def _write_one(gdf: gpd.GeoDataFrame | pd.DataFrame, path: Path, driver: str, layer: str,
               report: ExportReport, *, csv_geometry: str | None,
               target_name: str | None = None) -> None:
    """Write one frame to ``path`` (a temporary file); ``target_name`` is the
    file name the user will see, for the report."""
    is_geo = isinstance(gdf, gpd.GeoDataFrame)
    frame = _prepare(gdf)
    if driver == "parquet":
        if is_geo:
            frame.to_parquet(path)
        else:
            pd.DataFrame(frame).to_parquet(path)
        return
    if driver == "csv":
        _write_csv(frame, path, csv_geometry=csv_geometry, report=report, layer=layer,
                   target_name=target_name or path.name)
        return
    if driver in ("GeoJSON", "KML") and is_geo and frame.crs is not None:
        frame = frame.to_crs("EPSG:4326")
    kwargs: dict[str, Any] = {}
    if driver == "GeoJSON":
        kwargs["RFC7946"] = "YES"
    if driver == "ESRI Shapefile":
        names = shapefile_field_names([c for c in frame.columns
                                       if not (is_geo and c == frame.geometry.name)])
        renamed = {k: v for k, v in names.items() if k != v}
        if renamed:
            frame = frame.rename(columns=renamed)
            report.renamed_fields[layer] = renamed
        kwargs["encoding"] = "UTF-8"
        for col in frame.columns:
            if str(frame[col].dtype) in ("boolean", "bool"):
                frame[col] = frame[col].astype("Int64")
    if driver in ("GPKG", "KML", "GeoJSON", "FlatGeobuf"):
        kwargs["layer"] = layer  # else GDAL names the layer after the temporary file
    if not is_geo:
        if driver not in ("GPKG",):
            raise InputError(f"table '{layer}' has no geometry; export it as .gpkg, .csv or .parquet.")
    pyogrio.write_dataframe(frame, path, driver=driver, use_arrow=True,
                            append=driver == "GPKG" and path.exists(), **kwargs)
    if driver == "KML":  # GDAL's KML writer says nothing when a write fails (a full disk)
        _check_written(path, len(frame), target_name or path.name)


def _check_written(path: Path, expected: int, name: str) -> None:
    try:
        found = int(pyogrio.read_info(path)["features"])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise OSError(f"{name} was written incomplete: it cannot be read back ({_short(exc)})") from None
    if found != expected:
        raise OSError(f"{name} was written incomplete: {found} of {expected} features")


def _free_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_1``, ``base_2``… whichever is not in ``taken``."""
    name, k = base, 1
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _write_csv(frame: pd.DataFrame, path: Path, *, csv_geometry: str | None,
               report: ExportReport, layer: str, target_name: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        return
    if frame.crs is None:
        raise InputError(
            f"layer '{layer}' has no CRS, so its coordinates cannot be written as WGS-84 to "
            f"{target_name}; declare its CRS first (--src-crs when adding the file, e.g. "
            "wgs84, cgcs2000 or an EPSG code)."
        )
    geo = frame.to_crs("EPSG:4326")
    geoms = np.asarray(geo.geometry.values, dtype=object)
    all_points = bool(len(geoms)) and bool(np.all(shapely.get_type_id(geoms) == 0))
    mode = csv_geometry or ("lonlat" if all_points else "wkt")
    table = pd.DataFrame(geo.drop(columns=geo.geometry.name))
    taken = {str(c) for c in table.columns}
    if mode == "lonlat":
        if not all_points:
            raise InputError(f"layer '{layer}' is not all points; export it to CSV as WKT "
                             "(csv_geometry='wkt').")
        lon, lat = _free_name("lon", taken), _free_name("lat", taken)
        table[lon] = shapely.get_x(geoms)
        table[lat] = shapely.get_y(geoms)
        where = f"{lon}/{lat}"
    else:
        where = _free_name("wkt", taken)
        table[where] = shapely.to_wkt(geoms, rounding_precision=-1)
    table.to_csv(path, index=False, encoding="utf-8-sig")
    report.notes.append(f"{target_name}: coordinates written as {mode} in column(s) {where}, "
                        "in EPSG:4326 (WGS-84)")


def _shp_parts(gdf: gpd.GeoDataFrame) -> tuple[dict[str, gpd.GeoDataFrame], int]:
    """A Shapefile holds one geometry type: split mixed layers by dimension.

    Returns the parts by geometry kind and how many rows without a geometry
    (None or an empty collection) went into the first part, so no row is lost.
    """
    dims = shapely.get_dimensions(np.asarray(gdf.geometry.values, dtype=object))
    kinds = {0: "point", 1: "line", 2: "polygon"}
    present = sorted(set(int(d) for d in dims if d >= 0))
    if len(present) <= 1:
        return {"": gdf}, 0
    none = dims < 0
    first = present[0]
    parts = {kinds[d]: gdf[(dims == d) | none] if d == first else gdf[dims == d]
             for d in present}
    return parts, int(none.sum())


def export(
    data: gpd.GeoDataFrame | pd.DataFrame | Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    csv_geometry: str | None = None,
    inputs: Iterable[PathLike] = (),
) -> ExportReport:
    """Write one frame or several named frames to ``path``; driver from the suffix.

    GeoPackage holds every layer in one file; single-layer formats get one
    file per layer named ``<stem>_<layer><suffix>`` when several are given,
    and tables without geometry as ``<stem>_<layer>.csv`` beside them.
    Shapefile layers mixing points, lines and polygons are split into one
    file per geometry type.  All files are written before any is put in
    place, so a failure leaves none.  No output may be one of ``inputs``
    (e.g. the workspace the layers come from; see :func:`check_output`).
    Returns what was written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise InputError(
            f"cannot export to '{path.name}': unknown suffix '{suffix}'; use one of "
            f"{', '.join(EXPORT_SUFFIXES)}."
        )
    driver, multi = EXPORT_SUFFIXES[suffix]
    frames: dict[str, gpd.GeoDataFrame | pd.DataFrame]
    if isinstance(data, pd.DataFrame):
        frames = {path.stem: data}
    else:
        frames = dict(data)
    if not frames:
        raise InputError("nothing to export: no layers given.")
    if csv_geometry not in (None, "wkt", "lonlat"):
        raise InputError(f"csv_geometry must be 'wkt' or 'lonlat', not {csv_geometry!r}.")
    report = ExportReport()
    if multi:
        check_output(path, inputs=inputs, overwrite=overwrite)
        with atomic_path(path, overwrite=True) as tmp:
            for name, frame in frames.items():
                _write_one(frame, tmp, driver, name, report, csv_geometry=csv_geometry)
        report.files.append(path)
        return report
    targets = _targets(frames, path, driver, report)
    same = sorted({str(p) for p, *_ in targets if sum(q == p for q, *_ in targets) > 1})
    if same:
        raise InputError(f"several layers would be written to {', '.join(same)}; export them "
                         "one by one with --layers, or to a .gpkg.")
    check_output([p for p, *_ in targets], inputs=inputs, overwrite=overwrite)
    _write_all(targets, path, report, csv_geometry=csv_geometry)
    report.files.extend(p for p, *_ in targets)
    return report


_Target = tuple[Path, str, "gpd.GeoDataFrame | pd.DataFrame", str]


def _targets(frames: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], path: Path, driver: str,
             report: ExportReport) -> list[_Target]:
    """(file, layer, frame, driver) for each file a single-layer format needs.

    Tables without geometry go to CSV beside the others, said in the report.
    """
    suffix = path.suffix.lower()
    targets: list[_Target] = []
    for name, frame in frames.items():
        base = path if len(frames) == 1 else path.with_name(f"{path.stem}_{_safe(name)}{suffix}")
        if not isinstance(frame, gpd.GeoDataFrame) and driver not in ("csv", "parquet"):
            table = base.with_suffix(".csv")
            targets.append((table, name, frame, "csv"))
            report.notes.append(f"{name}: a table without geometry, written as CSV to "
                                f"{table.name} ({suffix} files hold only map layers)")
        elif driver == "ESRI Shapefile":
            parts, n_empty = _shp_parts(frame)
            for part, sub in parts.items():
                p = base if not part else base.with_name(f"{base.stem}_{part}{suffix}")
                targets.append((p, name if not part else f"{name}_{part}", sub, driver))
            if n_empty:
                report.notes.append(
                    f"{name}: {n_empty} feature(s) without geometry written to "
                    f"{targets[-len(parts)][0].name} (the Shapefile of the first geometry type)"
                )
        else:
            targets.append((base, name, frame, driver))
    return targets


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", str(name))


def _write_all(targets: list[_Target], path: Path, report: ExportReport, *,
               csv_geometry: str | None) -> None:
    """Write every target into a temporary folder beside ``path``, then move
    them all into place: a failure on any leaves none behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        moves: list[tuple[Path, Path]] = []
        try:
            for k, (target, name, frame, driver) in enumerate(targets):
                folder = stage / str(k)
                folder.mkdir()
                tmp = folder / target.name
                _write_one(frame, tmp, driver, name, report, csv_geometry=csv_geometry,
                           target_name=target.name)
                if driver == "ESRI Shapefile" and not tmp.with_suffix(".cpg").exists():
                    tmp.with_suffix(".cpg").write_text("UTF-8")
                # a Shapefile's .shp last, so no reader finds it without its .dbf
                moves += [(f, target.with_suffix(f.suffix))
                          for f in sorted(folder.iterdir(), key=lambda p: p.suffix == ".shp")]
        except BaseException as exc:
            raise_if_disk_full(exc, path, left="No file was written.")
            raise
        made = {final for _, final in moves}
        for shp in (t for t, _, _, d in targets if d == "ESRI Shapefile"):
            for ext in _SHAPEFILE_SIDECARS:  # of an older Shapefile, not in this one (.qix…)
                old = shp.with_suffix(ext)
                if old.exists() and old not in made:
                    old.unlink()
        move_into_place(moves)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def move_into_place(moves: Iterable[tuple[PathLike, PathLike]]) -> None:
    """Rename each written (temporary) file over its target, in order.

    Write every file of a result first, then call this: renames within a
    folder are quick and do not fill the disk, so the result appears whole.
    Should a rename fail, the files already moved that were new are removed.
    """
    pairs = [(Path(a), Path(b)) for a, b in moves]
    new = {final for _, final in pairs if not final.exists()}
    moved: list[Path] = []
    try:
        for staged, final in pairs:
            os.replace(staged, final)
            moved.append(final)
    except BaseException:
        for final in moved:
            if final in new:
                final.unlink(missing_ok=True)
        raise
