"""Drawing machinery shared by every layer function: one symbology, two renderers.

A layer function first builds a :class:`Styled` layer (the frame, one colour
per feature, legend entries, the columns to show); :func:`add_styled` draws it
on a folium map and ``figures`` draws the same object with matplotlib, so the
interactive map and the static figure agree.

On the folium side each layer is one compact ``L.geoJSON`` (coordinates
rounded to 1e-6°, only the shown columns, values pre-formatted as text), the
legend and the grouped layer control are single elements kept at the end of
the map so they see every layer, and large point layers are clustered.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template
from pyproj import Transformer

from .. import crs as _crs
from .._errors import LayerError
from ..labels import column_label, ui
from . import _pack
from ._basemaps import OSM_DATA_ATTRIBUTION, Basemap, add_basemap, get_basemap
from ._styled import LegendItem, Styled

__all__ = [
    "CLUSTER_ABOVE",
    "LegendItem",
    "Styled",
    "add_styled",
    "get_context",
    "new_map",
]

log = logging.getLogger(__name__)

#: Point layers with more features than this are clustered on the map.
CLUSTER_ABOVE = 2000
#: Decimal places kept in drawn coordinates (1e-6° ≈ 0.1 m; see ``_pack.SCALE``).
COORD_DECIMALS = 6
#: Fields shown in the hover tooltip; the click popup shows all.
TOOLTIP_FIELDS = 4
#: Layers with more features than this are drawn feature by feature only from ``DETAIL_ZOOM`` on,
#: and only those in view; below it points show as hexagons, lines and polygons as one path per colour.
DETAIL_ABOVE = 20_000
#: The zoom from which large layers draw every feature in view (a 1,400 px window spans about 5 km).
DETAIL_ZOOM = 15
#: About how many hexagons summarise a large point layer below ``DETAIL_ZOOM``.
HEXAGONS = 2500

_LEAFLET_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
_LEAFLET_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]
_CLUSTER_JS = [("markerclusterjs",
                "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js")]
_CLUSTER_CSS = [
    ("markerclustercss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css"),
    ("markerclusterdefaultcss",
     "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css"),
]

_CSS = """
<style>
.gcgeo-tip th{text-align:left;padding:0 8px 0 0;font-weight:600;vertical-align:top;white-space:nowrap}
.gcgeo-tip td{padding:0;max-width:260px;white-space:normal}
.gcgeo-legend{background:rgba(255,255,255,.92);padding:6px 9px;border-radius:5px;
  box-shadow:0 1px 5px rgba(0,0,0,.4);font:12px/1.35 sans-serif;max-height:45vh;overflow-y:auto;max-width:260px}
.gcgeo-legend-title{font-weight:700;margin:4px 0 2px}
.gcgeo-legend i{display:inline-block;width:14px;height:11px;margin:0 6px -1px 0;border:1px solid rgba(0,0,0,.35)}
.gcgeo-legend i.dot{border-radius:50%;width:10px;height:10px}
.gcgeo-legend i.line{height:0;border:0;border-top:3px solid;vertical-align:middle;margin-bottom:3px}
.gcgeo-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:800;
  background:rgba(255,255,255,.92);padding:4px 12px;border-radius:5px;font:bold 15px sans-serif;
  box-shadow:0 1px 5px rgba(0,0,0,.4);pointer-events:none}
