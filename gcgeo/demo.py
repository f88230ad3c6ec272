"""``gcgeo demo``: the whole job, offline.

1. Real data: central Helsinki from OpenStreetMap (© OpenStreetMap
   contributors, ODbL 1.0) is imported into a fresh workspace, validated,
   analysed (living circle, green coverage, fire lanes), drawn as an offline
   interactive map and static figures, and summed up in an HTML report.
2. A Chinese county's workflow: the seeded synthetic town of
   :mod:`gcgeo.testing`, inside the real boundary of 高唐县, is handed over as
   planners' files (a GBK Shapefile, Amap GCJ-02 and Baidu BD-09 CSVs, an
   Excel sheet of CGCS2000 coordinates…), added, validated, analysed and
   reported in Chinese.  Its data are made up and labelled so.

Nothing is fetched from the network (the OpenStreetMap-tile map loads its
tiles only when opened on a connected machine).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from . import analysis
from . import workspace as ws
from ._errors import GcgeoError, OutputExistsError
from .pipeline import run_analysis

log = logging.getLogger(__name__)

DEMO_NAME = "Helsinki centre (OpenStreetMap)"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

#: Options the demo gives analyses: the living circle draws its community isochrones too
#: (``gcgeo analyze WS living-circle`` draws them on request), so that the maps show them.
_OPTIONS: dict[str, dict[str, Any]] = {"living_circle": {"isochrones": "community"}}


def demo_data() -> Path:
    """Path of the bundled central-Helsinki .osm.pbf extract."""
    return Path(str(resources.files("gcgeo").joinpath("data", "helsinki_center.osm.pbf")))


@contextlib.contextmanager
def _log_progress(label: str) -> Iterator[Callable[[str], None]]:
    yield lambda stage: log.info("%s: %s", label, stage)


def _score(path: Path, lang: str) -> None:
    """The 16-criterion scorecard from what the analyses measured (no attestation: the
    governance criteria stay unknown, as they are until a street office attests them)."""
    from . import score

    score.store(path, score.score(path, lang=lang))


def _check_folder(out: Path) -> None:
    """Refuse a folder that holds files and no earlier demo: the demo replaces what it writes
    (report.html, validation.csv, maps, workspaces) without asking, which only an earlier
    demo's files may be."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    try:
        if ws.info(out / "helsinki.gpkg")["name"] == DEMO_NAME:
            return
    except GcgeoError:  # no workspace there, or not the demo's
        pass
    held = sorted(p.name for p in out.iterdir())
    raise OutputExistsError(
        f"folder {out} holds files already ({', '.join(held[:5])}{', …' if len(held) > 5 else ''}) "
        "and no earlier demo; the demo writes report.html, validation.csv, maps and workspaces "
        "there and would replace files of the same names. Nothing was written. Give a new or "
        "empty folder with -o.")


def run(
    out_dir: str | os.PathLike,
    *,
    lang: str = "en",
    progress: Callable[[str], contextlib.AbstractContextManager] | None = None,
    console: Any = None,
) -> dict[str, Path]:
    """Build the demo in ``out_dir`` (replacing an earlier demo there); return what it wrote.

    A folder holding other files is refused (:class:`~gcgeo.OutputExistsError`).
    """
    from . import maps, osm
    from .labels import ui
    from .report import report_workspace

    progress = progress or _log_progress
    out = Path(out_dir)
    _check_folder(out)
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

    for name in analysis.names():
        with progress(name) as step:
            run_analysis(path, name, progress=step, **_OPTIONS.get(name, {}))
    with progress("scorecard"):
        _score(path, lang)

    with progress("maps, figures and report") as step:
        online = out / "map-osm.html"
        layers = ws.read_layers(path)
        m = maps.dashboard(layers, lang=lang, basemap="osm", title=DEMO_NAME)
        maps.save_map(m, online)
        written.update(report_workspace(path, out / "report.html", lang=lang, overwrite=True,
                                        maps={ui("online_map", lang): online}, progress=step))
        written["map (OSM tiles)"] = online

    with progress("synthetic Gaotang county (Chinese workflow)") as step:
        written.update(gaotang(out / "gaotang", progress=step))

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
            if not label.startswith(("figure", "gaotang")):
                console.print(f"{label:>16}: {p}")
        console.print(f"{'figures':>16}: {out / 'report-figures'}")
        console.print(f"{'高唐县 (synthetic)':>16}: {written['gaotang report']}")
        console.print(f"data: {ATTRIBUTION}")
    return written


GAOTANG_NAME = "高唐县（合成示例数据 synthetic demo data）"

#: file written by SyntheticCounty.write_inputs → (layer kind, declared CRS)
_GAOTANG_FILES = {
    "communities_shp": ("communities", None),
    "buildings_gpkg": ("buildings", None),
    "green_geojson": ("green_space", None),
    "facilities_csv": ("facilities", "gcj02"),
    "chargers_csv": ("chargers", "bd09"),
    "manholes_xlsx": ("manholes", "EPSG:4548"),
}


def gaotang(out_dir: str | os.PathLike, *, seed: int = 0,
            progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """The Chinese workflow on the synthetic county: files → workspace → report (zh)."""
    from . import io
    from .report import report_workspace
    from .testing import synthetic_county

    step = progress or (lambda stage: None)
    out = Path(out_dir)
    county = synthetic_county(seed)
    step("writing planners' files")
    files = county.write_inputs(out / "inputs", overwrite=True, category_values="zh")
    path = out / "gaotang.gpkg"
    ws.init(path, name=GAOTANG_NAME, crs=county.crs, overwrite=True)
    for key, (kind, src_crs) in _GAOTANG_FILES.items():
        step(f"adding {files[key].name}")
        ws.add_layer(path, kind, io.read_vector(files[key], src_crs=src_crs),
                     source=files[key].name, src_crs=src_crs)
    rest = {k: f for k, f in county.layers.items()
            if k not in {kind for kind, _ in _GAOTANG_FILES.values()}}
    ws.write_layers(path, rest, kind={k: k for k in rest}, source="gcgeo.testing.synthetic_county")
    step("validating")
    report, _ = ws.validate(path)
    if not report.ok:  # the synthetic county is valid by construction
        log.warning("synthetic county: %d validation error(s)", len(report.errors))
    for name in analysis.names():
        step(name)
        run_analysis(path, name, **_OPTIONS.get(name, {}))
    step("scorecard")
    _score(path, "zh")
    written = report_workspace(path, out / "report.html", lang="zh", overwrite=True, progress=step)
    return {"gaotang workspace": path, "gaotang inputs": out / "inputs",
            **{f"gaotang {k}": v for k, v in written.items()}}
