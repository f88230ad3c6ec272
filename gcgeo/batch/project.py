"""The project file of a batch: which study areas, their inputs, and how to run them.

A project file is TOML.  Paths in it are relative to the file's folder::

    [batch]
    scheduler = "tcp://10.0.0.5:8786"   # an existing dask cluster (default: a local one)
    workers = 4                         # local cluster: worker processes (default: cores)
    memory_limit = "4GiB"               # local cluster: per worker (default: memory / workers)
    connect_timeout = 10                # seconds to wait for `scheduler` to answer
    analyses = ["living_circle", "green"]   # default: every analysis the area has layers for
    rules = "rules.toml"                # a rules file for every area (default: built-in rules)
    reports = "reports"                 # folder of the areas' reports; false for none
    lang = "zh"                         # language of the reports
    results = "results"                 # every area's output layers, one GeoParquet per area
                                        #   and layer (RESULTS/<layer>/<area>.parquet); false for none
    database = "postgresql://user@host/db?schema=province"   # also the combined tables there

    [[area]]
    name = "高唐县"
    workspace = "gaotang.gpkg"          # created when missing and the area has inputs
    crs = "EPSG:4548"                   # working CRS of a new workspace (optional)
    osm = "gaotang.osm.pbf"             # import an OSM extract (optional)
    bbox = [116.1, 36.7, 116.4, 37.0]   #   limited to a box (degrees) or
    boundary = "gaotang-boundary.gpkg"  #   to a polygon file (optional)
    communities = "auto"                #   auto, osm or blocks
    rules = "gaotang-rules.toml"        # this area's rules file (optional)
    analyses = ["living_circle"]        # this area's analyses (optional)
    report = "out/gaotang.html"         # this area's report (default: REPORTS/<workspace>.html)
    partitions = "grid:16"              # living circle and green in 16 partitions, side by side
                                        #   (a large area; results equal the whole run)
    isochrones = "community"            # the living circle's isochrones (default none; also
                                        #   in [batch] for every area): community, facility,
                                        #   dissolved or split

    [area.layers]                       # vector inputs, added after the OSM import
    facilities = "gaotang/facilities.shp"
    buildings = { file = "gaotang/buildings.csv", x = "lon", y = "lat", src_crs = "gcj02",
                  columns = { 名称 = "name" } }

A folder instead of a project file makes one area of every ``*.gpkg`` in it,
named by its file name, with no inputs to import.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import InputError

__all__ = ["Area", "LayerInput", "Project", "read_project"]

_BATCH_KEYS = {"scheduler", "workers", "memory_limit", "connect_timeout", "analyses", "rules",
               "reports", "lang", "results", "database", "isochrones"}
_AREA_KEYS = {"name", "workspace", "crs", "osm", "bbox", "boundary", "communities", "rules",
              "analyses", "report", "layers", "partitions", "isochrones"}
_LAYER_KEYS = {"file", "layer", "src_crs", "x", "y", "sheet", "encoding", "columns"}


@dataclass(frozen=True)
class LayerInput:
    """A vector file added to an area's workspace as layer kind ``kind``."""

    kind: str
    file: Path
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Area:
    """One study area: its workspace, what to import into it and how to analyse it."""

    name: str
    workspace: Path
    crs: str | None = None
    osm: Path | None = None
    bbox: tuple[float, float, float, float] | None = None
    boundary: Path | None = None
    communities: str = "auto"
    layers: tuple[LayerInput, ...] = ()
    rules: Path | None = None
    analyses: tuple[str, ...] | None = None
    report: Path | None = None
    lang: str = "zh"
    partitions: str | None = None
    results: Path | None = None
    isochrones: str | None = None


@dataclass(frozen=True)
class Project:
    """The areas of a batch and where to run them."""

    source: Path
    areas: tuple[Area, ...]
    scheduler: str | None = None
    workers: int | None = None
    memory_limit: str | int | None = None
    connect_timeout: float = 10.0
    results: Path | None = None
    database: str | None = None