.leaflet-control-layers-expanded{max-height:55vh;max-width:300px;overflow-y:auto;font-size:12px}
.leaflet-control-layers-expanded label{white-space:normal}
</style>
"""


# --- page text ---------------------------------------------------------------------


class _Text(Element):
    """Text put into the page as it is.

    branca's ``MacroElement.render`` wraps each rendered macro in an ``Element``, whose
    text is compiled as a jinja template: a layer's megabytes of packed features were
    tokenised and compiled once more on every render, and a value reading as template
    syntax (a community named "社区 {# 1") broke the map or was changed.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "GcgeoText"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _LiteralMacro(MacroElement):
    """A ``MacroElement`` whose rendered macros (header, html, script) go into the page as
    text (:class:`_Text`), never compiled as templates; as branca's, less the one trailing
    newline its template compilation drops."""

    # branca declares Element.render -> str, but its MacroElement.render returns None
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"cannot render {self.get_name()} outside a folium Figure")
        module = self._template.module.__dict__
        for part, where in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = module.get(part)
            if macro is not None:
                where.add_child(_Text(str(macro(self, kwargs)).removesuffix("\n")), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


# --- map context -------------------------------------------------------------


@dataclass
class MapContext:
    """What gcgeo keeps about a map: language, base map, drawn layers, bounds."""

    lang: str
    basemap: Basemap | None
    layers: list[tuple[str, str, Layer]] = field(default_factory=list)  # (group, label, element)
    legend: list[tuple[Layer, str]] = field(default_factory=list)
    bounds: list[float] | None = None  # [minx, miny, maxx, maxy] in drawn lon/lat
    data_attribution: set[str] = field(default_factory=set)
    tail: list[MacroElement] = field(default_factory=list)

    @property
    def shift(self) -> str | None:
        return self.basemap.shift if self.basemap is not None else None


def get_context(m: folium.Map, *, lang: str = "en") -> MapContext:
    """The gcgeo context of ``m``, created (with the tail elements) on first use."""
    ctx = getattr(m, "_gcgeo_ctx", None)
    if ctx is None:
        ctx = MapContext(lang=lang, basemap=None)
        m._gcgeo_ctx = ctx  # type: ignore[attr-defined]
        root = m.get_root()
        if not isinstance(root, Figure):  # folium.Map puts itself in a Figure
            raise TypeError(f"the map's root is a {type(root).__name__}, not a folium Figure")
        root.header.add_child(Element(_CSS), name="gcgeo_css")
        m.add_child(_Panes())
        ctx.tail = [_FitBounds(ctx), _Attribution(ctx), _Legend(ctx), _GroupedControl(ctx)]
        for el in ctx.tail:
            m.add_child(el)
    return ctx


def _keep_tail_last(m: folium.Map, ctx: MapContext) -> None:
    for el in ctx.tail:
        m._children.move_to_end(el.get_name())


def new_map(*, lang: str = "en", basemap: str = "osm", title: str | None = None) -> folium.Map:
    """An empty gcgeo map: Leaflet only (no jQuery/Bootstrap), the base map, a scale bar."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    bm = get_basemap(basemap)
    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=False, max_zoom=bm.max_zoom or 19,
                   zoom_snap=0.25)
    # Instance attributes override folium's class-level defaults: the maps gcgeo
    # draws need Leaflet and nothing else from folium's default header.
    m.options["maxZoom"] = bm.max_zoom or 19  # clusters need it even without tiles
    m.default_js = list(_LEAFLET_JS)
    m.default_css = list(_LEAFLET_CSS)
    add_basemap(m, bm, lang=lang)
    ctx = get_context(m, lang=lang)
    ctx.basemap = bm
    if title:
        m.add_child(_Title(title))
        _keep_tail_last(m, ctx)
    return m


# --- preparing a frame for drawing ----------------------------------------------


@functools.lru_cache(maxsize=32)
def _to_wgs84(crs: Any) -> Transformer:
    """The transformer from ``crs`` to lon/lat (made once: making one takes 10–80 ms)."""
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _drawn(gdf: gpd.GeoDataFrame, *, key: str, simplify_m: float | None,
           shift: str | None) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray] | None]:
    """The geometries of ``gdf`` to draw (simplified by ``simplify_m`` metres) and the function
    taking their coordinates (n × 2) to the drawn lon/lat, or None when they are in it already.

    Only the coordinates are transformed, as ``_pack`` reads them: ``to_crs`` built a copy of
    a city's layer to be read once. Layers drawn shifted (GCJ-02) and 3-D ones are transformed
    whole, as before.
    """
    if gdf.crs is None:
        raise LayerError(
            f"layer '{key}' has no CRS, so it cannot be placed on a map; "
            "declare it (e.g. `gcgeo import … --crs EPSG:4326`) or set gdf.crs."
        )
    out = gdf
    if simplify_m:
        metric = out if out.crs.is_projected else _crs.to_metric(out, what=f"layer '{key}'")
        geoms = shapely.simplify(np.asarray(metric.geometry.values, dtype=object), simplify_m,
                                 preserve_topology=True)
        out = metric.set_geometry(gpd.GeoSeries(geoms, index=metric.index, crs=metric.crs))
    geoms = np.asarray(out.geometry.values, dtype=object)
    lonlat = out.crs.equals("EPSG:4326")
    if shift or (not lonlat and shapely.has_z(geoms).any()):
        ll = out if lonlat else out.to_crs("EPSG:4326")
        ll = _crs.shift_from_wgs84(ll, shift) if shift else ll
        return np.asarray(ll.geometry.values, dtype=object), None
    if lonlat:
        return geoms, None
    transformer = _to_wgs84(out.crs)

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return geoms, to_lonlat


def feature_collection(styled: Styled, *, lang: str, shift: str | None) -> tuple[str, list[float] | None, int]:
    """The packed features of ``styled`` for the page (see ``_pack``), their lon/lat bounds and count.

    Values are formatted as display strings (so dates, decimals and lists
    serialise), one array per column of ``styled.fields`` (those in the
    frame), null where missing. When ``shift`` is "gcj02" the coordinates
    are moved into GCJ-02 for drawing; the frame is not.
    """
    gdf = styled.gdf
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    gdf = gdf[keep]
    colors = np.asarray(styled.colors, dtype=object)[np.asarray(keep)]
    if len(gdf) == 0:
        return _pack.dumps({"k": "point", "g": [], "o": [0, 0], "s": _pack.SCALE, "p": [], "c": [], "v": []}), \
            None, 0
    geoms, to_lonlat = _drawn(gdf, key=styled.key, simplify_m=styled.simplify_m, shift=shift)
    scale = _pack.DETAIL_SCALE if len(gdf) > DETAIL_ABOVE else _pack.SCALE
    packed = _pack.pack_layer(geoms, scale, to_lonlat=to_lonlat)
    palette, codes = _pack.pack_colors(colors)
    props_cols = [c for c in styled.fields if c in gdf.columns]
    values = [_pack.pack_values(gdf[c], c, lang, kind=styled.kind) for c in props_cols]
    head = _pack.dumps({"k": packed.kind, "o": packed.origin, "s": scale, "p": palette, "c": codes, "v": values,
                        **({"t": packed.kinds} if packed.kinds else {})})
    text = head[:-1] + ',"g":' + packed.text + "}"
    return text, packed.bounds, len(gdf)


def hexagon_overview(styled: Styled, *, lang: str, shift: str | None) -> Styled:
    """Hexagons summarising a point layer for the zooms below ``DETAIL_ZOOM``: each cell in the
    colour most of its points have (so the legend reads the same), their count per class in the popup."""
    gdf = styled.gdf
    keep = np.asarray(~(gdf.geometry.isna() | gdf.geometry.is_empty))
    geoms, to_lonlat = _drawn(gdf[keep], key=styled.key, simplify_m=None, shift=shift)
    xy = shapely.get_coordinates(shapely.get_geometry(geoms, 0))
    xy = to_lonlat(xy) if to_lonlat is not None else xy
    colors = np.asarray(styled.colors, dtype=object)[keep]
    lat0 = float(np.mean(xy[:, 1]))
    kx, ky = 111_320.0 * math.cos(math.radians(lat0)), 110_540.0
    x, y = xy[:, 0] * kx, xy[:, 1] * ky
    area = max((x.max() - x.min()) * (y.max() - y.min()), 1.0)
    side = max(math.sqrt(area / (2.6 * HEXAGONS)), 50.0)  # a hexagon of side s covers 2.6 s²
    # axial coordinates of pointy-top hexagons, rounded in cube coordinates
    q = (math.sqrt(3) / 3 * x - y / 3) / side
    r = (2 / 3 * y) / side
    cx, cz = np.round(q), np.round(r)
    cy = np.round(-q - r)
    dx, dy, dz = np.abs(cx - q), np.abs(cy + q + r), np.abs(cz - r)
    fix_x = (dx > dy) & (dx > dz)
    fix_z = ~fix_x & (dz >= dy)
    cx = np.where(fix_x, -cy - cz, cx)
    cz = np.where(fix_z, -cx - cy, cz)
    # the cells in order of (cx, cz), as one integer each (np.unique(axis=0) sorts rows: 4 times slower)
    ix, iz = cx.astype(np.int64), cz.astype(np.int64)
    x0, z0 = ix.min(), iz.min()
    wide = int(iz.max() - z0) + 1
    keys, first = np.unique((ix - x0) * wide + (iz - z0), return_inverse=True)
    cell = np.column_stack([keys // wide + x0, keys % wide + z0]).astype(np.float64)
    labels = {item.color: item.label for item in styled.legend}
    class_of, classes_found = pd.factorize(pd.Series(colors, dtype=object))  # in order of first appearance
    classes = classes_found.tolist()
    counts = np.zeros((len(cell), len(classes)), dtype=np.int64)
    np.add.at(counts, (first.ravel(), class_of), 1)
    major = np.array(classes, dtype=object)[counts.argmax(axis=1)]
    hx = side * (math.sqrt(3) * cell[:, 0] + math.sqrt(3) / 2 * cell[:, 1])
    hy = side * 1.5 * cell[:, 1]
    ang = np.radians(np.arange(6) * 60 + 30)
    rings = np.stack([(hx[:, None] + side * np.cos(ang)) / kx, (hy[:, None] + side * np.sin(ang)) / ky], axis=-1)
    polys = shapely.polygons(rings)
    n_label = ui("count", lang)
    frame: dict[str, Any] = {n_label: counts.sum(axis=1)}
    for k, c in enumerate(classes):
        frame[labels.get(c, c)] = [v if v > 0 else None for v in counts[:, k].tolist()]
    hexes = gpd.GeoDataFrame(frame, geometry=polys, crs="EPSG:4326")
    return Styled(f"{styled.key}_overview", styled.name, hexes, major, list(frame), legend=[],
                  stroke="#ffffff", weight=0.5, fill_opacity=0.75, zorder=styled.zorder)


class GeoLayer(JSCSSMixin, Layer, _LiteralMacro):
    """One drawn layer: packed features on Leaflet's canvas (``L.gcgeoLayer``), clustered for
    many points; large layers drawn in detail only when zoomed in (see ``js/gcgeo_layer.js``)."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  var layer = L.gcgeoLayer({{ this.data }}, {{ this.options_json }});
  {%- if this.cluster %}
  var group = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: 18});
  group.once('add', function () {
    var f = [];
    for (var i = 0; i < layer.n; i++) f.push(layer.feature(i));
    group.addLayers(f);
  });
  group.gcgeoFeatures = layer.n;
  group.gcgeoDefault = {{ this.default_on|tojson }};
  group.gcgeoLayer = layer;
  return group;
  {%- else %}
  return layer;
  {%- endif %}
})();
{% endmacro %}
""")

    def __init__(self, styled: Styled, *, lang: str, shift: str | None) -> None:
        super().__init__(name=styled.name, overlay=True, control=False, show=styled.show)
        self._name = "GcgeoLayer"
        data, self.bounds, self.n_features = feature_collection(styled, lang=lang, shift=shift)
        self._data = _pack.deflating(data, self.n_features)
        is_points = styled.geom_kind == "point"
        self.detail = self.n_features > DETAIL_ABOVE
        self.cluster = bool(not self.detail and is_points and (
            styled.cluster if styled.cluster is not None else self.n_features > CLUSTER_ABOVE))
        self.options_json = _pack.dumps(self.options(styled, lang=lang, shift=shift))
        self.default_js = list(_CLUSTER_JS) if self.cluster else []
        self.default_css = list(_CLUSTER_CSS) if self.cluster else []
        self.styled_key = styled.key
        self.default_on = bool(styled.show)  # switched on with its group's checkbox

    @property
    def data(self) -> str:
        """The layer's packed features as the page holds them (large layers deflated)."""
        return self._data()

    def options(self, styled: Styled, *, lang: str, shift: str | None) -> dict[str, Any]:
        fields = [c for c in styled.fields if c in styled.gdf.columns]
        out: dict[str, Any] = {
            "fields": fields, "labels": [column_label(c, lang, kind=styled.kind) for c in fields],
            "color": "#3388ff", "stroke": styled.stroke, "weight": styled.weight,
            "opacity": styled.opacity, "fillOpacity": styled.fill_opacity, "radius": styled.radius,
            "dash": styled.dash, "pointStroke": "#ffffff" if not self.cluster else "#333333",
            "tooltipFields": TOOLTIP_FIELDS, "name": styled.name, "defaultOn": bool(styled.show),
            "pane": {"point": "gcgeo-points", "line": "gcgeo-lines"}.get(styled.geom_kind, "gcgeo-areas"),
            "detail": self.detail, "minZoom": DETAIL_ZOOM,
        }
        if self.detail and styled.geom_kind == "point":
            hexes = hexagon_overview(styled, lang=lang, shift=shift)
            data, _, _ = feature_collection(hexes, lang=lang, shift=None)
            out["overview"] = {"pack": json.loads(data), "opts": {
                "labels": list(hexes.fields), "color": "#3388ff", "stroke": hexes.stroke, "weight": hexes.weight,
                "opacity": 0.9, "fillOpacity": hexes.fill_opacity, "tooltipFields": TOOLTIP_FIELDS,
                "name": styled.name, "pane": "gcgeo-areas", "detail": False, "defaultOn": True}}
        return out


