"""Benchmark: the offline map of a city, the way gcgeo drew it before and the way it draws it now.

One run builds the city workspace of ``benchmarks/living_circle.py`` (central
Helsinki tiled 6 × 5, about 167k street nodes and 100k homes; the streets
without node ids; communities as 800 m squares, as in ``benchmarks/isochrones.py``),
runs the living circle on it and stores its outputs, then writes
``gcgeo map WS --offline`` twice, as a user runs it (a fresh process each):

* before — the gcgeo package of a baseline commit (``--baseline``, by default
  the commit before the city-scale map work), extracted with ``git archive``;
* now    — the gcgeo package of this checkout.

Each map is then opened in headless Chromium (the browser of
``tests/test_browser.py``, driven over the DevTools protocol) and timed:

* first paint — from navigation to the first animation frame after the load
  event: every script of the page is inline and runs before ``load``, so the
  communities and results the page draws at start are on screen by then;
* idle — from navigation until ``requestIdleCallback`` fires after that (work
  the page defers, such as chunked marker clustering, is done);
* memory — the JS heap in use (``Performance.getMetrics``) and the resident
  memory of every Chromium process, once idle.

It prints the file sizes, the time and peak memory of writing each map, these
figures and their ratios.

Run: ``.venv/bin/python benchmarks/maps.py [--size 160k|40k|helsinki] [--baseline REV] [--workspace WS]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from isochrones import communities
from living_circle import CRS, helsinki_streets, scenario, tiled

from gcgeo import workspace as ws
from gcgeo.analysis import living_circle as lc

ROOT = Path(__file__).resolve().parents[1]
#: The last commit before the city-scale map work (issue 19).
BASELINE = "676983a"
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def build_workspace(path: Path, size: str) -> dict[str, int]:
    streets = helsinki_streets()
    if size == "160k":
        streets = tiled(streets, 6, 5)
    elif size == "40k":
        streets = tiled(streets, 3, 3)
    _, net, homes, facilities, _, _, r = scenario(streets)
    comm = communities(streets)
    out = lc.run({"buildings": homes, "facilities": facilities, "communities": comm}, rules=r, graph=net,
                 isochrones="none")
    ws.init(path, name="benchmark city", crs=CRS)
    inventory = {"streets": streets[["geometry"]], "buildings": homes, "facilities": facilities,
                 "communities": comm}
    ws.write_layers(path, inventory, kind={k: k for k in inventory})
    ws.write_layers(path, {k: v for k, v in out.items() if k != "lc_isochrones" or len(v)},
                    analysis="living-circle")
    return {"nodes": net.n_nodes, "homes": len(homes), "streets": len(streets), "communities": len(comm),
            "gaps": len(out["lc_gaps"])}


#: The map command in a child, printing its seconds and peak memory (KiB): the peak of this
#: process since it started (``VmHWM``), not ``ru_maxrss``, which counts the memory of the
#: process it was started from (here the benchmark, which built the city) up to its ``exec``.
_CHILD = """
import sys, time
t = time.perf_counter()
from gcgeo.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print("BENCH", time.perf_counter() - t, hwm, file=sys.stderr)
"""


def write_map(src: Path, workspace: Path, out: Path) -> tuple[float, float]:
    """Seconds and peak MiB of ``gcgeo map WORKSPACE -o OUT --offline`` with gcgeo from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    r = subprocess.run([sys.executable, "-c", _CHILD, "-q", "map", str(workspace), "-o", str(out), "--offline",
                        "--overwrite"], env=env, capture_output=True, text=True, cwd=src)
    line = next((x for x in r.stderr.splitlines() if x.startswith("BENCH")), None)
    if r.returncode or line is None:
        raise RuntimeError(f"gcgeo map failed with gcgeo from {src}:\n{r.stderr[-3000:]}")
    _, secs, kib = line.split()
    return float(secs), int(kib) / 1024


