"""Labels (zh / en) of the scorecard's columns and codes, for tables, exports, reports and maps.

Codes are stored as they are (``met``, ``attested``…) and shown translated:

>>> value("status", "not_met", "zh"), value("source", "attested", "zh"), value("conflict", True, "en")
('不符合', '认定', 'yes')
>>> column("criteria_met", "zh")
'符合项数'
>>> value("analysis", "fire_lanes; chargers", "zh")
'消防车道；充电设施'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..clauses import clause_text
from ..labels import VALUE_LABELS
from ..reasons import reason_text

__all__ = ["COLORS", "COLUMNS", "VALUES", "column", "frame", "value"]

#: Column → (zh, en).
COLUMNS: dict[str, tuple[str, str]] = {
    "as_of": ("评估日期", "Assessed on"),
    "community_id": ("社区编号", "Community id"),
    "community_name": ("社区名称", "Community"),
    "street_office": ("街道", "Street office"),
    "criterion": ("项号", "Criterion"),
    "area": ("内容", "Area"),
    "criterion_zh": ("创建标准", "Criterion (standard's text)"),
    "status": ("结果", "Status"),
    "source": ("依据", "Decided by"),
    "measured_status": ("测量结果", "Measured"),
    "attested_status": ("认定结果", "Attested"),
    "conflict": ("测量与认定不一致", "Measured and attested disagree"),
    "figure": ("实测值", "Figure"),
    "threshold": ("标准值", "Threshold"),
    "clause": ("依据条款", "Clause"),
    "analysis": ("分析", "Analysis"),
    "ran_at": ("分析时间", "Analysis run at"),
    "stale": ("结果已过期", "Stale"),
    "attestation": ("认定表位置", "Attestation (file, row)"),
    "evidence": ("佐证说明", "Evidence"),
    "document": ("佐证材料", "Document or photo"),
    "attested_by": ("认定人", "Attested by"),
    "attested_on": ("认定日期", "Attested on"),
    "reason": ("说明", "Reason"),
    "command": ("补充测量或认定的命令", "Command that would settle it"),
    "criteria_met": ("符合项数", "Criteria met"),
    "criteria_not_met": ("不符合项数", "Criteria not met"),
    "criteria_unknown": ("未知项数", "Criteria unknown"),
    "short": ("差几项", "Criteria short"),
    "meets_standard": ("达到创建标准", "Meets the standard"),
    "not_met": ("不符合的项", "Not met"),
    "unknown": ("未知的项", "Unknown"),
    "conflicts": ("测量与认定不一致的项", "Measured and attested disagree"),
    "target": ("目标", "Target"),
    "target_label": ("目标", "Target"),
    "target_date": ("目标日期", "Target date"),
    "target_share": ("目标比例", "Target share"),
    "n_communities": ("社区总数", "Communities"),
    "n_meeting": ("达标社区数", "Communities meeting the standard"),
    "share_meeting": ("达标比例", "Share meeting the standard"),
    "communities_needed": ("尚需达标社区数", "More communities needed"),
    "reached": ("已达到目标", "Target reached"),
    "due": ("已到期", "Due date passed"),
    "blocking_criteria": ("主要阻碍项", "Blocking criteria"),
    "closest_communities": ("最接近达标的社区", "Closest to passing"),
    "n_not_met": ("不符合的社区数", "Communities not meeting it"),
    "n_unknown": ("未知的社区数", "Communities where unknown"),
    "n_short": ("受阻社区数", "Communities held back"),
    "n_only": ("仅差此项的社区数", "Communities short of this one only"),
    "communities": ("社区", "Communities"),
    "short_label": ("简称", "Short name"),
    "date": ("认定日期", "Date"),
    "note": ("备注", "Note"),
    "file": ("文件", "File"),
    "sheet": ("工作表", "Sheet"),
    "row": ("行", "Row"),
}

_STATUS = {**{k: VALUE_LABELS["status"][k] for k in ("met", "not_met", "unknown")}, "": ("—", "—")}
_YES_NO = {True: ("是", "yes"), False: ("否", "no")}
#: Column → code → (zh, en).
VALUES: dict[str, dict[Any, tuple[str, str]]] = {
    "status": _STATUS, "measured_status": _STATUS, "attested_status": _STATUS,
    "source": {"measured": ("测量", "measured"), "attested": ("认定", "attested"),
               "measured_attested": ("部分测量+认定", "part measured + attested"), "none": ("无", "none")},
    "area": {"governance": ("机制", "governance"), "infrastructure": ("基础设施", "infrastructure"),
             "livability": ("宜居环境", "livability"), "smart": ("信息化智能化", "smart management"),
             "culture": ("绿色文化", "culture")},
    "conflict": _YES_NO, "stale": _YES_NO, "meets_standard": _YES_NO, "reached": _YES_NO, "due": _YES_NO,
}
_PCT = ("target_share", "share_meeting")

#: Status → fill colour (maps, matrices, exports).
COLORS = {"met": "#1a9850", "not_met": "#d73027", "unknown": "#bdbdbd"}


def column(name: str, lang: str = "zh") -> str:
    """The label of a scorecard column (its name when it has none)."""
    zh, en = COLUMNS.get(name, (name, name.replace("_", " ")))
    return zh if lang == "zh" else en


def _analyses(text: str, lang: str) -> str:
    """'fire_lanes; chargers' → '消防车道；充电设施' (the analyses by their labels)."""
    from ..analysis import descriptors

    descs = descriptors()
    names = [n.strip() for n in text.split(";") if n.strip()]
    labels = [(descs[n].label_zh if lang == "zh" else descs[n].label_en) if n in descs else n for n in names]
    return ("；" if lang == "zh" else "; ").join(labels)


def value(name: str, v: Any, lang: str = "zh") -> Any:
    """A value of column ``name`` as shown: codes translated, shares as percentages."""
    if name == "analysis" and isinstance(v, str):
        return _analyses(v, lang)
    if name == "clause" and isinstance(v, str):
        return clause_text(v, lang)
    if (name == "reason" or name.endswith("_reason")) and isinstance(v, str):
        return reason_text(v, lang)
    table = VALUES.get(name)
    if table is not None:
        key = v
        if name in ("conflict", "stale", "meets_standard", "reached", "due") and not isinstance(v, bool):
            key = str(v).strip().lower() in ("true", "1", "1.0")
        if key in table:
            zh, en = table[key]
            return zh if lang == "zh" else en
    if name in _PCT and isinstance(v, (int, float)) and not isinstance(v, bool) and pd.notna(v):
        return f"{float(v) * 100:.1f}%"
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return v


def frame(df: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """``df`` with its columns labelled and its values shown (geometry dropped)."""
    out = pd.DataFrame({column(c, lang): [value(c, v, lang) for v in df[c]]
                        for c in df.columns if c != "geometry" and str(df[c].dtype) != "geometry"})
    return out
