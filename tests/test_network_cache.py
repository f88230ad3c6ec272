"""The walking network of a workspace's streets: built once, reused while the streets and the
network rules are unchanged, built again when either changes, never trusted when damaged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _grid import CRS, boxes, grid_streets, grid_workspace, points

from gcgeo import network_cache
from gcgeo import workspace as ws
from gcgeo.analysis import living_circle as lc
from gcgeo.pipeline import run_analysis


@pytest.fixture
def builds(monkeypatch):
    """Counts the networks built from streets while an analysis runs on a workspace."""
    calls = []
    real = network_cache.network_from_streets

    def counting(streets, **kw):
        calls.append(kw)
        return real(streets, **kw)

    monkeypatch.setattr(network_cache, "network_from_streets", counting)
    return calls


@pytest.fixture
def workspace(tmp_path):
    """A 4 × 4 grid of 100 m blocks, homes along it, a supermarket and a park."""
    return grid_workspace(tmp_path / "grid.gpkg")


def _origins(path):
    return pd.DataFrame(ws.read_layer(path, "lc_origins")).drop(columns="geometry")


def _in_memory(path, **options):
    """The same run on the layers in memory, the network built from the streets here."""
    layers = ws.read_layers(path, ["streets", "buildings", "facilities"])
    out = lc.run(layers, isochrones="none", **options)
    return pd.DataFrame(out["lc_origins"]).drop(columns="geometry")


def _same(a, b):
    """The same homes at the same distances, served alike, on or off the network."""
    cols = ["building_id", "connector_m", "off_network",
            *[c for c in a.columns if c.startswith(("dist_", "served_"))]]
    assert list(b[cols].columns) == cols
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True),
                                  check_dtype=False)


def test_built_once_then_reused_while_the_streets_are_unchanged(workspace, builds, caplog):
    caplog.set_level("INFO", logger="gcgeo.network_cache")
    run_analysis(workspace, "living_circle", isochrones="none")
    assert len(builds) == 1 and network_cache.cache_path(workspace).is_file()
    first = _origins(workspace)
    _same(first, _in_memory(workspace))
    run_analysis(workspace, "living_circle", isochrones="none")
    run_analysis(workspace, "living_circle", isochrones="none")
    assert len(builds) == 1  # read back twice, never built again
    assert sum("read from" in r.message for r in caplog.records) == 2
    _same(_origins(workspace), first)
    # the cache is a file beside the workspace, never a layer of it
    assert not {n for n, _ in pyogrio.list_layers(workspace)} & {"network", "gcgeo_network"}
    assert network_cache.cache_path(workspace).parent == workspace.parent


def test_green_and_supply_walk_the_kept_network_too(workspace, builds):
    """One network for every analysis walking the streets: green's service radius and the
    supply analysis read the network the living circle kept (and keep it when first), with
    the results of their own network built from the streets."""
    from gcgeo.analysis import green, supply

    ws.add_layer(workspace, "communities", boxes([
        {"id": "C1", "name": "West", "box": (0, 0, 200, 400)},
        {"id": "C2", "name": "East", "box": (200, 0, 400, 400)}]))
    ws.add_layer(workspace, "green_space", boxes([
        {"id": "G1", "kind": "park", "public": True, "box": (110, 110, 190, 190)},
        {"id": "G2", "kind": "pocket_park", "public": True, "box": (310, 310, 390, 390)}]))
    run_analysis(workspace, "green")
    assert len(builds) == 1  # green built it and kept it
    run_analysis(workspace, "living_circle", isochrones="none")
    run_analysis(workspace, "supply")
    run_analysis(workspace, "green")
    assert len(builds) == 1
    layers = ws.read_layers(workspace, ["communities", "green_space", "streets", "buildings", "facilities"])
    own = green.run(layers)["green_origins"]
    kept = ws.read_layer(workspace, "green_origins")
    cols = ["dist_green_m", "dist_park_m", "off_network"]
    pd.testing.assert_frame_equal(pd.DataFrame(kept[cols]).reset_index(drop=True),
                                  pd.DataFrame(own[cols]).reset_index(drop=True), check_dtype=False)
    assert kept["dist_green_m"].notna().all()
    own = pd.DataFrame(supply.run(layers)["supply_homes"])
    kept = pd.DataFrame(ws.read_layer(workspace, "supply_homes"))
    pd.testing.assert_frame_equal(kept.sort_values("origin_id").reset_index(drop=True)[own.columns],
                                  own.sort_values("origin_id").reset_index(drop=True), check_dtype=False)
    assert len(own)


def test_built_again_when_the_streets_change(workspace, builds):
    run_analysis(workspace, "living_circle", isochrones="none")
    before = _origins(workspace).set_index("building_id")
    # the street H1 walks along to the supermarket at (0, 0) is taken away: it walks round
    streets = grid_streets(4)
    gone = shapely.LineString([(0, 0), (100, 0)])
    streets = streets[~streets.geometry.apply(lambda g: g.equals(gone))]
    ws.add_layer(workspace, "streets", streets, overwrite=True)
    run_analysis(workspace, "living_circle", isochrones="none")
    assert len(builds) == 2
    after = _origins(workspace)
    _same(after, _in_memory(workspace))
    after = after.set_index("building_id")
    # H1 at (65, 10): before, 10 m to the street y = 0 and 65 m along it; after, 35 m to the
    # street x = 100, then up to (100, 100), along to (0, 100) and down to (0, 0)
    assert before.loc["H1", "dist_supermarket_m"] == pytest.approx(10 + 65)
    assert after.loc["H1", "dist_supermarket_m"] == pytest.approx(35 + 90 + 100 + 100)


def test_built_again_when_the_streets_are_edited_outside_gcgeo(workspace, builds):
    """A street moved in QGIS (the layer rewritten in place, gcgeo's table of layers untouched)."""
    run_analysis(workspace, "living_circle", isochrones="none")
    streets = pyogrio.read_dataframe(workspace, layer="streets")
    streets.geometry = shapely.transform(streets.geometry.values, lambda c: c + [0.0, 1.0])
    pyogrio.write_dataframe(streets, workspace, layer="streets", driver="GPKG")
    run_analysis(workspace, "living_circle", isochrones="none")
    assert len(builds) == 2
    _same(_origins(workspace), _in_memory(workspace))


@pytest.mark.parametrize("options", [{"join_tolerance": 3.0}, {"split_crossings": True}])
def test_built_again_when_the_network_rules_change(workspace, builds, options, tmp_path):
    run_analysis(workspace, "living_circle", isochrones="none")
    run_analysis(workspace, "living_circle", isochrones="none", **options)
    assert len(builds) == 2
    assert {k: builds[1][k] for k in options} == options
    _same(_origins(workspace), _in_memory(workspace, **options))
    run_analysis(workspace, "living_circle", isochrones="none", **options)
    assert len(builds) == 2
    # the same rule from a rules file is the same network
    key, value = next(iter(options.items()))
    rules = tmp_path / "rules.toml"
    rules.write_text(f"[network.{key}]\nvalue = {str(value).lower()}\n", encoding="utf-8")
    run_analysis(workspace, "living_circle", rules=rules, isochrones="none")
    assert len(builds) == 2


def test_a_damaged_or_foreign_file_is_never_trusted(workspace, builds):
    run_analysis(workspace, "living_circle", isochrones="none")
    first = _origins(workspace)
    cache = network_cache.cache_path(workspace)
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])  # cut short
    run_analysis(workspace, "living_circle", isochrones="none")
    assert len(builds) == 2
    _same(_origins(workspace), first)
    # a network stored for other streets (another workspace's file copied here) is not used
    other = workspace.with_name("other.gpkg")
    ws.init(other, name="other", crs=CRS)
    ws.add_layer(other, "streets", grid_streets(2))
    key = network_cache.network_key(other, join_tolerance=0.0, split_crossings=False)
    network_cache.workspace_network(other, ws.read_layer(other, "streets"), key,
                                    join_tolerance=0.0, split_crossings=False)
    network_cache.cache_path(other).replace(cache)
    run_analysis(workspace, "living_circle", isochrones="none")
    assert len(builds) == 4
    _same(_origins(workspace), first)


