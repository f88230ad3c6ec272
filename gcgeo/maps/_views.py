"""Views: named sets of layers drawn together (interactive map group and static figure).

A view says which layers it needs and builds the styled layers from the
workspace's layers; the dashboard draws each available view as one group of
the layer control, and ``figures.save_figures`` draws one PNG per view.
Besides the inventory, the views are made from the analyses' descriptors
(``ViewSpec``): an analysis names its view's build function, here or in a
module of its own, and gets its group and figure without a change here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from .. import layers as _layers
from .._errors import InputError
from ._layers import (
    every_prefix,
    style_facilities,
    style_fire_communities,
    style_fire_findings,
    style_fire_lanes_summary,
    style_green_communities,
    style_green_entrances,
    style_green_origins,
    style_green_sites,
    style_green_space,
    style_layer,
    style_lc_communities,
    style_lc_gaps,
    style_lc_isochrones,
    style_lc_origins,
    style_obstructions,
)
from ._styled import Styled

__all__ = ["COVERS_TOWN", "VIEWS", "View", "covers_town", "drawable",
           "fire_lanes", "get_view", "green", "inventory", "living_circle",
           "outputs_in_order", "register_view", "view_names"]

Layers = Mapping[str, "gpd.GeoDataFrame | pd.DataFrame"]


def drawable(layers: Layers, name: str) -> bool:
    """True when ``layers[name]`` is a GeoDataFrame with at least one geometry."""
    df = layers.get(name)
    return (isinstance(df, gpd.GeoDataFrame) and len(df) > 0
            and bool((~(df.geometry.isna() | df.geometry.is_empty)).any()))


@dataclass(frozen=True)
class View:
    """A named set of layers.

    ``requires``: the view is drawn when at least one of these layers is
    present and non-empty. ``build(layers, lang)`` returns the styled layers,
    bottom first; it must tolerate any layer or optional column being absent.
    A view drawing the results of ``analysis`` with class breaks at thresholds
    of its rules takes them as a keyword ``rules`` too (the rule sets the run
    used, as :func:`gcgeo.pipeline.run_rules` gives them; see :func:`gcgeo.maps.rules_ran`).
    """

    name: str
    label_zh: str
    label_en: str
    requires: tuple[str, ...]
    build: Callable[..., list[Styled]]
    description: str = ""
    analysis: str = ""

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def available(self, layers: Layers) -> bool:
        return any(drawable(layers, n) for n in self.requires)

    @property
    def takes_rules(self) -> bool:
        """Whether the view draws class breaks at thresholds of its analysis's rules."""
        return bool(self.analysis) and "rules" in inspect.signature(self.build).parameters

    def styles(self, layers: Layers, *, lang: str = "en",
               rules: Mapping[str, Mapping[str, Any]] | None = None) -> list[Styled]:
        """The styled layers, bottom first.  ``rules``: analysis name → the rule sets its
        results were computed with (:func:`gcgeo.maps.rules_ran`); an analysis not named there, or no
        ``rules``, is drawn at the built-in thresholds."""
        ran = (rules or {}).get(self.analysis) if self.takes_rules else None
        built = self.build(layers, lang) if ran is None else self.build(layers, lang, rules=ran)
        return sorted([s for s in built if len(s.gdf)], key=lambda s: s.zorder)


VIEWS: dict[str, View] = {}


def register_view(view: View, *, replace: bool = False) -> View:
    """Add ``view`` to the registry (``replace=True`` to redefine an existing name)."""
    if view.name in VIEWS and not replace:
        raise InputError(f"a view named '{view.name}' is already registered; pass replace=True to redefine it.")
    VIEWS[view.name] = view
    return view


def get_view(name: str) -> View:
    try:
        return VIEWS[name]
    except KeyError:
        raise InputError(f"unknown view '{name}'; choose from: {', '.join(VIEWS)}.") from None


def view_names() -> list[str]:
    """Registered view names, in registration order."""
    return list(VIEWS)


# --- built-in views --------------------------------------------------------------


def inventory(layers: Layers, lang: str) -> list[Styled]:
    return [style_layer(k, layers[k], lang=lang) for k in _layers.KINDS if drawable(layers, k)]