class _Panes(_LiteralMacro):
    """Map panes so points draw above lines and lines above areas, whatever the order layers are switched on;
    gcgeo's layer class (``js/gcgeo_layer.js``), a metric scale bar, and the legend kept off open popups."""

    _template = Template("""
{% macro script(this, kwargs) %}
{{ this.library() }}
L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
{{ this._parent.get_name() }}.on('popupopen', function (e) {
  // a legend never covers an open popup: hidden while they would overlap
  var legend = document.querySelector('.gcgeo-legend'), popup = e.popup.getElement();
  if (!legend || !popup) return;
  var a = legend.getBoundingClientRect(), b = popup.getBoundingClientRect();
  if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
    legend.style.visibility = 'hidden';
  }
});
{{ this._parent.get_name() }}.on('popupclose', function () {
  var legend = document.querySelector('.gcgeo-legend');
  if (legend) legend.style.visibility = '';
});
[['gcgeo-areas', 410], ['gcgeo-lines', 420], ['gcgeo-points', 430]].forEach(function (p) {
  var map = {{ this._parent.get_name() }};
  if (!map.getPane(p[0])) map.createPane(p[0]).style.zIndex = p[1];
});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "GcgeoPanes"

    @staticmethod
    def library() -> str:
        return _library_js()


@functools.cache
def _library_js() -> str:
    return (Path(__file__).parent / "js" / "gcgeo_layer.js").read_text(encoding="utf-8").replace("</", "<\\/")


class _FitBounds(_LiteralMacro):
    _template = Template("""
{% macro script(this, kwargs) %}
{%- if this.ctx.bounds %}
{{ this._parent.get_name() }}.fitBounds({{ this.leaflet_bounds() }}, {padding: [10, 10]});
{%- endif %}
{% endmacro %}
""")

    def __init__(self, ctx: MapContext) -> None:
        super().__init__()
        self._name = "GcgeoFitBounds"
        self.ctx = ctx

    def leaflet_bounds(self) -> str:
        x0, y0, x1, y1 = self.ctx.bounds  # type: ignore[misc]
        return json.dumps([[y0, x0], [y1, x1]])


class _Attribution(_LiteralMacro):
    _template = Template("""
{% macro script(this, kwargs) %}
{%- for a in this.ctx.data_attribution|sort %}
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ a|tojson }});
{%- endfor %}
{% endmacro %}
""")

    def __init__(self, ctx: MapContext) -> None:
        super().__init__()
        self._name = "GcgeoAttribution"
        self.ctx = ctx


class _Legend(_LiteralMacro):
    """One legend control; each layer's entry shows only while the layer is on the map."""

    _template = Template("""
{% macro script(this, kwargs) %}
{%- if this.ctx.legend %}
(function () {
  var map = {{ this._parent.get_name() }};
  var entries = [
  {%- for layer, html in this.ctx.legend %}
    {layer: {{ layer.get_name() }}, html: {{ html|tojson }}},
  {%- endfor %}
  ];
  var ctl = L.control({position: 'bottomleft'});
  ctl.onAdd = function () {
    var d = L.DomUtil.create('div', 'gcgeo-legend');
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    entries.forEach(function (e) { e.el = L.DomUtil.create('div', 'gcgeo-legend-entry', d); e.el.innerHTML = e.html; });
    return d;
  };
  ctl.addTo(map);
  function sync() { entries.forEach(function (e) { e.el.style.display = map.hasLayer(e.layer) ? '' : 'none'; }); }
  var t = null;
  map.on('layeradd layerremove', function () { clearTimeout(t); t = setTimeout(sync, 30); });
  sync();
})();
{%- endif %}
{% endmacro %}
""")

    def __init__(self, ctx: MapContext) -> None:
        super().__init__()
        self._name = "GcgeoLegend"
        self.ctx = ctx


