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
import itertools
import json
import math
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


# --- colours that look alike ------------------------------------------------------------------------
#
# Two hex colours can differ and still look the same (an orange bus stop beside homes lacking two
# facility types in orange). Within one view, entries of different meaning must differ by a
# CIEDE2000 colour difference of at least ``_LOOK_APART``: about ten times a just-noticeable
# difference, so two small symbols on a map or a legend read apart, not just side by side.
# Implemented here from the published formula (G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000
# color-difference formula: implementation notes, supplementary test data, and mathematical
# observations", Color Res. Appl. 30(1), 2005), independently of the palette, and checked on rows
# of the paper's Table 1.

_LOOK_APART = 10.0


def _lab(colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB ``#rrggbb`` colour."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883
    fx, fy, fz = (t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in (x, y, z))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _ciede2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 colour difference of two CIELAB colours (k_L = k_C = k_H = 1)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dhp = 0.0
    if c1p * c2p:
        dhp = h2p - h1p
        dhp = dhp - 360 if dhp > 180 else dhp + 360 if dhp < -180 else dhp
    d_l, d_c = l2 - l1, c2p - c1p
    d_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp / 2))
    l_bar, c_bar_p = (l1 + l2) / 2, (c1p + c2p) / 2
    if not c1p * c2p:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar_p, 1 + 0.015 * c_bar_p * t
    r_t = (-math.sin(math.radians(60 * math.exp(-(((h_bar - 275) / 25) ** 2))))
           * 2 * math.sqrt(c_bar_p ** 7 / (c_bar_p ** 7 + 25 ** 7)))
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def _look_apart(c1: str, c2: str) -> float:
    return _ciede2000(_lab(c1), _lab(c2))


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [
    # Sharma, Wu & Dalal (2005), Table 1, pairs 1, 7, 11, 15, 17, 25 and 34: the blue region's
    # rotation term, a neutral, both sides of the hue discontinuity, a large difference, a natural
    # pair and a very dark one
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, -0.001, 2.49), (50.0, 0.0011, -2.49), 4.7461),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
])
def test_ciede2000_gives_the_published_differences(lab1, lab2, expected):
    assert _ciede2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)
    assert _ciede2000(lab2, lab1) == pytest.approx(expected, abs=5e-5)


def test_lab_of_srgb_primaries():
    # CIELAB (D65) of sRGB white, black and red as published (e.g. Lindbloom's calculator)
    assert _lab("#ffffff") == pytest.approx((100.0, 0.0, 0.0), abs=1e-3)
    assert _lab("#000000") == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    assert _lab("#ff0000") == pytest.approx((53.2408, 80.0925, 67.2032), abs=2e-3)


_GREYS = {("other",), ("no data",)}


def _must_differ(w1, l1, w2, l2) -> bool:
    """Whether two legend entries of one view (meanings ``w1``, ``w2`` of layers ``l1``, ``l2``)
    must look apart: not when they mean the same, nor two greys (no data, other…), nor two
    classes or tiers of one layer's ramp (neighbouring steps of a ramp are meant to be near)."""
    if w1 == w2 or (w1 in _GREYS and w2 in _GREYS):
        return False
    return not (l1 == l2 and w1[0] == w2[0] and w1[0] in ("class", "tier"))


def _alike(drawn: list[tuple[str, maps.Styled]]) -> list[str]:
    """Pairs of legend entries of different meaning in one view whose colours look alike.

    Exempt, among themselves only: the classes of one layer's class ramps (graded light to
    dark by design; a layer drawn as several class maps — green ratio, green per person, share
    within reach — is the same features drawn one map at a time: the figure draws the one shown,
    the interactive map lists a class map's legend only while it is on); "other" and "no data".
    """
    out = []
    for view in dict.fromkeys(v for v, _ in drawn):
        entries = {}
        for _, s in (d for d in drawn if d[0] == view):
            for item in s.legend:
                what = meaning(s, item)
                entries.setdefault((what, item.color.lower()), (_layer(s.key), f"{s.key}: {item.label}"))
        for ((w1, c1), (l1, n1)), ((w2, c2), (l2, n2)) in itertools.combinations(entries.items(), 2):
            if not _must_differ(w1, l1, w2, l2):
                continue
            d = _look_apart(c1, c2)
            if d < _LOOK_APART:
                out.append(f"{view}: {n1} {c1} ~ {n2} {c2} (ΔE00 {d:.1f})")
    return sorted(out)


