"""QGIS styles of gcgeo's layers: QML (and SLD for other clients) made from the map's symbology.

A layer's style is made from the same :class:`~gcgeo.maps.Styled` layer the
interactive map and the figures draw, so QGIS shows the same colours for the
same rows: where the legend is by category the QGIS renderer is categorized
(on the column, or on an expression where the category is derived from
several columns, e.g. the smallest living-circle tier that serves a home),
where it is by class breaks it is graduated, otherwise a single symbol.
Lines, outlines and point sizes are in pixels, as Leaflet draws them.

The QML also carries the field aliases (column labels in Chinese or English)
and value maps (codes shown by their labels, e.g. ``high`` as 高) that
:func:`field_labels` gives; :mod:`gcgeo.gpkg_styles` writes both into a
GeoPackage (``layer_styles``, ``gpkg_data_columns``), where QGIS finds them
when it opens the file.

>>> import geopandas as gpd, shapely
>>> g = gpd.GeoDataFrame({"kind": ["park", "garden"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=4547)
>>> [s.renderer.kind for s in layer_styles("green_space", g, lang="zh")]
['categorizedSymbol']
"""

from __future__ import annotations

import logging
import math
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import layers as _kinds
from ..labels import column_label, format_value, layer_label, ui
from ._layers import style_layer
from ._styled import LegendItem, Styled
from ._views import VIEWS
from .palette import OTHER

__all__ = ["FieldLabels", "LayerStyle", "Renderer", "RendererClass", "field_labels", "layer_styles",
           "qml", "renderer", "sld"]

log = logging.getLogger(__name__)

#: The largest double: open ends of the first and last class, and the value
#: rows without a number are classified as (they are drawn as "no data").
_BIG = sys.float_info.max
#: The colour of rows no category names: the maps' "other" (``palette.OTHER``).
_OTHER_COLOR = OTHER
#: Distinct values a text column may have and still get a value map.
_MAX_CODES = 500


@dataclass(frozen=True)
class RendererClass:
    """One category or class of a QGIS renderer, in legend order."""

    color: str
    label: str
    #: categorized: the value of the classified attribute ("" for every other value)
    value: str = ""
    #: graduated: lower ≤ v ≤ upper, the first class that holds
    lower: float = 0.0
    upper: float = 0.0


@dataclass(frozen=True)
class Renderer:
    """What QGIS draws a layer with.

    ``kind`` is QGIS's renderer type ("singleSymbol", "categorizedSymbol" or
    "graduatedSymbol"), ``attr`` the column or QGIS expression classified and
    ``classes`` its categories or classes in legend order (one for a single
    symbol).
    """

    kind: str
    attr: str
    classes: tuple[RendererClass, ...]


@dataclass(frozen=True)
class FieldLabels:
    """Column → label, and column → {value: label} for coded text columns."""

    aliases: dict[str, str]
    values: dict[str, dict[str, str]]


@dataclass(frozen=True)
class LayerStyle:
    """One style of a layer: its name, what it shows, QML and SLD text."""

    name: str
    description: str
    qml: str
    sld: str
    renderer: Renderer
    default: bool = False


# --- from the map's legend to a QGIS renderer -------------------------------------------


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer | float | np.floating):
        return repr(float(v)) if isinstance(v, float | np.floating) else str(int(v))
    return "'" + str(v).replace("'", "''") + "'"


def _text(v: Any) -> str:
    """A category value as QGIS compares it (the value's text)."""
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _condition(pairs: Sequence[tuple[str, Any]]) -> str:
    parts = []
    for col, v in pairs:
        if isinstance(v, tuple | list | frozenset | set):
            parts.append(f"{_quote(col)} IN ({', '.join(_literal(x) for x in v)})")
        else:
            parts.append(f"{_quote(col)} = {_literal(v)}")
    return " AND ".join(parts)


def _single_color(styled: Styled) -> str:
    colors = [str(c) for c in np.asarray(styled.colors, dtype=object).tolist() if c]
    if colors:
        return Counter(colors).most_common(1)[0][0]
    return styled.legend[0].color if styled.legend else "#3388ff"


