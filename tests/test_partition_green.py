"""The green analysis with its service radius partitioned equals the whole run.

Central Helsinki from OpenStreetMap (tests/data/osm/helsinki_center.osm.pbf,
projected to ETRS-TM35FIN): its streets, buildings and green space.  The
extract's few communities are replaced by a seeded grid of 150 m blocks
(residents given for most, missing for some), and 3000 seeded homes are
added around random street points, some with their residents given.  The
whole run (:func:`gcgeo.analysis.green.run`) is the reference.
"""

from __future__ import annotations

import distributed
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _partition import helsinki, home_boxes, near_streets, same, workspace_of

from gcgeo import InputError
from gcgeo.analysis import green as gr
from gcgeo.batch import partition_green as PG

pytestmark = pytest.mark.slow

#: the sun sampled every two hours: the sunlight of Helsinki's low winter sun is slow to draw,
#: and it is not partitioned (both runs draw it once on the whole area)
COARSE_SUN = {"sunlight": {"interval": 120}}
#: radii short enough that a 4 × 4 grid's partitions each see only part of the centre
#: (the extract is 1.0 × 1.7 km)
SHORT = {"service": {"green_radius": 120, "park_radius": 250, "snap_tolerance": 30}, **COARSE_SUN}
GREEN, PARK = "share_within_120m_green", "share_within_250m_park"


@pytest.fixture(scope="module")
def layers():
    out = helsinki("streets", "buildings", "green_space")
    rng = np.random.default_rng(21)
    minx, miny, maxx, maxy = out["streets"].total_bounds
    x0, y0 = np.meshgrid(np.arange(minx, maxx, 150.0), np.arange(miny, maxy, 150.0))
    x0, y0 = x0.ravel(), y0.ravel()
    pop = rng.integers(50, 900, len(x0)).astype(float)
    pop[rng.random(len(x0)) < 0.25] = np.nan
    out["communities"] = gpd.GeoDataFrame(
        {"id": [f"c{i}" for i in range(len(x0))], "name": [f"block {i}" for i in range(len(x0))],
         "population": pop, "old_estate": rng.random(len(x0)) < 0.3},
        geometry=shapely.box(x0, y0, x0 + 150, y0 + 150), crs=3067)
    xy = near_streets(out["streets"], rng, 3000)
    given = np.where(rng.random(len(xy)) < 0.2, rng.integers(1, 40, len(xy)), np.nan)
    homes = home_boxes(xy, floors=rng.integers(1, 9, len(xy)), population=given)
    out["buildings"] = pd.concat([out["buildings"], homes], ignore_index=True)
    return out


@pytest.fixture(scope="module")
def whole(layers):
    return gr.run(layers, rules=SHORT)


