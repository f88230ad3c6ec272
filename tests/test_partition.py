"""A partitioned living circle equals the whole run: central Helsinki cut into a grid.

The walking network, facilities, buildings and communities are OpenStreetMap
(tests/data/osm/helsinki_center.osm.pbf, projected to ETRS-TM35FIN); 3000
seeded homes are added around random street points, and a few facilities of
the categories the extract lacks, so that homes pass and fail every tier.
The whole run (:func:`gcgeo.analysis.living_circle.run`) is the reference,
its isochrones in every mode too.
"""

from __future__ import annotations

import distributed
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _partition import helsinki, home_boxes, near_streets, same, same_isochrones, workspace_of

from gcgeo import InputError
from gcgeo.analysis import living_circle as lc
from gcgeo.batch import partition as P
from gcgeo.batch import partition_isochrones as PI
from gcgeo.values import feature_ids

pytestmark = pytest.mark.slow

#: tiers short enough that a 4 × 4 grid's partitions each see only part of the centre
#: (the extract is 1.0 × 1.7 km)
SHORT = {"tiers": {"5min": 80, "10min": 150, "15min": 250}, "snapping": {"tolerance": 30}}
#: shorter still, for the isochrones drawn per facility and per category (quicker to draw)
TINY = {"tiers": {"5min": 60, "10min": 100, "15min": 160}, "snapping": {"tolerance": 30}}


@pytest.fixture(scope="module")
def layers():
    out = helsinki("streets", "facilities", "buildings", "communities")
    rng = np.random.default_rng(20)
    xy = near_streets(out["streets"], rng, 3000)
    homes = home_boxes(xy, floors=rng.integers(1, 9, len(xy)))
    out["buildings"] = pd.concat([out["buildings"], homes], ignore_index=True)
    missing = ["kindergarten", "elderly_care", "nursing_home", "culture_station"]
    fxy = near_streets(out["streets"], rng, 6 * len(missing))
    extra = gpd.GeoDataFrame({"category": np.repeat(missing, 6)},
                             geometry=shapely.points(fxy), crs=3067)
    out["facilities"] = pd.concat([out["facilities"], extra], ignore_index=True)
    return out


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="2GiB", dashboard_address=None,
                                  host="127.0.0.1") as c:
        yield c


def _compare(got: dict, want: dict) -> None:
    for name in ("lc_origins", "lc_gaps", "lc_communities", "lc_categories"):
        same(got[name], want[name], name)
    same_isochrones(got["lc_isochrones"], want["lc_isochrones"])


def _served_both_ways(origins: pd.DataFrame, tier: float) -> None:
    """Many categories are within the tier for some homes and beyond it for others."""
    dist = [c for c in origins.columns if c.startswith("dist_")]
    within = (origins[dist].fillna(np.inf) <= tier).mean()
    assert ((within > 0.05) & (within < 0.95)).sum() >= 8, within


def test_grid_of_four_equals_the_whole_run(layers):
    want = lc.run(layers)  # isochrones per community, the default
    got = P.living_circle(layers, partitions="grid:4")
    _compare(got, want)
    _served_both_ways(want["lc_origins"], 500)
    dist = [c for c in want["lc_origins"].columns if c.startswith("dist_")]
    assert want["lc_origins"][dist].notna().to_numpy().sum() > 10_000


def test_grid_of_sixteen_on_a_dask_cluster_equals_the_whole_run(layers, cluster):
    want = lc.run(layers, rules=SHORT, isochrones="none")
    _served_both_ways(want["lc_origins"], 150)
    halo = P.halo(SHORT)
    assert halo == pytest.approx(250 + 30 + 1, abs=10)  # largest tier + snapping + joining
    parts, every = P.split(layers, 16, halo)
    assert len(parts) >= 10
    # every partition is cut: it sees only part of the streets and of the facilities
    for p in parts:
        lay, _ = P.partition_layers(every, p)
        assert len(lay["streets"]) < 0.7 * len(layers["streets"])
    assert sum(len(p.homes) for p in parts) == len(want["lc_origins"])
    with distributed.Client(cluster) as client:
        got = P.living_circle(layers, partitions="grid:16", client=client, rules=SHORT,
                              isochrones="none")
    _compare(got, want)


