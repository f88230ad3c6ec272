"""What a file really is, from its first bytes; and what to tell a user whose file cannot be read.

A reader fails on an .xlsx renamed .csv with "could not be decoded", on a
cut Parquet file with "magic bytes not found": true, and no help.
:func:`unreadable` turns any reader's failure into one message: the file is
empty, or it is a different kind of file than its name says (rename it),
or it is damaged (get a complete copy).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ._errors import FileFormatError

__all__ = ["Kind", "cut_short_database", "describe", "display", "expected", "unreadable", "what_is"]


@dataclass(frozen=True)
class Kind:
    """A kind of file: how to name it to a user, and the suffixes it goes by."""

    name: str
    suffixes: tuple[str, ...]


_XLSX = Kind("an Excel workbook (.xlsx)", (".xlsx",))
_XLS = Kind("an old Excel workbook (.xls)", (".xls",))
_ZIPPED_SHP = Kind("a ZIP archive holding a Shapefile", (".zip",))
_KMZ = Kind("a KMZ (zipped KML) file", (".kmz",))
_ZIP = Kind("a ZIP archive", (".zip",))
_SQLITE = Kind("a GeoPackage (SQLite database)", (".gpkg", ".sqlite", ".db"))
_TEXT = Kind("plain text (CSV or similar)", (".csv", ".txt", ".tsv"))
_MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _XLS),
    (b"SQLite format 3\x00", _SQLITE),
    (b"PAR1", Kind("a Parquet file", (".parquet",))),
    (b"fgb\x03", Kind("a FlatGeobuf file", (".fgb",))),
    (b"\x00\x00\x27\x0a", Kind("the geometry part of a Shapefile (.shp)", (".shp",))),
    (b"II*\x00", Kind("a TIFF image", (".tif", ".tiff"))),
    (b"MM\x00*", Kind("a TIFF image", (".tif", ".tiff"))),
    (b"II+\x00", Kind("a BigTIFF image", (".tif", ".tiff"))),
    (b"\x1f\x8b", Kind("a gzip archive", (".gz",))),
    (b"%PDF", Kind("a PDF document", (".pdf",))),
    (b"\x89PNG", Kind("a PNG image", (".png",))),
    (b"\xff\xd8\xff", Kind("a JPEG image", (".jpg", ".jpeg"))),
)


_EXPECTED = {".shp": "a Shapefile", ".gpkg": "a GeoPackage", ".geojson": "a GeoJSON file",
             ".json": "a GeoJSON file", ".fgb": "a FlatGeobuf file", ".kml": "a KML file",
             ".osm": "an OpenStreetMap XML file", ".pbf": "an OpenStreetMap extract (.osm.pbf)",
             ".parquet": "a GeoParquet file", ".xlsx": "an Excel workbook (.xlsx)",
             ".xls": "an Excel workbook (.xls)", ".csv": "a CSV table", ".txt": "a CSV table",
             ".tsv": "a CSV table"}


def expected(suffix: str) -> str:
    """What a file named with ``suffix`` should be, in words ("a GeoPackage")."""
    return _EXPECTED.get(suffix.lower(), "a vector file (GeoPackage, Shapefile, GeoJSON, "
                                         "FlatGeobuf, GeoParquet, KML, CSV or XLSX)")


def display(path: str | os.PathLike) -> str:
    """``path`` as it can be printed: bytes that are not UTF-8 shown as ``\\xNN``."""
    return os.fsencode(os.fspath(path)).decode("utf-8", "backslashreplace")


def _zip_kind(head: bytes) -> Kind:
    if b"xl/" in head or b"[Content_Types].xml" in head:
        return _XLSX
    if b".shp" in head or b".dbf" in head:
        return _ZIPPED_SHP
    if b".kml" in head:
        return _KMZ
    return _ZIP


def _text_kind(head: bytes) -> Kind | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"<kml" in head:
            return Kind("a KML file", (".kml",))
        if b"<osm" in head:
            return Kind("an OpenStreetMap XML file (.osm)", (".osm",))
        if b"<gml" in head or b"gml:" in head:
            return Kind("a GML file", (".gml",))
        if b"<html" in head.lower():
            return Kind("a web page (HTML)", (".html", ".htm"))
        return Kind("an XML file", (".xml",))
    if text[:1] in (b"{", b"["):
        return Kind("a GeoJSON or JSON file", (".geojson", ".json"))
    sample = head[:4096]
    if b"\x00" in sample:
        return None
    for enc in ("utf-8", "gb18030"):
        try:
            sample.decode(enc)
            return _TEXT
        except UnicodeDecodeError as exc:
            if exc.start > len(sample) - 4:  # a character cut at the end of the sample
                return _TEXT
    return None


def what_is(path: str | os.PathLike) -> Kind | None:
    """The kind of file ``path`` is by its first bytes, or None if unknown (or empty)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return None
    if not head:
        return None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(head)
    if len(head) >= 15 and head[4] == 0x0A and head[5] == 9 and head[6:15] == b"OSMHeader":
        return Kind("an OpenStreetMap extract (.osm.pbf)", (".pbf",))
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return _text_kind(head)


