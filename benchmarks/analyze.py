"""Benchmark: ``gcgeo analyze`` end to end, as a user runs it, beside the in-memory core.

Builds the benchmark city as a workspace once (the central Helsinki network
tiled 6 × 5, about 167k street nodes, streets without node ids; 0.6 homes
per node; 0.4 % of nodes per facility category, every category the built-in
rules require (17); 63 square
communities; parks for the green analysis) with the builders of
``benchmarks/living_circle.py``, and a fire-lane workspace with the builder
of ``benchmarks/fire_lanes.py``.  Then, each in a fresh process on a fresh
copy of the workspace:

* ``gcgeo analyze WS living-circle`` (isochrones none, the default; the flag
  is given, so that an older checkout does the same work) — wall time (best of
  :data:`REPEAT`, with ``--baseline`` the two checkouts taking turns), peak
  RSS and processor time of the command (``os.wait4``'s resource usage of the
  command, started by a small launcher of its own: see :data:`_LAUNCH`), run twice:
  the first run builds the walking network from the streets, the second finds
  it stored beside the workspace (streets and network rules unchanged);
* ``gcgeo analyze WS living-circle --isochrones community`` (the isochrones
  drawn on request), streets unchanged, and its stages;
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
import pandas as pd
import shapely

from gcgeo import rules
from gcgeo.analysis import living_circle as lc

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fire_lanes as fl_bench  # noqa: E402
import living_circle as lc_bench  # noqa: E402

CRS = lc_bench.CRS
#: Each command is timed this many times, the checkouts taking turns; the best is shown.
REPEAT = 2


def build_city(path: Path, nx_: int, ny_: int) -> dict[str, int]:
    """The benchmark city as a workspace at ``path``: streets, homes, facilities, communities, parks."""
    from gcgeo import workspace as ws

    streets = lc_bench.tiled(lc_bench.helsinki_streets(), nx_, ny_)
    _, net, homes, facilities, _, _, _ = lc_bench.scenario(streets)
    # every category the built-in rules require, at the same density: a city has them all
    r = rules.load("living_circle")
    required = lc.required_categories(r, lc.tiers(r))
    more = sorted(set().union(*required.values()) - set(facilities["category"]))
    rng = np.random.default_rng(5)
    nf = max(1, int(lc_bench.FACILITY_SHARE * net.n_nodes))
    fe = rng.integers(0, net.n_edges, nf * len(more))
    fpts = shapely.line_interpolate_point(net.geometry[fe], rng.random(len(fe)), normalized=True)
    fxy = shapely.get_coordinates(fpts) + rng.normal(0, 10, size=(len(fe), 2))
    facilities = pd.concat([facilities, gpd.GeoDataFrame(
        {"category": np.repeat(more, nf)}, geometry=shapely.points(fxy), crs=CRS)], ignore_index=True)
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


def _env(code: Path | None) -> dict[str, str]:
    """The environment of a child running gcgeo from ``code`` (a checkout), else from this one.

    Children run in the temporary folder (:data:`_CWD`): ``python -c`` puts its working
    folder first on the path, and a checkout's root there would win over ``code``.
    They import gcgeo from bytecode, as an installed gcgeo is (``pip`` compiles it):
    compiled once per checkout by :func:`compile_code` into :data:`PYCACHE`, outside the
    checkouts, also where ``PYTHONDONTWRITEBYTECODE`` is set (``--source`` keeps that).
    """
    path = [str(code)] if code else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path + [p for p in sys.path if p])}
    if PYCACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


#: Where the children's bytecode is kept (None: as the environment says, e.g. none at all).
PYCACHE: Path | None = None


def compile_code(code: Path | None) -> None:
    """Compile the gcgeo of ``code`` (default: this checkout) into :data:`PYCACHE`."""
    root = (code or Path(__file__).resolve().parents[1]) / "gcgeo"
    subprocess.run([sys.executable, "-c", f"import compileall; compileall.compile_dir({str(root)!r}, quiet=1)"],
                   check=True, env=_env(code), cwd=_CWD)


_CWD = tempfile.gettempdir()


def command(*args: str, code: Path | None = None, importtime: bool = False
            ) -> tuple[float, float, str, float]:
    """Run ``gcgeo ARGS`` in a fresh process: wall seconds, peak RSS (MiB), stderr, and
    processor seconds (user and system, its children's included): on two cores the wall
    time cannot fall below half of it."""
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", _GCGEO, *args]
    res = subprocess.run([sys.executable, "-c", _LAUNCH, *cmd], capture_output=True, text=True,
                         env=_env(code), cwd=_CWD)
    err = res.stderr
    if res.returncode or not res.stdout.strip():
        raise RuntimeError(f"{' '.join(cmd)} could not be started:\n{err[-3000:]}")
    code_, wall, maxrss, cpu = res.stdout.split()
    if int(code_):
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return float(wall), int(maxrss) / 2**10, err, float(cpu)


#: A small process starting the command and telling its exit code, wall seconds, peak
#: memory (KiB) and processor seconds: a process's peak memory (``ru_maxrss``) counts the
#: memory of the process it was started from up to its ``exec``, so a command started from
#: this one (which holds a whole city after :func:`core`) would report this one's size.
_LAUNCH = """import os, sys, time
t = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - t, ru.ru_maxrss,
      ru.ru_utime + ru.ru_stime)"""


#: what the ``gcgeo`` console script runs
_GCGEO = """import sys
sys.argv[0] = 'gcgeo'
try:
    from gcgeo.cli import run
