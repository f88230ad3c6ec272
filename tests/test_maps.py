"""Maps, figures and report: the rendered HTML, the offline guarantee, the GCJ-02 drawing shift."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from decimal import Decimal
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _pages import inflated, layer_calls
from pyproj import Geod, Transformer

from gcgeo import InputError, LayerError, crs, maps
from gcgeo.maps import _offline, figures, palette
from gcgeo.report import headline_figures, write_report

CDN_HOSTS = ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "netdna.bootstrapcdn.com",
             "unpkg.com", "maxcdn", "googleapis.com")


def _communities(epsg: int = 3067) -> gpd.GeoDataFrame:
    # two 200 m squares in central Helsinki (ETRS-TM35FIN)
    return gpd.GeoDataFrame(
        {"name": ["Kamppi", "Punavuori"], "population": [1200, 800], "old_estate": [True, False]},
        geometry=[shapely.box(385_000, 6_671_800, 385_200, 6_672_000),
                  shapely.box(385_200, 6_671_800, 385_400, 6_672_000)],
        crs=3067,
    ).to_crs(epsg)


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"category": ["pharmacy", "kindergarten", "pharmacy"], "name": ["A", "B", "C"]},
        geometry=shapely.points([385_050, 385_150, 385_300], [6_671_900, 6_671_950, 6_671_850]), crs=3067)


def _unescape(html: str) -> str:
    """The page with JSON \\uXXXX escapes (legend and control labels) turned back into characters."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def _unpack_ring(a: list[int], origin: list[int], scale: int, *, close: bool = False) -> list[list[float]]:
    """A packed line, or a polygon's ring stored open (``close``: closed again, as Leaflet draws it)."""
    xy = np.cumsum(np.asarray(a, dtype=np.int64).reshape(-1, 2), axis=0) + np.asarray(origin)
    if close:
        xy = np.vstack([xy, xy[:1]])
    return (xy / scale).tolist()


def _index(col: dict, i: int) -> int:
    digits = col["x"][i * col["w"]:(i + 1) * col["w"]]
    return sum(pack_digits.index(ch) * 64 ** (len(digits) - 1 - k) for k, ch in enumerate(digits))


pack_digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _geojson_layers(html: str) -> list[dict]:
    """The layers gcgeo drew, parsed back from the page's packed data (``gcgeo.maps._pack``)
    into GeoJSON FeatureCollections, each feature's values named by the layer's fields."""
    out = []
    dec = json.JSONDecoder()
    for written, end in layer_calls(html):
        opts, _ = dec.raw_decode(html, end + 2)
        pack = inflated(written)  # a large layer is deflated (``_pack.deflated``)
        o, s = pack["o"], pack["s"]
        n = len(pack["g"]) // 2 if pack["k"] == "point" else len(pack["g"])
        feats = []
        for i in range(n):
            k = {"p": "point", "l": "line", "a": "polygon"}[pack["t"][i]] if "t" in pack else pack["k"]
            if k == "point" and pack["k"] == "mixed":
                geom = {"type": "Point", "coordinates": [(o[0] + pack["g"][i][0]) / s, (o[1] + pack["g"][i][1]) / s]}
            elif k == "point":
                x, y = pack["g"][2 * i], pack["g"][2 * i + 1]
                geom = {"type": "Point", "coordinates": [(o[0] + x) / s, (o[1] + y) / s]}
            elif k == "line":
                lines = [_unpack_ring(a, o, s) for a in pack["g"][i]]
                geom = {"type": "LineString", "coordinates": lines[0]} if len(lines) == 1 else \
                    {"type": "MultiLineString", "coordinates": lines}
            else:
                polys = [[_unpack_ring(r, o, s, close=True) for r in poly] for poly in pack["g"][i]]
                geom = {"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1 else \
                    {"type": "MultiPolygon", "coordinates": polys}
            props = {"_c": pack["p"][pack["c"] if isinstance(pack["c"], int) else _index(pack["c"], i)]}
            for f, col in zip(opts["fields"], pack["v"]):
                v = col[i] if isinstance(col, list) else col["k"] if "k" in col else col["d"][_index(col, i)]
                if v is not None:
                    props[f] = v.replace("<\\/", "</") if isinstance(v, str) else v
            feats.append({"type": "Feature", "geometry": geom, "properties": props})
        out.append({"type": "FeatureCollection", "features": feats, "options": opts})
    return out


# --- rendered HTML ------------------------------------------------------------------------


def test_layer_functions_stack_and_render_legend_control_and_tooltips():
    m = maps.communities(_communities(), basemap="none")
    assert maps.facilities(_facilities(), m=m) is m
    html = maps.render_html(m)
    fcs = _geojson_layers(html)
    assert [len(fc["features"]) for fc in fcs] == [2, 3]
    assert "gcgeo-legend" in html and "L.control.groupedLayers" in html
    assert '"Communities (2)"' in html and '"Facilities (3)"' in html
    # legend lists the facility categories present, labelled from the living-circle rules
    assert "Pharmacy" in html and "Kindergarten" in html and "Primary school" not in html
    props = fcs[0]["features"][0]["properties"]
    assert props["name"] == "Kamppi" and props["population"] == "1,200" and props["old_estate"] == "yes"


def test_labels_in_chinese():
    m = maps.communities(_communities(), lang="zh", basemap="none")
    maps.facilities(_facilities(), m=m)
    page = _unescape(maps.render_html(m))
    for zh in ("社区名称", "常住人口", "老旧小区", "药店", "幼儿园", "社区 (2)", "配套设施 (3)"):
        assert zh in page, zh
    assert "Community name" not in page and '"Population"' not in page
    props = _geojson_layers(page)[0]["features"][0]["properties"]
    assert props["old_estate"] == "是"


def test_non_json_columns_are_stringified_and_input_untouched():
    g = _communities()
    g["since"] = [dt.date(2021, 5, 1), pd.NaT]
    g["note"] = [Decimal("1.50"), None]
    g["id"] = [["a", "b"], {"x": 1}]
    before = g.copy()
    html = maps.render_html(maps.communities(g, basemap="none"))
    props = [f["properties"] for f in _geojson_layers(html)[0]["features"]]
    assert props[0]["note"] == "1.50" and props[0]["id"] == "a, b" and props[1]["id"] == "x: 1"
    assert "note" not in props[1]  # missing values are left out, not "None"
    pd.testing.assert_frame_equal(g, before)


def test_values_that_read_as_template_syntax_are_drawn_as_they_are():
    # the page's scripts are put in as text, never compiled as jinja templates: a name
    # holding "{#" or "{{ }}" broke the whole map (TemplateSyntaxError) or was changed
    g = _communities()
    g["name"] = ["社区 {# 1", "{{ name }} {% raw %}"]
    html = maps.render_html(maps.dashboard({"communities": g}, offline=True, title="{% if %} 县"))
    names = [f["properties"]["name"] for f in _geojson_layers(html)[0]["features"]]
    assert names == ["社区 {# 1", "{{ name }} {% raw %}"]
    assert 'textContent = "{% if %} \\u53bf";' in html  # the title, as JSON


@pytest.mark.parametrize("geoms, kind", [
    ([shapely.Point(0, 0), None, shapely.MultiPoint([(0, 0), (1, 1)]), shapely.Point()], "point"),
    ([shapely.LineString([(0, 0), (1, 1)]), shapely.MultiLineString([[(0, 0), (1, 0)]])], "line"),
    ([shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)]), None], "polygon"),
    ([shapely.box(0, 0, 1, 1), shapely.Point(0, 0)], "mixed"),
    ([shapely.GeometryCollection([shapely.Point(0, 0)])], "mixed"),
    ([shapely.LinearRing([(0, 0), (1, 0), (1, 1)])], "mixed"),
    ([None, None], "point"),
])
def test_a_layer_is_drawn_as_the_kind_all_its_geometries_share(geoms, kind):
    gdf = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=3067))
    assert maps.Styled("x", "x", gdf, np.full(len(gdf), "#000000", dtype=object)).geom_kind == kind