class Chromium:
    """A headless Chromium with one page, as in tests/test_browser.py (network blocked)."""

    def __init__(self, profile: Path) -> None:
        import websocket

        shutil.rmtree(profile, ignore_errors=True)  # a stale DevToolsActivePort would name a dead port
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
             f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-allow-origins=*",
             "--window-size=1400,900", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not start")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=600, suppress_origin=True)
        self._id = 0
        for domain in ("Page", "Runtime", "Performance"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params):
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Page.loadEventFired":
                self.loaded = time.perf_counter()
            if msg.get("id") == self._id:
                return msg.get("result", {})

    def evaluate(self, expr: str):
        return self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)["result"].get(
            "value")

    def measure(self, url: str) -> dict[str, float]:
        self.loaded = None
        t0 = time.perf_counter()
        self.call("Page.navigate", url=url)
        while self.loaded is None:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Page.loadEventFired":
                self.loaded = time.perf_counter()
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
        paint = time.perf_counter() - t0
        self.evaluate("new Promise(r => requestIdleCallback(r, {timeout: 600000}))")
        idle = time.perf_counter() - t0
        drawn = self.evaluate("""(() => {
          const map = Object.values(window).find(v => v instanceof L.Map);
          let n = 0; map.eachLayer(l => { if (l instanceof L.Path) n++; });
          return n; })()""")
        heap = {m["name"]: m["value"] for m in self.call("Performance.getMetrics")["metrics"]}["JSHeapUsedSize"]
        rss = sum(p.memory_info().rss for p in [psutil.Process(self.proc.pid),
                                                  *psutil.Process(self.proc.pid).children(recursive=True)])
        return {"paint": paint, "idle": idle, "heap": heap / 2**20, "rss": rss / 2**20, "drawn": drawn}

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="160k", choices=["helsinki", "40k", "160k"])
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the map drawn before")
    ap.add_argument("--workdir", type=Path, help="keep the workspace here and reuse it (default: a temporary folder)")
    ap.add_argument("--only", choices=["before", "now"], help="draw one of the two maps (no ratios)")
    ap.add_argument("--workspace", type=Path,
                    help="map this workspace (the living circle run) instead of building the city, e.g. "
                         "benchmarks/analyze.py's city with every analysis stored; it is only read")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    if CHROMIUM is None:
        sys.exit("no chromium on PATH (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        d = args.workdir or Path(tmp)
        d.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        city = args.workspace or d / "city.gpkg"
        built = not (args.workspace or (args.workdir and city.exists()))
        if not built:
            info = {"nodes": None, "streets": len(ws.read_layer(city, "streets")),
                    "homes": len(ws.read_layer(city, "lc_origins")),
                    "communities": len(ws.read_layer(city, "communities")),
                    "gaps": len(ws.read_layer(city, "lc_gaps"))}
        else:
            info = build_workspace(city, args.size)
        nodes = f"{info['nodes']:,} street nodes, " if info["nodes"] is not None else ""
        print(f"workspace {city}: {nodes}{info['streets']:,} street lines, {info['homes']:,} "
              f"homes, {info['communities']} communities, {info['gaps']:,} gap rows "
              f"({time.perf_counter() - t:.0f} s to {'build' if built else 'read'})")
        old = d / "before"
        shutil.rmtree(old, ignore_errors=True)
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "gcgeo"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        rows = {}
        for label, src in (("before", old), ("now", ROOT)):
            if args.only and label != args.only:
                continue
            out = d / f"map-{label}.html"
            secs, mib = write_map(src, city, out)
            browser = Chromium(d / f"profile-{label}")
            try:
                got = browser.measure(out.as_uri())
            finally:
                browser.close()
            rows[label] = {"size": out.stat().st_size / 1e6, "write": secs, "write_mib": mib, **got}
            r = rows[label]
            print(f"{label:>6}: {r['size']:6.1f} MB, written in {r['write']:5.1f} s ({r['write_mib']:5.0f} MiB); "
                  f"first paint {r['paint']:6.2f} s, idle {r['idle']:6.2f} s, JS heap {r['heap']:6.0f} MiB, "
                  f"Chromium RSS {r['rss']:6.0f} MiB, {r['drawn']:,} paths drawn")
        if args.only:
            return
        b, n = rows["before"], rows["now"]
        print(f" ratio: size ×{b['size'] / n['size']:.1f} smaller, writing ×{b['write'] / n['write']:.1f} faster, "
              f"first paint ×{b['paint'] / n['paint']:.1f} sooner, idle ×{b['idle'] / n['idle']:.1f} sooner, "
              f"JS heap ×{b['heap'] / n['heap']:.1f}, RSS ×{b['rss'] / n['rss']:.1f} less")


if __name__ == "__main__":
    main()
