"""One study area's work: import its inputs, run its analyses, write its report.

:func:`run_area` is the task a batch runs once per area, on whichever worker
the scheduler picks.  It is the only writer of the area's workspace in a
batch (the workspace lock guards it against anything else), and it does
only what is out of date:

- an input (the OSM extract, a vector file) is imported again when the file
  or its options changed since it was last imported (their state is kept in
  the workspace's metadata under ``batch:input:…``);
- an analysis runs when it never ran, when :func:`gcgeo.pipeline.stale`
  says its inputs or rules changed since, or when it ran with another rules
  file than the area's;
- the report is written when it is missing or older than the workspace;
- the output layers' GeoParquet files (:mod:`.results`) likewise.

An area with ``partitions`` runs its living circle and green service radius in
that many pieces (:mod:`.partition`, :mod:`.partition_green`), as tasks of their own on the same cluster while the
area's task waits for them (``distributed.worker_client``).

Errors gcgeo raises on purpose end the area with their message; any other
exception is a fault and ends it with its type.  Either way the result
says what was done before it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import GcgeoError
from .project import Area, LayerInput

log = logging.getLogger(__name__)

__all__ = ["AreaResult", "run_area"]

#: workspace metadata key of an imported input's state
INPUT_KEY = "batch:input:"


@dataclass
class AreaResult:
    """What :func:`run_area` did for one area.

    ``status`` is ``"done"`` (something was imported, analysed or reported),
    ``"unchanged"`` (everything was current) or ``"failed"`` (``error`` says
    why; what was done before is listed all the same).
    """

    name: str
    workspace: Path
    status: str = "done"
    imported: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    #: analyses not run for want of layers: name → the layer kinds missing
    skipped: dict[str, list[str]] = field(default_factory=dict)
    report: Path | None = None
    results: list[str] = field(default_factory=list)
    error: str | None = None
    fault: bool = False
    seconds: float = 0.0


def _file_state(path: Path) -> dict[str, Any]:
    try:
        st = path.stat()
    except OSError:
        return {"path": str(path), "size": None, "mtime_ns": None}
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _digest(state: Any) -> str:
    text = json.dumps(state, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _osm_state(area: Area) -> str:
    return _digest({"file": _file_state(area.osm) if area.osm else None, "bbox": area.bbox,
                    "boundary": _file_state(area.boundary) if area.boundary else None,
                    "communities": area.communities})


def _layer_state(item: LayerInput) -> str:
    return _digest({"file": _file_state(item.file), "options": item.options})


def _stored(workspace: Path) -> dict[str, Any]:
    from .. import workspace as ws

    return ws.info(workspace) if workspace.exists() else {}


def _import_osm(area: Area, osm_file: Path, digest: str) -> list[str]:
    import shapely

    from .. import io, osm
    from .. import workspace as ws

    limit = None
    if area.boundary is not None:
        limit = shapely.union_all(io.read_vector(area.boundary).to_crs("EPSG:4326").geometry.values)
    frames = osm.read_osm(osm_file, bbox=area.bbox, boundary=limit, communities=area.communities)
    with ws.creating(area.workspace) as new:  # a failed import leaves no empty workspace
        if new:
            ws.init(area.workspace, name=area.name, crs=area.crs)
        ws.write_layers(area.workspace, frames, kind={k: k for k in frames}, source=str(osm_file),
                        meta={f"{INPUT_KEY}osm": digest})
    return list(frames)


def _add_layer(area: Area, item: LayerInput, digest: str) -> None:
    from .. import io
    from .. import workspace as ws

    opts = item.options
    gdf = io.read_vector(item.file, layer=opts.get("layer"), encoding=opts.get("encoding"),
                         src_crs=opts.get("src_crs"), x=opts.get("x"), y=opts.get("y"),
                         sheet=opts.get("sheet"))
    with ws.creating(area.workspace) as new:
        if new:
            ws.init(area.workspace, name=area.name, crs=area.crs)
        ws.add_layer(area.workspace, item.kind, gdf, columns=opts.get("columns"), source=item.file,
                     source_layer=opts.get("layer"), src_crs=opts.get("src_crs"), overwrite=True)
        # the layer and the note of its state are two writes: if the second is lost, the next
        # run imports the file again, which changes nothing
        ws.write_layers(area.workspace, {}, meta={f"{INPUT_KEY}{item.kind}": digest})


def import_inputs(area: Area, *, force: bool = False) -> list[str]:
    """Import the area's inputs that changed since they were last imported; their names."""
    meta = _stored(area.workspace)
    done: list[str] = []
    if area.osm is not None:
        digest = _osm_state(area)
        if force or meta.get(f"{INPUT_KEY}osm") != digest:
            _import_osm(area, area.osm, digest)
            done.append(f"osm {area.osm.name}")
            force = True  # the OSM layers replaced any layer added over them
    for item in area.layers:
        digest = _layer_state(item)
        if force or meta.get(f"{INPUT_KEY}{item.kind}") != digest:
            _add_layer(area, item, digest)
            done.append(item.kind)
    return done