def test_stored_and_read_back_equal(workspace):
    key = network_cache.network_key(workspace, join_tolerance=0.0, split_crossings=False)
    streets = ws.read_layer(workspace, "streets")
    built = network_cache.workspace_network(workspace, streets, key, join_tolerance=0.0,
                                            split_crossings=False)
    back = network_cache.stored_network(workspace, key)
    assert back is not None
    assert back.nodes.equals(built.nodes) and back.crs == built.crs
    for name in ("x", "y", "u", "v", "weight", "geom_length"):
        np.testing.assert_array_equal(getattr(back, name), getattr(built, name))
    # the lines are made from the stored coordinates only when read; the snapping index
    # made from those coordinates is the one made from the lines
    assert back.geometry is None and back.ragged is not None
    mine = back.snap_index
    assert "lines" not in back._cache
    theirs = built.snap_index
    assert mine is not None and theirs is not None
    for name in ("x0", "y0", "dx", "dy", "inv_len2", "seg_len", "start", "edge", "piece_seg"):
        np.testing.assert_array_equal(getattr(mine, name), getattr(theirs, name))
    np.testing.assert_array_equal(mine.kd.data, theirs.kd.data)
    assert shapely.equals_exact(back.lines, built.geometry, tolerance=0).all()
    assert shapely.equals_exact(back.given_lines, built.given_lines, tolerance=0).all()
    # each edge's streets row, for the what-if's street changes
    assert built.street is not None and back.street is not None
    assert back.street.tolist() == built.street.tolist() and back.street.dtype == object


