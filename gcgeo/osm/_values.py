"""Parse OSM tag values (lengths, slopes, counts, power) into numbers.

Every parser returns ``None`` for a value it cannot read, never raises:
OSM values are free text and a planner would rather see an empty cell than
a failed import.
"""

from __future__ import annotations

import math
import re

_NUM = r"[-+]?\d+(?:[.,]\d+)?"
_LENGTH_RE = re.compile(rf"^\s*({_NUM})\s*(m|meters?|metres?|cm|mm|km|ft|feet|')?\s*$", re.I)
_FEET_INCH_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*'\s*(\d+(?:\.\d+)?)\s*\"\s*$")
_INCH_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(\"|in|inch|inches)\s*$", re.I)
_INT_RE = re.compile(r"^\s*\+?(\d+)\s*$")
_PERCENT_RE = re.compile(rf"^\s*({_NUM})\s*%\s*$")
_RATIO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
_DEGREE_RE = re.compile(rf"^\s*({_NUM})\s*(°|deg|degrees?)\s*$", re.I)
_PLAIN_RE = re.compile(rf"^\s*({_NUM})\s*$")
_POWER_RE = re.compile(rf"({_NUM})\s*(kw|kva|w|mw)?", re.I)

_UNIT_M = {None: 1.0, "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
           "cm": 0.01, "mm": 0.001, "km": 1000.0, "ft": 0.3048, "feet": 0.3048, "'": 0.3048}


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def _first(value: str | None) -> str | None:
    """The first of several ';'-separated values, stripped; None for empty."""
    if value is None:
        return None
    text = str(value).split(";")[0].strip()
    return text or None


def length_m(value: str | None) -> float | None:
    """A length in metres: ``"1.5"``, ``"1.5 m"``, ``"150 cm"``, ``"5'6\\""`` → metres.

    Plain numbers are metres (the OSM default unit for width, height…).
    """
    text = _first(value)
    if text is None:
        return None
    m = _LENGTH_RE.match(text)
    if m:
        unit = m.group(2).lower() if m.group(2) else None
        out = _num(m.group(1)) * _UNIT_M[unit]
        return out if out >= 0 else None
    m = _FEET_INCH_RE.match(text)
    if m:
        return float(m.group(1)) * 0.3048 + float(m.group(2)) * 0.0254
    m = _INCH_RE.match(text)
    if m:
        return float(m.group(1)) * 0.0254
    return None


def lip_mm(value: str | None) -> float | None:
    """A kerb height in millimetres (``kerb:height=0.02`` or ``"2 cm"`` → 20)."""
    metres = length_m(value)
    return None if metres is None else round(metres * 1000.0, 3)


def slope(value: str | None) -> float | None:
    """A slope as rise/run: ``"5%"`` → 0.05, ``"1:12"`` → 0.0833, ``"3°"`` → 0.0524.

    The sign (up or down the way) is dropped; ``"up"``/``"down"`` give None.
    A plain number is read as percent (OSM wiki: incline is given in %).
    Slopes steeper than 1:1 are not plausible for a ramp and give None.
    """
    text = _first(value)
    if text is None:
        return None
    out: float | None = None
    m = _PERCENT_RE.match(text) or _PLAIN_RE.match(text)
    if m:
        out = abs(_num(m.group(1))) / 100.0
    elif (m := _RATIO_RE.match(text)) is not None:
        rise, run = float(m.group(1)), float(m.group(2))
        out = rise / run if run > 0 else None
    elif (m := _DEGREE_RE.match(text)) is not None:
        deg = abs(_num(m.group(1)))
        out = math.tan(math.radians(deg)) if deg < 90 else None
    if out is None or out > 1.0:
        return None
    return out


def count(value: str | None) -> int | None:
    """A whole count (capacity, sockets): ``"20"`` → 20; ``"ca. 20"``, ``"10-20"`` → None."""
    if value is None:
        return None
    m = _INT_RE.match(str(value))
    return int(m.group(1)) if m else None


def floors(value: str | None) -> int | None:
    """Number of floors from ``building:levels``: the highest number given,
    rounded up (``"2.5"`` → 3: a half level is a level someone stands on)."""
    if value is None:
        return None
    nums = [abs(_num(x)) for x in re.findall(_NUM, str(value))]
    if not nums:
        return None
    top = max(nums)
    return int(math.ceil(top)) if top < 1000 else None


def power_kw(value: str | None) -> float | None:
    """Charging power in kW: the highest of ``"22 kW"``, ``"3.7kW;11kW"``, ``"22000 W"``.

    A number without unit is read as kW unless above 1000 (then it is watts).
    """
    if value is None:
        return None
    best: float | None = None
    for num, unit in _POWER_RE.findall(str(value)):
        v = _num(num)
        u = unit.lower()
        if u == "w" or (not u and v > 1000):
            v /= 1000.0
        elif u == "mw":
            v *= 1000.0
        if v >= 0 and (best is None or v > best):
            best = v
    return best
