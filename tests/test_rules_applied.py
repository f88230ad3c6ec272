"""Every rule `gcgeo rules` lists is read by something gcgeo runs.

A rule listed but never applied tells a planner a threshold is checked when
it is not.  This test runs everything that reads rules — every registered
analysis (with a raster for each raster it takes), validation, the map, the
report, the OpenStreetMap import and, where present, the scorecard — on the
synthetic county through the command line, with the built-in rule trees
replaced by dicts that record which keys are read.  A threshold table (one
with a ``value``) counts as applied when its ``value`` is read, or the table
is fetched whole with :func:`gcgeo.rules.threshold`.

The rule sets are listed by name from :func:`gcgeo.rules.available`, so a
rule set added later is checked too, with nothing to skip.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gcgeo.rules
from gcgeo import analysis
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.testing import synthetic_county

HELSINKI = Path(__file__).parent / "data" / "osm" / "helsinki_center.osm.pbf"

#: (rule set, key, …) of every key read from a recording rule tree
READ: set[tuple] = set()


#: Modules whose reads are not applying a rule: checking a user's rules against the
#: built-in tree walks every key of it.
_NOT_APPLYING = ("gcgeo.rules._schema",)


def _note(path: tuple) -> None:
    caller = sys._getframe(2).f_globals.get("__name__", "")
    if caller not in _NOT_APPLYING:
        READ.add(path)


class _Recording(dict):
    """A table of a rule tree that records the keys read from it.

    Its path survives ``copy.deepcopy`` (an instance attribute), so the
    copies :mod:`gcgeo.rules` hands out record too.
    """

    def __getitem__(self, key):
        _note(self._path + (key,))
        return super().__getitem__(key)

    def get(self, key, default=None):
        if key in self:
            _note(self._path + (key,))
        return super().get(key, default)


def _recording(node, path):
    if isinstance(node, dict):
        out = _Recording({k: _recording(v, path + (k,)) for k, v in node.items()})
        out._path = path
        return out
    if isinstance(node, list):
        return [_recording(v, path + (i,)) for i, v in enumerate(node)]
    return node


def _thresholds(node, path):
    """Paths of the threshold tables (with a ``value``) below ``node``: what `gcgeo rules` lists."""
    if isinstance(node, dict):
        if "value" in node:
            yield path
            return
        for k, v in node.items():
            yield from _thresholds(v, path + (k,))


#: Rules that choose which other rules apply, set the other way than built in (a rule
#: set whose use depends on such a choice adds it here).
_ALTERNATIVES = """
[green.sunlight.day]
value = "冬至日"

