"""Planning questions on the living circle: where to build, and what a change would do.

:mod:`~gcgeo.planning.state` loads what the living circle knows about a study
area once (:func:`load_state`); :mod:`~gcgeo.planning.siting` chooses the sites
that bring the most unserved residents within reach (:func:`site`), and
:mod:`~gcgeo.planning.whatif` recomputes only what a change touches
(:func:`whatif`).
"""

from __future__ import annotations

from .state import LivingCircleState, load_state

__all__ = ["LivingCircleState", "load_state"]