def _path(base: Path, value: Any, where: str, problems: list[str]) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} must be a path (text), not {value!r}")
        return None
    return (base / Path(value).expanduser()).resolve()


def _names(value: Any, where: str, problems: list[str]) -> tuple[str, ...] | None:
    from ..analysis import canonical

    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} must be a list of analysis names, e.g. [\"living_circle\", \"green\"]")
        return None
    out = []
    for v in value:
        try:
            out.append(canonical(v))
        except InputError as exc:
            problems.append(f"{where}: {exc}")
    return tuple(out)


def _unknown(table: dict[str, Any], known: set[str], where: str, problems: list[str]) -> None:
    for key in sorted(set(table) - known):
        problems.append(f"{where} has unknown key '{key}' (known: {', '.join(sorted(known))})")


def _layer_inputs(base: Path, table: Any, where: str, problems: list[str]) -> tuple[LayerInput, ...]:
    from .. import layers as _layers

    if table is None:
        return ()
    if not isinstance(table, dict):
        problems.append(f"{where} must be a table of KIND = \"FILE\"")
        return ()
    out = []
    for kind, spec in table.items():
        here = f"{where}.{kind}"
        if kind not in _layers.KINDS:
            problems.append(f"{here}: unknown layer kind '{kind}' (kinds: {', '.join(_layers.KINDS)})")
            continue
        if isinstance(spec, str):
            spec = {"file": spec}
        if not isinstance(spec, dict) or "file" not in spec:
            problems.append(f"{here} must be a file path or a table with 'file'")
            continue
        _unknown(spec, _LAYER_KEYS, here, problems)
        file = _path(base, spec["file"], f"{here}.file", problems)
        options = {k: v for k, v in spec.items() if k != "file"}
        if "columns" in options and not (isinstance(options["columns"], dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in options["columns"].items())):
            problems.append(f"{here}.columns must map the file's columns to the layer's, "
                            "e.g. {{ 名称 = \"name\" }}")
        if file is not None:
            out.append(LayerInput(kind=kind, file=file, options=options))
    return tuple(out)


def _bbox(value: Any, where: str, problems: list[str]) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    if (isinstance(value, list) and len(value) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        return (float(value[0]), float(value[1]), float(value[2]), float(value[3]))
    problems.append(f"{where} must be four numbers [minx, miny, maxx, maxy] in degrees")
    return None


def _area(base: Path, i: int, table: Any, defaults: dict[str, Any], problems: list[str]) -> Area | None:
    where = f"[[area]] {i + 1}"
    if not isinstance(table, dict):
        problems.append(f"{where} must be a table")
        return None
    if isinstance(table.get("name"), str) and table["name"].strip():
        where = f"area '{table['name']}'"
    _unknown(table, _AREA_KEYS, where, problems)
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where} needs a name = \"…\" (the study area's name)")
        return None
    workspace = _path(base, table.get("workspace"), f"{where}: workspace", problems)
    if workspace is None:
        if "workspace" not in table:
            problems.append(f"{where} needs a workspace = \"FILE.gpkg\"")
        return None
    communities = table.get("communities", "auto")
    if communities not in ("auto", "osm", "blocks"):
        problems.append(f"{where}: communities must be auto, osm or blocks, not {communities!r}")
    crs = table.get("crs")
    if crs is not None and not isinstance(crs, str):
        problems.append(f"{where}: crs must be text such as \"EPSG:4548\"")
    osm = _path(base, table.get("osm"), f"{where}: osm", problems)
    if osm is None and ("bbox" in table or "boundary" in table):
        problems.append(f"{where}: bbox and boundary limit an OSM import; give osm = \"FILE.osm.pbf\" too")
    report = _path(base, table.get("report"), f"{where}: report", problems)
    if report is None and defaults["reports"] is not None:
        report = defaults["reports"] / f"{workspace.stem}.html"
    rules = _path(base, table.get("rules"), f"{where}: rules", problems) or defaults["rules"]
    analyses = _names(table.get("analyses"), f"{where}: analyses", problems)
    partitions = table.get("partitions")
    if partitions is not None:
        from .partition import grid_size

        try:
            grid_size(partitions if isinstance(partitions, str) else str(partitions))
        except InputError as exc:
            problems.append(f"{where}: {exc}")
    return Area(name=name.strip(), workspace=workspace, crs=crs, osm=osm,
                bbox=_bbox(table.get("bbox"), f"{where}: bbox", problems),
                boundary=_path(base, table.get("boundary"), f"{where}: boundary", problems),
                communities=str(communities),
                layers=_layer_inputs(base, table.get("layers"), f"{where}: [area.layers]", problems),
                rules=rules, analyses=analyses if analyses is not None else defaults["analyses"],
                report=report, lang=defaults["lang"], results=defaults["results"],
                partitions=str(partitions) if partitions is not None else None,
                isochrones=_isochrones(table.get("isochrones"), f"{where}: isochrones", problems)
                or defaults["isochrones"])


