"""The ``gcgeo`` command line: a thin layer over the library.

Every command takes a workspace (one GeoPackage per study area).  Errors the
user can fix end with a one-paragraph message and exit status 2; problems
found by ``validate`` exit with status 1.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from ._errors import CRSError, GcgeoError, InputError, OutputExistsError
from .analysis import ANALYSES

log = logging.getLogger("gcgeo")
# Messages wrap softly (a path is never broken); tables written to a file or a
# pipe get room enough not to fold their cells.
console = Console(stderr=True, soft_wrap=True)
out = Console(width=None if sys.stdout.isatty() else 200)



class _Cli(click.Group):
    """Turn gcgeo's own errors into one-paragraph messages, not tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GcgeoError as exc:
            console.print(f"[bold red]error:[/] {exc}", highlight=False)
            sys.exit(2)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except OSError as exc:  # the system refused: permissions, full disk, a file in the way
            where = exc.filename or "a file"
            console.print(f"[bold red]error:[/] cannot read or write {where}: "
                          f"{exc.strerror or exc}. Check the path and its permissions.",
                          highlight=False)
            sys.exit(2)
        except KeyboardInterrupt:
            console.print("[red]interrupted[/]: the workspace was left as it was before this command.")
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if log.isEnabledFor(logging.DEBUG):
                raise
            console.print(
                f"[bold red]unexpected error:[/] {type(exc).__name__}: {exc}\n"
                "This is a fault in gcgeo, not in your data; the workspace was left unchanged. "
                "Rerun with -v to see the details and report them.",
                highlight=False,
            )
            sys.exit(3)


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else
                                           logging.INFO if verbose == 1 else logging.WARNING)
    handler = RichHandler(console=console, show_time=False, show_path=False)
    root = logging.getLogger("gcgeo")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # matplotlib reports every font fallback; a planner needs none of it
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gcgeo")
@click.option("-v", "--verbose", count=True, help="More detail (-vv for debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """gcgeo — inventory, analyses and maps for green communities and 15-minute living circles."""
    _configure_logging(verbose, quiet)
    ctx.obj = {"quiet": quiet}


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[str], None]]:
    """A rich spinner whose text follows the library's progress(stage) calls."""
    quiet = bool(click.get_current_context().obj.get("quiet")) or not console.is_terminal
    if quiet:
        def step(stage: str) -> None:
            log.info("%s: %s", label, stage)
        yield step
        return
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label)

        def step(stage: str) -> None:
            bar.update(task, description=f"{label}: {stage}")

        yield step


def _table(df, title: str | None = None, max_rows: int = 40) -> Table:
    t = Table(title=title, show_lines=False)
    for col in df.columns:
        t.add_column(str(col), overflow="fold")
    for _, row in df.head(max_rows).iterrows():
        t.add_row(*[_fmt(v) for v in row])
    if len(df) > max_rows:
        t.caption = f"… {len(df) - max_rows} more rows"
    return t


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.1f}"
    return str(v)


def _parse_columns(values: tuple[str, ...]) -> dict[str, str]:
    """--columns: 'src=dst' pairs (comma-separated or repeated) or a TOML/JSON/CSV file."""
    mapping: dict[str, str] = {}
    for value in values:
        p = Path(value)
        if p.suffix.lower() in (".toml", ".json", ".csv", ".txt") and p.exists():
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
            mapping.update({str(k): str(v) for k, v in data.items()})
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


ws_arg = click.argument("workspace", type=click.Path(dir_okay=False, path_type=Path))


@main.command()
@ws_arg
@click.option("--name", required=True, help="Name of the study area (e.g. 高唐县).")
@click.option("--crs", "working_crs", help="Working projected CRS (default: chosen from the first layer).")
@click.option("--overwrite", is_flag=True, help="Replace an existing workspace.")
def init(workspace: Path, name: str, working_crs: str | None, overwrite: bool) -> None:
    """Create an empty workspace WORKSPACE (.gpkg) for a study area."""
    from . import workspace as ws

    ws.init(workspace, name=name, crs=working_crs, overwrite=overwrite)
    out.print(f"created workspace [bold]{workspace}[/] for {name}")