def _single(styled: Styled) -> Renderer:
    label = styled.legend[0].label if len(styled.legend) == 1 else (styled.legend_title or styled.name)
    return Renderer("singleSymbol", "", (RendererClass(_single_color(styled), label),))


def _columns_of(item: LegendItem) -> set[str]:
    cols = {c for c, _ in item.when}
    if item.within is not None:
        cols.add(item.within[0])
    return cols


def renderer(styled: Styled, columns: Iterable[str] | None = None, *, lang: str = "en") -> Renderer:
    """The QGIS renderer that draws ``styled``'s rows in the colours the map gives them.

    ``columns`` are the columns of the stored layer (default: those of
    ``styled.gdf``); a legend naming a column the layer does not hold (e.g.
    the gaps counted per home, which only the map aggregates) falls back to
    a single symbol in the colour most rows have.
    """
    have = set(styled.gdf.columns if columns is None else columns)
    legend = list(styled.legend)
    needed = set().union(*(_columns_of(i) for i in legend)) if legend else set()
    if not legend or not needed or not needed <= have:
        if needed - have:
            log.info("layer %s: its legend classifies %s, which the stored layer lacks; one symbol",
                     styled.key, ", ".join(sorted(needed - have)))
        return _single(styled)
    if any(i.within is not None for i in legend):
        return _graduated(styled, legend)
    return _categorized(legend, lang)


def _graduated(styled: Styled, legend: list[LegendItem]) -> Renderer:
    ranged = [i for i in legend if i.within is not None]
    cols = {i.within[0] for i in ranged if i.within is not None}
    if len(cols) != 1 or any(i.within is None and not i.rest for i in legend):
        return _single(styled)
    col = cols.pop()
    classes = []
    for item in legend:
        if item.within is None:  # no data: rows without a number, classified as -_BIG
            classes.append(RendererClass(item.color, item.label, lower=-_BIG, upper=-_BIG))
            continue
        _, lo, hi = item.within
        # QGIS takes the first class with lower ≤ v ≤ upper; the map's classes are
        # lower ≤ v < upper: end each class just below the next one's lower bound
        lower = math.nextafter(-_BIG, 0.0) if math.isinf(lo) else float(lo)
        upper = _BIG if math.isinf(hi) else math.nextafter(float(hi), -math.inf)
        classes.append(RendererClass(item.color, item.label, lower=lower, upper=upper))
    attr = col if not any(i.rest for i in legend) else f"coalesce({_quote(col)}, {-_BIG!r})"
    return Renderer("graduatedSymbol", attr, tuple(classes))


def _categorized(legend: list[LegendItem], lang: str) -> Renderer:
    named = [i for i in legend if not i.rest]
    rest = next((i for i in legend if i.rest), None)
    plain = {i.when[0][0] for i in named if len(i.when) == 1}
    simple = (len(plain) == 1 and all(len(i.when) == 1 and not isinstance(i.when[0][1], tuple | list)
                                      for i in named))
    classes: list[RendererClass] = []
    if simple:
        attr = plain.pop()
        classes = [RendererClass(i.color, i.label, value=_text(i.when[0][1])) for i in named]
    else:
        # categories derived from several columns: the first entry that holds, as the map decides
        keys = [i.label for i in named]
        if len(set(keys)) < len(keys) or "" in keys:
            keys = [str(k + 1) for k in range(len(named))]
        whens = [f"WHEN {_condition(i.when)} THEN {_literal(k)}" for i, k in zip(named, keys) if i.when]
        attr = "CASE " + " ".join(whens) + " END" if whens else "''"
        classes = [RendererClass(i.color, i.label, value=k) for i, k in zip(named, keys)]
    if rest is not None:
        classes.append(RendererClass(rest.color, rest.label, value=""))
    else:  # values the map has none of yet (a feature added in QGIS) are drawn, as on the map
        classes.append(RendererClass(_OTHER_COLOR, ui("other_values", lang), value=""))
    return Renderer("categorizedSymbol", attr, tuple(classes))


# --- field aliases and value labels --------------------------------------------------------


def _label_known(col: str, label: str) -> bool:
    return bool(label) and label != col and label != col.replace("_", " ")