def test_colours_of_different_meaning_in_a_view_look_different(layers):
    drawn, _ = _drawn(layers, "zh")
    alike = _alike(drawn)
    assert not alike, "colours that look alike in one view:\n" + "\n".join(alike)


# What a view can draw in any workspace, beyond the test county's data: each view's groups of
# colours (a class ramp as one group, its classes exempt among themselves).
_POSSIBLE = {
    "living_circle": {"share": palette.SHARE_OF_RESIDENTS, "tiers": palette.TIERS, "gaps": palette.GAPS,
                      "not served": (palette.NOT_SERVED,), "communities": (palette.COMMUNITIES,),
                      # homes and gaps of layers lacking their tier flags and counts
                      "homes": (palette.HOMES,), "gaps uncounted": (palette.GAPS_UNCOUNTED,),
                      **{f"facility {k}": (c,) for k, c in palette.FACILITY_CATEGORIES.items()}},
    "green": {"green sites": tuple(palette.GREEN_SITES.values()), "entrances": (palette.ENTRANCES,),
              **{f"green origins {i}": (c,) for i, c in enumerate(palette.GREEN_ORIGINS)},
              **{name: r for name, r in (("green ratio", palette.GREEN_RATIO),
                                        ("green per person", palette.GREEN_PER_PERSON),
                                        ("ndvi", palette.ramp(palette.NDVI, 4)),
                                        ("vegetated", palette.ramp(palette.VEG_FRACTION, 5)),
                                        ("share", palette.SHARE_OF_RESIDENTS))}},
    "checks": {"status": (palette.STATUS["pass"], palette.STATUS["fail"]), "finding": (palette.FINDING,),
               **{f"severity {k}": (c,) for k, c in palette.SEVERITY.items()}},
    "fire_lanes": {"status": (palette.STATUS["pass"], palette.STATUS["fail"], palette.NO_LANES),
                   "fire lanes": (palette.FIRE_LANES,),  # (the inventory's, or a summary without widths)
                   "lane width": (*palette.LANE_WIDTH, palette.LANE_WIDTH_OK), "finding": (palette.FINDING,),
                   **{f"severity {k}": (c,) for k, c in palette.SEVERITY.items()},
                   **{f"obstruction {k}": (c,) for k, c in palette.KINDS["obstructions", "kind"].items()}},
}
#: Groups one layer draws one at a time (alternative class maps of the same communities).
_ALTERNATIVES = {"green ratio", "green per person", "ndvi", "vegetated", "share"}
#: Groups of several colours that are categories, not classes of a ramp.
_CATEGORICAL = {"status", "green sites"}


@pytest.mark.parametrize("view", sorted(_POSSIBLE))
def test_colours_a_view_can_draw_look_different(view):
    groups = _POSSIBLE[view]
    alike = []
    for (g1, r1), (g2, r2) in itertools.combinations(groups.items(), 2):
        if g1 in _ALTERNATIVES and g2 in _ALTERNATIVES:
            continue
        for c1 in r1:
            for c2 in r2:
                if palette.OTHER not in (c1, c2) and _look_apart(c1, c2) < _LOOK_APART:
                    alike.append(f"{g1} {c1} ~ {g2} {c2} (ΔE00 {_look_apart(c1, c2):.1f})")
    for name in _CATEGORICAL & set(groups):  # a class ramp's classes are graded by design
        alike += [f"{name} {c1} ~ {c2}" for c1, c2 in itertools.combinations(groups[name], 2)
                  if _look_apart(c1, c2) < _LOOK_APART]
    assert not alike, f"{view}: colours that look alike:\n" + "\n".join(alike)