@main.command()
@ws_arg
@click.argument("kind")
@click.argument("file", type=click.Path(path_type=Path))
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
@click.option("--overwrite", is_flag=True, help="Replace a layer of the same name.")
def add(workspace: Path, kind: str, file: Path, source_layer: str | None, layer_name: str | None,
        src_crs: str | None, xcol: str | None, ycol: str | None, sheet: str | None,
        encoding: str | None, columns: tuple[str, ...], red: int | None, nir: int | None,
        overwrite: bool) -> None:
    """Add FILE to WORKSPACE as layer kind KIND (or KIND 'raster' to attach a raster)."""
    from . import io, layers
    from . import workspace as ws

    if kind == "raster":
        bands = {k: v for k, v in (("red", red), ("nir", nir)) if v is not None}
        desc = ws.add_raster(workspace, file, name=layer_name or "raster", bands=bands)
        out.print(f"attached raster {desc['path']} ({desc['count']} bands, {desc['crs']})")
        return
    layers.get_spec(kind)
    mapping = _parse_columns(columns)
    with _progress(f"adding {file.name}") as step:
        step("reading")
        gdf = io.read_vector(file, layer=source_layer, encoding=encoding, src_crs=src_crs,
                             x=xcol, y=ycol, sheet=sheet)
        step("writing")
        res = ws.add_layer(workspace, kind, gdf, name=layer_name, columns=mapping, source=file,
                           source_layer=source_layer, src_crs=src_crs, overwrite=overwrite)
    out.print(f"added [bold]{res['layer']}[/] ({res['features']} features) in {res['crs']}")
    if res["renamed"]:
        out.print("columns mapped: " + ", ".join(f"{k} → {v}" for k, v in res["renamed"].items()))
    for col, n in res["unreadable_values"].items():
        out.print(f"[yellow]{n} value(s) in '{col}' could not be read[/]; they are kept as text "
                  f"in '{col}_raw' and listed by 'gcgeo validate'")
    if res["errors"] or res["warnings"]:
        out.print(f"[yellow]{res['errors']} error(s), {res['warnings']} warning(s)[/]: "
                  f"see 'gcgeo validate {workspace} --layer {res['layer']}'")
    _warn_stale(workspace)


def _warn_stale(workspace: Path, found: dict[str, list[str]] | None = None) -> None:
    """Say which analyses' stored results predate a change to their input layers."""
    from .analysis import stale, stale_message

    found = stale(workspace) if found is None else found
    for name, changed in found.items():
        out.print(f"[yellow]stale:[/] {stale_message(workspace, name, changed)}")


@main.command(name="layers")
@ws_arg
def layers_cmd(workspace: Path) -> None:
    """List the layers of WORKSPACE."""
    from . import workspace as ws
    from .analysis import stale

    meta = ws.info(workspace)
    table = ws.list_layers(workspace)
    out.print(f"[bold]{meta['name']}[/]  working CRS {meta['crs'].to_string() if meta['crs'] else '(not set)'}"
              f"  rules {meta['rules_version']}")
    old = stale(workspace)
    table["analysis"] = [f"{a} (stale)" if a in old else a for a in table["analysis"]]
    table["added"] = table["added"].astype(str).str.replace(r"\.\d+(?=[+-]\d\d:\d\d$|$)", "",
                                                            regex=True)
    out.print(_table(table[["layer", "kind", "features", "geometry", "added", "source", "analysis"]]))
    for name, r in meta["rasters"].items():
        out.print(f"raster {name}: {r['path']} ({r['count']} bands, {r['crs']})")
    _warn_stale(workspace, old)


@main.command()
@ws_arg
@click.option("--fix", is_flag=True, help="Repair what is safe: make_valid, explode multiparts, reproject.")
@click.option("--layer", "only", multiple=True, help="Only this layer (repeatable).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the problems to a CSV file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing report file.")
def validate(workspace: Path, fix: bool, only: tuple[str, ...], report_path: Path | None,
             overwrite: bool) -> None:
    """Check every inventory layer of WORKSPACE against its spec."""
    from . import io
    from . import workspace as ws

    if report_path is not None and report_path.exists() and not overwrite:
        raise OutputExistsError(f"{report_path} exists; give --overwrite to replace it.")
    with _progress("validating"):
        report, changes = ws.validate(workspace, fix=fix, layers=list(only) or None)
    for c in changes:
        out.print(f"[green]fixed[/] {c}")
    if changes:
        _warn_stale(workspace)
    if report.problems:
        out.print(_table(report.to_frame(), title="problems", max_rows=200))
    if report_path is not None:
        with io.atomic_path(report_path, overwrite=overwrite) as tmp:
            report.to_frame().to_csv(tmp, index=False, encoding="utf-8-sig")
        out.print(f"problems written to {report_path}")
    out.print(str(report).splitlines()[0])
    if not report.ok:
        sys.exit(1)


