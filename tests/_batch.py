"""Study areas for the batch tests and the pages' language tests: a synthetic county per seed,
as a workspace, analysed or not."""

from __future__ import annotations

from collections.abc import Container, Iterable
from pathlib import Path

from gcgeo import analysis
from gcgeo import workspace as ws
from gcgeo.pipeline import run_analysis
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


def analysed_county(path: Path, seed: int, *, name: str, leave_out: Container[str] = (),
                    analyses: Iterable[str] | None = None) -> list[str]:
    """:func:`county_workspace` at ``path`` with ``analyses`` run on it (every registered one by
    default), each whose required layers are all there; returns the analyses run."""
    county_workspace(path, seed, name=name, leave_out=leave_out)
    ran = [n for n in (analysis.names() if analyses is None else analyses)
           if not set(analysis.get(n).requires) & set(leave_out)]
    for n in ran:
        run_analysis(path, n)
    return ran


def areas_toml(names_and_files: list[tuple[str, str]]) -> str:
    """``[[area]]`` tables naming each area and its workspace file."""
    return "\n".join(f'[[area]]\nname = "{n}"\nworkspace = "{f}"\n' for n, f in names_and_files)
