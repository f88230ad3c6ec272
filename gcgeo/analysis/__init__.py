"""Analyses: one module per question, pure functions over GeoDataFrames.

Each module exposes ``run(layers, *, rules=None, progress=None, **options)``
returning its output layers by name, and ``summary(outputs)`` giving one row
per community.  :func:`run_in_workspace` reads a workspace's inventory, runs
one analysis and stores its outputs there in one atomic step.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import InputError

log = logging.getLogger(__name__)

#: analysis name (as on the command line) → module
ANALYSES: dict[str, str] = {
    "living-circle": "gcgeo.analysis.living_circle",
    "green": "gcgeo.analysis.green",
    "fire-lanes": "gcgeo.analysis.fire_lanes",
}

__all__ = ["ANALYSES", "module", "run_in_workspace", "stale"]


def module(name: str):
    """The module implementing analysis ``name``."""
    try:
        return importlib.import_module(ANALYSES[name])
    except KeyError:
        raise InputError(f"unknown analysis '{name}'; use one of: {', '.join(ANALYSES)}.") from None


def _when(stamp: str) -> datetime.datetime | None:
    try:
        t = datetime.datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return t if t.tzinfo else t.astimezone()


def stale(workspace: str | os.PathLike) -> dict[str, list[str]]:
    """Analyses whose stored results predate a change to a layer they read.

    Maps each such analysis (by its command-line name) to the input layers
    added or replaced since it last ran (``gcgeo add --overwrite``,
    ``gcgeo import-osm --overwrite``, ``gcgeo validate --fix``).  Their
    results still describe the old layers until ``gcgeo analyze`` runs again.
    """
    from .. import workspace as ws

    meta = ws.info(workspace)
    table = ws.list_layers(workspace)
    added = {str(k): _when(v) for k, v in zip(table["layer"], table["added"])}
    out: dict[str, list[str]] = {}
    for name in ANALYSES:
        ran = _when(meta.get(f"analysis:{name}", ""))
        if ran is None:
            continue
        changed = [k for k in module(name).INPUTS
                   if added.get(k) is not None and added[k] > ran]
        if changed:
            out[name] = changed
    return out


def stale_message(workspace: str | os.PathLike, name: str, changed: list[str]) -> str:
    """One line telling the planner what is stale and the command that refreshes it."""
    return (f"the '{name}' results predate changes to {', '.join(changed)}; run "
            f"`gcgeo analyze {workspace} {name}` again to bring them up to date.")


def run_in_workspace(
    workspace: str | os.PathLike,
    name: str,
    *,
    rules: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run analysis ``name`` on the workspace's inventory and store its outputs.

    Options left as ``None`` are dropped, so the analysis's own defaults (from
    its rules) apply.  For ``green`` a raster attached to the workspace
    (``gcgeo add WS raster FILE --red N --nir N``) is used unless one is given.
    Returns the outputs and the per-community summary.
    """
    from .. import layers as _layers
    from .. import workspace as ws

    mod = module(name)
    options = {k: v for k, v in options.items() if v is not None}
    accepted = inspect.signature(mod.run).parameters
    wrong = [k for k in options if k not in accepted]
    if wrong:
        raise InputError(
            f"option(s) {', '.join('--' + k.replace('_', '-') for k in wrong)} do not apply to the "
            f"'{name}' analysis; leave them out."
        )
    if name == "green" and "raster" not in options:
        stored = ws.info(workspace)["rasters"].get("raster")
        if stored:
            options["raster"] = stored["path"]
            for role in ("red", "nir"):
                if role in stored.get("bands", {}):
                    options.setdefault(role, stored["bands"][role])
    table = ws.list_layers(workspace)
    # only the layers the analysis reads: a workspace may hold large inventories
    # (manholes, chargers) that it never looks at
    wanted = [k for k in _layers.KINDS if k in mod.INPUTS]
    inventory = table[table["kind"].isin(wanted) & (table["layer"] == table["kind"])]
    inputs = ws.read_layers(workspace, [str(k) for k in inventory["kind"]])
    if progress:
        progress("reading layers")
    outputs = mod.run(inputs, rules=Path(rules) if rules is not None else None,
                      progress=progress, **options)
    if progress:
        progress("writing results")
    ws.write_layers(workspace, outputs, analysis=name, source=f"gcgeo analyze {name}")
    return outputs, mod.summary(outputs)
