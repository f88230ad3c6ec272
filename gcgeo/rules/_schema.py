"""What a user may write in a rules file: known keys, types, ranges, open tables.

The built-in rule sets are the schema: a user's key must exist in the
built-in tree (or sit in a table open for additions, :data:`OPEN`), hold a
value of the built-in value's type, and a number must lie in the rule's
range.  Ranges come from, in order: explicit ``min``/``max`` in the built-in
threshold table; its ``unit`` (:func:`unit_range`); the key's name
(:func:`key_range`).

:class:`Checker` walks a user's tree beside the built-in one and collects
every problem as ``(path, message)``; the caller adds the file and line.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

__all__ = ["OPEN", "STATUSES", "Checker", "Range", "dotted", "key_range", "unit_range"]

#: How sure we are of a figure (see gcgeo/rules/__init__.py).
STATUSES = ("verified", "secondary", "unverified", "local")

#: Tables open for user additions, per rule set: key path → the keys a new
#: entry must have.  ``"*"`` stands for any key, ``"#"`` for any entry of an
#: array of tables.  A new entry may use the keys of the existing entries
#: (with their types) and no others.
OPEN: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    # a planner may add a facility category (it needs its labels and tiers)
    "living_circle": {("categories",): ("label_zh", "label_en", "tiers")},
    # a capacity column or a norm for any category (one the planner added too)
    "supply": {("capacity",): ("column",), ("norms",): ("value",)},
    # obstruction kinds: keys left out are taken from footprints.other
    "fire_lanes": {("footprints",): ("width_m", "length_m")},
    # POI types of map platforms → living-circle category: any type
    "poi_types": {("amap_typecode",): (), ("amap_type",): (), ("baidu_tag",): ()},
    # tag → value maps and tag selectors: any OSM tag or value
    "osm_tags": {
        ("parking", "parking_kind"): (),
        ("manholes", "kind"): (),
        ("ramps", "kerb_kind"): (),
        ("ramps", "wheelchair"): (),
        ("ramps", "crossing"): (),
        ("chargers", "select"): (),
        ("buildings", "residential_areas"): (),
        ("green_space", "private_access"): (),
        ("*", "rules", "#", "tags"): (),
        ("*", "rules", "#", "not"): (),
        ("communities", "levels", "#", "tags"): (),
    },
}

#: Keys whose text must be one of a few words, per rule set.
_CHOICES: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    "fire_lanes": {
        ("footprints", "*", "shape"): ("rect", "circle"),
        ("footprints", "*", "orientation"): ("along", "across"),
    },
    # the standard sunlight days of GB 50180-2018 Table 4.0.9
    "green": {("sunlight", "day", "value"): ("大寒日", "冬至日")},
}

#: Keys any table citing a source may carry, and their types.
_SOURCE_KEYS = {"clause": "", "status": "", "note": ""}

#: Keys of a threshold table that describe the rule and a user cannot change.
_FIXED = ("unit", "min", "max")


@dataclass(frozen=True)
class Range:
    """Allowed numbers: ``lo <= x <= hi`` (``lo < x`` when ``lo_open``)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False

    def __contains__(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        return above and x <= self.hi

    def __str__(self) -> str:
        def num(v: float) -> str:
            return f"{v:g}"

        if self.hi == math.inf:
            return f"{'>' if self.lo_open else '>='} {num(self.lo)}"
        if self.lo == -math.inf:
            return f"<= {num(self.hi)}"
        return f"{num(self.lo)} to {num(self.hi)}"


_LENGTH_UNIT = re.compile(r"^(mm|cm|m|hm|km)(2|²|\^2)?(\s*/\s*person)?$")
_SPEED_UNIT = re.compile(r"^(km|m)\s*/\s*(h|s|min)$")
UNIT_FRACTION = Range(0.0, 1.0)


def unit_range(unit: Any) -> Range | None:
    """The range a unit implies: lengths and areas >= 0, fractions 0–1, % 0–100, NDVI −1–1."""
    if not isinstance(unit, str):
        return None
    u = unit.strip().lower()
    if u.startswith("fraction") or "share" in u or "ratio" in u:
        return UNIT_FRACTION
    if u.startswith(("%", "percent")):
        return Range(0.0, 100.0)
    if u == "ndvi":
        return Range(-1.0, 1.0)
    if _SPEED_UNIT.match(u):
        return Range(0.0, math.inf, lo_open=True)
    if _LENGTH_UNIT.match(u):
        return Range(0.0)
    return None


def key_range(path: tuple) -> Range | None:
    """The range a key's name implies (``width_m`` >= 0, ``minutes`` > 0, ``*_ratio`` 0–1)."""
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return None
    last = names[-1]
    if last == "value" and len(names) > 1:
        last = names[-2]
    if re.search(r"_(m|m2|km)$", last):
        return Range(0.0)
    if last in ("minutes", "walking_speed", "speed"):
        return Range(0.0, math.inf, lo_open=True)
    if "ratio" in last or "share" in last:
        return UNIT_FRACTION
    return None


def dotted(path: tuple) -> str:
    """A key path as a user writes it: ``osm_tags.facilities.rules[3].tags."isced:level"``.

    Entries of an array of tables are counted from 1.
    """
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p + 1}]"
        else:
            part = p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else '"' + p.replace('"', '\\"') + '"'
            out += ("." if out else "") + part
    return out


