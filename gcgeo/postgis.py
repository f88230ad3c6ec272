"""PostGIS: write layers to a department's database in one transaction, read one back.

A database is named by a URL, ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB``,
with gcgeo's own query parameters ``schema`` (default ``public``) and
``table`` (one layer: its table name; reading: the table to read).  Any
other parameter is libpq's (``sslmode=require``…); a password may also come
from ``PGPASSWORD`` or ``~/.pgpass``, as for ``psql``.

:func:`export_layers` writes every layer as a table with a ``fid`` primary
key, a ``geom`` column typed with its geometry type and SRID, a GiST spatial
index and comments giving the Chinese and English labels of the table and
its columns, and the QGIS styles of each table (gcgeo's, and those a planner
saved for the layer in the workspace) in the database's
``public.layer_styles`` (the table QGIS keeps them in, so QGIS opens the
tables styled) — all in one transaction, so a failure leaves nothing written.
:func:`read_table` reads one table back as a GeoDataFrame.  Connection
problems (no server, a wrong password, no PostGIS) are reported as
:class:`~gcgeo.DatabaseError` saying what to check.

psycopg 3 does the work; it is imported when a database is first used.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ._errors import CRSError, DatabaseError, InputError, OutputExistsError
from .values import lists_as_text

if TYPE_CHECKING:
    from .gpkg_styles import SavedStyle

log = logging.getLogger(__name__)

__all__ = ["DatabaseURL", "export_layers", "is_url", "parse_url", "read_table"]

#: The primary key gcgeo gives every table it writes, and the comment that marks it
PRIMARY_KEY = "fid"
_KEY_COMMENT = "gcgeo: row number (primary key)"
_GEOMETRY = "geom"
#: PostgreSQL cuts identifiers at 63 bytes
_MAX_IDENTIFIER = 63


def is_url(text: Any) -> bool:
    """Whether ``text`` names a PostgreSQL database (``postgresql://…`` or ``postgres://…``)."""
    return isinstance(text, str) and re.match(r"postgres(ql)?://", text.strip(), re.IGNORECASE) is not None


@dataclass(frozen=True)
class DatabaseURL:
    """A database URL split into what libpq takes and gcgeo's own parameters."""

    conninfo: str
    schema: str
    table: str | None
    shown: str

    def where(self, table: str) -> str:
        return f"{self.shown} table {self.schema}.{table}"


def parse_url(url: str) -> DatabaseURL:
    """Split ``url``; ``shown`` is the URL without its password, for messages and records."""
    if not is_url(url):
        raise InputError(f"'{url}' is not a PostgreSQL URL; write postgresql://USER@HOST:PORT/DB"
                         "?schema=SCHEMA.")
    parts = urllib.parse.urlsplit(url.strip())
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in ("schema", "table")}
    rest = [(k, v) for k, v in query if k not in ("schema", "table")]
    if not parts.path.strip("/"):
        raise InputError(f"{_hide(url)}: no database named; write postgresql://USER@HOST:PORT/DB.")
    conninfo = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path,
                                        urllib.parse.urlencode(rest), ""))
    for key in ("schema", "table"):
        if key in ours and not ours[key].strip():
            raise InputError(f"{_hide(url)}: ?{key}= is empty; give a name or leave it out.")
    schema = ours.get("schema") or "public"
    for name in filter(None, (schema, ours.get("table"))):
        _check_identifier(name, _hide(url))
    return DatabaseURL(conninfo, schema, ours.get("table"), _hide(url))