@main.command()
@ws_arg
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--layers", "names", help="Comma-separated layers (default: all).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--csv-geometry", type=click.Choice(["wkt", "lonlat"]), help="CSV geometry columns.")
def export(workspace: Path, output: Path, names: str | None, overwrite: bool,
           csv_geometry: str | None) -> None:
    """Export layers of WORKSPACE to OUTPUT (.gpkg .shp .geojson .csv .fgb .parquet .kml)."""
    from . import io
    from . import workspace as ws

    wanted = [n.strip() for n in names.split(",")] if names else None
    with _progress("exporting") as step:
        step("reading")
        frames = ws.read_layers(workspace, wanted)
        step("writing")
        report = io.export(frames, output, overwrite=overwrite, csv_geometry=csv_geometry)
    out.print(str(report))


@main.command(name="import-osm")
@ws_arg
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--bbox", help="minx,miny,maxx,maxy in degrees (WGS-84).")
@click.option("--boundary", type=click.Path(path_type=Path), help="Polygon file limiting the import.")
@click.option("--name", help="Study-area name when the workspace is created (default: file name).")
@click.option("--communities", type=click.Choice(["auto", "osm", "blocks"]), default="auto",
              show_default=True,
              help="Community boundaries from OSM polygons, from street blocks, or OSM where present.")
@click.option("--overwrite", is_flag=True, help="Replace layers the workspace already has.")
def import_osm(workspace: Path, file: Path, bbox: str | None, boundary: Path | None,
               name: str | None, communities: str, overwrite: bool) -> None:
    """Fill WORKSPACE with every layer found in an offline .osm.pbf FILE."""
    summary = _import_osm(workspace, file, bbox=bbox, boundary=boundary, name=name,
                          communities=communities, overwrite=overwrite)
    out.print(_table(summary, title=f"imported from {file.name}"))
    _warn_stale(workspace)


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 4:
        raise InputError(f"--bbox '{text}' must be four numbers minx,miny,maxx,maxy (degrees).")
    return vals  # type: ignore[return-value]


def _import_osm(workspace: Path, file: Path, *, bbox: str | None = None,
                boundary: Path | None = None, name: str | None = None,
                communities: str = "auto", overwrite: bool = False):
    """Read an OSM extract and store its layers (creating the workspace if needed)."""
    import pandas as pd
    import shapely

    from . import io, osm
    from . import workspace as ws

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
    with _progress(f"importing {file.name}") as step:
        frames = osm.read_osm(file, bbox=box, boundary=area, progress=step, communities=communities)
        step("writing the workspace")
        created = not workspace.exists()
        if created:
            ws.init(workspace, name=name or file.name.split(".")[0])
        try:
            ws.write_layers(workspace, frames, kind={k: k for k in frames}, source=str(file),
                            overwrite=overwrite)
        except BaseException:
            if created:  # no empty workspace is left behind by a failed import
                workspace.unlink(missing_ok=True)
            raise
    return pd.DataFrame({"layer": list(frames), "features": [len(f) for f in frames.values()]})


@main.command()
@ws_arg
@click.argument("analysis", type=click.Choice(sorted(ANALYSES)))
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your TOML overriding built-in thresholds.")
@click.option("--walking-speed", type=float, help="living-circle: km/h to turn minutes into metres.")
@click.option("--snap-tolerance", type=float,
              help="living-circle: metres beyond which a home or facility is reported off-network.")
@click.option("--join-tolerance", type=float,
              help="living-circle, green: metres within which street ends that miss each other "
                   "are joined (rule network.join_tolerance; 0 joins only meeting ends).")
@click.option("--split-crossings/--no-split-crossings", default=None,
              help="living-circle, green: join streets where their lines cross, for CAD centre "
                   "lines drawn through junctions (rule network.split_crossings; default off, "
                   "so bridges stay bridges).")
@click.option("--isochrones", type=click.Choice(["community", "facility", "none"]),
              help="living-circle: isochrone polygons per community or per facility.")
@click.option("--graph", type=click.Path(exists=True, dir_okay=False),
              help="living-circle: walk on this GraphML network (e.g. saved by OSMnx) instead of the streets layer.")
