"""The OSM tag tables of ``rules/osm_tags.toml``, compiled into matchers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import rules as _rules
from .._errors import RulesError
from ..layers import get_spec

ANY = "*"


@dataclass(frozen=True)
class Rule:
    """One matching rule: ``tags`` all present with an allowed value, none of
    ``exclude``, and (when given) a name containing one of ``name_contains``."""

    tags: tuple[tuple[str, frozenset[str] | None], ...]
    exclude: tuple[tuple[str, frozenset[str] | None], ...]
    name_contains: tuple[str, ...]
    out: Mapping[str, Any]
    label: str

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.tags)

    def matches(self, tags: Mapping[str, str]) -> bool:
        for key, values in self.tags:
            v = tags.get(key)
            if v is None or (values is None and v == "no") or (
                    values is not None and v not in values):
                return False
        for key, values in self.exclude:
            v = tags.get(key)
            if v is not None and (values is None or v in values):
                return False
        if self.name_contains:
            names = [v.lower() for k, v in tags.items() if k == "name" or k.startswith("name:")]
            if not any(p in n for n in names for p in self.name_contains):
                return False
        return True


def _selector(raw: Any, where: str) -> tuple[tuple[str, frozenset[str] | None], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise RulesError(f"osm_tags rule {where}: expected a table of key = [values], got {raw!r}.")
    out = []
    for key, values in raw.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise RulesError(
                f"osm_tags rule {where}: tag '{key}' needs a list of text values, got {values!r}; "
                "write e.g. amenity = [\"parking\"] (\"*\" for any value)."
            )
        out.append((str(key), None if ANY in values else frozenset(values)))
    return tuple(out)


Selector = tuple[tuple[str, frozenset[str] | None], ...]


def _label(sel: Selector, tags: Mapping[str, str] | None) -> str:
    # The first tag with listed values names the rule ("emergency=designated"
    # rather than "highway=*").
    key, values = next(((k, v) for k, v in sel if v is not None), sel[0])
    if tags is not None and key in tags:
        return f"{key}={tags[key]}"
    if values is None:
        return f"{key}=*"
    return f"{key}={sorted(values)[0]}" if values else f"{key}=(none)"


def compile_rules(raw: Any, where: str) -> tuple[Rule, ...]:
    """Compile a list of rule tables (see the header of osm_tags.toml)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RulesError(f"osm_tags {where} must be a list of rule tables ([[{where}]]).")
    out = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, Mapping) or "tags" not in item:
            raise RulesError(f"osm_tags {where} rule {i} has no 'tags' table; add "
                             "tags = {{ key = [\"value\"] }}.")
        sel = _selector(item["tags"], f"{where} #{i}")
        if not sel:
            raise RulesError(f"osm_tags {where} rule {i} has an empty 'tags' table.")
        names = tuple(str(s).lower() for s in item.get("name_contains", ()))
        extra = {k: v for k, v in item.items() if k not in ("tags", "not", "name_contains")}
        out.append(Rule(sel, _selector(item.get("not"), f"{where} #{i} not"), names, extra,
                        _label(sel, None)))
    return tuple(out)


def first_match(rules: tuple[Rule, ...], tags: Mapping[str, str]) -> Rule | None:
    for rule in rules:
        if rule.matches(tags):
            return rule
    return None


def tag_label(rule: Rule, tags: Mapping[str, str]) -> str:
    """``key=value`` of the rule's first tag as the feature carries it."""
    return _label(rule.tags, tags)


@dataclass(frozen=True)
class Tables:
    """Everything the importer reads from osm_tags.toml, checked once."""

    raw: Mapping[str, Any]
    green_space: tuple[Rule, ...]
    parking: tuple[Rule, ...]
    fire_lanes: tuple[Rule, ...]
    facilities: tuple[Rule, ...]
    garbage_points: tuple[Rule, ...]
    heritage: tuple[Rule, ...]
    community_levels: tuple[Rule, ...]
    chargers_select: tuple[Rule, ...]
    ramp_crossing: tuple[Rule, ...]
    residential_areas: tuple[Rule, ...]

    def section(self, name: str) -> Mapping[str, Any]:
        return self.raw.get(name, {})