def _hide(url: str) -> str:
    """``url`` without its password."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _check_identifier(name: str, where: str) -> None:
    if len(name.encode("utf-8")) > _MAX_IDENTIFIER:
        raise InputError(f"{where}: the name '{name}' is longer than PostgreSQL's {_MAX_IDENTIFIER} "
                         "bytes (a Chinese character takes 3); choose a shorter one.")
    if "\x00" in name:
        raise InputError(f"{where}: the name {name!r} holds a NUL character.")


def _psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a dependency
        raise InputError("PostGIS needs the psycopg package: pip install 'psycopg[binary]'.") from None
    return psycopg


def _explain(exc: Exception, db: DatabaseURL) -> DatabaseError:
    """A connection failure as a message saying what to check."""
    text = str(exc).strip()
    low = text.lower()
    parts = urllib.parse.urlsplit(db.conninfo)
    server = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    user = urllib.parse.unquote(parts.username or "") or "(your login name)"
    if "password authentication failed" in low:
        why = (f"the server at {server} refused the password of user {user}; check it (in the URL "
               "as postgresql://USER:PASSWORD@…, percent-encoding @ : / in it, or in PGPASSWORD or "
               "~/.pgpass)")
    elif "no password supplied" in low or "fe_sendauth" in low:
        why = (f"the server at {server} wants a password for user {user}; give it in the URL, in "
               "PGPASSWORD or in ~/.pgpass")
    elif re.search(r'database ".*" does not exist', low):
        why = f"the server at {server} has no such database ({text.splitlines()[-1]}); check the name"
    elif re.search(r'role ".*" does not exist', low):
        why = f"the server at {server} has no user {user}; check the name before @ in the URL"
    elif "could not translate host name" in low or "name or service not known" in low:
        why = f"the host name in {db.shown} is unknown; check it"
    elif "connection refused" in low or "timeout" in low or "could not connect" in low \
            or "no route" in low or "is the server running" in low:
        why = (f"no PostgreSQL server answers at {server}; check the host and port, that the "
               "server runs and that it accepts TCP connections (listen_addresses, pg_hba.conf)")
    else:
        why = f"the connection failed ({text.splitlines()[0] if text else type(exc).__name__})"
    return DatabaseError(f"cannot connect to {db.shown}: {why}.")


@contextmanager
def connect(url: str | DatabaseURL, *, need_postgis: bool = True) -> Iterator[Any]:
    """A psycopg connection to ``url`` (closed on exit), with UTF-8 text.

    Raises :class:`~gcgeo.DatabaseError` when the server cannot be reached, the
    login is refused, or (``need_postgis``) the database lacks PostGIS.
    """
    db = url if isinstance(url, DatabaseURL) else parse_url(url)
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(db.conninfo, client_encoding="utf8", connect_timeout=10)
    except psycopg.Error as exc:
        raise _explain(exc, db) from None
    try:
        if need_postgis:
            row = conn.execute("select extversion from pg_extension where extname = 'postgis'").fetchone()
            conn.rollback()
            if row is None:
                name = urllib.parse.urlsplit(db.conninfo).path.strip("/")
                raise DatabaseError(
                    f"database {name} at {db.shown} has no PostGIS extension; ask its administrator "
                    "to run CREATE EXTENSION postgis; in it (or use a database that has it)."
                )
        yield conn
    finally:
        conn.close()


# --- writing --------------------------------------------------------------------


def _pg_type(s: pd.Series) -> tuple[str, Callable[[Any], Any]]:
    """The column type of ``s`` and how to turn one of its values into a Python value."""
    dt = s.dtype
    kind = getattr(dt, "kind", "O")
    name = str(dt)
    if name in ("bool", "boolean"):
        return "boolean", bool
    if kind in "iu" or name.startswith(("Int", "UInt")):
        return "bigint", int
    if kind == "f" or name.startswith("Float"):
        return "double precision", float
    if kind == "M":
        tz = getattr(dt, "tz", None)
        return ("timestamptz" if tz is not None else "timestamp"), lambda v: pd.Timestamp(v).to_pydatetime()
    values = s.dropna()
    if len(values) and values.map(lambda v: isinstance(v, _dt.date) and not isinstance(v, _dt.datetime)).all():
        return "date", lambda v: v
    if len(values) and values.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return "boolean", bool
    return "text", str


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, (float, np.floating)) and bool(np.isnan(v))


def _geometry_type(geoms: np.ndarray) -> str:
    present = {shapely.get_type_id(g) for g in geoms if g is not None and not shapely.is_empty(g)}
    names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
             6: "MultiPolygon", 7: "GeometryCollection"}
    if len(present) == 1:
        return names.get(present.pop(), "Geometry")
    return "Geometry"


def _srid(frame: gpd.GeoDataFrame, layer: str) -> int:
    if frame.crs is None:
        raise CRSError(f"layer '{layer}' has no CRS; declare it before writing it to PostGIS.")
    code = CRS.from_user_input(frame.crs).to_epsg()
    if code is None:
        raise CRSError(f"layer '{layer}' is in a CRS without an EPSG code ({frame.crs.name}); export "
                       "it with --crs EPSG:… (e.g. the CGCS2000 zone) so PostGIS can record it.")
    return int(code)


def _free(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name.lower() in taken:
        name, k = f"{base}_{k}", k + 1
    return name


def _labels(layer: str, kind: str | None, columns: list[str]) -> tuple[str, dict[str, str]]:
    from .labels import column_label, layer_label

    zh, en = layer_label(kind or layer, "zh"), layer_label(kind or layer, "en")
    table = f"{zh} / {en}" if zh != en else zh
    cols = {}
    for c in columns:
        czh, cen = column_label(c, "zh", kind=kind), column_label(c, "en", kind=kind)
        cols[c] = f"{czh} / {cen}" if czh != cen else czh
    return table, cols


class _Written(NamedTuple):
    """A table as written: its attribute columns (not the key), geometry column and type, key."""

    columns: list[str]
    geometry: str | None
    geometry_type: str | None
    key: str


def _write_table(conn: Any, db: DatabaseURL, name: str, frame: pd.DataFrame, *,
                 kind: str | None, note: str | None = None) -> _Written:
    """Create and fill one table (inside the caller's transaction); what was written."""
    from psycopg import sql

    frame = lists_as_text(frame)
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    gcol = frame.geometry.name if is_geo else None
    data_cols = [str(c) for c in frame.columns if c != gcol]
    for c in data_cols:
        _check_identifier(c, db.where(name))
    taken = {c.lower() for c in data_cols}
    key = _free(PRIMARY_KEY, taken)
    geom = _free(_GEOMETRY, taken | {key})
    ident = sql.Identifier(db.schema, name)
    types = {c: _pg_type(frame[c]) for c in data_cols}
    defs = [sql.SQL("{} bigint primary key").format(sql.Identifier(key))]
    defs += [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(types[c][0])) for c in data_cols]
    geom_type = None
    if is_geo:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        srid = _srid(frame, name)
        geom_type = _geometry_type(geoms)
        defs.append(sql.SQL("{} geometry({}, {})").format(
            sql.Identifier(geom), sql.SQL(geom_type), sql.Literal(srid)))
    conn.execute(sql.SQL("create table {} ({})").format(ident, sql.SQL(", ").join(defs)))
    cols = [key, *data_cols] + ([geom] if is_geo else [])
    columns = {c: frame[c].tolist() for c in data_cols}
    if is_geo:
        ewkb = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
        empty = np.array([g is None or shapely.is_empty(g) for g in geoms], dtype=bool)
        columns[geom] = [None if e else w for w, e in zip(ewkb.tolist(), empty)]
    copy_sql = sql.SQL("copy {} ({}) from stdin").format(
        ident, sql.SQL(", ").join(sql.Identifier(c) for c in cols))
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for i in range(len(frame)):
            row: list[Any] = [i + 1]
            for c in data_cols:
                v = columns[c][i]
                row.append(None if _missing(v) else types[c][1](v))
            if is_geo:
                row.append(columns[geom][i])
            copy.write_row(row)
    if is_geo:
        conn.execute(sql.SQL("create index {} on {} using gist ({})").format(
            sql.Identifier(_index_name(name)), ident, sql.Identifier(geom)))
    table_label, col_labels = _labels(name, kind, data_cols)
    comment = f"{table_label} (gcgeo)" + (f"; {note}" if note else "")
    conn.execute(sql.SQL("comment on table {} is {}").format(ident, sql.Literal(comment)))
    conn.execute(sql.SQL("comment on column {}.{} is {}").format(
        ident, sql.Identifier(key), sql.Literal(_KEY_COMMENT)))
    for c, label in col_labels.items():
        conn.execute(sql.SQL("comment on column {}.{} is {}").format(
            ident, sql.Identifier(c), sql.Literal(label)))
    return _Written(data_cols, geom if is_geo else None, geom_type, key)


