"""Shapefile field names that stay readable and come back intact.

A Shapefile's .dbf holds field names of at most 10 bytes.  gcgeo's own
columns (the layer specs', the analyses' outputs) are shortened by one fixed
table, the same every time and unique across gcgeo (``clear_height_m`` →
``clr_height``, ``public_green_per_person_m2`` → ``pub_grn_pp``), stored in
``gcgeo/data/shapefile_fields.csv``; families of columns named after the
living-circle categories and tiers (``dist_<category>_m``,
``share_<category>_<tier>``, ``all_within_<tier>``, the supply analysis's
``choices_<category>``…) by patterns over those names.  Only a user's own columns are cut mechanically.

Beside each .shp an export writes ``<name>.fieldmap.csv`` (short, long,
label_zh, label_en), and reading a Shapefile renames its fields back by that
map (:func:`restore_field_names`) — or, without a map, recognises gcgeo's
own short names — so that export → ``gcgeo add`` → analyse gives the same
results as the workspace did.

>>> field_names(["clear_height_m", "share_supermarket_5min", "height_m"])
{'clear_height_m': 'clr_height', 'share_supermarket_5min': 's5_supmkt', 'height_m': 'height_m'}
>>> long_name("clr_height"), long_name("d_pharm")
('clear_height_m', 'dist_pharmacy_m')
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from ._errors import FileFormatError

log = logging.getLogger(__name__)

__all__ = [
    "CATEGORY_ABBREVIATIONS",
    "FIELD_MAP_SUFFIX",
    "field_map_path",
    "field_names",
    "known_fields",
    "long_name",
    "lost_spaces",
    "read_field_map",
    "restore_field_names",
    "short_name",
    "split_long_text",
    "write_field_map",
]

#: The field map beside ``<name>.shp`` is ``<name>.fieldmap.csv``.
FIELD_MAP_SUFFIX = ".fieldmap.csv"
#: The most bytes a .dbf field name holds.
MAX_BYTES = 10
#: The most bytes a .dbf text field holds; longer text continues in further fields.
MAX_TEXT_BYTES = 254

#: Facility categories (of the living-circle rules, and "green"), at most 6 characters,
#: for the families ``dist_<category>_m`` → ``d_<abbr>``,
#: ``share_<category>_<N>min`` → ``s<N>_<abbr>``, ``choices_<category>`` → ``c_<abbr>``
#: and ``access_<category>_per_1000`` → ``a_<abbr>``.
CATEGORY_ABBREVIATIONS: dict[str, str] = {
    "bus_stop": "bus",
    "community_service": "comsvc",
    "culture": "cultur",
    "culture_centre": "culcen",
    "culture_station": "culsta",
    "nursing_home": "nursng",
    "outdoor_fitness": "fitnes",
    "small_sports_ground": "smlspt",
    "elderly_care": "eldcar",
    "health": "health",
    "kindergarten": "kinder",
    "market": "market",
    "middle_school": "midsch",
    "other": "other",
    "park": "park",
    "pharmacy": "pharm",
    "primary_school": "prisch",
    "sports": "sports",
    "supermarket": "supmkt",
    "green": "green",
}
_WHAT = {"green": "grn", "park": "prk"}
#: the living circle's readings: all required categories / those found in the data
_READING = {"all": "aw", "in_data": "dw"}


@cache
def _table() -> dict[str, str]:
    """The fixed table long → short, as stored."""
    text = resources.files("gcgeo").joinpath("data/shapefile_fields.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return {r["long"]: r["short"] for r in rows}


@cache
def _inverse() -> dict[str, str]:
    return {s.lower(): long for long, s in _table().items()}


def _category(abbr_or_name: str, *, inverse: bool = False) -> str | None:
    if inverse:
        back = {v: k for k, v in CATEGORY_ABBREVIATIONS.items()}
        return back.get(abbr_or_name)
    return CATEGORY_ABBREVIATIONS.get(abbr_or_name)


def _family_short(name: str) -> str | None:
    """The short name of a column of one of gcgeo's families, if ``name`` is one."""
    m = re.fullmatch(r"dist_(.+)_m", name)
    if m and _category(m.group(1)):
        return f"d_{_category(m.group(1))}"
    m = re.fullmatch(r"choices_(.+)", name)
    if m and _category(m.group(1)):
        return f"c_{_category(m.group(1))}"
    m = re.fullmatch(r"access_(.+)_per_1000", name)
    if m and _category(m.group(1)):
        return f"a_{_category(m.group(1))}"
    m = re.fullmatch(r"(share_)?(all|in_data)_within_(\d+)min", name)
    if m:
        return f"{'sh_' if m.group(1) else ''}{_READING[m.group(2)]}_{m.group(3)}"
    m = re.fullmatch(r"share_served_(\d+)min", name)
    if m:
        return f"sh_srv_{m.group(1)}"
    m = re.fullmatch(r"served_(\d+)min", name)
    if m:
        return f"srv_{m.group(1)}"
    m = re.fullmatch(r"missing_(\d+)min", name)
    if m:
        return f"miss_{m.group(1)}"
    m = re.fullmatch(r"public_green_(req|pass)_(\d+)min", name)
    if m:
        return f"pg_{m.group(1)}_{m.group(2)}"
    m = re.fullmatch(r"served_(\d+)m_(green|park)", name)
    if m:
        return f"sv{m.group(1)}_{_WHAT[m.group(2)]}"
    m = re.fullmatch(r"share_within_(\d+)m_(green|park)", name)
    if m:
        return f"sw{m.group(1)}_{_WHAT[m.group(2)]}"
    m = re.fullmatch(r"share_(.+)_(\d+)min", name)
    if m and _category(m.group(1)):
        return f"s{m.group(2)}_{_category(m.group(1))}"
    return None


