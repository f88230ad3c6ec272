"""Keeping scorecards in the workspace, by assessment date.

:func:`store` writes a :class:`~gcgeo.score.Scorecard`'s tables
(``scorecard``, ``score_communities``, ``score_county``,
``score_attestations``) in one atomic step, and adds its communities to
``score_history``, replacing an earlier scorecard of the same ``as_of`` date,
so that :func:`gcgeo.score.progress` can show the county's share over time.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .scorecard import Scorecard

__all__ = ["HISTORY", "LAYERS", "history", "store"]

#: The layers a scorecard occupies in the workspace.
LAYERS = ("scorecard", "score_communities", "score_county", "score_attestations", "score_history")
#: The layer of every stored scorecard's communities, by ``as_of``.
HISTORY = "score_history"


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

    past = history(workspace)
    comm = card.communities
    now = pd.DataFrame(comm.drop(columns=comm.geometry.name) if isinstance(comm, gpd.GeoDataFrame) else comm)
    if len(past) and "as_of" in past.columns:
        past = past[past["as_of"].astype(str) != card.as_of.isoformat()]
        hist = pd.concat([past, now], ignore_index=True)
    else:
        hist = now
    hist = hist.sort_values(["as_of", "community_id"], kind="stable").reset_index(drop=True)
    tables = {**card.tables(), HISTORY: hist}
    stamp = _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds")
    return ws.write_layers(Path(workspace), tables, source="gcgeo score",
                           meta={"score:as_of": card.as_of.isoformat(), "score:at": stamp})
