"""Output commands: map, report and the demo."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    lang_option,
    main,
    out,
    out_option,
    overwrite_option,
    progress,
    quiet,
    say,
    warn,
    warn_stale,
    workspace_argument,
)

__all__ = ["demo", "map_cmd", "report"]


def _html(output: Path) -> None:
    """Refuse an output name that a browser would not open as a page."""
    from .._errors import InputError

    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"-o {output}: the page written is HTML; give a file name ending in .html "
                         f"(e.g. -o {output.with_name(output.name + '.html')}).")


@main.command(name="map")
@workspace_argument
@out_option("HTML file to write.")
@click.option("--view", "views", multiple=True,
              help="View(s) to draw: inventory or an analysis's name (default: all present).")
@lang_option
@click.option("--basemap", type=click.Choice(["osm", "carto", "tianditu", "amap", "none"]),
              help="Base map (default: osm, or none with --offline). tianditu needs TIANDITU_KEY.")
@click.option("--offline", is_flag=True,
              help="No tile base map, so the map draws without any network request (Leaflet is "
                   "inline in every map).")
@overwrite_option
def map_cmd(workspace: Path, output: Path, views: tuple[str, ...], lang: str,
            basemap: str | None, offline: bool, overwrite: bool) -> None:
    """Draw WORKSPACE's layers and results as an interactive map.

    The scorecard is drawn as it stands (the stored one while it holds, else as
    the dossier and the report show it), and class breaks at a threshold are at
    the one each analysis ran with.
    """
    from .. import io, maps
    from .. import workspace as ws
    from ..score import current

    _html(output)
    io.check_output(output, inputs=[workspace], overwrite=overwrite)  # never onto the workspace
    chosen = list(views) or None
    with progress("drawing the map") as step:
        step("reading layers")
        layers = ws.read_layers(workspace)
        meta = ws.info(workspace)
        card = current(workspace, layers=layers, lang=lang) if chosen is None or "scorecard" in chosen else None
        if card is not None:
            layers.update(card.tables)
        ran, notes = maps.rules_ran(meta, layers, views=chosen)
        step("drawing")
        m = maps.dashboard(layers, views=chosen, lang=lang, basemap=basemap, offline=offline,
                           title=meta["name"], rules=ran)
        step("writing")
        maps.save_map(m, output, offline=offline)
    say(f"map written to [bold]{output}[/] ({output.stat().st_size / 1e6:.1f} MB"
              f"{', offline' if offline else ''})")
    warn([*(card.warnings if card is not None else []), *notes])  # (as gcgeo score and dossier do)
    warn_stale(workspace)


@main.command()
@workspace_argument
@out_option("HTML report to write; figures and the map go beside it.")
@lang_option
@overwrite_option
def report(workspace: Path, output: Path, lang: str, overwrite: bool) -> None:
    """Write the study-area report: key figures per analysis, tables, figures, map link."""
    from ..report import report_workspace

    _html(output)
    with progress("writing the report") as step:
        written = report_workspace(workspace, output, lang=lang, overwrite=overwrite, progress=step)
    for label, p in written.items():
        say(f"{label:>8}: {p}")
    warn_stale(workspace)


@main.command()
@out_option("Folder for the demo outputs.", required=False, default=Path("gcgeo-demo"), file=False)
@lang_option
def demo(output: Path, lang: str) -> None:
    """Build a workspace from the bundled real data and run everything on it."""
    from .. import demo as _demo

    _demo.run(output, lang=lang, progress=progress, console=None if quiet() else out)