def _family_long(short: str) -> str | None:
    """The column of one of gcgeo's families that ``short`` names, if any."""
    s = short.lower()
    m = re.fullmatch(r"d_(\w+)", s)
    if m and _category(m.group(1), inverse=True):
        return f"dist_{_category(m.group(1), inverse=True)}_m"
    m = re.fullmatch(r"(c|a)_(\w+)", s)
    if m and _category(m.group(2), inverse=True):
        cat = _category(m.group(2), inverse=True)
        return f"choices_{cat}" if m.group(1) == "c" else f"access_{cat}_per_1000"
    m = re.fullmatch(r"(sh_)?(aw|dw)_(\d+)", s)
    if m:
        reading = {v: k for k, v in _READING.items()}[m.group(2)]
        return f"{'share_' if m.group(1) else ''}{reading}_within_{m.group(3)}min"
    m = re.fullmatch(r"sh_srv_(\d+)", s)
    if m:
        return f"share_served_{m.group(1)}min"
    m = re.fullmatch(r"srv_(\d+)", s)
    if m:
        return f"served_{m.group(1)}min"
    m = re.fullmatch(r"miss_(\d+)", s)
    if m:
        return f"missing_{m.group(1)}min"
    m = re.fullmatch(r"pg_(req|pass)_(\d+)", s)
    if m:
        return f"public_green_{m.group(1)}_{m.group(2)}min"
    what = {v: k for k, v in _WHAT.items()}
    m = re.fullmatch(r"(sv|sw)(\d+)_(grn|prk)", s)
    if m:
        head = "served" if m.group(1) == "sv" else "share_within"
        return f"{head}_{m.group(2)}m_{what[m.group(3)]}"
    m = re.fullmatch(r"s(\d+)_(\w+)", s)
    if m and _category(m.group(2), inverse=True):
        return f"share_{_category(m.group(2), inverse=True)}_{m.group(1)}min"
    return None


def _fits(name: str, encoding: str) -> bool:
    try:
        return len(name.encode(encoding)) <= MAX_BYTES
    except UnicodeEncodeError:
        return False


def short_name(name: str) -> str | None:
    """gcgeo's own short name for column ``name`` (from the table or a family), or None.

    None for a name gcgeo does not know: a user's own column.
    """
    return _table().get(name) or _family_short(name)


def long_name(short: str) -> str | None:
    """The gcgeo column a short field name stands for, or None if it is none of gcgeo's."""
    return _inverse().get(short.lower()) or _family_long(short)


