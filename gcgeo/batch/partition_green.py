"""The green analysis of one large study area with its service radius in partitions.

:func:`green` gives what :func:`gcgeo.analysis.green.run` gives, with the
expensive part — every home's walk along the streets to the nearest green
and park entrance ("300 m to green, 500 m to a park") — cut into a grid of
partitions (``"grid:N"``), run side by side (as dask tasks when given a
``distributed`` client) and stitched: the same homes in the same order with
the same distances (to rounding, 1e-9 m), served flags and community shares.

What runs once, on the whole area: the figures of each community (green
ratio, public green, concentrated green and its sunlight, NDVI), the green
sites and their entrances.  A site is the union of every public green polygon
touching it and its entrances are where the whole street layer crosses its
boundary, so they are found once on the whole layers and every partition
walks to the same points.  (The sunlight of a community's green depends on
the tallest building of the whole layer, which sets how far shadows are
looked for; the community figures are therefore not partitioned.)

Why the partitioned distances are exact: the argument of
:mod:`gcgeo.batch.partition`, with the living circle's plan.  Every home the
service measures (:func:`gcgeo.analysis.green.service_homes`), with its whole
community, belongs to the *core* of one partition; each entrance is *owned*
by the cell holding it.  A partition gets its core communities and homes,
every site, and the streets and entrances that intersect the box around its
core widened by the halo::

    halo = largest service radius + the service's snapping tolerance + join tolerance

A home's distance counts only up to the largest radius ``D`` (the cutoff,
beyond it NaN); a path that short stays in the disc of radius ``D`` around
the home, whose streets are all in the partition, whole, and an entrance it
reaches lies in the disc too.  A home or such an entrance snaps to the
nearest street within the snapping tolerance, which is inside the box, so to
the same street as in the whole run; an entrance whose nearest street lies
outside the box is more than ``D`` from every core home in both runs.
Residents come from whole communities, so they are the same.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError
from .partition import Partition, grid_size, in_box, plan

log = logging.getLogger(__name__)

__all__ = ["green", "halo", "partition_layers", "run_partition", "split"]

#: the options of the green analysis a partitioned run takes
PASSED = ("raster", "red", "nir", "ndvi_threshold", "join_tolerance", "split_crossings")


def _network_options(rules: Any, join_tolerance: float | None,
                     split_crossings: bool | None) -> tuple[float, bool]:
    """The join tolerance and crossing rule the service walks with (as the whole run)."""
    from ..network import join_tolerance as network_join_tolerance
    from ..network import split_crossings as network_split_crossings

    join = float(join_tolerance if join_tolerance is not None else network_join_tolerance(rules))
    split = bool(split_crossings if split_crossings is not None
                 else network_split_crossings(rules))
    return join, split


def halo(rules: Any = None, *, join_tolerance: float | None = None) -> float:
    """The halo around a partition's core (m): the larger service radius, the
    service's snapping tolerance and the join tolerance."""
    from .. import rules as _rules

    R = _rules.load("green", rules)
    radius = max(float(_rules.value(R, "service.green_radius")),
                 float(_rules.value(R, "service.park_radius")))
    tol = float(_rules.value(R, "service.snap_tolerance"))
    return radius + tol + _network_options(rules, join_tolerance, None)[0]


def split(layers: Mapping[str, gpd.GeoDataFrame], entrances: gpd.GeoDataFrame, n: int,
          halo_m: float) -> tuple[list[Partition], dict[str, Any]]:
    """The partitions (``homes`` are positions in ``buildings``) and the layers they
    are cut from, in the communities' metric CRS; ``entrances`` those of the whole
    run (:func:`gcgeo.analysis.green.site_entrances`), in that CRS."""
    from ..analysis.green import service_homes
    from ..crs import align, metric
    from ..layers import repair_geometry

    comm = metric(layers["communities"], "layer 'communities'")
    every: dict[str, Any] = {"communities": comm, "entrances": entrances}
    for kind in ("streets", "buildings"):
        every[kind] = align(layers[kind], comm.crs, f"layer '{kind}'", against="the communities")
    for kind in ("communities", "buildings"):
        if not every[kind].index.is_unique:
            raise InputError(f"layer '{kind}' has repeated row labels in its index; a partitioned "
                             "run needs each row labelled once (frame.reset_index(drop=True)).")
    home = service_homes(comm, every["buildings"])
    if home.empty:
        return [], every
    pos = every["buildings"].index.get_indexer(home.index)
    xy = shapely.get_coordinates(home.geometry.to_numpy())
    outline = np.asarray(comm.geometry.values, dtype=object).copy()
    bad = ~(shapely.is_missing(outline) | shapely.is_empty(outline) | shapely.is_valid(outline))
    if bad.any():  # where the plan places a community (its homes were placed by the cleaned outline)
        outline[bad] = repair_geometry(outline[bad])[0]
    parts = plan(xy, home["community_pos"].to_numpy(np.int64),
                 comm.set_geometry(gpd.GeoSeries(outline, index=comm.index, crs=comm.crs)),
                 entrances, n=n, halo_m=halo_m)
    log.info("green service radius in %d partition(s), halo %.0f m", len(parts), halo_m)
    return [Partition(index=p.index, homes=pos[p.homes], communities=p.communities,
                      owned=p.owned, box=p.box) for p in parts], every


