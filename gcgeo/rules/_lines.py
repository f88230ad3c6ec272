"""Where each key of a TOML file is written: key path → line number.

``tomllib`` keeps no positions, so a rules error could not say which line
is at fault.  This scanner reads the text once more and notes the line of
every table header (``[a.b]``, ``[[a.b]]``) and every key (``a.b = …``,
quoted keys such as ``"5min"`` or ``'isced:level'``, keys of one-line
inline tables ``{ k = … }``).  Paths are tuples of keys as ``tomllib``
returns them; an entry of an array of tables is its 0-based position, e.g.
``("osm_tags", "facilities", "rules", 2, "category")``.  The file has
already been parsed by ``tomllib``, so the scanner may assume valid TOML
and never raises.
"""

from __future__ import annotations

import json
import re

__all__ = ["key_lines", "line_of"]

Path = tuple  # of str keys and int array positions

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SPACE = " \t"


def _skip_space(s: str, i: int) -> int:
    while i < len(s) and s[i] in _SPACE:
        i += 1
    return i


def _string_end(s: str, i: int) -> int:
    """Index just past the one-line string starting at ``s[i]`` (a quote)."""
    if s[i] == "'":
        j = s.find("'", i + 1)
        return len(s) if j < 0 else j + 1
    j = i + 1
    while j < len(s) and s[j] != '"':
        j += 2 if s[j] == "\\" else 1
    return min(j + 1, len(s))


def _parse_key(s: str, i: int) -> tuple[tuple[str, ...] | None, int]:
    """A (dotted, maybe quoted) key starting at ``s[i]``: its parts and the index after it."""
    parts: list[str] = []
    while True:
        i = _skip_space(s, i)
        if i >= len(s):
            return None, i
        if s[i] in "\"'":
            end = _string_end(s, i)
            raw = s[i:end]
            if s[i] == '"':
                try:
                    part = json.loads(raw)
                except ValueError:
                    part = raw[1:-1]
            else:
                part = raw[1:-1]
            i = end
        else:
            m = _BARE.match(s, i)
            if not m:
                return None, i
            part, i = m.group(), m.end()
        parts.append(part)
        i = _skip_space(s, i)
        if i < len(s) and s[i] == ".":
            i += 1
            continue
        return tuple(parts), i


def _scan(s: str, i: int, depth: int, ml: str | None) -> tuple[int, str | None]:
    """Follow brackets and strings from ``s[i]`` to the end of the line.

    Returns the bracket depth and the open multi-line string delimiter (or
    None) at the end of the line, so that lines inside a multi-line array or
    string are not taken for keys.
    """
    n = len(s)
    while i < n:
        if ml:
            j = s.find(ml, i)
            if j < 0:
                return depth, ml
            i, ml = j + 3, None
            continue
        c = s[i]
        if c == "#":
            break
        if s.startswith('"""', i) or s.startswith("'''", i):
            ml, i = s[i:i + 3], i + 3
        elif c in "\"'":
            i = _string_end(s, i)
        else:
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
            i += 1
    return depth, ml


def _skip_item(s: str, i: int) -> int:
    """Index of the ``,`` or ``}`` that ends the inline-table value starting at ``s[i]``."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "\"'":
            i = _string_end(s, i)
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            if depth == 0:
                return i
            depth -= 1
        elif c == "," and depth == 0:
            return i
        i += 1
    return i


def _record(out: dict[Path, int], path: Path, line: int) -> None:
    for k in range(1, len(path) + 1):
        out.setdefault(path[:k], line)


def _inline(s: str, i: int, path: Path, line: int, out: dict[Path, int]) -> int:
    """Note the keys of the inline table opening at ``s[i]``; the index after it."""
    i += 1
    while i < len(s):
        while i < len(s) and s[i] in _SPACE + ",":
            i += 1
        if i >= len(s) or s[i] == "}":
            return i + 1
        key, i = _parse_key(s, i)
        if key is None or i >= len(s) or s[i] != "=":
            return len(s)
        full = path + key
        _record(out, full, line)
        i = _skip_space(s, i + 1)
        if i < len(s) and s[i] == "{":
            i = _inline(s, i, full, line, out)
        else:
            i = _skip_item(s, i)
    return i


def key_lines(text: str) -> dict[Path, int]:
    """Every table and key path of a TOML text → the 1-based line it is first written on."""
    out: dict[Path, int] = {}
    arrays: dict[Path, int] = {}  # array-of-tables path → position of its last entry
    table: Path = ()
    depth, ml = 0, None

    def expand(parts: tuple[str, ...]) -> Path:
        # a header below an array of tables refers to its last entry
        full: list = []
        for p in parts:
            full.append(p)
            if tuple(full) in arrays:
                full.append(arrays[tuple(full)])
        return tuple(full)

    for n, s in enumerate(text.splitlines(), 1):
        if ml or depth > 0:
            depth, ml = _scan(s, 0, depth, ml)
            continue
        i = _skip_space(s, 0)
        if i >= len(s) or s[i] == "#":
            continue
        if s[i] == "[":
            double = s.startswith("[[", i)
            parts, _ = _parse_key(s, i + (2 if double else 1))
            if not parts:
                continue
            if double:
                head = expand(parts[:-1]) + (parts[-1],)
                arrays[head] = arrays.get(head, -1) + 1
                table = head + (arrays[head],)
            else:
                table = expand(parts)
            _record(out, table, n)
            continue
        key, i = _parse_key(s, i)
        if key is None or i >= len(s) or s[i] != "=":
            continue
        full = table + key
        _record(out, full, n)
        i = _skip_space(s, i + 1)
        if i < len(s) and s[i] == "{":
            i = _inline(s, i, full, n, out)
        depth, ml = _scan(s, i, 0, None)
    return out


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of the nearest enclosing table written in the file."""
    for k in range(len(path), 0, -1):
        if path[:k] in lines:
            return lines[path[:k]]
    return None
