"""Benchmark: ``gcgeo analyze`` end to end, as a user runs it, beside the in-memory core.

Builds the benchmark city as a workspace once (the central Helsinki network
tiled 6 × 5, about 167k street nodes, streets without node ids; 0.6 homes
per node; 0.4 % of nodes per facility category, 10 categories; 63 square
communities; parks for the green analysis) with the builders of
``benchmarks/living_circle.py``, and a fire-lane workspace with the builder
of ``benchmarks/fire_lanes.py``.  Then, each in a fresh process on a fresh
copy of the workspace:

* ``gcgeo analyze WS living-circle --isochrones none`` — wall time and peak
  RSS of the command (``os.wait4``'s resource usage of the child), run twice:
  the first run builds the walking network from the streets, the second finds
  it stored beside the workspace (streets and network rules unchanged);
* the same run's stages, from a child that imports gcgeo's CLI and runs the
  command's own function, stamping the time at each progress message;
* ``python -X importtime`` of the command: the modules it imported;
* the in-memory core: ``living_circle.run`` on the layers in memory from the
  streets layer, and from a network compiled beforehand (best of 3);
* ``gcgeo analyze WS green`` and ``gcgeo analyze WS fire-lanes``, end to end;
* the static figure of the living-circle view at city scale (``save_figures``,
  as ``gcgeo report`` draws it, in a fresh process after reading the layers).

Ratios: the command ÷ the in-memory core.

    .venv/bin/python benchmarks/analyze.py [--size 6x5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fire_lanes as fl_bench  # noqa: E402
import living_circle as lc_bench  # noqa: E402

CRS = lc_bench.CRS


def build_city(path: Path, nx_: int, ny_: int) -> dict[str, int]:
    """The benchmark city as a workspace at ``path``: streets, homes, facilities, communities, parks."""
    from gcgeo import workspace as ws

    streets = lc_bench.tiled(lc_bench.helsinki_streets(), nx_, ny_)
    _, net, homes, facilities, _, _, _ = lc_bench.scenario(streets)
    xmin, ymin, xmax, ymax = streets.total_bounds
    # 9 × 7 communities over the city, named as a planner's layer would name them
    xs, ys = np.linspace(xmin, xmax, 10), np.linspace(ymin, ymax, 8)
    boxes = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(9) for j in range(7)]
    communities = gpd.GeoDataFrame({"id": [f"C{k:02d}" for k in range(len(boxes))],
                                    "name": [f"社区{k:02d}" for k in range(len(boxes))]},
                                   geometry=boxes, crs=CRS)
    rng = np.random.default_rng(11)
    centres = shapely.points(rng.uniform(xmin, xmax, 400), rng.uniform(ymin, ymax, 400))
    parks = gpd.GeoDataFrame({"kind": rng.choice(["park", "pocket_park", "community_park"], 400),
                              "public": True},
                             geometry=shapely.buffer(centres, rng.uniform(20, 120, 400)), crs=CRS)
    ws.init(path, name="benchmark city", crs=CRS)
    ws.add_layer(path, "streets", streets[["geometry"]])  # no node ids, as drawn by hand
    ws.add_layer(path, "buildings", homes)
    ws.add_layer(path, "facilities", facilities)
    ws.add_layer(path, "communities", communities)
    ws.add_layer(path, "green_space", parks)
    return {"nodes": net.n_nodes, "homes": len(homes), "facilities": len(facilities),
            "communities": len(communities)}


def build_fire(path: Path) -> dict[str, int]:
    from gcgeo import workspace as ws

    layers = fl_bench.build(10_000, 100_000, 0)
    ws.init(path, name="fire lanes benchmark", crs=fl_bench.CRS)
    kinds = ("fire_lanes", "obstructions", "streets")  # turnarounds are no workspace layer kind
    for kind in kinds:
        ws.add_layer(path, kind, layers[kind])
    return {k: len(layers[k]) for k in kinds}


def command(ws: Path, *args: str, importtime: bool = False) -> tuple[float, float, str]:
    """Run ``gcgeo analyze WS ARGS`` in a fresh process: wall seconds, peak RSS (MiB), stderr."""
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", _GCGEO, *args]
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    err = p.stderr.read() if p.stderr else ""
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 2**10, err


#: what the ``gcgeo`` console script runs
_GCGEO = "import sys; from gcgeo.cli import main; sys.argv[0] = 'gcgeo'; sys.exit(main())"

_FIGURES = r"""
import sys
from gcgeo import workspace as ws
from gcgeo.maps.figures import save_figures
save_figures(ws.read_layers(sys.argv[1]), sys.argv[2], lang="zh", views=sys.argv[3].split(","),
             title="benchmark city")
"""

_STAGES = r"""
import sys, time
t0 = time.perf_counter()
from gcgeo.cli import main
stamps = [("import", time.perf_counter())]
import gcgeo.pipeline as p
real = p.run_analysis
def run_analysis(*a, progress=None, **k):
    def step(s):
        stamps.append((s, time.perf_counter()))
        if progress:
            progress(s)
    return real(*a, progress=step, **k)
p.run_analysis = run_analysis
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    stamps.append(("end", time.perf_counter()))
    prev = t0
    for name, t in stamps:
        print(f"STAGE {name} {t - prev:.3f}", file=sys.stderr)
        prev = t
