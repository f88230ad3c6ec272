"""Maps: interactive folium dashboards that also work offline, and static figures.

Per-layer functions work like ``GeoDataFrame.explore``: they take a frame and
an optional existing map ``m`` and return the map, so layers stack::

    >>> import geopandas as gpd, shapely
    >>> from gcgeo import maps
    >>> g = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(24.93, 60.16, 24.94, 60.17)], crs=4326)
    >>> m = maps.communities(g, lang="zh", basemap="none")
    >>> "社区名称" in m.get_root().render()
    True

:func:`dashboard` draws every available view (inventory, living circle, green,
fire lanes — and any view registered later with :func:`register_view`) as one
group of the layer control each; :func:`save_map` writes it as one HTML file,
with ``offline=True`` carrying Leaflet and its plugins inline.
Static figures: :mod:`gcgeo.maps.figures` (matplotlib, imported on demand).
Colours come from :mod:`gcgeo.maps.palette`, allocated once for every view, so
one colour means one thing in any map, figure or QGIS style.

Only drawing imports folium: styling a layer (:func:`style_layer`, the QGIS
styles every workspace change writes) does not, and the names below that
draw (:func:`add_styled`, :func:`new_map`, …) load it when first used.

Maps never compute: they draw what the analyses returned, and where a class
break is a rule's threshold, the one the analysis ran with (:func:`rules_ran`
reads them from the workspace for :func:`dashboard`). With an Amap base
map (GCJ-02 tiles) only the drawn coordinates are shifted; the frames passed
in are never modified.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .. import layers as _kinds
from .._errors import InputError
from ._basemaps import BASEMAPS, OSM_DATA_ATTRIBUTION, Basemap, get_basemap
from ._layers import LAYER_FUNCTIONS, STYLE_FUNCTIONS, map_lang, nice_breaks, style_layer, tier_served
from ._offline import inline_assets, remote_asset_urls, write_atomic
from ._styled import LegendItem, Styled
from ._views import VIEWS, View, drawable, gaps_at_homes, get_view, register_view, view_names

if TYPE_CHECKING:
    import folium

    from ._render import CLUSTER_ABOVE, add_styled, get_context, new_map

#: Names of :mod:`gcgeo.maps._render` (folium), loaded on first use.
_DRAWING = ("CLUSTER_ABOVE", "add_styled", "get_context", "new_map")


def __getattr__(name: str) -> Any:
    if name in _DRAWING:
        from . import _render

        return getattr(_render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

log = logging.getLogger(__name__)

# Per-kind and per-result drawing functions (see ``_layers``).
communities = LAYER_FUNCTIONS["communities"]
buildings = LAYER_FUNCTIONS["buildings"]
streets = LAYER_FUNCTIONS["streets"]
green_space = LAYER_FUNCTIONS["green_space"]
parking = LAYER_FUNCTIONS["parking"]
chargers = LAYER_FUNCTIONS["chargers"]
manholes = LAYER_FUNCTIONS["manholes"]
ramps = LAYER_FUNCTIONS["ramps"]
fire_lanes = LAYER_FUNCTIONS["fire_lanes"]
obstructions = LAYER_FUNCTIONS["obstructions"]
facilities = LAYER_FUNCTIONS["facilities"]
garbage_points = LAYER_FUNCTIONS["garbage_points"]
heritage = LAYER_FUNCTIONS["heritage"]
# ... and one per analysis output that has a style, named after the output
# (``gcgeo.maps.lc_communities``, ``gcgeo.maps.property_findings``…), from the descriptors.
RESULT_FUNCTIONS = {k: f for k, f in LAYER_FUNCTIONS.items() if k not in _kinds.KINDS}
globals().update(RESULT_FUNCTIONS)


def layer(gdf: gpd.GeoDataFrame, m: folium.Map | None = None, *, key: str, lang: str | None = None,
          basemap: str = "osm", name: str | None = None, show: bool = True,
          group: str | None = None) -> folium.Map:
    """Draw any layer by its workspace name ``key`` (known symbology, else one colour)."""
    from ._render import add_styled

    lang = map_lang(m, lang)
    styled = style_layer(key, gdf, lang=lang)
    if name is not None:
        styled.name = name
    styled.show = show
    return add_styled(styled, m, lang=lang, basemap=basemap, group=group, source=gdf)


def dashboard(
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    *,
    views: Sequence[str] | None = None,
    lang: str = "en",
    basemap: str | None = None,
    offline: bool = False,
    title: str | None = None,
    styles: Mapping[str, Sequence[Styled]] | None = None,
    rules: Mapping[str, Mapping[str, Any]] | None = None,
) -> folium.Map:
    """One map with a layer-control group per view whose layers are present.

    ``layers`` maps workspace layer names (inventory kinds and analysis
    outputs) to frames in any CRS; tables without geometry are ignored.
    ``views`` defaults to every registered view; a view none of whose layers
    is present is skipped (logged). The first drawn view starts visible, the
    others start switched off (one click on their group checkbox shows them).
    ``basemap`` defaults to "osm", or "none" when ``offline`` (no tile
    requests); an explicit tile base map with ``offline`` still works where
    the tile server is reachable. ``styles``: the styled layers of views
    already built from ``layers`` in ``lang`` (:meth:`View.styles`), by view
    name, drawn as they are (the report draws its figures from the same).
    ``rules``: analysis name → the rule sets its results were computed with,
    so that class breaks at a threshold are at the one the run applied
    (:func:`rules_ran` reads them from the workspace); without them, the
    built-in thresholds.  Raises :class:`~gcgeo.InputError` when nothing can be drawn.
    """
    from ._render import add_styled, get_context, has_osm_data, new_map

    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', got {lang!r}")
    if basemap is None:
        basemap = "none" if offline else "osm"
    bm = get_basemap(basemap)
    if offline and bm.url is not None:
        log.warning("offline map on base map '%s': the map itself is self-contained, "
                    "but its tiles load only where %s is reachable", bm.name, bm.name)
    names = list(views) if views else view_names()
    chosen = [get_view(n) for n in names]  # unknown names raise before any drawing
    m = new_map(lang=lang, basemap=bm.name, title=title)
    drawn: list[str] = []
    for view in chosen:
        if not view.available(layers):
            log.info("view '%s' skipped: none of its layers (%s) is present", view.name, ", ".join(view.requires))
            continue
        first = not drawn
        built = styles.get(view.name) if styles is not None else None
        for styled in built if built is not None else view.styles(layers, lang=lang, rules=rules):
            add_styled(styled, m, lang=lang, group=view.label(lang), source=layers.get(styled.key))
            if not first:  # other views start switched off; their group checkbox brings their defaults
                get_context(m).layers[-1][2].show = False
        drawn.append(view.name)
    if not drawn:
        present = sorted(k for k in layers if drawable(layers, k))
        raise InputError(
            "nothing to draw: none of the views " + ", ".join(v.name for v in chosen)
            + " found its layers (present: " + (", ".join(present) or "none")
            + "). Import inventory layers or run an analysis first."
        )
    if any(isinstance(df, pd.DataFrame) and has_osm_data(df) for df in layers.values()):
        # analysis outputs derive from the inventory: credit OSM when any layer came from it
        get_context(m).data_attribution.add(OSM_DATA_ATTRIBUTION)
    m.gcgeo_views = drawn  # type: ignore[attr-defined]
    log.info("map views drawn: %s", ", ".join(drawn))
    return m


def rules_ran(workspace: str | os.PathLike | Mapping[str, Any],
              layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], *,
              views: Sequence[str] | None = None) -> tuple[dict[str, Mapping[str, Any]], list[str]]:
    """The rules the results drawn were computed with, for the views that draw class breaks
    at their thresholds, and a warning for each analysis whose rules cannot be had.

    ``workspace`` is the workspace ``layers`` were read from, or its metadata;
    ``views`` the views to draw (default: all).  Returns analysis name → its
    rule sets (:func:`gcgeo.pipeline.run_rules`: the built-in rules with the
    rules file the run was given, as it was then), to pass to
    :meth:`View.styles` or :func:`dashboard`, and the warnings.  When
    the run's rules cannot be had (its rules file gone or edited since, the
    built-in rules changed), the built-in thresholds would not be what the
    results were held against: the analysis gets no rules, its classes are
    drawn from the data with no threshold among them, and a warning says so.
    """
    from .. import workspace as ws
    from .._errors import RulesError
    from ..pipeline import last_run, run_rules

    meta = workspace if isinstance(workspace, Mapping) else ws.info(workspace)
    chosen = [get_view(n) for n in views] if views else list(VIEWS.values())
    out: dict[str, Mapping[str, Any]] = {}
    notes: list[str] = []
    for view in chosen:
        name = view.analysis
        if name in out or not view.takes_rules or not view.available(layers) or last_run(meta, name) is None:
            continue
        try:
            out[name] = run_rules(meta, name)
        except RulesError as exc:
            out[name] = {}
            notes.append(f"{str(exc).rstrip('.')}; the map's '{view.name}' classes are drawn from the data, "
                         "with no threshold among them.")
    return out, notes


def render_html(m: folium.Map, *, offline: bool = False) -> str:
    """The complete HTML page of ``m``, every script and style sheet inline.

    Public CDNs are slow or blocked on many mainland networks and absent on
    an intranet, so no map gcgeo writes loads its libraries from one, whether
    or not it is ``offline``; only tile images of a tile base map come from
    the network (``offline`` maps default to no base map, see
    :func:`dashboard`).
    """
    html = inline_assets(m.get_root().render())
    left = remote_asset_urls(html)
    if left:  # inline_assets raises first; this guards the guarantee
        raise InputError("map still links " + ", ".join(left))
    return html


def save_map(m: folium.Map, path: str | os.PathLike, *, offline: bool = False) -> Path:
    """Write ``m`` as one HTML file at ``path`` (temporary file, then rename).

    Leaflet, its plugins and their images are always inline (vendored
    copies, see ``gcgeo/maps/vendor/README.md``); the page makes no network
    request except for the tiles of a tile base map, if one was chosen
    (``offline`` maps have none unless asked).
    """
    html = render_html(m, offline=offline)
    out = write_atomic(html, path)
    log.info("map written: %s (%.1f kB%s)", out, out.stat().st_size / 1024,
             ", offline" if offline else "")
    return out


__all__ = [
    "BASEMAPS",
    "Basemap",
    "CLUSTER_ABOVE",
    "LAYER_FUNCTIONS",
    "LegendItem",
    "OSM_DATA_ATTRIBUTION",
    "STYLE_FUNCTIONS",
    "Styled",
    "VIEWS",
    "View",
    "add_styled",
    "buildings",
    "chargers",
    "communities",
    "dashboard",
    "facilities",
    "fire_lanes",
    "gaps_at_homes",
    "garbage_points",
    "get_basemap",
    "get_context",
    "get_view",
    "green_space",
    "heritage",
    "layer",
    "manholes",
    "new_map",
    "nice_breaks",
    "obstructions",
    "parking",
    "ramps",
    "register_view",
    "render_html",
    "rules_ran",
    "save_map",
    "streets",
    "style_layer",
    "tier_served",
    "view_names",
    *sorted(RESULT_FUNCTIONS),
]
