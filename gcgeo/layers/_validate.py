"""Column mapping, type coercion, validation and safe repair of layers.

Validation collects every problem of a layer in one pass and reports them
together, by layer, row id and column; nothing is raised for bad data.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import LayerError
from ..values import ID_COLUMNS, UNIT_WORDS, id_column, to_bool, to_date, to_number, to_slope
from ._spec import Column, LayerSpec

log = logging.getLogger(__name__)

#: Default distance beyond the study area at which a feature is reported.
DEFAULT_OUTSIDE_TOLERANCE_M = 2000.0

#: The largest whole number a column of whole numbers takes (2**53: float64 holds every whole
#: number up to it exactly); larger values (households = 1e30) are reported as unreadable.
MAX_WHOLE = float(2**53)


def _spec(kind_or_spec: str | LayerSpec) -> LayerSpec:
    if isinstance(kind_or_spec, LayerSpec):
        return kind_or_spec
    from . import get_spec

    return get_spec(kind_or_spec)


def _norm(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_")


#: a unit in brackets closing a column name: 高度(米), 常住人口（人）, height (m)
_BRACKETED_UNIT = re.compile(r"^(.+?)\s*\(\s*([^()]+?)\s*\)$")


def _unit_stripped(name: str, column: Column) -> str | None:
    """``name`` without a closing bracketed unit, if that unit is ``column``'s own (高度(米)
    for a column kept in metres); None otherwise (高度(厘米) is not read as metres)."""
    if column.unit is None:
        return None
    m = _BRACKETED_UNIT.match(unicodedata.normalize("NFKC", str(name)).strip())
    if m is None:
        return None
    words = {w.lower() for w in UNIT_WORDS.get(column.unit, ())} | {column.unit.lower()}
    return _norm(m.group(1)) if m.group(2).lower() in words else None


def map_columns(
    df: pd.DataFrame,
    kind: str | LayerSpec,
    mapping: Mapping[str, str] | None = None,
    *,
    source: str = "the input",
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename a planner's columns onto the spec of ``kind``.

    ``mapping`` maps the file's column names to spec names (``{"名称": "name"}``)
    and wins over the automatic match, which recognises each spec column's
    name, its Chinese and English labels and its aliases (case-insensitive),
    also followed by the column's own unit in brackets (高度(米), 常住人口（人）;
    not 高度(厘米)).  Returns the renamed copy and the renames made.  Unmatched
    columns are kept (:func:`unused_columns` names them).
    """
    spec = _spec(kind)
    mapping = dict(mapping or {})
    known = {c.name for c in spec.all_columns}
    for src, dst in mapping.items():
        if src not in df.columns:
            raise LayerError(
                f"column mapping names '{src}', but {source} has no such column; "
                f"its columns are: {', '.join(map(str, df.columns))}."
            )
        if dst not in known:
            raise LayerError(
                f"column mapping sends '{src}' to '{dst}', which is not a column of layer "
                f"kind '{spec.kind}'; use one of: {', '.join(sorted(known))}."
            )
    renames: dict[str, str] = dict(mapping)
    taken = set(mapping.values())
    present = {c for c in df.columns if c != df.geometry.name} if isinstance(
        df, gpd.GeoDataFrame) else set(df.columns)
    for col in spec.all_columns:
        if col.name in taken:
            continue
        if col.name in present and col.name not in renames:
            taken.add(col.name)
            continue
        if col.name == "id":  # 编号, FID, OBJECTID, <kind>_id…: one convention (gcgeo.values)
            src_id = id_column([c for c in df.columns if c in present and c not in renames
                                and c not in known], kind=spec.kind)
            if src_id is not None:
                renames[src_id] = "id"
                taken.add("id")
            continue
        candidates = {_norm(col.name), _norm(col.label_en), _norm(col.label_zh)}
        candidates |= {_norm(a) for a in col.aliases}
        free = [c for c in df.columns if c not in renames and c not in known and c in present]
        # the name itself first; else the name with the column's own unit in brackets (高度(米))
        found = next((c for c in free if _norm(c) in candidates), None)
        if found is None:
            found = next((c for c in free if _unit_stripped(c, col) in candidates), None)
        if found is not None:
            renames[found] = col.name
            taken.add(col.name)
    _refuse_clashes(df, renames, mapping, source)
    out = df.rename(columns=renames)
    if renames:
        log.info("%s: columns mapped %s", source, renames)
    return out, {k: v for k, v in renames.items() if k != v}