def _index_name(table: str) -> str:
    base = f"{table}_geom_idx"
    while len(base.encode("utf-8")) > _MAX_IDENTIFIER:
        table = table[:-1]
        base = f"{table}_geom_idx"
    return base


def _existing(conn: Any, schema: str, names: list[str]) -> list[str]:
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s "
        "and table_name = any(%s)", (schema, names)).fetchall()
    return sorted(r[0] for r in rows)


# --- QGIS styles -----------------------------------------------------------------

#: The table QGIS keeps the styles of PostgreSQL layers in, and where gcgeo creates it.
STYLE_TABLE = "public.layer_styles"
# QGIS's own DDL (QgsPostgresUtils::createStylesTable; QGIS 3.22 has all but r_raster_column,
# which QGIS added for raster styles), so that QGIS, and a planner saving a style, use it as theirs
_STYLE_TABLE_SQL = (
    "CREATE TABLE public.layer_styles(id SERIAL PRIMARY KEY,f_table_catalog varchar,f_table_schema varchar,"
    "f_table_name varchar,f_geometry_column varchar,styleName text,styleQML xml,styleSLD xml,"
    "useAsDefault boolean,description text,owner varchar(63) DEFAULT CURRENT_USER,ui xml,"
    "update_time timestamp DEFAULT CURRENT_TIMESTAMP,type varchar,r_raster_column varchar)")