def test_a_category_one_partition_holds_and_parks_by_their_entrances(layers):
    """A category with one facility in the whole area is "in the data" for every
    partition's homes; parks drawn as areas are reached at their entrances."""
    fac = layers["facilities"]
    kinds = shapely.get_type_id(fac.geometry.to_numpy())
    assert np.isin(kinds, (3, 6)).any()  # OSM areas kept as polygons
    cat = fac["category"].astype(str)
    one = cat.value_counts().index[-1]
    lone = fac[cat == one].iloc[:1]
    only = dict(layers, facilities=pd.concat([fac[cat != one], lone]))
    want = lc.run(only, rules=SHORT, isochrones="none")
    got = P.living_circle(only, partitions="grid:16", rules=SHORT, isochrones="none")
    _compare(got, want)
    col = "in_data_within_15min"
    assert col in want["lc_origins"].columns
    n = got["lc_categories"].set_index("category").loc[one, "facilities"]
    assert n == 1


def test_a_halo_too_narrow_gives_other_distances(layers, monkeypatch):
    """The comparison can fail: half the halo loses paths that leave the partition."""
    want = lc.run(layers, rules=SHORT, isochrones="none")
    real = P.halo
    monkeypatch.setattr(P, "halo", lambda *a, **k: real(*a, **k) / 3)
    got = P.living_circle(layers, partitions="grid:16", rules=SHORT, isochrones="none")
    dist = [c for c in want["lc_origins"].columns if c.startswith("dist_")]
    a = got["lc_origins"][dist].to_numpy()
    b = want["lc_origins"][dist].to_numpy()
    differ = ~np.isclose(a, b, equal_nan=True, atol=1e-6)
    assert differ.sum() > 10


@pytest.fixture(scope="module")
def few(layers):
    """Fewer facilities, that drawing each one's isochrones stays quick: parks and sports
    grounds drawn as areas (reached at several entrances), points of other categories."""
    fac = layers["facilities"]
    cat = fac["category"].astype(str)
    keep = cat.isin(["pharmacy", "market", "small_sports_ground", "kindergarten", "middle_school"])
    return dict(layers, facilities=fac[keep.to_numpy()])


@pytest.mark.parametrize(("mode", "n"), [("facility", 4), ("dissolved", 4), ("split", 2)])
def test_isochrones_of_a_grid_equal_the_whole_runs(few, mode, n):
    """(Split in two partitions only: each partition divides nearly all of the small
    centre among the facilities, which is slow to draw.)"""
    want = lc.run(few, rules=TINY, isochrones=mode)
    parts, _ = P.split(few, n, PI.halo(P.halo(TINY), TINY))
    got = P.living_circle(few, partitions=f"grid:{n}", rules=TINY, isochrones=mode)
    _compare(got, want)
    iso = want["lc_isochrones"]
    assert len(iso) >= 12 and iso["homes"].sum() > 1000
    # many polygons reach into more than one partition's region (and are stitched)
    regions = [PI.region_polygon(p.region) for p in parts]
    crossing = sum(sum(g.intersects(r) for r in regions) > 1 for g in iso.geometry)
    assert crossing >= len(iso) // (3 if n == 4 else 6), crossing
    if mode != "dissolved":  # an area's entrances, drawn apart, make one outline
        assert not iso.duplicated(["facility_id", "tier"]).any()
        areas = few["facilities"][few["facilities"].geom_type == "Polygon"]
        assert iso["facility_id"].isin(areas["id"]).sum() >= 5
        # in the facilities' order (split: within each category and tier)
        at = pd.Series(np.arange(len(few["facilities"])),
                       index=feature_ids(few["facilities"]).to_numpy())
        pos = iso.assign(pos=at.loc[iso["facility_id"].to_numpy()].to_numpy())
        key = ["category", "tier"] if mode == "split" else []
        assert all(g["pos"].is_monotonic_increasing for _, g in pos.groupby(key or (lambda i: 0)))