[fire_lanes.turnaround.heavy]
applies = true
"""


def _raster(path: Path, bounds, crs, bands: int) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    x0, y0, x1, y1 = bounds
    data = np.random.default_rng(7).integers(1, 200, size=(max(bands, 1), 60, 60)).astype("uint8")
    with rasterio.open(path, "w", driver="GTiff", width=60, height=60, count=len(data),
                       dtype="uint8", crs=crs,
                       transform=from_origin(x0, y1, (x1 - x0) / 60, (y1 - y0) / 60)) as ds:
        ds.write(data)
    return path


@pytest.fixture
def recorded(monkeypatch):
    """Built-in rule trees that record their reads, and :func:`gcgeo.rules.threshold` too."""
    real_builtin = gcgeo.rules._builtin  # the parsed built-in files, shared and cached
    trees = {}

    def builtin(name):
        if name not in trees:
            trees[name] = _recording(real_builtin(name), (name,))
        return trees[name]

    real_threshold = gcgeo.rules.threshold

    def threshold(rules, dotted):
        out = real_threshold(rules, dotted)
        node = rules
        for part in dotted.split("."):
            node = node[part]
        node.get("value")
        return out

    READ.clear()
    monkeypatch.setattr(gcgeo.rules, "_builtin", builtin)
    monkeypatch.setattr(gcgeo.rules, "threshold", threshold)
    yield READ


def _run_everything(tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, (args, res.output)

    county = synthetic_county(0)
    path = tmp_path / "county.gpkg"
    ws.init(path, name="高唐县", crs=county.crs.to_string())
    for kind, frame in county.layers.items():
        ws.add_layer(path, kind, frame)
    bounds = county.layers["communities"].total_bounds
    for desc in analysis.descriptors().values():
        for r in desc.rasters:
            tif = _raster(tmp_path / f"{desc.name}-{r.name}.tif", bounds, county.crs,
                          max(len(r.bands), 1))
            if r.name not in ws.info(path)["rasters"]:
                ws.add_raster(path, tif, name=r.name,
                              bands={b: i + 1 for i, b in enumerate(r.bands)})
    run("validate", path)
    for name in analysis.names():
        run("analyze", path, name)
    # rules used only under another setting: every on/off option both ways, and the
    # rules that choose between other rules set the other way
    alt = tmp_path / "alternatives.toml"
    alt.write_text(_ALTERNATIVES, encoding="utf-8")
    for desc in analysis.descriptors().values():
        for opt in desc.options:
            if opt.type == "bool":
                flag = opt.flag[2:]
                run("analyze", path, desc.name, f"--{flag}")
                run("analyze", path, desc.name, f"--no-{flag}")
        if any(f"[{s}." in _ALTERNATIVES for s in desc.rule_sets):
            run("analyze", path, desc.name, "--rules", alt)
    run("map", path, "-o", tmp_path / "map.html", "--offline")
    run("report", path, "-o", tmp_path / "report.html")
    if "score" in main.commands:  # the scorecard, where it is part of gcgeo
        run("score", path)
    osm = tmp_path / "helsinki.gpkg"
    run("import-osm", osm, HELSINKI, "--communities", "blocks")
    run("import-osm", tmp_path / "helsinki-auto.gpkg", HELSINKI)


def test_every_listed_rule_is_read_by_something_gcgeo_runs(recorded, tmp_path):
    _run_everything(tmp_path)
    listed = [(name, *p) for name in gcgeo.rules.available()
              for p in _thresholds(gcgeo.rules.load(name), ())]
    assert len(listed) > 50
    unread = [".".join(map(str, p)) for p in listed if p + ("value",) not in recorded]
    assert not unread, ("rules listed by `gcgeo rules` that nothing gcgeo runs reads: apply "
                        "them or remove them from the rules file: " + ", ".join(unread))


def test_the_recorder_sees_a_rule_read_and_one_not_read(recorded):
    """The instrument itself: a rule read through value() and threshold() is seen, an
    unread one is not, also through the copies the rules module hands out."""
    r = gcgeo.rules.load("green")
    gcgeo.rules.value(r, "ndvi.threshold")
    gcgeo.rules.threshold(gcgeo.rules.resolve(("network",))["network"], "gap_report")
    assert ("green", "ndvi", "threshold", "value") in recorded
    assert ("network", "gap_report", "value") in recorded
    assert ("green", "ndvi", "sensitivity", "value") not in recorded
    # a table the user overrides, and a run's rules passed down as a mapping, still record
    run = gcgeo.rules.resolve(("fire_lanes",), {"fire_lanes": {"turnaround": {"heavy": {
        "applies": True}}, "gradient": {"value": 9.0}}})
    mine = gcgeo.rules.load("fire_lanes", run)
    assert gcgeo.rules.value(mine, "turnaround.heavy") == 18.0
    assert gcgeo.rules.value(mine, "gradient") == 9.0
    assert {("fire_lanes", "turnaround", "heavy", "value"),
            ("fire_lanes", "gradient", "value")} <= recorded
    # listing the rules reads no value, nor does checking a user's rules (which
    # walks the whole built-in tree), nor passing a run's rules down as a mapping
    recorded.clear()
    walked = list(_thresholds(gcgeo.rules.load("green"), ()))
    resolved = gcgeo.rules.resolve(("green",), {"green": {"ndvi": {"threshold": 0.4}}})
    gcgeo.rules.load("green", resolved)
    assert walked and not any(p[-1] == "value" for p in recorded)
