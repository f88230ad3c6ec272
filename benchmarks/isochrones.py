"""Benchmark: living-circle isochrones per community, gcgeo against plain methods, in one process.

Same network, homes, facilities and communities for every method (the
scenario of ``benchmarks/living_circle.py``, plus communities as 800 m squares
over the network's extent); every method draws, per community, tier and
category, the streets reached within the tier's distance buffered by the
rules' 50 m and clipped to the community:

* gcgeo       — ``living_circle.run(..., isochrones="community")`` less the
                same run with ``isochrones="none"``: square cells laid once per
                category and tier over the town, clipped to each community
                and traced, communities in threads, homes settled exactly
                (:mod:`gcgeo.analysis._iso_town`);
* per community — one ``shapely.union_all`` of the buffered reached lines per
                community, tier and category (what gcgeo did before tiles),
                without the cut around homes out of reach: timed on a few
                communities and scaled to all;
* tutorial    — the method of the OSMnx isochrone examples: networkx
                multi-source Dijkstra, the reached nodes' subgraph, its nodes
                and whole edges buffered and merged city-wide, then clipped per
                community (partly reached edges are left out, so it draws
                less): timed on the 15-minute tier of one category and scaled
                to every tier and category.

On central Helsinki it also times ``isochrones="facility"`` (one polygon per
facility and tier), ``"dissolved"`` and ``"split"``.

Facility isochrones at city scale (``--facilities N``, default 2,000): N of the
scenario's facilities at 167k nodes (drawn with a fixed seed), the living
circle run with ``isochrones="none"`` and with ``isochrones="facility"`` on the
same layers and network, both times and their ratio (the issue's target:
≤ 10×).

Run: ``.venv/bin/python benchmarks/isochrones.py [--sizes helsinki,40k,160k,facilities]
[--facilities 2000]``
"""

from __future__ import annotations

import argparse
import gc
import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from living_circle import CRS, helsinki_streets, scenario, tiled, timed

from gcgeo import rules
from gcgeo.analysis import _isochrones as iso
from gcgeo.analysis import living_circle as lc
from gcgeo.network import augment, multi_source, snap

CELL = 800.0  # community side (m)
SAMPLE = 4  # communities timed for the per-community method