def known_fields() -> dict[str, str]:
    """Every short name gcgeo gives its own columns: the table, and the families
    over the built-in categories and tiers (``long → short``)."""
    out = dict(_table())
    tiers = ("5min", "10min", "15min")
    for cat in CATEGORY_ABBREVIATIONS:
        for name in (f"dist_{cat}_m", f"choices_{cat}", f"access_{cat}_per_1000"):
            out[name] = _family_short(name) or ""
        for t in tiers:
            out[f"share_{cat}_{t}"] = _family_short(f"share_{cat}_{t}") or ""
    for t in tiers:
        for name in (f"share_served_{t}", f"served_{t}", f"public_green_req_{t}",
                     f"public_green_pass_{t}", f"missing_{t}"):
            out[name] = _family_short(name) or ""
    for d, what in ((300, "green"), (500, "park")):
        for name in (f"served_{d}m_{what}", f"share_within_{d}m_{what}"):
            out[name] = _family_short(name) or ""
    return out


def _cut(name: str, encoding: str, room: int = MAX_BYTES) -> str:
    """``name`` cut to ``room`` bytes in ``encoding`` (whole characters)."""
    out = name
    while out and not (len(out.encode(encoding, errors="replace")) <= room):
        out = out[:-1]
    return out


def field_names(columns: Iterable[str], *, encoding: str = "UTF-8") -> dict[str, str]:
    """Map ``columns`` to unique .dbf field names of at most 10 bytes in ``encoding``.

    A name that fits is kept; gcgeo's own long names take their fixed short
    name (:func:`short_name`); a user's long name is cut to 10 bytes.  Names
    already fitting are served first, then gcgeo's, then the cut ones, so a
    cut name never takes a name gcgeo reads back; a clash gets ``_1``,
    ``_2``… (compared without case, as .dbf readers do).  The same columns
    give the same names every time.
    """
    cols = [str(c) for c in columns]
    want: dict[str, tuple[int, str]] = {}
    for c in cols:
        if _fits(c, encoding):
            want[c] = (0, c)
        elif (s := short_name(c)) is not None:
            want[c] = (1, s)
        else:
            want[c] = (2, _cut(c, encoding))
    out: dict[str, str] = {}
    used: set[str] = set()
    for rank in (0, 1, 2):
        for c in cols:
            r, name = want[c]
            if r != rank:
                continue
            candidate, k = name, 1
            while candidate.lower() in used:
                suffix = f"_{k}"
                candidate, k = _cut(name, encoding, MAX_BYTES - len(suffix)) + suffix, k + 1
            used.add(candidate.lower())
            out[c] = candidate
    return {c: out[c] for c in cols}


def _chunks(text: str, encoding: str) -> list[str]:
    """``text`` in pieces of at most :data:`MAX_TEXT_BYTES` bytes, cut between characters.

    No piece but the last ends on a space: a .dbf pads a field with spaces, so
    a reader cannot tell a piece's own last spaces from the padding and drops
    them.  Each cut is made after the last non-space character that fits, so
    the spaces go on in the next piece (whose first spaces gcgeo keeps: it
    reads continued text from the .dbf's bytes, :func:`restore_field_names`).
    Only a run of spaces longer than a whole field cannot be cut so.
    """
    sizes = [len(ch.encode(encoding, errors="replace")) for ch in text]
    out: list[str] = []
    start = 0
    while start < len(text):
        end, size = start, 0
        while end < len(text) and size + sizes[end] <= MAX_TEXT_BYTES:
            size += sizes[end]
            end += 1
        if end < len(text):  # not the last piece: end it on a non-space character
            cut = end
            while cut > start and text[cut - 1] == " ":
                cut -= 1
            end = cut if cut > start else end  # a field's worth of spaces: cut anyway
        out.append(text[start:end])
        start = end
    return out or [text]


