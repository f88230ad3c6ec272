"""Headline figures of each analysis for the report: (label, value) pairs.

Each analysis's descriptor names its function here (``headlines=
"gcgeo.headlines:living_circle"``); the report calls it with the analysis's
outputs present in the workspace and the language.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from .labels import column_label, every_label, fire_kind_label, format_value, kind_label, ui

__all__ = ["PLACEHOLDER", "fire_lanes", "green", "inventory_check", "living_circle", "weighted_share"]

Layers = Mapping[str, "gpd.GeoDataFrame | pd.DataFrame"]


def weighted_share(df: pd.DataFrame, share: str, weight: str) -> float:
    """The mean of column ``share`` weighted by column ``weight`` (NaN without weights)."""
    s = pd.to_numeric(df[share], errors="coerce").to_numpy(float)
    w = pd.to_numeric(df[weight], errors="coerce").to_numpy(float)
    ok = np.isfinite(s) & np.isfinite(w)
    return float((s[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() and w[ok].sum() > 0 else float("nan")


def _counts(pairs: list[tuple[str, int]], lang: str) -> str:
    """'达标 4 个，未达标 2 个' / 'pass 4, fail 2': communities by their status."""
    if lang == "zh":
        return "，".join(f"{label} {n} 个" for label, n in pairs)
    return ", ".join(f"{label} {n}" for label, n in pairs)


def _count_true(df: pd.DataFrame, col: str) -> tuple[int, int]:
    v = df[col].astype("boolean")
    return int(v.fillna(False).sum()), int(v.notna().sum())


#: ``pop_source`` of a home whose resident count is a placeholder (no population data)
PLACEHOLDER = "one per building"


def living_circle(out: Layers, lang: str) -> list[tuple[str, str]]:
    """Homes and residents, the share within each tier (strictly, and counting only the
    categories the data have when some have none), then per category: "no facility of
    this kind in the data" apart, and the homes and residents lacking each other one
    within its own distance.  Counts come from ``lc_origins`` and ``lc_categories``.

    Where every home's population is the placeholder of one per building the figures
    are said to be homes, not residents.
    """
    from .analysis.living_circle import ALL_WITHIN, IN_DATA_WITHIN, tier_columns

    rows: list[tuple[str, str]] = []
    org = out.get("lc_origins")
    comm = out.get("lc_communities")
    cats = out.get("lc_categories")
    zh = lang == "zh"
    placeholder = False
    if org is not None and len(org):
        pop = pd.to_numeric(org["population"], errors="coerce").fillna(0).to_numpy(float) \
            if "population" in org.columns else np.ones(len(org))
        src = org["pop_source"].astype(str) if "pop_source" in org.columns else None
        placeholder = src is not None and bool((src == PLACEHOLDER).all())
        rows.append((column_label("homes", lang), format_value(len(org), "homes", lang) or "0"))
        rows.append((column_label("residents", lang),
                     ui("residents_unknown", lang) if placeholder
                     else format_value(pop.sum(), "residents", lang) or "–"))
        if src is not None:  # say how residents were counted: given, estimated, or one per home
            counts = src.value_counts()
            rows.append((column_label("pop_source", lang),
                         ("；" if zh else "; ").join(
                             f"{format_value(k, 'pop_source', lang)} {v} 个居住点" if zh
                             else f"{format_value(k, 'pop_source', lang)}: {v} home(s)"
                             for k, v in counts.items())))
        readings = [(ALL_WITHIN, tier_columns(org, ALL_WITHIN))]
        if cats is not None and "status" in cats.columns and (cats["status"] == "no facility").any():
            readings.append((IN_DATA_WITHIN, tier_columns(org, IN_DATA_WITHIN)))
        for prefix, columns in readings:
            for t, col in columns.items():
                ok = org[col].astype("boolean").fillna(False).to_numpy(bool)
                share = float((pop * ok).sum() / pop.sum()) if pop.sum() > 0 else float("nan")
                name = f"share_{prefix}{t}"
                label = every_label(t, reading="in_data" if prefix == IN_DATA_WITHIN else "all",
                                    share_of="homes" if placeholder else "residents", lang=lang)
                rows.append((label, format_value(share, name, lang) or "–"))
        if cats is not None and len(cats):
            rows += _reached(org, pop, cats, zh, lang)
            rows += _lacking(org, pop, cats, placeholder, zh, lang)
    elif comm is not None and len(comm) and "residents" in comm.columns:  # no per-home layer
        rows.append((column_label("residents", lang), format_value(comm["residents"].sum(), "residents", lang) or "–"))
        for c in tier_columns(comm, "share_" + ALL_WITHIN).values():
            rows.append((column_label(c, lang), format_value(weighted_share(comm, c, "residents"), c, lang) or "–"))
    if (org is None or not len(org)) and cats is not None and len(cats):
        rows += _lacking(None, None, cats, placeholder, zh, lang)
    iso = out.get("lc_isochrones")
    if iso is not None and not len(iso) and org is not None and len(org):
        rows.append((ui("isochrones", lang), ui("isochrones_not_drawn", lang)))
    return rows


def _reached(org: pd.DataFrame, pop: np.ndarray, cats: pd.DataFrame, zh: bool,
             lang: str) -> list[tuple[str, str]]:
    """How many of the categories found in the data a home has within each one's own
    distance (``required_m``, its strictest tier), on average: what the all-or-nothing
    shares hide where a home lacks one category or two."""
    have = cats[(cats.get("status", "ok") != "no facility")] if "status" in cats.columns else cats
    cols = [(f"dist_{c}_m", float(m)) for c, m in zip(have["category"], have.get("required_m", []))
            if f"dist_{c}_m" in org.columns]
    if not cols:
        return []
    n = sum((pd.to_numeric(org[c], errors="coerce").to_numpy(float) <= m).astype(float)
            for c, m in cols)
    w = pop if pop.sum() > 0 else np.ones(len(org))
    mean = float((n * w).sum() / w.sum())
    value = (f"{mean:.1f} / {len(cols)}（要求 {len(cats)} 类）" if zh
             else f"{mean:.1f} of {len(cols)} ({len(cats)} required)")
    return [(ui("categories_reached", lang), value)]


def _lacking(org: pd.DataFrame | None, pop: np.ndarray | None, cats: pd.DataFrame,
             placeholder: bool, zh: bool, lang: str) -> list[tuple[str, str]]:
    """Per category of ``lc_categories``: "no facility of this kind in the data" (or none on
    the network) as its own headline, else the homes and residents without one within the
    distance of its strictest tier (``required_m``), from the homes' ``dist_<category>_m``."""
    rows: list[tuple[str, str]] = []
    for _, r in cats.iterrows():
        c, status = str(r["category"]), str(r.get("status", "ok"))
        name = format_value(c, "category", lang) or c
        if status == "no facility":
            rows.append((name, ui("no_facility_here", lang)))
            continue
        if status == "none on the network":
            rows.append((name, ui("none_on_network_here", lang)))
            continue
        col = f"dist_{c}_m"
        if org is None or pop is None or col not in org.columns or "required_m" not in cats.columns:
            continue
        need = float(r["required_m"])
        short = ~(pd.to_numeric(org[col], errors="coerce").to_numpy(float) <= need)
        if not short.any():
            continue
        n = int(short.sum())
        homes_text = f"{n} 个居住点" if zh else f"{n:,} homes"
        if placeholder:
            value = homes_text
        else:
            people = format_value(float(pop[short].sum()), "residents", lang)
            value = f"{homes_text}，居民 {people} 人" if zh else f"{homes_text}, {people} residents"
        label = (f"{name}：{need:g} 米内没有的居住点" if zh
                 else f"{name}: homes with none within {need:g} m")
        rows.append((label, value))
    return rows


