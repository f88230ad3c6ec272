"""Analyses: one module per question, pure functions over GeoDataFrames.

Each module exposes ``run(layers, *, rules=None, progress=None, **options)``
returning its output layers by name, and ``summary(outputs)`` giving one row
per community.  :func:`run_in_workspace` reads a workspace's inventory, runs
one analysis and stores its outputs there in one atomic step.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import inspect
import json
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
    """Analyses whose stored results predate a change to something they read.

    Maps each such analysis (by its command-line name) to what changed since
    it last ran: the input layers added or replaced (``gcgeo add
    --overwrite``, ``gcgeo import-osm --overwrite``, ``gcgeo validate
    --fix``), then ``"rules file NAME"`` when the tables it reads in the
    rules file it ran with were edited, ``"built-in rules"`` when gcgeo's own
    rules changed (a new version), and ``"raster NAME"`` when the raster
    changed, was attached or was removed.  Their results still describe the
    old inputs until ``gcgeo analyze`` runs again.
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
        changed += _changed_inputs(name, meta)
        if changed:
            out[name] = changed
    return out


def stale_message(workspace: str | os.PathLike, name: str, changed: list[str]) -> str:
    """One line telling the planner what is stale and the command that refreshes it."""
    from .. import workspace as ws

    rules_file = _ran_with(name, ws.info(workspace)).get("rules_file")
    again = f" --rules {rules_file}" if rules_file else ""
    return (f"the '{name}' results predate changes to {', '.join(changed)}; run "
            f"`gcgeo analyze {workspace} {name}{again}` again to bring them up to date.")


# --------------------------------------------------------------------------
# what results depend on besides their layers: rules and a raster


def _digest(tree: Any) -> str:
    text = json.dumps(tree, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rules_state(name: str, rules_file: str | os.PathLike | None) -> dict[str, Any]:
    """Digests of the rule tables analysis ``name`` reads: built in, and from ``rules_file``.

    Only the tables of its rule sets count, parsed, so an edit to another
    analysis's table or to a comment leaves the results current.  The user
    digest is None when the file is gone or unreadable.
    """
    from .. import rules as _rules

    sets = module(name).RULE_SETS
    state: dict[str, Any] = {"builtin_rules": _digest({n: _rules.load(n) for n in sets}),
                             "rules_file": None, "user_rules": None}
    if rules_file is not None:
        path = Path(rules_file).resolve()
        state["rules_file"] = str(path)
        try:
            tree = _rules._read_toml(path, "as rules override")
        except _rules.RulesError:
            return state
        state["user_rules"] = _digest({n: tree.get(n) for n in sets})
    return state


def _file_state(path: str | os.PathLike) -> dict[str, Any]:
    """A file's resolved path, size and modification time (None when it is gone)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError:
        return {"path": str(p), "size": None, "mtime_ns": None}
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _ran_with(name: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The rules and raster analysis ``name`` last ran with ({} before this was kept)."""
    try:
        was = json.loads(meta.get(f"analysis:{name}:inputs") or "{}")
    except ValueError:
        return {}
    return was if isinstance(was, dict) else {}


def _changed_inputs(name: str, meta: dict[str, Any]) -> list[str]:
    """What changed, besides layers, since analysis ``name`` ran (see :func:`stale`)."""
    was = _ran_with(name, meta)
    if not was:
        return []
    now = _rules_state(name, was.get("rules_file"))
    out = []
    if was.get("rules_file") and now["user_rules"] != was.get("user_rules"):
        out.append(f"rules file {Path(was['rules_file']).name}")
    if now["builtin_rules"] != was.get("builtin_rules"):
        out.append("built-in rules")
    if "raster" in was:
        used = was["raster"]
        attached = meta.get("rasters", {}).get("raster")
        if was.get("raster_attached") or used is None:
            # the run took the workspace's raster (or had none): is it another now?
            swapped = (attached or {}).get("path") != (used or {}).get("path")
        else:
            swapped = False
        if swapped or (used is not None and _file_state(used["path"]) != used):
            what = (used or attached or {}).get("path", "")
            out.append(f"raster {Path(what).name}" if what else "raster")
    return out


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
    ran_with = _rules_state(name, rules)
    if name == "green":
        ran_with["raster_attached"] = "raster" not in options
    if name == "green" and "raster" not in options:
        stored = ws.info(workspace)["rasters"].get("raster")
        if stored:
            options["raster"] = stored["path"]
            for role in ("red", "nir"):
                if role in stored.get("bands", {}):
                    options.setdefault(role, stored["bands"][role])
    if name == "green":
        ran_with["raster"] = _file_state(options["raster"]) if options.get("raster") else None
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
    ws.write_layers(workspace, outputs, analysis=name, source=f"gcgeo analyze {name}",
                    meta={f"analysis:{name}:inputs": json.dumps(ran_with, ensure_ascii=False)})
    return outputs, mod.summary(outputs)
