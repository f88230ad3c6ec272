"""Standards as data.

Every threshold gcgeo applies lives in a TOML file in this folder, beside the
clause it comes from and a ``status`` saying how sure we are of the figure:

* ``verified``   – read in the standard's text or an authoritative summary;
* ``secondary``  – quoted by a secondary source;
* ``unverified`` – no source found; a sensible default the user should check;
* ``local``      – local policy rather than a national standard (user-set).

A threshold is a TOML table with at least ``value``, ``clause`` and ``status``
(``unit`` and ``note`` where useful)::

    [tiers.10min]
    value = 500
    unit = "m"
    clause = "GB 50180-2018 §2.0.3"
    status = "verified"

Users override any value in a TOML file of their own whose top-level tables
are named after the rule sets, e.g.::

    [living_circle.tiers.10min]
    value = 450

>>> from gcgeo import rules
>>> r = rules.load("living_circle")
>>> rules.value(r, "tiers.10min")
500
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from .._errors import RulesError

__all__ = ["RULES_VERSION", "available", "load", "value", "threshold", "deep_merge"]

#: Version of the built-in rules; stored in every workspace's metadata.
RULES_VERSION = "2026.12"

_STATUSES = {"verified", "secondary", "unverified", "local"}


def available() -> list[str]:
    """Names of the built-in rule sets."""
    return sorted(
        p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".toml")
    )


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override`` recursively (neither is modified)."""
    out = copy.deepcopy(dict(base))
    for key, val in override.items():
        if isinstance(val, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], val)
        elif isinstance(val, Mapping) and not isinstance(out.get(key), Mapping) and key in out:
            raise RulesError(
                f"rule override '{key}' is a table but the built-in rule is a plain value "
                f"({out[key]!r}); write it as '{key} = <value>'."
            )
        elif (
            not isinstance(val, Mapping)
            and isinstance(out.get(key), Mapping)
            and "value" in out[key]
        ):
            # `tiers.10min = 450` is shorthand for `tiers.10min.value = 450`.
            out[key] = {**out[key], "value": val, "status": "local", "note": "set by the user"}
        else:
            out[key] = copy.deepcopy(val)
    return out


def _read_toml(path: Path | str, what: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise RulesError(f"rules file {path} does not exist; check the path given {what}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(
            f"rules file {path} is not valid TOML ({exc}); fix the line it names."
        ) from None


def load(
    name: str, overrides: Path | str | Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Load the built-in rule set ``name`` and apply a user's overrides.

    ``overrides`` is a path to a TOML file (its ``[name]`` table is used, other
    tables are ignored so one file can hold every override) or a mapping: a
    whole file's worth (``{"green": {...}, "living_circle": {...}}``, its
    ``name`` table used), the overrides of this rule set, merged, or a
    complete rule set (every top-level table of the built-in one, e.g. one
    loaded earlier and edited), used as it is — so tables can be removed.
    """
    if name not in available():
        raise RulesError(
            f"no built-in rule set named '{name}'; available: {', '.join(available())}."
        )
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    base = tomllib.loads(text)
    if overrides is None:
        return base
    if isinstance(overrides, (str, Path)):
        user = _read_toml(overrides, "as rules override").get(name, {})
    elif isinstance(overrides, Mapping):
        user = overrides[name] if isinstance(overrides.get(name), Mapping) else overrides
    else:
        raise RulesError(
            f"rules must be a path to a TOML file or a mapping, not {type(overrides).__name__}."
        )
    if not isinstance(overrides, (str, Path)) and set(base) <= set(user):
        merged = copy.deepcopy(dict(user))
    else:
        merged = deep_merge(base, user)
    _check_thresholds(merged, name)
    return merged


def _check_thresholds(tree: Mapping[str, Any], where: str) -> None:
    for key, val in tree.items():
        if isinstance(val, Mapping):
            if "value" in val and "status" in val and val["status"] not in _STATUSES:
                raise RulesError(
                    f"rule {where}.{key} has status {val['status']!r}; use one of "
                    f"{', '.join(sorted(_STATUSES))}."
                )
            _check_thresholds(val, f"{where}.{key}")


def _lookup(rules: Mapping[str, Any], dotted: str) -> Any:
    node: Any = rules
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise RulesError(f"rule '{dotted}' is missing (no '{part}'); check the rules file.")
        node = node[part]
    return node


def threshold(rules: Mapping[str, Any], dotted: str) -> dict[str, Any]:
    """The whole threshold table at ``dotted`` (value, unit, clause, status…)."""
    node = _lookup(rules, dotted)
    if not isinstance(node, Mapping) or "value" not in node:
        raise RulesError(f"rule '{dotted}' is not a threshold table with a 'value'.")
    return dict(node)


def value(rules: Mapping[str, Any], dotted: str) -> Any:
    """The value of the threshold (or plain setting) at ``dotted``."""
    node = _lookup(rules, dotted)
    if isinstance(node, Mapping) and "value" in node:
        return node["value"]
    return node