def test_dashboard_views_skip_absent_and_group_layers():
    layers = {"communities": _communities(), "facilities": _facilities()}
    layers["lc_communities"] = _communities().assign(
        residents=[100, 300], share_all_within_5min=[0.5, 0.1], share_all_within_15min=[1.0, 0.5])
    m = maps.dashboard(layers, lang="en", basemap="none")
    assert m.gcgeo_views == ["inventory", "living_circle"]
    html = maps.render_html(m)
    assert '"Inventory": {' in html and '"15-minute living circle": {' in html
    assert '"Green space": {' not in html  # no green outputs → view skipped
    # communities + facilities (inventory), 15-minute choropleth + facilities (living circle) start
    # as their view's defaults; the 5-minute choropleth waits in the control
    assert html.count('"defaultOn":true') == 4 and html.count('"defaultOn":false') == 1
    # the first view is on, the second starts off: only the inventory layers are added at load
    assert len(re.findall(r"gcgeo_layer_\w+\.addTo\(map_", html)) == 2
    with pytest.raises(InputError, match="unknown view 'no_such_view'"):
        maps.dashboard(layers, views=["no_such_view"])
    with pytest.raises(InputError, match="nothing to draw"):
        maps.dashboard({"lc_origins": _facilities().iloc[:0]}, views=["living_circle"])


def test_a_new_view_registers_without_touching_the_others():
    before = {k: v for k, v in maps.VIEWS.items()}
    view = maps.View("scorecard_test", "评分", "Scorecard", ("scorecard",),
                     lambda layers, lang: [maps.style_layer("scorecard", layers["scorecard"], lang=lang)])
    maps.register_view(view)
    try:
        with pytest.raises(InputError, match="already registered"):
            maps.register_view(view)
        m = maps.dashboard({"scorecard": _communities()}, basemap="none")
        assert m.gcgeo_views == ["scorecard_test"]
        assert all(maps.VIEWS[k] is v for k, v in before.items())
    finally:
        maps.VIEWS.pop("scorecard_test")


def test_many_points_are_clustered_and_polygons_simplified():
    rng = np.random.default_rng(1)
    n = maps.CLUSTER_ABOVE + 1
    pts = gpd.GeoDataFrame({"kind": ["sewer"] * n}, geometry=shapely.points(
        385_000 + rng.uniform(0, 500, n), 6_671_000 + rng.uniform(0, 500, n)), crs=3067)
    html = maps.render_html(maps.manholes(pts, basemap="none"))
    assert "L.markerClusterGroup" in html and "leaflet.markercluster" in html
    few = maps.render_html(maps.manholes(pts.iloc[:10], basemap="none"))
    assert "L.markerClusterGroup" not in few and "leaflet.markercluster" not in few
    # a circle with 4096 vertices at 0.5 m tolerance keeps far fewer, still one polygon per building
    circle = gpd.GeoDataFrame({"use": ["residential"]},
                              geometry=[shapely.Point(385_000, 6_671_000).buffer(20, quad_segs=1024)], crs=3067)
    fc = _geojson_layers(maps.render_html(maps.buildings(circle, basemap="none")))[0]
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert 10 < len(ring) < 200


def test_rings_are_stored_open_and_large_layers_at_coarser_steps():
    """A polygon's rings are written without their closing vertex; layers drawn in detail only when
    zoomed in are written at 5e-6° and the rest at 1e-6°, each vertex within half a step."""
    from gcgeo.maps import _pack

    box = shapely.box(24.9301234, 60.1601234, 24.9309876, 60.1609876)
    hole = shapely.Polygon(shapely.get_coordinates(box.exterior), [shapely.get_coordinates(
        shapely.box(24.9303, 60.1603, 24.9305, 60.1605).exterior)])
    corners = shapely.get_coordinates(hole.exterior)[:4]
    for scale in (1_000_000, 200_000):
        p = _pack.pack_layer(np.array([hole, shapely.LineString(corners)]), scale)
        kind, text, origin = p.kind, p.text, p.origin
        assert kind == "mixed"
        poly, line = json.loads(text)
        assert [len(r) for r in poly[0]] == [8, 8] and len(line[0]) == 8  # 4 vertices each; lines as they are
        xy = np.cumsum(np.asarray(poly[0][0]).reshape(-1, 2), axis=0) + origin
        assert np.abs(xy / scale - corners).max() <= 0.5 / scale + 1e-12
    assert np.abs(xy / 200_000 - corners).max() > 1e-6  # the coarser step shows


