"""The analysis contract: what an analysis declares about itself, once.

Every analysis module ends with one :class:`Analysis` descriptor, named
``ANALYSIS``, and is listed in :data:`gcgeo.analysis.REGISTRY`.  Everything
else is generated from the descriptors: the ``gcgeo analyze NAME`` commands
and their options, ``gcgeo rules``, the report's sections, the map's views,
the labels of output layers and columns, staleness, and (later) the
scorecard's measured criteria.

A descriptor names things; it never reads files.  Map views and layer styles
are named by ``"module:function"`` so that declaring a view does not import
folium: the map code resolves them when it draws.

>>> opt = Option("spacing", "float", "metres between stations", min=0, min_exclusive=True)
>>> opt.flag
'--spacing'
>>> opt.check(2.5)
2.5
>>> opt.check(0)
Traceback (most recent call last):
...
gcgeo._errors.InputError: --spacing 0 must be greater than 0 (metres between stations).
"""

from __future__ import annotations

import datetime
import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import InputError

__all__ = [
    "GRAPH_OPTION",
    "NETWORK_OPTIONS",
    "Analysis",
    "Criterion",
    "Option",
    "Output",
    "RasterInput",
    "ViewSpec",
    "resolve",
]

#: option types: how the command line reads the value
OPTION_TYPES = ("float", "int", "bool", "choice", "path", "file", "date")