#: ``layer_styles.owner`` of the rows gcgeo writes (and replaces). Not gcgeo's GeoPackage mark
#: (``gpkg_styles.OWNER``): QGIS writes the login's name there, and a login named ``gcgeo``
#: saving a style from QGIS would have it replaced at the next export.
STYLE_OWNER = "gcgeo export"
#: ``layer_styles.owner`` of the rows an export copies from the workspace: the styles a planner
#: saved there in QGIS (:func:`gcgeo.gpkg_styles.planner_styles`), replaced at each export as
#: gcgeo's are. Not the owner saved with them (QGIS leaves it empty in a GeoPackage; a login's
#: name would not tell the copies from the styles someone saved in the database, never touched).
SAVED_OWNER = "gcgeo export: workspace"
#: the columns gcgeo writes. Not ``type``: QGIS opens a style whose type is the geometry type the
#: layer's source names, or NULL, and that source names one or none ("Unknown geometry", as QGIS
#: 3.22 saves it) depending on how the planner added the layer; NULL fits every way.
_STYLE_COLUMNS = ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "stylename",
                  "styleqml", "stylesld", "useasdefault", "description", "owner")


def _style_table(conn: Any) -> tuple[str, Any, dict[str, str]]:
    """The ``layer_styles`` table QGIS reads (created as QGIS creates it when there is none):
    its schema, name as SQL, and columns with their types."""
    from psycopg import sql

    # QGIS names it unqualified: the one on the search path, else public's, which gcgeo creates
    found = conn.execute("select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                         "where c.oid = to_regclass('layer_styles')").fetchone()
    if found is None:
        conn.execute(_STYLE_TABLE_SQL)
        found = ("public",)
    ident = sql.Identifier(found[0], "layer_styles")
    columns = dict(conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute where attrelid = %s::regclass "
        "and attnum > 0 and not attisdropped", (ident.as_string(conn),)).fetchall())
    return str(found[0]), ident, {str(k).lower(): str(v) for k, v in columns.items()}


def _insert(table: Any, columns: Mapping[str, str], names: Sequence[str]) -> Any:
    """``insert into`` the styles ``table`` (``columns``: its columns and their types) a row of
    ``names``, the values of its xml columns parsed as documents, as QGIS writes them."""
    from psycopg import sql

    values = [sql.SQL("XMLPARSE(DOCUMENT %s)") if columns.get(c) == "xml" else sql.SQL("%s") for c in names]
    return sql.SQL("insert into {} ({}) values ({})").format(
        table, sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(values))


def _document(conn: Any, text: str | None, *, xml: bool) -> bool:
    """Whether ``text`` can go into a style column: not empty and, for an xml column
    (``xml``), a document PostgreSQL's ``XMLPARSE(DOCUMENT …)`` takes."""
    if not text or not text.strip():
        return False
    return not xml or bool(conn.execute("select xml_is_well_formed_document(%s)", (text,)).fetchone()[0])


