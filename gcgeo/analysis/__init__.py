"""Analyses: one module per question, pure functions over GeoDataFrames.

Each analysis module ends with one descriptor, ``ANALYSIS =
Analysis(...)`` (see :mod:`gcgeo.analysis.contract`), and is listed once in
:data:`REGISTRY`.  Its ``run(layers, *, rules=None, progress=None,
**options)`` returns its output layers by name and never reads or writes a
file; :mod:`gcgeo.pipeline` joins it to a workspace.  The command line,
``gcgeo rules``, the report, the map and the labels are generated from the
descriptors.

>>> from gcgeo import analysis
>>> analysis.get("living-circle").name
'living_circle'
>>> "green_space" in analysis.get("green").requires
True
"""

from __future__ import annotations

import importlib

from .._errors import InputError
from .contract import Analysis, Criterion, Option, Output, RasterInput, ViewSpec

__all__ = [
    "REGISTRY",
    "Analysis",
    "Criterion",
    "Option",
    "Output",
    "RasterInput",
    "ViewSpec",
    "descriptors",
    "get",
    "names",
]

#: The analyses: modules of this package, each declaring ``ANALYSIS``.
#: Adding an analysis is one module and one line here.
REGISTRY: tuple[str, ...] = (
    "living_circle",
    "green",
    "fire_lanes",
    "property",
    "heritage",
    "garbage",
    "chargers",
    "ramps",
    "manholes",
    "supply",
)

_loaded: dict[str, Analysis] = {}


def names() -> list[str]:
    """The analyses' names, in registry order (no module is imported)."""
    return list(REGISTRY)


def canonical(name: str) -> str:
    """``name`` as the registry spells it; ``living-circle`` is accepted for ``living_circle``."""
    key = str(name).strip().replace("-", "_")
    if key not in REGISTRY:
        raise InputError(f"unknown analysis '{name}'; use one of: {', '.join(REGISTRY)}.")
    return key


def get(name: str) -> Analysis:
    """The descriptor of analysis ``name`` (its module is imported now)."""
    key = canonical(name)
    if key not in _loaded:
        desc = importlib.import_module(f"{__name__}.{key}").ANALYSIS
        if not isinstance(desc, Analysis) or desc.name != key:
            raise TypeError(f"gcgeo.analysis.{key}.ANALYSIS must be an Analysis named '{key}'")
        _loaded[key] = desc
    return _loaded[key]


def descriptors() -> dict[str, Analysis]:
    """Every registered analysis's descriptor, by name, in registry order."""
    return {n: get(n) for n in REGISTRY}