def resolve(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """The object named ``"package.module:attribute"`` (imported now), or ``ref`` itself."""
    if callable(ref):
        return ref
    mod, _, attr = str(ref).partition(":")
    return getattr(importlib.import_module(mod), attr)


@dataclass(frozen=True)
class Option:
    """One keyword option of an analysis's ``run`` (and ``--flag`` of ``gcgeo analyze``).

    ``default`` None means the analysis's rule applies (``rule`` names it,
    e.g. ``"network.join_tolerance"``).  ``min`` / ``max`` bound numbers
    (``min_exclusive`` makes ``min`` a strict bound); infinite and NaN
    numbers are always refused.  ``type`` is one of ``float``, ``int``,
    ``bool`` (an on/off pair, None meaning "decide from the data or the
    rules"), ``choice`` (one of ``choices``), ``path`` (a file that may be
    created), ``file`` (an existing file) or ``date`` (a day, written
    ``YYYY-MM-DD`` on the command line; a :class:`datetime.date`, a datetime
    or that text in Python, always handed to the analysis as a date).
    """

    name: str
    type: str
    help_en: str
    help_zh: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()
    rule: str | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False

    def __post_init__(self) -> None:
        if self.type not in OPTION_TYPES:
            raise ValueError(f"option {self.name}: type must be one of {OPTION_TYPES}, not {self.type!r}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"option {self.name}: a choice needs its choices")

    @property
    def flag(self) -> str:
        """The command-line spelling, ``--walking-speed`` for ``walking_speed``."""
        return "--" + self.name.replace("_", "-")

    def help(self, lang: str = "en") -> str:
        return self.help_zh if lang == "zh" and self.help_zh else self.help_en

    def check(self, value: Any) -> Any:
        """``value`` if it suits this option, else an :class:`InputError` naming the flag."""
        if value is None:
            return None
        if self.type in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                try:
                    value = float(value) if self.type == "float" else int(value)
                except (TypeError, ValueError):
                    raise InputError(f"{self.flag} {value!r} is not a number ({self.help_en}).") from None
            if not math.isfinite(value):
                raise InputError(f"{self.flag} {value} is not a finite number ({self.help_en}).")
            if self.min is not None and (value < self.min or (self.min_exclusive and value == self.min)):
                how = "greater than" if self.min_exclusive else "at least"
                raise InputError(f"{self.flag} {value:g} must be {how} {self.min:g} ({self.help_en}).")
            if self.max is not None and value > self.max:
                raise InputError(f"{self.flag} {value:g} must be at most {self.max:g} ({self.help_en}).")
        elif self.type == "choice" and value not in self.choices:
            raise InputError(f"{self.flag} {value!r} is not one of: {', '.join(self.choices)}.")
        elif self.type == "bool" and not isinstance(value, bool):
            raise InputError(f"{self.flag} must be true or false, not {value!r}.")
        elif self.type == "file" and isinstance(value, (str, Path)) and not Path(value).is_file():
            raise InputError(f"{self.flag} {value}: no such file; check the path.")
        elif self.type == "date":
            return _as_date(value, self)
        return value


def _as_date(value: Any, opt: Option) -> datetime.date:
    """``value`` (a date, a datetime or ``YYYY-MM-DD``) as a date, else an error naming the flag."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{opt.flag} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2021-03-05 "
                     f"({opt.help_en}).")


@dataclass(frozen=True)
class Output:
    """One layer an analysis writes to the workspace.

    ``geometry`` False marks a plain table.  ``style`` names the map style
    function (``"module:function"``) drawing it; ``columns`` labels the
    columns this output adds: name → (zh, en, format), formats as in
    :mod:`gcgeo.labels`.  ``report_table`` shows the whole layer as a table
    in the analysis's report section.  ``when_empty`` says why the layer may
    have no rows and how to get some (the command line says it then).
    ``geometry_type`` is the type each row's geometry has ("Point",
    "MultiPolygon"…, as GDAL names it) where the analysis fixes it: a layer
    left without rows is stored, and exported, as a layer of that type (not
    GDAL's "Unknown", which QGIS shows without a style and a Shapefile export
    would have to guess).  None where the rows take their inputs' geometries,
    which may mix.
    """

    name: str
    label_zh: str
    label_en: str
    geometry: bool = True
    style: str | None = None
    report_table: bool = False
    columns: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    when_empty: str = ""
    geometry_type: str | None = None

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class Criterion:
    """A criterion of the 16 (Shandong standard) that an analysis measures.

    ``layer`` and ``column`` name where the per-community evidence is kept
    (``column`` None when the analysis gives figures but no pass/fail of its
    own); ``how_en`` / ``how_zh`` say in a sentence what is measured.

    An analysis measuring only part of the criterion says what it leaves out
    in ``unmeasured_en`` / ``unmeasured_zh`` (both, or neither) and may name
    the part it measures in ``part_en`` / ``part_zh`` (by default the
    analysis's label).  Such partial evidence can fail the criterion but
    never passes it alone: the scorecard counts a measured pass of a part as
    met only together with an attestation of the criterion
    (:func:`gcgeo.score.scorecard.decide`).

    >>> c = Criterion(5, "garbage_communities", "sorting_coverage_status", "sorting points",
    ...               part_en="waste-sorting coverage", part_zh="垃圾分类覆盖",
    ...               unmeasured_en="road treatment", unmeasured_zh="道路综合治理")
    >>> c.partial, c.part("zh"), c.unmeasured("en")
    (True, '垃圾分类覆盖', 'road treatment')
    >>> Criterion(5, "l", "c", "x", unmeasured_en="roads")
    Traceback (most recent call last):
    ...
    ValueError: criterion 5 (layer l): say what is not measured in both unmeasured_en and unmeasured_zh
    """

    number: int
    layer: str
    column: str | None
    how_en: str
    how_zh: str = ""
    part_en: str = ""
    part_zh: str = ""
    unmeasured_en: str = ""
    unmeasured_zh: str = ""

    def __post_init__(self) -> None:
        if bool(self.unmeasured_en.strip()) != bool(self.unmeasured_zh.strip()):
            raise ValueError(f"criterion {self.number} (layer {self.layer}): say what is not measured in "
                             "both unmeasured_en and unmeasured_zh")
        if (self.part_en or self.part_zh) and not self.partial:
            raise ValueError(f"criterion {self.number} (layer {self.layer}): part_en / part_zh name the "
                             "measured part of a partial criterion; say what is not measured "
                             "(unmeasured_en / unmeasured_zh)")

    @property
    def partial(self) -> bool:
        """Whether the analysis measures only part of the criterion."""
        return bool(self.unmeasured_en.strip())

    def part(self, lang: str = "en") -> str:
        """The measured part's name ('' when not given: the analysis's label stands for it)."""
        return (self.part_zh or self.part_en) if lang == "zh" else (self.part_en or self.part_zh)

    def unmeasured(self, lang: str = "en") -> str:
        """What of the criterion the analysis does not measure ('' when it measures all of it)."""
        return self.unmeasured_zh if lang == "zh" else self.unmeasured_en


@dataclass(frozen=True)
class ViewSpec:
    """A map view (one group of the layer control, one PNG figure).

    ``build`` names the function ``(layers, lang) -> list[Styled]``;
    ``requires`` the layers of which at least one must be drawable (by
    default the analysis's outputs with geometry).  Name and labels default
    to the analysis's own.
    """

    build: str
    description: str = ""
    name: str | None = None
    label_zh: str | None = None
    label_en: str | None = None
    requires: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RasterInput:
    """A raster the analysis can take from the workspace (``gcgeo add WS raster FILE``).

    When option ``option`` is not given, the workspace's raster ``name`` is
    used and its stored band numbers fill the options named in ``bands``.
    A change to that file makes the results stale.
    """

    option: str = "raster"
    name: str = "raster"
    bands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analysis:
    """What an analysis is: declared once, at the end of its module.

    ``run(layers, *, rules, progress, **options)`` returns the output layers
    by name; ``summary(outputs)`` one row per community;
    ``headlines(outputs, lang)`` the report's (label, value) pairs (the
    function or its ``"package.module:name"``, imported when the report needs it).
    ``requires`` are the layer kinds it cannot do without, ``optional`` those
    it uses when present.  ``rule_sets`` are the built-in rule sets it reads
    (a change to one makes its results stale).
    """

    name: str
    label_zh: str
    label_en: str
    run: Callable[..., dict[str, Any]]
    summary: Callable[[Mapping[str, Any]], Any]
    requires: tuple[str, ...]
    outputs: tuple[Output, ...]
    rule_sets: tuple[str, ...]
    optional: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    headlines: str | Callable[[Mapping[str, Any], str], list[tuple[str, str]]] | None = None
    views: tuple[ViewSpec, ...] = ()
    rasters: tuple[RasterInput, ...] = ()
    description_en: str = ""
    description_zh: str = ""

    def __post_init__(self) -> None:
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"analysis {self.name}: an option is declared twice")

    @property
    def command(self) -> str:
        """The name as typed after ``gcgeo analyze WS`` (the same as everywhere else)."""
        return self.name

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every layer kind the analysis reads, required first."""
        return self.requires + tuple(k for k in self.optional if k not in self.requires)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def option(self, name: str) -> Option:
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(name)

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options left as None dropped; the rest checked against their declarations."""
        known = {o.name: o for o in self.options}
        wrong = [k for k in options if k not in known]
        if wrong:
            flags = ", ".join("--" + k.replace("_", "-") for k in wrong)
            have = ", ".join(o.flag for o in self.options) or "none"
            raise InputError(f"option(s) {flags} do not apply to the '{self.name}' analysis "
                             f"(its options: {have}); leave them out.")
        return {k: known[k].check(v) for k, v in options.items() if v is not None}


#: A network in place of the streets layer.  An analysis declaring it is handed the network
#: of the workspace's streets by :func:`gcgeo.pipeline.run_analysis`, built once and kept
#: beside the workspace while the streets and the network rules are unchanged.
GRAPH_OPTION = Option("graph", "file", "walk on this GraphML network (e.g. saved by OSMnx) instead of "
                      "the streets layer", "使用此GraphML路网（如OSMnx保存）代替道路图层")

#: The options of every analysis that walks the street network (the rules ``network.*``).
NETWORK_OPTIONS: tuple[Option, ...] = (
    Option("join_tolerance", "float", "metres within which street ends that miss each other "
           "are joined (0 joins only meeting ends)", "相距不超过此距离（米）的道路端点视为连通",
           rule="network.join_tolerance", min=0),
    Option("split_crossings", "bool", "join streets where their lines cross, for CAD centre "
           "lines drawn through junctions (default off, so bridges stay bridges)",
           "在道路线相交处连通（适用于穿越路口绘制的CAD中心线；默认不连通，桥梁保持立交）",
           rule="network.split_crossings"),
)