"""


def stages(ws: Path, *args: str) -> list[tuple[str, float]]:
    """The command's stages: time from each progress message to the next ("import" first)."""
    res = subprocess.run([sys.executable, "-c", _STAGES, *args], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    out, prev = [], "start"
    for line in res.stderr.splitlines():
        if line.startswith("STAGE "):
            _, name, sec = line.split()
            out.append((prev, float(sec)))
            prev = name
    return out[1:] if out and out[0][0] == "start" else out


def imported(err: str, top: int = 8) -> tuple[int, list[tuple[str, float]]]:
    """From ``-X importtime`` output: the number of modules and the slowest top-level packages."""
    cum: dict[str, float] = {}
    n = 0
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _self, c, name = line.split("|") if line.count("|") == 2 else ("", "", "", "")
        n += 1
        raw = name.rstrip()
        if raw.startswith("  ") and not raw.startswith("   "):  # imported by the command itself
            pass
        top_name = raw.strip().split(".")[0]
        if len(raw) - len(raw.lstrip()) == 1:  # a top-level import of __main__
            cum[top_name] = cum.get(top_name, 0.0) + int(c.split(":")[-1]) / 1e6
    return n, sorted(cum.items(), key=lambda kv: -kv[1])[:top]


def fresh(src: Path, d: Path, name: str) -> Path:
    dst = d / name
    shutil.copyfile(src, dst)
    for side in src.parent.glob(f".{src.name}.*"):  # the network stored beside it is the user's too
        if not side.name.endswith(".lock"):
            shutil.copyfile(side, d / side.name.replace(src.name, name))
    return dst


def core(ws_path: Path) -> tuple[float, float]:
    """The in-memory core: ``living_circle.run`` from the streets layer, and from a compiled network."""
    from gcgeo import workspace as ws
    from gcgeo._gc import frozen
    from gcgeo.analysis import living_circle as lc
    from gcgeo.network import network_from_streets

    layers = ws.read_layers(ws_path, ["streets", "facilities", "buildings", "communities"])
    net = network_from_streets(layers["streets"])
    _ = net.snap_index
    with frozen():
        t_streets = lc_bench.timed(lambda: lc.run(layers, isochrones="none"), 2)[0]
        t_net = lc_bench.timed(lambda: lc.run(layers, graph=net, isochrones="none"), 3)[0]
    return t_streets, t_net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="6x5", help="tiles of the Helsinki network, e.g. 3x3")
    ap.add_argument("--keep", type=Path, help="folder keeping the built workspaces between runs")
    ap.add_argument("--no-figures", action="store_true")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    nx_, ny_ = (int(v) for v in args.size.split("x"))
    keep = args.keep or Path(tempfile.mkdtemp(prefix="gcgeo-bench-"))
    keep.mkdir(parents=True, exist_ok=True)
    city, fire = keep / f"city_{args.size}.gpkg", keep / "fire.gpkg"
    if not city.exists():
        t = time.perf_counter()
        print("building the city workspace:", build_city(city, nx_, ny_),
              f"in {time.perf_counter() - t:.0f} s")
    if not fire.exists():
        print("building the fire-lane workspace:", build_fire(fire))
    print(f"city workspace {city.stat().st_size / 2**20:.0f} MiB")

    with tempfile.TemporaryDirectory(dir=keep) as d:
        d = Path(d)
        print("\n== gcgeo analyze WS living-circle --isochrones none")
        ws1 = fresh(city, d, "lc.gpkg")
        lc_args = ("analyze", str(ws1), "living-circle", "--isochrones", "none")
        first, rss1, _ = command(ws1, *lc_args)
        again, rss2, _ = command(ws1, *lc_args)
        print(f"   first run (network built):    {first:6.2f} s   peak RSS {rss1:5.0f} MiB")
        print(f"   again, streets unchanged:     {again:6.2f} s   peak RSS {rss2:5.0f} MiB")
        for label, ws_ in (("first run", fresh(city, d, "lc_stages.gpkg")), ("again", None)):
            target = ws_ or d / "lc_stages.gpkg"
            st = stages(target, "analyze", str(target), "living-circle", "--isochrones", "none")
            print(f"   stages, {label}: " + ", ".join(f"{n} {s:.2f}" for n, s in st))
        _, _, err = command(ws1, *lc_args, importtime=True)
        n, slow = imported(err)
        print(f"   modules imported: {n}; slowest top-level: "
              + ", ".join(f"{k} {v:.2f} s" for k, v in slow))
        t_streets, t_net = core(city)
        print(f"   in memory, living_circle.run from the streets layer: {t_streets:6.2f} s")
        print(f"   in memory, from a network compiled beforehand:      {t_net:6.2f} s")
        print(f"   ratios: command ÷ in memory from streets {first / t_streets:4.1f} × (first run), "
              f"{again / t_streets:4.1f} × (again); command ÷ from a compiled network "
              f"{again / t_net:4.1f} ×")

        for name, src, extra in (("green", city, ()), ("fire-lanes", fire, ())):
            w = fresh(src, d, f"{name}.gpkg")
            wall, rss, _ = command(w, "analyze", str(w), name, *extra)
            st = stages(w, "analyze", str(w), name, *extra)
            print(f"\n== gcgeo analyze WS {name}: {wall:6.2f} s   peak RSS {rss:5.0f} MiB\n"
                  "   stages: " + ", ".join(f"{n} {s:.2f}" for n, s in st))

        if not args.no_figures:
            out = d / "fig"
            cmd = [sys.executable, "-c", _FIGURES, str(ws1), str(out), "living_circle"]
            t = time.perf_counter()
            p = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
            _, status, usage = os.wait4(p.pid, 0)
            wall, rss = time.perf_counter() - t, usage.ru_maxrss / 2**10
            pngs = sorted(out.glob("*.png"))
            print(f"\n== figure of the living-circle view (read + draw): {wall:6.2f} s   peak RSS {rss:5.0f} MiB   "
                  + ", ".join(f"{p.name} {p.stat().st_size / 1e3:.0f} kB" for p in pngs))
            if args.keep:
                for p in pngs:
                    shutil.copyfile(p, keep / p.name)


if __name__ == "__main__":
    main()