# --- colours drawn only when a layer lacks its usual columns ---------------------------------------
#
# A layer stored by an older gcgeo, or one of the planner's own, may lack the columns a view colours
# it by: the view then draws it in one colour of its own (homes without their tier flags, fire lanes
# without their clear width, no fire-lane summary at all…).  Those colours appear beside the others
# of the view too, so the workspace is drawn again lacking them and the same checks apply.


def _dropping(name: str, pattern: str):
    """A variant of the workspace's layers where ``name`` lacks the columns ``pattern`` matches."""
    def make(layers):
        frame = layers[name]
        gone = [c for c in frame.columns if re.fullmatch(pattern, str(c))]
        assert gone, f"{name}: no column matches {pattern}"
        return {**layers, name: frame.drop(columns=gone)}
    return make


def _leaving_out(name: str):
    """A variant of the workspace's layers without the layer ``name``."""
    return lambda layers: {k: v for k, v in layers.items() if k != name}


#: Variant → (how to make it from the workspace's layers, the view it changes).
_FALLBACKS = {
    "homes without tier flags": (_dropping("lc_origins", r"(all_within|served)_.+"), "living_circle"),
    "fire lanes without their width": (
        _dropping("fire_lanes_summary", r"(clear_width_min|min_clear_width|clear_width|min_width|width)_m"),
        "fire_lanes"),
    "fire lanes without a summary": (_leaving_out("fire_lanes_summary"), "fire_lanes"),
    "gaps without counts": (_dropping("lc_gaps", r"n_missing|missing_.+"), "living_circle"),
    "communities without shares": (_dropping("lc_communities", r"share_.+"), "living_circle"),
    "fire communities without findings": (_dropping("fire_communities", r"criterion8|n_findings|findings"),
                                          "fire_lanes"),
    "green communities without figures": (
        _dropping("green_communities",
                  r"green_ratio|public_green_per_person_m2|share_within_.+|ndvi_mean|veg_fraction"), "green"),
    "an inventory check without statuses": (_dropping("garbage_communities", r"status"), "garbage"),
}


def _view_drawn(layers, view: str, lang: str = "zh") -> list[tuple[str, maps.Styled]]:
    return [(view, s) for s in maps.get_view(view).styles(layers, lang=lang)]


@pytest.mark.parametrize("variant", sorted(_FALLBACKS))
def test_colours_drawn_for_a_layer_lacking_its_columns_look_different(layers, variant):
    make, view = _FALLBACKS[variant]
    before = {(s.key, str(c).lower()) for _, s in _view_drawn(layers, view) for c in s.colors}
    drawn = _view_drawn(make(layers), view)
    # the variant draws a colour the full workspace does not: the fallback is drawn
    assert {(s.key, str(c).lower()) for _, s in drawn for c in s.colors} - before, variant
    for _, s in drawn:
        rows = {str(c).lower() for c in s.colors}
        shown = {i.color.lower() for i in s.legend}
        assert rows <= shown, f"{variant}: {s.key} drawn in colours its legend does not name: {rows - shown}"
    alike = _alike(drawn)
    assert not alike, f"{variant}: colours that look alike:\n" + "\n".join(alike)


# --- polygons drawn faded -----------------------------------------------------------------------------
#
# Polygons are filled at a layer's fill opacity (0.06 to 0.6) over a white page (the figures have no
# basemap; the interactive map's light tiles are near white): the colour seen is the fill blended
# with white.  Faded fills of different meaning that one view draws side by side must still look
# apart.