class _GroupedControl(JSCSSMixin, _LiteralMacro):
    """The layer control: overlays grouped by view, each group with a checkbox of its own."""

    _template = Template("""
{% macro script(this, kwargs) %}
{%- if this.ctx.layers %}
(function () {
  var map = {{ this._parent.get_name() }};
  var ctl = L.control.groupedLayers(null, {
  {%- for group, items in this.groups() %}
    {{ group|tojson }}: {
    {%- for label, layer in items %}
      {{ label|tojson }}: {{ layer.get_name() }},
    {%- endfor %}
    },
  {%- endfor %}
  }, {groupCheckboxes: true, collapsed: {{ this.collapsed|tojson }}});
  // Group checkboxes show whether all (checked), some (indeterminate) or none of the group is on.
  function syncGroups() {
    if (!ctl._form) return;
    var inputs = ctl._form.getElementsByTagName('input'), on = {}, i, inp, s;
    for (i = 0; i < inputs.length; i++) {
      inp = inputs[i];
      if (inp.className === 'leaflet-control-layers-selector' && inp.groupID !== undefined) {
        (on[inp.groupID] = on[inp.groupID] || []).push(map.hasLayer(ctl._getLayer(inp.layerId).layer));
      }
    }
    for (i = 0; i < inputs.length; i++) {
      inp = inputs[i];
      if (inp.className !== 'leaflet-control-layers-group-selector') continue;
      s = on[inp.groupID] || [];
      inp.checked = s.some(Boolean);
    }
  }
  // A group checkbox switches the whole view off, or on with the layers it starts with
  // (alternative choropleths of the same communities stay off until picked).
  ctl._onGroupInputClick = function () {
    var legend = this.legend, inputs = legend._form.getElementsByTagName('input'), i, inp, obj, want;
    legend._handlingClick = true;
    for (i = 0; i < inputs.length; i++) {
      inp = inputs[i];
      if (inp.groupID !== this.groupID || inp.className !== 'leaflet-control-layers-selector') continue;
      obj = legend._getLayer(inp.layerId);
      want = this.checked && obj.layer.gcgeoDefault !== false;
      inp.checked = want;
      if (want && !map.hasLayer(obj.layer)) map.addLayer(obj.layer);
      else if (!want && map.hasLayer(obj.layer)) map.removeLayer(obj.layer);
    }
    legend._handlingClick = false;
    syncGroups();
  };
  var update = ctl._update;
  ctl._update = function () { var r = update.apply(this, arguments); syncGroups(); return r; };
  ctl.addTo(map);
  map.on('overlayadd overlayremove', function () { setTimeout(syncGroups, 0); });
  syncGroups();
  map.gcgeoLayerControl = ctl;
})();
{%- endif %}
{% endmacro %}
""")
    default_js = [("leaflet.groupedlayercontrol.min.js",
                   "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/"
                   "leaflet.groupedlayercontrol.min.js")]
    default_css = [("leaflet.groupedlayercontrol.min.css",
                    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/"
                    "leaflet.groupedlayercontrol.min.css")]

    def __init__(self, ctx: MapContext, *, collapsed: bool = False) -> None:
        super().__init__()
        self._name = "GcgeoLayerControl"
        self.ctx = ctx
        self.collapsed = collapsed

    def groups(self) -> list[tuple[str, list[tuple[str, Layer]]]]:
        out: dict[str, list[tuple[str, Layer]]] = {}
        for group, label, layer in self.ctx.layers:
            items = out.setdefault(group, [])
            taken = {lab for lab, _ in items}
            base, n = label, 2
            while label in taken:  # the control keys overlays by label
                label = f"{base} ({n})"
                n += 1
            items.append((label, layer))
        return list(out.items())

    # branca declares Element.render -> str, but its MacroElement.render returns None
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        if not self.ctx.layers:  # no control, no plugin
            self.default_js, self.default_css = [], []
        super().render(**kwargs)