except ImportError:  # (a checkout from before the console's own entry)
    from gcgeo.cli import main as run
run()"""

_FIGURES = r"""
import sys, time
t = time.perf_counter()
from gcgeo import workspace as ws
from gcgeo.maps.figures import save_figures
layers = ws.read_layers(sys.argv[1])
t1 = time.perf_counter()
save_figures(layers, sys.argv[2], lang="zh", views=sys.argv[3].split(","), title="benchmark city")
print(f"STAGE\tread\t{t1 - t:.3f}\nSTAGE\tdraw\t{time.perf_counter() - t1:.3f}", file=sys.stderr)
"""

_STAGES = r"""
import sys, time
t0 = time.perf_counter()
from gcgeo.cli import main
stamps = [("import", t0), ("cli", time.perf_counter())]
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
    for (name, t), (_, nxt) in zip(stamps, stamps[1:]):
        print(f"STAGE\t{name}\t{nxt - t:.3f}", file=sys.stderr)
"""


def stages(*args: str, code: Path | None = None, script: str = _STAGES) -> list[tuple[str, float]]:
    """The command's stages, each with its seconds: imports, then each progress message to the next."""
    res = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         env=_env(code), cwd=_CWD)
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    return [(line.split("\t")[1], float(line.split("\t")[2]))
            for line in res.stderr.splitlines() if line.startswith("STAGE\t")]


def imported(err: str, top: int = 6) -> tuple[int, list[tuple[str, float]]]:
    """From ``-X importtime`` output: the number of modules and the costliest packages imported
    at the top of an import chain (cumulative seconds)."""
    cum: dict[str, float] = {}
    n = 0
    for line in err.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or "cumulative" in line:
            continue
        n += 1
        name = parts[2].rstrip()
        if len(name) - len(name.lstrip()) == 1:  # not imported by another module's import
            pkg = name.strip().split(".")[0]
            cum[pkg] = cum.get(pkg, 0.0) + int(parts[1]) / 1e6
    return n, sorted(cum.items(), key=lambda kv: -kv[1])[:top]


def _fmt(st: list[tuple[str, float]]) -> str:
    return ", ".join(f"{n} {s:.2f}" for n, s in st)


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