def unused_columns(df: pd.DataFrame, kind: str | LayerSpec) -> list[str]:
    """The columns of a mapped frame gcgeo does not read: neither a column of ``kind``'s
    spec, nor the geometry, nor a spec column's ``_raw`` text, nor a source id (FID,
    OBJECTID…, kept to trace features back).  They are kept as they are; a planner maps
    them with ``--columns`` if they hold a spec column.

    >>> unused_columns(pd.DataFrame({"id": [1], "建筑性质": ["住宅"], "FID": [0]}), "buildings")
    ['建筑性质']
    """
    spec = _spec(kind)
    own = {c.name for c in spec.all_columns}
    own |= {f"{c}_raw" for c in own}
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    return [str(c) for c in df.columns if c != geom and c not in own
            and str(c).strip().lower() not in ID_COLUMNS]


def missing_columns(df: pd.DataFrame, kind: str | LayerSpec) -> list[Column]:
    """The columns of ``kind``'s own spec (not the id, name… every layer may carry) a
    mapped frame lacks, required ones first."""
    spec = _spec(kind)
    gone = [c for c in spec.columns if c.name not in df.columns]
    return sorted(gone, key=lambda c: not c.required)


def guess_columns(unused: list[str], missing: list[Column]) -> dict[str, str]:
    """Unused column → missing spec column, where the column's name contains one (and only
    one) missing column's Chinese label or alias of two characters or more (English: four):
    a hint for ``--columns`` to check, never applied by itself.

    >>> from gcgeo.layers import get_spec
    >>> spec = get_spec("buildings")
    >>> guess_columns(["建筑性质", "楼层数", "居住人数"], list(spec.columns))
    {'建筑性质': 'use', '楼层数': 'floors'}
    """
    def words(c: Column) -> set[str]:
        return {w.lower() for w in (c.label_zh, c.label_en, *c.aliases)
                if len(w) >= (4 if w.isascii() else 2)}

    out = {}
    for name in unused:
        low = name.lower()
        hits = {c.name for c in missing if any(w in low for w in words(c))}
        if len(hits) == 1:
            out[name] = hits.pop()
    return out


def _refuse_clashes(df: pd.DataFrame, renames: Mapping[str, str], mapping: Mapping[str, str],
                    source: str) -> None:
    """Refuse a mapping that gives two columns one name (GeoPackage column names ignore case)."""
    by_name: dict[str, list[str]] = {}
    for col in df.columns:
        by_name.setdefault(str(renames.get(col, col)).lower(), []).append(str(col))
    for cols in by_name.values():
        if len(cols) < 2:
            continue
        moved = [c for c in cols if c in renames and renames[c] != c]
        target = renames.get(moved[0], moved[0]) if moved else cols[0]
        asked = [c for c in moved if c in mapping]
        if len(asked) > 1:
            raise LayerError(
                f"the column mapping sends both {' and '.join(repr(c) for c in asked)} to "
                f"'{target}', but a layer holds one '{target}' column; map only one of them "
                f"(e.g. --columns {asked[0]}={target}).")
        kept = [c for c in cols if c not in moved]
        have = " and ".join(repr(c) for c in kept)
        if not moved:
            raise LayerError(
                f"{source} has columns {have}, which a GeoPackage takes for one column (its "
                "column names ignore case); rename one of them in the file.")
        if moved[0] in mapping:
            raise LayerError(
                f"the column mapping sends '{moved[0]}' to '{target}', but {source} already has "
                f"a column {have}: a layer cannot hold two columns named '{target}' (GeoPackage "
                f"column names ignore case). Rename or remove {kept[0]!r} in the file, or leave "
                f"'{moved[0]}' unmapped to keep {kept[0]!r} as '{target}'.")
        raise LayerError(
            f"{source} has a column {have} and a column '{moved[0]}', which gcgeo reads as "
            f"'{target}': a layer cannot hold two columns named '{target}' (GeoPackage column "
            f"names ignore case). Say which one is '{target}' (e.g. --columns {kept[0]}={target}) "
            "or rename the other in the file.")


