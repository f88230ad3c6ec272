"""Province scale: many study areas' living circles on a dask LocalCluster.

Each study area is central Helsinki's walking network (OSM, tests/data) tiled
K × K (tiles joined by 8 links per side), with 0.6 homes per node and 0.4 %
of nodes per category as facilities (10 categories), as in
benchmarks/living_circle.py.  One area's workspace is built, then copied to
every area.  Timed, end to end:

- ``gcgeo analyze WS living_circle`` in a process of its own on one area
  (Python start-up, reading, the analysis, writing the results);
- ``gcgeo batch`` of every area (``run_batch``, ``force=True``: every area's
  living circle runs and is written) on a LocalCluster of 1 and of 2 worker
  processes, fresh copies of the workspaces each time, cluster start-up
  included;
- each worker's peak memory (``ru_maxrss`` of its process after the run).

Usage::

    .venv/bin/python benchmarks/province.py                 # 8 areas of 3 × 3 tiles (~250k nodes)
    .venv/bin/python benchmarks/province.py --areas 160 --tiles 3  # ~5M nodes, ~3M homes
    .venv/bin/python benchmarks/province.py --partitions grid:4     # each area in 4 partitions
    .venv/bin/python benchmarks/province.py --isochrones community  # each area's isochrones too
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gcgeo import osm, rules
from gcgeo import workspace as ws
from gcgeo.network import compile_network, network_from_streets

ROOT = Path(__file__).resolve().parents[1]
PBF = ROOT / "tests" / "data" / "osm" / "helsinki_center.osm.pbf"
CRS = 3067
N_CATEGORIES = 10
FACILITY_SHARE = 0.004
HOME_SHARE = 0.6
LINKS = 8


def tiled(streets: gpd.GeoDataFrame, k: int) -> gpd.GeoDataFrame:
    """``k × k`` copies of ``streets`` side by side, each joined to its neighbours by
    straight links between the outermost street ends."""
    xmin, ymin, xmax, ymax = streets.total_bounds
    w, h = xmax - xmin, ymax - ymin
    geoms = streets.geometry.to_numpy()
    ends = np.unique(np.concatenate([shapely.get_coordinates(shapely.get_point(geoms, 0)),
                                     shapely.get_coordinates(shapely.get_point(geoms, -1))]), axis=0)
    east = ends[np.argsort(-ends[:, 0])[:LINKS]]
    west = ends[np.argsort(ends[:, 0])[:LINKS]]
    north = ends[np.argsort(-ends[:, 1])[:LINKS]]
    south = ends[np.argsort(ends[:, 1])[:LINKS]]
    parts = []
    for i in range(k):
        for j in range(k):
            off = np.array([i * w, j * h])
            parts.append(shapely.transform(geoms, lambda c, off=off: c + off))
            if i + 1 < k:
                parts.append(shapely.linestrings(np.stack([east + off, west + off + [w, 0]], axis=1)))
            if j + 1 < k:
                parts.append(shapely.linestrings(np.stack([north + off, south + off + [0, h]], axis=1)))
    return gpd.GeoDataFrame(geometry=np.concatenate(parts), crs=CRS).assign(kind="footway")


def build_area(path: Path, k: int, seed: int = 7) -> tuple[int, int]:
    """One area's workspace; its street nodes and homes."""
    streets = osm.read_osm(PBF)["streets"].to_crs(CRS)[["geometry"]]
    streets = tiled(streets, k)
    net = compile_network(network_from_streets(streets))
    rng = np.random.default_rng(seed)
    lines = net.geometry
    e = rng.integers(0, net.n_edges, int(HOME_SHARE * net.n_nodes))
    xy = shapely.get_coordinates(shapely.line_interpolate_point(lines[e], rng.random(len(e)),
                                                                normalized=True))
    xy += rng.normal(0, 15, size=xy.shape)
    homes = gpd.GeoDataFrame(
        geometry=shapely.box(xy[:, 0] - 5, xy[:, 1] - 5, xy[:, 0] + 5, xy[:, 1] + 5), crs=CRS
    ).assign(use="residential", population=30.0)
    cats = list(rules.load("living_circle")["categories"])[:N_CATEGORIES]
    nf = max(1, int(FACILITY_SHARE * net.n_nodes))
    fe = rng.integers(0, net.n_edges, nf * len(cats))
    fxy = shapely.get_coordinates(shapely.line_interpolate_point(lines[fe], rng.random(len(fe)),
                                                                 normalized=True))
    fxy += rng.normal(0, 10, size=fxy.shape)
    facilities = gpd.GeoDataFrame({"category": np.repeat(cats, nf)}, geometry=shapely.points(fxy), crs=CRS)
    ws.init(path, name=path.stem, crs=f"EPSG:{CRS}")
    ws.add_layer(path, "streets", streets)
    ws.add_layer(path, "buildings", homes)
    ws.add_layer(path, "facilities", facilities)
    return net.n_nodes, len(homes)