def cut_short_database(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an SQLite database (a GeoPackage) smaller than its header says:
    a copy or download cut short, or a write the disk had no room for."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
        size = Path(path).stat().st_size
    except OSError:
        return False
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return False
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    valid = head[24:28] == head[92:96] and pages > 0  # (older writers leave the count unset)
    return size < (page * pages if valid else page)


def describe(path: str | os.PathLike) -> str:
    """``path``'s kind as words ("an Excel workbook (.xlsx)"), or "a file of unknown kind"."""
    kind = what_is(path)
    if kind is not None:
        return kind.name
    try:
        empty = Path(path).stat().st_size == 0
    except OSError:
        empty = False
    return "an empty file (0 bytes)" if empty else "a file of unknown kind"


def _suffix(path: Path) -> str:
    return "".join(path.suffixes[-2:]).lower() if path.name.lower().endswith(".osm.pbf") \
        else path.suffix.lower()


def _short(exc: BaseException) -> str:
    if "previous exception" in str(exc) and exc.__cause__ is not None:  # rasterio's pointer
        exc = exc.__cause__
    text = str(exc.args[-1] if type(exc).__name__.startswith("CPLE_") and exc.args else exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def unreadable(path: str | os.PathLike, exc: BaseException | None, *, expected: str) -> FileFormatError:
    """The error for a file a reader failed on (``exc``), read as ``expected`` ("a CSV table").

    Says whether the file is empty, another kind of file than its name
    says (and what to rename it to), or damaged.
    """
    path = Path(path)
    shown = display(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = -1
    if size == 0:
        return FileFormatError(
            f"{shown} is empty (0 bytes): the copy or download did not finish, or the program "
            "that wrote it failed. Get the file again (or export it again) and add that.")
    kind = what_is(path)
    suffix = _suffix(path)
    if kind is not None and suffix not in kind.suffixes and not (
            suffix.endswith(".pbf") and ".pbf" in kind.suffixes):
        rename = path.name[: len(path.name) - len(suffix)] + kind.suffixes[0] if suffix \
            else path.name + kind.suffixes[0]
        return FileFormatError(
            f"{shown} is {kind.name}, not {expected}: its name ends in '{suffix or '(nothing)'}'"
            f" but its content is not. Rename it to '{display(rename)}' (or save it again as "
            f"{expected}) and add it again.")
    why = f" ({_short(exc)})" if exc is not None else ""
    return FileFormatError(
        f"{shown} could not be read as {expected}{why}: the file is damaged or incomplete (e.g. "
        "a copy or download cut short). Get a complete copy, or export it again from the "
        "program that made it.")