def _put_saved_styles(conn: Any, table: Any, columns: Mapping[str, str], *, catalog: str, schema: str,
                      name: str, geometry: str | None, styles: Sequence[SavedStyle],
                      have: Collection[str]) -> tuple[list[str], list[str]]:
    """Replace the rows copied from the workspace for table ``schema.name`` (owner
    :data:`SAVED_OWNER`) by ``styles``, those a planner saved there in QGIS; ``have``: the
    table's columns. Rows someone saved in the database are kept as they are: a style of
    the same name there is not copied, and a default there stays the default. Returns the
    names of the styles copied and the warnings to give."""
    from psycopg import sql

    from .gpkg_styles import style_warning

    where = (catalog, schema, name)
    conn.execute(sql.SQL("delete from {} where f_table_catalog = %s and f_table_schema = %s and "
                         "f_table_name = %s and owner = %s").format(table), (*where, SAVED_OWNER))
    if not styles:
        return [], []
    others = conn.execute(sql.SQL(
        "select stylename, owner, useasdefault from {} where f_table_catalog = %s and f_table_schema = %s "
        "and f_table_name = %s and f_geometry_column is not distinct from %s and owner is distinct from %s "
        "order by id").format(table), (*where, geometry, STYLE_OWNER)).fetchall()
    taken = {n: o for n, o, _ in others}
    kept = next(((n, o) for n, o, d in others if d), None)
    xml = {c for c in ("styleqml", "stylesld", "ui") if columns.get(c) == "xml"}
    names = [*_STYLE_COLUMNS, *(["ui"] if "ui" in columns else [])]
    insert = _insert(table, columns, names)
    label = f"{schema}.{name}"
    copied: list[str] = []
    warnings: list[str] = []
    for s in styles:
        shown = f"table {label}: the style '{s.name}' saved in QGIS in the workspace"
        if s.name in taken:
            warnings.append(f"{shown} is not copied: the database has a style of that name for the table, "
                            f"saved there by {taken[s.name] or 'another user'}, which stays as it is; rename "
                            "one of them in QGIS (Layer Properties → Style) and export again to have both.")
            continue
        if not _document(conn, s.qml, xml="styleqml" in xml):
            warnings.append(f"{shown} is not copied: its QML is empty or not well-formed XML, which neither "
                            "the database nor QGIS can read; open the layer of the workspace in QGIS, load "
                            "the style, save it again (Style → Save as Default) and export again.")
            continue
        sld = s.sld if _document(conn, s.sld, xml="stylesld" in xml) else None
        ui = s.ui if _document(conn, s.ui, xml="ui" in xml) else None
        bad = [what for what, given, kept_as in (("SLD", s.sld, sld), ("form (ui)", s.ui, ui))
               if given and given.strip() and kept_as is None]
        if bad:
            warnings.append(f"{shown} is copied without its {' and '.join(bad)}, which is not well-formed XML "
                            "(QGIS draws the table from the style's QML, which is copied).")
        default = s.default and kept is None
        if s.default and kept is not None:
            warnings.append(f"{shown} is its default there; the default style saved in the database, "
                            f"'{kept[0]}' (by {kept[1] or 'another user'}), stays the default, and this one "
                            "is listed beside it: choose in QGIS (Layer Properties → Style → Load Style).")
        conn.execute(insert, (*where, geometry, s.name, s.qml, sld, default, s.description, SAVED_OWNER,
                              *([ui] if "ui" in columns else [])))
        copied.append(str(s.name))
        warning = style_warning(label, s, have)
        if warning:
            warnings.append(warning)
    return copied, warnings


def _put_styles(conn: Any, table: Any, columns: Mapping[str, str], *, catalog: str, schema: str,
                name: str, geometry: str | None, styles: list[Any]) -> None:
    """Replace gcgeo's style rows of table ``schema.name`` (owner :data:`STYLE_OWNER`) by ``styles``."""
    from psycopg import sql

    from .gpkg_styles import style_rows

    where = (catalog, schema, name)
    conn.execute(sql.SQL("delete from {} where f_table_catalog = %s and f_table_schema = %s and "
                         "f_table_name = %s and owner = %s").format(table), (*where, STYLE_OWNER))
    theirs = conn.execute(sql.SQL(
        "select 1 from {} where f_table_catalog = %s and f_table_schema = %s and f_table_name = %s and "
        "f_geometry_column is not distinct from %s and useasdefault").format(table),
        (*where, geometry)).fetchone() is not None
    if theirs:
        log.info("table %s.%s keeps the default style saved in QGIS; gcgeo's styles are listed beside it",
                 schema, name)
    insert = _insert(table, columns, _STYLE_COLUMNS)
    for r in style_rows(styles, planner_default=theirs):
        conn.execute(insert, (*where, geometry, r.name, r.qml, r.sld, r.default, r.description, STYLE_OWNER))