def partition_layers(every: Mapping[str, gpd.GeoDataFrame], part: Partition
                     ) -> dict[str, gpd.GeoDataFrame]:
    """The layers one partition walks: its core communities and homes, the streets
    and entrances around them."""
    buildings = every["buildings"].iloc[np.sort(part.homes)].copy()
    buildings["residential"] = True  # decided once on every building, as the whole run does
    return {"communities": every["communities"].iloc[np.sort(part.communities)],
            "buildings": buildings,
            "streets": in_box(every["streets"], part.box),
            "entrances": in_box(every["entrances"], part.box)}


def run_partition(layers: Mapping[str, gpd.GeoDataFrame], sites: gpd.GeoDataFrame, *,
                  rules: Any = None, options: Mapping[str, Any] | None = None
                  ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The service radius of one partition (a dask task): the shares of its
    communities and its homes' distances, one row per building it was given."""
    from .. import rules as _rules
    from ..analysis.green import service_distances

    opts = dict(options or {})
    R = _rules.load("green", rules)
    join, cross = _network_options(rules, opts.get("join_tolerance"), opts.get("split_crossings"))
    shares, origins = service_distances(
        layers["communities"], layers["buildings"], layers["streets"], sites, layers["entrances"],
        green_radius=_rules.value(R, "service.green_radius"),
        park_radius=_rules.value(R, "service.park_radius"),
        snap_tolerance=_rules.value(R, "service.snap_tolerance"),
        join_tolerance=join, split_crossings=cross)
    if len(origins) != len(layers["buildings"]):  # every building given is a home of a community
        raise RuntimeError(f"a partition measured {len(origins)} homes of the "
                           f"{len(layers['buildings'])} it was given")
    return shares, origins


def _stitch(whole: dict[str, Any], results: list[tuple[pd.DataFrame, gpd.GeoDataFrame]],
            parts: list[Partition], every: Mapping[str, Any]) -> dict[str, Any]:
    """The whole run's outputs with the partitions' shares and origins put in:
    communities in the layer's order, homes in the buildings' order."""
    out = dict(whole)
    shares = pd.concat([s for s, _ in results]).loc[every["communities"].index]
    comm = whole["green_communities"].copy()
    for col in shares.columns:
        comm[col] = shares[col]  # on the same index, keeping the column's type
    out["green_communities"] = comm
    order = np.argsort(np.concatenate([np.sort(p.homes) for p in parts]), kind="stable")
    origins = pd.concat([o for _, o in results], ignore_index=True).iloc[order]
    out["green_origins"] = origins.reset_index(drop=True)
    out["green_entrances"] = every["entrances"]
    return out


def green(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    partitions: str | int,
    client: Any = None,
    rules: Any = None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """:func:`gcgeo.analysis.green.run` of ``layers`` with the service radius in
    ``partitions`` (``"grid:N"``) pieces, each a dask task on ``client`` (a
    ``distributed.Client``; None runs them one after the other here), stitched
    into the whole run's outputs.  Takes the green analysis's options.

    One partition, or layers without streets, buildings or homes in a
    community, run it whole.
    """
    from .. import rules as _rules
    from ..analysis import green as gr
    from ..crs import align, metric

    n = grid_size(partitions)
    unknown = sorted(set(options) - set(PASSED))
    if unknown:
        raise InputError(f"a partitioned green analysis takes the options {', '.join(PASSED)}, "
                         f"not {', '.join(unknown)}.")
    opts = {k: v for k, v in options.items() if v is not None}
    if n == 1 or any(layers.get(k) is None or not len(layers[k]) for k in ("streets", "buildings")):
        return gr.run(layers, rules=rules, progress=progress, **opts)
    say = progress or (lambda stage: None)
    # the community figures, the sites and (below) their entrances, once on the whole area
    whole = gr.run(dict(layers, streets=None), rules=rules, progress=progress, **opts)
    say("partitions")
    R = _rules.load("green", rules)
    crs = metric(layers["communities"], "layer 'communities'").crs
    streets = align(layers["streets"], crs, "layer 'streets'", against="the communities")
    entrances = gr.site_entrances(whole["green_sites"], streets,
                                  spacing=_rules.value(R, "service.gate_spacing"))
    parts, every = split(layers, entrances, n, halo(rules, join_tolerance=opts.get("join_tolerance")))
    if len(parts) <= 1:
        return gr.run(layers, rules=rules, progress=progress, **opts)
    sites = whole["green_sites"]
    walk = {k: v for k, v in opts.items() if k in ("join_tolerance", "split_crossings")}
    pieces = [partition_layers(every, p) for p in parts]
    say(f"{len(parts)} partitions")
    if client is None:
        results = [run_partition(lay, sites, rules=rules, options=walk) for lay in pieces]
    else:
        futures, run = [], uuid.uuid4().hex[:12]
        (site_data,) = client.scatter([sites], hash=False, broadcast=True)
        for p, lay in zip(parts, pieces):
            (data,) = client.scatter([lay], hash=False)
            futures.append(client.submit(run_partition, data, site_data, rules=rules, options=walk,
                                         key=f"gcgeo-green-partition-{run}-{p.index}", pure=False))
        results = client.gather(futures)
    say("stitching")
    return _stitch(whole, results, parts, every)