def lost_spaces(frame: pd.DataFrame, encoding: str = "UTF-8") -> dict[str, tuple[int, int]]:
    """Text columns of ``frame`` with spaces a .dbf cannot keep: ``{column: (edges, runs)}``.

    ``edges`` counts the values that begin or end with spaces: a .dbf pads
    fields with spaces, and readers (GDAL, so QGIS and gcgeo) strip them at
    both ends.  ``runs`` counts the values too long for one field that hold
    a run of spaces longer than a field, which no cut keeps (:func:`_chunks`).
    Columns without either are left out.
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    out: dict[str, tuple[int, int]] = {}
    for col in frame.columns:
        s = frame[col]
        if col == geometry or (s.dtype != object and str(s.dtype) not in ("string", "str")):
            continue
        edges = runs = 0
        for v in s.tolist():
            if not isinstance(v, str):
                continue
            edges += v != v.strip(" ")
            if len(v.encode(encoding, errors="replace")) > MAX_TEXT_BYTES:
                runs += any(p.endswith(" ") for p in _chunks(v, encoding)[:-1])
        if edges or runs:
            out[str(col)] = (edges, runs)
    return out


def split_long_text(frame: pd.DataFrame, encoding: str = "UTF-8") -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Text longer than a .dbf field holds, continued in further columns.

    Returns the frame (a copy if anything changed), with ``<col>`` holding
    the first 254 bytes and ``<col>\x1f2``, ``<col>\x1f3``… the rest, and
    the parts of each split column (``{col: [col, col\x1f2, …]}``); the field
    map records them so :func:`restore_field_names` joins them again.
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    parts: dict[str, list[str]] = {}
    out = frame
    for col in list(frame.columns):
        s = frame[col]
        if col == geometry or (s.dtype != object and str(s.dtype) not in ("string", "str")):
            continue
        texts = [v if isinstance(v, str) else None for v in s.tolist()]
        sizes = [0 if v is None else len(v.encode(encoding, errors="replace")) for v in texts]
        if not sizes or max(sizes) <= MAX_TEXT_BYTES:
            continue
        pieces = [None if v is None else _chunks(v, encoding) for v in texts]
        k = max(0 if p is None else len(p) for p in pieces)
        out = out.copy() if out is frame else out
        names = [str(col)] + [f"{col}\x1f{i}" for i in range(2, k + 1)]
        at = list(out.columns).index(col)
        for i, name in enumerate(names):
            values = pd.Series([p[i] if p is not None and i < len(p) else None for p in pieces],
                               index=frame.index, dtype=object)
            if i == 0:
                out[col] = values
            else:
                out.insert(at + i, name, values)
        parts[str(col)] = names
    return out, parts


def part_names(names: Mapping[str, str], parts: Mapping[str, list[str]], *,
               encoding: str = "UTF-8") -> dict[str, str]:
    """Field names of the continuation columns of :func:`split_long_text`:
    the column's own short name with ``_2``, ``_3``…, unique among ``names``."""
    used = {v.lower() for v in names.values()}
    out: dict[str, str] = {}
    for col, cols in parts.items():
        base = names[col]
        for i, part in enumerate(cols[1:], start=2):
            suffix, k = f"_{i}", 0
            candidate = _cut(base, encoding, MAX_BYTES - len(suffix)) + suffix
            while candidate.lower() in used:
                k += 1
                suffix = f"_{i}{chr(ord('a') + k - 1)}"
                candidate = _cut(base, encoding, MAX_BYTES - len(suffix)) + suffix
            used.add(candidate.lower())
            out[part] = candidate
    return out


def field_map_path(shp: str | os.PathLike) -> Path:
    """``<name>.fieldmap.csv`` beside ``<name>.shp``."""
    shp = Path(shp)
    return shp.with_name(shp.stem + FIELD_MAP_SUFFIX)


def write_field_map(path: str | os.PathLike, names: Mapping[str, str], *,
                    kind: str | None = None, parts: Mapping[str, list[str]] | None = None) -> None:
    """Write the field map ``short,long,label_zh,label_en`` (UTF-8 with BOM, for Excel).

    ``names`` maps each column (long) to its field name (short), in the
    file's order, as :func:`field_names` returns it; ``kind`` is the layer
    kind, for the labels; ``parts`` the continued text columns
    (:func:`split_long_text`), whose fields all name their column.
    """
    from .labels import column_label

    part_of = {p: (col, i, len(cols)) for col, cols in (parts or {}).items()
               for i, p in enumerate(cols, start=1)}
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["short", "long", "label_zh", "label_en"])
        for col, short in names.items():
            long, i, n = part_of.get(col, (col, 1, 1))
            more = f" ({i}/{n})" if n > 1 else ""
            w.writerow([short, long, column_label(long, "zh", kind=kind) + more,
                        column_label(long, "en", kind=kind) + more])