def _write_styles(conn: Any, db: DatabaseURL, written: list[tuple[str, str, pd.DataFrame, _Written]], *,
                  saved: Mapping[str, Sequence[SavedStyle]], kinds: Mapping[str, str], lang: str,
                  rules: Mapping[str, Mapping[str, Any]] | None, warn: Callable[[str], None],
                  inform: Callable[[str], None]) -> list[str]:
    """Write the QGIS styles of the tables ``written`` (table, layer, frame, what was
    written) into the database's ``layer_styles``: those a planner saved for them in the
    workspace (``saved``: table → styles), then gcgeo's. In a savepoint of the caller's
    transaction: a user who may not write it gets a warning, and the tables all the same.
    Warnings go to ``warn``, the styles carried over to ``inform``. The tables styled."""
    from .gpkg_styles import gcgeo_styles

    made = {}
    for table, layer, frame, w in written:
        found = gcgeo_styles(layer, frame, lang=lang, kind=kinds.get(table), columns=w.columns,
                             geometry=w.geometry_type, rules=rules)
        if found is not None:
            made[table] = found[1]
    if not made and not any(saved.values()):
        return []
    psycopg = _psycopg()
    user, catalog = conn.execute("select current_user, current_database()").fetchone()
    step = f"create {STYLE_TABLE}"
    notes: list[str] = []
    warnings: list[str] = []
    styled: list[str] = []
    try:
        with conn.transaction():  # a savepoint
            schema, target, columns = _style_table(conn)
            step = f"write into {schema}.layer_styles"
            missing = [c for c in _STYLE_COLUMNS if c not in columns]
            if missing:
                warn(f"{db.shown}: the tables are written, but without QGIS styles: "
                     f"{schema}.layer_styles lacks column(s) {', '.join(missing)}, so it is not the "
                     "table QGIS keeps layer styles in; ask the database administrator to rename it, "
                     "then export again with --overwrite.")
                return []
            for table, _, _, w in written:
                have = {*w.columns, w.key, *([w.geometry] if w.geometry else [])}
                copied, said = _put_saved_styles(
                    conn, target, columns, catalog=catalog, schema=db.schema, name=table,
                    geometry=w.geometry, styles=saved.get(table, ()), have=have)
                warnings.extend(said)
                if copied:
                    notes.append(f"{db.schema}.{table}: the style(s) saved in QGIS carried over: "
                                 f"{', '.join(copied)}")
                if table in made:  # after a planner's, so gcgeo's stay beside their default
                    _put_styles(conn, target, columns, catalog=catalog, schema=db.schema, name=table,
                                geometry=w.geometry, styles=made[table])
                if copied or table in made:
                    styled.append(table)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidSchemaName) as exc:
        why = str(exc).splitlines()[0]
        if step.startswith("create"):
            fix = (f"ask the database administrator to create {STYLE_TABLE} (QGIS creates it the first "
                   "time a style is saved to the database, or export once as a user who may) or to grant "
                   f"you CREATE on schema public (GRANT CREATE ON SCHEMA public TO {user};)")
        else:
            table = step.removeprefix("write into ")
            fix = (f"ask the database administrator to grant you the use of it (GRANT SELECT, INSERT, "
                   f"UPDATE, DELETE ON {table} TO {user}; GRANT USAGE ON SEQUENCE {table}_id_seq "
                   f"TO {user};)")
        warn(f"{db.shown}: the tables are written, but without QGIS styles (QGIS draws them in one "
             f"colour, without labels): user {user} may not {step} ({why}); {fix}, then export again "
             "with --overwrite.")
        return []
    except psycopg.Error as exc:  # (a styles table of another make, say: the styles are an extra)
        warn(f"{db.shown}: the tables are written, but without QGIS styles (QGIS draws them in one "
             f"colour, without labels): the database refused to {step} "
             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); check that "
             f"table with the database administrator, then export again with --overwrite.")
        return []
    for text in warnings:
        warn(text)
    for text in notes:
        inform(text)
    log.info("QGIS styles written for %d table(s) of %s", len(styled), db.shown)
    return styled


