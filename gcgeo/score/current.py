"""Whether the stored scorecard still holds, and the scorecard to show when it does not.

A stored scorecard is a result like an analysis's: it says what the
analyses' results said when ``gcgeo score`` ran.  When one of those
analyses has run again since, or its results have gone stale (an input
replaced with ``gcgeo add --overwrite``, its rules edited), the stored
statuses no longer hold: a criterion met by results that are now stale is
not known to be met.  :func:`changed` says which analyses changed since the
scorecard was stored; :func:`current` gives the scorecard tables a dossier or
report shows — the stored ones while they hold, else the scorecard computed
again from the workspace with the stored attestations, assessment date and
rules (stale results then unknown, marked stale, with the command refreshing
them) — and the warnings to print.  It stores nothing: ``gcgeo score`` does.

>>> from gcgeo.testing import synthetic_county
>>> import tempfile, pathlib
>>> from gcgeo import workspace as ws, score as sc
>>> path = pathlib.Path(tempfile.mkdtemp()) / "c.gpkg"
>>> county = synthetic_county(0)
>>> _ = ws.init(path, name="demo", crs=county.crs)
>>> for kind, frame in county.layers.items():
...     _ = ws.add_layer(path, kind, frame)
>>> _ = sc.store(path, sc.score(path, as_of="2022-06-30"))
>>> changed(path)
{}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import WorkspaceError
from ..values import is_yes
from .criteria import measuring
from .measured import run_time
from .store import HISTORY, INPUTS, with_history

__all__ = ["Current", "changed", "current"]

#: The stored layers a scorecard shows (as :func:`gcgeo.score.store` writes them).
SHOWN = ("scorecard", "score_communities", "score_county", HISTORY)


@dataclass
class Current:
    """The scorecard tables to show (:func:`current`)."""

    #: ``scorecard``, ``score_communities``, ``score_county`` and ``score_history`` by name.
    tables: dict[str, Any]
    #: Analysis → what changed since the scorecard was stored (empty when it holds).
    changed: dict[str, str] = field(default_factory=dict)
    #: Sentences to print: the scorecard computed again, evidence computed as of another day.
    warnings: list[str] = field(default_factory=list)

    @property
    def rescored(self) -> bool:
        """Whether the tables were computed again (the stored scorecard no longer holds)."""
        return bool(self.changed)


def _recorded(meta: Mapping[str, Any], card: pd.DataFrame | None) -> dict[str, Any]:
    """What the stored scorecard was computed from: ``score:inputs`` as stored, or, for a
    scorecard stored before it was kept, what its rows tell (the run times they name, and
    an analysis stale when every row it measured is marked stale)."""
    try:
        kept = json.loads(meta.get(INPUTS) or "{}")
    except ValueError:
        kept = {}
    if isinstance(kept, dict) and isinstance(kept.get("analyses"), dict):
        return kept
    analyses: dict[str, dict[str, Any]] = {}
    if card is not None and len(card) and {"analysis", "ran_at", "stale"} <= set(card.columns):
        names = card["analysis"].astype("string").fillna("").str.split("; ")
        times = card["ran_at"].astype("string").fillna("").str.split("; ")
        stale = card["stale"].map(is_yes)
        for pairs in measuring().values():
            for desc, _ in pairs:
                mine = names.map(lambda ns, n=desc.name: n in ns)
                if not mine.any():
                    continue
                now = run_time(meta, desc.name)
                seen = {t for ts in times[mine] for t in ts if t}
                analyses[desc.name] = {"ran": now if not now or now in seen else "(another run)",
                                       "stale": bool(stale[mine].all())}
    return {"as_of": str(meta.get("score:as_of") or ""), "analyses": analyses}


def changed(workspace: str | os.PathLike, *, meta: Mapping[str, Any] | None = None,
            card: pd.DataFrame | None = None) -> dict[str, str]:
    """Analyses measuring criteria whose results changed since the scorecard was stored:
    analysis → what changed (it ran again; its results went stale, or are no longer).
    Empty when the stored scorecard holds, or none is stored.  ``meta`` and ``card`` (the
    stored ``scorecard`` layer), when given, spare reading them."""
    from .. import workspace as ws
    from ..pipeline import stale, stale_message

    meta = ws.info(workspace) if meta is None else meta
    if not meta.get("score:as_of"):
        return {}
    if card is None and INPUTS not in meta:
        card = pd.DataFrame(ws.read_layer(workspace, "scorecard"))
    was = _recorded(meta, card).get("analyses", {})
    now_stale = stale(workspace)
    out: dict[str, str] = {}
    for pairs in measuring().values():
        for desc, _ in pairs:
            name = desc.name
            if name in out:
                continue
            before = was.get(name, {"ran": "", "stale": False})
            ran = run_time(meta, name)
            if ran != str(before.get("ran") or ""):
                out[name] = (f"the '{name}' analysis has run since ({ran})" if ran
                             else f"the '{name}' results are gone")
            elif name in now_stale and not before.get("stale"):
                out[name] = stale_message(workspace, name, now_stale[name])
            elif name not in now_stale and before.get("stale"):
                out[name] = f"the '{name}' results are no longer stale"
    return out


def current(workspace: str | os.PathLike, *, layers: Mapping[str, Any] | None = None,
            lang: str = "zh") -> Current | None:
    """The scorecard tables to show for the workspace, None when none is stored.

    The stored tables while they hold (:func:`changed` is empty); else the scorecard
    computed again as :func:`gcgeo.score.score` computes it, with the stored
    attestations, assessment date and rules, its communities in place of the stored
    ones of the same date in ``score_history``.  ``layers``, the workspace's layers when
    already read, spare reading them again.
    """
    from .. import workspace as ws
    from .scorecard import score

    meta = ws.info(workspace)
    if not meta.get("score:as_of"):
        return None
    present = set(ws.list_layers(workspace, counts=False)["layer"].astype(str))
    wanted = [k for k in (*SHOWN, "score_attestations") if k in present]
    stored = {k: layers[k] for k in wanted if layers is not None and k in layers}
    stored.update(ws.read_layers(workspace, [k for k in wanted if k not in stored]))
    if "scorecard" not in stored:
        return None
    recorded = _recorded(meta, pd.DataFrame(stored["scorecard"]))
    what = changed(workspace, meta=meta, card=pd.DataFrame(stored["scorecard"]))
    if not what:
        return Current({k: stored[k] for k in SHOWN if k in stored}, {}, list(recorded.get("warnings") or []))
    as_of = str(recorded.get("as_of") or meta["score:as_of"])
    rules: Any = recorded.get("rules") or recorded.get("rules_file")
    again = f"gcgeo score {workspace} --as-of {as_of}"
    why = "; ".join(w.rstrip(".") for w in what.values())
    if recorded.get("rules_file"):
        if not Path(recorded["rules_file"]).is_file():
            raise WorkspaceError(
                f"the scorecard stored in {workspace} no longer holds ({why}), and the "
                f"rules file it was scored with, {recorded['rules_file']}, is gone; score again with "
                f"`{again} --rules FILE`.")
        again += f" --rules {recorded['rules_file']}"
    att = stored.get("score_attestations")
    card = score(workspace, attestations=att if att is not None and len(att) else None, as_of=as_of,
                 rules=rules, lang=lang)
    past = pd.DataFrame(stored[HISTORY]) if HISTORY in stored else pd.DataFrame()
    tables = {**{k: v for k, v in card.tables().items() if k in SHOWN}, HISTORY: with_history(past, card)}
    note = (f"the scorecard stored in {workspace} (as of {as_of}) no longer holds: "
            f"{why}. Shown as the results stand now (stale results "
            f"unknown); store it with `{again}`.")
    return Current(tables, what, [note, *card.warnings])
