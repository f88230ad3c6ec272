"""Open a GeoPackage in QGIS and report what QGIS made of each layer, as JSON.

Run by tests/test_qgis_styles.py with Debian's /usr/bin/python3 (the PyQGIS of
python3-qgis binds the system Python, not gcgeo's virtual environment):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py FILE.gpkg OUT.json [PNG_DIR]

For every layer: whether QGIS opened it, the renderer it applied on opening
(type, classified attribute, categories or ranges with their colours and
labels), the colour each feature is drawn in (by fid), the same when QGIS reads
the stored SLD instead, the field aliases and value maps, and the styles
stored in the file. With PNG_DIR, each styled
layer is also rendered to PNG_DIR/<layer>.png (400 x 400 pixels, white
background) with QgsMapRendererParallelJob.
"""

import json
import sqlite3
import sys
import tempfile

if __name__ == "__main__":  # PyQGIS is there only for the system Python (pytest imports this file too)
    from qgis.core import (
        QgsApplication,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsProviderRegistry,
        QgsRenderContext,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor


def _color(c):
    return {"hex": c.name(), "alpha": c.alpha()}


def _symbol_color(symbol):
    if symbol is None:
        return None
    return _color(symbol.color())


def _renderer(r):
    out = {"type": r.type()}
    if r.type() == "categorizedSymbol":
        out["attr"] = r.classAttribute()
        out["categories"] = [{"value": "" if c.value() is None else str(c.value()), "label": c.label(),
                              "color": _symbol_color(c.symbol())} for c in r.categories()]
    elif r.type() == "graduatedSymbol":
        out["attr"] = r.classAttribute()
        out["ranges"] = [{"lower": g.lowerValue(), "upper": g.upperValue(), "label": g.label(),
                          "color": _symbol_color(g.symbol())} for g in r.ranges()]
    elif r.type() == "singleSymbol":
        out["color"] = _symbol_color(r.symbol())
        sl = r.symbol().symbolLayer(0)
        out["symbol_layer"] = {"class": sl.layerType(), "properties": dict(sl.properties())}
    return out


def _features(layer):
    r = layer.renderer().clone()
    ctx = QgsRenderContext()
    r.startRender(ctx, layer.fields())
    colors = {}
    for f in layer.getFeatures():
        ctx.expressionContext().setFeature(f)
        colors[str(f.id())] = _symbol_color(r.symbolForFeature(f, ctx))
    r.stopRender(ctx)
    return colors


def _sld_features(gpkg, name):
    """The colours of each feature when QGIS reads the layer's stored SLD instead of its QML
    (every symbol a feature gets: the SLD's rules should give each exactly one)."""
    row = sqlite3.connect(gpkg).execute("SELECT styleSLD FROM layer_styles WHERE f_table_name = ? "
                                        "AND useAsDefault = 1", (name,)).fetchone()
    if not row or not row[0]:
        return None
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    with tempfile.NamedTemporaryFile("w", suffix=".sld", encoding="utf-8", delete=False) as fh:
        fh.write(row[0])
    message, ok = layer.loadSldStyle(fh.name)
    if not ok:
        return {"error": message}
    r = layer.renderer().clone()
    ctx = QgsRenderContext()
    r.startRender(ctx, layer.fields())
    colors = {}
    for f in layer.getFeatures():
        ctx.expressionContext().setFeature(f)
        colors[str(f.id())] = [_symbol_color(s) for s in r.symbolsForFeature(f, ctx)]
    r.stopRender(ctx)
    return {"renderer": layer.renderer().type(), "features": colors}


def _render(layer, path):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    extent = layer.extent()
    extent.scale(1.05)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(400, 400))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(path, "PNG")


def layer_report(layer):
    """What QGIS applied to ``layer`` as it opened it: its aliases, edit widgets, the styles it
    lists for it (its own first) and its renderer (tests/test_postgis_styles.py's probe of a
    PostgreSQL table reports the same)."""
    entry = {"valid": layer.isValid()}
    if layer.isValid():
        fields = layer.fields()
        entry["aliases"] = {f.name(): f.alias() for f in fields}
        entry["widgets"] = {f.name(): {"type": f.editorWidgetSetup().type(),
                                       "config": f.editorWidgetSetup().config()} for f in fields}
        count, ids, names, descriptions, error = layer.listStylesInDatabase()
        entry["styles"] = list(names)[:count]  # this layer's styles come first
        entry["spatial"] = layer.isSpatial()
        if layer.isSpatial():
            entry["renderer"] = _renderer(layer.renderer())
    return entry


def main(gpkg, out, png_dir=None):
    report = {}
    meta = QgsProviderRegistry.instance().providerMetadata("ogr")
    for sub in meta.querySublayers(gpkg):
        name = sub.name()
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        entry = layer_report(layer)
        if layer.isValid() and layer.isSpatial():
            entry["features"] = _features(layer)
            entry["sld"] = _sld_features(gpkg, name)
            if png_dir:
                _render(layer, f"{png_dir}/{name}.png")
        report[name] = entry
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(report, fh, ensure_ascii=False, indent=1, default=str)


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    try:
        main(*sys.argv[1:])
    finally:
        app.exitQgis()