def analyses_due(area: Area, *, force: bool = False) -> tuple[list[str], list[str]]:
    """The area's analyses to run now, and those whose stored results are current.

    Without an ``analyses`` list the area runs every registered analysis whose
    required layers its workspace has; with one, exactly those (an analysis
    lacking a layer then fails the area, naming the layer).
    """
    from .. import analysis as _analysis
    from .. import pipeline

    present = pipeline.inventory_kinds(area.workspace)
    descs = _analysis.descriptors()
    if area.analyses is None:
        wanted = [n for n, d in descs.items() if all(k in present for k in d.requires)]
    else:
        wanted = list(area.analyses)
    stale = pipeline.stale(area.workspace)
    rules = str(area.rules) if area.rules is not None else None
    due, current = [], []
    for name in wanted:
        last = pipeline.last_run(area.workspace, name)
        if force or last is None or name in stale or last["rules_file"] != rules \
                or _isochrones(last["options"]) != _options(area, name):
            due.append(name)
        else:
            current.append(name)
    return due, current


def analyses_skipped(area: Area) -> dict[str, list[str]]:
    """The analyses the area does not run for want of layers, each with the layer kinds
    its workspace lacks (none when the area lists its ``analyses``: those it must run)."""
    from .. import analysis as _analysis
    from .. import pipeline

    if area.analyses is not None:
        return {}
    present = pipeline.inventory_kinds(area.workspace)
    missing = {n: [k for k in d.requires if k not in present]
               for n, d in _analysis.descriptors().items()}
    return {n: kinds for n, kinds in missing.items() if kinds}


def report_due(area: Area) -> bool:
    """True when the area's report is missing or older than its workspace."""
    if area.report is None:
        return False
    try:
        return area.report.stat().st_mtime_ns < area.workspace.stat().st_mtime_ns
    except FileNotFoundError:
        return True


@contextlib.contextmanager
def _cluster() -> Iterator[Any]:
    """The cluster this task runs on (None outside a dask worker): its task steps
    aside from the worker's thread while the partitions it submits run."""
    try:
        from distributed import get_worker, worker_client

        get_worker()
    except (ImportError, ValueError):
        yield None
        return
    with worker_client() as client:
        yield client


def _run(area: Area, name: str) -> None:
    """Run analysis ``name`` on the area's workspace, in partitions where the area asks."""
    from .. import pipeline
    from . import partition, partition_green

    # the analyses that walk from every home
    split: dict[str, Any] = {"living_circle": partition.living_circle, "green": partition_green.green}
    if area.partitions is None or name not in split:
        pipeline.run_analysis(area.workspace, name, rules=area.rules, **_options(area, name))
        return
    with _cluster() as client:
        runner = functools.partial(split[name], partitions=area.partitions, client=client)
        pipeline.run_analysis(area.workspace, name, rules=area.rules, runner=runner,
                              **_options(area, name))


def _options(area: Area, name: str) -> dict[str, Any]:
    """The options the area gives analysis ``name`` (the living circle's isochrones)."""
    return _isochrones({"isochrones": area.isochrones} if name == "living_circle" else {})


def _isochrones(options: dict[str, Any]) -> dict[str, Any]:
    """The isochrones ``options`` ask for (none for "none" or none given): the one option
    a batch gives, so a stored run made with others by hand is not redone for them."""
    mode = options.get("isochrones")
    return {"isochrones": mode} if mode not in (None, "none") else {}


def run_area(area: Area, *, force: bool = False) -> AreaResult:
    """Bring one study area up to date: inputs, analyses, report (see the module's text)."""
    from ..report import report_workspace

    result = AreaResult(name=area.name, workspace=area.workspace)
    start = time.perf_counter()
    try:
        result.imported = import_inputs(area, force=force)
        due, result.current = analyses_due(area, force=force)
        result.skipped = analyses_skipped(area)
        for name, kinds in result.skipped.items():
            log.info("%s: %s skipped: no %s layer", area.name, name, ", ".join(kinds))
        for name in due:
            log.info("%s: running %s", area.name, name)
            _run(area, name)
            result.ran.append(name)
        if area.report is not None and (force or result.ran or result.imported or report_due(area)):
            report_workspace(area.workspace, area.report, lang=area.lang, overwrite=True)
            result.report = area.report
        if area.results is not None and area.workspace.exists():
            from .results import write_area_results

            result.results = write_area_results(area.workspace, area.name, area.results,
                                                force=force)
        if not (result.imported or result.ran or result.report or result.results):
            result.status = "unchanged"
    except GcgeoError as exc:
        result.status, result.error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - one area's fault must not end the others
        log.exception("%s: fault", area.name)
        result.status, result.error, result.fault = "failed", f"{type(exc).__name__}: {exc}", True
    result.seconds = time.perf_counter() - start
    return result