def _compare(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for name in want:
        same(got[name], want[name], name)


def test_the_whole_run_measures_homes_served_and_not(whole):
    """The reference is worth comparing: many homes, near and far from green and parks."""
    o = whole["green_origins"]
    assert len(o) > 1500
    for col, radius in (("dist_green_m", 120), ("dist_park_m", 250)):
        d = o[col].to_numpy(float)
        within = np.nan_to_num(d, nan=np.inf) <= radius
        assert 0.1 < within.mean() < 0.9, (col, within.mean())
        assert np.isfinite(d).sum() > 500
    shares = whole["green_communities"][[GREEN, PARK]].dropna()
    assert len(shares) > 30 and shares.nunique().min() > 10
    assert whole["green_sites"]["is_park"].any()
    assert (whole["green_entrances"]["entrance"] == "path").any()


def test_grid_of_sixteen_on_a_dask_cluster_equals_the_whole_run(layers, whole):
    h = PG.halo(SHORT)
    assert h == pytest.approx(250 + 30 + 1, abs=10)  # largest radius + snapping + joining
    parts, every = PG.split(layers, whole["green_entrances"], 16, h)
    assert len(parts) >= 10
    for p in parts:  # every partition sees only part of the streets and the entrances
        lay = PG.partition_layers(every, p)
        assert len(lay["streets"]) < 0.7 * len(layers["streets"])
        assert len(lay["entrances"]) < 0.8 * len(whole["green_entrances"])
    assert sum(len(p.homes) for p in parts) == len(whole["green_origins"])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="2GiB", dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        got = PG.green(layers, partitions="grid:16", client=client, rules=SHORT)
    _compare(got, whole)


def test_grid_of_four_with_the_standard_radii_equals_the_whole_run(layers):
    want = gr.run(layers, rules=COARSE_SUN)
    got = PG.green(layers, partitions="grid:4", rules=COARSE_SUN)
    _compare(got, want)
    served = want["green_origins"]["served_500m_park"].to_numpy(bool)
    assert 0.05 < served.mean() < 0.999


def test_a_halo_too_narrow_gives_other_distances(layers, whole, monkeypatch):
    """The comparison can fail: a third of the halo loses paths that leave the partition."""
    real = PG.halo
    monkeypatch.setattr(PG, "halo", lambda *a, **k: real(*a, **k) / 3)
    got = PG.green(layers, partitions="grid:16", rules=SHORT)
    cols = ["dist_green_m", "dist_park_m"]
    a = got["green_origins"][cols].to_numpy(float)
    b = whole["green_origins"][cols].to_numpy(float)
    assert (~np.isclose(a, b, equal_nan=True, atol=1e-6)).sum() > 10
    share = got["green_communities"][PARK].to_numpy(float)
    assert (~np.isclose(share, whole["green_communities"][PARK].to_numpy(float),
                        equal_nan=True, atol=1e-6)).any()


def test_options_are_checked(layers):
    with pytest.raises(InputError, match="walking_speed"):
        PG.green(layers, partitions="grid:4", walking_speed=1.2)
    with pytest.raises(InputError, match="grid:N"):
        PG.green(layers, partitions="tiles:4")


def test_without_public_green_and_with_streets_in_degrees_it_still_equals_the_whole_run(layers):
    """No entrance at all (every share 0 with its reason), and streets in another CRS
    than the communities (aligned to theirs, as the whole run does)."""
    private = dict(layers, green_space=layers["green_space"].assign(public=False),
                   streets=layers["streets"].to_crs(4326))
    want = gr.run(private, rules=SHORT)
    assert len(want["green_entrances"]) == 0
    assert want["green_communities"]["service_reason"].str.startswith("no public green").sum() > 30
    _compare(PG.green(private, partitions="grid:9", rules=SHORT), want)


def test_batch_area_with_partitions_stores_the_whole_runs_green_results(layers, whole, tmp_path,
                                                                         monkeypatch):
    """`partitions = "grid:16"` in a project file: the workspace holds what the whole run gives."""
    from gcgeo import workspace as ws
    from gcgeo.batch import read_project, run_batch

    calls = []  # the partitioned run is the one taken (the cluster's workers are threads here)
    real = PG.green
    monkeypatch.setattr(PG, "green", lambda *a, **k: calls.append(k["partitions"]) or real(*a, **k))

    path = workspace_of(tmp_path / "helsinki.gpkg", layers)
    (tmp_path / "short.toml").write_text(
        "[green.service]\ngreen_radius = 120\npark_radius = 250\nsnap_tolerance = 30\n\n"
        "[green.sunlight]\ninterval = 120\n", encoding="utf-8")
    (tmp_path / "p.toml").write_text(
        '[batch]\nreports = false\nresults = false\nanalyses = ["green"]\n\n[[area]]\n'
        'name = "Helsinki"\nworkspace = "helsinki.gpkg"\nrules = "short.toml"\n'
        'partitions = "grid:16"\n', encoding="utf-8")
    project = read_project(tmp_path / "p.toml")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        (res,) = run_batch(project, client=client)
    assert res.status == "done" and res.ran == ["green"], res
    assert calls == ["grid:16"]
    ref = tmp_path / "whole.gpkg"
    ws.init(ref, name="whole", crs="EPSG:3067")
    ws.write_layers(ref, whole, analysis="green")
    for name, frame in whole.items():
        if len(frame):
            same(ws.read_layer(path, name), ws.read_layer(ref, name), name)