def lc_end_to_end(city: Path, d: Path, codes: list[tuple[str, Path | None]]) -> dict[str, dict]:
    """``gcgeo analyze WS living-circle --isochrones none`` (the default) from each checkout: a
    first run on a fresh copy of the city, the same again (streets unchanged), their stages and
    imports; and with ``--isochrones community``, streets unchanged.  The
    checkouts take turns at each step, so a change in the machine's load falls on both alike."""
    ws2 = {label: fresh(city, d, f"lcs_{label.replace(' ', '_')}.gpkg") for label, _ in codes}
    res: dict[str, dict] = {label: {"stages": {}, "first": np.inf, "again": np.inf, "rss_first": 0.0,
                                    "rss_again": 0.0, "cpu_first": 0.0, "cpu_again": 0.0}
                            for label, _ in codes}
    ws1: dict[str, Path] = {}
    for k in range(REPEAT):  # the best of REPEAT, each from a fresh copy (nothing stored beside it)
        for what in ("first", "again"):
            for label, code in codes:
                if what == "first":
                    ws1[label] = fresh(city, d, f"lc_{label.replace(' ', '_')}_{k}.gpkg")
                wall, rss, _, cpu = command("analyze", str(ws1[label]), "living-circle", "--isochrones",
                                            "none", code=code)
                if wall < res[label][what]:  # (the processor time of the best run)
                    res[label][f"cpu_{what}"] = cpu
                res[label][what] = min(res[label][what], wall)
                res[label][f"rss_{what}"] = max(res[label][f"rss_{what}"], rss)
    for label, _ in codes:
        res[label].update(community=np.inf, rss_community=0.0, cpu_community=0.0)
    for _ in range(REPEAT):  # community isochrones drawn on request (streets unchanged)
        for label, code in codes:
            wall, rss, _, cpu = command("analyze", str(ws1[label]), "living-circle", "--isochrones",
                                        "community", code=code)
            if wall < res[label]["community"]:
                res[label]["cpu_community"] = cpu
            res[label]["community"] = min(res[label]["community"], wall)
            res[label]["rss_community"] = max(res[label]["rss_community"], rss)
    for what in ("first", "again"):
        for label, code in codes:
            res[label]["stages"][what] = stages("analyze", str(ws2[label]), "living-circle", "--isochrones",
                                                "none", code=code)
    for label, code in codes:
        res[label]["stages"]["community isochrones, again"] = stages(
            "analyze", str(ws2[label]), "living-circle", "--isochrones", "community", code=code)
    for label, code in codes:
        _, _, err, _ = command("analyze", str(ws1[label]), "living-circle", "--isochrones", "none", code=code,
                            importtime=True)
        res[label]["imports"] = imported(err)
    for label, _ in codes:
        r = res[label]
        print(f"\n== {label}: gcgeo analyze WS living-circle (isochrones none, the default)")
        print(f"   first run:                {r['first']:6.2f} s   peak RSS {r['rss_first']:5.0f} MiB   "
              f"processor {r['cpu_first']:5.2f} s")
        print(f"   again, streets unchanged: {r['again']:6.2f} s   peak RSS {r['rss_again']:5.0f} MiB   "
              f"processor {r['cpu_again']:5.2f} s")
        print(f"   --isochrones community, streets unchanged: {r['community']:6.2f} s   "
              f"peak RSS {r['rss_community']:5.0f} MiB   processor {r['cpu_community']:5.2f} s")
        for what, st in r["stages"].items():
            print(f"   stages (s), {what}: {_fmt(st)}")
        n, slow = r["imports"]
        print(f"   modules imported: {n}; costliest: " + ", ".join(f"{k} {v:.2f} s" for k, v in slow))
    return res


def others(city: Path, fire: Path, d: Path, codes: list[tuple[str, Path | None]]) -> dict[str, dict]:
    """``gcgeo analyze WS green`` and ``… fire-lanes``, end to end, the checkouts taking turns."""
    out: dict[str, dict] = {label: {} for label, _ in codes}
    for name, src in (("green", city), ("fire-lanes", fire)):
        walls: dict[str, list[float]] = {label: [] for label, _ in codes}
        peak: dict[str, float] = {label: 0.0 for label, _ in codes}
        for _ in range(REPEAT):
            for label, code in codes:
                w = fresh(src, d, f"{name}_{label.replace(' ', '_')}.gpkg")
                wall, r, _, _ = command("analyze", str(w), name, code=code)
                walls[label].append(wall)
                peak[label] = max(peak[label], r)
        for label, code in codes:
            w = fresh(src, d, f"{name}_{label.replace(' ', '_')}.gpkg")
            st = stages("analyze", str(w), name, code=code)
            wall = min(walls[label])
            print(f"\n== {label}: gcgeo analyze WS {name}: {wall:6.2f} s   peak RSS {peak[label]:5.0f} MiB\n"
                  f"   stages (s): {_fmt(st)}")
            out[label][name] = wall
    return out


