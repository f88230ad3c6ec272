"""The 16 criteria of the Shandong Green Community standard and the county's targets.

Both come from the rule set ``score`` (``gcgeo/rules/score.toml``): each
criterion's area, its Chinese text verbatim from the standard, an English
translation, short headings and whether the standard's wording calls for a
measurement or an attestation; each target's share, date and clause.  A
user's rules file overrides any of it (a target's share or date, which side
wins a conflict…), checked like every other rules file.

Which analyses measure a criterion is not written here: it is read from the
analyses' descriptors (:func:`measuring`), so a new analysis declaring a
criterion is scored without a change here.

>>> std = load()
>>> len(std.criteria), std.criteria[11].number, std.criteria[11].zh[-14:]
(16, 12, '物业管理覆盖面不低于30%。')
>>> [(t.share, t.date.isoformat()) for t in std.targets]
[(0.3, '2021-12-31'), (0.6, '2022-12-31')]
>>> std.status_of("PASS"), std.status_of(False), std.status_of("incomplete")
('met', 'not_met', 'unknown')
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import rules as _rules
from .._errors import RulesError

__all__ = ["AREAS", "NUMBERS", "SOURCES", "STATUSES", "Standard", "StandardCriterion", "Target",
           "load", "measuring"]

#: A criterion's status in a community.
STATUSES = ("met", "not_met", "unknown")
#: What decided it (``measured_attested``: a measured part passing, and the criterion attested).
SOURCES = ("measured", "attested", "measured_attested", "none")
#: The criteria's numbers.
NUMBERS = tuple(range(1, 17))
#: The five areas, in the standard's order.
AREAS = ("governance", "infrastructure", "livability", "smart", "culture")
_DECIDED_BY = ("measured", "attested")
_PREFER = ("measured", "attested")


@dataclass(frozen=True)
class StandardCriterion:
    """One of the 16 criteria: its number, area, text and how the standard decides it."""

    number: int
    area: str
    area_zh: str
    area_en: str
    zh: str
    en: str
    short_zh: str
    short_en: str
    decided_by: str
    clause: str

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def short(self, lang: str = "zh") -> str:
        return self.short_zh if lang == "zh" else self.short_en

    def area_label(self, lang: str = "zh") -> str:
        return self.area_zh if lang == "zh" else self.area_en


@dataclass(frozen=True)
class Target:
    """A share of the county's communities that must meet the standard by a date."""

    name: str
    share: float
    date: _dt.date
    label_zh: str
    label_en: str
    clause: str

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class Standard:
    """The criteria, targets and scoring settings of one resolved ``score`` rule set."""

    name_zh: str
    name_en: str
    criteria: tuple[StandardCriterion, ...]
    targets: tuple[Target, ...]
    met_words: frozenset[str]
    not_met_words: frozenset[str]
    prefer: str
    closest_short: int

    def criterion(self, number: int) -> StandardCriterion:
        for c in self.criteria:
            if c.number == number:
                return c
        raise KeyError(number)

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def status_of(self, value: Any) -> str:
        """``met`` / ``not_met`` / ``unknown`` for a value of a deciding column."""
        if value is None or value is pd.NA:
            return "unknown"
        if isinstance(value, float) and value != value:
            return "unknown"
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return "met" if bool(value) else "not_met"
        text = str(value).strip().lower()
        if text in self.met_words:
            return "met"
        if text in self.not_met_words:
            return "not_met"
        return "unknown"


def _date(value: Any, where: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise RulesError(f"rule '{where}' = {value!r} is not a date; write it as 2022-12-31.") from None


def load(rules: str | os.PathLike | Mapping[str, Any] | None = None) -> Standard:
    """The standard as the rule set ``score`` says, with a user's ``rules`` (a TOML file
    or a mapping) applied and checked."""
    r = _rules.load("score", Path(rules) if isinstance(rules, (str, os.PathLike)) else rules)
    areas = r["areas"]
    problems = []
    criteria = []
    for key, c in r["criteria"].items():
        if not str(key).isdigit() or int(key) not in NUMBERS:
            problems.append(f"criteria.{key}: the standard's criteria are numbered 1 to 16")
            continue
        if c.get("area") not in areas:
            problems.append(f"criteria.{key}.area = {c.get('area')!r} is not one of {', '.join(areas)}")
            continue
        if c.get("decided_by") not in _DECIDED_BY:
            problems.append(f"criteria.{key}.decided_by = {c.get('decided_by')!r} is not one of "
                            f"{', '.join(_DECIDED_BY)}")
            continue
        a = areas[c["area"]]
        n = int(key)
        criteria.append(StandardCriterion(
            n, c["area"], a["label_zh"], a["label_en"], c["zh"], c["en"], c["short_zh"],
            c["short_en"], c["decided_by"], f"{r['standard']['name_zh']}第{n}项"))
    prefer = r["conflicts"]["prefer"]
    if prefer not in _PREFER:
        problems.append(f"conflicts.prefer = {prefer!r} is not one of {', '.join(_PREFER)}")
    if problems:
        raise RulesError("rule set score: " + "; ".join(problems) + ".")
    targets = tuple(sorted(
        (Target(name, float(t["value"]), _date(t["date"], f"targets.{name}.date"), t.get("label_zh", name),
                t.get("label_en", name), t.get("clause", "")) for name, t in r["targets"].items()),
        key=lambda t: (t.date, t.share)))
    st = r["statuses"]
    return Standard(r["standard"]["name_zh"], r["standard"]["name_en"],
                    tuple(sorted(criteria, key=lambda c: c.number)), targets,
                    frozenset(str(w).strip().lower() for w in st["met"]),
                    frozenset(str(w).strip().lower() for w in st["not_met"]), prefer,
                    int(_rules.value(r, "closest_short")))


def measuring(descriptors: Mapping[str, Any] | None = None) -> dict[int, list[tuple[Any, Any]]]:
    """Criterion number → ``(analysis descriptor, its Criterion)`` for every analysis that
    declares it (by default every registered analysis), in registry order."""
    if descriptors is None:
        from .. import analysis

        descriptors = analysis.descriptors()
    out: dict[int, list[tuple[Any, Any]]] = {}
    for desc in descriptors.values():
        for c in desc.criteria:
            out.setdefault(int(c.number), []).append((desc, c))
    return out