def read_field_map(path: str | os.PathLike) -> dict[str, str]:
    """A field map's ``short → long``; :class:`FileFormatError` names a malformed one."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeError, csv.Error) as exc:
        raise FileFormatError(f"{path}: the field map cannot be read ({exc}); fix or delete it.") from None
    if rows and not {"short", "long"} <= set(rows[0]):
        raise FileFormatError(f"{path}: a field map needs the columns 'short' and 'long' "
                              f"(found {', '.join(map(str, rows[0]))}); fix or delete it.")
    out: dict[str, str] = {}  # several fields may name one column: its text continued
    for n, r in enumerate(rows, start=2):
        short, long = (r.get("short") or "").strip(), (r.get("long") or "").strip()
        if not short or not long:
            raise FileFormatError(f"{path} line {n}: 'short' and 'long' must both be given.")
        out[short] = long
    return out


def restore_field_names(frame: pd.DataFrame, shp: str | os.PathLike, *,
                        encoding: str | None = None) -> pd.DataFrame:
    """``frame`` read from Shapefile ``shp`` with its long column names back.

    By the field map beside it when there is one, else by gcgeo's own short
    names (:func:`long_name`).  A name is not restored onto a column that
    exists already.  Text continued over several fields is joined from the
    .dbf's own bytes (in ``encoding``, else the one :func:`gcgeo.io.read_vector`
    finds), so the spaces that begin a continuation are kept.  Returns a renamed copy (or ``frame`` itself if nothing
    changes).
    """
    fmap = field_map_path(shp)
    geometry = getattr(frame, "_geometry_column_name", None)
    columns = [str(c) for c in frame.columns if c != geometry]
    if fmap.exists():
        table = read_field_map(fmap)
        present = {c.lower(): c for c in columns}
        groups: dict[str, list[str]] = {}
        for short, name in table.items():
            if short.lower() in present:
                groups.setdefault(name, []).append(present[short.lower()])
        frame = _join_parts(frame, groups, Path(shp), encoding)
        columns = [str(c) for c in frame.columns if c != geometry]
        wanted = {cols[0]: name for name, cols in groups.items()}
        how = fmap.name
    else:
        found = {c: long_name(c) for c in columns}
        wanted = {c: n for c, n in found.items() if n is not None}
        how = "gcgeo's short names"
    taken = set(columns)
    rename: dict[str, str] = {}
    for c, long in wanted.items():
        if long == c:
            continue
        taken.discard(c)
        if long in taken:
            log.warning("%s: field %s not renamed to %s, which exists already", Path(shp).name, c, long)
            continue
        rename[c] = long
        taken.add(long)
    if not rename:
        return frame
    log.info("%s: fields renamed by %s: %s", Path(shp).name, how,
             ", ".join(f"{k} → {v}" for k, v in rename.items()))
    return frame.rename(columns=rename)


def _join_parts(frame: pd.DataFrame, groups: Mapping[str, list[str]], shp: Path,
                encoding: str | None) -> pd.DataFrame:
    """Text continued over several fields joined into the first of them.

    The pieces are read from the .dbf's bytes: GDAL strips the spaces a
    continuation begins with.  The first piece loses its leading spaces as
    GDAL reads any field (so every value reads back alike).
    """
    from . import _shapefile

    split = {cols[0]: cols[1:] for cols in groups.values() if len(cols) > 1}
    if not split:
        return frame
    dbf = shp.with_suffix(".dbf")
    raw = None
    if dbf.exists():
        enc = _shapefile.text_encoding(shp, encoding) or "UTF-8"
        raw = _shapefile.text_fields(dbf, [c for first, rest in split.items() for c in (first, *rest)],
                                     enc)
    if raw is not None and any(len(v) != len(frame) for v in raw.values()):
        raw = None
    if raw is None:
        log.warning("%s: continued text joined as GDAL reads it: spaces where a field "
                    "continues may be missing", shp.name)
    out = frame.copy()
    for first, rest in split.items():
        if raw is not None:
            pieces = [raw[c] for c in (first, *rest)]
            joined = []
            for row in zip(*pieces):
                texts = [v for v in row if v is not None]
                joined.append("".join(texts).lstrip(" ") if texts else None)
            out[first] = pd.Series(joined, index=out.index, dtype=object)
        else:
            def join(row: pd.Series) -> str | None:
                texts = [v for v in row if isinstance(v, str)]
                return "".join(texts) if texts else None
            out[first] = out[[first, *rest]].apply(join, axis=1)
        out = out.drop(columns=rest)
    return out
