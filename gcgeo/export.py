"""Write layers to files, with the driver chosen from the file's suffix; write
every file atomically.

Export: .gpkg, .shp (field names shortened to 10 characters, the mapping
reported, a .cpg written), .geojson (RFC 7946, EPSG:4326, coordinates to
:data:`GEOJSON_DECIMALS` decimals), .csv (lon/lat for points, else WKT, in
EPSG:4326), .fgb, .parquet, .kml.  A layer without rows keeps the geometry type
it declares, and booleans stay booleans (1/0 in a Shapefile), all-NULL ones
too, wherever the format records types.  Every write goes to a
temporary file first and is renamed into place, so an interrupted export
never leaves a half-written file; an export of several files writes them all
before any is renamed, so a failed one leaves none.  An existing file (a
Shapefile's .dbf, .shx… included) is only replaced when ``overwrite`` is
given, and an output is never written onto an input (:func:`check_output`).
A full disk is reported as such (:class:`~gcgeo.DiskFullError`), naming the file.

Everything here is also reachable from :mod:`gcgeo.io`, where it was first.
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

from . import crs as _crs
from . import gpkg_write, shapefile
from ._errors import (
    CRSError,
    DiskFullError,
    GcgeoError,
    InputError,
    OutputExistsError,
)
from .values import lists_as_text

log = logging.getLogger(__name__)

__all__ = [
    "EXPORT_SUFFIXES",
    "ExportReport",
    "GEOJSON_DECIMALS",
    "OutputCRS",
    "PathLike",
    "SHAPEFILE_ENCODINGS",
    "atomic_path",
    "check_output",
    "export",
    "export_driver",
    "move_into_place",
    "output_crs",
    "raise_if_disk_full",
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
_SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx",
                       shapefile.FIELD_MAP_SUFFIX)
#: Decimal places of a degree GeoJSON coordinates keep (GDAL's default under RFC 7946): a
#: coordinate moves by at most half a unit of the last place, 0.00000005°, about 6 mm
#: north–south (a point at most 8 mm); the other formats keep the coordinates as given.
GEOJSON_DECIMALS = 7
#: Formats whose specification fixes WGS-84 longitude/latitude
_WGS84_ONLY = {"GeoJSON": "RFC 7946", "KML": "the KML standard"}
#: ``--encoding`` of a Shapefile → (Python/GDAL codec, .cpg text, .dbf language driver id)
SHAPEFILE_ENCODINGS: dict[str, tuple[str, str, int]] = {
    "utf-8": ("UTF-8", "UTF-8", 0x00),
    "gbk": ("CP936", "936", 0x4D),  # Windows code page 936; ArcGIS's LDID 0x4D
}


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


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
    """Map column names to unique Shapefile field names of at most 10 bytes of UTF-8.

    gcgeo's own columns take their fixed short names, a user's are cut; see
    :func:`gcgeo.shapefile.field_names`.
    """
    return shapefile.field_names([str(c) for c in columns])


@dataclass
class ExportReport:
    """What an export wrote."""

    files: list[Path] = field(default_factory=list)
    renamed_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: where each layer went (layer → files), when they are not all in one file
    layout: dict[str, list[Path]] = field(default_factory=dict)
    #: what the exported layers do not say themselves (a scorecard computed again, …)
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"wrote {p}" for p in self.files]
        for layer, m in self.renamed_fields.items():
            pairs = ", ".join(f"{k} → {v}" for k, v in m.items())
            lines.append(f"{layer}: Shapefile field names shortened: {pairs}")
        return "\n".join(lines + self.notes)


@dataclass(frozen=True)
class OutputCRS:
    """The CRS an export writes in: ``crs`` as files record it, and ``shift``
    (``"gcj02"`` or ``"bd09"``) when the coordinates are moved off WGS-84 by
    that algorithm while the file still says EPSG:4326 (as Amap and Baidu
    expect)."""

    crs: Any
    shift: str | None = None
    spec: str = ""

    def describe(self, lang: str = "en") -> str:
        """What the coordinates are, for notes and layer descriptions."""
        if self.shift == "gcj02":
            return ("坐标为GCJ-02（火星坐标系，高德/腾讯地图），文件内标为EPSG:4326，并非真WGS-84"
                    if lang == "zh" else
                    "coordinates in GCJ-02 (Amap/Tencent offset), labelled EPSG:4326 in the file "
                    "but not true WGS-84")
        if self.shift == "bd09":
            return ("坐标为BD-09（百度坐标系），文件内标为EPSG:4326，并非真WGS-84" if lang == "zh"
                    else "coordinates in BD-09 (Baidu offset), labelled EPSG:4326 in the file but "
                         "not true WGS-84")
        name = getattr(self.crs, "name", str(self.crs))
        code = self.crs.to_epsg() if hasattr(self.crs, "to_epsg") else None
        return f"{name} (EPSG:{code})" if code else str(name)


def output_crs(spec: Any) -> OutputCRS | None:
    """Read ``--crs``: ``wgs84``, ``cgcs2000``, ``EPSG:…`` (or any CRS pyproj reads),
    ``gcj02`` or ``bd09`` (gcgeo's own conversion; :mod:`gcgeo.crs`).  None for None."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    try:
        crs, shift = _crs.parse_crs(spec)
    except CRSError as exc:
        raise CRSError(f"--crs {spec}: {exc}") from None
    return OutputCRS(crs, shift, str(spec))


def _is_wgs84(target: OutputCRS | None) -> bool:
    return target is None or (target.shift is None and target.crs.equals("EPSG:4326"))


def _to_output_crs(frame: pd.DataFrame, target: OutputCRS | None, layer: str) -> pd.DataFrame:
    """``frame`` in the output CRS (a table without geometry as it is)."""
    if target is None or not isinstance(frame, gpd.GeoDataFrame):
        return frame
    if frame.crs is None:
        raise CRSError(f"layer '{layer}' has no CRS, so it cannot be written in {target.spec}; "
                       "declare its CRS first (--src-crs when adding the file).")
    if target.shift:
        return _crs.shift_from_wgs84(frame, target.shift)
    return frame if frame.crs.equals(target.crs) else frame.to_crs(target.crs)


def _prepare(gdf: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Make columns writable: lists and dicts as the workspace writes them
    (:func:`gcgeo.values.list_text`), nullable types kept, booleans read with NULLs
    booleans again (:func:`gcgeo.gpkg_write.typed_booleans`: an all-NULL one too)."""
    return lists_as_text(gpkg_write.typed_booleans(gdf).copy())


@dataclass(frozen=True)
class _Settings:
    """How an export writes every layer."""

    csv_geometry: str | None = None
    target: OutputCRS | None = None
    encoding: str = "utf-8"
    lang: str = "zh"
    kinds: dict[str, str] = field(default_factory=dict)


def _write_one(gdf: gpd.GeoDataFrame | pd.DataFrame, path: Path, driver: str, layer: str,
               report: ExportReport, *, settings: _Settings = _Settings(),
               target_name: str | None = None) -> None:
    """Write one frame to ``path`` (a temporary file); ``target_name`` is the
    file name the user will see, for the report."""
    is_geo = isinstance(gdf, gpd.GeoDataFrame)
    frame = _to_output_crs(_prepare(gdf), settings.target, layer)
    declared = _declared_type(gdf) if is_geo and not len(frame) else None
    if driver == "parquet":
        if is_geo:
            frame.to_parquet(path)
            if declared:
                _declare_parquet_type(path, frame.geometry.name, declared)
        else:
            pd.DataFrame(frame).to_parquet(path)
        return
    if driver == "csv":
        _write_csv(frame, path, csv_geometry=settings.csv_geometry, report=report, layer=layer,
                   target_name=target_name or path.name, chosen=settings.target is not None)
        return
    if driver in ("GeoJSON", "KML") and is_geo and frame.crs is not None:
        frame = frame.to_crs("EPSG:4326")
    kwargs: dict[str, Any] = {}
    if declared:  # a layer without rows, of the type its rows would have
        kwargs["geometry_type"] = declared
    elif is_geo and not len(frame) and driver == "ESRI Shapefile":
        # (a .shp holds one type: GDAL would guess one, a line, for rows that may mix)
        kwargs["geometry_type"] = "Point"
        note = (f"{target_name or path.name}: '{layer}' has no features, and no one geometry "
                "type (its features may mix points, lines and polygons): written as a point "
                "Shapefile")
        log.info("%s", note)
        report.notes.append(note)
    kind = settings.kinds.get(layer)
    if driver == "GeoJSON":
        kwargs["RFC7946"] = "YES"
        kwargs["COORDINATE_PRECISION"] = GEOJSON_DECIMALS
    if driver == "KML" and is_geo:
        from .kml import placemark_fields

        frame, name_field, description_field = placemark_fields(frame, kind=kind, lang=settings.lang)
        kwargs["dataset_options"] = {"NameField": name_field, "DescriptionField": description_field}
    names: dict[str, str] | None = None
    parts: dict[str, list[str]] = {}
    if driver == "ESRI Shapefile":
        codec = SHAPEFILE_ENCODINGS[settings.encoding][0]
        _check_encodable(frame, codec, layer, target_name or path.name)
        for col, (edges, runs) in shapefile.lost_spaces(frame, codec).items():
            lost = []
            if edges:
                lost.append(f"{edges} value(s) begin or end with spaces, which a .dbf field does "
                            "not keep (readers, gcgeo and QGIS too, strip them)")
            if runs:
                lost.append(f"{runs} value(s) hold a run of spaces longer than a .dbf field, "
                            "which cannot be continued in the next field")
            note = (f"{target_name or path.name}: '{col}': {'; '.join(lost)}: those spaces are "
                    "lost. Export to .gpkg to keep them.")
            log.info("%s", note)
            report.notes.append(note)
        frame, parts = shapefile.split_long_text(frame, codec)
        cont = {p for cols in parts.values() for p in cols[1:]}
        names = shapefile.field_names([c for c in frame.columns if c not in cont
                                       and not (is_geo and c == frame.geometry.name)], encoding=codec)
        names = {c: names.get(c) or shapefile.part_names(names, parts, encoding=codec)[c]
                 for c in frame.columns if not (is_geo and c == frame.geometry.name)}
        for col, cols in parts.items():
            report.notes.append(f"{target_name or path.name}: text in '{col}' longer than a .dbf field "
                                f"holds ({shapefile.MAX_TEXT_BYTES} bytes) continues in fields "
                                f"{', '.join(names[c] for c in cols[1:])}; gcgeo joins them again "
                                "when reading (the field map says so)")
        renamed = {k: v for k, v in names.items() if k != v and k not in cont}
        if renamed:
            report.renamed_fields[layer] = renamed
        frame = frame.rename(columns=names)
        kwargs["encoding"] = codec
        for col in frame.columns:
            if _is_boolean(frame[col]):
                # 1/0 in an integer field, as the other booleans: ArcGIS reads a .dbf's
                # logical field as text
                frame[col] = frame[col].astype("boolean").astype("Int32")
    if driver == "GPKG" and settings.target is not None and settings.target.shift:
        kwargs["layer_options"] = {"DESCRIPTION": f"{settings.target.describe('zh')} / "
                                                  f"{settings.target.describe('en')}"}
    if driver == "FlatGeobuf" and is_geo and len(frame):
        geoms = np.asarray(frame.geometry.values, dtype=object)
        n_none = int((shapely.is_missing(geoms) | shapely.is_empty(geoms)).sum())
        if n_none:  # GDAL's FlatGeobuf spatial index cannot hold a feature without geometry
            kwargs["layer_options"] = {"SPATIAL_INDEX": "NO"}
            note = (f"{target_name or path.name}: {n_none} feature(s) of '{layer}' without geometry, "
                    "so the file has no spatial index (FlatGeobuf's cannot hold them); every "
                    "feature is written")
            log.info("%s", note)
            report.notes.append(note)
    if driver in ("GPKG", "KML", "GeoJSON", "FlatGeobuf"):
        kwargs["layer"] = layer  # else GDAL names the layer after the temporary file
    if driver == "GPKG":
        kwargs["dataset_options"] = gpkg_write.CREATION
    if not is_geo:
        if driver not in ("GPKG",):
            raise InputError(f"table '{layer}' has no geometry; export it as .gpkg, .csv or .parquet.")
    pyogrio.write_dataframe(frame, path, driver=driver, use_arrow=True,
                            append=driver == "GPKG" and path.exists(), **kwargs)
    if driver == "KML":  # GDAL's KML writer says nothing when a write fails (a full disk)
        _check_written(path, len(frame), target_name or path.name)
    if names is not None:
        _finish_shapefile(path, names, settings.encoding, kind=kind, parts=parts)


def _declared_type(gdf: gpd.GeoDataFrame) -> str | None:
    """The geometry type a layer without rows declares (its rows' as the analysis or the
    workspace knows it: ``attrs["geometry_type"]``), None where it declares none."""
    declared = gdf.attrs.get("geometry_type")
    return str(declared) if declared and str(declared) not in ("Unknown", "Geometry") else None


def _declare_parquet_type(path: Path, column: str, declared: str) -> None:
    """Record ``declared`` as the geometry type of the GeoParquet file ``path`` (without rows,
    where geopandas records none)."""
    import json

    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = dict(table.schema.metadata or {})
    geo = json.loads(meta[b"geo"])
    geo["columns"][column]["geometry_types"] = [declared]
    meta[b"geo"] = json.dumps(geo).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def _is_boolean(s: pd.Series) -> bool:
    """A column of booleans: typed so, or objects True / False with missing values."""
    if str(s.dtype) in ("boolean", "bool"):
        return True
    return s.dtype == object and bool(s.notna().any()) and gpkg_write.only_booleans(s)


def _check_encodable(frame: pd.DataFrame, codec: str, layer: str, name: str) -> None:
    """Refuse text the Shapefile's encoding cannot hold, naming the column and row."""
    if codec.upper() == "UTF-8":
        return
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object and str(s.dtype) not in ("string", "str"):
            continue
        for pos, v in enumerate(s.tolist()):
            if isinstance(v, str):
                try:
                    v.encode(codec)
                except UnicodeEncodeError as exc:
                    bad = v[exc.start:exc.end]
                    raise InputError(  # (features counted from 1, as QGIS's attribute table shows them)
                        f"layer '{layer}', column '{col}', feature {pos + 1}: '{bad}' cannot be written in "
                        f"GBK ({name}); export with --encoding utf-8 (QGIS, ArcGIS Pro, recent "
                        "SuperMap) or change the text."
                    ) from None
    for col in frame.columns:
        try:
            str(col).encode(codec)
        except UnicodeEncodeError:
            raise InputError(f"layer '{layer}': column name '{col}' cannot be written in GBK "
                             f"({name}); rename it or export with --encoding utf-8.") from None


def _finish_shapefile(path: Path, names: Mapping[str, str], encoding: str, *,
                      kind: str | None, parts: Mapping[str, list[str]]) -> None:
    """The .cpg, the .dbf's language driver id and the field map beside a written .shp."""
    _, cpg, ldid = SHAPEFILE_ENCODINGS[encoding]
    path.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    dbf = path.with_suffix(".dbf")
    if ldid and dbf.exists():
        with open(dbf, "r+b") as f:  # byte 29 of the header: old ArcGIS reads the code page there
            f.seek(29)
            f.write(bytes([ldid]))
    shapefile.write_field_map(shapefile.field_map_path(path), names, kind=kind, parts=parts)


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
               report: ExportReport, layer: str, target_name: str, chosen: bool = False) -> None:
    """A table with lon/lat or WKT columns: in EPSG:4326, or the CRS ``chosen`` (``--crs``)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        return
    if frame.crs is None:
        raise InputError(
            f"layer '{layer}' has no CRS, so its coordinates cannot be written as WGS-84 to "
            f"{target_name}; declare its CRS first (--src-crs when adding the file, e.g. "
            "wgs84, cgcs2000 or an EPSG code)."
        )
    geo = frame if chosen else frame.to_crs("EPSG:4326")
    geoms = np.asarray(geo.geometry.values, dtype=object)
    all_points = bool(len(geoms)) and bool(np.all(shapely.get_type_id(geoms) == 0))
    mode = csv_geometry or ("lonlat" if all_points else "wkt")
    table = pd.DataFrame(geo.drop(columns=geo.geometry.name))
    taken = {str(c) for c in table.columns}
    if mode == "lonlat":
        if not all_points:
            raise InputError(f"layer '{layer}' is not all points; export it to CSV as WKT "
                             "(csv_geometry='wkt').")
        xy = ("lon", "lat") if geo.crs.is_geographic else ("x", "y")
        lon, lat = _free_name(xy[0], taken), _free_name(xy[1], taken)
        table[lon] = shapely.get_x(geoms)
        table[lat] = shapely.get_y(geoms)
        where = f"{lon}/{lat}"
    else:
        where = _free_name("wkt", taken)
        table[where] = shapely.to_wkt(geoms, rounding_precision=-1)
    table.to_csv(path, index=False, encoding="utf-8-sig")
    where_crs = "" if chosen else ", in EPSG:4326 (WGS-84)"
    report.notes.append(f"{target_name}: coordinates written as {mode} in column(s) {where}{where_crs}")


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


def export_driver(path: PathLike) -> tuple[str, bool]:
    """The writer :func:`export` picks for ``path`` by its suffix: (driver, multi-layer?).

    An unknown suffix raises :class:`~gcgeo.InputError` listing the known ones.  A command
    that computes before it exports calls it first, so that a mistyped output name is
    refused before anything is computed or stored.

    >>> export_driver("sites.docx")  # doctest: +SKIP
    Traceback (most recent call last):
    gcgeo._errors.InputError: cannot export to 'sites.docx': unknown suffix '.docx'; …
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise InputError(
            f"cannot export to '{path.name}': unknown suffix '{suffix}'; use one of "
            f"{', '.join(EXPORT_SUFFIXES)}."
        )
    return EXPORT_SUFFIXES[suffix]


def export(
    data: gpd.GeoDataFrame | pd.DataFrame | Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    csv_geometry: str | None = None,
    inputs: Iterable[PathLike] = (),
    crs: Any = None,
    encoding: str | None = None,
    lang: str = "zh",
    kinds: Mapping[str, str] | None = None,
    rules: Mapping[str, Mapping[str, Any]] | None = None,
    styles_from: PathLike | None = None,
    style_layers: Mapping[str, str] | None = None,
) -> ExportReport:
    """Write one frame or several named frames to ``path``; driver from the suffix.

    GeoPackage holds every layer in one file; single-layer formats get one
    file per layer named ``<stem>_<layer><suffix>`` when several are given,
    and tables without geometry as ``<stem>_<layer>.csv`` beside them.
    Shapefile layers mixing points, lines and polygons are split into one
    file per geometry type.  All files are written before any is put in
    place, so a failure leaves none.  No output may be one of ``inputs``
    (e.g. the workspace the layers come from; see :func:`check_output`).
    The report says plainly which layer went to which file.

    ``crs`` is the output CRS (:func:`output_crs`: ``wgs84``, ``cgcs2000``,
    ``EPSG:…``, ``gcj02``, ``bd09``; default: each layer's own); GeoJSON and
    KML are always WGS-84 and refuse any other.  ``encoding`` (``utf-8``, the
    default, or ``gbk`` for older ArcGIS and SuperMap) is a Shapefile's; each
    Shapefile gets a .cpg and a field map (:mod:`gcgeo.shapefile`).  ``lang``
    is the language of KML placemark names and descriptions and of a
    GeoPackage's QGIS styles, field aliases and value labels
    (:mod:`gcgeo.gpkg_styles`); ``kinds`` gives the layer kind of each layer,
    for labels and styles; ``rules`` the rule sets each analysis's results were
    computed with (:func:`gcgeo.maps.rules_ran`), for those styles' class breaks.

    ``styles_from`` is the GeoPackage the layers come from (the workspace):
    exported to a .gpkg, each layer also carries the styles a planner saved
    for it there in QGIS ("Save as Default → Datasource Database"), their
    default staying the default, so QGIS opens the layer as it opened it in
    the workspace; gcgeo's own style, in ``lang``, is listed beside it.
    ``style_layers`` maps an exported layer to its name in ``styles_from``
    (default: every layer of ``data`` under its own name; a layer left out
    gets no style of a planner's).  A planner's style is copied as it was
    saved, whatever ``lang``; export keeps a GeoPackage layer's column names,
    but should a style name columns the exported layer does not have (the
    frame given lacks them), it is still copied and the report's
    ``warnings`` name the layer, the style and the columns, to check it in
    QGIS.  The other formats carry no style (no .qml beside a .shp: its
    field names are shortened, which a style saved for the workspace would
    not follow).
    Returns what was written.
    """
    path = Path(path)
    driver, multi = export_driver(path)
    frames: dict[str, gpd.GeoDataFrame | pd.DataFrame]
    if isinstance(data, pd.DataFrame):
        frames = {path.stem: data}
    else:
        frames = dict(data)
    if not frames:
        raise InputError("nothing to export: no layers given.")
    if csv_geometry not in (None, "wkt", "lonlat"):
        raise InputError(f"csv_geometry must be 'wkt' or 'lonlat', not {csv_geometry!r}.")
    settings = _settings(path, driver, frames, csv_geometry=csv_geometry, crs=crs,
                         encoding=encoding, lang=lang, kinds=kinds)
    report = ExportReport()
    if settings.target is not None:
        report.notes.append(f"{path.name}: {settings.target.describe()}")
    if multi:
        check_output(path, inputs=inputs, overwrite=overwrite)
        with atomic_path(path, overwrite=True) as tmp:
            for name, frame in frames.items():
                _write_one(frame, tmp, driver, name, report, settings=settings)
            from .gpkg_styles import copy_user_styles, write_styles

            if styles_from is not None:  # first, so gcgeo's stay beside a planner's default
                theirs = {str(n): str(n) for n in frames} if style_layers is None else \
                    {str(k): str(v) for k, v in style_layers.items() if k in frames}
                copied, warnings = copy_user_styles(styles_from, tmp, theirs)
                report.notes.extend(f"{name}: the style(s) saved in QGIS carried over: {', '.join(styles)}"
                                    for name, styles in copied.items())
                report.warnings.extend(warnings)
            # QGIS styles, field aliases and value labels in ``lang`` (gcgeo.gpkg_styles)
            write_styles(tmp, frames, lang=lang, kinds=kinds, rules=rules)
        report.files.append(path)
        return report
    targets = _targets(frames, path, driver, report, settings)
    same = sorted({str(p) for p, *_ in targets if sum(q == p for q, *_ in targets) > 1})
    if same:
        raise InputError(f"several layers would be written to {', '.join(same)}; export them "
                         "one by one with --layers, or to a .gpkg.")
    check_output([p for p, *_ in targets], inputs=inputs, overwrite=overwrite)
    _write_all(targets, path, report, settings)
    report.files.extend(p for p, *_ in targets)
    return report


def _settings(path: Path, driver: str, frames: Mapping[str, Any], *, csv_geometry: str | None,
              crs: Any, encoding: str | None, lang: str,
              kinds: Mapping[str, str] | None) -> _Settings:
    """Check the options against the format; resolve them once."""
    target = output_crs(crs)
    if driver in _WGS84_ONLY and not _is_wgs84(target):
        raise InputError(
            f"{path.name}: {driver} is always WGS-84 longitude/latitude ({_WGS84_ONLY[driver]}); "
            f"--crs {crs} cannot be written there. Leave out --crs, or export to .gpkg, .shp, "
            ".fgb, .csv or .parquet."
        )
    key = None
    if encoding is not None:
        key = str(encoding).strip().lower().replace("_", "-")
        key = {"utf8": "utf-8", "cp936": "gbk", "936": "gbk", "gb2312": "gbk"}.get(key, key)
        if driver != "ESRI Shapefile":
            raise InputError(f"--encoding is for Shapefiles (.shp); {path.name} is always UTF-8.")
        if key not in SHAPEFILE_ENCODINGS:
            raise InputError(f"--encoding {encoding}: a Shapefile is written in "
                             f"{' or '.join(SHAPEFILE_ENCODINGS)}.")
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', not {lang!r}.")
    from .layers import SPECS

    known = {str(n): str(n) for n in frames if str(n) in SPECS}
    known.update(kinds or {})
    return _Settings(csv_geometry=csv_geometry, target=target, encoding=key or "utf-8",
                     lang=lang, kinds=known)


_Target = tuple[Path, str, "gpd.GeoDataFrame | pd.DataFrame", str]


def _targets(frames: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], path: Path, driver: str,
             report: ExportReport, settings: _Settings) -> list[_Target]:
    """(file, layer, frame, driver) for each file a single-layer format needs.

    Tables without geometry go to CSV beside the others, said in the report.
    """
    suffix = path.suffix.lower()
    targets: list[_Target] = []
    for name, frame in frames.items():
        first = len(targets)
        _layer_targets(targets, name, frame, path, driver, report, settings, many=len(frames) > 1)
        report.layout[str(name)] = [t[0] for t in targets[first:]]
    if len(frames) > 1:
        report.notes.insert(0, (
            f"{len(frames)} layers → {len(targets)} files: a {suffix} file holds one layer, so each "
            f"layer went to its own file, {path.stem}_<layer>{suffix} beside {path.name} "
            "(export to .gpkg for one file)."))
    return targets