@pytest.mark.parametrize("chunk", [None, 7])
def test_packed_numbers_read_as_python_writes_them(chunk, monkeypatch):
    from gcgeo.maps import _pack

    if chunk:  # written a few numbers at a time
        monkeypatch.setattr(_pack, "_CHUNK", chunk)
    rng = np.random.default_rng(7)
    values = np.r_[0, -1, 9, 10, -10, 99, 100, 2**63 - 1, -(2**63 - 1), 10**18, -(10**18),
                   rng.integers(-10**9, 10**9, 500), rng.integers(-100, 100, 500)]
    text, starts, ends = _pack._int_texts(values)
    assert text == ",".join(str(v) for v in values.tolist())
    assert [text[a:b] for a, b in zip(starts, ends)] == [str(v) for v in values.tolist()]
    assert _pack._int_texts(np.array([], dtype=np.int64))[0] == ""


def test_packed_lines_and_polygons_give_back_every_vertex():
    """Lines, multi-part polygons with holes, empty parts and points: decoded (the running sums
    from the origin, rings closed again), the vertices rounded to the packing step."""
    from gcgeo.maps import _pack

    rng = np.random.default_rng(3)
    geoms = []
    for i in range(40):
        x, y = rng.uniform(-170, 170), rng.uniform(-80, 80)
        ring = shapely.Point(x, y).buffer(rng.uniform(1e-5, 1e-2), quad_segs=int(rng.integers(1, 9)))
        hole = shapely.Point(x, y).buffer(1e-6)
        geoms.append(shapely.MultiPolygon([shapely.Polygon(ring.exterior, [hole.exterior]),
                                           shapely.box(x + 1, y, x + 1.001, y + 1e-3)]) if i % 2 else ring)
    geoms.append(shapely.from_wkt("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), EMPTY)"))
    lines = [shapely.LineString(rng.uniform(-50, 50, (int(rng.integers(2, 30)), 2))) for _ in range(40)]
    lines.append(shapely.from_wkt("MULTILINESTRING ((0 0, 1e-6 -1e-6), EMPTY)"))
    scale = 1_000_000
    for layer in (geoms, lines):
        p = _pack.pack_layer(np.array(layer, dtype=object), scale)
        kind, text, origin = p.kind, p.text, p.origin
        features = json.loads(text)
        assert len(features) == len(layer)
        for g, parts in zip(layer, features):
            drawn = shapely.get_parts(g)
            assert len(parts) == len(drawn)
            for part, want in zip(parts, drawn):
                rings = [part] if kind == "line" else part
                expect = [want] if kind == "line" else [] if want.is_empty else [want.exterior, *want.interiors]
                assert len(rings) == len(expect)
                for r, w in zip(rings, expect):
                    xy = np.cumsum(np.asarray(r, dtype=np.int64).reshape(-1, 2), axis=0) + origin
                    if kind == "polygon":
                        xy = np.vstack([xy, xy[:1]])
                    assert np.array_equal(xy, np.round(shapely.get_coordinates(w) * scale).astype(np.int64))
    pts = shapely.points(rng.uniform(-180, 180, (50, 2)))
    p = _pack.pack_layer(pts, scale)
    kind, text, origin = p.kind, p.text, p.origin
    xy = np.asarray(json.loads(text), dtype=np.int64).reshape(-1, 2) + origin
    assert kind == "point" and np.array_equal(xy, np.round(shapely.get_coordinates(pts) * scale).astype(np.int64))


@pytest.mark.parametrize("name, kind", [("dist_pharmacy_m", None), ("population", "communities"),
                                        ("share_all_within_5min", None), ("green_ratio", None),
                                        ("all_within_5min", None), ("category", None), ("floors", "buildings"),
                                        ("whatever", None)])
def test_a_column_formatted_at_once_reads_as_value_by_value(name, kind):
    from gcgeo.labels import format_value, format_values

    for values in (np.array([0.0, 0.5, 1.0, 2.5, 1234.5678, -3.0, np.nan, np.inf]), np.array([0, 1, 7, 1234567]),
                   np.array([3, 250], dtype=np.uint8), np.array([0.25, 1.5], dtype=np.float32)):
        for lang in ("zh", "en"):
            assert format_values(values, name, lang, kind=kind) == \
                [format_value(v, name, lang, kind=kind) for v in values.tolist()]
    assert format_values(np.array([1234.4, 0.5]), "dist_pharmacy_m") == ["1,234", "0"]  # by hand
    assert format_values(np.array([0.125]), "share_all_within_5min") == ["12.5%"]


@pytest.mark.parametrize("name, kind", [("building_id", None), ("criterion8", None), ("status", None),
                                        ("rule_status", None), ("kind", "manholes"), ("condition", "manholes"),
                                        ("category", None), ("tier", None), ("clause", None),
                                        ("min_share_complete_reason", None), ("name", "communities")])
def test_a_column_of_texts_formatted_at_once_reads_as_value_by_value(name, kind):
    from gcgeo.labels import format_value, format_values

    values = ["B-12", " ", "", "pass", "fail", "no_lanes", "ok", "unknown", "pharmacy", "10min", "water", "good",
              "GB 50180-2018 §4.0.2", "share 0.2 < 0.3", None, 3, 2.5, True, np.str_("pass"), ["a", "b"]]
    for lang in ("zh", "en"):
        assert format_values(values, name, lang, kind=kind) == \
            [format_value(v, name, lang, kind=kind) for v in values]
    assert format_values(["B-12", " "], "building_id") == ["B-12", None]  # by hand