def _faded(colour: str, opacity: float, under: str = "#ffffff") -> str:
    """``colour`` drawn at ``opacity`` over ``under`` (sRGB values blended, as browsers and
    matplotlib blend them)."""
    top, bottom = ([int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in (colour, under))
    return "#" + "".join(f"{round(opacity * t + (1 - opacity) * b):02x}" for t, b in zip(top, bottom))


def test_faded_blends_as_by_hand():
    assert _faded("#000000", 0.5) == "#808080"
    assert _faded("#d73027", 1.0) == "#d73027" and _faded("#d73027", 0.0) == "#ffffff"
    # 0.45 × (26, 152, 80) + 0.55 × 255 = (151.95, 208.65, 176.25)
    assert _faded("#1a9850", 0.45) == "#98d1b0"


def _faded_alike(drawn: list[tuple[str, maps.Styled]]) -> dict[tuple[str, frozenset[str]], str]:
    """Pairs of fills of different meaning in one view's polygon layers whose faded colours look
    alike (the exemptions of :func:`_alike`): (view, the two fill colours) → what they are."""
    out = {}
    for view in dict.fromkeys(v for v, _ in drawn):
        entries = {}
        for _, s in (d for d in drawn if d[0] == view):
            if s.geom_kind != "polygon":
                continue
            for item in s.legend:
                colour = item.color.lower()
                entries.setdefault((meaning(s, item), _faded(colour, s.fill_opacity)),
                                   (_layer(s.key), colour, f"{s.key}: {item.label} {colour}@{s.fill_opacity:g}"))
        for ((w1, f1), (l1, c1, n1)), ((w2, f2), (l2, c2, n2)) in itertools.combinations(entries.items(), 2):
            if not _must_differ(w1, l1, w2, l2):
                continue
            d = _look_apart(f1, f2)
            if d < _LOOK_APART:
                out[view, frozenset((c1, c2))] = f"{view}: {n1} → {f1} ~ {n2} → {f2} (ΔE00 {d:.1f})"
    return out


#: Faded fills known to look alike (ΔE00 8.0–9.8 over white), which no clean palette change parts:
#: kinds of green of the inventory's green space (a park, a pocket park, a garden are greens of one
#: family at 0.6), and the green sites drawn over the green-ratio classes of their communities.
_FADED_KNOWN = {
    ("inventory", frozenset(("#1b7837", "#4eae60"))),   # community park ~ pocket park, 8.8
    ("inventory", frozenset(("#4eae60", "#7fbc41"))),   # pocket park ~ garden, 8.6
    ("inventory", frozenset(("#7fbc41", "#c6f68a"))),   # garden ~ attached green, 8.6
    ("inventory", frozenset(("#f6e8c3", "#d9f0d3"))),   # square ~ grass, 9.5
    ("green", frozenset(("#c7e9c0", "#aefce4"))),       # ratio 10–20 % ~ green site, 8.0
    ("green", frozenset(("#a1d99b", "#aefce4"))),       # ratio 20–25 % ~ green site, 9.5
    ("green", frozenset(("#006d2c", "#30540c"))),       # ratio ≥ 40 % ~ park site, 9.8
}


def test_faded_fills_of_different_meaning_in_a_view_look_different(layers):
    drawn, _ = _drawn(layers, "zh")
    assert any(s.geom_kind == "polygon" and s.fill_opacity < 1 for _, s in drawn)
    alike = _faded_alike(drawn)
    new = [text for key, text in sorted(alike.items(), key=lambda kv: kv[1]) if key not in _FADED_KNOWN]
    assert not new, "faded fills that look alike in one view:\n" + "\n".join(new)
    # a pair parted since: take it off the list
    assert _FADED_KNOWN <= set(alike), _FADED_KNOWN - set(alike)


def test_green_sites_not_told_apart_as_parks_are_named_in_the_legend(layers):
    """Green sites without ``is_park`` are drawn in the colour of green sites that are not
    parks, and the legend names that colour (every colour drawn has its entry)."""
    from gcgeo.maps._layers import style_green_sites

    s = style_green_sites(layers["green_sites"].drop(columns=["is_park"]), lang="zh")
    assert {str(c).lower() for c in s.colors} == {palette.GREEN_SITES["green"].lower()}
    assert [i.color.lower() for i in s.legend] == [palette.GREEN_SITES["green"].lower()]
