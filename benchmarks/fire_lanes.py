"""Benchmark: fire-lane clear width on 10,000 lane segments and 100,000 obstructions.

Builds a seeded synthetic lane network (a grid of 60 m lane segments, 4–6 m
wide, plus dead-end spurs, some with turnarounds) with obstructions of every
kind scattered on and beside the lanes, then times
``gcgeo.analysis.fire_lanes.run`` stage by stage.  On a subset it also
recomputes the clear width the slow, obvious way (one cross-section at a
time: cut out the union of the obstacles, take the longest piece) and checks
the two agree, to give the speed-up of the vectorised code.

    .venv/bin/python benchmarks/fire_lanes.py            # full size
    .venv/bin/python benchmarks/fire_lanes.py --segments 1000 --obstructions 10000
"""

from __future__ import annotations

import argparse
import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gcgeo.analysis import fire_lanes as fl

CRS = "EPSG:4548"
X0, Y0 = 400000.0, 4080000.0
SEG = 60.0
KINDS = ["car", "car", "car", "e-bike", "e-bike", "stall", "bollard", "barrier", "tree",
         "structure", "gate", "overhead", "other"]


def build(n_segments: int, n_obstructions: int, seed: int):
    rng = np.random.default_rng(seed)
    n_spurs = max(1, n_segments // 200)
    n_grid = n_segments - n_spurs
    # n × (n + 1) horizontal + the same vertical segments ≈ n_grid
    n = max(1, int((-1 + math.sqrt(1 + 2 * n_grid)) / 2))
    segs = []
    for j in range(n + 1):
        for i in range(n):
            segs.append(((i * SEG, j * SEG), ((i + 1) * SEG, j * SEG)))
            segs.append(((j * SEG, i * SEG), (j * SEG, (i + 1) * SEG)))
    # fill up with spurs into the blocks (dead ends), a third with a turnaround
    turn = []
    k = 0
    while len(segs) < n_segments:
        i, j = rng.integers(0, n), rng.integers(0, n)
        x, y = i * SEG, j * SEG + SEG / 2
        segs.append(((x, y), (x + 25.0, y)))
        if k % 3 == 0:
            turn.append(shapely.box(X0 + x + 19, Y0 + y - 6, X0 + x + 31, Y0 + y + 6))
        k += 1
    coords = np.array(segs) + np.array([X0, Y0])
    lanes = gpd.GeoDataFrame(
        {"id": [f"L{i}" for i in range(len(segs))],
         "width_m": rng.choice([4.0, 4.5, 5.0, 6.0], size=len(segs))},
        geometry=shapely.linestrings(coords), crs=CRS)
    # obstructions: a point at a random place on a random lane, offset sideways
    lane_i = rng.integers(0, len(lanes), n_obstructions)
    lines = lanes.geometry.values
    at = rng.uniform(0, 1, n_obstructions)
    pts = shapely.line_interpolate_point(np.asarray(lines)[lane_i], at, normalized=True)
    d = coords[lane_i, 1] - coords[lane_i, 0]
    nrm = np.column_stack([-d[:, 1], d[:, 0]]) / np.hypot(d[:, 0], d[:, 1])[:, None]
    off = rng.uniform(-4.5, 4.5, n_obstructions)[:, None] * nrm
    xy = shapely.get_coordinates(pts) + off
    kind = rng.choice(KINDS, size=n_obstructions)
    geom = shapely.points(xy)
    poly = rng.random(n_obstructions) < 0.1  # some drawn as polygons
    geom[poly] = shapely.buffer(geom[poly], rng.uniform(0.3, 1.5, int(poly.sum())),
                                cap_style="square")
    height = np.where(np.isin(kind, ["gate", "overhead"]), rng.uniform(3.0, 5.5, n_obstructions),
                      np.nan)
    obs = gpd.GeoDataFrame({"id": [f"O{i}" for i in range(n_obstructions)], "kind": kind,
                            "height_m": height}, geometry=geom, crs=CRS)
    side = n * SEG
    ring = shapely.LineString([(X0 - 30, Y0 - 30), (X0 + side + 30, Y0 - 30),
                               (X0 + side + 30, Y0 + side + 30), (X0 - 30, Y0 + side + 30),
                               (X0 - 30, Y0 - 30)])
    # join the grid to the ring road at its four corners
    links = [shapely.LineString([(X0 + a, Y0 + b), (X0 + a + da, Y0 + b + db)])
             for a, b, da, db in [(0, 0, -30, -30), (side, 0, 30, -30), (side, side, 30, 30),
                                  (0, side, -30, 30)]]
    streets = gpd.GeoDataFrame({"kind": ["secondary"] * 5}, geometry=[ring, *links], crs=CRS)
    turnarounds = gpd.GeoDataFrame({"id": [f"T{i}" for i in range(len(turn))]},
                                   geometry=turn, crs=CRS)
    return {"fire_lanes": lanes, "obstructions": obs, "streets": streets,
            "turnarounds": turnarounds}


def naive_clear_width(lanes, footprints, spacing):
    """One station at a time: cross-section minus the union of what touches it."""
    tree = shapely.STRtree(footprints)
    out = []
    for line, w in zip(lanes.geometry, lanes["width_m"], strict=True):
        n = max(1, math.ceil(line.length / spacing - 1e-9))
        step = line.length / n
        for k in range(n):
            s = (k + 0.5) * step
            p = line.interpolate(s)
            a, b = line.interpolate(max(0, s - 0.25)), line.interpolate(min(line.length, s + 0.25))
            ux, uy = b.x - a.x, b.y - a.y
            norm = math.hypot(ux, uy)
            nx, ny = -uy / norm, ux / norm
            cs = shapely.LineString([(p.x - nx * w / 2, p.y - ny * w / 2),
                                     (p.x + nx * w / 2, p.y + ny * w / 2)])
            hit = footprints[tree.query(cs, predicate="intersects")]
            free = cs.difference(shapely.union_all(hit)) if len(hit) else cs
            parts = [g.length for g in shapely.get_parts(free) if g.geom_type == "LineString"]
            out.append(max(parts, default=0.0))
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=10_000)
    ap.add_argument("--obstructions", type=int, default=100_000)
    ap.add_argument("--spacing", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", type=int, default=1000, help="lanes checked the naive way")
    args = ap.parse_args()

    t = time.perf_counter()
    layers = build(args.segments, args.obstructions, args.seed)
    print(f"built {len(layers['fire_lanes']):,} lane segments, "
          f"{len(layers['obstructions']):,} obstructions, "
          f"{len(layers['turnarounds']):,} turnarounds in {time.perf_counter() - t:.1f} s")

    stages: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    out = fl.run(layers, station_spacing=args.spacing,
                 progress=lambda s: stages.append((s, time.perf_counter())))
    total = time.perf_counter() - t0
    stages.append(("end", time.perf_counter()))
    print(f"fire_lanes.run: {total:.2f} s in all")
    for (name, a), (_n, b) in zip(stages, stages[1:]):
        print(f"  {name:<12} {b - a:6.2f} s")
    s = out["fire_lanes_summary"]
    f = out["fire_findings"]
    print(f"stations: {int(round(s['length_m'].sum() / args.spacing)):,}; findings: "
          + ", ".join(f"{k} {int((f['kind'] == k).sum()):,}" for k in fl.FINDING_KINDS))

    # naive check on a subset of lanes
    sub = layers["fire_lanes"].iloc[: args.check]
    fp = fl.obstruction_footprints(layers["obstructions"], layers["fire_lanes"])
    blocks = layers["obstructions"]["kind"].isin(
        [k for k, v in fl.load_rules()["footprints"].items()
         if v["blocks_width"] and not v["height_frees_width"]])
    blocks |= layers["obstructions"]["kind"].isin(["structure"]) & layers["obstructions"][
        "height_m"].isna()
    foot = np.asarray(fp[blocks & fp.notna()].values, dtype=object)
    t = time.perf_counter()
    slow = naive_clear_width(sub, foot, args.spacing)
    t_slow = time.perf_counter() - t
    t = time.perf_counter()
    fast = fl.clear_width(sub, gpd.GeoSeries(foot, crs=CRS), spacing=args.spacing)
    t_fast = time.perf_counter() - t
    tol = fl.load_rules()["lane"]["width_tolerance"]["value"]
    diff = np.abs(fast["clear_width_m"].to_numpy() - slow)
    print(f"check on {len(sub)} lanes ({len(slow):,} stations): naive loop {t_slow:.2f} s, "
          f"clear_width {t_fast:.3f} s (×{t_slow / max(t_fast, 1e-9):.0f}); "
          f"max difference {diff.max():.4f} m (slivers under {tol} m are ignored by design); "
          f"stations differing by more than {tol} m: {int((diff > tol + 1e-9).sum())}")
    pd.set_option("display.width", 120)


if __name__ == "__main__":
    main()
