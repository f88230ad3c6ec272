"""Static figures (PNG) for written reports: one per view, with north arrow and scale bar.

The figures use the same symbology and legends as the interactive maps (the
view registry's styled layers, those that start visible), drawn with
matplotlib's Agg backend in a projected metric CRS (the layers' own, or the
one :func:`gcgeo.crs.choose_metric_crs` picks). No base map: a figure needs
no network.

The scale bar is measured in the projected CRS and corrected by the
projection's scale factor at the map centre, so the bar is true ground
distance; the north arrow points to true north (the meridian convergence of
the projection at the map centre is applied).

Chinese is drawn with gcgeo's bundled font, "gcgeo Sans SC" (a subset of
Noto Sans CJK SC, Regular and Bold, SIL OFL 1.1: ``gcgeo/maps/fonts``), so a
machine needs no CJK font of its own. It is registered with matplotlib when
a figure is drawn. A character outside it falls back to an installed CJK
font, when there is one among the usual families (WenQuanYi, Noto/Source
Han, SimHei, YaHei, PingFang…), then to DejaVu Sans.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import crs as _crs
from .._errors import InputError
from ..labels import ui
from ._styled import Styled
from ._views import View, get_view, view_names

__all__ = ["BUNDLED_CJK_FAMILY", "CJK_FAMILIES", "cjk_font", "nice_scale_length", "plot_view", "save_figures",
           "scale_bar_metres"]

log = logging.getLogger(__name__)

#: Family of the CJK font gcgeo ships (``gcgeo/maps/fonts``); figures draw Chinese with it.
BUNDLED_CJK_FAMILY = "gcgeo Sans SC"
_BUNDLED_FILES = ("gcgeoSansSC-Regular.otf", "gcgeoSansSC-Bold.otf")

#: Installed font families that carry Chinese glyphs, in order of preference
#: (a fallback for characters the bundled font lacks).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
    "Source Han Sans CN", "Noto Serif CJK SC", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
    "STHeiti", "AR PL UMing CN", "AR PL UKai CN", "Droid Sans Fallback",
)
_CJK_FILE_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehansans", "simhei", "msyh", "pingfang",
                   "droidsansfallback", "uming", "ukai")


def _agg():
    import matplotlib
    import matplotlib.pyplot as plt

    if matplotlib.get_backend().lower() != "agg":
        plt.switch_backend("Agg")

    return plt


def _bundled_font() -> str | None:
    """Register the bundled font's Regular and Bold with matplotlib (once); its family, or None if a file is missing."""
    from matplotlib import font_manager as fm

    folder = Path(__file__).with_name("fonts")
    known = {f.fname for f in fm.fontManager.ttflist}
    for name in _BUNDLED_FILES:
        path = os.fsdecode(folder / name)
        if path in known:
            continue
        if not os.path.isfile(path):
            log.warning("gcgeo's font file %s is missing; reinstall gcgeo to draw Chinese without an installed "
                        "CJK font", path)
            return None
        fm.fontManager.addfont(path)
    return BUNDLED_CJK_FAMILY


@functools.cache
def _installed_cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None (looked for once per process)."""
    from matplotlib import font_manager as fm

    names = {f.name for f in fm.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    # fonts installed after matplotlib built its cache: register them now
    for path in fm.findSystemFonts():
        if any(h in os.path.basename(path).lower().replace("-", "").replace("_", "") for h in _CJK_FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
            except Exception:  # noqa: BLE001 - an unreadable font file is not our problem
                continue
    names = {f.name for f in fm.fontManager.ttflist}
    return next((fam for fam in CJK_FAMILIES if fam in names), None)


def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs: gcgeo's bundled one, else an installed one, else None."""
    return _bundled_font() or _installed_cjk_font()


