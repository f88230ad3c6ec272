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

Users override any value in a TOML file of their own (``--rules`` on the
command line), written either in the built-in form::

    [tiers.15min]
    value = 800

or with the rule set's name in front, which one file holding the overrides
of several rule sets needs where a table name is shared::

    [living_circle.tiers.15min]
    value = 800
    [green.ndvi.threshold]
    value = 0.4

A plain value stands for a threshold's ``value`` (``tiers.15min = 800``).
A figure overridden without a ``clause`` of its own is no longer what the
built-in clause says: it is cited as a local rule of the file, replacing the
built-in clause (``local rule of rules file county.toml (replacing: GB
50180-2018 §2.0.3 …)``), with status ``local``; give ``clause`` (and
``status``) beside the value to cite a source of your own.
Every key is checked against the built-in rules once per run
(:func:`resolve`): a key gcgeo does not know, a value of the wrong type or
out of range, or a status it does not know is a :class:`RulesError` naming
the file, line and key — every problem of the file at once.  A few tables
are open for additions, e.g. a new facility category under ``categories``.

>>> from gcgeo import rules
>>> r = rules.load("living_circle")
>>> rules.value(r, "tiers.10min")
500
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from .._errors import RulesError
from ._lines import key_lines, line_of
from ._schema import STATUSES, Checker, dotted

__all__ = ["RULES_VERSION", "Rules", "available", "deep_merge", "load", "local_clause", "read_file",
           "resolve", "threshold", "value"]

#: Version of the built-in rules; stored in every workspace's metadata.
RULES_VERSION = "2026.12"

_STATUSES = set(STATUSES)


def available() -> list[str]:
    """Names of the built-in rule sets."""
    return sorted(
        p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".toml")
    )


