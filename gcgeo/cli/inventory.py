"""Inventory commands: init, add, layers, validate, export, import-osm."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from .._errors import CRSError, InputError
from .common import (
    lang_option,
    main,
    overwrite_option,
    progress,
    say,
    table,
    warn,
    warn_stale,
    workspace_argument,
)

__all__ = ["add", "export", "import_osm", "init", "layers_cmd", "validate"]


def _analysis_name(stored: object) -> str:
    """The analysis that wrote a layer, as named today (older workspaces spelt living-circle)."""
    text = "" if stored is None else str(stored)
    return text.replace("-", "_") if text else ""


def _read_mapping_file(p: Path) -> dict[str, str]:
    """A --columns file: TOML (``[columns]`` or top level), JSON object, or CSV/TXT lines."""
    try:
        if p.suffix.lower() == ".toml":
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
            data = data.get("columns", data)
        elif p.suffix.lower() == ".json":
            data = json.loads(p.read_text(encoding="utf-8"))
        else:
            data = {}
            for line in p.read_text(encoding="utf-8-sig").splitlines():
                if line.strip() and not line.startswith("#"):
                    src, _, dst = line.replace("=", ",").partition(",")
                    data[src.strip()] = dst.strip()
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--columns file {p} cannot be read ({exc}); fix it, e.g. "
                         "名称 = \"name\" per line in TOML, or {\"名称\": \"name\"} in JSON.") from None
    except UnicodeDecodeError:
        raise InputError(f"--columns file {p} is not UTF-8 text; save it as UTF-8.") from None
    if not isinstance(data, dict) or any(isinstance(v, (dict, list)) for v in data.values()):
        raise InputError(f"--columns file {p} must map source column names to target names "
                         "(e.g. 名称 = \"name\"), not hold tables or lists.")
    return {str(k): str(v) for k, v in data.items()}


def _parse_columns(values: tuple[str, ...]) -> dict[str, str]:
    """--columns: 'src=dst' pairs (comma-separated or repeated) or a TOML/JSON/CSV file."""
    mapping: dict[str, str] = {}
    for value in values:
        p = Path(value)
        if p.suffix.lower() in (".toml", ".json", ".csv", ".txt") and p.exists():
            mapping.update(_read_mapping_file(p))
            continue
        for pair in value.split(","):
            if not pair.strip():
                continue
            src, sep, dst = pair.partition("=")
            if not sep or not src.strip() or not dst.strip():
                raise InputError(
                    f"--columns '{pair}' is not 'SOURCE=TARGET' (e.g. --columns 名称=name,管理人=manager) "
                    "nor an existing .toml/.json/.csv mapping file."
                )
            mapping[src.strip()] = dst.strip()
    return mapping


@main.command()
@workspace_argument
@click.option("--name", required=True, help="Name of the study area (e.g. 高唐县).")
@click.option("--crs", "working_crs", help="Working projected CRS (default: chosen from the first layer).")
@overwrite_option
def init(workspace: Path, name: str, working_crs: str | None, overwrite: bool) -> None:
    """Create an empty workspace WORKSPACE (.gpkg) for a study area."""
    from .. import workspace as ws

    ws.init(workspace, name=name, crs=working_crs, overwrite=overwrite)
    say(f"created workspace [bold]{workspace}[/] for {name}")


@main.command()
@workspace_argument
@click.argument("kind")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--layer", "source_layer", help="Layer inside FILE (GeoPackage, KML).")
@click.option("--name", "layer_name", help="Name of the layer in the workspace (default: KIND).")
@click.option("--src-crs", help="CRS of FILE's coordinates: wgs84, cgcs2000, gcj02, bd09, EPSG:…")
@click.option("--x", "xcol", help="Column of x / longitude (CSV, XLSX).")
@click.option("--y", "ycol", help="Column of y / latitude (CSV, XLSX).")
@click.option("--sheet", help="Sheet of an XLSX file (default: the first).")
@click.option("--encoding", help="Text encoding of FILE (e.g. GBK for old Shapefiles without .cpg).")
@click.option("--columns", multiple=True,
              help="Map FILE's columns onto the layer spec: 名称=name,管理人=manager or a .toml/.json/.csv file.")
@click.option("--red", type=int, help="raster only: band number of red.")
@click.option("--nir", type=int, help="raster only: band number of near infrared.")
@click.option("--rules", "rules_file", type=click.Path(path_type=Path),
              help="facilities only: rules file extending [poi_types] (Amap/Baidu POI types → categories).")
@overwrite_option
def add(workspace: Path, kind: str, files: tuple[str, ...], source_layer: str | None,
        layer_name: str | None, src_crs: str | None, xcol: str | None, ycol: str | None,
        sheet: str | None, encoding: str | None, columns: tuple[str, ...], red: int | None,
        nir: int | None, rules_file: Path | None, overwrite: bool) -> None:
    """Add FILE to WORKSPACE as layer kind KIND (or KIND 'raster' to attach a raster).

    Several files make one layer (e.g. the line and polygon Shapefiles an
    export splits a mixed layer into); postgresql://USER@HOST:PORT/DB?schema=S&table=T
    reads a PostGIS table.
    """
    from .. import handoff, layers, postgis
    from .. import workspace as ws

    file: Any = files[0] if postgis.is_url(files[0]) else Path(files[0])
    if len(files) > 1 and kind == "raster":
        raise InputError("attach one raster at a time.")
    if kind == "raster":
        bands = {k: v for k, v in (("red", red), ("nir", nir)) if v is not None}
        desc = ws.add_raster(workspace, file, name=layer_name or "raster", bands=bands)
        say(f"attached raster {desc['path']} ({desc['count']} bands, {desc['crs']})")
        return
    layers.get_spec(kind)
    mapping = _parse_columns(columns)
    if workspace.exists():  # refused before a large file is read, not after
        ws.check_writable(workspace)
    shown = postgis.parse_url(file).shown if isinstance(file, str) else file.name
    with progress(f"adding {shown}") as step:
        step("reading")
        frames = handoff.read_each(list(files), layer=source_layer, encoding=encoding,
                                   src_crs=src_crs, x=xcol, y=ycol, sheet=sheet)
        step("writing")
        res = ws.add_layer(workspace, kind, frames, name=layer_name, columns=mapping,
                           source_layer=source_layer, src_crs=src_crs, overwrite=overwrite,
                           rules=rules_file)
    say(f"added [bold]{res['layer']}[/] ({res['features']} features) in {res['crs']}")
    if res["renamed"]:
        say("columns mapped: " + ", ".join(f"{k} → {v}" for k, v in res["renamed"].items()))
    if res["unused_columns"]:
        _say_unused(res, kind)
    for col, n in res["unreadable_values"].items():
        say(f"[yellow]{n} value(s) in '{col}' could not be read[/]; they are kept as text "
                  f"in '{col}_raw' and listed by 'gcgeo validate'")
    if res["errors"] or res["warnings"]:
        say(f"[yellow]{res['errors']} error(s), {res['warnings']} warning(s)[/]: "
                  f"see 'gcgeo validate {workspace} --layer {res['layer']}'")
    warn_stale(workspace)


def _say_unused(res: dict[str, Any], kind: str) -> None:
    """Name the columns ``add`` kept but gcgeo does not read, and how to map them."""
    from .. import layers

    spec = layers.get_spec(kind)
    unused, hints = res["unused_columns"], res["column_hints"]
    example = ",".join(f"{k}={v}" for k, v in hints.items()) or f"{unused[0]}=COLUMN"
    text = (f"[yellow]not used by gcgeo[/]: {', '.join(unused)} (kept in the layer as they are); "
            f"if one holds a column of {kind}, map it with --columns {example}")
    if hints:
        text += " (guessed from the names: check them)"
    if res["missing_columns"]:
        text += ". Columns of " + kind + " not found: " + ", ".join(
            f"{c} ({spec.column(c).label_zh})" for c in res["missing_columns"])
    say(text + ".")


@main.command(name="layers")
@workspace_argument
def layers_cmd(workspace: Path) -> None:
    """List the layers of WORKSPACE."""
    from .. import workspace as ws
    from ..pipeline import stale

    meta = ws.info(workspace)
    listing = ws.list_layers(workspace)
    say(f"[bold]{meta['name']}[/]  working CRS {meta['crs'].to_string() if meta['crs'] else '(not set)'}"
              f"  rules {meta['rules_version']}")
    old = stale(workspace)
    listing["analysis"] = [_analysis_name(a) for a in listing["analysis"]]
    listing["analysis"] = [f"{a} (stale)" if a in old else a for a in listing["analysis"]]
    listing["added"] = listing["added"].astype(str).str.replace(r"\.\d+(?=[+-]\d\d:\d\d$|$)", "",
                                                            regex=True)
    say(table(listing[["layer", "kind", "features", "geometry", "added", "source", "analysis"]]))
    for name, r in meta["rasters"].items():
        say(f"raster {name}: {r['path']} ({r['count']} bands, {r['crs']})")
    warn_stale(workspace, old)


@main.command()
@workspace_argument
@click.option("--fix", is_flag=True, help="Repair what is safe: make_valid, explode multiparts, reproject.")
@click.option("--layer", "only", multiple=True, help="Only this layer (repeatable).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the problems to a CSV file.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rules file the analyses use: streets are judged by its network rules "
                   "(join_tolerance, split_crossings).")
@overwrite_option
def validate(workspace: Path, fix: bool, only: tuple[str, ...], report_path: Path | None,
             rules_file: Path | None, overwrite: bool) -> None:
    """Check every inventory layer of WORKSPACE against its spec."""
    from .. import io
    from .. import workspace as ws

    if report_path is not None:  # never onto the workspace, never over a file unasked
        if report_path.suffix.lower() != ".csv":  # CSV text in a .xlsx or .shp opens nowhere
            raise InputError(f"--report {report_path}: the problems are written as CSV; give a name "
                             f"ending in .csv (e.g. --report {report_path.with_suffix('.csv')}).")
        io.check_output(report_path, inputs=[workspace], overwrite=overwrite)
    with progress("validating"):
        report, changes = ws.validate(workspace, fix=fix, layers=list(only) or None,
                                      rules=rules_file)
    for c in changes:
        say(f"[green]fixed[/] {c}")
    if changes:
        warn_stale(workspace)
    if report.problems:
        say(table(report.to_frame(), title="problems", max_rows=200))
    if report_path is not None:
        with io.atomic_path(report_path, overwrite=overwrite, inputs=[workspace]) as tmp:
            report.to_frame().to_csv(tmp, index=False, encoding="utf-8-sig")
        say(f"problems written to {report_path}")
    say(str(report).splitlines()[0])
    if not report.ok:
        sys.exit(1)


@main.command()
@workspace_argument
@click.argument("output")
@click.option("--layers", "names",
              help="Comma-separated layers (default: all); 'network' is the walking network "
                   "(layers nodes and edges).")
@overwrite_option
@click.option("--csv-geometry", type=click.Choice(["wkt", "lonlat"]), help="CSV geometry columns.")
@click.option("--crs", "out_crs",
              help="Output CRS: wgs84, cgcs2000, EPSG:…, gcj02 (Amap/Tencent), bd09 (Baidu); default: "
                   "each layer's own. GeoJSON and KML are always wgs84.")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"], case_sensitive=False),
              help="Shapefile text encoding: utf-8 (default) or gbk for older ArcGIS / SuperMap.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rules file for the walking network (network.join_tolerance, split_crossings).")
@lang_option
def export(workspace: Path, output: str, names: str | None, overwrite: bool,
           csv_geometry: str | None, out_crs: str | None, encoding: str | None,
           rules_file: Path | None, lang: str) -> None:
    """Export layers of WORKSPACE to OUTPUT.

    OUTPUT is a file (.gpkg .shp .geojson .csv .fgb .parquet .kml; .graphml for the
    walking network) or a PostGIS database: postgresql://USER@HOST:PORT/DB?schema=S.

    GeoJSON rounds coordinates to 7 decimals of a degree (RFC 7946; a point moves by at
    most 8 mm); the other formats keep them as stored. A .gpkg carries each layer's QGIS
    style (gcgeo's, in --lang) and the styles a planner saved for it in QGIS in the
    workspace, as saved (their default stays the default; a style naming columns the
    export lacks is kept, with a warning naming the layer). A PostGIS export writes both
    into the database's public.layer_styles, where QGIS looks for them (a style saved
    there from QGIS stays as it is, and the default). A stored scorecard that no longer
    holds is exported as it stands now, with a warning (as the report and the dossiers
    show it).
    """
    from .. import handoff

    wanted = [n.strip() for n in names.split(",") if n.strip()] if names is not None else None
    if wanted == []:  # (an empty shell variable, say: never read as "every layer")
        raise InputError(f"--layers {names!r} names no layer; name the layers to export, comma-separated "
                         "(e.g. --layers communities,lc_communities), or leave --layers out to export "
                         "every layer.")
    with progress("exporting") as step:
        report = handoff.export_workspace(workspace, output, layers=wanted, crs=out_crs,
                                          encoding=encoding, lang=lang, csv_geometry=csv_geometry,
                                          overwrite=overwrite, rules=rules_file, progress=step)
    say(str(report))
    warn(report.warnings)  # (a scorecard computed again: why, and how to store it)
    warn_stale(workspace)


@main.command(name="import-osm")
@workspace_argument
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--bbox", help="minx,miny,maxx,maxy in degrees (WGS-84).")
@click.option("--boundary", type=click.Path(path_type=Path), help="Polygon file limiting the import.")
@click.option("--name", help="Study-area name when the workspace is created (default: file name).")
@click.option("--communities", type=click.Choice(["auto", "osm", "blocks"]), default="auto",
              show_default=True,
              help="Community boundaries from OSM polygons, from street blocks, or OSM where present.")
@overwrite_option
def import_osm(workspace: Path, file: Path, bbox: str | None, boundary: Path | None,
               name: str | None, communities: str, overwrite: bool) -> None:
    """Fill WORKSPACE with every layer found in an offline .osm.pbf FILE."""
    summary = _import_osm(workspace, file, bbox=bbox, boundary=boundary, name=name,
                          communities=communities, overwrite=overwrite)
    say(table(summary, title=f"imported from {file.name}"))
    warn_stale(workspace)


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 4:
        raise InputError(f"--bbox '{text}' must be four numbers minx,miny,maxx,maxy (degrees).")
    return vals


def _import_osm(workspace: Path, file: Path, *, bbox: str | None = None,
                boundary: Path | None = None, name: str | None = None,
                communities: str = "auto", overwrite: bool = False):
    """Read an OSM extract and store its layers (creating the workspace if needed)."""
    import pandas as pd
    import shapely

    from .. import io, osm
    from .. import workspace as ws

    area = None
    if boundary is not None:
        try:
            b = io.read_vector(boundary).to_crs("EPSG:4326")
        except CRSError:
            raise CRSError(f"boundary file {boundary} has no CRS (no .prj); give it one, e.g. "
                           "save it as GeoJSON or GeoPackage from QGIS.") from None
        area = shapely.union_all(b.geometry.values)
    box = _parse_bbox(bbox) if bbox else None
    if workspace.exists():
        ws.info(workspace)  # a damaged or foreign file is refused before the long read
        ws.check_writable(workspace)
    with progress(f"importing {file.name}") as step:
        frames = osm.read_osm(file, bbox=box, boundary=area, progress=step, communities=communities)
        step("writing the workspace")
        with ws.creating(workspace) as new:  # no empty workspace is left behind by a failure
            if new:
                ws.init(workspace, name=name or file.name.split(".")[0])
            ws.write_layers(workspace, frames, kind={k: k for k in frames}, source=str(file),
                            overwrite=overwrite)
    return pd.DataFrame({"layer": list(frames), "features": [len(f) for f in frames.values()]})
