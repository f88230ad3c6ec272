"""Independent answers the tests compare gcgeo with."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd


def assert_nearest_equal_networkx(got: pd.DataFrame, G: nx.Graph, sources, cutoff: float) -> None:
    """``got`` (nearest_facility_distance's frame) equals networkx's multi-source
    Dijkstra for every category: the same nodes reached, the same distances."""
    for cat, src in sources.items():
        want = nx.multi_source_dijkstra_path_length(G, set(src), cutoff=cutoff, weight="length")
        col = got[cat].dropna()
        assert set(col.index) == set(want)
        np.testing.assert_allclose(col.loc[list(want)].to_numpy(), list(want.values()), atol=1e-9)