def living_circle(layers: Layers, lang: str) -> list[Styled]:
    out: list[Styled] = []
    if drawable(layers, "lc_communities"):
        lcc = layers["lc_communities"]
        p = every_prefix(lcc, share=True)
        tiers = [c[len(p):] for c in lcc.columns if str(c).startswith(p)]
        if tiers:
            from ._layers import tier_sort_key

            tiers = sorted(tiers, key=tier_sort_key)
            for t in tiers:
                s = style_lc_communities(lcc, lang=lang, tier=t)
                s.show = t == tiers[-1]
                out.append(s)
            # beside the strict reading, where the data lack a category: the reading that
            # counts only the categories found in the data (hidden until chosen)
            d = "share_in_data_within_"
            for t in [t for t in tiers if d + t in lcc.columns
                      and not lcc[d + t].equals(lcc[p + t])]:
                s = style_lc_communities(lcc, lang=lang, tier=t, prefix=d)
                s.show = False
                out.append(s)
        else:
            out.append(style_lc_communities(lcc, lang=lang))
    if drawable(layers, "lc_isochrones"):
        iso = style_lc_isochrones(layers["lc_isochrones"], lang=lang)
        iso.show = not covers_town(layers["lc_isochrones"], layers)
        out.append(iso)
    if drawable(layers, "lc_origins"):
        out.append(style_lc_origins(layers["lc_origins"], lang=lang))
    if drawable(layers, "facilities"):
        out.append(style_facilities(layers["facilities"], lang=lang))
    gaps = gaps_at_homes(layers)
    if gaps is not None:
        out.append(style_lc_gaps(gaps, lang=lang))
    return out


def gaps_at_homes(layers: Layers) -> gpd.GeoDataFrame | None:
    """The living circle's gaps placed at their homes: ``lc_gaps`` (a table keyed by
    ``origin_id``) joined to ``lc_origins``; a gaps layer with points of its own as it is."""
    if drawable(layers, "lc_gaps"):
        return layers["lc_gaps"]
    gaps = layers.get("lc_gaps")
    if gaps is None or not len(gaps) or "origin_id" not in gaps.columns or not drawable(layers, "lc_origins"):
        return None
    homes = layers["lc_origins"]
    keep = [c for c in ("origin_id", "building_id", "community_id", "community_name", "off_network")
            if c in homes.columns]
    at = pd.DataFrame(homes[keep]).assign(_geom=homes.geometry.to_numpy()).drop_duplicates("origin_id")
    joined = pd.DataFrame(gaps).drop(columns=[c for c in keep if c != "origin_id"], errors="ignore")
    joined = joined.merge(at, on="origin_id", how="inner")
    return gpd.GeoDataFrame(joined.drop(columns="_geom"), geometry=joined["_geom"].to_numpy(), crs=homes.crs)


#: Isochrones start switched off when they cover at least this share of the communities.
COVERS_TOWN = 0.8


def covers_town(isochrones: gpd.GeoDataFrame, layers: Layers) -> bool:
    """True when the isochrones of the largest tier cover ``COVERS_TOWN`` of the communities' area
    (or when there are no communities to tell): drawn on, they would hide the whole town."""
    area = next((layers[k] for k in ("lc_communities", "communities") if drawable(layers, k)), None)
    if area is None or isochrones.crs is None or area.crs is None or not isochrones.crs.is_projected:
        return True
    iso = isochrones
    if "tier" in iso.columns and iso["tier"].notna().any():
        from ._layers import tier_sort_key

        last = max(iso["tier"].dropna().astype(str).unique(), key=tier_sort_key)
        iso = iso[iso["tier"].astype(str) == last]
    if "category" in iso.columns and (iso["category"] == "all").any():
        iso = iso[iso["category"] == "all"]
    town = shapely.union_all(area.to_crs(iso.crs).geometry.to_numpy())
    if town.is_empty or town.area == 0:
        return True
    reach = shapely.union_all(shapely.intersection(iso.geometry.to_numpy(), town))
    return bool(reach.area >= COVERS_TOWN * town.area)


