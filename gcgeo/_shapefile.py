"""A Shapefile's bookkeeping, read from the bytes of its .shp, .shx, .dbf and .cpg.

GDAL reads what it can of a damaged Shapefile and says nothing: a .dbf cut
short gives 2 features of 6.  :func:`check_complete` compares the counts
the three files give before anything is read.  :func:`text_encoding` finds
the .dbf's text encoding: the ``--encoding`` given, else the .cpg, else the
text itself judged by :func:`gcgeo._encoding.choose_encoding` with the
code page the .dbf's header names (its language driver id, byte 29) tried
first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._encoding import check_known, choose_encoding, without_cut_character
from ._errors import FileFormatError

log = logging.getLogger(__name__)

__all__ = ["check_complete", "code_page", "cpg_encoding", "cut_names", "field_name",
           "text_encoding", "text_fields", "text_values"]

#: The most bytes a .dbf field name holds (GDAL cuts longer names there, even inside a character).
NAME_BYTES = 10

#: Windows code page of each dBASE language driver id (byte 29 of a .dbf), as
#: the dBASE and Visual FoxPro documentation list them; 0x57 is ArcGIS's
#: "ANSI", which GDAL reads as ISO-8859-1.
_LDID_CODE_PAGES = {
    0x01: 437, 0x02: 850, 0x03: 1252, 0x04: 10000, 0x08: 865, 0x0A: 850, 0x0B: 437,
    0x0D: 437, 0x0E: 850, 0x0F: 437, 0x10: 850, 0x11: 437, 0x12: 850, 0x13: 932,
    0x14: 850, 0x15: 437, 0x16: 850, 0x17: 865, 0x18: 437, 0x19: 437, 0x1A: 850,
    0x1B: 437, 0x1C: 863, 0x1D: 850, 0x1F: 852, 0x22: 852, 0x23: 852, 0x24: 860,
    0x25: 850, 0x26: 866, 0x37: 850, 0x40: 852, 0x4D: 936, 0x4E: 949, 0x4F: 950,
    0x50: 874, 0x58: 1252, 0x59: 1252, 0x64: 852, 0x65: 866, 0x66: 865, 0x67: 861,
    0x6A: 737, 0x6B: 857, 0x6C: 863, 0x78: 950, 0x79: 949, 0x7A: 936, 0x7B: 932,
    0x7C: 874, 0x86: 737, 0x87: 852, 0x88: 857, 0x96: 10007, 0x97: 10029, 0xC8: 1250,
    0xC9: 1251, 0xCA: 1254, 0xCB: 1253, 0xCC: 1257,
}
_MAC = {10000: "mac_roman", 10007: "mac_cyrillic", 10029: "mac_latin2"}


def _sidecar(path: Path, suffix: str) -> Path | None:
    for s in (suffix, suffix.upper()):
        p = path.with_suffix(s)
        if p.exists():
            return p
    return None


def cpg_encoding(text: str) -> str:
    """The encoding a .cpg names, as GDAL and Python know it.

    ArcGIS writes Windows code pages: ``ANSI 936`` or ``936`` is GBK (CP936),
    ``65001`` is UTF-8, any other number ``n`` is ``cp<n>``.

    >>> cpg_encoding("ANSI 936"), cpg_encoding("65001"), cpg_encoding("UTF-8")
    ('CP936', 'UTF-8', 'UTF-8')
    """
    t = text.strip()
    m = re.fullmatch(r"(?:ANSI|OEM|CP)?\s*(\d+)", t, flags=re.IGNORECASE)
    if m:
        n = int(m.group(1))
        return {936: "CP936", 65001: "UTF-8"}.get(n, f"cp{n}")
    return t


def code_page(dbf: Path) -> str | None:
    """The encoding the .dbf's language driver id (byte 29) names, or None if none."""
    with open(dbf, "rb") as fh:
        head = fh.read(32)
    if len(head) < 32 or head[29] == 0:
        return None
    if head[29] == 0x57:
        return "ISO-8859-1"
    cp = _LDID_CODE_PAGES.get(head[29])
    if cp is None:
        return None
    return _MAC.get(cp) or {936: "CP936", 1252: "CP1252"}.get(cp, f"cp{cp}")


def _dbf_header(dbf: Path) -> tuple[int, int, int, int]:
    """(records announced, header length, record length, file size) of a .dbf."""
    size = dbf.stat().st_size
    with open(dbf, "rb") as fh:
        head = fh.read(32)
    if len(head) < 32:
        raise FileFormatError(f"{dbf} is cut short ({size} bytes, less than a .dbf header); "
                              "copy the complete Shapefile again.")
    return (int.from_bytes(head[4:8], "little"), int.from_bytes(head[8:10], "little"),
            int.from_bytes(head[10:12], "little"), size)


