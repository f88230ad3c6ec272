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

from .labels import column_label, fire_kind_label, format_value, kind_label, ui

__all__ = ["fire_lanes", "green", "inventory_check", "living_circle", "weighted_share"]

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


def living_circle(out: Layers, lang: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    comm = out.get("lc_communities")
    if comm is not None and len(comm) and "residents" in comm.columns:
        rows.append((column_label("residents", lang), format_value(comm["residents"].sum(), "residents", lang) or "–"))
        for c in [c for c in comm.columns if str(c).startswith("share_served_")]:
            rows.append((column_label(c, lang), format_value(weighted_share(comm, c, "residents"), c, lang) or "–"))
    org = out.get("lc_origins")
    if org is not None and len(org) and "pop_source" in org.columns:
        # say how residents were counted: given, estimated, or one per home
        counts = org["pop_source"].value_counts()
        rows.append((column_label("pop_source", lang),
                     ", ".join(f"{format_value(k, 'pop_source', lang)}: {v}" for k, v in counts.items())))
    cats = out.get("lc_categories")
    if cats is not None and len(cats) and "status" in cats.columns:
        # a category missing from the data is not a gap on the ground: say it apart
        for status, key in (("no facility", "no_facility"), ("none on the network", "none_on_network")):
            names = cats.loc[cats["status"] == status, "category"]
            if len(names):
                rows.append((ui(key, lang), ", ".join(format_value(c, "category", lang) or str(c) for c in names)))
    gaps = out.get("lc_gaps")
    if gaps is not None and len(gaps) and "category" in gaps.columns:
        # homes lacking each category: a home short of a kindergarten at 5, 10 and 15 minutes
        # is one home, not three gaps
        who = "origin_id" if "origin_id" in gaps.columns else None
        counts = (gaps.drop_duplicates(["category", who])["category"].value_counts() if who
                  else gaps["category"].value_counts())
        text = ", ".join(f"{format_value(k, 'category', lang)} {v}" for k, v in counts.items())
        rows.append((ui("homes_lacking", lang) if who else ui("gaps", lang), text))
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