def test_hexagons_count_the_points_inside_them_by_colour():
    from gcgeo.maps._render import hexagon_overview

    rng = np.random.default_rng(5)
    n = 3000
    pts = shapely.points(rng.uniform(385_000, 386_000, n), rng.uniform(6_671_000, 6_672_000, n))
    colors = np.where(rng.random(n) < 0.3, "#ff0000", "#0000ff").astype(object)
    gdf = gpd.GeoDataFrame(geometry=pts, crs=3067)
    legend = [maps.LegendItem("#0000ff", "blue"), maps.LegendItem("#ff0000", "red")]
    hexes = hexagon_overview(maps.Styled("homes", "Homes", gdf, colors, legend=legend), lang="en", shift=None)
    inside = shapely.contains(hexes.gdf.geometry.to_numpy()[:, None], gdf.to_crs(4326).geometry.to_numpy()[None, :])
    assert (inside.sum(axis=0) == 1).all()  # each point in one hexagon
    count = inside.sum(axis=1)
    red, blue = inside[:, colors == "#ff0000"].sum(axis=1), inside[:, colors == "#0000ff"].sum(axis=1)
    assert hexes.gdf[hexes.fields[0]].tolist() == count.tolist()
    assert hexes.gdf["red"].fillna(0).tolist() == red.tolist() and hexes.gdf["blue"].fillna(0).tolist() == blue.tolist()
    first = colors[0]  # a tie goes to the colour met first
    tie = "#ff0000" if first == "#ff0000" else "#0000ff"
    assert list(hexes.colors) == ["#ff0000" if r > b else "#0000ff" if b > r else tie for r, b in zip(red, blue)]


def test_missing_crs_is_a_clear_error():
    g = _communities().set_crs(None, allow_override=True)
    with pytest.raises(LayerError, match="layer 'communities' has no CRS"):
        maps.communities(g)


# --- offline ------------------------------------------------------------------------------


def test_offline_html_has_no_remote_scripts_or_styles(tmp_path):
    layers = {"communities": _communities(), "facilities": _facilities()}
    raw = maps.dashboard(layers, basemap="osm").get_root().render()
    assert maps.remote_asset_urls(raw)  # the test can fail: folium links CDNs
    # no map gcgeo writes loads a library from a CDN, offline or not: only tiles come from the network
    online = maps.render_html(maps.dashboard(layers, basemap="osm"))
    assert maps.remote_asset_urls(online) == [] and not any(h in online for h in CDN_HOSTS)
    assert "tile.openstreetmap.org" in online
    path = maps.save_map(maps.dashboard(layers, basemap="none", offline=True), tmp_path / "m.html", offline=True)
    html = path.read_text(encoding="utf-8")
    assert maps.remote_asset_urls(html) == []
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert not any(h in html for h in CDN_HOSTS)
    assert "L.tileLayer" not in html  # offline default base map is none
    assert "Leaflet 1.9.3" in html or "leaflet-1.9.3/leaflet.js" in html
    assert "data:image/png;base64," in html  # leaflet.css images inlined
    assert list(tmp_path.iterdir()) == [path]  # atomic: no temporary file left


def test_every_asset_folium_links_is_vendored_or_deliberately_dropped():
    from folium.plugins import MarkerCluster

    urls = [u for _, u in folium.Map.default_js + folium.Map.default_css]
    urls += [u for _, u in MarkerCluster.default_js + MarkerCluster.default_css]
    urls += [u for _, u in maps._render._GroupedControl.default_js + maps._render._GroupedControl.default_css]
    for u in urls:
        assert u in _offline.VENDORED or u in _offline.DROPPED, u
    for rel in _offline.VENDORED.values():
        assert (_offline.VENDOR_DIR / rel).is_file(), rel
    for d in {Path(rel).parts[0] for rel in _offline.VENDORED.values()}:
        assert any(p.name.upper().startswith(("LICENSE", "MIT-LICENCE")) for p in (_offline.VENDOR_DIR / d).iterdir())


def test_a_plain_folium_map_goes_offline_too(tmp_path, caplog):
    m = folium.Map(tiles=None)
    folium.Marker([60.17, 24.94], icon=folium.Icon(color="red")).add_to(m)
    with caplog.at_level(logging.INFO, logger="gcgeo.maps._offline"):
        html = maps.save_map(m, tmp_path / "plain.html", offline=True).read_text(encoding="utf-8")
    assert maps.remote_asset_urls(html) == []
    assert "jQuery" in html and "AwesomeMarkers" in html
    assert "fontawesome" in caplog.text  # icon fonts left out, and said so


def test_unknown_remote_plugin_refuses_offline(tmp_path):
    m = maps.communities(_communities(), basemap="none")
    m.get_root().header.add_child(folium.JavascriptLink("https://example.org/plugin.js"))
    with pytest.raises(InputError, match="example.org/plugin.js"):
        maps.save_map(m, tmp_path / "x.html", offline=True)
    assert not (tmp_path / "x.html").exists()


# --- base maps and the GCJ-02 drawing shift ------------------------------------------------------


def _china_points() -> gpd.GeoDataFrame:
    # Gaotang county (Shandong), CGCS2000 3° zone 39 (EPSG:4548)
    ll = gpd.GeoDataFrame({"category": ["pharmacy", "kindergarten"]},
                          geometry=shapely.points([116.231, 116.245], [36.866, 36.871]), crs=4326)
    return ll.to_crs(4548)