def _layer_targets(targets: list[_Target], name: str, frame: gpd.GeoDataFrame | pd.DataFrame,
                   path: Path, driver: str, report: ExportReport, settings: _Settings, *,
                   many: bool) -> None:
    """Add the file(s) one layer needs to ``targets``; tables without geometry go to CSV."""
    suffix = path.suffix.lower()
    base = path if not many else path.with_name(f"{path.stem}_{_safe(name)}{suffix}")
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
            if part and name in settings.kinds:
                settings.kinds[f"{name}_{part}"] = settings.kinds[name]
        if len(parts) > 1:
            files = [t[0].name for t in targets[-len(parts):]]
            report.notes.append(
                f"{name}: mixes {' and '.join(p + 's' for p in parts)}; a Shapefile holds one "
                f"geometry type, so it went to {', '.join(files)}. Add them back as one layer "
                f"with `gcgeo add WS {settings.kinds.get(name, name)} {' '.join(files)}`."
            )
        if n_empty:
            report.notes.append(
                f"{name}: {n_empty} feature(s) without geometry written to "
                f"{targets[-len(parts)][0].name} (the Shapefile of the first geometry type)"
            )
    else:
        targets.append((base, name, frame, driver))


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", str(name))


def _write_all(targets: list[_Target], path: Path, report: ExportReport,
               settings: _Settings) -> None:
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
                _write_one(frame, tmp, driver, name, report, settings=settings,
                           target_name=target.name)
                # a Shapefile's .shp last, so no reader finds it without its .dbf
                moves += [(f, target.parent / f.name)
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