def export_layers(
    frames: Mapping[str, pd.DataFrame],
    url: str,
    *,
    overwrite: bool = False,
    kinds: Mapping[str, str] | None = None,
    note: str | None = None,
    lang: str = "zh",
    rules: Mapping[str, Mapping[str, Any]] | None = None,
    warn: Callable[[str], None] | None = None,
    styles_from: str | os.PathLike | None = None,
    style_layers: Mapping[str, str] | None = None,
    inform: Callable[[str], None] | None = None,
) -> list[str]:
    """Write ``frames`` as tables of the database ``url`` names, in one transaction.

    The schema (``?schema=``, default ``public``) is created if missing;
    ``?table=`` renames a single layer.  Existing tables are replaced only with
    ``overwrite`` (else :class:`~gcgeo.OutputExistsError` names them and
    nothing is written).  ``kinds`` gives the layer kind of each layer, for the
    labels in the comments; ``note`` is added to every table comment (e.g.
    that coordinates are GCJ-02).  Returns the tables written, as
    ``schema.table``.

    Each table also gets gcgeo's QGIS styles (as a .gpkg export carries them,
    :mod:`gcgeo.gpkg_styles`: the renderer, field aliases and value maps in
    ``lang``; class breaks at the thresholds of ``rules``, see
    :func:`gcgeo.maps.qgis_styles.layer_styles`), as rows of the table QGIS
    keeps the styles of PostgreSQL layers in, :data:`STYLE_TABLE` (created
    with QGIS's own definition when the database has none), for this database,
    schema, table and geometry column, so QGIS applies the default when it
    opens the table.  The rows gcgeo wrote before for a table (``owner``
    :data:`STYLE_OWNER`) are replaced; a style saved in QGIS stays, and stays the
    default if it was.

    ``styles_from`` is the GeoPackage the layers come from (the workspace):
    each table also gets the styles a planner saved for its layer there in
    QGIS ("Save as Default → Datasource Database";
    :func:`gcgeo.gpkg_styles.planner_styles`) — name, QML, SLD, form,
    description and default flag — as rows of the same table, owner
    :data:`SAVED_OWNER`, written before gcgeo's: a planner's default stays the
    default, gcgeo's are listed beside it. ``style_layers`` maps a layer of
    ``frames`` to its name in ``styles_from`` (default: every layer under its
    own name; a layer left out gets none). Exporting again replaces these
    copies as it replaces gcgeo's rows; rows saved in the database by anyone
    else are never touched: a style of the same name there is kept and the
    workspace's not copied, a default there stays the only default (each with a
    warning). A style whose QML is empty or not well-formed XML (QGIS cannot
    read it either; the database's ``xml`` column cannot hold it) is not
    copied, and one whose SLD or form is not is copied without it, with a
    warning; so is a style naming columns the table does not have, as the
    .gpkg export does (:func:`gcgeo.gpkg_styles.style_warning`). The styles
    carried over are told to ``inform`` (table → names; default: logged).

    All styles are written in the same transaction as the tables; a user who
    may not create or write that table gets the tables without styles and a
    warning naming the fix, passed to ``warn`` (default: logged).
    """
    from psycopg import sql

    db = parse_url(url)
    items = list(frames.items())
    if not items:
        raise InputError("nothing to export: no layers given.")
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', not {lang!r}.")
    if db.table:
        if len(items) != 1:
            raise InputError(f"{db.shown}: ?table= names one table, but {len(items)} layers were "
                             "chosen; leave out ?table= (each layer becomes a table of its name) "
                             "or export one layer with --layers.")
        items = [(db.table, items[0][1])]
    kinds = dict(kinds or {})
    if db.table and len(frames) == 1:
        kinds.setdefault(db.table, kinds.get(next(iter(frames)), next(iter(frames))))
    names = [str(n) for n, _ in items]
    for n in names:
        _check_identifier(n, db.shown)
    saved: dict[str, list[SavedStyle]] = {}
    if styles_from is not None:  # read before the database is touched: a wrong file changes nothing
        from .gpkg_styles import planner_styles

        source = {str(k): str(k) for k in frames} if style_layers is None else \
            {str(k): str(v) for k, v in style_layers.items() if k in frames}
        found = planner_styles(styles_from, source.values())
        saved = {n: found[source[str(layer)]] for n, layer in zip(names, frames)
                 if str(layer) in source and source[str(layer)] in found}
    with connect(db) as conn:
        psycopg = _psycopg()
        try:
            with conn.transaction():
                conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(db.schema)))
                there = _existing(conn, db.schema, names)
                if there and not overwrite:
                    raise OutputExistsError(
                        f"{db.shown}: schema {db.schema} already has table(s) {', '.join(there)}; "
                        "give --overwrite to replace them. Nothing was written.")
                for n in there:
                    conn.execute(sql.SQL("drop table {} cascade").format(sql.Identifier(db.schema, n)))
                written = []
                for (n, frame), layer in zip(items, frames):
                    log.info("writing %s.%s (%d rows)", db.schema, n, len(frame))
                    done = _write_table(conn, db, str(n), frame, kind=kinds.get(str(n)), note=note)
                    written.append((str(n), str(layer), frame, done))
                _write_styles(conn, db, written, saved=saved, kinds=kinds, lang=lang, rules=rules,
                              warn=warn or (lambda text: log.warning("%s", text)),
                              inform=inform or (lambda text: log.info("%s", text)))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise DatabaseError(f"{db.shown}: permission denied ({str(exc).splitlines()[0]}); ask "
                                "for CREATE rights on the schema, or choose another with "
                                "?schema=. Nothing was written.") from None
        except psycopg.errors.UndefinedObject as exc:
            raise DatabaseError(f"{db.shown}: {str(exc).splitlines()[0]}. Nothing was written.") from None
        except psycopg.OperationalError as exc:
            raise DatabaseError(f"{db.shown}: the connection failed while writing "
                                f"({str(exc).splitlines()[0]}); nothing was written.") from None
    return [f"{db.schema}.{n}" for n in names]