def figure(ws_path: Path, out: Path, code: Path | None, label: str) -> float:
    """The living-circle view's PNG as ``gcgeo report`` draws it (``save_figures``): seconds to draw."""
    t = time.perf_counter()
    st = dict(stages(str(ws_path), str(out), "living_circle", code=code, script=_FIGURES))
    wall = time.perf_counter() - t
    pngs = sorted(out.glob("*.png"))
    print(f"\n== {label}: figure of the living-circle view: {st['draw']:6.2f} s to draw "
          f"({st['read']:.2f} s reading the workspace, {wall:.2f} s in all with imports); "
          + ", ".join(f"{p.name} {p.stat().st_size / 1e3:.0f} kB" for p in pngs))
    return st["draw"]


def machine_speed() -> tuple[float, float]:
    """Seconds of two fixed pieces of work, printed beside the figures: this machine's speed moves
    by a fifth over a day, so runs at different hours compare only through these. A Python loop of
    20 million additions (the interpreter), and sorting 5 million random numbers ten times (numpy)."""
    t = time.perf_counter()
    x = 0
    for i in range(20_000_000):
        x += i
    loop = time.perf_counter() - t
    a = np.random.default_rng(0).random(5_000_000)
    t = time.perf_counter()
    for _ in range(10):
        np.sort(a)
    return loop, time.perf_counter() - t


def main() -> None:
    global PYCACHE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="6x5", help="tiles of the Helsinki network, e.g. 3x3")
    ap.add_argument("--keep", type=Path, help="folder keeping the built workspaces between runs")
    ap.add_argument("--baseline", type=Path,
                    help="another gcgeo checkout (e.g. `git worktree add /tmp/base main`) timed "
                         "side by side with this one")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--source", action="store_true",
                    help="children import gcgeo as the environment says (PYTHONDONTWRITEBYTECODE: "
                         "compiled from source at every run) instead of from bytecode compiled once")
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
    loop, sort = machine_speed()
    print(f"machine: a Python loop of 20M additions {loop:.2f} s, numpy sorting 5M numbers ten times "
          f"{sort:.2f} s (compare runs of other hours through these)")
    codes: list[tuple[str, Path | None]] = [("this checkout", None)]
    if args.baseline:
        codes.insert(0, ("baseline", args.baseline.resolve()))
    with tempfile.TemporaryDirectory(dir=keep) as d_:
        d = Path(d_)
        if not args.source:
            PYCACHE = d / "pycache"
            for _, code in codes:
                compile_code(code)
        lc_runs = lc_end_to_end(city, d, codes)
        t_streets, t_net = core(city)
        print(f"\n   in memory, living_circle.run from the streets layer: {t_streets:6.2f} s")
        print(f"   in memory, from a network compiled beforehand:      {t_net:6.2f} s")
        for label, r in lc_runs.items():
            print(f"   {label}: command ÷ in memory from the streets: first run "
                  f"{r['first'] / t_streets:4.1f} ×, again {r['again'] / t_streets:4.1f} ×; "
                  f"again ÷ from a compiled network {r['again'] / t_net:4.1f} ×")
        other = others(city, fire, d, codes)
        figs = {}
        if not args.no_figures:
            for label, code in codes:  # each draws the results it stored itself
                src = d / f"lc_{label.replace(' ', '_')}_0.gpkg"
                figs[label] = figure(src, d / f"fig_{label.replace(' ', '_')}", code, label)
                if args.keep:
                    for p in (d / f"fig_{label.replace(' ', '_')}").glob("*.png"):
                        shutil.copyfile(p, keep / f"{label.replace(' ', '_')}_{p.name}")
        if args.baseline:
            b, c = "baseline", "this checkout"
            print("\n   baseline ÷ this checkout: living circle first run "
                  f"{lc_runs[b]['first'] / lc_runs[c]['first']:4.1f} ×, again "
                  f"{lc_runs[b]['again'] / lc_runs[c]['again']:4.1f} ×; green "
                  f"{other[b]['green'] / other[c]['green']:4.1f} ×; fire lanes "
                  f"{other[b]['fire-lanes'] / other[c]['fire-lanes']:4.1f} ×"
                  + (f"; figure {figs[b] / figs[c]:4.1f} ×" if figs else ""))


if __name__ == "__main__":
    main()
