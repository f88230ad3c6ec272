"""The layer inventory: one spec per layer kind, column mapping and validation.

>>> from gcgeo import layers
>>> layers.get_spec("chargers").column("kind").allowed
('car', 'e-bike')
"""

from __future__ import annotations

from .._errors import LayerError
from . import (
    buildings,
    chargers,
    communities,
    facilities,
    fire_lanes,
    garbage_points,
    green_space,
    heritage,
    manholes,
    obstructions,
    parking,
    ramps,
    streets,
)
from ._spec import COMMON_COLUMNS, Column, LayerSpec
from ._validate import (
    Problem,
    ValidationReport,
    coerce_columns,
    fix,
    guess_columns,
    map_columns,
    missing_columns,
    repair_geometry,
    require_unique_ids,
    row_numbers,
    single_parts,
    unused_columns,
    validate,
)
from .community_checks import check_communities

SPECS: dict[str, LayerSpec] = {
    m.SPEC.kind: m.SPEC
    for m in (
        communities,
        buildings,
        green_space,
        parking,
        chargers,
        manholes,
        ramps,
        streets,
        fire_lanes,
        obstructions,
        facilities,
        garbage_points,
        heritage,
    )
}

#: Layer kinds in inventory order.
KINDS: tuple[str, ...] = tuple(SPECS)


def get_spec(kind: str) -> LayerSpec:
    """The spec of layer kind ``kind``; a clear error lists the known kinds."""
    try:
        return SPECS[kind]
    except KeyError:
        raise LayerError(
            f"unknown layer kind '{kind}'; use one of: {', '.join(KINDS)}."
        ) from None


__all__ = [
    "COMMON_COLUMNS",
    "Column",
    "KINDS",
    "LayerSpec",
    "Problem",
    "SPECS",
    "ValidationReport",
    "check_communities",
    "coerce_columns",
    "fix",
    "get_spec",
    "guess_columns",
    "map_columns",
    "missing_columns",
    "repair_geometry",
    "require_unique_ids",
    "row_numbers",
    "single_parts",
    "unused_columns",
    "validate",
]