def green(out: Layers, lang: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    gc = out.get("green_communities")
    if gc is None or not len(gc):
        return rows
    for col in ["green_ratio_pass", "concentrated_pass",
                *[c for c in gc.columns if str(c).startswith("public_green_pass_")]]:
        if col in gc.columns:
            n, of = _count_true(gc, col)
            rows.append((column_label(col, lang), f"{n} / {of}"))
    weight = "population" if "population" in gc.columns else None
    for col in [c for c in gc.columns if str(c).startswith("share_within_")]:
        v = weighted_share(gc, col, weight) if weight else float("nan")
        note = ""
        if not np.isfinite(v):  # no population to weight by: plain mean over communities, said so
            v = float(pd.to_numeric(gc[col], errors="coerce").mean())
            note = "（社区平均）" if lang == "zh" else " (mean of communities)"
        rows.append((column_label(col, lang) + note, format_value(v, col, lang) or "–"))
    return rows


def fire_lanes(out: Layers, lang: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    fc = out.get("fire_communities")
    if fc is not None and len(fc):
        if "lanes_km" in fc.columns:
            rows.append((column_label("lanes_km", lang), f"{pd.to_numeric(fc['lanes_km']).sum():.2f}"))
        if "criterion8" in fc.columns:
            vc = fc["criterion8"].value_counts()
            rows.append((column_label("criterion8", lang), _counts(
                [(format_value(k, "criterion8", lang) or str(k), int(v)) for k, v in vc.items()], lang)))
    ff = out.get("fire_findings")
    if ff is not None:
        rows.append((ui("findings", lang), str(len(ff))))
        if len(ff) and "kind" in ff.columns:
            rows += [(f"· {fire_kind_label(k, lang)}", str(v)) for k, v in ff["kind"].value_counts().items()]
    return rows


def inventory_check(out: Layers, lang: str) -> list[tuple[str, str]]:
    """An inventory check (``<name>_findings`` and ``<name>_communities``, see
    :mod:`gcgeo.analysis.checks`): communities by status, then findings by kind."""
    rows: list[tuple[str, str]] = []
    for key, df in out.items():
        if key.endswith("_communities") and "status" in df.columns and len(df):
            counts = df["status"].value_counts()
            rows.append((column_label("status", lang), _counts(
                [(format_value(k, "status", lang) or k, int(counts[k]))
                 for k in ("pass", "fail", "unknown") if counts.get(k, 0)], lang)))
    for key, df in out.items():
        if key.endswith("_findings"):
            rows.append((ui("check_findings", lang), str(len(df))))
            if len(df) and "kind" in df.columns:
                rows += [(f"· {kind_label(k, lang)}", str(v)) for k, v in df["kind"].value_counts().items()]
    return rows