class _Title(_LiteralMacro):
    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var d = L.DomUtil.create('div', 'gcgeo-title', {{ this._parent.get_name() }}.getContainer());
  d.textContent = {{ this.title|tojson }};
})();
{% endmacro %}
""")

    def __init__(self, title: str) -> None:
        super().__init__()
        self._name = "GcgeoTitle"
        self.title = title


# --- public drawing ------------------------------------------------------------------


def legend_html(styled: Styled) -> str:
    shape = {"point": "dot", "line": "line"}.get(styled.geom_kind, "")
    rows = []
    for item in styled.legend:
        style = (f"border-top-color:{item.color}" if shape == "line" else f"background:{item.color}")
        rows.append(f'<div><i class="{shape}" style="{style}"></i>{html.escape(item.label)}</div>')
    title = html.escape(styled.legend_title or styled.name)
    return f'<div class="gcgeo-legend-title">{title}</div>' + "".join(rows)


def has_osm_data(gdf: pd.DataFrame) -> bool:
    """True when ``gdf`` came from OpenStreetMap (an ``osm_id`` or ``osm_type`` is set):
    the map then credits OpenStreetMap's contributors."""
    for col in ("osm_id", "osm_type"):
        if col in gdf.columns and gdf[col].notna().any():
            return True
    if "source" in gdf.columns:
        return bool(gdf["source"].astype(str).str.lower().str.contains("osm|openstreetmap").any())
    return False