def coerce_columns(
    df: pd.DataFrame, kind: str | LayerSpec
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Cast spec columns to their dtypes, and the geometry to single parts where ``kind``
    takes them (:func:`single_parts`: a MultiPoint of one point is a point).

    Returns the cast copy and, per column, a boolean mask of the rows whose
    value could not be read as that type (those become missing values; the
    original text is kept in ``<column>_raw`` so nothing is lost).
    """
    spec = _spec(kind)
    out = df.copy()
    geometry = getattr(out, "_geometry_column_name", None)  # (a GeoDataFrame may have none)
    if geometry in out.columns and not spec.multipart:
        geoms, _ = single_parts(out[geometry].to_numpy(), spec)
        out[geometry] = gpd.GeoSeries(geoms, index=out.index, crs=out[geometry].crs)
    bad: dict[str, pd.Series] = {}
    for col in spec.all_columns:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if col.dtype in ("int", "float"):
            if col.unit == "rise/run":  # 1:12, 8%, 8.3 read as the ramps check reads them
                num, mask = to_slope(s)
            else:
                num, mask = to_number(s, unit=col.unit)  # 3.5米, ３.５, 1,200 read as numbers
            if col.dtype == "int":
                # fractions, infinities and numbers too large to be counts exactly (1e30)
                frac = num.notna() & ((num != np.round(num)) | ~(num.abs() <= MAX_WHOLE))
                if frac.any():
                    mask = mask | frac
                    num = num.where(~frac)
                num = num.astype("Int64")
            else:
                num = num.astype("float64")
            out[col.name] = num
        elif col.dtype == "bool":
            out[col.name], mask = to_bool(s)
        elif col.dtype == "date":
            dates, mask = to_date(s)  # 2021/3/5, 2021年3月5日, Excel serials (44260)
            out[col.name] = dates.dt.strftime("%Y-%m-%d").where(dates.notna(), None)
        else:
            if pd.api.types.is_float_dtype(s):  # ids and codes read as floats: 29139, not 29139.0
                s = s.map(lambda v: v if pd.isna(v) else _row_text(v)).astype(object)
            text = s.astype("string").where(s.notna(), None).astype(object)
            if col.allowed is not None:
                # planners' spellings (幼儿园, 电动车, Car…) read as the spec's values
                lookup = col.value_lookup()
                codes, uniques = pd.factorize(text.to_numpy(object))  # each spelling looked up once
                found = np.array([lookup.get(str(v).strip().lower()) for v in uniques] + [None], dtype=object)
                key = pd.Series(found[codes], index=text.index, dtype=object)  # code -1 (None): None
                text = key.where(key.notna(), text)
            out[col.name] = text
            mask = pd.Series(False, index=s.index)
        if mask.any():
            bad[col.name] = mask
            out[f"{col.name}_raw"] = s.astype("string").where(mask, None).astype(object)
    return out, bad


@dataclass
class Problem:
    """One problem found by validation."""

    layer: str
    row: str | None
    column: str | None
    problem: str
    severity: str = "error"  # "error" or "warning"
    fixable: bool = False
    #: the feature's ``id`` value where the layer has one (``row`` is its row number)
    id: str | None = None

    def __str__(self) -> str:
        where = self.layer
        if self.row is not None:
            where += f" row {self.row}"
        if self.id is not None:
            where += f" (id '{self.id}')"
        if self.column:
            where += f" column '{self.column}'"
        fix = " (--fix repairs this)" if self.fixable else ""
        return f"{self.severity}: {where}: {self.problem}{fix}"


@dataclass
class ValidationReport:
    """All problems of one or more layers; ``ok`` when no errors."""

    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def extend(self, other: ValidationReport) -> None:
        self.problems.extend(other.problems)
        self.checked.update(other.checked)

    def to_frame(self) -> pd.DataFrame:
        cols = ["layer", "row", "id", "column", "problem", "severity", "fixable"]
        # (the fields read one by one: ``asdict`` copies each value deeply, 0.7 s for 23k problems)
        return pd.DataFrame([[getattr(p, c) for c in cols] for p in self.problems], columns=cols)

    def __str__(self) -> str:
        head = (
            f"{len(self.checked)} layer(s), {sum(self.checked.values())} feature(s) checked: "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )
        return "\n".join([head, *map(str, self.problems)])


def _row_text(label: object) -> str:
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))  # 29139, never 29139.0
    return str(label)


def row_numbers(index: pd.Index) -> pd.Series:
    """The row of each feature as reports name it: the index label as text, on ``index``.

    A layer read from a workspace is indexed by its GeoPackage feature id
    (the ``fid`` QGIS shows), so a report's row 12 is the feature QGIS shows
    as 12.  Whole numbers are written without a decimal point.

    >>> row_numbers(pd.Index([1, 2.0, "a"])).tolist()
    ['1', '2', 'a']
    """
    return pd.Series([_row_text(v) for v in index], index=index, dtype=object)


def _id_values(gdf: pd.DataFrame) -> pd.Series:
    """The ``id`` of each feature as text (None where it has none)."""
    if "id" not in gdf.columns:
        return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
    ids = gdf["id"].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                        or v is pd.NA or not str(v).strip() else _row_text(v))
    return ids.astype(object)


def _labels(rows: pd.Series, ids: pd.Series) -> pd.Series:
    """How a message names another feature: its id, else ``#<row>``."""
    return ids.where(ids.notna(), "#" + rows)


def validate(
    gdf: gpd.GeoDataFrame,
    kind: str | LayerSpec,
    *,
    layer: str | None = None,
    study_area: shapely.Geometry | None = None,
    outside_tolerance_m: float = DEFAULT_OUTSIDE_TOLERANCE_M,
    network_rules: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Check ``gdf`` against the spec of ``kind`` and report every problem.

    ``study_area`` (in ``gdf``'s CRS, which must then be projected) enables
    the check for features farther than ``outside_tolerance_m`` from it.
    ``network_rules`` (the ``network`` rule set, with a user's overrides) sets
    how street gaps and crossings are judged; the built-in set by default.
    """
    spec = _spec(kind)
    name = layer or spec.kind
    rep = ValidationReport(checked={name: len(gdf)})
    ids = row_numbers(gdf.index)  # the row each problem names; the feature's id goes beside it
    id_of = dict(zip(ids, _id_values(gdf)))

    def add(p: Problem) -> None:
        if p.id is None and p.row is not None:
            p.id = id_of.get(p.row)
        rep.problems.append(p)

    if gdf.crs is None:
        add(Problem(name, None, None,
                    "layer has no CRS; declare it when adding the file (--src-crs, e.g. "
                    "wgs84, cgcs2000, gcj02, bd09 or EPSG:4547)"))
    for required in spec.required:
        if required not in gdf.columns:
            add(Problem(name, None, required,
                        f"required column '{required}' is missing; map the file's column onto "
                        f"it with --columns (e.g. '源列名={required}')"))

    geom = gdf.geometry.array if isinstance(gdf, gpd.GeoDataFrame) else None
    if geom is not None and len(gdf):
        g = np.asarray(gdf.geometry.values, dtype=object)
        missing = shapely.is_missing(g)
        empty = ~missing & shapely.is_empty(g)
        for i in np.flatnonzero(missing | empty):
            add(Problem(name, ids.iloc[i], "geometry", "geometry is empty or missing"))
        present = ~(missing | empty)
        valid = shapely.is_valid(g)
        bad_geom = np.flatnonzero(present & ~valid)
        _, repairable = repair_geometry(g[bad_geom])
        for i, can in zip(bad_geom, repairable):
            reason = shapely.is_valid_reason(g[i])
            if can:
                add(Problem(name, ids.iloc[i], "geometry", f"invalid geometry: {reason}",
                            fixable=True))
            else:
                add(Problem(name, ids.iloc[i], "geometry",
                            f"invalid geometry: {reason}; --fix cannot repair it: "
                            f"{_UNREPAIRABLE[int(shapely.get_dimensions(g[i]))]}; redraw it "
                            "or remove it"))
        for at, text, fixable in _type_problems(g, present, spec):
            add(Problem(name, ids.iloc[at], "geometry", text, fixable=fixable))
        if study_area is not None and gdf.crs is not None and gdf.crs.is_projected:
            d = shapely.distance(g, study_area)
            far = present & (np.nan_to_num(d, nan=0.0) > outside_tolerance_m)
            for i in np.flatnonzero(far):
                add(Problem(name, ids.iloc[i], "geometry",
                            f"feature lies {d[i] / 1000:.1f} km outside the study area; check its "
                            "coordinates or the declared CRS", severity="warning"))

        if spec.kind == "streets" and gdf.crs is not None and gdf.crs.is_projected:
            labels = _labels(ids, _id_values(gdf))
            from .. import rules as _rules

            net = network_rules if network_rules is not None else _rules.load("network")
            _street_gaps(gdf, name, ids, labels, add, net)
            _street_crossings(gdf, name, ids, labels, add, net)

    typed, bad = coerce_columns(gdf, spec)
    for colname, mask in bad.items():
        col = spec.column(colname)
        for i in np.flatnonzero(mask.to_numpy()):
            add(Problem(name, ids.iloc[i], colname, _unreadable(gdf[colname].iloc[i], col.dtype)))
    for col in spec.all_columns:
        if col.name not in typed.columns:
            continue
        s = typed[col.name]
        if col.allowed is not None:
            text = s.astype("string")
            outside = s.notna() & ~text.isin(col.allowed).fillna(False)
            for i in np.flatnonzero(outside.to_numpy()):
                add(Problem(name, ids.iloc[i], col.name,
                            f"value {s.iloc[i]!r} is not allowed; use one of: "
                            f"{', '.join(col.allowed)}"))
        if col.required:
            for i in np.flatnonzero(s.isna().to_numpy()):
                add(Problem(name, ids.iloc[i], col.name, "required value is missing"))
        if col.dtype in ("int", "float") and (col.minimum is not None or col.maximum is not None):
            v = pd.to_numeric(s, errors="coerce").astype("float64")
            lo = -np.inf if col.minimum is None else col.minimum
            hi = np.inf if col.maximum is None else col.maximum
            out_of = v.notna() & ((v < lo) | (v > hi))
            for i in np.flatnonzero(out_of.to_numpy()):
                unit = f" {col.unit}" if col.unit else ""
                add(Problem(name, ids.iloc[i], col.name,
                            f"value {v.iloc[i]:g}{unit} is outside the plausible range "
                            f"[{col.minimum if col.minimum is not None else '-∞'}, "
                            f"{col.maximum if col.maximum is not None else '∞'}]"))
    for col in spec.all_columns:
        raw = f"{col.name}_raw"
        if raw in gdf.columns and col.name in gdf.columns:
            for i in np.flatnonzero(gdf[raw].notna().to_numpy() & gdf[col.name].isna().to_numpy()):
                add(Problem(name, ids.iloc[i], col.name,
                            f"{_unreadable(gdf[raw].iloc[i], col.dtype)} (found when the layer "
                            "was added); fix it in the source file and add it again"))
    if "id" in gdf.columns:
        id_values = _id_values(gdf)
        present_ids = id_values[id_values.notna()]
        dup = present_ids[present_ids.duplicated(keep=False)]
        for value in sorted(set(dup)):
            at = ids[(id_values == value).to_numpy()].tolist()
            shown = ", ".join(at[:10]) + ("…" if len(at) > 10 else "")
            add(Problem(name, shown, "id", f"id '{value}' is used by {len(at)} features (rows "
                        f"{shown}); ids must be unique", id=value))
    return rep


#: the base type of each shapely type id (a multi-part type's parts)
_BASE = {0: "Point", 1: "LineString", 2: "LineString", 3: "Polygon", 4: "Point", 5: "LineString",
         6: "Polygon"}
_PLURAL = {"Point": "points", "LineString": "lines", "Polygon": "polygons"}


def single_parts(geoms: np.ndarray, kind: str | LayerSpec) -> tuple[np.ndarray, np.ndarray]:
    """The geometries as a layer of ``kind`` holds them, and which of them have several parts
    where ``kind`` takes single parts (:attr:`LayerSpec.multipart` false: chargers, manholes…).

    There a MultiPoint (MultiLineString, MultiPolygon) of one part is that part: a
    Shapefile of type MultiPoint holds every point so, and a GeoPackage layer mixing
    points and multipoints is written all as multipoints (GDAL's one type per layer).
    Those of several parts are left as they are and marked: :func:`validate` reports
    them and :func:`fix` splits them.  ``gcgeo add`` (by :func:`coerce_columns`) and
    ``gcgeo validate`` take a layer's geometries by this one function, so they agree.

    >>> g = np.array([shapely.MultiPoint([(0, 0)]), shapely.MultiPoint([(0, 0), (1, 1)])])
    >>> out, several = single_parts(g, "chargers")
    >>> [x.geom_type for x in out], several.tolist()
    (['Point', 'MultiPoint'], [False, True])
    """
    geoms = np.asarray(geoms, dtype=object)
    if _spec(kind).multipart or not len(geoms):
        return geoms, np.zeros(len(geoms), dtype=bool)
    multi = np.isin(shapely.get_type_id(geoms), (4, 5, 6))
    n = shapely.get_num_geometries(geoms)
    one = multi & (n == 1)
    if one.any():
        geoms = geoms.copy()
        geoms[one] = shapely.get_geometry(geoms[one], 0)
    return geoms, multi & (n > 1)


def _type_problems(g: np.ndarray, present: np.ndarray, spec: LayerSpec) -> list[tuple[int, str, bool]]:
    """(position, problem, fixable) of each present geometry of a type ``spec`` does not take,
    or of several parts where it takes single parts (:func:`single_parts`)."""
    g, several = single_parts(g, spec)
    types = shapely.get_type_id(g)
    parts = shapely.get_num_geometries(g)
    out = []
    for i in np.flatnonzero(present):
        base = _BASE.get(int(types[i]))
        if base not in spec.geometry:
            out.append((int(i), f"geometry is {g[i].geom_type}, layer kind '{spec.kind}' takes "
                                f"{' or '.join(spec.geometry)}", False))
        elif several[i]:
            out.append((int(i), f"{g[i].geom_type} of {int(parts[i])} {_PLURAL[base]} where layer "
                                f"kind '{spec.kind}' takes one per feature", True))
    return out


#: why a geometry of each dimension that make_valid turns into another type cannot be repaired
_UNREPAIRABLE = {0: "it is no point", 1: "the line has no length",
                 2: "its outline encloses no area, and a polygon must not become a line"}


def _shown(value: object) -> str:
    """A value as a message quotes it: numbers as numbers (1e+30), text in quotes."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, (float, np.floating)) else str(int(value))
    return repr(value)


def _unreadable(value: object, dtype: str) -> str:
    """Why ``value`` is not a ``dtype`` (int, float, bool, date)."""
    if dtype == "int":
        num = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if pd.notna(num) and not abs(num) <= MAX_WHOLE:
            return (f"value {_shown(value)} is not a count gcgeo can take (whole numbers up to "
                    f"{MAX_WHOLE:,.0f}); correct it in the source file")
        return f"value {_shown(value)} is not a whole number"
    return f"value {_shown(value)} is not a valid {dtype}"


def _street_gaps(gdf: gpd.GeoDataFrame, name: str, ids: pd.Series, labels: pd.Series,
                 add, r: Mapping[str, Any]) -> None:
    """Warn about street ends that stop a little short of another street (up to
    the rule ``network.gap_report``): the walking network joins only gaps up
    to ``network.join_tolerance``."""
    from .. import rules as _rules
    from ..network import near_misses

    join = float(_rules.value(r, "join_tolerance"))
    gaps = near_misses(gdf, beyond=join, within=float(_rules.value(r, "gap_report")))
    # looked up for all gaps at once: a city has tens of thousands
    gap_ids = ids.loc[gaps.iloc[:, 0]].tolist()
    others = labels.loc[gaps.iloc[:, 3]].tolist()
    for gap_id, end, d, other in zip(gap_ids, gaps.iloc[:, 1].tolist(), gaps.iloc[:, 2].tolist(), others):
        add(Problem(name, gap_id, "geometry",
                    f"its {end} stops {d:.1f} m from street {other}, beyond the "
                    f"{join:g} m joining tolerance (network.join_tolerance): the two are not "
                    "joined and walks do not pass there; extend the line to meet the other "
                    "street if they meet on the ground", severity="warning"))


def _street_crossings(gdf: gpd.GeoDataFrame, name: str, ids: pd.Series, labels: pd.Series,
                      add, r: Mapping[str, Any]) -> None:
    """Warn, once per street, about the streets it crosses without a junction
    (unless the rule ``network.split_crossings`` joins them)."""
    from .. import rules as _rules
    from ..network import crossings

    if _rules.value(r, "split_crossings") is True:
        return
    found = crossings(gdf)
    if found.empty:
        return
    both = pd.concat([found[["row", "other_row"]],
                      found.rename(columns={"row": "other_row", "other_row": "row"})[
                          ["row", "other_row"]]])
    pos = pd.Series(np.arange(len(gdf)), index=gdf.index)  # in the layer's order
    at, other_at = pos.loc[both["row"]].to_numpy(), pos.loc[both["other_row"]].to_numpy()
    order = np.lexsort((other_at, at))
    at, other_label = at[order], labels.to_numpy(object)[other_at[order]]
    # one warning per street, its crossings one run of the order
    starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
    street_ids = ids.loc[gdf.index[at[starts]]].tolist()
    for a, b, street_id in zip(starts.tolist(), np.r_[starts[1:], len(at)].tolist(), street_ids):
        others = list(dict.fromkeys(other_label[a:b].tolist()))
        shown = ", ".join(map(str, others[:5])) + (f" and {len(others) - 5} more"
                                                   if len(others) > 5 else "")
        add(Problem(name, street_id, "geometry",
                    f"it crosses street(s) {shown} without a junction: walks do not turn "
                    "there. If the streets meet on the ground, split the lines where they cross "
                    "or join them all with the rule network.split_crossings = true (gcgeo "
                    "analyze … --split-crossings); a bridge or underpass is right as it is",
                    severity="warning"))


def fix(
    gdf: gpd.GeoDataFrame,
    kind: str | LayerSpec,
    *,
    layer: str | None = None,
    to_crs=None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair what is safe and say what changed.

    - invalid geometries are made valid (:func:`repair_geometry`: a polygon
      stays a polygon, a line a line); one that has nothing of its type left
      (a polygon whose outline encloses nothing) is left as it is, and
      :func:`validate` reports it as one to redraw;
    - multi-part geometries are exploded where the spec wants single parts
      (each part keeps the attributes; ids get a ``-1``, ``-2``… suffix);
    - the layer is reprojected to ``to_crs`` when given.

    Empty geometries and bad values are left as they are: removing or
    guessing them is not safe.  Returns the repaired copy and the changes.
    """
    spec = _spec(kind)
    name = layer or spec.kind
    out = gdf.copy()
    changes: list[str] = []
    ids = row_numbers(out.index)
    g = np.asarray(out.geometry.values, dtype=object)
    present = ~(shapely.is_missing(g) | shapely.is_empty(g))
    invalid = present & ~shapely.is_valid(g)
    if invalid.any():
        repaired, ok = repair_geometry(g[invalid])
        g = g.copy()
        g[invalid] = repaired
        out = out.set_geometry(gpd.GeoSeries(g, index=out.index, crs=out.crs))
        done = ids[invalid][ok].tolist()
        if done:
            changes.append(f"{name}: made {len(done)} invalid geometr"
                           f"{'y' if len(done) == 1 else 'ies'} valid (rows {_some(done)})")
    if not spec.multipart:
        geoms, several = single_parts(np.asarray(out.geometry.values, dtype=object), spec)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
        if several.any():
            n_before = len(out)
            exploded = out.explode(index_parts=True)
            part = exploded.index.get_level_values(1)
            was_multi = pd.Series(several, index=out.index).reindex(
                exploded.index.get_level_values(0)).to_numpy()
            if "id" in exploded.columns:
                new_ids = exploded["id"].astype("string") + "-" + (part + 1).astype(str)
                exploded["id"] = np.where(was_multi & exploded["id"].notna().to_numpy(),
                                          new_ids, exploded["id"])
            exploded.index = range(len(exploded))
            out = exploded
            changes.append(
                f"{name}: split {int(several.sum())} multi-part geometr"
                f"{'y' if several.sum() == 1 else 'ies'} into single parts (rows "
                f"{_some(ids[several].tolist())}; {n_before} → {len(out)} features)"
            )
    if to_crs is not None and out.crs is not None and not out.crs.equals(to_crs):
        src = out.crs.to_string()
        out = out.to_crs(to_crs)
        changes.append(f"{name}: reprojected from {src} to {out.crs.to_string()}")
    return out, changes


def _some(items: list[str], n: int = 10) -> str:
    return ", ".join(items[:n]) + ("…" if len(items) > n else "")


def repair_geometry(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make geometries valid without changing what they are.

    ``shapely.make_valid`` of a bow-tie gives two triangles, of a polygon
    with a spike a polygon and a line, of a polygon drawn back over itself
    only lines: only the parts of the geometry's own dimension are kept (a
    polygon stays polygonal, a line stays a line).  Returns the repaired
    geometries and, for each, whether it is now valid; a geometry with
    nothing of its dimension left is returned unchanged with ``False``.
    Valid and missing geometries pass through.

    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> flat = shapely.Polygon([(0, 0), (1, 0), (2, 0)])
    >>> fixed, ok = repair_geometry(np.array([bowtie, flat]))
    >>> fixed[0].geom_type, fixed[0].area, ok.tolist()
    ('MultiPolygon', 2.0, [True, False])
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    ok = np.ones(len(geoms), dtype=bool)
    todo = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_valid(geoms))
    for i in todo:
        dim = shapely.get_dimensions(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        parts = [p for p in shapely.get_parts(fixed)
                 if shapely.get_dimensions(p) == dim and not p.is_empty]
        if not parts:
            ok[i] = False
            continue
        fixed = parts[0] if len(parts) == 1 else shapely.union_all(parts)
        if fixed.geom_type == "GeometryCollection" or not fixed.is_valid:
            ok[i] = False
            continue
        out[i] = fixed
    return out, ok


def require_unique_ids(frame: pd.DataFrame, layer: str) -> None:
    """Refuse a layer whose ``id`` values repeat: results keyed by id would merge."""
    if "id" not in frame.columns:
        return
    ids = frame["id"].dropna().astype(str)
    dup = sorted(set(ids[ids.duplicated()]))
    if dup:
        raise LayerError(
            f"layer '{layer}' uses the id(s) {', '.join(dup[:10])}{'…' if len(dup) > 10 else ''} "
            "more than once, so their results would be merged; give every feature its own id "
            "('gcgeo validate' lists them)."
        )
