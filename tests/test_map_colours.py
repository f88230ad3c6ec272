"""One map, one meaning per colour: every view of a workspace with every analysis drawn together.

The workspace is the synthetic county (``gcgeo.testing.synthetic_county``) with
every analysis, the scorecard, sites chosen (``gcgeo site``) and a what-if
(``gcgeo whatif``): every view of ``gcgeo map``. Each legend entry the map
writes is given a meaning here, from what the entry stands for (its column and
value or class range, see :class:`gcgeo.maps.LegendItem`), independently of
how the maps choose colours: a status (``status`` and criterion 8 alike), a
severity (its synonyms folded), a facility category (in every layer that
holds one), a living-circle tier (homes served, isochrones), a class of a
quantity (shares of residents served or within reach are one quantity
whichever tier or service), a value of one layer's column, "other", "no data"
(a status unknown is the data not telling, too), else the layer and the
entry's label. The map must give each meaning one colour and each colour one
meaning, and QGIS styles the same layers in the same colours.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from gcgeo import analysis, maps, pipeline, score
from gcgeo import layers as lk
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.labels import ui
from gcgeo.maps import palette, qgis_styles
from gcgeo.testing import synthetic_county

_SEVERITY = {"error": "high", "fail": "high", "warning": "medium", "advisory": "low"}
_SHARE = re.compile(r"share_(all_within|in_data_within|served|within)_")
_TIER_FLAG = re.compile(r"(all_within|served)_(\d+min)")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    county = synthetic_county(0)
    folder = tmp_path_factory.mktemp("colours")
    path = folder / "gaotang.gpkg"
    ws.init(path, name="高唐县", crs=county.crs.to_string())
    for kind, frame in county.layers.items():
        ws.add_layer(path, kind, frame)
    for name in analysis.descriptors():
        pipeline.run_analysis(path, name)
    score.store(path, score.score(path, lang="zh"))
    res = CliRunner().invoke(main, ["site", str(path), "--category", "supermarket", "--k", "2"])
    assert res.exit_code == 0, res.output
    fac = county.layers["facilities"]
    first = fac.geometry.iloc[0]
    new = folder / "new.gpkg"
    gpd.GeoDataFrame({"category": ["kindergarten"]}, geometry=[Point(first.x + 300, first.y + 300)],
                     crs=fac.crs).to_file(new)
    res = CliRunner().invoke(main, ["whatif", str(path), "--add-facility", str(new)])
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture(scope="module")
def layers(workspace):
    return ws.read_layers(workspace)


def _layer(key: str) -> str:
    """The layer a styled layer draws (the what-if's one layer per tier is one layer)."""
    return re.sub(r"_\d+min$", "", key)


def meaning(styled: maps.Styled, item: maps.LegendItem) -> tuple:
    """What ``item`` of ``styled``'s legend says about a feature drawn in its colour."""
    layer = _layer(styled.key)
    if item.within is not None:
        col = item.within[0]
        return ("class", "share of residents" if _SHARE.match(col) else col, item.within[1], item.within[2])
    if item.when:
        out: list[tuple] = []
        for col, v in item.when:
            flag = _TIER_FLAG.fullmatch(col)
            if isinstance(v, str) and v == "other":
                out.append(("other",))
            elif col in ("status", "criterion8"):
                out.append(("no data",) if v == "unknown" else ("status", v))
            elif col == "severity":
                out.append(("severity", _SEVERITY.get(v, v)))
            elif col == "category":
                out.append(("facility category", v))
            elif col == "tier":
                out.append(("tier", v))
            elif flag and v is True:
                out.append(("tier", flag.group(2)))
            else:
                out.append((layer, col, v if isinstance(v, bool | str) else tuple(v)))
        return out[0] if len(out) == 1 else tuple(out)
    if item.rest:
        label = item.label.lower()
        if label in (ui("other", "en").lower(), ui("other", "zh")):
            return ("other",)
        if label in (ui("no_data", "en").lower(), ui("no_data", "zh")):
            return ("no data",)
        return (layer, "rest", label)
    if len(styled.legend) == 1:
        return ("layer", layer)
    return (layer, item.label)


def _drawn(layers, lang: str) -> tuple[list[tuple[str, maps.Styled]], str]:
    m = maps.dashboard(layers, lang=lang, basemap="none")
    styled = [(v, s) for v in m.gcgeo_views  # type: ignore[attr-defined]
              for s in maps.get_view(v).styles(layers, lang=lang)]
    return styled, maps.render_html(m)


def _legend_pairs(page: str) -> set[tuple[str, str]]:
    """(colour, label) of every legend row the page holds."""
    out = set()
    for text in re.findall(r'html: ("(?:[^"\\]|\\.)*")\}', page):
        entry = json.loads(text)
        for colour, label in re.findall(r'style="(?:border-top-color|background):(#[0-9a-fA-F]+)"></i>([^<]*)',
                                        entry):
            out.add((colour.lower(), html.unescape(label)))
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_colour_in_a_map_means_one_thing(layers, lang):
    drawn, page = _drawn(layers, lang)
    views = {v for v, _ in drawn}
    assert {"inventory", "living_circle", "green", "fire_lanes", "supply", "scorecard", "planning"} <= views
    # what the test reads is what the page shows
    pairs = {(i.color.lower(), i.label) for _, s in drawn for i in s.legend}
    assert pairs == _legend_pairs(page)
    meanings: dict[str, set] = defaultdict(set)
    colours: dict[tuple, set] = defaultdict(set)
    where: dict[str, set] = defaultdict(set)
    for view, s in drawn:
        shown = {i.color.lower() for i in s.legend}
        rows = {str(c).lower() for c in s.colors}
        assert rows <= shown, f"{view}/{s.key}: rows drawn in colours its legend does not name: {rows - shown}"
        for item in s.legend:
            what = meaning(s, item)
            meanings[item.color.lower()].add(what)
            colours[what].add(item.color.lower())
            where[item.color.lower()].add(f"{view}/{s.key}: {item.label}")
    shared = [c for c, m in meanings.items() if len(m) > 1]
    assert not shared, "colours meaning several things:\n" + "\n".join(
        f"{c}: " + " | ".join(sorted(where[c])) for c in sorted(shared))
    split = {str(w): sorted(c) for w, c in colours.items() if len(c) > 1}
    assert not split, f"meanings drawn in several colours: {split}"
    # the conventional colours hold wherever the status appears
    assert colours[("status", "pass")] == {"#1a9850"} and colours[("status", "fail")] == {"#d73027"}


def test_qgis_styles_draw_each_layer_in_the_maps_colours(layers):
    drawn, _ = _drawn(layers, "zh")
    by_layer: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for _, s in drawn:
        by_layer[s.key].update((i.color.lower(), i.label) for i in s.legend)
    # the class QGIS adds for values the map has none of yet is "other"
    other = {(i.color.lower(), ui("other_values", "zh")) for _, s in drawn for i in s.legend
             if meaning(s, i) == ("other",)}
    checked = 0
    for name, frame in layers.items():
        if name not in by_layer or not isinstance(frame, gpd.GeoDataFrame):
            continue
        for style in qgis_styles.layer_styles(name, frame, lang="zh"):
            for c in style.renderer.classes:
                pair = (c.color.lower(), c.label)
                if style.renderer.kind == "singleSymbol":
                    assert c.color.lower() in {col for col, _ in by_layer[name]}, (name, pair)
                else:
                    assert pair in by_layer[name] | other, (name, style.name, pair, sorted(by_layer[name]))
                checked += 1
    assert checked > 100


def test_the_palette_gives_each_colour_one_meaning():
    listed = palette.meanings()
    seen: dict[str, list[str]] = defaultdict(list)
    for colour, what in listed:
        assert re.fullmatch(r"#[0-9a-f]{6}", colour), colour
        seen[colour].append(what)
    assert {c: w for c, w in seen.items() if len(w) > 1} == {}
    # every coded value of the inventory layers has a colour of its own, or is "other"
    for (layer, column), values in palette.KINDS.items():
        spec = lk.get_spec(layer)
        assert set(values) == set(spec.column(column).allowed or ()), (layer, column)
    assert palette.kind_color("obstructions", "kind", "car") != palette.kind_color("chargers", "kind", "car")
    assert palette.kind_color("ramps", "kind", "not a kind") == palette.OTHER
    assert [palette.tier_color(m) for m in (5, 10, 15)] == list(palette.TIERS[:3])