# --- reading --------------------------------------------------------------------


def read_table(url: str, *, table: str | None = None) -> gpd.GeoDataFrame:
    """Read table ``?table=`` (or ``table``) of the database ``url`` as a GeoDataFrame.

    The geometry column and SRID come from PostGIS's ``geometry_columns``;
    the ``fid`` key gcgeo writes is dropped (a table's own columns are kept).
    """
    from psycopg import sql

    db = parse_url(url)
    name = table or db.table
    if not name:
        raise InputError(f"{db.shown}: name the table to read with ?table=NAME (and ?schema=S if it "
                         "is not in public).")
    with connect(db) as conn:
        found = conn.execute(
            "select f_geometry_column, srid from geometry_columns where f_table_schema = %s "
            "and f_table_name = %s", (db.schema, name)).fetchall()
        if not found:
            exists = _existing(conn, db.schema, [name])
            if not exists:
                listed = conn.execute(
                    "select f_table_name from geometry_columns where f_table_schema = %s "
                    "order by 1", (db.schema,)).fetchall()
                have = ", ".join(r[0] for r in listed) or "none"
                raise InputError(f"{db.shown}: schema {db.schema} has no table '{name}'; its tables "
                                 f"with geometry are: {have}.")
            raise InputError(f"{db.where(name)} has no geometry column; gcgeo adds map layers.")
        gcol, srid = found[0]
        comments = dict(conn.execute(
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a "
            "where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped",
            (sql.Identifier(db.schema, name).as_string(conn),)).fetchall())
        cols = [c for c in comments if c != gcol and comments[c] != _KEY_COMMENT]
        select = sql.SQL("select {}, st_asbinary({}) from {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols) if cols else sql.SQL("null"),
            sql.Identifier(gcol), sql.Identifier(db.schema, name))
        key = next((c for c in comments if comments[c] == _KEY_COMMENT), None)
        if key is not None:
            select = select + sql.SQL(" order by {}").format(sql.Identifier(key))
        rows = conn.execute(select).fetchall()
    data = pd.DataFrame([r[:-1] for r in rows], columns=cols if cols else ["_"])
    if not cols:
        data = data.drop(columns="_")
    wkb = [None if r[-1] is None else bytes(r[-1]) for r in rows]
    geoms = shapely.from_wkb(np.array(wkb, dtype=object))
    crs = CRS.from_epsg(srid) if srid and int(srid) > 0 else None
    out = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs))
    if crs is None:
        raise CRSError(f"{db.where(name)} records no SRID for {gcol}; set it in the database "
                       "(UpdateGeometrySRID) or export the table to a file and add it with --src-crs.")
    return out
