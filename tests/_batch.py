"""Study areas for the batch tests: a synthetic county per seed, as a workspace."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from gcgeo import workspace as ws
from gcgeo.testing import SyntheticCounty, synthetic_county


def county_workspace(path: Path, seed: int, *, name: str, leave_out: Container[str] = ()
                     ) -> SyntheticCounty:
    """Write the two-community synthetic county of ``seed`` as a workspace at ``path``
    (every layer but those in ``leave_out``) and return the county."""
    county = synthetic_county(seed, n_communities=2)
    ws.init(path, name=name, crs=county.crs.to_string())
    for kind, frame in county.layers.items():
        if kind not in leave_out:
            ws.add_layer(path, kind, frame)
    return county


def areas_toml(names_and_files: list[tuple[str, str]]) -> str:
    """``[[area]]`` tables naming each area and its workspace file."""
    return "\n".join(f'[[area]]\nname = "{n}"\nworkspace = "{f}"\n' for n, f in names_and_files)