def _font_rc(lang: str) -> dict:
    """matplotlib settings for a figure's text: Chinese first in the bundled font, Latin in DejaVu Sans for English."""
    rc: dict = {"axes.unicode_minus": False}
    cjk = list(dict.fromkeys(f for f in (cjk_font(), _installed_cjk_font()) if f))
    if cjk:
        # English labels still meet Chinese place and community names (高唐县):
        # glyphs DejaVu lacks fall back to the CJK fonts
        rc["font.family"] = [*cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", *cjk]
    return rc


def nice_scale_length(width_m: float, *, fraction: float = 0.25) -> float:
    """A round length (1, 2 or 5 × 10^k metres) close to ``fraction`` of ``width_m``, never above it."""
    if not (width_m > 0 and math.isfinite(width_m)):
        raise ValueError(f"map width must be a positive number of metres, got {width_m}")
    target = width_m * fraction
    k = math.floor(math.log10(target))
    best = 10.0**k
    for m in (1, 2, 5, 10):
        if m * 10.0**k <= target:
            best = m * 10.0**k
    return best


def _unit_factor(crs) -> float:
    """Metres per unit of the CRS's x axis."""
    info = crs.axis_info[0]
    return float(info.unit_conversion_factor or 1.0)


def scale_bar_metres(crs, x: float, y: float) -> float:
    """Map-unit length of one ground metre at (x, y) in projected ``crs`` (1 / scale factor / unit)."""
    to_ll, _, proj = _lonlat(crs)
    lon, lat = to_ll.transform(x, y)
    f = proj.get_factors(lon, lat)
    k = (f.meridional_scale + f.parallel_scale) / 2.0
    return k / _unit_factor(crs)


def _true_north_angle(crs, x: float, y: float) -> float:
    """Angle (degrees, counter-clockwise from the map's up) of true north at (x, y)."""
    to_ll, from_ll, _ = _lonlat(crs)
    lon, lat = to_ll.transform(x, y)
    x2, y2 = from_ll.transform(lon, min(lat + 0.01, 89.9))
    return math.degrees(math.atan2(-(x2 - x), y2 - y))


@functools.lru_cache(maxsize=16)
def _lonlat(crs):
    """``crs`` to lon/lat and back, and its projection: made once per CRS (each took some
    20 ms from PROJ's database, three per figure; a city's 63 dossier maps spent 3 s)."""
    from pyproj import Proj, Transformer

    return (Transformer.from_crs(crs, 4326, always_xy=True), Transformer.from_crs(4326, crs, always_xy=True),
            Proj(crs))


def _target_crs(styles: Sequence[Styled]):
    for s in styles:
        if s.gdf.crs is not None and s.gdf.crs.is_projected:
            return s.gdf.crs
    first = next((s.gdf for s in styles if s.gdf.crs is not None), None)
    if first is None:
        raise InputError("cannot draw a figure: none of the layers has a CRS; declare the layers' CRS first.")
    return _crs.choose_metric_crs(first)


def _rgba(color: str, alpha: float):
    from matplotlib.colors import to_rgba

    return to_rgba(color, alpha)


def _ring_path(geoms: np.ndarray, *, closed: bool):
    """One matplotlib Path through every line or polygon ring of ``geoms`` (shapely, 2-D).

    A city's layer drawn as one path per colour is drawn by Agg in one pass;
    a patch or a collection item per feature takes minutes for 100k features.
    (The path is added with ``add_artist``, the data limits set from the
    layer's bounds: ``add_patch`` walks every vertex in Python to find them.)
    Polygons are normalised (exteriors clockwise, holes anticlockwise), so the
    path's non-zero fill leaves the holes empty.
    """
    import shapely
    from matplotlib.path import Path as MplPath

    lines = {shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING}
    if not closed and len(geoms) and set(shapely.get_type_id(geoms).tolist()) <= {t.value for t in lines}:
        # lines read as ragged arrays: their parts are not copied (a city's streets, 0.1 s a figure)
        coords, offsets = shapely.to_ragged_array(geoms)[1:]
        heads = np.asarray(offsets[0][:-1], dtype=np.int64)
        start = np.zeros(len(coords), dtype=bool)
        start[heads[heads < len(coords)]] = True
    else:
        parts = shapely.get_parts(geoms)
        if closed:
            parts = shapely.get_rings(shapely.normalize(parts))
        coords, idx = shapely.get_coordinates(parts, return_index=True)
        start = np.r_[True, idx[1:] != idx[:-1]]
    if not len(coords):
        return None
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    codes[start] = MplPath.MOVETO
    if closed:
        codes[np.r_[start[1:], True]] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def _by_colour(colors: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each colour and the positions that have it, in order of first appearance."""
    keys = pd.Series(colors.astype(str))
    return [(c, np.flatnonzero(keys.to_numpy() == c)) for c in pd.unique(keys)]


def _draw(ax, s: Styled, crs) -> None:
    from matplotlib.patches import PathPatch

    gdf = s.gdf
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    gdf = gdf[keep].to_crs(crs) if gdf.crs is not None and gdf.crs != crs else gdf[keep]
    if len(gdf) == 0:
        return
    colors = np.asarray(s.colors, dtype=object)[keep]
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    types = gdf.geometry.geom_type.to_numpy()
    z = 1 + s.zorder
    poly = np.isin(types, ["Polygon", "MultiPolygon"])
    line = np.isin(types, ["LineString", "MultiLineString"])
    point = np.isin(types, ["Point", "MultiPoint"])
    for c, at in _by_colour(colors[poly]) if poly.any() else []:
        path = _ring_path(geoms[poly][at], closed=True)
        if path is not None:
            ax.add_artist(PathPatch(path, facecolor=_rgba(c, s.fill_opacity), edgecolor=_rgba(s.stroke or c, s.opacity),
                                   linewidth=max(s.weight * 0.4, 0.2), zorder=z))
    for c, at in _by_colour(colors[line]) if line.any() else []:
        path = _ring_path(geoms[line][at], closed=False)
        if path is not None:
            ax.add_artist(PathPatch(path, fill=False, edgecolor=_rgba(c, s.opacity), linewidth=max(s.weight * 0.5, 0.3),
                                   linestyle="--" if s.dash else "-", capstyle="round", zorder=z))
    if point.any():
        pts = gdf[point].geometry.representative_point()
        x, y = pts.x.to_numpy(), pts.y.to_numpy()
        # many points: smaller dots (a city's 100k homes as dots of about a point, so the
        # streets and the communities beneath stay visible), and no white rims, which
        # would grey the map over
        shrink = max(0.15, min(1.0, math.sqrt(200.0 / len(pts))))
        size = max(0.8, s.radius * 1.3 * shrink)
        rim = 0.4 * shrink if len(pts) <= 5000 else 0.0
        for c, at in _by_colour(colors[point]):  # one marker stamped per colour: fast for 100k homes
            ax.plot(x[at], y[at], linestyle="", marker="o", markersize=size,
                    markerfacecolor=c, markeredgecolor="white", markeredgewidth=rim, zorder=z + 10)
    ax.update_datalim(np.reshape(gdf.total_bounds, (2, 2)))


#: The faint streets drawn in every figure that does not draw them itself (colour, opacity,
#: width): above the areas (communities shaded by a result), below the points.
_STREETS_UNDER = ("#8c8c8c", 0.55, 0.3)
_STREETS_Z = 9.5
#: Above this many communities, figures carry no community names (they would overlap).
MAX_COMMUNITY_LABELS = 300


def _streets_under(ax, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], styles: Sequence[Styled],
                   crs) -> None:
    """The streets, thin and light grey under the points, so a city figure can be read by its streets."""
    from matplotlib.patches import PathPatch

    streets = layers.get("streets")
    if not isinstance(streets, gpd.GeoDataFrame) or not len(streets) or any(s.key == "streets" for s in styles):
        return
    if streets.crs is not None and streets.crs != crs:
        streets = streets.to_crs(crs)
    path = _ring_path(np.asarray(streets.geometry.dropna().values, dtype=object), closed=False)
    if path is not None:
        color, alpha, width = _STREETS_UNDER
        ax.add_artist(PathPatch(path, fill=False, edgecolor=_rgba(color, alpha), linewidth=width, zorder=_STREETS_Z))


def _community_names(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
                     styles: Sequence[Styled]) -> tuple[gpd.GeoSeries, list[str]] | None:
    """The communities' outlines and names to label a figure with (the communities layer, else a
    drawn layer with one row per community), or None."""
    candidates = [layers.get("communities"), *[s.gdf for s in styles]]
    for frame in candidates:
        if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
            continue
        col = next((c for c in ("name", "community_name") if c in frame.columns), None)
        if col is None or (frame is not candidates[0] and "community_id" not in frame.columns):
            continue
        names = frame[col].astype("string")
        keep = (names.notna() & ~frame.geometry.isna() & ~frame.geometry.is_empty).to_numpy()
        if keep.any():
            return frame.geometry[keep], names[keep].astype(str).tolist()
    return None


def _label_communities(ax, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], styles: Sequence[Styled],
                       crs) -> int:
    """Each community's name at a point inside it, dark on a white halo; the number written."""
    from matplotlib import patheffects

    found = _community_names(layers, styles)
    if found is None:
        return 0
    outlines, names = found
    if len(names) > MAX_COMMUNITY_LABELS:
        log.info("figure: %d communities, too many to name legibly; their names are left out", len(names))
        return 0
    if outlines.crs is not None and outlines.crs != crs:
        outlines = outlines.to_crs(crs)
    at = outlines.representative_point()
    size = 7.0 if len(names) <= 40 else 6.0 if len(names) <= 120 else 5.0
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white", alpha=0.9)]
    for x, y, name in zip(at.x, at.y, names):
        ax.text(x, y, name, fontsize=size, color="#222222", ha="center", va="center", zorder=60,
                path_effects=halo, clip_on=True)
    return len(names)


def _legend(ax, styles: Sequence[Styled]):
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Artist] = []
    bold: list[int] = []
    for s in styles:
        if not s.legend:
            continue
        bold.append(len(handles))
        handles.append(Patch(visible=False, label=s.legend_title or s.name))
        kind = s.geom_kind
        for item in s.legend:
            h: Artist
            if kind == "point":
                h = Line2D([], [], marker="o", linestyle="", markerfacecolor=item.color, markeredgecolor="white",
                           markersize=7, label=item.label)
            elif kind == "line":
                h = Line2D([], [], color=item.color, linewidth=2.5, label=item.label)
            else:
                h = Patch(facecolor=_rgba(item.color, max(s.fill_opacity, 0.35)),
                          edgecolor=s.stroke or item.color, label=item.label)
            handles.append(h)
    if not handles:
        return None
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                    fontsize=7.5, handlelength=1.6, borderaxespad=0.0, ncol=max(1, math.ceil(len(handles) / 34)))
    for i, text in enumerate(leg.get_texts()):
        if i in bold:
            text.set_fontweight("bold")
    return leg