def test_amap_shifts_only_the_drawing_into_gcj02():
    pts = _china_points()
    before = pts.copy()
    drawn = _geojson_layers(maps.render_html(maps.facilities(pts, basemap="amap")))[0]
    plain = _geojson_layers(maps.render_html(maps.facilities(pts, basemap="osm")))[0]
    pd.testing.assert_frame_equal(pts, before)  # data untouched
    ll = pts.to_crs(4326)
    gx, gy = crs.wgs84_to_gcj02(ll.geometry.x.to_numpy(), ll.geometry.y.to_numpy())
    for i, f in enumerate(drawn["features"]):
        x, y = f["geometry"]["coordinates"]
        assert abs(x - gx[i]) < 2e-6 and abs(y - gy[i]) < 2e-6
        px, py = plain["features"][i]["geometry"]["coordinates"]
        assert abs(px - ll.geometry.x.iloc[i]) < 2e-6 and abs(py - ll.geometry.y.iloc[i]) < 2e-6
        # the GCJ-02 offset is hundreds of metres: the shift really happened
        _, _, d = Geod(ellps="WGS84").inv(px, py, x, y)
        assert 100 < d < 700


def test_basemaps_attribution_and_tianditu_key(monkeypatch):
    html = _unescape(maps.render_html(maps.communities(_communities(), basemap="osm")))
    assert "tile.openstreetmap.org" in html and "OpenStreetMap</a> contributors" in html
    # OSM-derived data are credited even without tiles
    g = _communities().assign(osm_id=[1, 2])
    html = _unescape(maps.render_html(maps.communities(g, basemap="none")))
    assert "L.tileLayer" not in html and "addAttribution(\"Data &copy; <a" in html
    assert 'addAttribution("' not in maps.render_html(maps.communities(_communities(), basemap="none"))
    # a view of analysis outputs made from OSM inventory layers credits OSM too
    fire = gpd.GeoDataFrame({"kind": ["obstructed"], "severity": ["high"]},
                            geometry=[shapely.Point(385_100, 6_671_900)], crs=3067)
    html = _unescape(maps.render_html(maps.dashboard({"fire_findings": fire, "buildings": g.assign(use="other")},
                                                     views=["fire_lanes"], basemap="none")))
    assert "addAttribution(\"Data &copy; <a" in html
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match="TIANDITU_KEY"):
        maps.communities(_communities(), basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    html = maps.render_html(maps.communities(_communities(), basemap="tianditu", lang="zh"))
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tk=abc123" in html and "cva_w" in html
    with pytest.raises(InputError, match="unknown base map"):
        maps.dashboard({"communities": _communities()}, basemap="google")


# --- analysis-result symbology -------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["all_within_", "served_"])  # served_: stored before the rename
def test_homes_coloured_by_smallest_tier_served(prefix):
    pts = _facilities().drop(columns=["category", "name"]).assign(**{
        prefix + "5min": [True, False, False], prefix + "10min": [True, True, False],
        prefix + "15min": [True, True, False]})
    assert list(maps.tier_served(pts).fillna("none")) == ["5min", "10min", "none"]
    s = maps.style_layer("lc_origins", pts, lang="en")
    assert list(s.colors) == [palette.TIERS[0], palette.TIERS[1], palette.NOT_SERVED]  # 5, 10 min, none
    assert len(set(s.colors)) == 3
    assert [i.label for i in s.legend][-1] == "Not served"


def test_fire_lane_width_classes_come_from_the_rules():
    from gcgeo import rules

    r = rules.load("fire_lanes")
    req = rules.value(r, "clear_width")
    lanes = gpd.GeoDataFrame({"lane_id": ["a", "b"], "clear_width_min_m": [req - 0.01, req + 0.5]},
                             geometry=[shapely.LineString([(0, 0), (50, 0)]), shapely.LineString([(0, 10), (50, 10)])],
                             crs=4548)
    s = maps.style_layer("fire_lanes_summary", lanes)
    assert s.colors[1] == palette.LANE_WIDTH_OK and s.colors[0] in palette.LANE_WIDTH
    assert any(f"{req:g} m" in i.label for i in s.legend)


# --- figures --------------------------------------------------------------------------------------


@pytest.mark.parametrize("width,expected", [(1300, 200), (4000, 1000), (10_000, 2000), (799, 100), (40, 10)])
def test_nice_scale_length(width, expected):
    assert figures.nice_scale_length(width) == expected


@pytest.mark.parametrize("epsg,lon,lat", [(3067, 24.94, 60.17), (4548, 116.23, 36.87), (4548, 118.9, 36.87)])
def test_scale_bar_is_ground_distance(epsg, lon, lat):
    t = Transformer.from_crs(4326, epsg, always_xy=True)
    x, y = t.transform(lon, lat)
    per_m = figures.scale_bar_metres(gpd.GeoSeries([], crs=epsg).crs, x, y)
    back = Transformer.from_crs(epsg, 4326, always_xy=True)
    lon1, lat1 = back.transform(x - 500 * per_m, y)
    lon2, lat2 = back.transform(x + 500 * per_m, y)
    _, _, d = Geod(ellps="GRS80").inv(lon1, lat1, lon2, lat2)
    assert d == pytest.approx(1000.0, rel=2e-4)


def test_north_arrow_points_to_true_north():
    # far from the central meridian (117°E) of EPSG:4548 grid north and true north differ by about 1.1°
    c = gpd.GeoSeries([], crs=4548).crs
    x, y = Transformer.from_crs(4326, 4548, always_xy=True).transform(118.9, 36.87)
    angle = figures._true_north_angle(c, x, y)
    # independent: the grid bearing of a point 1 km due north along the meridian
    lon2, lat2, _ = Geod(ellps="GRS80").fwd(118.9, 36.87, 0.0, 1000.0)
    x2, y2 = Transformer.from_crs(4326, 4548, always_xy=True).transform(lon2, lat2)
    assert angle == pytest.approx(math.degrees(math.atan2(-(x2 - x), y2 - y)), abs=0.02)
    assert 0.9 < abs(angle) < 1.4


def test_save_figures_one_png_per_view(tmp_path):
    layers = {"communities": _communities(), "facilities": _facilities(),
              "lc_gaps": _facilities().assign(tier=["10min", "5min", "10min"])}
    out = figures.save_figures(layers, tmp_path, lang="en", title="Test")
    assert set(out) == {"inventory", "living_circle"}
    for p in out.values():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 8_000  # drawn, not blank
    assert sorted(x.name for x in tmp_path.iterdir()) == ["inventory.png", "living_circle.png"]


def test_figures_are_palette_pngs_that_look_as_drawn(tmp_path):
    """The figures are written with at most 256 colours: compared with matplotlib's own
    true-colour PNG of the same figure, pixel by pixel, almost every pixel is within a few
    levels, the flat fills exactly, and the file is smaller."""
    from PIL import Image

    layers = {"communities": _communities(), "facilities": _facilities(),
              "lc_gaps": _facilities().assign(tier=["10min", "5min", "10min"])}
    out = figures.save_figures(layers, tmp_path / "p", lang="en", views=["living_circle"], title="Test")
    fig = figures.plot_view(layers, "living_circle", lang="en", title="Test")
    full = tmp_path / "full.png"
    fig.savefig(full, dpi=150, format="png", bbox_inches=figures._tight_box(fig, pad=0.15))
    with Image.open(out["living_circle"]) as img:
        assert img.mode == "P" and len(img.getcolors()) <= 256
        ours = np.asarray(img.convert("RGB")).astype(int)
    with Image.open(full) as img:
        ref = np.asarray(img.convert("RGB")).astype(int)
    assert ours.shape == ref.shape
    diff = np.abs(ours - ref).max(axis=2)
    assert (diff <= 8).mean() > 0.995
    # the most common colours (background, fills) stay one colour each, within a few levels
    values, counts = np.unique(ref.reshape(-1, 3), axis=0, return_counts=True)
    for rgb in values[np.argsort(counts)[-8:]]:
        kept = np.unique(ours[(ref == rgb).all(axis=2)], axis=0)
        assert len(kept) == 1 and np.abs(kept[0] - rgb).max() <= 4
    assert out["living_circle"].stat().st_size < full.stat().st_size / 2


def test_figures_name_communities_over_faint_streets():
    """A figure of a result names each community inside it and draws the streets, thin and grey,
    above the shaded communities and below the points."""
    from matplotlib.patches import PathPatch

    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(385_000, 6_671_900), (385_400, 6_671_900)]),
                                         shapely.LineString([(385_200, 6_671_800), (385_200, 6_672_000)])],
                               crs=3067)
    lcc = _communities().assign(community_id=["K", "P"], community_name=["Kamppi", "Punavuori"],
                                share_served_15min=[0.9, 0.3])
    layers = {"communities": _communities(), "streets": streets, "lc_communities": lcc,
              "facilities": _facilities()}
    fig = figures.plot_view(layers, "living_circle", lang="en")
    ax = fig.axes[0]
    labels = {t.get_text(): t.get_position() for t in ax.texts if t.get_text() in ("Kamppi", "Punavuori")}
    assert fig.gcgeo_community_labels == 2 and set(labels) == {"Kamppi", "Punavuori"}
    for name, box in zip(["Kamppi", "Punavuori"], _communities().geometry):
        assert box.contains(shapely.Point(labels[name]))
    under = [a for a in ax.patches if isinstance(a, PathPatch) and not a.get_fill()]
    assert len(under) == 1  # both streets in one path
    np.testing.assert_allclose(under[0].get_path().vertices, shapely.get_coordinates(streets.geometry))
    filled = [a for a in ax.patches if isinstance(a, PathPatch) and a.get_fill()]
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert filled and points
    assert max(a.get_zorder() for a in filled) < under[0].get_zorder() < min(p.get_zorder() for p in points)
    # a view drawing the streets itself gets no second copy beneath
    fig = figures.plot_view(layers, "inventory", lang="en")
    assert not [a for a in fig.axes[0].patches if isinstance(a, PathPatch) and a.get_zorder() == 9.5]


