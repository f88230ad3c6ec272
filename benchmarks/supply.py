"""Benchmark: facility supply and choice (every facility within reach, two-step floating
catchment) at city scale, beside the living circle's nearest-facility run on the same data.

Network: central Helsinki (OpenStreetMap, tests/data) tiled as in
``benchmarks/living_circle.py`` (``--size 160k``: 6 × 5 tiles, about 167k nodes).
Homes: 0.6 per node (about 100k), 30 residents each; facilities: 2,000 spread over
the living circle's categories, kindergartens with a ``places`` column.

Lines:

* **supply run** — ``supply.run`` from the streets layer (network built, homes and
  facilities snapped, one limited Dijkstra per facility, all tables).
* **reach pairs** — the per-facility searches alone (``network.reach_pairs`` for
  every category on the augmented network), with the number of pairs found; each
  facility is searched on the nodes near its chunk of neighbours (``xy`` given), and
  again with the facilities chunked in their given order.
* **living circle run** — ``living_circle.run`` (isochrones off) on the same layers:
  the nearest facility only. The ratio says what counting every facility costs.

Run: ``.venv/bin/python benchmarks/supply.py [--size helsinki|40k|160k]``
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from living_circle import CRS, helsinki_streets, tiled, timed  # noqa: E402

from gcgeo import rules  # noqa: E402
from gcgeo.analysis import living_circle, supply  # noqa: E402
from gcgeo.network import (  # noqa: E402
    augment,
    check_points,
    compile_network,
    locate_snaps,
    network_from_streets,
    reach_pairs,
    snap,
)

N_FACILITIES = 2000
HOME_SHARE = 0.6


def scenario(streets: gpd.GeoDataFrame, seed: int = 11):
    rng = np.random.default_rng(seed)
    net = compile_network(network_from_streets(streets))
    e = rng.integers(0, net.n_edges, int(HOME_SHARE * net.n_nodes))
    pts = shapely.line_interpolate_point(net.geometry[e], rng.random(len(e)), normalized=True)
    xy = shapely.get_coordinates(pts) + rng.normal(0, 15, size=(len(e), 2))
    homes = gpd.GeoDataFrame({"population": np.full(len(xy), 30.0)}, geometry=shapely.points(xy), crs=CRS)
    cats = [c for c, (t, d) in supply.category_reach(rules.load("living_circle")).items()]
    fe = rng.integers(0, net.n_edges, N_FACILITIES)
    fpts = shapely.line_interpolate_point(net.geometry[fe], rng.random(N_FACILITIES), normalized=True)
    fxy = shapely.get_coordinates(fpts) + rng.normal(0, 10, size=(N_FACILITIES, 2))
    cat = np.array(cats)[np.arange(N_FACILITIES) % len(cats)]
    fac = gpd.GeoDataFrame({"category": cat,
                            "places": np.where(cat == "kindergarten", rng.integers(60, 360, N_FACILITIES),
                                               np.nan)},
                           geometry=shapely.points(fxy), crs=CRS)
    return net, homes, fac


def pairs_only(net, homes, fac):
    r = supply.category_reach(rules.load("living_circle"))
    osnap = snap(net, check_points(net, homes.geometry, "homes"), 100)
    fsnap = snap(net, check_points(net, fac.geometry, "facilities"), 100)
    aug = augment(net, fsnap.reset_index(drop=True))
    where = locate_snaps(aug, osnap)
    cat = fac["category"].to_numpy()
    xy = shapely.get_coordinates(fac.geometry.to_numpy())

    def search(near: bool):
        return sum(len(reach_pairs(aug, where, aug.target_node[k], cutoff=d, xy=xy[k] if near else None))
                   for c, (_, d) in r.items() for k in [np.flatnonzero(cat == c)])

    return timed(lambda: search(True)), timed(lambda: search(False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="160k", choices=("helsinki", "40k", "160k"))
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    streets = helsinki_streets()
    streets = {"helsinki": streets, "40k": tiled(streets, 3, 3) if args.size == "40k" else None,
               "160k": tiled(streets, 6, 5) if args.size == "160k" else None}[args.size]
    net, homes, fac = scenario(streets)
    layers = {"streets": streets, "facilities": fac}
    print(f"{args.size}: {net.n_nodes:,} nodes, {len(homes):,} homes, {len(fac):,} facilities")
    t_sup, out = timed(lambda: supply.run(layers, origins=homes))
    (t_pairs, n_pairs), (t_order, _) = pairs_only(net, homes, fac)
    t_lc, _ = timed(lambda: living_circle.run(layers, origins=homes, isochrones="none"))
    print(f"  supply run            {t_sup:7.2f} s   ({len(out['supply_homes']):,} homes)")
    print(f"  reach pairs           {t_pairs:7.2f} s   ({n_pairs:,} home-facility pairs; neighbours "
          "searched together)")
    print(f"  the same, in the facilities' order  {t_order:7.2f} s")
    print(f"  living circle run     {t_lc:7.2f} s")
    print(f"  supply / living circle  {t_sup / t_lc:5.2f}")


if __name__ == "__main__":
    main()