def communities(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    xmin, ymin, xmax, ymax = streets.total_bounds
    boxes = [shapely.box(x, y, x + CELL, y + CELL)
             for x in np.arange(xmin, xmax, CELL) for y in np.arange(ymin, ymax, CELL)]
    return gpd.GeoDataFrame({"community_id": [f"C{i:04d}" for i in range(len(boxes))],
                             "name": [f"社区{i}" for i in range(len(boxes))]},
                            geometry=boxes, crs=CRS)


def bench(name: str, streets: gpd.GeoDataFrame, repeat: int, facility: bool = False) -> None:
    G, net, homes, facilities, sources, _, r = scenario(streets)
    comm = communities(streets)
    gc.collect()
    gc.freeze()
    _ = net.snap_index
    tier_m = lc.tiers(r)
    req = lc.required_categories(r, tier_m)
    combos = [(c, t, T) for t, T in tier_m.items() for c in req[t]]
    buf = float(rules.value(r, "isochrones.buffer"))
    layers = {"buildings": homes, "facilities": facilities, "communities": comm}
    print(f"\n== {name}: {net.n_nodes:,} nodes, {len(homes):,} homes, {len(facilities):,} "
          f"facilities, {len(comm)} communities × {len(combos)} (tier, category) + 'all' "
          f"per tier, buffer {buf:.0f} m")
    t_none, _ = timed(lambda: lc.run(layers, rules=r, graph=net, isochrones="none"), repeat)
    t_comm, out = timed(lambda: lc.run(layers, rules=r, graph=net, isochrones="community"),
                        repeat)
    t_gcgeo = t_comm - t_none
    n_poly = len(out["lc_isochrones"])

    # node distances on the network split at the facilities, as the run has them
    tol = float(rules.value(r, "snapping.tolerance"))
    fsnap = snap(net, facilities.geometry, tol)
    aug = augment(net, fsnap.reset_index(drop=True))
    fcat = facilities["category"].to_numpy()
    nd = {c: multi_source(aug.csr, np.unique(aug.target_node[(fcat == c)
                                                              & (aug.target_node >= 0)]), 1e4)
          for c in dict.fromkeys(c for c, _, _ in combos)}
    pieces = iso.Pieces(aug, buf)
    clips = comm.geometry.to_numpy()

    def per_community(sample):
        for c, _, T in combos:
            lines = pieces.lines(pieces.reach(nd[c], T))
            for clip in sample:
                near = lines[shapely.intersects(lines, shapely.buffer(clip, buf))]
                if len(near):
                    shapely.intersection(
                        shapely.union_all(shapely.buffer(near, buf, quad_segs=4)), clip)

    rng = np.random.default_rng(1)
    sample = clips[rng.choice(len(clips), min(SAMPLE, len(clips)), replace=False)]
    t_s, _ = timed(lambda: per_community(sample))
    t_per_comm = t_s * len(clips) / len(sample)

    def tutorial(c, T):
        d = nx.multi_source_dijkstra_path_length(G, sources[c], cutoff=T, weight="length")
        sub = G.subgraph(d)
        pts = shapely.points([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in sub.nodes])
        edges = np.array([g for _, _, g in sub.edges(data="geometry")], dtype=object)
        poly = shapely.union_all(np.concatenate([shapely.buffer(pts, buf),
                                                 shapely.buffer(edges, buf)]))
        return shapely.intersection(poly, clips)

    c0 = combos[-1][0]
    t_one, _ = timed(lambda: tutorial(c0, max(tier_m.values())))
    t_tutorial = t_one * len(combos)

    rows = {
        f"gcgeo community isochrones ({n_poly:,} polygons)": t_gcgeo,
        f"one union per community, tier and category (from {len(sample)} communities)":
            t_per_comm,
        "tutorial: nx subgraph, buffered nodes + whole edges, city-wide union "
        "(from one category at 15 min)": t_tutorial,
    }
    for k, v in rows.items():
        print(f"   {k:<100s} {v:8.2f} s   ×{v / t_gcgeo:6.1f} gcgeo")
    if facility:  # per facility and tier, per category and tier, split by nearest facility
        for mode in ("facility", "dissolved", "split"):
            t_m, mout = timed(lambda m=mode: lc.run(layers, rules=r, graph=net, isochrones=m))
            print(f"   gcgeo {mode} isochrones ({len(mout['lc_isochrones']):,} polygons, "
                  f"{len(facilities):,} facilities): {t_m - t_none:.2f} s")
    print(f"   (living circle without isochrones: {t_none:.2f} s)")
    gc.unfreeze()


def bench_facilities(name: str, streets: gpd.GeoDataFrame, n: int) -> None:
    """Facility isochrones for ``n`` facilities against the living-circle run, in one run."""
    _, net, homes, facilities, _, _, r = scenario(streets)
    rng = np.random.default_rng(5)
    fac = facilities.iloc[np.sort(rng.choice(len(facilities), min(n, len(facilities)),
                                             replace=False))]
    gc.collect()
    gc.freeze()
    _ = net.snap_index
    layers = {"buildings": homes, "facilities": fac}
    print(f"\n== {name}: {net.n_nodes:,} nodes, {len(homes):,} homes, {len(fac):,} facilities")
    t_none, _ = timed(lambda: lc.run(layers, rules=r, graph=net, isochrones="none"), 3)
    t_fac, out = timed(lambda: lc.run(layers, rules=r, graph=net, isochrones="facility"))
    iso = out["lc_isochrones"]
    print(f"   living circle, isochrones='none'       {t_none:8.2f} s")
    print(f"   living circle, isochrones='facility'   {t_fac:8.2f} s   ({len(iso):,} polygons, "
          f"{(t_fac - t_none) / max(len(fac), 1) * 1000:.0f} ms per facility)")
    print(f"   ratio                                  {t_fac / t_none:8.1f} ×")
    gc.unfreeze()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="helsinki,40k,160k,facilities")
    ap.add_argument("--facilities", type=int, default=2000,
                    help="facilities for the facility isochrones at 167k nodes")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    streets = helsinki_streets()
    sizes = args.sizes.split(",")
    if "helsinki" in sizes:
        bench("central Helsinki", streets, repeat=3, facility=True)
    if "40k" in sizes:
        bench("Helsinki tiled 3 × 3", tiled(streets, 3, 3), repeat=1)
    if "160k" in sizes:
        bench("Helsinki tiled 6 × 5", tiled(streets, 6, 5), repeat=1)
    if "facilities" in sizes:
        bench_facilities("facility isochrones, Helsinki tiled 6 × 5", tiled(streets, 6, 5),
                         args.facilities)


if __name__ == "__main__":
    main()