_GREEN_COLUMNS = ("green_ratio", "public_green_per_person_m2", "ndvi_mean", "veg_fraction")


def green(layers: Layers, lang: str, *, rules: Mapping[str, Any] | None = None) -> list[Styled]:
    out: list[Styled] = []
    if drawable(layers, "green_communities"):
        gc = layers["green_communities"]
        cols = [c for c in _GREEN_COLUMNS[:2] if c in gc.columns]
        cols += [c for c in gc.columns if str(c).startswith("share_within_")]
        cols += [c for c in _GREEN_COLUMNS[2:] if c in gc.columns and gc[c].notna().any()]
        for i, c in enumerate(cols or ["green_ratio"]):
            s = style_green_communities(gc, lang=lang, column=c, rules=rules)
            s.show = i == 0
            out.append(s)
    if drawable(layers, "green_sites"):
        out.append(style_green_sites(layers["green_sites"], lang=lang))
    elif drawable(layers, "green_space"):
        out.append(style_green_space(layers["green_space"], lang=lang))
    if drawable(layers, "green_origins"):
        out.append(style_green_origins(layers["green_origins"], lang=lang))
    if drawable(layers, "green_entrances"):
        out.append(style_green_entrances(layers["green_entrances"], lang=lang))
    return out


def fire_lanes(layers: Layers, lang: str, *, rules: Mapping[str, Any] | None = None) -> list[Styled]:
    out: list[Styled] = []
    if drawable(layers, "fire_communities"):
        out.append(style_fire_communities(layers["fire_communities"], lang=lang))
    if drawable(layers, "fire_lanes_summary"):
        out.append(style_fire_lanes_summary(layers["fire_lanes_summary"], lang=lang, rules=rules))
    elif drawable(layers, "fire_lanes"):
        out.append(style_layer("fire_lanes", layers["fire_lanes"], lang=lang))
    if drawable(layers, "obstructions"):
        out.append(style_obstructions(layers["obstructions"], lang=lang))
    if drawable(layers, "fire_findings"):
        out.append(style_fire_findings(layers["fire_findings"], lang=lang))
    return out


register_view(View("inventory", "基础设施清单", "Inventory", tuple(_layers.KINDS), inventory,
                   "every inventory layer present"))


def _register_analysis_views() -> None:
    from .. import analysis
    from ..analysis.contract import resolve

    for desc in analysis.descriptors().values():
        drawn = tuple(o.name for o in desc.outputs if o.geometry or o.style)  # a styled table: drawn joined
        for spec in desc.views:
            requires = spec.requires or drawn
            build = resolve(spec.build) if spec.build else outputs_in_order(requires)
            register_view(View(spec.name or desc.name, spec.label_zh or desc.label_zh,
                               spec.label_en or desc.label_en, requires, build, spec.description,
                               analysis=desc.name))


def outputs_in_order(names: tuple[str, ...]) -> Callable[[Layers, str], list[Styled]]:
    """A view drawing ``names`` bottom first, each with its own style (a ViewSpec without
    a build function of its own, as the inventory checks have)."""

    def build(layers: Layers, lang: str) -> list[Styled]:
        return [style_layer(n, layers[n], lang=lang) for n in names if drawable(layers, n)]

    return build


_register_analysis_views()


def _scorecard(layers: Layers, lang: str) -> list[Styled]:
    from ..analysis.contract import resolve

    return list(resolve("gcgeo.score.view:scorecard_view")(layers, lang))


register_view(View("scorecard", "绿色社区创建评分", "Green community scorecard", ("score_communities",), _scorecard,
                   "communities by criteria met (gcgeo score); unmet and unknown criteria in the popup"))


def _planning(layers: Layers, lang: str) -> list[Styled]:
    from ..analysis.contract import resolve

    return list(resolve("gcgeo.planning.views:planning_view")(layers, lang))


register_view(View("planning", "选址与情景分析", "Siting and what-if", ("lc_sites", "whatif_communities"),
                   _planning, "sites chosen (gcgeo site) and the change a what-if brings per community "
                   "(gcgeo whatif)"))