def _north_arrow(ax, crs, lang: str) -> float:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    angle = _true_north_angle(crs, (x0 + x1) / 2, (y0 + y1) / 2)
    cx, cy, r = 0.94, 0.90, 0.05  # axes fraction
    dx, dy = -math.sin(math.radians(angle)) * r, math.cos(math.radians(angle)) * r
    ax.annotate("", xy=(cx + dx, cy + dy), xytext=(cx - dx, cy - dy), xycoords="axes fraction",
                arrowprops=dict(arrowstyle="-|>,head_width=0.45,head_length=0.9", color="black", lw=1.6),
                zorder=50)
    ax.text(cx + dx * 1.6, cy + dy * 1.6, ui("north", lang), transform=ax.transAxes, ha="center", va="center",
            fontsize=10, fontweight="bold", zorder=50)
    return angle


def _scale_bar(ax, crs) -> float:
    """Draw a 4-segment scale bar at the bottom left; return its ground length in metres."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    per_m = scale_bar_metres(crs, (x0 + x1) / 2, (y0 + y1) / 2)  # map units per ground metre
    width_m = (x1 - x0) / per_m
    length = nice_scale_length(width_m)
    bar = length * per_m
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * bar / 4, by), bar / 4, h, facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6, zorder=50))
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    for frac in (0, 1):
        v = length * frac / div
        ax.text(bx + bar * frac, by + 1.8 * h, f"{v:g}" + (f" {unit}" if frac == 1 else ""), ha="center",
                va="bottom", fontsize=7, zorder=50)
    return length


def plot_view(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], view: str | View, *, lang: str = "en",
              title: str | None = None, styles: Sequence[Styled] | None = None):
    """A matplotlib Figure of ``view`` (its layers that start visible), or None when it has no layers.

    Its text is set in gcgeo's bundled CJK font (Chinese) and DejaVu Sans
    (Latin), whatever matplotlib's settings; the Figure can be saved later.
    ``styles``: the view's styled layers already built from ``layers`` in
    ``lang`` (:meth:`View.styles`), drawn as they are.
    """
    plt = _agg()
    with plt.rc_context(_font_rc(lang)):
        return _plot_view(plt, layers, view, lang=lang, title=title, styles=styles)


def _plot_view(plt, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], view: str | View, *, lang: str,
               title: str | None, styles: Sequence[Styled] | None):
    v = get_view(view) if isinstance(view, str) else view
    styles = [s for s in (v.styles(layers, lang=lang) if styles is None else styles) if s.show]
    if not styles:
        return None
    crs = _target_crs(styles)
    bounds = np.array([s.gdf.to_crs(crs).total_bounds for s in styles if len(s.gdf)])
    dx = np.nanmax(bounds[:, 2]) - np.nanmin(bounds[:, 0])
    dy = np.nanmax(bounds[:, 3]) - np.nanmin(bounds[:, 1])
    aspect = dx / dy if dy > 0 and dx > 0 else 1.0
    map_w = float(np.clip(7.0 * aspect, 4.0, 11.0))
    map_h = float(np.clip(map_w / aspect, 4.0, 9.0))
    fig, ax = plt.subplots(figsize=(map_w + 3.2, map_h + 0.8), dpi=150)
    _streets_under(ax, layers, styles, crs)
    for s in styles:
        _draw(ax, s, crs)
    ax.autoscale_view()
    ax.set_aspect("equal")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    pad = 0.04 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad * 2.5, y1 + pad)  # room for the scale bar
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_linewidth(0.6)
    _north_arrow(ax, crs, lang)
    fig.gcgeo_scale_m = _scale_bar(ax, crs)
    fig.gcgeo_community_labels = _label_communities(ax, layers, styles, crs)
    _legend(ax, styles)
    ax.set_title(f"{title} · {v.label(lang)}" if title else v.label(lang), fontsize=12, fontweight="bold")
    from ._render import has_osm_data

    # analysis outputs derive from the inventory: credit OSM when any layer came from it
    osm = any(isinstance(df, pd.DataFrame) and has_osm_data(df) for df in layers.values())
    crs_name = crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()}"
    note = ("坐标系 " if lang == "zh" else "CRS ") + crs_name
    if osm:
        note += " · Data © OpenStreetMap contributors"
    fig.text(0.01, 0.01, note, fontsize=6.5, color="#555555")
    # laid out here, once: fig.tight_layout() leaves a placeholder layout engine on the figure,
    # for which savefig lays out the whole figure once more, every text measured again
    from matplotlib.layout_engine import TightLayoutEngine

    TightLayoutEngine().execute(fig)
    return fig


def _tight_box(fig, *, pad: float):
    """The figure's tight bounding box (inches), found without drawing its map layers.

    ``bbox_inches="tight"`` draws the whole figure once to measure it and again
    to save it; a city's layers lie inside the axes, so they are hidden while
    the box is measured, and the figure is drawn once.
    """
    hidden = [a for ax in fig.axes for a in (*ax.artists, *ax.patches, *ax.lines, *ax.collections)
              if a.get_visible()]
    for a in hidden:
        a.set_visible(False)
    try:
        box = fig.get_tightbbox(fig.canvas.get_renderer())
    finally:
        for a in hidden:
            a.set_visible(True)
    return box.padded(pad)


def _save_png(fig, path: Path, *, dpi: int, box) -> None:
    """Write ``fig`` as an indexed-colour PNG (at most 256 colours, as pngquant does for the web).

    A map figure is a few flat class colours and their anti-aliased edges: a palette of
    256 holds them with no visible change, at a quarter of the bytes of a true-colour PNG
    (the report embeds every figure).  Matplotlib writes the pixels uncompressed; Pillow
    finds the palette (octree, no dithering: flat fills stay flat) and compresses once.
    """
    import io

    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, dpi=dpi, format="png", bbox_inches=box, pil_kwargs={"compress_level": 0})
    raw.seek(0)
    with Image.open(raw) as img:
        rgb = img.convert("RGB")  # the figure is drawn on white: no transparency to keep
    rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        path, format="PNG", compress_level=6)


def save_figures(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], folder: str | os.PathLike, *,
                 lang: str = "en", views: Sequence[str] | None = None, title: str | None = None,
                 dpi: int = 150, styles: Mapping[str, Sequence[Styled]] | None = None) -> dict[str, Path]:
    """One PNG per available view in ``folder`` (``<view>.png``); returns view name → path.

    With ``lang="zh"`` and no CJK font at all (gcgeo's bundled one missing,
    none installed), English labels are used and a warning is logged.
    ``styles``: the styled layers of views already built from ``layers`` in
    ``lang`` (:meth:`View.styles`), by view name, drawn as they are (the
    report draws its map from the same); unused when the labels fall back
    to English.
    """
    plt = _agg()
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', got {lang!r}")
    if lang == "zh" and cjk_font() is None:
        log.warning("no font with Chinese glyphs found: gcgeo's own (gcgeo/maps/fonts) is missing and none is "
                    "installed (e.g. Debian package fonts-wqy-microhei); the figures use English labels")
        lang = "en"
        styles = None  # built in Chinese
    rc = _font_rc(lang)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with plt.rc_context(rc):
        for name in views or view_names():
            v = get_view(name)
            if not v.available(layers):
                log.info("figure '%s' skipped: none of its layers is present", name)
                continue
            fig = plot_view(layers, v, lang=lang, title=title,
                            styles=styles.get(name) if styles is not None else None)
            if fig is None:
                continue
            path = folder / f"{name}.png"
            tmp = folder / f".{name}.png.tmp"
            try:
                _save_png(fig, tmp, dpi=dpi, box=_tight_box(fig, pad=0.15))
                os.replace(tmp, path)
            finally:
                plt.close(fig)
                if tmp.exists():
                    tmp.unlink()
            out[name] = path
            log.info("figure written: %s", path)
    return out
