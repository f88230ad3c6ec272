"""Keeping scorecards in the workspace, by assessment date.

:func:`store` writes a :class:`~gcgeo.score.Scorecard`'s tables
(``scorecard``, ``score_communities``, ``score_county``,
``score_attestations``) in one atomic step, and adds its communities to
``score_history``, replacing an earlier scorecard of the same ``as_of`` date,
so that :func:`gcgeo.score.progress` can show the county's share over time.
What the scorecard was computed from is kept in the metadata (``score:inputs``),
so that :func:`gcgeo.score.current` can tell when it no longer holds.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .scorecard import Scorecard

__all__ = ["HISTORY", "INPUTS", "LAYERS", "history", "store", "with_history"]

#: The layers a scorecard occupies in the workspace.
LAYERS = ("scorecard", "score_communities", "score_county", "score_attestations", "score_history")
#: The layer of every stored scorecard's communities, by ``as_of``.
HISTORY = "score_history"
#: The workspace metadata key keeping what the stored scorecard was computed from
#: (:attr:`gcgeo.score.Scorecard.inputs`, and its warnings).
INPUTS = "score:inputs"


def history(workspace: str | os.PathLike) -> pd.DataFrame:
    """``score_history`` of the workspace (an empty table before the first score)."""
    from .. import workspace as ws

    present = set(ws.list_layers(workspace, counts=False)["layer"].astype(str))
    if HISTORY not in present:
        return pd.DataFrame()
    return pd.DataFrame(ws.read_layer(workspace, HISTORY))


def store(workspace: str | os.PathLike, card: Scorecard) -> list[str]:
    """Write ``card`` to the workspace and add it to the history; returns the layers written."""
    from .. import workspace as ws

    tables = {**card.tables(), HISTORY: with_history(history(workspace), card)}
    stamp = _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds")
    inputs = json.dumps({**card.inputs, "warnings": card.warnings}, ensure_ascii=False, default=str)
    return ws.write_layers(Path(workspace), tables, source="gcgeo score",
                           meta={"score:as_of": card.as_of.isoformat(), "score:at": stamp, INPUTS: inputs})


def with_history(past: pd.DataFrame, card: Scorecard) -> pd.DataFrame:
    """``score_history`` ``past`` with ``card``'s communities in place of any of the same ``as_of``."""
    comm = card.communities
    now = pd.DataFrame(comm.drop(columns=comm.geometry.name) if isinstance(comm, gpd.GeoDataFrame) else comm)
    if len(past) and "as_of" in past.columns:
        past = past[past["as_of"].astype(str) != card.as_of.isoformat()]
        hist = pd.concat([past, now], ignore_index=True)
    else:
        hist = now
    return hist.sort_values(["as_of", "community_id"], kind="stable").reset_index(drop=True)