def field_labels(frame: pd.DataFrame, *, lang: str = "zh", kind: str | None = None,
                 columns: Iterable[str] | None = None) -> FieldLabels:
    """Labels of ``frame``'s columns in ``lang`` and of the values of its coded text columns.

    ``kind`` is the inventory layer kind (its spec labels the columns and
    lists their allowed values). A column whose label gcgeo does not know
    keeps its name; aliases are unique within the layer (a clash gets the
    column name added). A text column is coded when one of its values (or
    of the spec's allowed values) has a label of its own; its value map then
    lists every value present and allowed, labelled or not.
    """
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    cols = [str(c) for c in (frame.columns if columns is None else columns) if str(c) != geom]
    kind = kind if kind in _kinds.SPECS else None
    aliases: dict[str, str] = {}
    for col in cols:
        label = column_label(col, lang, kind=kind)
        if _label_known(col, label):
            aliases[col] = label
    seen = Counter(aliases.values())
    aliases = {c: (a if seen[a] == 1 else f"{a} ({c})") for c, a in aliases.items()}
    values: dict[str, dict[str, str]] = {}
    for col in cols:
        codes = _codes(frame, col, kind)
        if not codes or len(codes) > _MAX_CODES:
            continue
        labels = {v: format_value(v, col, lang, kind=kind) or v for v in codes}
        if any(lab != v for v, lab in labels.items()):
            values[col] = labels
    return FieldLabels(aliases, values)


def _codes(frame: pd.DataFrame, col: str, kind: str | None) -> list[str]:
    allowed: list[str] = []
    if kind is not None:
        spec = _kinds.get_spec(kind)
        if spec.has_column(col) and spec.column(col).dtype == "str":
            allowed = list(spec.column(col).allowed or ())
    if col not in frame.columns:
        return allowed
    s = frame[col]
    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        return allowed  # numbers, flags, lists…: no codes
    present = s.dropna().unique()
    if len(present) > _MAX_CODES:
        return []
    return list(dict.fromkeys([*allowed, *sorted(present)]))


# --- QML ------------------------------------------------------------------------------------

_GEOMETRY_TYPE = {"point": 0, "line": 1, "polygon": 2, "none": 4}
_SYMBOL_TYPE = {"point": "marker", "line": "line", "polygon": "fill"}


def _rgba(color: str, alpha: float = 1.0) -> str:
    """'#rrggbb' (or '#rgb') → 'r,g,b,a' as QGIS writes colours."""
    h = color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if not re.fullmatch(r"[0-9a-fA-F]{6}", h):
        raise ValueError(f"not a colour: {color!r}")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, alpha)) * 255)}"


def _dash(dash: str | None) -> str | None:
    nums = re.findall(r"\d+(?:\.\d+)?", dash or "")
    return ";".join(nums) if nums else None


def symbol_properties(styled: Styled, color: str, geom: str) -> dict[str, str]:
    """The QGIS symbol-layer properties drawing ``color`` as the map does (Leaflet, pixels)."""
    if geom == "point":  # a circle marker with a white outline, 90 % opaque
        return {"name": "circle", "color": _rgba(color, 0.9), "outline_color": "255,255,255,255",
                "outline_style": "solid", "outline_width": "1", "outline_width_unit": "Pixel",
                "size": f"{2 * styled.radius:g}", "size_unit": "Pixel", "scale_method": "diameter",
                "angle": "0", "offset": "0,0", "joinstyle": "bevel"}
    if geom == "line":
        props = {"line_color": _rgba(color, styled.opacity), "line_width": f"{styled.weight:g}",
                 "line_width_unit": "Pixel", "line_style": "solid", "capstyle": "round",
                 "joinstyle": "round", "offset": "0", "use_custom_dash": "0"}
        dash = _dash(styled.dash)
        if dash:
            props.update(use_custom_dash="1", customdash=dash, customdash_unit="Pixel")
        return props
    return {"color": _rgba(color, styled.fill_opacity), "style": "solid",
            "outline_color": _rgba(styled.stroke or color, styled.opacity),
            "outline_style": "dash" if styled.dash else "solid", "outline_width": f"{styled.weight:g}",
            "outline_width_unit": "Pixel", "joinstyle": "round", "offset": "0,0"}


