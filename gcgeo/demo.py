"""``gcgeo demo``: the whole job on bundled real data, offline.

Central Helsinki from OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0)
is imported into a fresh workspace, validated, analysed (living circle,
green coverage, fire lanes), drawn as an offline interactive map and static
figures, and summed up in an HTML report.  Nothing is fetched from the
network (the second map's OpenStreetMap tiles load only when it is opened
on a connected machine).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from . import workspace as ws
from .analysis import ANALYSES, run_in_workspace

log = logging.getLogger(__name__)

DEMO_NAME = "Helsinki centre (OpenStreetMap)"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"


def demo_data() -> Path:
    """Path of the bundled central-Helsinki .osm.pbf extract."""
    return Path(str(resources.files("gcgeo").joinpath("data", "helsinki_center.osm.pbf")))


@contextlib.contextmanager
def _log_progress(label: str) -> Iterator[Callable[[str], None]]:
    yield lambda stage: log.info("%s: %s", label, stage)


def run(
    out_dir: str | os.PathLike,
    *,
    lang: str = "en",
    progress: Callable[[str], contextlib.AbstractContextManager] | None = None,
    console: Any = None,
) -> dict[str, Path]:
    """Build the demo in ``out_dir`` (replacing an earlier demo there); return what it wrote."""
    from . import maps, osm
    from .maps._labels import ui
    from .report import report_workspace

    progress = progress or _log_progress
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "helsinki.gpkg"
    written: dict[str, Path] = {"workspace": path}

    with progress("importing OpenStreetMap") as step:
        frames = osm.read_osm(demo_data(), progress=step)
        step("writing the workspace")
        ws.init(path, name=DEMO_NAME, overwrite=True)
        ws.write_layers(path, frames, kind={k: k for k in frames}, source=demo_data().name)

    with progress("validating"):
        report, _ = ws.validate(path)
    problems = out / "validation.csv"
    report.to_frame().to_csv(problems, index=False, encoding="utf-8-sig")
    written["validation"] = problems

    for name in ANALYSES:
        with progress(name) as step:
            run_in_workspace(path, name, progress=step)

    with progress("maps, figures and report") as step:
        online = out / "map-osm.html"
        layers = ws.read_layers(path)
        m = maps.dashboard(layers, lang=lang, basemap="osm", title=DEMO_NAME)
        maps.save_map(m, online)
        written.update(report_workspace(path, out / "report.html", lang=lang, overwrite=True,
                                        maps={ui("online_map", lang): online}, progress=step))
        written["map (OSM tiles)"] = online

    if console is not None:
        from rich.table import Table

        table = Table(title=f"{DEMO_NAME}: workspace {path}")
        for col in ("layer", "kind", "features", "geometry", "analysis"):
            table.add_column(col)
        for _, row in ws.list_layers(path).iterrows():
            table.add_row(*(str(row[c]) for c in ("layer", "kind", "features", "geometry", "analysis")))
        console.print(table)
        console.print(f"validation: {len(report.errors)} error(s), {len(report.warnings)} "
                      f"warning(s) → {problems}")
        for label, p in written.items():
            if not label.startswith("figure"):
                console.print(f"{label:>16}: {p}")
        console.print(f"{'figures':>16}: {out / 'report-figures'}")
        console.print(f"data: {ATTRIBUTION}")
    return written