@click.option("--raster", type=click.Path(path_type=Path), help="green: multispectral raster for NDVI.")
@click.option("--red", type=int, help="green: band number of red.")
@click.option("--nir", type=int, help="green: band number of near infrared.")
@click.option("--ndvi-threshold", type=float, help="green: NDVI above which a pixel is vegetation.")
@click.option("--station-spacing", type=float, help="fire-lanes: metres between measuring stations.")
@click.option("--high-rise/--no-high-rise", default=None,
              help="fire-lanes: turnarounds for high-rise buildings (default: detected from building heights).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the summary table.")
def analyze(workspace: Path, analysis: str, rules_file: Path | None, lang: str,
            **options: Any) -> None:
    """Run ANALYSIS on WORKSPACE and store its results there."""
    from .analysis import run_in_workspace

    with _progress(analysis) as step:
        outputs, table = run_in_workspace(workspace, analysis, rules=rules_file, progress=step,
                                          **options)
    out.print(f"{analysis}: wrote {', '.join(outputs)} to {workspace}")
    if table is not None and len(table):
        out.print(_labelled_table(table, lang, title=analysis))


def _labelled_table(df, lang: str, *, title: str) -> Table:
    """A summary table with the same column labels and number formats as maps and reports."""
    from .maps._labels import column_label, format_value

    t = Table(title=title)
    for col in df.columns:
        t.add_column(column_label(str(col), lang), overflow="fold")
    for _, row in df.iterrows():
        t.add_row(*[format_value(v, str(c), lang) or "–" for c, v in row.items()])
    return t


lang_opt = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                        help="Language of labels, legends and popups.")


@main.command(name="map")
@ws_arg
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="HTML file to write.")
@click.option("--view", "views", multiple=True,
              help="View(s) to draw: inventory, living_circle, green, fire_lanes (default: all present).")
@lang_opt
@click.option("--basemap", type=click.Choice(["osm", "carto", "tianditu", "amap", "none"]),
              help="Base map (default: osm, or none with --offline). tianditu needs TIANDITU_KEY.")
@click.option("--offline", is_flag=True,
              help="One self-contained HTML file: Leaflet inline, no network request.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
def map_cmd(workspace: Path, output: Path, views: tuple[str, ...], lang: str,
            basemap: str | None, offline: bool, overwrite: bool) -> None:
    """Draw WORKSPACE's layers and results as an interactive map."""
    from . import maps
    from . import workspace as ws

    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; give --overwrite to replace it.")
    with _progress("drawing the map") as step:
        step("reading layers")
        layers = ws.read_layers(workspace)
        step("drawing")
        m = maps.dashboard(layers, views=list(views) or None, lang=lang, basemap=basemap,
                           offline=offline, title=ws.info(workspace)["name"])
        step("writing")
        maps.save_map(m, output, offline=offline)
    out.print(f"map written to [bold]{output}[/] ({output.stat().st_size / 1e6:.1f} MB"
              f"{', offline' if offline else ''})")
    _warn_stale(workspace)


@main.command()
@ws_arg
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="HTML report to write; figures and the map go beside it.")
@lang_opt
@click.option("--overwrite", is_flag=True, help="Replace existing files.")
def report(workspace: Path, output: Path, lang: str, overwrite: bool) -> None:
    """Write the study-area report: key figures per analysis, tables, figures, map link."""
    from .report import report_workspace

    with _progress("writing the report") as step:
        written = report_workspace(workspace, output, lang=lang, overwrite=overwrite, progress=step)
    for label, p in written.items():
        out.print(f"{label:>8}: {p}")
    _warn_stale(workspace)


@main.command(name="rules")
@click.argument("name", required=False)
def rules_cmd(name: str | None) -> None:
    """Show the built-in rules (thresholds with their clause and status)."""
    import pandas as pd

    from . import rules

    names = [name] if name else rules.available()
    rows = []
    for n in names:
        def walk(node: Any, prefix: str) -> None:
            if isinstance(node, dict):
                if "value" in node:
                    rows.append({"rule": prefix, "value": node["value"], "unit": node.get("unit", ""),
                                 "clause": node.get("clause", ""), "status": node.get("status", "")})
                    return
                for k, v in node.items():
                    walk(v, f"{prefix}.{k}" if prefix else k)
        walk(rules.load(n), n)
    out.print(_table(pd.DataFrame(rows), max_rows=500))


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("gcgeo-demo"), show_default=True, help="Folder for the demo outputs.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True,
              help="Language of the maps and report.")
def demo(out_dir: Path, lang: str) -> None:
    """Build a workspace from the bundled real data and run everything on it."""
    from . import demo as _demo

    _demo.run(out_dir, lang=lang, progress=_progress, console=out)


if __name__ == "__main__":  # pragma: no cover
    main()