_LAYER_CLASS = {"point": "SimpleMarker", "line": "SimpleLine", "polygon": "SimpleFill"}


def _symbol(parent: ET.Element, name: str, styled: Styled, color: str, geom: str) -> None:
    sym = ET.SubElement(parent, "symbol", type=_SYMBOL_TYPE[geom], name=name, alpha="1",
                        clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(sym, "layer", {"class": _LAYER_CLASS[geom], "enabled": "1", "locked": "0",
                                         "pass": "0"})
    props = symbol_properties(styled, color, geom)
    opts = ET.SubElement(layer, "Option", type="Map")
    for k, v in props.items():  # QGIS 3.20 and later read these, older versions the <prop> below
        ET.SubElement(opts, "Option", type="QString", name=k, value=v)
    for k, v in props.items():
        ET.SubElement(layer, "prop", k=k, v=v)


def _renderer_xml(root: ET.Element, styled: Styled, rend: Renderer, geom: str) -> None:
    el = ET.SubElement(root, "renderer-v2", type=rend.kind, symbollevels="0", forceraster="0",
                       enableorderby="0", referencescale="-1")
    symbols = ET.Element("symbols")
    if rend.kind == "singleSymbol":
        _symbol(symbols, "0", styled, rend.classes[0].color, geom)
        el.append(symbols)
        return
    el.set("attr", rend.attr)
    if rend.kind == "graduatedSymbol":
        el.set("graduatedMethod", "GraduatedColor")
        ranges = ET.SubElement(el, "ranges")
        for k, c in enumerate(rend.classes):
            ET.SubElement(ranges, "range", render="true", symbol=str(k), label=c.label,
                          lower=repr(c.lower), upper=repr(c.upper))
    else:
        cats = ET.SubElement(el, "categories")
        for k, c in enumerate(rend.classes):
            ET.SubElement(cats, "category", render="true", symbol=str(k), label=c.label, value=c.value)
    for k, c in enumerate(rend.classes):
        _symbol(symbols, str(k), styled, c.color, geom)
    el.append(symbols)
    if rend.kind == "graduatedSymbol":
        method = ET.SubElement(el, "classificationMethod", id="Custom")
        ET.SubElement(method, "labelFormat", format="%1 - %2", labelprecision="4", trimtrailingzeroes="1")


def _fields_xml(root: ET.Element, names: Sequence[str], labels: FieldLabels) -> None:
    conf = ET.SubElement(root, "fieldConfiguration")
    for col in names:
        f = ET.SubElement(conf, "field", name=col, configurationFlags="None")
        widget = ET.SubElement(f, "editWidget", type="ValueMap" if col in labels.values else "")
        config = ET.SubElement(widget, "config")
        if col in labels.values:
            opt = ET.SubElement(config, "Option", type="Map")
            lst = ET.SubElement(opt, "Option", type="List", name="map")
            for value, label in labels.values[col].items():  # {label: value}, as QGIS stores it
                entry = ET.SubElement(lst, "Option", type="Map")
                ET.SubElement(entry, "Option", type="QString", name=label, value=value)
        else:
            ET.SubElement(config, "Option")
    aliases = ET.SubElement(root, "aliases")
    for col in names:
        ET.SubElement(aliases, "alias", field=col, name=labels.aliases.get(col, ""))


def qml(styled: Styled | None, rend: Renderer | None, *, geom: str, fields: Sequence[str],
        labels: FieldLabels) -> str:
    """The QML text of a layer style: renderer (none for a table), aliases and value maps.

    ``geom`` is "point", "line", "polygon" or "none" (a table); ``fields``
    the stored layer's attribute columns.
    """
    root = ET.Element("qgis", version="3.22.0", styleCategories="AllStyleCategories",
                      hasScaleBasedVisibilityFlag="0", minScale="100000000", maxScale="0",
                      simplifyDrawingHints="1" if geom in ("line", "polygon") else "0",
                      simplifyDrawingTol="1", simplifyLocal="1", simplifyAlgorithm="0", simplifyMaxScale="1",
                      labelsEnabled="0", readOnly="0")
    if styled is not None and rend is not None and geom in _SYMBOL_TYPE:
        _renderer_xml(root, styled, rend, geom)
        ET.SubElement(root, "blendMode").text = "0"
        ET.SubElement(root, "featureBlendMode").text = "0"
        ET.SubElement(root, "layerOpacity").text = "1"
    _fields_xml(root, fields, labels)
    preview = next((c for c in ("name", "community_name", "id") if c in fields), None)
    ET.SubElement(root, "previewExpression").text = _quote(preview) if preview else ""
    ET.SubElement(root, "layerGeometryType").text = str(_GEOMETRY_TYPE[geom])
    ET.indent(root, space=" ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


# --- SLD (Symbology Encoding 1.1, as QGIS writes it) ------------------------------------------

_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"


def _se(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{_SE}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _param(parent: ET.Element, name: str, value: str) -> None:
    _se(parent, "SvgParameter", value, name=name)


def _sld_symbolizer(rule: ET.Element, styled: Styled, color: str, geom: str) -> None:
    if geom == "point":
        graphic = _se(_se(rule, "PointSymbolizer"), "Graphic")
        mark = _se(graphic, "Mark")
        _se(mark, "WellKnownName", "circle")
        fill = _se(mark, "Fill")
        _param(fill, "fill", color)
        _param(fill, "fill-opacity", "0.9")
        stroke = _se(mark, "Stroke")
        _param(stroke, "stroke", "#ffffff")
        _param(stroke, "stroke-width", "1")
        _se(graphic, "Size", f"{2 * styled.radius:g}")
        return
    if geom == "line":
        stroke = _se(_se(rule, "LineSymbolizer"), "Stroke")
        _param(stroke, "stroke", color)
        _param(stroke, "stroke-opacity", f"{styled.opacity:g}")
        _param(stroke, "stroke-width", f"{styled.weight:g}")
        _param(stroke, "stroke-linejoin", "round")
        _param(stroke, "stroke-linecap", "round")
        if _dash(styled.dash):
            _param(stroke, "stroke-dasharray", " ".join(_dash(styled.dash).split(";")))  # type: ignore[union-attr]
        return
    sym = _se(rule, "PolygonSymbolizer")
    fill = _se(sym, "Fill")
    _param(fill, "fill", color)
    _param(fill, "fill-opacity", f"{styled.fill_opacity:g}")
    stroke = _se(sym, "Stroke")
    _param(stroke, "stroke", styled.stroke or color)
    _param(stroke, "stroke-opacity", f"{styled.opacity:g}")
    _param(stroke, "stroke-width", f"{styled.weight:g}")
    _param(stroke, "stroke-linejoin", "round")


def _ogc(parent: ET.Element, tag: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{_OGC}}}{tag}")


def _compare(parent: ET.Element, op: str, col: str, value: Any) -> None:
    el = _ogc(parent, op)
    _ogc(el, "PropertyName").text = col
    _ogc(el, "Literal").text = _text(value) if not isinstance(value, float) else repr(value)


def _sld_when(parent: ET.Element, pairs: Sequence[tuple[str, Any]]) -> None:
    """The OGC filter of ``pairs`` all holding (a tuple value: any of its values)."""
    target = _ogc(parent, "And") if len(pairs) > 1 else parent
    for col, v in pairs:
        values = list(v) if isinstance(v, tuple | list) else [v]
        anyof = _ogc(target, "Or") if len(values) > 1 else target
        for x in values:
            _compare(anyof, "PropertyIsEqualTo", col, x)


def _sld_unless(parent: ET.Element, pairs: Sequence[tuple[str, Any]]) -> None:
    """The OGC filter of ``pairs`` not all holding, a missing value counting as not holding
    (as on the map; a plain ogc:Not of a comparison with NULL is NULL in QGIS)."""
    target = _ogc(parent, "Or") if len(pairs) > 1 else parent
    for col, v in pairs:
        values = list(v) if isinstance(v, tuple | list) else [v]
        either = _ogc(target, "Or")
        _ogc(either, "PropertyIsNull").append(_prop(col))
        allnot = _ogc(either, "And") if len(values) > 1 else either
        for x in values:
            _compare(allnot, "PropertyIsNotEqualTo", col, x)


def _sld_rest(rule: ET.Element, items: Sequence[LegendItem]) -> None:
    """The filter of the rows none of ``items`` stands for: no value to classify, or
    none of the values named (written out: QGIS 3.22 reads no se:ElseFilter)."""
    flt = ET.SubElement(rule, f"{{{_OGC}}}Filter")
    ranged = [i.within[0] for i in items if i.within is not None]
    if ranged:
        _ogc(flt, "PropertyIsNull").append(_prop(ranged[0]))
        return
    named = [i for i in items if i.when]
    target = _ogc(flt, "And") if len(named) > 1 else flt
    for i in named:
        _sld_unless(target, i.when)


def _sld_filter(rule: ET.Element, item: LegendItem, earlier: Sequence[LegendItem]) -> None:
    """The rule's filter: the rows ``item`` stands for and (``earlier``) none of the entries before."""
    flt = ET.SubElement(rule, f"{{{_OGC}}}Filter")
    if item.within is not None:
        col, lo, hi = item.within
        tests = [(op, v) for op, v in (("PropertyIsGreaterThanOrEqualTo", lo), ("PropertyIsLessThan", hi))
                 if not math.isinf(v)]
        target = _ogc(flt, "And") if len(tests) > 1 else flt
        for op, v in tests:
            _compare(target, op, col, float(v))
        if not tests:
            _ogc(_ogc(flt, "Not"), "PropertyIsNull").append(_prop(col))
        return
    prior = [e for e in earlier if e.when]
    if not prior:
        _sld_when(flt, item.when)
        return
    both = _ogc(flt, "And")  # the first entry that holds, as the map decides
    _sld_when(both, item.when)
    for e in prior:
        _sld_unless(both, e.when)


def _prop(col: str) -> ET.Element:
    el = ET.Element(f"{{{_OGC}}}PropertyName")
    el.text = col
    return el


def sld(styled: Styled, rend: Renderer, *, layer: str, geom: str) -> str:
    """The SLD 1.1 text of ``styled`` for layer ``layer`` (one rule per legend entry)."""
    ET.register_namespace("", _SLD)
    ET.register_namespace("se", _SE)
    ET.register_namespace("ogc", _OGC)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    _se(named, "Name", layer)
    user = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    _se(user, "Name", styled.name)
    fts = _se(user, "FeatureTypeStyle")
    if geom not in _SYMBOL_TYPE:
        return ET.tostring(root, encoding="unicode", xml_declaration=True)
    if rend.kind == "singleSymbol":
        rule = _se(fts, "Rule")
        _se(rule, "Name", rend.classes[0].label)
        _sld_symbolizer(rule, styled, rend.classes[0].color, geom)
    else:
        items = list(styled.legend)
        # entries on one column's values exclude each other; derived ones hold in order
        exclusive = len({c for i in items for c, _ in i.when}) <= 1 and all(len(i.when) <= 1 for i in items)
        for k, item in enumerate(items):
            rule = _se(fts, "Rule")
            _se(rule, "Name", item.label)
            _se(_se(rule, "Description"), "Title", item.label)
            if item.rest:
                _sld_rest(rule, items)
            else:
                _sld_filter(rule, item, [] if exclusive else items[:k])
            _sld_symbolizer(rule, styled, item.color, geom)
        if rend.kind == "categorizedSymbol" and not any(i.rest for i in items):
            rule = _se(fts, "Rule")
            _se(rule, "Name", rend.classes[-1].label)
            _sld_rest(rule, items)
            _sld_symbolizer(rule, styled, rend.classes[-1].color, geom)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# --- a layer's styles -------------------------------------------------------------------------


def _variants(name: str, frame: gpd.GeoDataFrame, *, lang: str, kind: str | None,
              rules: Mapping[str, Mapping[str, Any]] | None = None) -> list[Styled]:
    """The layers the map's views draw from ``name``, else its own style (by kind for an
    inventory layer stored under another name); class breaks at the thresholds of ``rules``
    (analysis name → the rule sets its results were computed with) where given."""
    out: dict[str, Styled] = {}
    if len(frame):
        for view in VIEWS.values():
            if name not in view.requires:
                continue
            for s in view.styles({name: frame}, lang=lang, rules=rules):
                if s.key == name:
                    out.setdefault(s.name, s)
    if not out:
        key = kind if kind in _kinds.SPECS and name not in _kinds.SPECS else name
        s = style_layer(key, frame, lang=lang)
        out[s.name] = s
    return list(out.values())


def geometry_kind(frame: pd.DataFrame, declared: str | None = None, kind: str | None = None) -> str:
    """"point", "line", "polygon" or "none" (a table): from the declared GeoPackage geometry
    type, else the geometries most rows have, else (no rows) the layer kind's."""
    t = (declared or "").upper()
    if "POINT" in t:
        return "point"
    if "LINE" in t or t in ("CURVE", "MULTICURVE"):
        return "line"
    if "POLYGON" in t or "SURFACE" in t:
        return "polygon"
    if not isinstance(frame, gpd.GeoDataFrame):
        return "none"
    geoms = np.asarray(frame.geometry.values, dtype=object)
    groups = _TYPE_GROUP[shapely.get_type_id(geoms) + 1]  # (a missing geometry's id is -1)
    groups = groups[(groups >= 0) & ~shapely.is_empty(geoms)]
    if len(groups):
        counts = np.bincount(groups, minlength=len(_GROUP_KIND))
        tied = np.flatnonzero(counts == counts.max())  # a tie: the type met first, as Counter
        first = tied[np.argmin([np.argmax(groups == g) for g in tied])] if len(tied) > 1 else tied[0]
        return _GROUP_KIND[first]
    names = {"Point": "point", "LineString": "line"}
    if kind in _kinds.SPECS:
        return names.get(_kinds.get_spec(kind).geometry[0], "polygon")
    return "polygon"


#: shapely's geometry type id + 1 (a missing geometry: 0) → its type without "Multi", numbered
#: in :data:`_GROUP_KIND`: Point, LineString, LinearRing, Polygon, GeometryCollection.
_TYPE_GROUP = np.array([-1, 0, 1, 2, 3, 0, 1, 3, 4])
_GROUP_KIND = ("point", "line", "polygon", "polygon", "polygon")


def layer_styles(name: str, frame: pd.DataFrame, *, lang: str = "zh", kind: str | None = None,
                 columns: Sequence[str] | None = None, geometry: str | None = None,
                 labels: FieldLabels | None = None,
                 rules: Mapping[str, Mapping[str, Any]] | None = None) -> list[LayerStyle]:
    """The QGIS styles of layer ``name``: one per layer the map draws from it.

    ``rules``: analysis name → the rule sets its results were computed with, so that
    class breaks at a threshold are at the one the run applied, as in the map
    (:func:`gcgeo.maps.rules_ran`); without them, the built-in thresholds.

    Several when the map offers several (the living-circle share per tier,
    the green columns); the one the map shows first is the default.
    ``columns`` are the stored layer's attribute columns (default: the
    frame's) and ``geometry`` its declared GeoPackage geometry type; a table
    without geometry gets one style with its aliases and value maps only.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    geom = geometry_kind(frame, geometry, kind if kind in _kinds.SPECS else name)
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    fields = list(columns) if columns is not None else \
        [str(c) for c in frame.columns if not (is_geo and c == frame.geometry.name)]
    labels = labels or field_labels(frame, lang=lang, kind=kind, columns=fields)
    if geom == "none" or not is_geo:
        text = qml(None, None, geom="none", fields=fields, labels=labels)
        label = layer_label(name, lang)
        return [LayerStyle(label, f"{label} (gcgeo)", text, "", Renderer("singleSymbol", "", ()), True)]
    out = []
    variants = _variants(name, frame, lang=lang, kind=kind, rules=rules)
    default = next((k for k, s in enumerate(variants) if s.show), 0)
    for k, s in enumerate(variants):
        rend = renderer(s, fields, lang=lang)
        out.append(LayerStyle(s.name, s.legend_title or s.name,
                              qml(s, rend, geom=geom, fields=fields, labels=labels),
                              sld(s, rend, layer=name, geom=geom), rend, default=k == default))
    return out