def test_a_figure_strokes_each_part_of_a_line_on_its_own():
    from matplotlib.path import Path as MplPath

    lines = np.array([shapely.LineString([(0, 0), (1, 1), (2, 0)]),
                      shapely.MultiLineString([[(5, 5), (6, 6)], [(7, 7), (8, 8), (9, 9)]]),
                      shapely.from_wkt("MULTILINESTRING ((0 0, 1 1), EMPTY)")], dtype=object)
    path = figures._ring_path(lines, closed=False)
    assert path.vertices.tolist() == [[0, 0], [1, 1], [2, 0], [5, 5], [6, 6], [7, 7], [8, 8], [9, 9], [0, 0], [1, 1]]
    move, line = MplPath.MOVETO, MplPath.LINETO
    assert path.codes.tolist() == [move, line, line, move, line, move, line, line, move, line]


def test_figures_fall_back_to_english_without_cjk_font(tmp_path, monkeypatch, caplog):
    seen = []
    real = figures.plot_view
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    monkeypatch.setattr(figures, "plot_view", lambda *a, **k: seen.append(k["lang"]) or real(*a, **k))
    with caplog.at_level(logging.WARNING, logger="gcgeo.maps.figures"):
        out = figures.save_figures({"communities": _communities()}, tmp_path, lang="zh")
    assert set(out) == {"inventory"} and seen == ["en"]
    assert "English labels" in caplog.text


# --- report ----------------------------------------------------------------------------------------


def test_the_map_and_figures_draw_styles_built_once(tmp_path, monkeypatch):
    # the report builds each view's styled layers once, for its map and its figures
    layers = {"communities": _communities(), "facilities": _facilities()}
    built = {"inventory": maps.get_view("inventory").styles(layers, lang="en")}
    built["inventory"][0].name = "Built once"
    calls: list[str] = []
    monkeypatch.setattr(maps.View, "styles", lambda self, *a, **k: calls.append(self.name) or [])
    html = maps.render_html(maps.dashboard(layers, views=["inventory"], basemap="none", styles=built))
    assert '"Built once (2)"' in html and '"Facilities (3)"' in html
    assert list(figures.save_figures(layers, tmp_path, views=["inventory"], styles=built)) == ["inventory"]
    assert calls == []


