"""The county's answer: which communities meet the 16-criterion standard, and is it on target?

The Shandong Green Community standard (《山东省绿色社区创建标准（试行）》) has 16
criteria (:mod:`.criteria`, from the rule set ``score``).  Some are measured
by gcgeo's analyses — whichever declare them in their descriptors — and the
others are attested by street offices with evidence (:mod:`.attest`); a
criterion an analysis measures only in part needs both (:func:`decide`).
:func:`score` gives every community's status on every criterion, never
passing one without evidence, and the county's share against its targets
(30% by the end of 2021, 60% by the end of 2022 in Gaotang's plan);
:func:`store` keeps it in the workspace by assessment date, and :func:`current`
gives it as it stands when the stored one no longer holds (an analysis it read
has run again or gone stale).

>>> from gcgeo.testing import synthetic_county
>>> county = synthetic_county(0)
>>> card = score(county.layers, as_of="2022-06-30")
>>> card.scorecard["status"].unique().tolist()   # nothing has run and nothing is attested
['unknown']
>>> card.county[["target", "n_communities", "n_meeting", "communities_needed"]].values.tolist()
[['end_2021', 6, 0, 2], ['end_2022', 6, 0, 4]]
"""

from __future__ import annotations

from .attest import read as read_attestations
from .attest import write_template
from .criteria import Standard, StandardCriterion, Target, measuring
from .criteria import load as load_standard
from .current import Current, changed, current
from .scorecard import Scorecard, as_of_date, blocking, closest, county, decide, progress, score
from .store import history, store

__all__ = [
    "Current",
    "Scorecard",
    "Standard",
    "StandardCriterion",
    "Target",
    "as_of_date",
    "blocking",
    "changed",
    "closest",
    "county",
    "current",
    "decide",
    "history",
    "load_standard",
    "measuring",
    "progress",
    "read_attestations",
    "score",
    "store",
    "write_template",
]
