"""A batch's results in one place: GeoParquet per area and layer, and PostGIS.

Two synthetic counties are study areas; each area's task (run_area) writes its
output layers as GeoParquet; the combined folder and the database tables are
compared with the layers each workspace holds.
"""

from __future__ import annotations

import urllib.parse

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _batch import areas_toml, county_workspace
from _postgres import postgres_server

from gcgeo import workspace as ws
from gcgeo.batch import read_project, run_area
from gcgeo.batch.results import area_file, read_results, to_database

pytestmark = pytest.mark.slow

SEEDS = (21, 22)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    for seed in SEEDS:
        county_workspace(root / f"county{seed}.gpkg", seed, name=f"county {seed}")
    (root / "p.toml").write_text('[batch]\nreports = false\nanalyses = ["living_circle", "property"]\n\n'
                                 + areas_toml([(f"县 {s}", f"county{s}.gpkg") for s in SEEDS]),
                                 encoding="utf-8")
    project = read_project(root / "p.toml")
    first = [run_area(a) for a in project.areas]
    again = [run_area(a) for a in project.areas]
    return {"root": root, "project": project, "first": first, "again": again}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame's values as Python objects (Arrow-backed and NumPy-backed text compare alike)."""
    out = pd.DataFrame(frame).copy()
    if "geometry" in out.columns:
        out["geometry"] = gpd.GeoSeries(out["geometry"]).to_wkb()
    return out.astype(object).where(out.notna(), None).reset_index(drop=True)


def test_every_area_layer_written_once(batch):
    results = batch["project"].results
    assert results == batch["root"] / "results"
    for res in batch["first"]:
        assert res.status == "done", res
        assert {"lc_origins", "lc_communities", "lc_gaps", "lc_categories"} <= set(res.results)
        for layer in res.results:
            assert area_file(results, layer, res.name).exists()
    # a rerun finds every file current and writes none
    assert [(r.status, r.results) for r in batch["again"]] == [("unchanged", [])] * len(SEEDS)
    assert not list(results.rglob("*.tmp"))


def test_combined_results_equal_the_areas_layers(batch):
    results = batch["project"].results
    for layer in ("lc_origins", "lc_communities", "lc_categories", "lc_gaps"):
        combined = read_results(results, layer)
        assert set(combined["area"]) == {a.name for a in batch["project"].areas}
        for area in batch["project"].areas:
            want = ws.read_layer(area.workspace, layer)
            got = combined[combined["area"] == area.name].drop(columns="area")
            assert len(got) == len(want) > 0, layer
            assert list(got.columns) == list(want.columns), layer
            pd.testing.assert_frame_equal(_plain(got), _plain(want), obj=layer)
        if isinstance(combined, gpd.GeoDataFrame):
            assert combined.crs == ws.info(batch["project"].areas[0].workspace)["crs"]
    # GeoParquet readers take the layer's folder as one table
    folder = gpd.read_parquet(results / "lc_origins")
    assert len(folder) == sum(len(ws.read_layer(a.workspace, "lc_origins")) for a in batch["project"].areas)


server = pytest.fixture(scope="module")(postgres_server)


def test_combined_results_in_postgis(batch, server):
    import psycopg

    from gcgeo import postgis

    schema = "province_batch"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop schema if exists "{schema}" cascade')
    parts = urllib.parse.urlsplit(server)
    url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode({"schema": schema})))
    tables = to_database(batch["project"].results, url)
    assert f"{schema}.lc_origins" in tables and f"{schema}.lc_categories" in tables
    back = postgis.read_table(url, table="lc_origins")
    want = read_results(batch["project"].results, "lc_origins")
    assert len(back) == len(want)
    assert back.crs == want.crs
    key = ["area", "origin_id"]
    back = back.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    assert back["area"].tolist() == want["area"].tolist()
    dist = [c for c in want.columns if c.startswith("dist_")]
    np.testing.assert_allclose(back[dist].to_numpy(float), want[dist].to_numpy(float), rtol=0, atol=1e-9)
    assert back.geometry.geom_equals_exact(want.geometry, 1e-6).all()
    # a second batch replaces the tables (no duplicate rows)
    to_database(batch["project"].results, url)
    assert len(postgis.read_table(url, table="lc_origins")) == len(want)