def test_report_headlines_tables_figures_and_links(tmp_path):
    lcc = _communities().assign(community_name=["Kamppi", "Punavuori"], homes=[3, 5], residents=[100, 300],
                                share_all_within_5min=[0.5, 0.1])
    layers = {"communities": _communities(), "lc_communities": lcc,
              "lc_gaps": _facilities().assign(tier="10min")}
    # by hand: (0.5·100 + 0.1·300) / 400 = 20 %
    heads = dict(headline_figures(layers, "living_circle"))
    assert heads["Share of residents with every facility category required up to the 5-minute living "
                 "circle within that circle's walking distance"] == "20.0%"
    # a layer stored before the columns were renamed reads the same
    old = dict(layers, lc_communities=lcc.rename(columns={"share_all_within_5min": "share_served_5min"}))
    assert dict(headline_figures(old, "living_circle")) == heads
    fig = tmp_path / "figs" / "living_circle.png"
    fig.parent.mkdir()
    fig.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / "maps").mkdir()
    mp = tmp_path / "maps" / "dash.html"
    mp.write_text("<html></html>")
    path = write_report(layers, tmp_path / "out" / "report.html", title="Test <county>",
                        metadata={"crs": "EPSG:3067", "rules": {"version": "x"}},
                        maps={"Offline map": mp}, figures={"living_circle": fig})
    html = path.read_text(encoding="utf-8")
    assert "<h1>Test &lt;county&gt;</h1>" in html
    assert "href='../maps/dash.html'" in html
    assert "data:image/png;base64,iVBORw0KGgpmYWtl" in html
    assert "Punavuori" in html and "10.0%" in html  # per-community table from the analysis summary
    assert "Green space" not in html.split("<h2 id='inventory'>")[0]  # analyses not run: no section
    zh = write_report(layers, tmp_path / "zh.html", title="报告", lang="zh").read_text(encoding="utf-8")
    assert "十五分钟生活圈" in zh
    assert "五分钟生活圈（含以下层级）要求的各类设施均在五分钟生活圈步行距离内的居民比例" in zh


# --- real OSM data ---------------------------------------------------------------------------------


def test_helsinki_osm_dashboard_stays_small(tmp_path):
    from gcgeo import osm

    frames = osm.read_osm(Path(__file__).parent / "data" / "osm" / "helsinki_center.osm.pbf")
    m = maps.dashboard(frames, lang="zh", offline=True)
    path = maps.save_map(m, tmp_path / "h.html", offline=True)
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 3_000_000
    counts = sorted(len(fc["features"]) for fc in _geojson_layers(html))
    expected = sorted(int((~(f.geometry.isna() | f.geometry.is_empty)).sum()) for k, f in frames.items()
                      if maps.drawable(frames, k))
    assert counts == expected
    assert "OpenStreetMap</a> contributors\")" in _unescape(html)


def test_values_shown_in_chinese_from_the_layer_spec():
    import geopandas as gpd
    import shapely

    from gcgeo import maps

    gdf = gpd.GeoDataFrame({"kind": ["car", "e-bike"]},
                           geometry=[shapely.Point(116.2, 36.85), shapely.Point(116.21, 36.85)],
                           crs=4326)
    html = maps.chargers(gdf, lang="zh").get_root().render()
    assert "电动自行车" in html and "汽车" in html
    html_en = maps.chargers(gdf, lang="en").get_root().render()
    assert "电动自行车" not in html_en


def test_result_values_are_labelled_in_chinese():
    from gcgeo.labels import column_label, format_value

    assert format_value("no facility", "status", "zh") == "数据中无此类设施"
    assert format_value("ok", "status", "zh") == "正常" and format_value("ok", "status", "en") == "ok"
    assert format_value("incomplete", "criterion8", "zh") == "资料不全"
    assert format_value("high", "worst_severity", "zh") == "高"
    assert format_value("something else", "status", "zh") == "something else"
    assert column_label("checks_skipped", "zh") == "未能进行的检查"


def test_gaps_are_drawn_once_per_home_with_what_it_lacks(tmp_path):
    """The gaps layer has a row per home, category and tier; the map draws one
    point per home, listing the missing categories tier by tier."""
    from gcgeo.maps._layers import gaps_by_home

    rows = [  # origin, category, tier: home 7 lacks a kindergarten (5 min) and a park (10, 15 min)
        (7, "park", "15min"), (7, "kindergarten", "5min"), (7, "park", "10min"),
        (3, "pharmacy", "10min"),
    ]
    where = {7: (385_050, 6_671_900), 3: (385_300, 6_671_850)}
    gaps = gpd.GeoDataFrame(
        {"origin_id": [r[0] for r in rows], "category": [r[1] for r in rows],
         "tier": [r[2] for r in rows], "community_name": ["Kamppi"] * 4,
         "distance_m": [1400.0, 380.0, 1400.0, 620.0]},
        geometry=[shapely.Point(where[r[0]]) for r in rows], crs=3067)
    homes = gaps_by_home(gaps, lang="en").set_index("origin_id")
    assert sorted(homes.index) == [3, 7]
    assert homes.loc[7, "missing_categories"] == (
        "5-minute living circle: Kindergarten; 10-minute living circle: Park / square; "
        "15-minute living circle: Park / square")
    assert homes.loc[3, "missing_categories"] == "10-minute living circle: Pharmacy"
    assert homes["n_missing"].to_dict() == {7: 2, 3: 1}
    assert homes.geometry[7].equals(shapely.Point(where[7]))
    zh = gaps_by_home(gaps, lang="zh").set_index("origin_id")
    assert zh.loc[7, "missing_categories"].startswith("五分钟生活圈：幼儿园；十分钟生活圈：")
    # without origin ids, homes are told apart by where they are
    assert len(gaps_by_home(gaps.drop(columns="origin_id"))) == 2
    m = maps.dashboard({"lc_gaps": gaps}, views=["living_circle"], lang="en", offline=True)
    html = maps.render_html(m, offline=True)
    drawn = [fc for fc in _geojson_layers(html) if len(fc["features"]) == 2]
    assert len(drawn) == 1
    assert sorted(f["properties"]["n_missing"] for f in drawn[0]["features"]) == ["1", "2"]
    assert "Facility types missing" in _unescape(html)