def project(folder: Path, template: Path, n_areas: int, partitions: str | None,
            isochrones: str = "none") -> Path:
    """``n_areas`` fresh copies of the template workspace and their project file."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    lines = ['[batch]\nreports = false\nresults = false\nanalyses = ["living_circle"]\n'
             f'isochrones = "{isochrones}"\n']
    for i in range(n_areas):
        shutil.copy(template, folder / f"area{i:03d}.gpkg")
        lines.append(f'[[area]]\nname = "area {i:03d}"\nworkspace = "area{i:03d}.gpkg"\n'
                     + (f'partitions = "{partitions}"\n' if partitions else ""))
    (folder / "p.toml").write_text("\n".join(lines), encoding="utf-8")
    return folder / "p.toml"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def batch_run(toml: Path, workers: int, memory_limit: str) -> tuple[float, list[float], int]:
    """Seconds for the whole batch on a new LocalCluster, each worker's peak MB, failures."""
    import distributed

    from gcgeo.batch import read_project, run_batch

    start = time.perf_counter()
    proj = read_project(toml)
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  memory_limit=memory_limit, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        results = run_batch(proj, client=client, force=True)
        peaks = sorted(client.run(_peak_rss_mb).values())
    return time.perf_counter() - start, peaks, sum(r.status == "failed" for r in results)


def analyze_run(path: Path, isochrones: str = "none") -> float:
    """Seconds for ``gcgeo analyze WS living_circle --isochrones MODE`` in a process of its own."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from gcgeo.cli import main; main()", "-q", "analyze",
                    str(path), "living_circle", "--isochrones", isochrones], check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--areas", type=int, default=8, help="study areas (default 8)")
    ap.add_argument("--tiles", type=int, default=3, help="each area is Helsinki tiled K × K (default 3)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="cluster sizes (default 1 2)")
    ap.add_argument("--memory-limit", default="4GiB", help="per worker (default 4GiB)")
    ap.add_argument("--partitions", help="run each area's living circle in partitions, e.g. grid:4")
    ap.add_argument("--isochrones", default="none",
                    help="the living circle's isochrones in every run (default none, as gcgeo's)")
    ap.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary one)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for name in ("distributed", "gcgeo"):  # cluster chatter, and the facilities left out on purpose
        logging.getLogger(name).setLevel(logging.ERROR)
    root = args.keep or Path(tempfile.mkdtemp(prefix="gcgeo-province-"))
    root.mkdir(parents=True, exist_ok=True)
    template = root / "template.gpkg"
    t = time.perf_counter()
    if template.exists():
        template.unlink()
    nodes, homes = build_area(template, args.tiles)
    print(f"one area: Helsinki tiled {args.tiles} × {args.tiles}: {nodes:,} street nodes, {homes:,} homes "
          f"(built in {time.perf_counter() - t:.1f} s)")
    total_nodes, total_homes = nodes * args.areas, homes * args.areas
    print(f"{args.areas} areas: {total_nodes:,} street nodes, {total_homes:,} homes"
          + (f", each in {args.partitions}" if args.partitions else "")
          + f"; isochrones: {args.isochrones}")
    single = root / "single.gpkg"
    shutil.copy(template, single)
    t1 = min(analyze_run(single, args.isochrones) for _ in range(2))
    per_m_single = t1 / (nodes / 1e6)
    print(f"gcgeo analyze, one area, one process: {t1:.2f} s end to end = {per_m_single:.1f} s per "
          "million nodes")
    rows = []
    for w in args.workers:
        toml = project(root / f"batch{w}", template, args.areas, args.partitions, args.isochrones)
        secs, peaks, failed = batch_run(toml, w, args.memory_limit)
        rows.append((w, secs, peaks, failed))
        print(f"gcgeo batch, {w} worker(s): {secs:.1f} s total = {secs / (total_nodes / 1e6):.1f} s per "
              f"million nodes ({secs / (total_nodes / 1e6) / per_m_single:.2f} × analyze); peak "
              f"memory per worker {', '.join(f'{p:.0f}' for p in peaks)} MB"
              + (f"; {failed} area(s) FAILED" if failed else ""))
        shutil.rmtree(root / f"batch{w}")
    times = {w: s for w, s, _, _ in rows}
    if 1 in times and 2 in times:
        print(f"2 workers against 1: {times[1] / times[2]:.2f} × faster")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