@functools.cache
def _builtin(name: str) -> dict[str, Any]:
    """The parsed built-in rule set ``name`` (shared: copy before handing it out)."""
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _check_names(sets: Iterable[str]) -> tuple[str, ...]:
    names = (sets,) if isinstance(sets, str) else tuple(sets)
    known = available()
    bad = [n for n in names if n not in known]
    if bad:
        raise RulesError(
            f"no built-in rule set named {', '.join(repr(b) for b in bad)}; "
            f"available: {', '.join(known)}."
        )
    return names


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any], *,
               source: str | None = None) -> dict[str, Any]:
    """Return ``base`` updated by ``override`` recursively (neither is modified).

    A cited table of ``base`` (one with a ``clause`` or ``status``) whose figures
    ``override`` changes is cited as the local rule it now is, unless the override
    gives its own: its ``clause`` says it is a local rule of ``source`` (the rules
    file's name, say) replacing the built-in clause (:func:`local_clause`), and its
    ``status`` becomes ``local``.  A figure set to the built-in value changes nothing.
    """
    out = copy.deepcopy(base if isinstance(base, dict) else dict(base))
    for key, val in override.items():
        if isinstance(val, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _cite(out[key], val, deep_merge(out[key], val, source=source), source)
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
            out[key] = _cite(out[key], {"value": val}, {**out[key], "value": copy.deepcopy(val)}, source)
        else:
            out[key] = copy.deepcopy(val)
    return out


#: Keys of a cited table that describe or name it; changing them changes no figure.
_DESCRIBING = ("clause", "status", "note", "label_zh", "label_en")


def local_clause(source: str | None, replaced: str | None = None) -> str:
    """The clause of a figure a user's rules set without citing one.

    >>> local_clause("rules file county.toml", "GB 50180-2018 §2.0.3")
    'local rule of rules file county.toml (replacing: GB 50180-2018 §2.0.3)'
    """
    text = f"local rule of {source or 'the user'}"
    return f"{text} (replacing: {replaced})" if replaced else text


def _cite(base: Mapping[str, Any], given: Mapping[str, Any], merged: dict[str, Any],
          source: str | None) -> dict[str, Any]:
    """``merged`` (``base`` overridden by ``given``) cited as a local rule where ``given``
    changes a figure of the cited table ``base`` and gives no clause (or status) of its own."""
    if not ("clause" in base or "status" in base):
        return merged
    # compared as items: comparing a figure with the user's is not applying the rule
    changed = [k for k, v in given.items()
               if k not in _DESCRIBING and not isinstance(v, Mapping) and (k, v) not in base.items()]
    if not changed:
        return merged
    if "clause" not in given:
        merged["clause"] = local_clause(source, str(base.get("clause") or "") or None)
    if "status" not in given:
        merged["status"] = "local"
    return merged


def read_file(path: Path | str) -> dict[str, Any]:
    """A user's rules file parsed as it is (not checked; see :func:`resolve`).

    A missing file, one that is not UTF-8 text or not valid TOML is a
    :class:`RulesError` naming it.
    """
    return _parse(_read_text(path), path)


def _read_text(path: Path | str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RulesError(f"rules file {path} does not exist; check the path given.") from None
    except UnicodeDecodeError:
        raise RulesError(
            f"rules file {path} is not UTF-8 text; save it as UTF-8 (in Excel or an editor: "
            "'UTF-8' encoding)."
        ) from None
    except OSError as exc:
        raise RulesError(f"rules file {path} cannot be read ({exc.strerror or exc}).") from None


def _parse(text: str, path: Path | str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(
            f"rules file {path} is not valid TOML ({exc}); fix the line it names."
        ) from None


# --------------------------------------------------------------------------
# resolving the rules of a run


class Rules(Mapping[str, dict[str, Any]]):
    """The rule sets of one run: built-in rules merged with the user's, checked.

    A mapping from rule-set name to its resolved tree; each lookup returns a
    fresh copy, so a caller's edits never change the run's rules or their
    :meth:`digest`.  ``source`` is the user's rules file (None without one,
    or when the user's rules were given as a mapping).
    """

    def __init__(self, trees: Mapping[str, dict[str, Any]], source: Path | None = None) -> None:
        self._trees = {k: copy.deepcopy(dict(v)) for k, v in trees.items()}
        self.source = source

    def __getitem__(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self._trees[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._trees)

    def __len__(self) -> int:
        return len(self._trees)

    def __repr__(self) -> str:
        return f"Rules({', '.join(self._trees)}; source={self.source})"

    def digest(self, name: str) -> str:
        """sha256 of rule set ``name`` as resolved, in canonical JSON.

        It changes when a value the run uses changes, not when a comment or
        the order of the file's tables does.
        """
        if name not in self._trees:
            raise RulesError(f"rule set '{name}' was not resolved; resolved: {', '.join(self)}.")
        text = json.dumps(self._trees[name], sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve(sets: Iterable[str], user: Path | str | Mapping[str, Any] | None = None) -> Rules:
    """Load the built-in rule sets ``sets`` and apply the user's rules, checked once.

    ``user`` is a path to the user's TOML file or a mapping of the same
    shape.  Its top-level tables are either named after a rule set
    (``[living_circle.tiers.15min]``) or, in the built-in files' form,
    a table of one of ``sets`` (``[tiers.15min]``); a table that two of
    ``sets`` have must be written under the set's name.  A table that only
    rule sets outside ``sets`` have is checked and left for their runs.

    A mapping (not a file) may give a rule set whole, with every top-level
    table of the built-in one: it is then used as it is, so tables can be
    removed (e.g. categories a test does not need).

    Every problem of ``user`` — unknown keys (with close matches), wrong
    types, values out of range, unknown statuses, new entries of an open
    table without the keys they need — is collected and raised as one
    :class:`RulesError` naming the file and the line of each key.
    """
    names = _check_names(sets)
    if user is None:
        return Rules({n: _builtin(n) for n in names})
    tree: Mapping[str, Any]
    if isinstance(user, (str, os.PathLike)):
        text = _read_text(user)
        tree, lines, label = _parse(text, user), key_lines(text), f"rules file {user}"
        source: Path | None = Path(user).resolve()
        who = f"rules file {Path(user).name}"
    elif isinstance(user, Mapping):
        tree, lines, label, source = user, {}, "rules given as a mapping", None
        who = "the rules given"
    else:
        raise RulesError(
            f"rules must be a path to a TOML file or a mapping, not {type(user).__name__}."
        )
    problems: list[tuple[tuple, str]] = []
    parts = _split(tree, names, problems)
    owns: dict[str, dict[str, Any]] = {}
    for name, pieces in parts.items():
        checker = Checker(name, problems, functools.partial(_hint, name))
        for at, piece in pieces:
            checker.table(piece, _builtin(name), (), at)
        owns[name] = _join(pieces, problems)
    if problems:
        raise RulesError(_report(label, problems, lines))
    trees: dict[str, dict[str, Any]] = {}
    for name in names:
        own = owns.get(name, {})
        whole = source is None and set(_builtin(name)) <= set(own)
        trees[name] = copy.deepcopy(own) if whole else deep_merge(_builtin(name), own, source=who)
    return Rules(trees, source)


def _split(tree: Mapping[str, Any], names: tuple[str, ...],
           problems: list[tuple[tuple, str]]) -> dict[str, list[tuple[tuple, dict[str, Any]]]]:
    """The user's tables per rule set, each with the path it is written at in the file."""
    known = available()
    parts: dict[str, list[tuple[tuple, dict[str, Any]]]] = {}
    for key, val in tree.items():
        if key in known:
            if isinstance(val, Mapping):
                parts.setdefault(key, []).append(((key,), dict(val)))
            else:
                problems.append(((key,), (f"'{key}' names the rule set {key}: write its rules "
                                          f"below it as tables ([{key}.…]), not as one value.")))
            continue
        owners = [n for n in known if key in _builtin(n)]
        mine = [n for n in owners if n in names]
        if len(mine) == 1 or (not mine and len(owners) == 1):
            parts.setdefault((mine or owners)[0], []).append(((), {key: val}))
        elif len(mine) > 1:
            problems.append(((key,), (
                f"'{key}' is a table of the rule sets {' and '.join(mine)}, so it is not clear "
                f"which one it is meant for; write it under the rule set's name, e.g. "
                f"[{mine[0]}.{key}…] or [{mine[1]}.{key}…].")))
        elif not owners:
            problems.append(((key,), _unknown_top(key, names)))
        # else: a table of several other rule sets, none of this run: not for this run
    return parts


def _unknown_top(key: str, names: tuple[str, ...]) -> str:
    import difflib

    tables = sorted({k for n in names for k in _builtin(n)})
    close = difflib.get_close_matches(key, available() + tables, n=3, cutoff=0.6)
    run = f"rule set {names[0]}" if len(names) == 1 else f"rule sets {', '.join(names)}"
    msg = f"'{key}' is neither a rule set nor a table of the {run}"
    if close:
        return msg + f"; did you mean {' or '.join(repr(c) for c in close)}?"
    return msg + f"; rule sets: {', '.join(available())}; their tables: {', '.join(tables)}."


def _hint(name: str, rel: tuple, key: str) -> str:
    """Advice for an unknown key right below a rule set's name that is also a table name.

    ``[fire_lanes.rules]`` is the rule set fire_lanes, but the table
    fire_lanes of osm_tags has ``rules``: say so.
    """
    if rel:
        return ""
    others = [n for n in available()
              if n != name and isinstance(_builtin(n).get(name), Mapping) and key in _builtin(n)[name]]
    return "".join(f" For the table {name}.{key} of the rule set {o}, write "
                   f"[{o}.{name}.{key}…]." for o in others)


def _join(pieces: list[tuple[tuple, dict[str, Any]]],
          problems: list[tuple[tuple, str]]) -> dict[str, Any]:
    """One rule set's user tables, written under its name and without it, as one tree."""
    out: dict[str, Any] = {}
    where: dict[tuple, tuple] = {}

    def put(node: dict[str, Any], tree: Mapping[str, Any], rel: tuple, at: tuple) -> None:
        for k, v in tree.items():
            if k in node and isinstance(node[k], dict) and isinstance(v, Mapping):
                put(node[k], v, rel + (k,), at + (k,))
            elif k in node:
                problems.append((at + (k,), (f"'{dotted(at + (k,))}' sets the rule "
                                             f"'{dotted(rel + (k,))}' again (also as "
                                             f"'{dotted(where[rel + (k,)])}'); keep one of them.")))
            else:
                node[k] = copy.deepcopy(v if isinstance(v, dict) or not isinstance(v, Mapping)
                                        else dict(v))
                _note(where, v, rel + (k,), at + (k,))

    for at, piece in pieces:
        put(out, piece, (), at)
    return out


def _note(where: dict[tuple, tuple], v: Any, rel: tuple, at: tuple) -> None:
    where[rel] = at
    if isinstance(v, Mapping):
        for k, sub in v.items():
            _note(where, sub, rel + (k,), at + (k,))


def _report(label: str, problems: list[tuple[tuple, str]], lines: dict[tuple, int]) -> str:
    def where(at: tuple) -> str:
        n = line_of(lines, at)
        return f"line {n}: " if n is not None else ""

    problems = sorted(problems, key=lambda p: (line_of(lines, p[0]) or 0))
    if len(problems) == 1:
        at, msg = problems[0]
        return f"{label}, {where(at)}{msg}"
    body = "\n".join(f"  {where(at)}{msg}" for at, msg in problems)
    return f"{label} has {len(problems)} problems:\n{body}"


def load(
    name: str, overrides: Path | str | Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The built-in rule set ``name`` with a user's overrides, checked.

    ``overrides`` is what :func:`resolve` takes as ``user``: a path to a
    TOML file or a mapping (a whole file's worth, the overrides of this rule
    set, or a complete rule set used as it is — so tables can be removed).
    ``load(name, x)`` is ``resolve((name,), x)[name]``.
    """
    return resolve((name,), overrides)[name]


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