def _optional_rule(raw: Any, where: str) -> tuple[Rule, ...]:
    sel = _selector(raw, where)
    return (Rule(sel, (), (), {}, _label(sel, None)),) if sel else ()


def _check_allowed(rules: tuple[Rule, ...], field: str, kind: str, column: str, where: str) -> None:
    allowed = get_spec(kind).column(column).allowed
    for i, rule in enumerate(rules, 1):
        v = rule.out.get(field)
        if v is None:
            raise RulesError(f"osm_tags {where} rule {i} ({rule.label}) gives no '{field}'.")
        if allowed is not None and v not in allowed:
            raise RulesError(
                f"osm_tags {where} rule {i} ({rule.label}) gives {field} = {v!r}, which layer "
                f"'{kind}' does not allow; use one of: {', '.join(allowed)}."
            )


def load_tables(overrides: Path | str | Mapping[str, Any] | None = None) -> Tables:
    """Load and check the tag tables (the built-in ones merged with ``overrides``)."""
    raw = _rules.load("osm_tags", overrides)
    t = Tables(
        raw=raw,
        green_space=compile_rules(raw.get("green_space", {}).get("rules"), "green_space.rules"),
        parking=compile_rules(raw.get("parking", {}).get("rules"), "parking.rules"),
        fire_lanes=compile_rules(raw.get("fire_lanes", {}).get("rules"), "fire_lanes.rules"),
        facilities=compile_rules(raw.get("facilities", {}).get("rules"), "facilities.rules"),
        garbage_points=compile_rules(raw.get("garbage_points", {}).get("rules"),
                                     "garbage_points.rules"),
        heritage=compile_rules(raw.get("heritage", {}).get("rules"), "heritage.rules"),
        community_levels=compile_rules(raw.get("communities", {}).get("levels"),
                                       "communities.levels"),
        chargers_select=(Rule(_selector(raw.get("chargers", {}).get("select"), "chargers.select"),
                              (), (), {}, "chargers.select"),),
        ramp_crossing=(Rule(_selector(raw.get("ramps", {}).get("crossing"), "ramps.crossing"),
                            (), (), {}, "ramps.crossing"),),
        residential_areas=_optional_rule(raw.get("buildings", {}).get("residential_areas"),
                                         "buildings.residential_areas"),
    )
    _check_allowed(t.green_space, "kind", "green_space", "kind", "green_space.rules")
    _check_allowed(t.garbage_points, "kind", "garbage_points", "kind", "garbage_points.rules")
    _check_allowed(t.heritage, "kind", "heritage", "kind", "heritage.rules")
    _check_allowed(t.facilities, "category", "facilities", "category", "facilities.rules")
    for i, rule in enumerate(t.parking, 1):
        if "kind" not in rule.out and "kind_from" not in rule.out:
            raise RulesError(f"osm_tags parking.rules rule {i} gives neither 'kind' nor "
                             "'kind_from'.")
    _check_allowed(tuple(r for r in t.parking if "kind" in r.out), "kind", "parking", "kind",
                   "parking.rules")
    for i, rule in enumerate(t.community_levels, 1):
        if "source" not in rule.out:
            raise RulesError(f"osm_tags communities.levels rule {i} gives no 'source'.")
    allowed = get_spec("manholes").column("kind").allowed or ()
    for value, kind in raw.get("manholes", {}).get("kind", {}).items():
        if kind not in allowed:
            raise RulesError(f"osm_tags manholes.kind.{value} = {kind!r}; use one of: "
                             f"{', '.join(allowed)}.")
    ramps_allowed = get_spec("ramps").column("kind").allowed or ()
    for value, kind in raw.get("ramps", {}).get("kerb_kind", {}).items():
        if kind not in ramps_allowed:
            raise RulesError(f"osm_tags ramps.kerb_kind.{value} = {kind!r}; use one of: "
                             f"{', '.join(ramps_allowed)}.")
    return t