def _settings(base: Path, batch: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(batch, dict):
        problems.append("[batch] must be a table")
        batch = {}
    _unknown(batch, _BATCH_KEYS, "[batch]", problems)
    workers = batch.get("workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        problems.append(f"[batch] workers must be a whole number of 1 or more, not {workers!r}")
    timeout = batch.get("connect_timeout", 10)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout < 3600:
        problems.append(f"[batch] connect_timeout must be seconds (more than 0), not {timeout!r}")
        timeout = 10
    scheduler = batch.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        problems.append(f"[batch] scheduler must be an address such as \"tcp://HOST:8786\", not {scheduler!r}")
    memory = batch.get("memory_limit")
    if memory is not None and (not isinstance(memory, str | int) or not _is_memory(memory)):
        problems.append(f"[batch] memory_limit (--memory-limit) must be an amount of memory such as "
                        f"\"4GiB\" or \"500MB\", or \"auto\", not {memory!r}")
    lang = batch.get("lang", "zh")
    if lang not in ("zh", "en"):
        problems.append(f"[batch] lang must be zh or en, not {lang!r}")
    reports = batch.get("reports", "reports")
    if reports is False:
        reports_dir = None
    else:
        reports_dir = _path(base, reports, "[batch] reports", problems)
    results = batch.get("results", "results")
    results_dir = None if results is False else _path(base, results, "[batch] results", problems)
    database = batch.get("database")
    if database is not None:
        from ..postgis import is_url

        if not is_url(database):
            problems.append(f"[batch] database must be a URL such as \"postgresql://USER@HOST/DB\", "
                            f"not {database!r}")
        if results_dir is None:
            problems.append("[batch] database takes the combined results: leave results on")
    return {"scheduler": scheduler, "workers": workers, "memory_limit": memory,
            "connect_timeout": float(timeout), "lang": lang, "reports": reports_dir,
            "results": results_dir, "database": database,
            "rules": _path(base, batch.get("rules"), "[batch] rules", problems),
            "analyses": _names(batch.get("analyses"), "[batch] analyses", problems),
            "isochrones": _isochrones(batch.get("isochrones"), "[batch] isochrones", problems)}


def _is_memory(value: str | int) -> bool:
    """Whether dask reads ``value`` as a worker's memory limit ("4GiB", "500 MB", "auto", bytes)."""
    from dask.utils import parse_bytes

    if isinstance(value, bool):
        return False
    if isinstance(value, int) or value.strip().lower() == "auto":
        return True
    try:
        parse_bytes(value)
    except ValueError:
        return False
    return True


def _isochrones(value: Any, where: str, problems: list[str]) -> str | None:
    """The living circle's isochrone mode, checked (None when not given)."""
    from ..analysis.living_circle import ISOCHRONE_MODES

    if value is None:
        return None
    if value not in ISOCHRONE_MODES:
        problems.append(f"{where} must be one of {', '.join(ISOCHRONE_MODES)}, not {value!r}")
        return None
    return str(value)


def _check_unique(areas: list[Area], problems: list[str]) -> None:
    seen: dict[Any, str] = {}
    for a in areas:
        for what, key in (("name", ("name", a.name)), ("workspace", ("ws", a.workspace)),
                          ("report", ("report", a.report))):
            if key[1] is None:
                continue
            if key in seen and seen[key] != a.name:
                problems.append(f"areas '{seen[key]}' and '{a.name}' have the same {what} {key[1]}; "
                                "each area needs its own")
            elif key in seen:
                problems.append(f"two areas are named '{a.name}'; give each its own name")
            seen.setdefault(key, a.name)


def _raise(source: Path, problems: list[str]) -> None:
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise InputError(f"project file {source} has {len(problems)} problem(s):\n{lines}\n"
                         "Fix them and run the batch again (see `gcgeo batch --help` for the format).")


def _from_folder(folder: Path, settings: dict[str, Any]) -> Project:
    found = sorted(p for p in folder.glob("*.gpkg") if not p.name.startswith("."))
    if not found:
        raise InputError(f"folder {folder} holds no workspace (*.gpkg); give a project file or a "
                         "folder of gcgeo workspaces.")
    reports = settings["reports"]
    areas = tuple(Area(name=p.stem, workspace=p.resolve(), rules=settings["rules"],
                       analyses=settings["analyses"], lang=settings["lang"],
                       report=reports / f"{p.stem}.html" if reports is not None else None,
                       results=settings["results"], isochrones=settings["isochrones"])
                  for p in found)
    return Project(source=folder, areas=areas, scheduler=settings["scheduler"],
                   workers=settings["workers"], memory_limit=settings["memory_limit"],
                   connect_timeout=settings["connect_timeout"], results=settings["results"],
                   database=settings["database"])


def read_project(path: str | os.PathLike, **overrides: Any) -> Project:
    """Read a project file (or a folder of workspaces) and check all of it at once.

    ``overrides`` replace ``[batch]`` settings (the command line's options):
    ``scheduler``, ``workers``, ``memory_limit``, ``connect_timeout``,
    ``analyses``, ``rules``, ``reports``, ``lang``, ``results``, ``database``; None leaves a setting as the
    file has it.  Every problem found is listed in one
    :class:`~gcgeo.InputError`.
    """
    path = Path(path)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if path.is_dir():
        base, doc = path, {}
    elif not path.exists():
        raise InputError(f"project file {path} does not exist; give a .toml project file or a "
                         "folder of workspaces.")
    else:
        base = path.parent
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"project file {path} is not valid TOML: {exc}. Fix it and run the "
                             "batch again.") from None
    problems: list[str] = []
    for key in sorted(set(doc) - {"batch", "area"}):
        problems.append(f"unknown table [{key}] (a project file has [batch] and [[area]])")
    batch = dict(doc.get("batch", {})) if isinstance(doc.get("batch", {}), dict) else doc["batch"]
    if isinstance(batch, dict):
        if "analyses" in overrides:
            overrides["analyses"] = list(overrides["analyses"])
        batch.update({k: str(v) if isinstance(v, Path) else v for k, v in overrides.items()})
    settings = _settings(Path.cwd() if path.is_dir() else base, batch, problems)
    if path.is_dir():
        _raise(path, problems)
        if settings["reports"] is not None and "reports" not in overrides:
            settings["reports"] = path.resolve() / "reports"
        if settings["results"] is not None and "results" not in overrides:
            settings["results"] = path.resolve() / "results"
        return _from_folder(path, settings)
    tables = doc.get("area")
    if not isinstance(tables, list) or not tables:
        problems.append("no study area: add one [[area]] table per area, with name and workspace")
        tables = []
    areas = [a for i, t in enumerate(tables) if (a := _area(base, i, t, settings, problems))]
    _check_unique(areas, problems)
    _raise(path, problems)
    return Project(source=path, areas=tuple(areas), scheduler=settings["scheduler"],
                   workers=settings["workers"], memory_limit=settings["memory_limit"],
                   connect_timeout=settings["connect_timeout"], results=settings["results"],
                   database=settings["database"])
