"""KML placemarks that say what they are: a name and a description for each.

Google Earth and the Ovi/Amap KML viewers show a placemark's ``<name>`` on
the map and its ``<description>`` in the balloon.  A finding of an analysis
(columns ``kind`` and ``clause`` or ``measured``) is named by its kind's
label and the feature it concerns (``车道被占用 · FL01``) and described by
measured against required value, the clause, its message and community;
any other feature is named by its ``name`` (or id) and described by its
labelled attributes.  Labels are Chinese or English (``lang``).

>>> import geopandas as gpd, shapely
>>> f = gpd.GeoDataFrame({"lane_id": ["FL01"], "kind": ["obstructed"], "measured": [3.0],
...                       "required": [4.0], "unit": ["m"], "clause": ["GB 50016-2014 §7.1.8"]},
...                      geometry=[shapely.Point(0, 0)], crs=4326)
>>> out, name, desc = placemark_fields(f, lang="en")
>>> out[name].iloc[0]
'Lane obstructed · FL01'
>>> out[desc].iloc[0].split("<br>")[:2]
['Lane obstructed: measured 3.0 m, required 4.0 m', 'Clause: GB 50016-2014 §7.1.8']
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import pandas as pd

from .clauses import clause_text
from .labels import column_label, format_value, kind_label
from .values import feature_ids

__all__ = ["is_findings", "placemark_fields"]

#: Columns naming the feature a finding is about, in order of preference
_FEATURE_COLUMNS = ("feature_id", "lane_id", "heritage_id", "origin_id", "building_id", "community_id",
                    "community")
#: Columns a finding's description states on their own lines (not repeated among the rest)
_FINDING_COLUMNS = ("kind", "label_zh", "measured", "required", "unit", "clause", "message", "note",
                    "severity", "severity_rank")
#: At most this many other attributes in a description
_MAX_ATTRIBUTES = 12
_WORDS = {
    "measured": ("实测", "measured"), "required": ("规定", "required"), "clause": ("依据", "Clause"),
    "severity": ("严重程度", "Severity"), "community": ("社区", "Community"),
}


def is_findings(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is an analysis's findings (a kind with a clause or a measured value)."""
    return "kind" in frame.columns and ("clause" in frame.columns or "measured" in frame.columns)


def _word(key: str, lang: str) -> str:
    zh, en = _WORDS[key]
    return zh if lang == "zh" else en


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _amount(v: Any, unit: Any) -> str:
    """``3.0 m``, ``7%`` (a ratio), or the value as it is."""
    if _missing(v):
        return "–"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    u = "" if _missing(unit) else str(unit)
    if u == "ratio":
        return f"{x * 100:.0f}%"
    text = f"{x:,.2f}".rstrip("0")
    text = text + "0" if text.endswith(".") else text
    return f"{text} {u}".strip()


def _finding_text(row: pd.Series, lang: str) -> tuple[str, list[str]]:
    """A finding's kind label and the lines of its description."""
    label = kind_label(str(row["kind"]), lang)
    if lang == "zh" and not _missing(row.get("label_zh")):
        label = str(row["label_zh"])
    lines = []
    if "measured" in row.index or "required" in row.index:
        m = _amount(row.get("measured"), row.get("unit"))
        r = _amount(row.get("required"), row.get("unit"))
        sep = "，" if lang == "zh" else ", "
        lines.append(f"{label}: {_word('measured', lang)} {m}{sep}{_word('required', lang)} {r}")
    else:
        lines.append(label)
    if not _missing(row.get("clause")):
        lines.append(f"{_word('clause', lang)}: {clause_text(str(row['clause']), lang)}")
    for col in ("message", "note"):
        if not _missing(row.get(col)):
            lines.append(format_value(row[col], col, lang) or str(row[col]))
    if not _missing(row.get("severity")):
        sev = format_value(row["severity"], "severity", lang) or str(row["severity"])
        lines.append(f"{_word('severity', lang)}: {sev}")
    return label, lines


def _attribute_lines(row: pd.Series, kind: str | None, lang: str, skip: set[str]) -> list[str]:
    lines = []
    for col, v in row.items():
        if col in skip or _missing(v):
            continue
        text = format_value(v, str(col), lang, kind=kind)
        if text is None:
            continue
        lines.append(f"{column_label(str(col), lang, kind=kind)}: {text}")
        if len(lines) >= _MAX_ATTRIBUTES:
            break
    return lines


def _free(base: str, columns: pd.Index) -> str:
    name, k = base, 1
    lower = {str(c).lower() for c in columns}
    while name.lower() in lower:
        name, k = f"{base}_{k}", k + 1
    return name


def placemark_fields(frame: gpd.GeoDataFrame, *, kind: str | None = None,
                     lang: str = "zh") -> tuple[gpd.GeoDataFrame, str, str]:
    """``frame`` with a name and a description column for KML placemarks.

    Returns the frame (a copy with the new columns; the caller's is not
    changed), and the names of the name and description columns, for GDAL's
    ``NameField`` and ``DescriptionField``.  A ``name`` column already there
    names the placemarks itself.
    """
    geometry = frame.geometry.name
    data = pd.DataFrame(frame.drop(columns=geometry))
    findings = is_findings(data)
    ids = feature_ids(data)
    feature_col = next((c for c in _FEATURE_COLUMNS if c in data.columns), None)
    names, descriptions = [], []
    for (_, row), fid in zip(data.iterrows(), ids.tolist()):
        if findings:
            what, lines = _finding_text(row, lang)
            who = row[feature_col] if feature_col is not None and not _missing(row[feature_col]) else fid
            names.append(f"{what} · {who}")
            community = next((row[c] for c in ("community_name", "community")
                              if c in row.index and not _missing(row[c])), None)
            if community is not None:
                lines.append(f"{_word('community', lang)}: {community}")
            skip = set(_FINDING_COLUMNS) | {"community_name", "community"}
            lines += _attribute_lines(row, kind, lang, skip)
        else:
            own = row.get("name") if "name" in row.index else None
            names.append(str(own) if not _missing(own) else fid)
            lines = _attribute_lines(row, kind, lang, {"name"})
        descriptions.append("<br>".join(str(x) for x in lines))
    out = frame.copy()
    if "name" in frame.columns and not findings:
        name_field = "name"
        out["name"] = names
    else:
        name_field = _free("Name", frame.columns)
        out[name_field] = names
    desc_field = _free("Description", out.columns)
    out[desc_field] = descriptions
    return out, name_field, desc_field
