"""One function per layer kind and per analysis result, in the style of ``GeoDataFrame.explore``.

Each ``style_<name>(gdf, *, lang)`` returns a :class:`~gcgeo.maps._render.Styled`
layer (symbology and legend, shared with the static figures); each public
function ``<name>(gdf, m=None, *, lang="en", …)`` draws it on ``m`` (a new map
when None) and returns the map, so layers stack::

    m = gcgeo.maps.communities(ws["communities"], lang="zh")
    gcgeo.maps.facilities(ws["facilities"], m=m)

Every function tolerates missing optional columns. Class breaks of
choropleths are equal intervals of a share, data quantiles, or — where a
rules file holds the threshold (green per person, fire-lane width) — the
threshold itself, read from the rules, never written here.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import layers as _layers
from .. import rules as _rules
from ..labels import (
    category_label,
    column_label,
    fire_kind_label,
    format_value,
    kind_label,
    layer_label,
    tier_label,
    ui,
    value_label,
)
from ..values import text_list
from . import palette as _pal
from ._styled import LegendItem, Styled, colors_by_category, colors_by_class, subset

if TYPE_CHECKING:
    import folium

__all__ = [
    "LAYER_FUNCTIONS",
    "STYLE_FUNCTIONS",
    "style_functions",
    "style_layer",
]

log = logging.getLogger(__name__)

# Colours come from ``palette``, allocated once for every layer of every view, so a colour
# means one thing in any map (a status, a category, a tier, a class of one quantity).


def _fmt_num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.2g}" if abs(v) < 1 else f"{v:.1f}"


def _fmt_pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def nice_breaks(values: Iterable[float], k: int = 5) -> list[float]:
    """Up to ``k - 1`` increasing class breaks at data quantiles, rounded to 2 significant digits."""
    v = pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna().to_numpy(dtype="float64")
    if len(v) == 0 or np.nanmin(v) == np.nanmax(v):
        return []
    qs = np.quantile(v, np.linspace(0, 1, k + 1)[1:-1])
    out: list[float] = []
    for q in qs:
        if q == 0:
            r = 0.0
        else:
            digits = 1 - int(math.floor(math.log10(abs(q))))
            r = round(float(q), digits)
        if r > np.nanmin(v) and (not out or r > out[-1]):
            out.append(r)
    return out


def _walk(node: Any, path: str = "") -> Iterable[tuple[str, Mapping]]:
    """Every threshold table below ``node`` with its dotted path (values not read here,
    so only the rules a map uses count as read)."""
    if isinstance(node, Mapping):
        if "value" in node:
            yield path, node
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))


def rule_thresholds(ruleset: str, *, key: str, unit: str | None = None,
                    rules: Mapping[str, Any] | None = None) -> list[float]:
    """Threshold values in rule set ``ruleset`` whose dotted key matches regex ``key`` (empty if none).

    ``rules``: the rule sets a stored result was computed with, by name, as
    :func:`gcgeo.pipeline.run_rules` gives them, so that a map draws the
    threshold the run applied; without them, the built-in rules.  A rule set
    they do not hold has no thresholds (an empty mapping stands for rules that
    cannot be had: the map then draws breaks from the data).
    """
    if rules is not None:
        if ruleset not in rules:
            return []
        r = rules[ruleset]
    else:
        try:
            r = _rules.load(ruleset)
        except Exception:  # noqa: BLE001 - the rule set may not exist yet; fall back to quantiles
            return []
    vals = set()
    for path, t in _walk(r):
        if re.search(key, path) and (unit is None or str(t.get("unit", "")).replace(" ", "") == unit):
            v = t["value"]
            if isinstance(v, int | float) and not isinstance(v, bool):
                vals.add(float(v))
    return sorted(vals)


def _present(gdf: pd.DataFrame, names: Iterable[str]) -> list[str]:
    return [c for c in names if c in gdf.columns]


def _spec_fields(kind: str, gdf: pd.DataFrame) -> list[str]:
    spec = _layers.get_spec(kind)
    skip = {"osm_type", "osm_id", "u", "v", "source"}
    first = [c for c in ("name", "id") if c in gdf.columns]
    rest = [c.name for c in spec.all_columns if c.name in gdf.columns and c.name not in skip and c.name not in first]
    return first + rest


def _other_fields(gdf: pd.DataFrame, first: Sequence[str], limit: int = 14) -> list[str]:
    """``first`` (present ones) then the remaining attribute columns, at most ``limit``."""
    geom = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    cols = _present(gdf, first)
    cols += [c for c in gdf.columns if c not in cols and c != geom and not str(c).startswith("_")]
    return cols[:limit]


def _single(gdf: pd.DataFrame, color: str) -> np.ndarray:
    return np.full(len(gdf), color, dtype=object)


def _category_palette(values: Iterable[Any], label: Callable[[Any], str],
                      palette: Mapping[Any, str]) -> dict[Any, tuple[str, str]]:
    """Value → (colour, label) for the values present that ``palette`` names, in its order
    (the others are drawn as "other")."""
    present = {v for v in values if not pd.isna(v)}  # (None, NaN and pandas' NA: a blank cell)
    return {v: (c, label(v)) for v, c in palette.items() if v in present and c != _pal.OTHER}


def _by_category(gdf: pd.DataFrame, col: str, lang: str, *, palette: Mapping[Any, str], kind: str | None = None,
                 label: Callable[[Any], str] | None = None, default: str = _pal.OTHER):
    """Rows coloured by ``col`` from ``palette`` (value → colour); values it does not name are
    "other", a layer without the column is drawn in ``default``."""
    if col not in gdf.columns or gdf[col].isna().all():
        return _single(gdf, default), []
    label = label or (lambda v: value_label(kind, col, v, lang))
    pal = _category_palette(gdf[col].tolist(), label, palette)
    return colors_by_category(gdf[col], pal, other=(_pal.OTHER, ui("other", lang)))


def _kind_order(kind: str, col: str) -> tuple[str, ...]:
    spec = _layers.get_spec(kind)
    return spec.column(col).allowed or () if spec.has_column(col) else ()


# --- inventory layers -----------------------------------------------------------------


def style_communities(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _spec_fields("communities", gdf)
    spec = _layers.get_spec("communities")
    return Styled("communities", spec.label(lang), subset(gdf, fields), _single(gdf, _pal.COMMUNITIES), fields,
                  kind="communities", legend=[LegendItem(_pal.COMMUNITIES, spec.label(lang))], stroke="#08306b",
                  weight=2, fill_opacity=0.06, simplify_m=1.0, zorder=1)


def style_buildings(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _spec_fields("buildings", gdf)
    spec = _layers.get_spec("buildings")
    res_label = spec.column("residential").label(lang)
    when: tuple[tuple[str, Any], ...] = ()
    if "residential" in gdf.columns:
        res = gdf["residential"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        when = (("residential", True),)
    elif "use" in gdf.columns:
        res = gdf["use"].isin(["residential", "mixed"]).to_numpy()
        when = (("use", ("residential", "mixed")),)
    else:
        res = np.zeros(len(gdf), dtype=bool)
    colors = np.where(res, _pal.RESIDENTIAL, _pal.OTHER).astype(object)
    legend = [LegendItem(_pal.RESIDENTIAL, res_label, when=when), LegendItem(_pal.OTHER, ui("other", lang), rest=True)]
    return Styled("buildings", spec.label(lang), subset(gdf, fields), colors, fields, kind="buildings",
                  legend=legend, weight=0.5, fill_opacity=0.6, simplify_m=0.5, zorder=2)


def style_streets(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _spec_fields("streets", gdf)
    spec = _layers.get_spec("streets")
    if "walkable" in gdf.columns:
        walk = gdf["walkable"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    else:
        walk = np.ones(len(gdf), dtype=bool)
    yes, no = _pal.STREETS["walkable"], _pal.STREETS["not_walkable"]
    colors = np.where(walk, yes, no).astype(object)
    legend = [LegendItem(yes, spec.column("walkable").label(lang), rest=True)]
    if (~walk).any():
        legend.append(LegendItem(no, f"{spec.column('walkable').label(lang)}: {ui('no', lang)}",
                                 when=(("walkable", False),)))
    return Styled("streets", spec.label(lang), subset(gdf, fields), colors, fields, kind="streets",
                  legend=legend, weight=1.5, opacity=0.8, simplify_m=1.0, zorder=1)


def style_green_space(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _spec_fields("green_space", gdf)
    spec = _layers.get_spec("green_space")
    one = _pal.KINDS["green_space", "kind"]["park"]
    colors, legend = _by_category(gdf, "kind", lang, kind="green_space", palette=_pal.KINDS["green_space", "kind"],
                                  default=one)
    return Styled("green_space", spec.label(lang), subset(gdf, fields), colors, fields, kind="green_space",
                  legend=legend or [LegendItem(one, spec.label(lang))], weight=1, fill_opacity=0.6,
                  simplify_m=1.0, zorder=1)


def _points(kind: str, color_col: str | None, *, radius: float = 5.0, weight: float = 2.0,
            fill_opacity: float = 0.6):
    """The style of an inventory point layer coloured by its coded ``color_col`` (``palette.KINDS``);
    without the column, in the colour of its first value."""
    palette = _pal.KINDS.get((kind, color_col or ""), {})
    default = next(iter(palette.values()), _pal.generic_color(kind))

    def style(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
        fields = _spec_fields(kind, gdf)
        spec = _layers.get_spec(kind)
        if color_col:
            colors, legend = _by_category(gdf, color_col, lang, kind=kind, palette=palette, default=default)
        else:
            colors, legend = _single(gdf, default), []
        return Styled(kind, spec.label(lang), subset(gdf, fields), colors, fields, kind=kind,
                      legend=legend or [LegendItem(default, spec.label(lang))], radius=radius, weight=weight,
                      fill_opacity=fill_opacity, simplify_m=0.5, zorder=3)

    style.__name__ = f"style_{kind}"
    style.__doc__ = f"Symbology of the {kind} layer."
    return style


style_parking = _points("parking", "kind")
style_chargers = _points("chargers", "kind")
style_manholes = _points("manholes", "condition", radius=4)
style_ramps = _points("ramps", "kind", radius=4)
style_obstructions = _points("obstructions", "kind", fill_opacity=0.7)
style_garbage_points = _points("garbage_points", "kind", radius=4)
style_heritage = _points("heritage", "kind", fill_opacity=0.4)


def style_facilities(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _spec_fields("facilities", gdf)
    spec = _layers.get_spec("facilities")
    colors, legend = _by_category(gdf, "category", lang, label=lambda v: category_label(v, lang),
                                  palette=_pal.FACILITY_CATEGORIES)
    return Styled("facilities", spec.label(lang), subset(gdf, fields), colors, fields, kind="facilities",
                  legend=legend, radius=5, zorder=4)


def style_fire_lanes(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _spec_fields("fire_lanes", gdf)
    spec = _layers.get_spec("fire_lanes")
    return Styled("fire_lanes", spec.label(lang), subset(gdf, fields), _single(gdf, _pal.FIRE_LANES), fields,
                  kind="fire_lanes", legend=[LegendItem(_pal.FIRE_LANES, spec.label(lang))], weight=3.5,
                  fill_opacity=0.3, simplify_m=0.5, zorder=2)


# --- living circle -----------------------------------------------------------------------


def tier_sort_key(tier: str) -> tuple[float, str]:
    m = re.match(r"(\d+(?:\.\d+)?)", str(tier))
    return (float(m.group(1)) if m else math.inf, str(tier))


def _tiers_in(gdf: pd.DataFrame, prefix: str) -> list[str]:
    tiers = [c[len(prefix):] for c in gdf.columns if c.startswith(prefix)]
    return sorted(tiers, key=tier_sort_key)


def every_prefix(gdf: pd.DataFrame, *, share: bool = False) -> str:
    """The prefix of the living circle's strict reading in ``gdf``: ``all_within_`` (every
    category the tier requires within its distance), with ``share_`` per community;
    ``served_`` / ``share_served_`` in results stored before the columns were renamed."""
    head = "share_" if share else ""
    new = head + "all_within_"
    return new if any(str(c).startswith(new) for c in gdf.columns) else head + "served_"


def tier_served(gdf: pd.DataFrame) -> pd.Series:
    """The smallest tier each row is served at (from ``all_within_<tier>`` columns); NA when none."""
    p = every_prefix(gdf)
    tiers = _tiers_in(gdf, p)
    out = pd.Series(pd.NA, index=gdf.index, dtype="object")
    for t in reversed(tiers):
        ok = gdf[f"{p}{t}"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        out[ok] = t
    return out


def _tier_color(tier: str) -> str:
    """The colour of ``tier`` by its walking minutes, the same for homes and isochrones."""
    return _pal.tier_color(tier_sort_key(tier)[0])


def style_lc_origins(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    """Homes coloured by the smallest living-circle tier that serves them."""
    p = every_prefix(gdf)
    tiers = _tiers_in(gdf, p)
    served = tier_served(gdf)
    pal = {t: (_tier_color(t), tier_label(t, lang)) for t in tiers}
    colors, legend = colors_by_category(served, pal, other=(_pal.NOT_SERVED, ui("not_served", lang)),
                                        when=lambda t: ((f"{p}{t}", True),))  # smallest tier first
    if not tiers:  # (a layer without tier flags: homes, in a colour of their own)
        colors, legend = _single(gdf, _pal.HOMES), [LegendItem(_pal.HOMES, layer_label("lc_origins", lang))]
    dist = sorted(c for c in gdf.columns if re.fullmatch(r"dist_.+_m", str(c)))
    # A city has 100k homes: the popup names the home, its community, the tier serving it and
    # the walk to each category; one all_within_<tier> flag per tier would repeat the tier.
    ids = _present(gdf, ["name", "building_id", "origin_id", "id"])[:1]
    fields = ids + _present(gdf, ["community_name", "community"])[:1] + _present(gdf, ["population", "off_network"])
    shown = subset(gdf, fields + dist)
    if tiers:
        shown.insert(len(fields), "tier", served.where(served.notna(), ui("not_served", lang)).astype(object))
        fields.append("tier")
    return Styled("lc_origins", ui("homes", lang), shown, colors, fields + dist,
                  legend=legend, legend_title=ui("served_tier", lang), radius=3.5, zorder=3)


def style_lc_communities(gdf: gpd.GeoDataFrame, *, lang: str = "en", tier: str | None = None,
                         prefix: str | None = None) -> Styled:
    """Communities coloured by the population share served at ``tier`` (default: the largest
    tier): the strict reading, or the columns ``prefix + tier`` (``share_in_data_within_``)."""
    p = prefix or every_prefix(gdf, share=True)
    tiers = _tiers_in(gdf, p)
    tier = tier or (tiers[-1] if tiers else None)
    fields = _other_fields(gdf, ["community_name", "name", "id", "homes", "residents", "population"]
                           + [f"{p}{t}" for t in tiers]
                           + ["share_complete", "min_share_complete_status", "min_share_complete_reason"],
                           limit=16)
    legend: list[LegendItem]
    if tier is None or f"{p}{tier}" not in gdf.columns:
        title = ui("share_served", lang)
        colors, legend = _single(gdf, _pal.COMMUNITIES), [LegendItem(_pal.COMMUNITIES,
                                                                   _layers.get_spec("communities").label(lang))]
    else:
        colors, legend = colors_by_class(gdf[f"{p}{tier}"], [0.2, 0.4, 0.6, 0.8], list(_pal.SHARE_OF_RESIDENTS),
                                         fmt=_fmt_pct, no_data=ui("no_data", lang))
        title = column_label(f"{p}{tier}", lang)
    return Styled("lc_communities", title, subset(gdf, fields), colors, fields, legend=legend,
                  legend_title=title, stroke="#333333", weight=1.2, fill_opacity=0.55, simplify_m=1.0,
                  zorder=1)


def gaps_by_home(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> gpd.GeoDataFrame:
    """The gaps layer as one row per home: as the living circle stores it (one row per
    home, ``missing_<tier>`` lists), or one row per home, category and tier (a workspace
    of an older gcgeo, a layer of one's own).

    ``missing_categories`` lists the categories missing per tier, nearest tier
    first ("5-minute living circle: Kindergarten, Pharmacy; …"), and
    ``n_missing`` counts the categories missing at any tier.  Homes are told
    apart by ``origin_id``, else by their location.  A map draws one point per
    home instead of one per gap on top of each other: a town of 30k homes has
    about 250k gaps.
    """
    if len(gdf) and "n_missing" in gdf.columns and "category" not in gdf.columns:
        return _gaps_listed(gdf, lang=lang)
    if "category" not in gdf.columns or "tier" not in gdf.columns or len(gdf) == 0:
        return gdf
    geom = gdf.geometry.name
    key = gdf["origin_id"] if "origin_id" in gdf.columns else \
        pd.Series(shapely.to_wkb(gdf.geometry.to_numpy()), index=gdf.index)
    home, _ = pd.factorize(key, use_na_sentinel=False)
    tiers = sorted(gdf["tier"].dropna().astype(str).unique(), key=tier_sort_key)
    tier = gdf["tier"].astype(str).to_numpy(object)
    t_rank = pd.Series(tier).map({t: i for i, t in enumerate(tiers)}).fillna(len(tiers)).to_numpy()
    cats = gdf["category"].astype(str).to_numpy(object)
    order = {c: i for i, c in enumerate(_kind_order("facilities", "category"))}
    names = sorted(set(cats), key=lambda c: (order.get(c, len(order)), c))
    c_rank = pd.Series(cats).map({c: i for i, c in enumerate(names)}).to_numpy()
    o = np.lexsort((c_rank, t_rank, home))  # by home, nearest tier, category
    home, tier, c_rank = home[o], tier[o], c_rank[o]
    label = [category_label(c, lang) for c in names]
    labels = [label[i] for i in c_rank]
    sep, colon, semi = ("、", "：", "；") if lang == "zh" else (", ", ": ", "; ")
    heading = {t: tier_label(t, lang) + colon for t in set(tier)}
    # runs of one home and tier, then of one home
    run = np.flatnonzero(np.r_[True, (home[1:] != home[:-1]) | (tier[1:] != tier[:-1])])
    stop = np.r_[run[1:], len(home)]
    parts = [heading[tier[a]] + sep.join(labels[a:b]) for a, b in zip(run, stop)]
    ph = home[run]
    hrun = np.flatnonzero(np.r_[True, ph[1:] != ph[:-1]])
    text = [semi.join(parts[a:b]) for a, b in zip(hrun, np.r_[hrun[1:], len(ph)])]
    starts = run[hrun]
    first = o[starts]  # a row of each home, to take its attributes from
    # categories missing at any tier, each counted once
    pair = home * (len(names) + 1) + c_rank
    new = np.r_[True, np.diff(np.sort(pair)) != 0]
    n_missing = np.bincount(np.sort(pair)[new] // (len(names) + 1), minlength=home.max() + 1)
    keep = [c for c in ("origin_id", "building_id", "community_id", "community_name", "community",
                        "off_network") if c in gdf.columns]
    out = gdf.iloc[first][keep + [geom]].copy()
    out.insert(len(keep), "missing_categories", text)
    out.insert(len(keep), "n_missing", n_missing[home[starts]])
    return out.reset_index(drop=True)


def _gaps_listed(gdf: gpd.GeoDataFrame, *, lang: str) -> gpd.GeoDataFrame:
    """:func:`gaps_by_home` of the living circle's stored gaps, already one row per home with
    its categories missing per tier in ``missing_<tier>`` (JSON arrays of category codes)."""
    tiers = sorted((c[len("missing_"):] for c in gdf.columns
                    if c.startswith("missing_") and c != "missing_categories"), key=tier_sort_key)
    order = {c: i for i, c in enumerate(_kind_order("facilities", "category"))}
    sep, colon, semi = ("、", "：", "；") if lang == "zh" else (", ", ": ", "; ")
    parts = []
    for t in tiers:
        col = gdf["missing_" + t].astype(object).where(gdf["missing_" + t].notna(), None)
        heading = tier_label(t, lang) + colon
        text = {}
        for listed in pd.unique(col.dropna()):  # one text per pattern (a few hundred in a city)
            cats = sorted(text_list(str(listed)) or [str(listed)], key=lambda c: (order.get(c, len(order)), c))
            text[listed] = heading + sep.join(category_label(c, lang) for c in cats) if cats else None
        parts.append(col.map(text).to_numpy(object))
    joined = [semi.join(p for p in row if isinstance(p, str)) or None for row in zip(*parts)] if parts else None
    out = gdf.drop(columns=["missing_" + t for t in tiers])
    out.insert(list(out.columns).index("n_missing") + 1, "missing_categories", joined)
    return out.reset_index(drop=True)


def style_lc_gaps(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    """The homes with gaps, one point each, coloured by how many facility types they lack."""
    homes = gaps_by_home(gdf, lang=lang)
    fields = _present(homes, ["community_name", "community", "building_id", "n_missing",
                              "missing_categories", "off_network"])
    if "n_missing" in homes.columns:
        colors, legend = colors_by_class(homes["n_missing"], [2, 3, 5], list(_pal.GAPS),
                                         fmt=lambda v: f"{v:g}", no_data=ui("no_data", lang))
        classes = _GAP_CLASSES["zh" if lang == "zh" else "en"]
        legend = [dataclasses.replace(c, label=lab) for c, lab in zip(legend, classes)] + \
            legend[len(classes):]
        title = column_label("n_missing", lang)
    else:  # a gaps table without categories or tiers: as it is
        fields = _other_fields(homes, ["category", "tier", "community_name", "building_id"])
        title = ui("gaps", lang)
        colors, legend = _single(homes, _pal.GAPS_UNCOUNTED), [LegendItem(_pal.GAPS_UNCOUNTED, title)]
    return Styled("lc_gaps", ui("gaps", lang), subset(homes, fields), colors, fields,
                  legend=legend, legend_title=title, radius=5, zorder=4, cluster=False)


#: Homes lacking 1, 2, 3–4 and 5 or more facility types (colours: ``palette.GAPS``).
_GAP_CLASSES = {"zh": ("1 类", "2 类", "3–4 类", "5 类及以上"),
                "en": ("1 type", "2 types", "3–4 types", "5 or more types")}


def style_lc_isochrones(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _other_fields(gdf, ["tier", "name", "id", "category"], limit=6)
    if "tier" in gdf.columns:
        tiers = sorted(gdf["tier"].dropna().astype(str).unique(), key=tier_sort_key)
        pal = {t: (_tier_color(t), tier_label(t, lang)) for t in tiers}
        colors, legend = colors_by_category(gdf["tier"].astype("string"), pal,
                                            other=(_pal.OTHER, ui("other", lang)))
    else:
        colors, legend = _single(gdf, _pal.TIERS[-1]), []
    return Styled("lc_isochrones", ui("isochrones", lang), subset(gdf, fields), colors, fields,
                  legend=legend, legend_title=ui("isochrones", lang), weight=1, fill_opacity=0.15,
                  simplify_m=3.0, show=False, zorder=0)


# --- green -------------------------------------------------------------------------------------


_GREEN_FIRST = ["name", "id", "population", "green_ratio", "green_ratio_pass", "public_green_per_person_m2",
                "concentrated_green_per_person_m2", "concentrated_pass", "share_within_300m_green",
                "share_within_500m_park", "ndvi_mean", "veg_fraction", "concentrated_sunlit_share",
                "concentrated_sunlit_pass"]


def _green_first(gdf: pd.DataFrame) -> list[str]:
    shares = [c for c in gdf.columns if str(c).startswith("share_within_")]
    passes = [c for c in gdf.columns if str(c).startswith("public_green_pass_")]
    return list(dict.fromkeys([*_GREEN_FIRST[:8], *shares, *passes, *_GREEN_FIRST[8:]]))


def style_green_communities(gdf: gpd.GeoDataFrame, *, lang: str = "en", column: str = "green_ratio",
                            rules: Mapping[str, Any] | None = None) -> Styled:
    """Communities coloured by ``column``: green_ratio, public_green_per_person_m2, share_within_*,
    ndvi_mean, veg_fraction; breaks at the thresholds of ``rules`` (see :func:`rule_thresholds`)."""
    fields = _other_fields(gdf, _green_first(gdf), limit=18)
    title = column_label(column, lang)
    legend: list[LegendItem]
    if column not in gdf.columns:  # (the layer without the column drawn: its communities, named)
        colors, legend = _single(gdf, _pal.COMMUNITIES), [LegendItem(_pal.COMMUNITIES,
                                                                   layer_label("green_communities", lang))]
    elif column == "public_green_per_person_m2":
        breaks = rule_thresholds("green", key=r"per_person", unit="m2/person", rules=rules) \
            or nice_breaks(gdf[column])
        colors, legend = colors_by_class(gdf[column], breaks, _pal.ramp(_pal.GREEN_PER_PERSON, len(breaks) + 1),
                                         fmt=_fmt_num,
                                         no_data=ui("no_data", lang))
    elif column == "ndvi_mean":
        colors, legend = colors_by_class(gdf[column], [0.2, 0.4, 0.6], _pal.ramp(_pal.NDVI, 4),
                                         fmt=lambda v: f"{v:.1f}",
                                         no_data=ui("no_data", lang))
    elif column == "green_ratio":
        breaks = sorted({0.1, 0.2, 0.4, *rule_thresholds("green", key=r"^green_ratio\.", rules=rules)})
        colors, legend = colors_by_class(gdf[column], breaks, _pal.ramp(_pal.GREEN_RATIO, len(breaks) + 1),
                                         fmt=_fmt_pct,
                                         no_data=ui("no_data", lang))
    else:  # shares 0–1: of residents within reach (as the living circle's), of the area vegetated
        ramp = _pal.SHARE_OF_RESIDENTS if column.startswith("share_") else _pal.ramp(_pal.VEG_FRACTION, 5)
        colors, legend = colors_by_class(gdf[column], [0.2, 0.4, 0.6, 0.8], list(ramp), fmt=_fmt_pct,
                                         no_data=ui("no_data", lang))
    return Styled("green_communities", title, subset(gdf, fields), colors, fields, legend=legend,
                  legend_title=title, stroke="#333333", weight=1.2, fill_opacity=0.6, simplify_m=1.0, zorder=1)


def style_green_sites(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    """Public green merged into sites: parks (count for "500 m to a park") and other green."""
    fields = _other_fields(gdf, ["name", "kinds", "area_m2", "is_park", "is_green", "park_tier",
                                 "sports_share"], limit=8)
    if "is_park" in gdf.columns:
        park = gdf["is_park"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        yes, no = _pal.GREEN_SITES["park"], _pal.GREEN_SITES["green"]
        colors = np.where(park, yes, no).astype(object)
        legend = [LegendItem(yes, column_label("is_park", lang), when=(("is_park", True),)),
                  LegendItem(no, column_label("is_green", lang), rest=True)]
    else:  # (sites not told apart as parks: green sites, named)
        colors = _single(gdf, _pal.GREEN_SITES["green"])
        legend = [LegendItem(_pal.GREEN_SITES["green"], column_label("is_green", lang))]
    name = _layers.get_spec("green_space").label(lang)
    return Styled("green_sites", name, subset(gdf, fields), colors, fields, legend=legend, legend_title=name,
                  weight=1, fill_opacity=0.6, simplify_m=1.0, zorder=1)


def style_green_origins(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    """Homes coloured by service-radius coverage: green and park, green only, park only, neither."""
    g = next((c for c in gdf.columns if re.fullmatch(r"served_.+_green", str(c))), None)
    p = next((c for c in gdf.columns if re.fullmatch(r"served_.+_park", str(c))), None)
    served = [c for c in (g, p) if c is not None]
    fields = _present(gdf, ["building", "community", "dist_green_m", "dist_park_m", *served, "off_network"]) \
        if g or p else _other_fields(gdf, ["building", "community"], limit=8)
    fields = [f for f in fields if f]

    def flag(c):
        return gdf[c].astype("boolean").fillna(False).to_numpy(dtype=bool) if c else np.zeros(len(gdf), bool)

    fg, fp = flag(g), flag(p)
    code = np.where(fg & fp, 0, np.where(fg, 1, np.where(fp, 2, 3)))
    pal = _pal.GREEN_ORIGINS
    zh = lang == "zh"
    gl, pl = column_label(g, lang) if g else "", column_label(p, lang) if p else ""
    labels = [f"{gl} + {pl}", gl + (" 仅" if zh else " only"), pl + (" 仅" if zh else " only"),
              "均未覆盖" if zh else "neither"]
    colors = np.array([pal[k] for k in code], dtype=object)
    # both served, green only, park only: the first that holds; else neither
    when = [tuple((c, True) for c in cols if c is not None) for cols in ((g, p), (g,), (p,))]
    legend = [LegendItem(pal[k], labels[k], when=when[k] if k < 3 else (), rest=k == 3)
              for k in range(4) if (code == k).any()]
    title = ui("coverage300", lang) + " / " + ui("coverage500", lang)
    return Styled("green_origins", title, subset(gdf, fields), colors, fields, legend=legend, legend_title=title,
                  radius=3, show=False, zorder=3)


def style_green_entrances(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _other_fields(gdf, ["name", "site", "entrance", "is_park", "site_area_m2", "park_id", "id"], limit=6)
    return Styled("green_entrances", ui("entrances", lang), subset(gdf, fields), _single(gdf, _pal.ENTRANCES),
                  fields, legend=[LegendItem(_pal.ENTRANCES, ui("entrances", lang))], radius=3.5, zorder=4)


# --- fire lanes --------------------------------------------------------------------------------

#: Severity words in their order, each in the colour of the severity it stands for.
_SEVERITY_COLORS = {s: _pal.SEVERITY[_pal.severity_level(s)]
                    for s in ("critical", "high", "error", "fail", "medium", "warning", "low", "advisory", "info")}
_SEVERITY_ZH = {"critical": "严重", "high": "高", "error": "不符合", "fail": "不符合", "medium": "中",
                "warning": "警告", "low": "低", "advisory": "建议", "info": "提示"}
_WIDTH_COLUMNS = ("clear_width_min_m", "min_clear_width_m", "clear_width_m", "min_width_m", "width_m")


def _severity_label(v: Any, lang: str) -> str:
    return _SEVERITY_ZH.get(str(v).lower(), str(v)) if lang == "zh" else str(v)


def style_fire_findings(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _other_fields(gdf, ["kind", "severity", "measured", "required", "unit", "clause", "obstruction_kinds",
                                 "lane_id", "community", "note"])
    fields = [f for f in fields if f not in ("label_zh", "label_en", "severity_rank", "community_id")]
    if "kind" in gdf.columns:
        gdf = gdf.assign(kind=gdf["kind"].map(lambda k: fire_kind_label(k, lang) if isinstance(k, str) else k))
    if "severity" in gdf.columns:
        sev = gdf["severity"].astype("string").str.lower()
        order = [s for s in _SEVERITY_COLORS if s in set(sev.dropna())]
        colors, legend = _by_category(gdf.assign(severity=sev), "severity", lang,
                                      label=lambda v: _severity_label(v, lang),
                                      palette={s: _SEVERITY_COLORS[s] for s in order})
    else:
        colors, legend = _single(gdf, _pal.FINDING), [LegendItem(_pal.FINDING, ui("findings", lang))]
    return Styled("fire_findings", ui("findings", lang), subset(gdf, fields), colors, fields, legend=legend,
                  legend_title=ui("findings", lang), radius=6, zorder=5)


def style_fire_lanes_summary(gdf: gpd.GeoDataFrame, *, lang: str = "en",
                             rules: Mapping[str, Any] | None = None) -> Styled:
    """Fire lanes coloured by clear width; the class break is the required width from the rules
    (``rules``, see :func:`rule_thresholds`)."""
    col = next((c for c in _WIDTH_COLUMNS if c in gdf.columns), None)
    fields = _other_fields(gdf, [c for c in ("name", "id", "lane_id", col, "width_m", "share_below_req",
                                             "clear_height_m", "length_m", "dead_ends", "n_findings",
                                             "worst_severity", "community") if c])
    title = ui("lanes_by_width", lang)
    if col is None:
        return Styled("fire_lanes_summary", title, subset(gdf, fields), _single(gdf, _pal.FIRE_LANES), fields,
                      legend=[LegendItem(_pal.FIRE_LANES, title)], weight=4, simplify_m=0.5, zorder=2)
    required = rule_thresholds("fire_lanes", key=r"^clear_width$", unit="m", rules=rules)
    if required:
        # classes: the severity steps below the required width (rules), then passing
        steps = [v for v in rule_thresholds("fire_lanes", key=r"^severity\.width_", unit="m", rules=rules)
                 if v < required[0]]
        breaks = sorted({*steps, required[0]})
        ramp = list(_pal.LANE_WIDTH[-len(breaks):]) + [_pal.LANE_WIDTH_OK]
        colors, legend = colors_by_class(gdf[col], breaks, ramp, fmt=lambda v: f"{v:g} m",
                                         no_data=ui("no_data", lang))
        last = -1 if not pd.to_numeric(gdf[col], errors="coerce").isna().any() else -2
        legend[last] = dataclasses.replace(legend[last], label=f"{ui('at_least', lang)} {required[0]:g} m")
    else:
        breaks = nice_breaks(gdf[col])
        colors, legend = colors_by_class(gdf[col], breaks, _pal.ramp((*_pal.LANE_WIDTH, _pal.LANE_WIDTH_OK),
                                                                     len(breaks) + 1), fmt=_fmt_num,
                                         no_data=ui("no_data", lang))
    return Styled("fire_lanes_summary", title, subset(gdf, fields), colors, fields, legend=legend,
                  legend_title=f"{title}: {column_label(col, lang)}", weight=4, simplify_m=0.5, zorder=2)


def style_fire_communities(gdf: gpd.GeoDataFrame, *, lang: str = "en") -> Styled:
    fields = _other_fields(gdf, ["name", "id", "n_findings", "findings", "n_lanes", "lane_length_m",
                                 "share_lane_ok"])
    col = next((c for c in ("n_findings", "findings") if c in gdf.columns), None)
    title = ui("fire_communities", lang)
    fields = [f for f in dict.fromkeys(["community", "criterion8", "worst_severity", *fields])
              if f in gdf.columns and f not in ("severity_rank",)]
    if "criterion8" in gdf.columns:
        # the words of the report and the QGIS value labels (gcgeo.labels)
        pal = {k: (c, format_value(k, "criterion8", lang) or k)
               for k, c in (("pass", _pal.STATUS["pass"]), ("fail", _pal.STATUS["fail"]), ("no_lanes", _pal.NO_LANES))}
        colors, legend = colors_by_category(gdf["criterion8"], pal, other=(_pal.OTHER, ui("other", lang)))
        return Styled("fire_communities", title, subset(gdf, fields), colors, fields, legend=legend,
                      legend_title=column_label("criterion8", lang), stroke="#333333", weight=1.2,
                      fill_opacity=0.45, simplify_m=1.0, zorder=1)
    if col is None:
        colors, legend = _single(gdf, _pal.COMMUNITIES), [LegendItem(_pal.COMMUNITIES, title)]
    else:
        breaks = [b for b in nice_breaks(gdf[col]) if b > 0] or [1]
        breaks = sorted({1.0, *breaks}) if (pd.to_numeric(gdf[col], errors="coerce") == 0).any() else breaks
        colors, legend = colors_by_class(gdf[col], breaks, _pal.ramp(_pal.N_FINDINGS, len(breaks) + 1),
                                         fmt=_fmt_num,
                                         no_data=ui("no_data", lang))
    return Styled("fire_communities", title, subset(gdf, fields), colors, fields, legend=legend,
                  legend_title=f"{title}: {column_label(col, lang)}" if col else title, stroke="#333333",
                  weight=1.2, fill_opacity=0.55, simplify_m=1.0, zorder=1)


def style_findings(gdf: gpd.GeoDataFrame, *, lang: str = "en", key: str = "findings") -> Styled:
    """An inventory check's findings (``<name>_findings``): points by severity, the problem
    named in the popup with what was measured, what the rule requires and its clause."""
    fields = [f for f in ("kind", "feature_id", "measured", "required", "unit", "clause", "severity",
                          "community_name", "message") if f in gdf.columns]
    geom = gdf.geometry.name
    fields += [c for c in gdf.columns if c not in fields and c not in (geom, "community", "layer")][:4]
    shown = gdf.assign(kind=gdf["kind"].map(lambda k: kind_label(k, lang) if isinstance(k, str) else k)) \
        if "kind" in gdf.columns else gdf
    sev = shown["severity"].astype("string").str.lower() if "severity" in shown.columns else None
    if sev is not None:
        order = [s for s in _SEVERITY_COLORS if s in set(sev.dropna())]
        colors, legend = _by_category(shown.assign(severity=sev), "severity", lang,
                                      label=lambda v: _severity_label(v, lang),
                                      palette={s: _SEVERITY_COLORS[s] for s in order})
    else:
        colors, legend = _single(shown, _pal.FINDING), [LegendItem(_pal.FINDING, layer_label(key, lang))]
    title = layer_label(key, lang)
    return Styled(key, title, subset(shown, fields), colors, fields, legend=legend, legend_title=title,
                  radius=6, zorder=5)


def style_check_communities(gdf: gpd.GeoDataFrame, *, lang: str = "en", key: str = "communities") -> Styled:
    """An inventory check per community (``<name>_communities``): coloured by its overall
    ``status`` (pass / fail / unknown), every rule's status and reason in the popup."""
    first = ["community_name", "status"]
    rules_cols = [c for c in gdf.columns if str(c).endswith(("_status", "_reason")) and c != "status"]
    fields = [f for f in first if f in gdf.columns]
    fields += [c for c in gdf.columns if c not in (*first, *rules_cols, "community_id", gdf.geometry.name)]
    fields += rules_cols
    title = layer_label(key, lang)
    if "status" in gdf.columns:
        pal = {k: (c, format_value(k, "status", lang) or k) for k, c in _pal.STATUS.items()}
        colors, legend = colors_by_category(gdf["status"], pal, other=(_pal.OTHER, ui("other", lang)))
    else:  # (a layer without statuses: its communities, named)
        colors, legend = _single(gdf, _pal.COMMUNITIES), [LegendItem(_pal.COMMUNITIES, title)]
    return Styled(key, title, subset(gdf, fields), colors, fields, legend=legend,
                  legend_title=f"{title}: {column_label('status', lang)}", stroke="#333333", weight=1.2,
                  fill_opacity=0.45, simplify_m=1.0, zorder=1)


def style_generic(gdf: gpd.GeoDataFrame, *, lang: str = "en", key: str = "layer",
                  name: str | None = None, color: str | None = None) -> Styled:
    """Any layer: one colour (by default fixed by its name, from ``palette.GENERIC``), its columns
    in the popup (first 14); named ``name``, else by its label (an analysis output with no
    style of its own), else by ``key``."""
    fields = _other_fields(gdf, ["name", "id"])
    color = color or _pal.generic_color(key)
    label = layer_label(key, lang)
    name = name or (label if label != key else key.replace("_", " "))
    return Styled(key, name, subset(gdf, fields), _single(gdf, color), fields,
                  legend=[LegendItem(color, name)], simplify_m=0.5)


#: Inventory layer kind → style function (analysis outputs name theirs in their descriptors).
STYLE_FUNCTIONS: dict[str, Callable[..., Styled]] = {
    "communities": style_communities,
    "buildings": style_buildings,
    "streets": style_streets,
    "green_space": style_green_space,
    "parking": style_parking,
    "chargers": style_chargers,
    "manholes": style_manholes,
    "ramps": style_ramps,
    "fire_lanes": style_fire_lanes,
    "obstructions": style_obstructions,
    "facilities": style_facilities,
    "garbage_points": style_garbage_points,
    "heritage": style_heritage,
}


def style_functions() -> dict[str, Callable[..., Styled]]:
    """Layer name → style function: the inventory kinds, then every analysis output
    whose descriptor names a style."""
    from .. import analysis
    from ..analysis.contract import resolve

    out = dict(STYLE_FUNCTIONS)
    for desc in analysis.descriptors().values():
        out.update({o.name: _keyed(resolve(o.style), o.name) for o in desc.outputs if o.style})
    return out


def _keyed(fn: Callable[..., Styled], key: str) -> Callable[..., Styled]:
    """A style shared by several outputs (findings, check communities) told which it draws."""
    if "key" not in inspect.signature(fn).parameters:
        return fn

    @functools.wraps(fn)
    def style(gdf: gpd.GeoDataFrame, *, lang: str = "en", **options: Any) -> Styled:
        return fn(gdf, lang=lang, key=key, **options)

    return style


def _output_style(key: str) -> Callable[..., Styled] | None:
    return style_functions().get(key) if key not in STYLE_FUNCTIONS else None


def style_layer(key: str, gdf: gpd.GeoDataFrame, *, lang: str = "en", **options: Any) -> Styled:
    """Styled layer for workspace layer ``key`` (the generic style for unknown names)."""
    fn = STYLE_FUNCTIONS.get(key) or _output_style(key)
    if fn is None:
        return style_generic(gdf, lang=lang, key=key)
    return fn(gdf, lang=lang, **options)


def map_lang(m: folium.Map | None, lang: str | None) -> str:
    """``lang`` if given, else the language of the gcgeo map ``m``, else English."""
    if lang is None:
        ctx = getattr(m, "_gcgeo_ctx", None)
        lang = ctx.lang if ctx is not None else "en"
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    return lang


def _layer_function(key: str, style: Callable[..., Styled]) -> Callable[..., folium.Map]:
    def draw(gdf: gpd.GeoDataFrame, m: folium.Map | None = None, *, lang: str | None = None,
             basemap: str = "osm", name: str | None = None, show: bool | None = None, group: str | None = None,
             **options: Any) -> folium.Map:
        from ._render import add_styled  # (folium, imported only to draw)

        lang = map_lang(m, lang)
        styled = style(gdf, lang=lang, **options)
        if name is not None:
            styled.name = name
        if show is not None:
            styled.show = show
        return add_styled(styled, m, lang=lang, basemap=basemap, group=group, source=gdf)

    draw.__name__ = draw.__qualname__ = key
    draw.__doc__ = (
        f"Draw the ``{key}`` layer on ``m`` (a new map when None) and return the map.\n\n"
        f"Symbology: {(style.__doc__ or '').strip().splitlines()[0] if style.__doc__ else 'see ' + style.__name__}\n"
        "``lang`` ('zh' or 'en'; default: the map's, else 'en') picks the labels of tooltips,\n"
        "popups and legend; ``basemap``\n"
        "is used only for a new map; ``name`` overrides the layer's name in the layer\n"
        "control; ``show`` whether it starts visible; ``group`` the control heading.\n"
        "The input frame is not modified."
    )
    return draw


#: Layer name → public drawing function (``gcgeo.maps.<name>``).
LAYER_FUNCTIONS: dict[str, Callable[..., folium.Map]] = {
    key: _layer_function(key, fn) for key, fn in style_functions().items()
}