def _fields(dbf: Path, header_len: int) -> list[tuple[bytes, str, int, int]]:
    """(name, type, offset in the record, length) of each field of a .dbf."""
    with open(dbf, "rb") as fh:
        head = fh.read(header_len)
    out, offset = [], 1  # byte 0 of a record is the deletion flag
    for k in range(32, len(head) - 31, 32):
        if head[k] == 0x0D:
            break
        desc = head[k:k + 32]
        out.append((desc[:11].split(b"\x00")[0], chr(desc[11]), offset, desc[16]))
        offset += desc[16]
    return out


def text_values(dbf: Path) -> Iterator[tuple[str, bytes]]:
    """("row N, FIELD", raw bytes) of every non-ASCII text value of a .dbf, and its field names.

    Rows count from 1, in the order of the file (as QGIS numbers them).
    """
    n, header_len, record_len, size = _dbf_header(dbf)
    fields = _fields(dbf, header_len)
    for k, (name, _, _, _) in enumerate(fields):
        if not name.isascii():  # (judged without a character the 10-byte limit cut)
            yield f"the name of field {k + 1}", _uncut(name, "UTF-8") or _uncut(name, "GB18030") or name
    n = min(n, max(0, (size - header_len) // record_len)) if record_len else 0
    if not n:
        return
    body = np.fromfile(dbf, dtype=np.uint8, count=n * record_len, offset=header_len)
    records = body.reshape(n, record_len)
    for k, (name, kind, offset, length) in enumerate(fields):
        if kind not in "CM" or offset + length > record_len:
            continue
        block = records[:, offset:offset + length]
        for row in np.flatnonzero((block >= 0x80).any(axis=1)):
            raw = block[row].tobytes().rstrip(b" \x00")
            field = name.decode("ascii") if name.isascii() else f"field {k + 1}"
            yield f"row {row + 1}, {field}", raw


def _uncut(name: bytes, encoding: str) -> bytes | None:
    """Field name ``name`` without the bytes of a character of ``encoding`` that the 10-byte
    limit cut in two: at its end, or before the ``_1``, ``_2``… GDAL adds to tell apart
    names cut alike.  None if the name is not so cut (it reads whole, or is too short
    to have been cut, or fails elsewhere).

    >>> _uncut("建筑高度米".encode()[:10], "UTF-8").decode()
    '建筑高'
    >>> _uncut("建筑高度".encode()[:8] + b"_1", "UTF-8").decode()
    '建筑_1'
    """
    if len(name) < NAME_BYTES:
        return None
    suffix = re.search(rb"_\d+$", name)
    for end in (len(name), *((suffix.start(),) if suffix else ())):
        whole = without_cut_character(name[:end], encoding)
        if whole is None:
            continue
        try:
            (whole + name[end:]).decode(encoding)
        except UnicodeDecodeError:
            continue
        return whole + name[end:]
    return None


def field_name(name: bytes, encoding: str) -> str:
    """A .dbf field name as gcgeo reads it: in ``encoding``, without the bytes of a
    character the 10-byte limit cut (:func:`_uncut`); bytes that do not read shown as
    ``\\xNN``."""
    return (_uncut(name, encoding) or name).decode(encoding, errors="backslashreplace")


def cut_names(shp: Path, encoding: str) -> dict[bytes, str]:
    """The field names of ``shp``'s .dbf that the 10-byte limit cut in the middle of a
    character of ``encoding`` (GDAL cuts "建筑高度米", 15 bytes in UTF-8, to 10, the
    last one the first byte of 度): raw name → the name read, without that character.

    Each is said as a warning.  Two fields that then read alike (ignoring case, as a
    GeoPackage does) are refused: nothing tells their columns apart.
    """
    dbf = _sidecar(shp, ".dbf")
    if dbf is None:
        return {}
    names = [name for name, _, _, _ in _fields(dbf, _dbf_header(dbf)[1])]
    cut = {name: _uncut(name, encoding) for name in names}
    out = {name: whole.decode(encoding) for name, whole in cut.items() if whole is not None}
    if not out:
        return out
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        read = field_name(name, encoding)
        j = seen.setdefault(read.casefold(), k)
        if j != k:
            first, second = (f"'{n.decode(encoding, errors='backslashreplace')}'"
                             for n in (names[j], name))
            raise FileFormatError(
                f"{shp}: the field names {first} and {second} of {dbf.name} both read as '{read}' "
                "once the character its 10-byte limit for names cut in two is dropped, so "
                "their columns cannot be told apart. Nothing was read. Save the layer as a "
                "GeoPackage in the program that made it (a GeoPackage keeps whole names), or "
                f"rename the two fields there to names of at most {NAME_BYTES} bytes (3 Chinese "
                "characters in UTF-8, 5 in GBK) and add it again.")
    for name, read in out.items():
        log.warning("%s: field name '%s' was cut in the middle of a character by the .dbf's "
                    "%d-byte limit for names; read as '%s'", dbf,
                    name.decode(encoding, errors="backslashreplace"), NAME_BYTES, read)
    return out


def text_fields(dbf: Path, names: list[str], encoding: str) -> dict[str, list[str | None]] | None:
    """The text of fields ``names`` of each record of ``dbf`` that is not deleted,
    as stored: only the padding after the text is taken off, not the spaces
    before it (which GDAL strips).  An empty field is None.  None if a field is
    missing or the .dbf is not what its header says.
    """
    n, header_len, record_len, size = _dbf_header(dbf)
    if not record_len or header_len + n * record_len > size:
        return None
    fields = {field_name(name, encoding).lower(): (offset, length)
              for name, kind, offset, length in _fields(dbf, header_len) if kind in "CM"}
    if any(name.lower() not in fields for name in names):
        return None
    body = np.fromfile(dbf, dtype=np.uint8, count=n * record_len, offset=header_len)
    records = body.reshape(n, record_len)
    records = records[records[:, 0] != ord("*")]
    out: dict[str, list[str | None]] = {}
    for name in names:
        offset, length = fields[name.lower()]
        values: list[str | None] = []
        for row in records:
            raw = row[offset:offset + length].tobytes().rstrip(b" \x00")
            values.append(raw.decode(encoding, errors="replace") if raw else None)
        out[name] = values
    return out


def text_encoding(shp: Path, encoding: str | None) -> str | None:
    """The encoding to read ``shp``'s .dbf in: ``encoding``, the .cpg's, or its text's own."""
    if encoding:
        check_known(encoding, source=str(shp), named_by="given as --encoding")
        return encoding
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None:
        text = cpg.read_text(errors="replace").strip()
        if text:
            enc = cpg_encoding(text)
            check_known(enc, source=str(shp), named_by=f"named by {cpg.name}")
            return enc
    dbf = _sidecar(shp, ".dbf")
    if dbf is None:
        return None
    ldid = code_page(dbf)
    return choose_encoding(text_values(dbf), source=f"{dbf} (no .cpg beside it)",
                           declared=ldid, declared_by=f"the code-page byte of {dbf.name}")


def _shape_counts(shp: Path, shx: Path) -> tuple[int, bool, bool]:
    """(shapes the .shx lists, .shx cut short, .shp cut short)."""
    shx_size = shx.stat().st_size
    with open(shx, "rb") as fh:
        head = fh.read(100)
    if len(head) < 100:
        return 0, True, False
    shx_cut = int.from_bytes(head[24:28], "big") * 2 > shx_size
    count = max(0, (min(shx_size, int.from_bytes(head[24:28], "big") * 2) - 100) // 8)
    shp_size = shp.stat().st_size
    with open(shp, "rb") as fh:
        shp_head = fh.read(100)
    shp_cut = len(shp_head) < 100 or int.from_bytes(shp_head[24:28], "big") * 2 > shp_size
    if count and not shp_cut:
        with open(shx, "rb") as fh:
            fh.seek(100 + (count - 1) * 8)
            last = fh.read(8)
        end = (int.from_bytes(last[:4], "big") + 4 + int.from_bytes(last[4:], "big")) * 2
        shp_cut = end > shp_size
    return count, shx_cut, shp_cut


#: The first four bytes of a Shapefile's .shp (and .shx), big-endian.
_SHP_FILE_CODE = 9994


def check_complete(shp: Path) -> None:
    """Refuse a Shapefile whose .shp, .shx and .dbf do not hold the same features.

    A file cut short (an interrupted copy or download) or a part from
    another Shapefile would otherwise be read in part, without a word; a
    missing .dbf would leave every feature without its attributes.
    """
    with open(shp, "rb") as fh:
        code = fh.read(4)
    if int.from_bytes(code, "big") != _SHP_FILE_CODE:
        return  # an empty file, or no Shapefile at all (an Excel workbook renamed): the reader says which
    shx, dbf = _sidecar(shp, ".shx"), _sidecar(shp, ".dbf")
    fix = ("Nothing was read. Copy the complete Shapefile again (its .shp, .shx, .dbf, .prj "
           "and .cpg together), or export it again from the program that made it.")
    if shx is None or dbf is None:
        missing = [shp.with_suffix(s).name for s, found in ((".shx", shx), (".dbf", dbf)) if found is None]
        raise FileFormatError(f"{shp}: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                              f"missing beside it (a Shapefile is several files). {fix}")
    shapes, shx_cut, shp_cut = _shape_counts(shp, shx)
    if shx_cut or shp_cut:
        cut = shx if shx_cut else shp
        raise FileFormatError(f"{shp}: {cut.name} is cut short (smaller than its header "
                              f"says; an interrupted copy or download?). {fix}")
    announced, header_len, record_len, size = _dbf_header(dbf)
    held = max(0, (size - header_len) // record_len) if record_len else 0
    if held < announced:
        raise FileFormatError(
            f"{shp}: {dbf.name} holds the attributes of {held} feature(s), but its header "
            f"announces {announced} and {shx.name} lists {shapes}: {dbf.name} is cut short "
            f"(an interrupted copy or download?). {fix}")
    if announced != shapes:
        raise FileFormatError(
            f"{shp}: {shx.name} lists {shapes} shape(s) but {dbf.name} holds {announced} "
            f"record(s): the files do not belong together, or one is damaged. {fix}")