def add_styled(styled: Styled, m: folium.Map | None = None, *, lang: str = "en",
               basemap: str = "osm", group: str | None = None, osm_data: bool | None = None,
               source: pd.DataFrame | None = None) -> folium.Map:
    """Draw ``styled`` on ``m`` (a new map when None) and return the map.

    ``group`` is the heading of the layer control the layer is listed under.
    ``osm_data`` says whether the layer comes from OpenStreetMap (detected from
    ``osm_id``/``osm_type``/``source`` columns of ``source`` when None); if so
    the map credits "© OpenStreetMap contributors" whatever the base map.
    """
    if m is None:
        m = new_map(lang=lang, basemap=basemap)
    ctx = get_context(m, lang=lang)
    lang = ctx.lang
    layer = GeoLayer(styled, lang=lang, shift=ctx.shift)
    m.add_child(layer)
    label = f"{styled.name} ({layer.n_features})"
    ctx.layers.append((group or ui("layers", lang), label, layer))
    if styled.legend or styled.legend_title:
        ctx.legend.append((layer, legend_html(styled)))
    if layer.bounds is not None:
        b = layer.bounds
        ctx.bounds = b if ctx.bounds is None else [min(ctx.bounds[0], b[0]), min(ctx.bounds[1], b[1]),
                                                   max(ctx.bounds[2], b[2]), max(ctx.bounds[3], b[3])]
    if osm_data is None:
        osm_data = has_osm_data(source if source is not None else styled.gdf)
    if osm_data:
        ctx.data_attribution.add(OSM_DATA_ATTRIBUTION)
    _keep_tail_last(m, ctx)
    return m