def _match(pattern: tuple[str, ...], path: tuple) -> bool:
    if len(pattern) != len(path):
        return False
    for want, got in zip(pattern, path):
        if want == "#":
            if not isinstance(got, int):
                return False
        elif want != "*" and want != got:
            return False
    return True


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "text"
    if isinstance(v, Mapping):
        return "table"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, (date, datetime, time)):
        return "date"
    return type(v).__name__


_WANT = {"bool": "true or false", "number": "a number", "text": "a text in quotes",
         "table": "a table", "list": "a list", "date": "a date"}
_GOT = {"bool": "true/false", "number": "a number", "text": "a text", "table": "a table",
        "list": "a list", "date": "a date"}


def _show(v: Any) -> str:
    text = repr(v) if not isinstance(v, bool) else str(v).lower()
    return text if len(text) <= 60 else text[:57] + "…"


def _is_threshold(node: Any) -> bool:
    return isinstance(node, Mapping) and "value" in node


def _union(entries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The keys of several tables, each with the value of the first table that has it."""
    out: dict[str, Any] = {}
    for e in entries:
        for k, v in e.items():
            out.setdefault(k, v)
    return out


class Checker:
    """Check user trees of one rule set against its built-in tree.

    ``problems`` collects ``(file path, message)``: the path is the key's
    path as written in the user's file (``at``), which may differ from the
    path in the rule set (``rel``) by the rule set's name in front.
    ``hint(rel, key)`` may return extra advice for an unknown key.
    """

    def __init__(self, name: str, problems: list[tuple[tuple, str]],
                 hint: Callable[[tuple, str], str] | None = None) -> None:
        self.name = name
        self.problems = problems
        self.hint = hint
        self.open = OPEN.get(name, {})
        self.choices = _CHOICES.get(name, {})

    # -- reporting ------------------------------------------------------------

    def _problem(self, at: tuple, message: str) -> None:
        self.problems.append((at, f"'{dotted(at)}' {message}"))

    def _lookup(self, table: Mapping[tuple[str, ...], Any], rel: tuple) -> Any:
        for pattern, spec in table.items():
            if _match(pattern, rel):
                return spec
        return None

    # -- walking --------------------------------------------------------------

    def node(self, user: Any, base: Any, rel: tuple, at: tuple, rng: Range | None = None) -> None:
        """Check ``user`` where the built-in rule set has ``base``."""
        if isinstance(base, Mapping):
            if _is_threshold(base) and not isinstance(user, Mapping):
                # shorthand: `tiers.15min = 800` for `tiers.15min.value = 800`
                self.value(user, base["value"], rel + ("value",), at, self.threshold_range(base, rel))
            elif not isinstance(user, Mapping):
                self._problem(at, f"must be a table (as [{dotted(at)}] with its keys below it), "
                                  f"not {_GOT.get(_kind(user), _kind(user))} ({_show(user)}).")
            else:
                self.table(user, base, rel, at)
        else:
            self.value(user, base, rel, at, rng if rng is not None else key_range(rel))

    def table(self, user: Mapping[str, Any], base: Mapping[str, Any], rel: tuple, at: tuple) -> None:
        required = self._lookup(self.open, rel)
        threshold = _is_threshold(base)
        for k, v in user.items():
            krel, kat = rel + (k,), at + (k,)
            if k in base:
                if threshold and k == "value":
                    self.value(v, base[k], krel, kat, self.threshold_range(base, rel))
                elif threshold and k in _FIXED:
                    if v != base[k]:
                        why = (f"give the value in {base[k]}" if k == "unit"
                               else "it is the bound gcgeo checks the value against")
                        self._problem(kat, f"cannot be changed ({_show(base[k])}): {why}.")
                else:
                    self.node(v, base[k], krel, kat)
            elif (threshold or "clause" in base) and k in _SOURCE_KEYS:
                self.value(v, _SOURCE_KEYS[k], krel, kat, None)
            elif required is not None:
                self.new_entry(v, base, required, krel, kat)
            else:
                self.unknown(k, base, rel, at)

    def unknown(self, key: str, base: Mapping[str, Any], rel: tuple, at: tuple) -> None:
        known = [str(k) for k in base]
        close = difflib.get_close_matches(str(key), known, n=3, cutoff=0.6)
        where = f"{self.name}.{dotted(rel)}" if rel else f"the rule set {self.name}"
        msg = f"is not a key gcgeo knows in {where}"
        if close:
            msg += "; did you mean " + " or ".join(f"'{dotted(at + (c,))}'" for c in close) + "?"
        elif len(known) <= 20:
            msg += f"; the keys there are: {', '.join(known)}."
        else:
            msg += "."
        if self.hint:
            msg += self.hint(rel, key)
        self._problem(at + (key,), msg)

    def new_entry(self, user: Any, base: Mapping[str, Any], required: tuple[str, ...],
                  rel: tuple, at: tuple) -> None:
        """A user's addition to an open table: shaped like the existing entries."""
        entries = list(base.values())
        if entries and all(isinstance(e, Mapping) for e in entries):
            if not isinstance(user, Mapping):
                self._problem(at, f"is a new entry of {dotted(at[:-1])} and must be a table "
                                  f"with the keys {', '.join(required) or 'of the other entries'}.")
                return
            missing = [r for r in required if r not in user]
            if missing:
                example = next(iter(base))
                self._problem(at, f"is a new entry of {dotted(at[:-1])} and lacks "
                                  f"{', '.join(missing)}; every new entry needs "
                                  f"{', '.join(required)} (see the built-in entry '{example}').")
            self.table(user, _union(entries), rel, at)
        elif entries:
            self.node(user, entries[0], rel, at)

    def value(self, user: Any, base: Any, rel: tuple, at: tuple, rng: Range | None) -> None:
        """A plain value or a list where the built-in has ``base``."""
        want, got = _kind(base), _kind(user)
        if want != got:
            example = f" such as {_show(base)}" if want in ("number", "text", "list") else ""
            self._problem(at, f"must be {_WANT.get(want, want)}{example}, "
                              f"not {_GOT.get(got, got)} ({_show(user)}).")
            return
        if want == "list":
            self.list(user, base, rel, at, rng)
        elif want == "number":
            if not math.isfinite(user):
                self._problem(at, f"= {_show(user)} is not a finite number.")
            elif rng is not None and user not in rng:
                self._problem(at, f"= {_show(user)} is out of range; allowed: {rng}.")
        elif want == "text":
            words = STATUSES if rel and rel[-1] == "status" else self._lookup(self.choices, rel)
            if words and user not in words:
                what = "a status gcgeo knows" if words is STATUSES else "a choice gcgeo knows"
                self._problem(at, f"= {_show(user)} is not {what}; use one of "
                                  f"{', '.join(words)}.")

    def list(self, user: list, base: list, rel: tuple, at: tuple, rng: Range | None) -> None:
        if not base:
            return  # an empty built-in list says nothing of its items
        if all(isinstance(e, Mapping) for e in base):
            schema = _union(base)
            for i, e in enumerate(user):
                if isinstance(e, Mapping):
                    self.table(e, schema, rel + (i,), at + (i,))
                else:
                    self._problem(at + (i,), f"must be a table like the built-in entries, "
                                             f"not {_GOT.get(_kind(e), _kind(e))} ({_show(e)}).")
            return
        for i, e in enumerate(user):
            self.value(e, base[0], rel + (i,), at + (i,), rng)

    def threshold_range(self, table: Mapping[str, Any], rel: tuple) -> Range | None:
        """The range of a threshold's value: its min/max, else its unit, else its name."""
        if "min" in table or "max" in table:
            return Range(float(table.get("min", -math.inf)), float(table.get("max", math.inf)))
        return unit_range(table.get("unit")) or key_range(rel)