def test_gaps_stored_as_a_table_are_drawn_at_their_homes():
    """lc_gaps as the living circle stores it, a table keyed by origin_id, is drawn at the
    homes of lc_origins: one point per home with a gap, popups naming the home's community."""
    homes = gpd.GeoDataFrame(
        {"origin_id": [3, 5, 7], "building_id": ["B3", "B5", "B7"], "community_name": ["Kamppi"] * 3,
         "off_network": [False, False, True], "served_15min": [False, True, False]},
        geometry=shapely.points([385_300, 385_100, 385_050], [6_671_850, 6_671_800, 6_671_900]), crs=3067)
    gaps = pd.DataFrame({"origin_id": [7, 7, 3], "category": ["park", "kindergarten", "pharmacy"],
                         "tier": ["10min", "5min", "10min"], "distance_m": [np.nan, 400.0, 700.0]})
    m = maps.dashboard({"lc_origins": homes, "lc_gaps": gaps}, views=["living_circle"], lang="en",
                       offline=True)
    html = maps.render_html(m, offline=True)
    drawn = [fc for fc in _geojson_layers(html)
             if fc["features"] and "n_missing" in fc["features"][0]["properties"]]
    assert len(drawn) == 1
    at = {f["properties"]["building_id"]: (f["properties"]["n_missing"], f["geometry"]["type"])
          for f in drawn[0]["features"]}
    assert at == {"B7": ("2", "Point"), "B3": ("1", "Point")}
    assert {f["properties"]["community_name"] for f in drawn[0]["features"]} == {"Kamppi"}


def test_gaps_listed_per_home_read_as_one_row_per_gap():
    """The living circle stores one row per home (``missing_<tier>`` lists); the map's gaps
    layer from it is the one drawn from the same gaps written a row per home, category and
    tier (an older workspace), in both languages, and the run's stored gaps draw."""
    from gcgeo.maps._layers import gaps_by_home

    at = shapely.points([385_300, 385_100], [6_671_850, 6_671_800])
    long = gpd.GeoDataFrame({"origin_id": [7, 7, 7, 3], "community_name": ["Kamppi"] * 4,
                             "category": ["park", "kindergarten", "pharmacy", "pharmacy"],
                             "tier": ["15min", "5min", "10min", "10min"]},
                            geometry=[at[0]] * 3 + [at[1]], crs=3067)
    listed = gpd.GeoDataFrame({"origin_id": [3, 7], "community_name": ["Kamppi"] * 2, "n_missing": [1, 3],
                               "missing_5min": [None, '["kindergarten"]'],
                               "missing_10min": ['["pharmacy"]', '["pharmacy"]'],
                               "missing_15min": [None, '["park"]']}, geometry=[at[1], at[0]], crs=3067)
    for lang in ("en", "zh"):
        want = gaps_by_home(long, lang=lang).set_index("origin_id").sort_index()
        got = gaps_by_home(listed, lang=lang).set_index("origin_id").sort_index()
        assert got["missing_categories"].tolist() == want["missing_categories"].tolist()
        assert got["n_missing"].tolist() == want["n_missing"].tolist() == [1, 3]
        assert got.geometry.equals(want.geometry)
    assert gaps_by_home(listed).loc[1, "missing_categories"] == (
        "5-minute living circle: Kindergarten; 10-minute living circle: Pharmacy; "
        "15-minute living circle: Park / square")


def test_inventory_legends_name_kinds_in_chinese():
    from gcgeo.maps._layers import style_green_space, style_layer

    green = gpd.GeoDataFrame({"kind": ["park", "pocket_park", "attached"]},
                             geometry=[shapely.box(0, 0, 10, 10)] * 3, crs=3067)
    assert [i.label for i in style_green_space(green, lang="zh").legend] == ["公园", "口袋公园", "附属绿地"]
    assert [i.label for i in style_green_space(green, lang="en").legend] == [
        "park", "pocket park", "attached"]
    holes = gpd.GeoDataFrame({"condition": ["good", "damaged"]}, geometry=shapely.points([0, 1], [0, 1]),
                             crs=3067)
    assert [i.label for i in style_layer("manholes", holes, lang="zh").legend] == ["完好", "破损"]
    chargers = gpd.GeoDataFrame({"kind": ["car"]}, geometry=shapely.points([0], [0]), crs=3067)
    assert [i.label for i in style_layer("chargers", chargers, lang="zh").legend] == ["汽车"]


def test_one_class_when_every_value_is_the_same():
    from gcgeo.maps._styled import colors_by_class

    colors, legend = colors_by_class(pd.Series([4.0, 4.0, None], name="w"), [], ["#1a9850"],
                                     fmt=lambda v: f"{v:g} m", no_data="no data")
    assert colors.tolist() == ["#1a9850", "#1a9850", "#bdbdbd"]
    assert [i.label for i in legend] == ["4 m", "no data"]


def test_criterion_8_reads_alike_in_the_legend_and_in_tables():
    from gcgeo.labels import format_value
    from gcgeo.maps import style_layer

    fc = gpd.GeoDataFrame({"criterion8": ["pass", "fail"]},
                          geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)], crs=3067)
    styled = style_layer("fire_communities", fc, lang="zh")
    assert {i.label for i in styled.legend} == {format_value(k, "criterion8", "zh") for k in ("pass", "fail")}


@pytest.mark.parametrize("name", ["building", "community", "building_id", "community_name"])
def test_ids_and_names_that_spell_a_code_stay_the_users(name):
    """A community or building a planner identified as "park" or "gas" (the green analysis's
    homes keep them in ``building`` and ``community``) is not shown as 公园 or 燃气; a
    column of codes still is."""
    from gcgeo.labels import format_value, format_values

    assert format_values(["park", "gas", "C1"], name, "zh") == ["park", "gas", "C1"]
    assert format_value("park", name, "zh") == "park"
    assert format_values(["park"], "kinds", "zh") == ["公园"]
