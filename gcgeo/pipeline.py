"""Run an analysis on a workspace: read its inputs, run it, store its outputs.

The analyses themselves (:mod:`gcgeo.analysis`) are pure functions over
GeoDataFrames; this module is the one place that joins them to a workspace.
:func:`run_analysis` reads the layers an analysis declares, resolves its
rules once, fills a raster from the workspace where the analysis takes one,
runs it and writes its outputs in one atomic step together with what it ran
with (rule digests, the raster's state), so that :func:`stale` can later say
which stored results no longer match their inputs.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import analysis as _analysis
from . import rules as _rules
from ._errors import AnalysisError, RulesError

log = logging.getLogger(__name__)

__all__ = ["inventory_kinds", "last_run", "run_analysis", "run_rules", "stale", "stale_message"]


def _when(stamp: str) -> datetime.datetime | None:
    try:
        t = datetime.datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return t if t.tzinfo else t.astimezone()


def _meta_key(meta: Mapping[str, Any], name: str, suffix: str = "") -> str:
    """``analysis:NAME…`` as stored (workspaces before 0.2 spelt names with hyphens)."""
    key = f"analysis:{name}{suffix}"
    legacy = f"analysis:{name.replace('_', '-')}{suffix}"
    return legacy if key not in meta and legacy in meta else key


def stale(workspace: str | os.PathLike) -> dict[str, list[str]]:
    """Analyses whose stored results predate a change to something they read.

    Maps each such analysis to what changed since it last ran: the input
    layers added or replaced (``gcgeo add --overwrite``, ``gcgeo import-osm
    --overwrite``, ``gcgeo validate --fix``), then ``"rules file NAME"`` when
    the tables it reads in the rules file it ran with were edited,
    ``"built-in rules"`` when gcgeo's own rules changed (a new version), and
    ``"raster NAME"`` when the raster changed, was attached or was removed.
    Their results still describe the old inputs until ``gcgeo analyze`` runs
    again.
    """
    from . import layers as _layers
    from . import workspace as ws

    meta = ws.info(workspace)
    table = ws.list_layers(workspace, counts=False)
    added = {str(k): _when(v) for k, v in zip(table["layer"], table["added"])}
    out: dict[str, list[str]] = {}
    for name, desc in _analysis.descriptors().items():
        ran = _when(meta.get(_meta_key(meta, name), ""))
        if ran is None:
            continue
        changed = [k for k in _layers.KINDS
                   if k in desc.inputs and (when := added.get(k)) is not None and when > ran]
        changed += _changed_inputs(desc, meta)
        if changed:
            out[name] = changed
    return out


def last_run(workspace: str | os.PathLike | Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """When analysis ``name`` last ran on the workspace (or one whose metadata,
    :func:`gcgeo.workspace.info`, is given), and with which rules file.

    ``{"ran": ISO timestamp, "rules_file": absolute path or None, "options": the
    options given (``{}`` for none, and for runs stored before options were
    kept)}``, or None when its results were never stored.  :func:`stale` says whether those
    results still match their inputs; this says what the run was given, so a
    caller asking for another rules file knows the results are not its own.
    """
    from . import workspace as ws

    meta = workspace if isinstance(workspace, Mapping) else ws.info(workspace)
    ran = meta.get(_meta_key(meta, name))
    if not ran:
        return None
    was = _ran_with(name, meta)
    return {"ran": str(ran), "rules_file": was.get("rules_file"), "options": was.get("options", {})}


def run_rules(workspace: str | os.PathLike | Mapping[str, Any], name: str | _analysis.Analysis) -> _rules.Rules:
    """The rules analysis ``name`` (or its descriptor) last ran with: the built-in rules, with the rules file
    recorded with the run (:func:`last_run`) as it was then.

    ``workspace`` is a workspace or its metadata (:func:`gcgeo.workspace.info`).  What shows
    the thresholds of stored results (the report's table of them, the scorecard's threshold
    and clause) reads them here, so that it shows what the results were held against.  When
    that cannot be had again — the recorded rules file is gone or no longer valid, it was
    edited in a table the analysis reads, or the built-in rules changed since (a new gcgeo) —
    this is a :class:`RulesError` saying so, never the built-in rules in their place.  A run
    stored before gcgeo kept what it ran with (and none at all) reads the built-in rules.
    """
    from . import workspace as ws

    meta = workspace if isinstance(workspace, Mapping) else ws.info(workspace)
    desc = _analysis.get(name) if isinstance(name, str) else name
    was = _ran_with(desc.name, meta)
    path = was.get("rules_file")
    again = "run the analysis again"
    if path:
        resolved, problem = None, "is gone"
        if Path(path).is_file():
            try:
                resolved = _rules.resolve(desc.rule_sets, Path(path))
            except RulesError:
                problem = "is no longer valid"
            else:
                edited = was.get("user_rules") and \
                    _rules_state(desc, path, user=resolved)["user_rules"] != was["user_rules"]
                problem = "was edited since" if edited else ""
        if resolved is None or problem:
            raise RulesError(f"the rules file {path} that the {desc.name} analysis ran with {problem}, so the "
                             f"rules it applied (thresholds and clauses) are not shown: {again} "
                             "(gcgeo analyze … --rules FILE)")
        return resolved
    resolved = _rules.resolve(desc.rule_sets)
    if was.get("builtin_rules") and _rules_state(desc, None)["builtin_rules"] != was["builtin_rules"]:
        raise RulesError(f"the built-in rules changed since the {desc.name} analysis ran (a new gcgeo version), "
                         f"so the rules it applied (thresholds and clauses) are not shown: {again}")
    return resolved


def stale_message(workspace: str | os.PathLike, name: str, changed: list[str]) -> str:
    """One line telling the planner what is stale and the command that refreshes it."""
    from . import workspace as ws

    rules_file = _ran_with(name, ws.info(workspace)).get("rules_file")
    again = f" --rules {rules_file}" if rules_file else ""
    return (f"the '{name}' results predate changes to {', '.join(changed)}; run "
            f"`gcgeo analyze {workspace} {name}{again}` again to bring them up to date.")


# --------------------------------------------------------------------------
# what results depend on besides their layers: rules and rasters


def _digest(tree: Any) -> str:
    text = json.dumps(tree, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rules_state(desc: _analysis.Analysis, rules_file: str | os.PathLike | None,
                 user: _rules.Rules | None = None) -> dict[str, Any]:
    """Digests of the rule sets the analysis reads: built in, and with ``rules_file``.

    Only its rule sets count, as resolved, so an edit to another analysis's
    table or to a comment leaves the results current, in whichever form the
    file is written.  The user digest is None when the file is gone or no
    longer valid.  ``user``, the rules already resolved with ``rules_file``
    for a run, spares reading the file again.
    """
    sets = desc.rule_sets
    builtin = _rules.resolve(sets)
    state: dict[str, Any] = {"builtin_rules": _digest({n: builtin.digest(n) for n in sets}),
                             "rules_file": None, "user_rules": None}
    if rules_file is not None:
        path = Path(rules_file).resolve()
        state["rules_file"] = str(path)
        if user is None:
            try:
                user = _rules.resolve(sets, path)
            except RulesError:
                return state
        state["user_rules"] = _digest({n: user.digest(n) for n in sets})
    return state


def _file_state(path: str | os.PathLike) -> dict[str, Any]:
    """A file's resolved path, size and modification time (None when it is gone)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError:
        return {"path": str(p), "size": None, "mtime_ns": None}
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _ran_with(name: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The rules and rasters analysis ``name`` last ran with ({} before this was kept)."""
    try:
        was = json.loads(meta.get(_meta_key(meta, name, ":inputs")) or "{}")
    except ValueError:
        return {}
    return was if isinstance(was, dict) else {}


def _raster_changed(was: Mapping[str, Any], meta: Mapping[str, Any], raster: str) -> bool:
    key = "raster" if raster == "raster" else f"raster:{raster}"
    used = was.get(key)
    attached = meta.get("rasters", {}).get(raster)
    if was.get(f"{key}_attached", was.get("raster_attached")) or used is None:
        # the run took the workspace's raster (or had none): is it another now?
        if (attached or {}).get("path") != (used or {}).get("path"):
            return True
    return used is not None and _file_state(used["path"]) != used


def _changed_inputs(desc: _analysis.Analysis, meta: Mapping[str, Any]) -> list[str]:
    """What changed, besides layers, since the analysis ran (see :func:`stale`)."""
    was = _ran_with(desc.name, meta)
    if not was:
        return []
    now = _rules_state(desc, was.get("rules_file"))
    out = []
    if was.get("rules_file") and now["user_rules"] != was.get("user_rules"):
        out.append(f"rules file {Path(was['rules_file']).name}")
    if now["builtin_rules"] != was.get("builtin_rules"):
        out.append("built-in rules")
    for r in desc.rasters:
        key = "raster" if r.name == "raster" else f"raster:{r.name}"
        if key in was and _raster_changed(was, meta, r.name):
            used = was[key] or meta.get("rasters", {}).get(r.name) or {}
            what = used.get("path", "")
            out.append(f"raster {Path(what).name}" if what else "raster")
    return out


# --------------------------------------------------------------------------
# running


def _rasters(desc: _analysis.Analysis, stored: Mapping[str, Any], options: dict[str, Any],
             ran_with: dict[str, Any]) -> None:
    """Fill raster options from the workspace's attached rasters; note their state."""
    for r in desc.rasters:
        key = "raster" if r.name == "raster" else f"raster:{r.name}"
        ran_with[f"{key}_attached"] = r.option not in options
        if r.option not in options and stored.get(r.name):
            attached = stored[r.name]
            options[r.option] = attached["path"]
            for band in r.bands:
                if band in attached.get("bands", {}):
                    options.setdefault(band, attached["bands"][band])
        ran_with[key] = _file_state(options[r.option]) if options.get(r.option) else None


def inventory_kinds(workspace: str | os.PathLike) -> set[str]:
    """The layer kinds the workspace holds under their own name (the layers analyses read)."""
    from . import workspace as ws

    table = ws.list_layers(workspace, counts=False)
    return set(table.loc[table["layer"] == table["kind"], "kind"].astype(str))


def read_inputs(workspace: str | os.PathLike, desc: _analysis.Analysis, *,
                skip: tuple[str, ...] = (), graph_given: bool = False) -> dict[str, Any]:
    """The workspace's layers the analysis reads (only those: a workspace may hold
    large inventories it never looks at), but those in ``skip``.  A missing required
    layer is an error that names the command adding it; ``graph_given`` (a walking
    network passed as ``graph=``) stands for the streets."""
    from . import layers as _layers
    from . import workspace as ws

    present = inventory_kinds(workspace)
    missing = [k for k in desc.requires
               if k not in present and not (k == "streets" and graph_given)]
    if missing:
        how = "; ".join(f"`gcgeo add {workspace} {k} FILE`" for k in missing)
        raise AnalysisError(
            f"the '{desc.name}' analysis needs the layer(s) {', '.join(missing)}, which workspace "
            f"{workspace} does not have; add them with {how} or `gcgeo import-osm`.")
    wanted = [k for k in _layers.KINDS if k in desc.inputs and k in present and k not in skip]
    return ws.read_layers(workspace, wanted)


def _walks_streets(desc: _analysis.Analysis, options: Mapping[str, Any]) -> bool:
    """Whether the run walks the network of the workspace's streets: the analysis takes
    ``graph=`` (a network in place of the streets layer) and was given none."""
    return options.get("graph") is None and "graph" in {o.name for o in desc.options}


def _network_rules(resolved: _rules.Rules, options: Mapping[str, Any]) -> dict[str, Any]:
    from . import network

    join, split = options.get("join_tolerance"), options.get("split_crossings")
    return {"join_tolerance": float(join if join is not None else network.join_tolerance(resolved)),
            "split_crossings": bool(split if split is not None else network.split_crossings(resolved))}


def _read_with_network(workspace: str | os.PathLike, desc: _analysis.Analysis, resolved: _rules.Rules,
                       options: dict[str, Any], progress: Callable[[str], None] | None
                       ) -> tuple[Mapping[str, Any], Callable[[], Any] | None]:
    """The analysis's inputs; for one walking the streets, the network of the workspace's
    streets in ``options["graph"]``, built once per streets layer and network rules and kept
    beside the workspace (:mod:`gcgeo.network_cache`).  A network built now is kept by the function returned with the
    inputs, called once the results are stored: a failed run leaves nothing behind."""
    import pyogrio

    if not _walks_streets(desc, options) or "streets" not in {n for n, _ in pyogrio.list_layers(workspace)}:
        return read_inputs(workspace, desc, graph_given=options.get("graph") is not None), None
    from . import network_cache
    from . import workspace as ws

    rules = _network_rules(resolved, options)
    with ThreadPoolExecutor(1, thread_name_prefix="gcgeo-read") as pool:
        # the other layers are read (GDAL releases Python's lock) while the stored network is looked up
        reading = pool.submit(read_inputs, workspace, desc, skip=("streets",))
        key = network_cache.network_key(workspace, **rules)
        net = network_cache.stored_network(workspace, key)
        if net is None:
            streets = ws.read_layers(workspace, ["streets"])
        else:  # what every walk on it needs, made meanwhile: adjacency, snapping index
            net.csr()
            _ = net.snap_index
        inputs = reading.result()
    if net is not None:
        # the streets are read only if the analysis asks for them: an area facility (a park)
        # is reached where a street crosses its outline (living_circle.access_points)
        options["graph"] = net
        return _OnDemand(inputs, "streets", lambda: ws.read_layers(workspace, ["streets"])["streets"]), None
    if progress:
        progress("walking network")
    verified = network_cache.unchanged_since(workspace, key)  # the streets read are the key's
    options["graph"] = built = network_cache.build_network(streets["streets"], **rules)
    keep = None
    if verified:
        def keep() -> bool:
            return network_cache.keep_network(workspace, key, built)
    return {**streets, **inputs}, keep


def read_with_network(workspace: str | os.PathLike, name: str, *, rules: str | os.PathLike | None = None,
                      progress: Callable[[str], None] | None = None
                      ) -> tuple[Mapping[str, Any], Any, Callable[[], Any] | None]:
    """The layers analysis ``name`` reads and the walking network of the workspace's
    streets, as ``gcgeo analyze`` reads them (the network kept beside the workspace while
    the streets and the network rules of ``rules`` are unchanged): ``(layers, network,
    keep)``.  The network is None when the analysis walks no streets or the workspace
    has none; ``keep``, when not None, stores a network built now beside the workspace:
    call it once the command's results are stored."""
    desc = _analysis.get(name)
    resolved = _rules.resolve(desc.rule_sets, Path(rules) if rules is not None else None)
    options: dict[str, Any] = {}
    inputs, keep = _read_with_network(workspace, desc, resolved, options, progress)
    return inputs, options.get("graph"), keep


class _OnDemand(Mapping[str, Any]):
    """Layers as read, and one more (``name``) read by ``read`` the first time it is asked for."""

    def __init__(self, layers: Mapping[str, Any], name: str, read: Callable[[], Any]) -> None:
        self._layers, self._name, self._read = dict(layers), name, read

    def __getitem__(self, key: str) -> Any:
        if key == self._name and key not in self._layers:
            self._layers[key] = self._read()
        return self._layers[key]

    def __contains__(self, key: object) -> bool:
        return key == self._name or key in self._layers

    def __iter__(self) -> Iterator[str]:
        return iter([*self._layers, *([self._name] if self._name not in self._layers else [])])

    def __len__(self) -> int:
        return len(self._layers) + (self._name not in self._layers)


def _drawn(desc: _analysis.Analysis) -> set[str]:
    """The outputs a map draws: those with a map style, and those its views name (a view
    naming none draws every output with geometry)."""
    out = {o.name for o in desc.outputs if o.geometry and o.style}
    for view in desc.views:
        out |= {o.name for o in desc.outputs if o.geometry} if view.requires is None else set(view.requires)
    return out


def _typed(desc: _analysis.Analysis, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """``outputs`` with each layer left without rows declaring the geometry type its
    descriptor gives (:attr:`gcgeo.analysis.Output.geometry_type`), for the workspace to
    store it with; the frames are not changed."""
    declared = {o.name: o.geometry_type for o in desc.outputs if o.geometry_type}
    out = dict(outputs)
    for name, frame in outputs.items():
        if (name in declared and isinstance(frame, gpd.GeoDataFrame) and not len(frame)
                and not frame.attrs.get("geometry_type")):
            out[name] = frame.copy()
            out[name].attrs["geometry_type"] = declared[name]
    return out


def run_analysis(
    workspace: str | os.PathLike,
    name: str,
    *,
    rules: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    runner: Callable[..., dict[str, Any]] | None = None,
    **options: Any,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run analysis ``name`` on the workspace's inventory and store its outputs.

    Options left as ``None`` are dropped, so the analysis's own defaults (from
    its rules) apply; the rest are checked against the analysis's declared
    options.  Where the analysis takes a raster, one attached to the workspace
    (``gcgeo add WS raster FILE --red N --nir N``) is used unless one is given.
    ``runner`` computes the outputs in place of the analysis's own ``run``, taking
    the same arguments (e.g. :func:`gcgeo.batch.partition.living_circle` with its
    partitions bound), and is stored as the analysis's run.
    Returns the outputs and the per-community summary.
    """
    from . import workspace as ws

    desc = _analysis.get(name)
    options = desc.check_options(options)
    # results are as old as the inputs read at the start: a layer replaced while the
    # analysis runs makes them stale
    started = datetime.datetime.now(datetime.UTC).astimezone().isoformat(timespec="microseconds")
    # the rules of this run, resolved and checked once, passed down as one object
    resolved = _rules.resolve(desc.rule_sets, Path(rules) if rules is not None else None)
    ran_with = _rules_state(desc, rules, user=resolved if rules is not None else None)
    # the options given, as text, numbers and flags (a network passed in is not kept)
    ran_with["options"] = {k: v for k, v in options.items()
                           if k != "graph" and isinstance(v, str | int | float | bool)}
    _rasters(desc, ws.info(workspace)["rasters"], options, ran_with)
    if progress:
        progress("reading layers")
    if runner is None:
        inputs, keep_network = _read_with_network(workspace, desc, resolved, options, progress)
    else:  # a runner of its own (partitions) builds the networks it needs
        inputs, keep_network = read_inputs(workspace, desc,
                                           graph_given=options.get("graph") is not None), None
    outputs = (runner or desc.run)(inputs, rules=resolved, progress=progress, **options)
    if progress:
        progress("writing results")
    ws.write_layers(workspace, _typed(desc, outputs), analysis=desc.name, source=f"gcgeo analyze {desc.name}",
                    spatial_index=_drawn(desc), rules=resolved,
                    meta={f"analysis:{desc.name}": started,
                          f"analysis:{desc.name}:inputs": json.dumps(ran_with, ensure_ascii=False)})
    if keep_network is not None:
        keep_network()
    return outputs, desc.summary(outputs)
