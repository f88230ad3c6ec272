"""Benchmark: a what-if against a full living-circle run, on the same city.

The city is the one ``benchmarks/living_circle.py`` builds: central Helsinki
(OpenStreetMap, tests/data) tiled 6 × 5 (about 167k nodes), 0.6 homes per
node, 10 categories at 0.4 % of the nodes each, with 1 km square communities.
Printed, best of 3 each (of 2 for loading the state):

* the full run: ``living_circle.run`` (isochrones off) on the changed inputs,
  which is what a planner reruns without what-if;
* loading the state once (``gcgeo.planning.load_state``: network, homes,
  facilities, distances), which ``gcgeo whatif`` does before the change;
* each change on the loaded state, with the comparison per community and
  tier: one new facility, ten new facilities, one facility removed, one
  street closed, one link opened (from a node to the middle of a street
  about 270 m away, which it cuts);

and the largest difference between the what-if's distances and the full
run's on the changed inputs (0 up to rounding).  The streets carry OSM node
ids, so the link's changed inputs are the streets layer the what-if made
(the link and the street it cuts as rows with node ids: what a planner
reruns it on).  The load average is printed before and after.

Run: ``.venv/bin/python benchmarks/whatif.py [--size 160k|40k|helsinki]``
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from living_circle import CRS, helsinki_streets, scenario, tiled, timed  # noqa: E402

from gcgeo.analysis import living_circle as lc  # noqa: E402
from gcgeo.planning import load_state  # noqa: E402
from gcgeo.planning.whatif import whatif  # noqa: E402


def communities(streets: gpd.GeoDataFrame, size: float = 1000.0) -> gpd.GeoDataFrame:
    xmin, ymin, xmax, ymax = streets.total_bounds
    xs = np.arange(xmin, xmax, size)
    ys = np.arange(ymin, ymax, size)
    boxes = [shapely.box(x, y, x + size, y + size) for x in xs for y in ys]
    return gpd.GeoDataFrame({"id": [f"C{i}" for i in range(len(boxes))],
                             "name": [f"C{i}" for i in range(len(boxes))]}, geometry=boxes, crs=CRS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="160k", choices=["helsinki", "40k", "160k"])
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    streets = helsinki_streets()
    streets = {"helsinki": streets, "40k": tiled(streets, 3, 3), "160k": tiled(streets, 6, 5)}[args.size]
    streets["id"] = [f"S{i}" for i in range(len(streets))]
    _, net, homes, facilities, _, _, r = scenario(streets)
    facilities["id"] = [f"F{i}" for i in range(len(facilities))]
    layers = {"streets": streets, "buildings": homes, "facilities": facilities,
              "communities": communities(streets)}
    print(f"city: {net.n_nodes:,} nodes, {net.n_edges:,} edges, {len(homes):,} homes, "
          f"{len(facilities):,} facilities, {len(layers['communities'])} communities")
    rng = np.random.default_rng(11)
    cats = list(dict.fromkeys(facilities["category"]))

    def points(n):
        e = rng.integers(0, net.n_edges, n)
        p = shapely.line_interpolate_point(net.geometry[e], rng.random(n), normalized=True)
        return gpd.GeoDataFrame({"category": [cats[i % len(cats)] for i in range(n)]},
                                geometry=shapely.points(shapely.get_coordinates(p) + 5.0), crs=CRS)

    one, ten = points(1), points(10)
    a = rng.integers(net.n_nodes)  # a node, and the middle of the street nearest 270 m from it
    mid = shapely.line_interpolate_point(net.geometry, 0.5, normalized=True)
    e = int(np.argmin(np.hypot(shapely.get_x(mid) - net.x[a] - 250, shapely.get_y(mid) - net.y[a] - 100)))
    link = gpd.GeoDataFrame(geometry=[shapely.LineString([(net.x[a], net.y[a]), mid[e]])], crs=CRS)
    changes = {
        "add 1 facility": ({"add_facility": one},
                           dict(layers, facilities=pd.concat([facilities, one], ignore_index=True))),
        "add 10 facilities": ({"add_facility": ten},
                              dict(layers, facilities=pd.concat([facilities, ten], ignore_index=True))),
        "remove 1 facility": ({"remove_facility": "F5"},
                              dict(layers, facilities=facilities[facilities["id"] != "F5"])),
        "close 1 street": ({"close_street": "S100"}, dict(layers, streets=streets[streets["id"] != "S100"])),
        "open 1 link": ({"open_link": link}, None),  # rerun on the layer the what-if made
    }
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t_load, state = timed(lambda: load_state(layers, rules=r), repeat=2)
    print(f"{'load the state once':<34} {t_load:8.2f} s")
    for name, (kw, changed) in changes.items():
        t_w, res = timed(lambda kw=kw: whatif(state, **kw), repeat=3)
        changed = changed or dict(layers, streets=res.after.streets)
        t_full, out = timed(lambda changed=changed: lc.run(changed, rules=r, isochrones="none"), repeat=3)
        o = out["lc_origins"]
        diff = max(float(np.nanmax(np.abs(o[f"dist_{c}_m"].to_numpy(float) - res.after.distances[c]),
                                   initial=0.0)) for c in res.after.categories)
        same_nan = all((np.isnan(o[f"dist_{c}_m"].to_numpy(float)) == np.isnan(res.after.distances[c])).all()
                       for c in res.after.categories)
        print(f"{name:<18} what-if {t_w:8.3f} s   full run {t_full:8.2f} s   "
              f"ratio {t_full / t_w:6.1f}×   max |Δd| {diff:.1e} m{'' if same_nan else '  REACH DIFFERS'}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
