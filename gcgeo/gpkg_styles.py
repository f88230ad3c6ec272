"""QGIS styles, field aliases and value labels stored in a GeoPackage.

:func:`write_styles` writes, for each layer given, what QGIS (and other
clients) need to show it as gcgeo's maps do, in three tables of the file:

* ``layer_styles``, the table QGIS itself keeps styles in (registered in
  ``gpkg_contents`` as an attribute table, as QGIS does): one row per style
  (QML, and SLD for other clients), the one the map shows first marked
  ``useAsDefault`` so QGIS applies it when it opens the layer;
* ``gpkg_data_columns``: each column's label as its ``name`` and ``title``
  (GDAL 3.7 and later read it as the field's alias) and, for coded text
  columns, the name of its constraint;
* ``gpkg_data_column_constraints``: one ``enum`` row per code of a coded
  column, its label as the description (GDAL reads it as a coded-value
  domain).

The last two are the GeoPackage schema extension, registered in
``gpkg_extensions``. The file must be closed by every other writer (GDAL
writes it before, and reads it after); the tables are changed in one SQLite
transaction. Rows gcgeo wrote before for these layers are replaced; a style
a planner saved in QGIS stays, and stays the default if it was.

The workspace writes them, in Chinese, each time it stores layers (in the
same atomic change); ``gcgeo export … .gpkg`` in the language of ``--lang``.
:func:`planner_styles` reads the styles a planner saved in QGIS in a
GeoPackage (the workspace); :func:`copy_user_styles` carries them to another
(the export), as QGIS keeps them. :func:`gcgeo_styles` and :func:`style_rows`
make gcgeo's rows; the PostGIS export (:mod:`gcgeo.postgis`) writes the same,
and the planner's, into the database's ``public.layer_styles``.

>>> write_styles("results.gpkg", {"fire_findings": findings}, lang="zh")   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from ._errors import InputError
from .values import lists_as_text

if TYPE_CHECKING:
    from .maps.qgis_styles import FieldLabels, LayerStyle

log = logging.getLogger(__name__)

__all__ = ["LAYER_STYLES", "OWNER", "SCHEMA_EXTENSION", "SavedStyle", "StyleRow", "copy_user_styles",
           "gcgeo_styles", "planner_styles", "style_fields", "style_rows", "style_warning", "write_styles"]

#: The table QGIS keeps layer styles in.
LAYER_STYLES = "layer_styles"
#: ``layer_styles.owner`` of the rows gcgeo writes (and replaces).
OWNER = "gcgeo"
#: The schema extension's definition, as the GeoPackage specification names it.
SCHEMA_EXTENSION = "http://www.geopackage.org/spec/#extension_schema"


class StyleRow(NamedTuple):
    """One style row gcgeo writes into a ``layer_styles`` table (:func:`style_rows`)."""

    name: str
    qml: str
    sld: str | None
    default: bool
    description: str


# as QGIS creates it (QgsOgrProviderUtils), so either program can add rows later
_LAYER_STYLES_SQL = f"""CREATE TABLE IF NOT EXISTS "{LAYER_STYLES}" (
 "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256),
 "f_table_name" TEXT(256), "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT,
 "styleSLD" TEXT, "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),
 "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""
# the GeoPackage specification's definitions (1.2.1 and later)
_DATA_COLUMNS_SQL = """CREATE TABLE IF NOT EXISTS gpkg_data_columns (
 table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
 mime_type TEXT, constraint_name TEXT,
 CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
 CONSTRAINT gdc_tn UNIQUE (table_name, name))"""
_CONSTRAINTS_SQL = """CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
 constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
 min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
 CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))"""
_EXTENSIONS_SQL = """CREATE TABLE IF NOT EXISTS gpkg_extensions (
 table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
 scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"""
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def write_styles(path: str | os.PathLike, layers: Mapping[str, pd.DataFrame], *, lang: str = "zh",
                 kinds: str | Mapping[str, str] | None = None,
                 rules: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Store QGIS styles, aliases and value labels of ``layers`` in the GeoPackage ``path``.

    ``layers`` maps each layer's name in the file to its frame (as written);
    ``kinds`` gives inventory layers their kind (one kind for all, or layer →
    kind; a layer named after its kind needs none). Labels are in ``lang``
    ("zh" or "en"). Layers the file does not hold, and gcgeo's own tables
    (``gcgeo_*``), are skipped. ``rules``: analysis name → the rule sets its results
    were computed with, for class breaks at the thresholds the run applied (see
    :func:`gcgeo.maps.qgis_styles.layer_styles`). Returns the layers styled.
    """
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', not {lang!r}.")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; write its layers first, then their styles.")
    done: list[str] = []
    with closing(sqlite3.connect(path)) as con:
        contents = _contents(con, path)
        made: dict[str, tuple[str, FieldLabels, list[LayerStyle]]] = {}
        for name, frame in layers.items():
            if name.startswith("gcgeo_") or name == LAYER_STYLES or name not in contents:
                continue
            kind = kinds if isinstance(kinds, str) else (kinds or {}).get(name)
            columns, geom_col, geom_type = _table(con, name)
            found = gcgeo_styles(name, frame, lang=lang, kind=kind, columns=columns,
                                 geometry=geom_type, rules=rules)
            if found is not None:
                made[name] = (geom_col, *found)
        with con:
            _prepare(con)
            for name, (geom_col, labels, styles) in made.items():
                _put_labels(con, name, labels)
                _put_styles(con, name, geom_col, styles)
                done.append(name)
            _tidy(con)
    log.info("QGIS styles and %s labels written for %d layer(s) of %s", lang, len(done), path)
    return done


def gcgeo_styles(name: str, frame: pd.DataFrame, *, lang: str = "zh", kind: str | None = None,
                 columns: Sequence[str], geometry: str | None,
                 rules: Mapping[str, Mapping[str, Any]] | None = None,
                 ) -> tuple[FieldLabels, list[LayerStyle]] | None:
    """gcgeo's QGIS styles of layer ``name`` as it was written, and its field labels.

    ``frame`` is the layer as given to the writer (list values are stored as
    text, as the writers store them); ``columns`` its attribute columns as
    stored (without key and geometry) and ``geometry`` its declared geometry
    type (``None`` for a table); see :func:`gcgeo.maps.qgis_styles.layer_styles`
    for ``lang``, ``kind`` and ``rules``. ``None``, with a warning logged, when
    they cannot be made: the layer is stored all the same, its style is an
    extra. Used by the GeoPackage (:func:`write_styles`) and the PostGIS
    (:func:`gcgeo.postgis.export_layers`) writers.
    """
    from .maps.qgis_styles import field_labels, layer_styles

    frame = lists_as_text(frame)  # as the layer was written
    try:
        labels = field_labels(frame, lang=lang, kind=kind, columns=columns)
        styles = layer_styles(name, frame, lang=lang, kind=kind, columns=columns,
                              geometry=geometry, labels=labels, rules=rules)
    except Exception as exc:  # noqa: BLE001 - the data is stored; its style is an extra
        log.warning("layer %s: no QGIS style or labels written (%s: %s)", name, type(exc).__name__, exc)
        return None
    return labels, styles


def style_rows(styles: Sequence[LayerStyle], *, planner_default: bool) -> list[StyleRow]:
    """The ``layer_styles`` rows gcgeo writes for one layer's ``styles``, owner :data:`OWNER`.

    The style the map shows first is the default unless ``planner_default``
    (a style saved in QGIS is the layer's default already: it stays so, and
    gcgeo's are listed beside it). A style without SLD (a table) has none.
    """
    return [StyleRow(s.name, s.qml, s.sld or None, bool(s.default and not planner_default), s.description)
            for s in styles]


class SavedStyle(NamedTuple):
    """A style a planner saved in QGIS in a GeoPackage's ``layer_styles`` (:func:`planner_styles`),
    as stored there."""

    name: str | None
    qml: str | None
    sld: str | None
    default: bool
    description: str | None
    owner: str | None
    ui: str | None
    update_time: str | None
    catalog: str | None
    schema: str | None


def planner_styles(source: str | os.PathLike, layers: Iterable[str]) -> dict[str, list[SavedStyle]]:
    """The QGIS styles a planner saved for ``layers`` in GeoPackage ``source`` (the workspace).

    Every ``layer_styles`` row of those layers that gcgeo did not write (its
    ``owner`` is not :data:`OWNER`: QGIS writes an empty one, or none) —
    layer → its styles in the order they were saved; layers with none are
    left out, and so are gcgeo's own tables and ``layer_styles`` itself. A
    ``source`` that does not exist, or has no ``layer_styles``, has none;
    ``source`` is only read. Used by the GeoPackage (:func:`copy_user_styles`)
    and the PostGIS (:func:`gcgeo.postgis.export_layers`) exports.
    """
    source = Path(source)
    wanted = {str(n) for n in layers if n != LAYER_STYLES and not str(n).startswith("gcgeo_")}
    if not wanted or not source.is_file():
        return {}
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as con:
        try:
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = ? AND type = 'table'",
                           (LAYER_STYLES,)).fetchone() is None:
                return {}
            rows = con.execute(
                f'SELECT f_table_name, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, '
                f'update_time, f_table_catalog, f_table_schema FROM "{LAYER_STYLES}" '
                f"WHERE owner IS NOT ? ORDER BY id", (OWNER,)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{source} is not a GeoPackage ({exc}); the styles saved in QGIS are "
                             "read from the GeoPackage the layers come from (the workspace).") from None
    found: dict[str, list[SavedStyle]] = {}
    for table, name, qml, sld, default, *rest in rows:
        if table in wanted:
            found.setdefault(table, []).append(SavedStyle(name, qml, sld, bool(default), *rest))
    return found


def style_warning(layer: str, style: SavedStyle, have: Collection[str]) -> str | None:
    """The warning to give when a planner's ``style``, copied to ``layer`` (whose columns,
    key and geometry included, are ``have``), names columns the layer does not have
    (:func:`style_fields`); ``None`` when it names none."""
    lost = [c for c in style_fields(style.qml) if c not in have]
    if not lost:
        return None
    return (f"layer '{layer}': the style '{style.name}' saved in QGIS names column(s) {', '.join(lost)}, "
            "which the exported layer does not have; it is copied as it is, and QGIS may draw or label "
            "those features otherwise: check it in QGIS (Layer Properties → Symbology).")


def copy_user_styles(source: str | os.PathLike, target: str | os.PathLike,
                     layers: Mapping[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """Copy the QGIS styles a planner saved in GeoPackage ``source`` into GeoPackage ``target``.

    ``layers`` maps each layer's name in ``target`` to its name in ``source``.
    Every style :func:`planner_styles` reads for those layers is copied with its
    name, QML, SLD, description, owner, form (``ui``), time and default flag, under the
    layer's name and geometry column in ``target`` (as GDAL wrote it), so QGIS
    opens the layer there with the style it opens it with in ``source``. Copy
    them before :func:`write_styles` writes gcgeo's own: those stay beside a
    planner's default, not default. Layers ``target`` does not hold are skipped;
    ``source`` is only read.

    Returns the styles copied (target layer → their names) and warnings: a
    style naming columns the layer in ``target`` does not have (renamed or
    dropped on the way) is still copied, as QGIS would still open it, and
    the warning names the layer, the style and the columns, to check in QGIS
    (:func:`style_warning`).
    """
    target = Path(target)
    saved = planner_styles(source, layers.values())
    if not saved:
        return {}, []
    copied: dict[str, list[str]] = {}
    warnings: list[str] = []
    with closing(sqlite3.connect(target)) as con:
        contents = _contents(con, target)
        todo = {t: saved[s] for t, s in layers.items() if s in saved and t in contents
                and t != LAYER_STYLES and not t.startswith("gcgeo_")}
        if not todo:
            return {}, []
        with con:
            _prepare(con)
            for name, styles in todo.items():
                columns, geom_col, _ = _table(con, name)
                have = {*columns, geom_col, *_keys(con, name)}
                for s in styles:
                    con.execute(
                        f'INSERT INTO "{LAYER_STYLES}" (f_table_catalog, f_table_schema, f_table_name, '
                        f"f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                        f"owner, ui, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, {_NOW}))",
                        (s.catalog, s.schema, name, geom_col, s.name, s.qml, s.sld, int(s.default),
                         s.description, s.owner, s.ui, s.update_time))
                    copied.setdefault(name, []).append(str(s.name))
                    warning = style_warning(name, s, have)
                    if warning:
                        warnings.append(warning)
    for name, names in copied.items():
        log.info("layer %s: style(s) saved in QGIS copied: %s", name, ", ".join(names))
    return copied, warnings


def _keys(con: sqlite3.Connection, name: str) -> list[str]:
    info = con.execute(f'PRAGMA table_info("{name.replace(chr(34), chr(34) * 2)}")').fetchall()
    return [r[1] for r in info if r[5]]


def style_fields(qml: str | None) -> list[str]:
    """The columns a QGIS style (QML) names: its field configuration, the attribute its
    renderer classifies by and the field its labels show (expressions are not read; a
    QML that is not well-formed XML names none)."""
    if not qml:
        return []
    try:
        root = ET.fromstring(qml)
    except ET.ParseError:
        return []
    names = [f.get("name", "") for f in root.iterfind("./fieldConfiguration/field")]
    renderer = root.find("./renderer-v2")
    if renderer is not None:
        names.append(renderer.get("attr", ""))
    for text in root.iterfind(".//labeling//text-style"):
        if text.get("isExpression", "0") != "1":
            names.append(text.get("fieldName", ""))
    plain = re.compile(r'^"?([^"()]+)"?$')  # a name, quoted or not; an expression is left out
    found = [m.group(1) for n in names if n and (m := plain.match(n.strip())) and not
             any(ch in m.group(1) for ch in " +-*/|=<>,'")]
    return list(dict.fromkeys(found))


def _contents(con: sqlite3.Connection, path: Path) -> set[str]:
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path} is not a GeoPackage ({exc}); styles are written into a .gpkg.") from None


def _table(con: sqlite3.Connection, name: str) -> tuple[list[str], str, str | None]:
    """The attribute columns of table ``name``, its geometry column and declared type."""
    row = con.execute("SELECT column_name, geometry_type_name FROM gpkg_geometry_columns "
                      "WHERE table_name = ?", (name,)).fetchone()
    geom_col, geom_type = (row[0], row[1]) if row else ("", None)
    info = con.execute(f'PRAGMA table_info("{name.replace(chr(34), chr(34) * 2)}")').fetchall()
    columns = [r[1] for r in info if r[1] != geom_col and not r[5]]  # not the geometry, not the key
    return columns, geom_col, geom_type


def _prepare(con: sqlite3.Connection) -> None:
    con.execute(_LAYER_STYLES_SQL)
    if con.execute("SELECT 1 FROM gpkg_contents WHERE table_name = ?", (LAYER_STYLES,)).fetchone() is None:
        con.execute(f"INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                    f"last_change, srs_id) VALUES (?, 'attributes', ?, '', {_NOW}, 0)",
                    (LAYER_STYLES, LAYER_STYLES))
    else:
        con.execute(f"UPDATE gpkg_contents SET last_change = {_NOW} WHERE table_name = ?", (LAYER_STYLES,))
    con.execute(_DATA_COLUMNS_SQL)
    con.execute(_CONSTRAINTS_SQL)
    con.execute(_EXTENSIONS_SQL)
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        known = con.execute("SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND column_name IS NULL "
                            "AND extension_name = 'gpkg_schema'", (table,)).fetchone()
        if known is None:  # (NULL columns never clash in a UNIQUE constraint: look first)
            con.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, "
                        "scope) VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')", (table, SCHEMA_EXTENSION))


def _constraint_name(table: str, column: str) -> str:
    return f"{table}.{column}"


def _put_labels(con: sqlite3.Connection, table: str, labels: FieldLabels) -> None:
    old = [r[0] for r in con.execute("SELECT constraint_name FROM gpkg_data_columns WHERE table_name = ? "
                                     "AND constraint_name IS NOT NULL", (table,))]
    con.execute("DELETE FROM gpkg_data_columns WHERE table_name = ?", (table,))
    for name in old:
        if con.execute("SELECT 1 FROM gpkg_data_columns WHERE constraint_name = ?", (name,)).fetchone() is None:
            con.execute("DELETE FROM gpkg_data_column_constraints WHERE constraint_name = ?", (name,))
    for column in dict.fromkeys([*labels.aliases, *labels.values]):
        alias = labels.aliases.get(column)
        constraint = None
        if column in labels.values:
            constraint = _constraint_name(table, column)
            con.execute("DELETE FROM gpkg_data_column_constraints WHERE constraint_name = ?", (constraint,))
            con.executemany("INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, "
                            "value, description) VALUES (?, 'enum', ?, ?)",
                            [(constraint, v, lab) for v, lab in labels.values[column].items()])
        row = (table, column, alias, alias, constraint)
        try:
            con.execute("INSERT INTO gpkg_data_columns (table_name, column_name, name, title, constraint_name) "
                        "VALUES (?, ?, ?, ?, ?)", row)
        except sqlite3.IntegrityError:  # a table made by GDAL before 3.7: names unique in the whole file
            con.execute("INSERT INTO gpkg_data_columns (table_name, column_name, name, title, constraint_name) "
                        "VALUES (?, ?, NULL, ?, ?)", (table, column, alias, constraint))


def _put_styles(con: sqlite3.Connection, table: str, geom_col: str, styles: list[LayerStyle]) -> None:
    con.execute(f'DELETE FROM "{LAYER_STYLES}" WHERE f_table_name = ? AND owner = ?', (table, OWNER))
    theirs = con.execute(f'SELECT 1 FROM "{LAYER_STYLES}" WHERE f_table_name = ? AND useAsDefault = 1',
                         (table,)).fetchone() is not None
    if theirs:
        log.info("layer %s keeps the default style saved in QGIS; gcgeo's styles are listed beside it", table)
    for r in style_rows(styles, planner_default=theirs):
        con.execute(
            f'INSERT INTO "{LAYER_STYLES}" (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, '
            f'styleName, styleQML, styleSLD, useAsDefault, description, owner, update_time) '
            f"VALUES ('', '', ?, ?, ?, ?, ?, ?, ?, ?, {_NOW})",
            (table, geom_col, r.name, r.qml, r.sld, int(r.default), r.description, OWNER))


def _tidy(con: sqlite3.Connection) -> None:
    """Drop what gcgeo wrote for tables the file no longer holds."""
    gone = "(SELECT name FROM sqlite_master WHERE type IN ('table', 'view'))"
    con.execute(f'DELETE FROM "{LAYER_STYLES}" WHERE owner = ? AND f_table_name NOT IN {gone}', (OWNER,))
    con.execute(f"DELETE FROM gpkg_data_column_constraints WHERE constraint_name IN (SELECT constraint_name "
                f"FROM gpkg_data_columns WHERE table_name NOT IN {gone})")
    con.execute(f"DELETE FROM gpkg_data_columns WHERE table_name NOT IN {gone}")