@pytest.mark.parametrize("labels, kept", [
    (lambda n: [f"S{i}" for i in range(n)], True),
    (lambda n: list(range(100, 100 + n)), True),
    (lambda n: [i if i % 2 else f"S{i}" for i in range(n)], False),  # mixed: not kept, rebuilt
])
def test_street_labels_kept_when_plain(workspace, labels, kept):
    from dataclasses import replace

    key = network_cache.network_key(workspace, join_tolerance=0.0, split_crossings=False)
    built = network_cache.build_network(ws.read_layer(workspace, "streets"), join_tolerance=0.0,
                                        split_crossings=False)
    street = np.empty(built.n_edges, dtype=object)
    street[:] = labels(built.n_edges)
    assert network_cache.keep_network(workspace, key, replace(built, street=street))
    back = network_cache.stored_network(workspace, key)
    assert back is not None
    if kept:
        assert back.street.tolist() == street.tolist()
        assert [type(v) for v in back.street] == [type(v) for v in street]
    else:
        assert back.street is None


def test_a_failed_run_keeps_no_network(workspace, builds):
    """The network is kept only once the results are stored: a run that fails leaves the
    folder as it was."""
    from gcgeo import AnalysisError

    ws.add_layer(workspace, "communities", points([{"id": "C1", "xy": (200, 200)}]))
    with pytest.raises(AnalysisError, match="polygons"):
        run_analysis(workspace, "living_circle", isochrones="none")
    assert len(builds) == 1 and not network_cache.cache_path(workspace).exists()


def test_streets_read_on_a_stored_network_only_for_area_facilities(workspace, builds, monkeypatch):
    """With the network stored, the streets layer is read only when a facility is an area
    (reached where a street crosses its outline), and the results are those of a run that
    read it."""
    run_analysis(workspace, "living_circle", isochrones="none")
    asked = []
    real = ws.read_layers

    def reading(path, names=None):
        asked.extend(names or ["all"])
        return real(path, names)

    monkeypatch.setattr(ws, "read_layers", reading)
    run_analysis(workspace, "living_circle", isochrones="none")
    assert "streets" not in asked and "facilities" in asked
    _same(_origins(workspace), _in_memory(workspace))
    # the park drawn as an area across the streets x = 300 and y = 300: its entrances are
    # where they cross its outline
    park = boxes([{"id": "p", "category": "park", "box": (250, 250, 350, 350)}])
    facilities = pd.concat([points([{"id": "s", "category": "supermarket", "xy": (0, 0)}]), park],
                           ignore_index=True)
    ws.add_layer(workspace, "facilities", facilities, overwrite=True)
    asked.clear()
    run_analysis(workspace, "living_circle", isochrones="none")
    assert "streets" in asked and len(builds) == 1  # read for the park, the network still stored
    got = _origins(workspace)
    _same(got, _in_memory(workspace))
    # H3 at (194.5, 387.5): 5.5 m to the street x = 200, 87.5 m down it to y = 300, 50 m along
    # that street to the park's outline at (250, 300) (its gates, without the streets: 93 m)
    assert got.set_index("building_id").loc["H3", "dist_park_m"] == pytest.approx(5.5 + 87.5 + 50)


def test_a_network_write_killed_midway_is_swept_by_the_next_command(workspace):
    """The temporary file of a network being kept (a command killed while writing it) goes
    with the workspace's other leftovers; the kept network itself stays."""
    run_analysis(workspace, "living_circle", isochrones="none")
    kept = network_cache.cache_path(workspace)
    left = kept.with_name(kept.name + ".k3x_9q2a.tmp")
    left.write_bytes(b"half a network")
    other = kept.with_name("notes.network.npz.k3x_9q2a.tmp")  # not this workspace's
    other.write_bytes(b"someone else's")
    ws.add_layer(workspace, "facilities", points([{"id": "s", "category": "supermarket", "xy": (0, 0)}]),
                 overwrite=True)
    assert not left.exists() and kept.is_file() and other.exists()