def test_isochrones_of_a_halo_too_narrow_differ(few, monkeypatch):
    """The comparison can fail: with a third of the halo, a category's area is wrong
    near the partitions' borders."""
    want = lc.run(few, rules=TINY, isochrones="dissolved")["lc_isochrones"]
    real = PI.halo
    monkeypatch.setattr(PI, "halo", lambda *a, **k: real(*a, **k) / 3)
    got = P.living_circle(few, partitions="grid:4", rules=TINY, isochrones="dissolved")
    a, b = got["lc_isochrones"].geometry.to_numpy(), want.geometry.to_numpy()
    off = shapely.area(shapely.symmetric_difference(a, b)) / np.maximum(shapely.area(b), 1.0)
    assert (off > 1e-4).sum() >= 3, off.max()


def test_partition_spec_and_options_are_checked(layers):
    assert P.grid_size("grid:16") == 16 and P.grid_size(" grid : 2 ") == 2
    for bad in ("grid", "tiles:4", "grid:0", "4x4"):
        with pytest.raises(InputError, match="grid:N"):
            P.grid_size(bad)
    with pytest.raises(InputError, match="origins"):
        P.living_circle(layers, partitions="grid:4", origins=layers["buildings"])
    with pytest.raises(InputError, match="isochrones must be one of"):
        P.living_circle(layers, partitions="grid:4", isochrones="hull")


def test_batch_area_with_partitions_stores_the_whole_runs_results(layers, cluster, tmp_path):
    """`partitions = "grid:4"` in a project file: the workspace holds what the whole run gives."""
    from gcgeo import workspace as ws
    from gcgeo.batch import read_project, run_batch

    path = workspace_of(tmp_path / "helsinki.gpkg", layers)
    (tmp_path / "p.toml").write_text(
        '[batch]\nreports = false\nanalyses = ["living_circle"]\n\n[[area]]\nname = "Helsinki"\n'
        'workspace = "helsinki.gpkg"\npartitions = "grid:4"\nisochrones = "community"\n',
        encoding="utf-8")
    project = read_project(tmp_path / "p.toml")
    assert project.areas[0].partitions == "grid:4" and project.areas[0].isochrones == "community"
    with distributed.Client(cluster) as client:
        (res,) = run_batch(project, client=client)
    assert res.status == "done" and res.ran == ["living_circle"], res
    want = lc.run(ws.read_layers(path, ["streets", "facilities", "buildings", "communities"]),
                  isochrones="community")
    ref = _stored(tmp_path, want)
    for name in ("lc_origins", "lc_gaps", "lc_communities", "lc_categories"):
        same(ws.read_layer(path, name), ws.read_layer(ref, name), name)
    iso = ws.read_layer(path, "lc_isochrones")  # asked for in the project: per community
    assert len(iso) > 100 and iso["community_id"].nunique() > 5
    same_isochrones(iso, ws.read_layer(ref, "lc_isochrones"))


def _stored(tmp_path, outputs):
    """The outputs written to a workspace, to compare as the workspace reads them back."""
    from gcgeo import workspace as ws

    ref = tmp_path / "whole.gpkg"
    ws.init(ref, name="whole", crs="EPSG:3067")
    ws.write_layers(ref, outputs, analysis="living_circle")
    return ref


def test_project_partitions_checked(tmp_path):
    from gcgeo.batch import read_project

    (tmp_path / "p.toml").write_text('[[area]]\nname = "a"\nworkspace = "a.gpkg"\n'
                                     'partitions = "tiles"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"area 'a': partitions must be \"grid:N\""):
        read_project(tmp_path / "p.toml")
