"""Every colour gcgeo's maps draw with, each meaning one thing in any map.

A map shows many views at once (inventory, living circle, green, fire lanes,
the inventory checks, scorecard, planning), so colours are allocated here once
for all of them rather than per layer: a status, a severity, a living-circle
tier, a facility category, a kind of each inventory layer and each class of a
quantity has its own colour, and the same meaning keeps its colour wherever
it appears (a facility category in the facilities, the supply check and the
sites chosen; a tier for the homes and the isochrones; a share of residents
within reach, whichever tier or service, in one ramp). The allocation is fixed
rather than made per map, so the QGIS styles of a layer
(:mod:`gcgeo.maps.qgis_styles`) draw it as every map does.

Statuses keep their conventional colours (met green, not met red, unknown
grey); nothing else uses them. :func:`meanings` lists every colour with what
it means, and a test checks no colour is listed twice. Colours differing in
hex can still look alike, so any two of different meaning that one view
draws differ by a CIEDE2000 colour difference of at least 10 (the classes
of one ramp aside, graded by design; tests/test_map_colours.py measures it
in every view).

>>> STATUS["pass"], STATUS["fail"]
('#1a9850', '#d73027')
>>> kind_color("facilities", "category", "kindergarten") != STATUS["pass"]
True
>>> STATUS_TINT["pass"], STATUS_TINT["fail"], STATUS_TINT["unknown"]
('#c6e5d3', '#f5cbc9', '#efefef')
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

__all__ = ["COMMUNITIES", "FACILITY_CATEGORIES", "FINDING", "FIRE_LANES", "GAPS", "GAPS_UNCOUNTED", "GENERIC",
           "GREEN_ORIGINS", "GREEN_PER_PERSON", "GREEN_RATIO", "GREEN_SITES", "HOMES", "KINDS", "LANE_WIDTH",
           "LANE_WIDTH_OK", "NDVI", "NOT_SERVED", "NO_DATA", "NO_LANES", "N_FINDINGS", "OTHER", "RESIDENTIAL",
           "SCORE", "SEVERITY", "SHARE_OF_RESIDENTS", "STATUS", "STATUS_TINT", "STREETS", "TIERS", "TIER_MINUTES",
           "VEG_FRACTION", "WHATIF_CHANGE", "ENTRANCES", "generic_color", "kind_color", "meanings", "ramp",
           "severity_level", "tier_color"]

# --- statuses and what the data do not tell -------------------------------------------------


def _tint(colour: str, white: float = 0.75) -> str:
    """``colour`` (``#rrggbb``) mixed with ``white`` parts of white."""
    rgb = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{int(v + white * (255 - v) + 0.5):02x}" for v in rgb)


#: A rule met, not met, or not decided (the data do not tell: the same grey as "no data").
STATUS = {"pass": "#1a9850", "fail": "#d73027", "unknown": "#bdbdbd"}
#: A table cell's background by status (the report's and the dossier's criteria tables): a
#: light tint of the status's colour, dark text readable on it.
STATUS_TINT = {k: _tint(c) for k, c in STATUS.items()}
#: A value the data lack (a class map's missing values).
NO_DATA = STATUS["unknown"]
#: Any value a legend does not name (a kind "other", values outside the known ones).
OTHER = "#9e9e9e"
#: Criterion 8 for a community without fire lanes (nothing to judge).
NO_LANES = "#e7e1ef"

#: Findings by severity (the synonyms a rule may use are folded, see :func:`severity_level`), in
#: ColorBrewer's red-purple, apart from the red of a community not meeting the rule beside them.
SEVERITY = {"critical": "#7a0177", "high": "#c51b8a", "medium": "#f768a1", "low": "#fbb4b9", "info": "#4575b4"}
#: A finding whose severity is not told.
FINDING = "#6c24ae"
_SEVERITY_SYNONYMS = {"error": "high", "fail": "high", "warning": "medium", "advisory": "low"}

# --- the living circle ------------------------------------------------------------------------

#: Living-circle tiers by walking minutes up to ``TIER_MINUTES`` (homes by the smallest tier
#: serving them, isochrones): 5, 10, 15 minutes, up to 25, beyond.
TIERS = ("#023858", "#2171b5", "#6baed6", "#9ecae1", "#c6dbef")
TIER_MINUTES = (5.0, 10.0, 15.0, 25.0)
#: A home no tier serves.
NOT_SERVED = "#e7298a"
#: Homes of a layer without tier flags (stored by an older gcgeo, or a planner's own): a muted
#: dark taupe, apart from the tiers' blues and every colour drawn beside them.
HOMES = "#585040"
#: Classes of a share of residents (served at a tier, within reach of green or a park): < 20 % … ≥ 80 %.
SHARE_OF_RESIDENTS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
#: Homes lacking 1, 2, 3–4, 5 or more facility types, in ColorBrewer's reds: apart from the tiers'
#: blues, the shares' purples and the facility categories drawn beside them.
GAPS = ("#fcbba1", "#fb6a4a", "#cb181d", "#67000d")
#: Homes with gaps of a gaps layer that does not count them (one of an older gcgeo, or a planner's
#: own): a muted mauve, apart from the counts' reds and every colour drawn beside them.
GAPS_UNCOUNTED = "#9a7080"
#: A what-if's change in the share served: fewer, no change, up by < 10 points, by ≥ 10 points.
WHATIF_CHANGE = ("#c51b7d", "#f7f7f7", "#b8e186", "#4d9221")
#: The scorecard: meets the standard, 1–2, 3–5, 6 or more criteria short.
SCORE = ("#004529", "#a6d96a", "#fee08b", "#a50026")

# --- green ----------------------------------------------------------------------------------------

#: Green ratio classes (share of a community's area that is green).
GREEN_RATIO = ("#edf8e9", "#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c")
#: Public green per person classes (m² per person).
GREEN_PER_PERSON = ("#ffffcc", "#d9f0a3", "#addd8e", "#78c679", "#41ab5d", "#238443", "#005a32")
#: Mean NDVI classes.
NDVI = ("#edf8fb", "#ccece6", "#99d8c9", "#66c2a4", "#2ca25f")
#: Vegetated share of the area.
VEG_FRACTION = ("#f6eff7", "#d0d1e6", "#a6bddb", "#67a9cf", "#1c9099", "#016c59")
#: Green sites counting as a park, and as green only: an olive and a mint, apart from the greens of
#: the ratio and per-person classes drawn under them.
GREEN_SITES = {"park": "#30540c", "green": "#aefce4"}
#: Homes within reach of green and a park, green only, a park only, neither.
GREEN_ORIGINS = ("#00666c", "#7ecccc", "#bf812d", "#8c2d04")
#: Park entrances.
ENTRANCES = "#003c30"

# --- fire lanes -----------------------------------------------------------------------------------

#: Fire lanes of the inventory, drawn in one colour (and a lane summary without clear widths): a
#: dark slate, apart from the red of a community not meeting the rule, the severities and the
#: obstructions drawn beside them.
FIRE_LANES = "#2f5f5a"
#: Clear-width classes below the required width, narrowest first; the lanes at least as wide.
LANE_WIDTH = ("#3f007d", "#6a51a3", "#807dba", "#bcbddc")
LANE_WIDTH_OK = "#4393c3"
#: Findings per community (without criterion 8).
N_FINDINGS = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")

# --- inventory layers drawn in one or two colours ------------------------------------------------

COMMUNITIES = "#6090fc"
#: Residential buildings (the others are "other").
RESIDENTIAL = "#e45400"
#: Walkable streets and those that are not.
STREETS = {"walkable": "#737373", "not_walkable": "#ff8aae"}
#: Colours of layers without a style of their own, chosen by the layer's name.
GENERIC = ("#3388ff", "#8dd3c7", "#bebada", "#80b1d3", "#b3de69", "#fccde5", "#bc80bd", "#ccebc5")

# --- kinds of the inventory layers ----------------------------------------------------------------

#: Facility categories, in every layer that holds one (facilities, supply, sites chosen): the
#: categorical tab20 colours, some moved off the ramps and kinds drawn beside them.
FACILITY_CATEGORIES = {
    "kindergarten": "#1e7896", "primary_school": "#a8c0f6", "middle_school": "#42426c", "health": "#ff9896",
    "pharmacy": "#a260c6", "supermarket": "#8c564b", "market": "#c49c94", "elderly_care": "#e377c2",
    "nursing_home": "#f7b6d2", "community_service": "#00d8ff", "small_sports_ground": "#a2e4ea",
    "outdoor_fitness": "#bcbd22", "sports": "#c6ea18", "park": "#637939", "culture_station": "#ffbb78",
    "culture_centre": "#e4c6fc", "bus_stop": "#ff7f0e", "other": OTHER,
}
#: (layer, column) → value → colour for the inventory's coded columns.
KINDS: dict[tuple[str, str], dict[str, str]] = {
    ("facilities", "category"): FACILITY_CATEGORIES,
    ("green_space", "kind"): {
        "park": "#00441b", "community_park": "#1b7837", "pocket_park": "#4eae60", "square": "#f6e8c3",
        "garden": "#7fbc41", "playground": "#f4a582", "attached": "#c6f68a", "grass": "#d9f0d3",
        "wood": "#306006", "scrub": "#a6dba0", "sports": "#35978f", "other": OTHER},
    ("parking", "kind"): {
        "surface": "#053061", "underground": "#3072b4", "multi-storey": "#92c5de", "street_side": "#664ea2",
        "space": "#b2abd2", "entrance": "#542788", "bicycle": "#d8daeb", "other": OTHER},
    ("chargers", "kind"): {"car": "#08519c", "e-bike": "#41b6c4"},
    ("manholes", "condition"): {
        "good": "#8ab490", "damaged": "#d28412", "missing": "#b4661e", "sunken": "#f6a812",
        "raised": "#ffe4d8", "loose": "#b4b484", "noisy": "#8073ac", "displaced": "#2d004b",
        "unknown": "#eaeae4"},
    ("ramps", "kind"): {"full_width": "#7b4173", "three_sided": "#a84e96", "flush": "#de42cc",
                        "crossing": "#f6a2f0", "other": OTHER},
    ("obstructions", "kind"): {
        "car": "#7e363c", "e-bike": "#b44254", "stall": "#605838", "bollard": "#c68490", "barrier": "#7f2704",
        "tree": "#6c0c12", "structure": "#ba6648", "gate": "#f67854", "overhead": "#c68a60", "other": OTHER},
    ("garbage_points", "kind"): {"sorting": "#8c6d31", "recycling": "#bd9e39", "hazardous": "#f0c64e",
                                 "kitchen": "#d8baa2", "residual": "#664e42", "other": OTHER},
    ("heritage", "kind"): {"old_tree": "#8c510a", "historic_building": "#543005", "monument": "#b49c72",
                           "archaeological_site": "#fff060", "other": OTHER},
}


def kind_color(layer: str, column: str, value: str) -> str:
    """The colour of ``value`` in ``layer``'s coded ``column`` (:data:`OTHER` for a value not listed)."""
    return KINDS.get((layer, column), {}).get(value, OTHER)


def tier_color(minutes: float) -> str:
    """The colour of a living-circle tier of ``minutes`` walking minutes (the last beyond 25)."""
    k = next((i for i, m in enumerate(TIER_MINUTES) if minutes <= m), len(TIER_MINUTES))
    return TIERS[k]


def severity_level(severity: str) -> str:
    """The severity a rule's word stands for ("error" is "high", "warning" "medium"…)."""
    s = str(severity).lower()
    return _SEVERITY_SYNONYMS.get(s, s)


def ramp(colors: Sequence[str], n: int) -> list[str]:
    """``n`` colours sampled evenly from a class ramp (its last when ``n`` is 1)."""
    if n <= 1:
        return [colors[-1]]
    return [colors[round(i * (len(colors) - 1) / (n - 1))] for i in range(n)]


def generic_color(key: str) -> str:
    """The colour of a layer without a style of its own, fixed by its name."""
    return GENERIC[zlib.crc32(key.encode("utf-8")) % len(GENERIC)]


def meanings() -> list[tuple[str, str]]:
    """Every colour with what it means, ``(colour, meaning)``; :data:`OTHER` once, as "other"."""
    out: list[tuple[str, str]] = [(c, f"status {k}") for k, c in STATUS.items()]
    out += [(OTHER, "other"), (NO_LANES, "criterion 8: no fire lanes")]
    out += [(c, f"severity {k}") for k, c in SEVERITY.items()] + [(FINDING, "finding")]
    out += [(c, f"tier {i + 1}") for i, c in enumerate(TIERS)] + [(NOT_SERVED, "home not served")]
    out += [(HOMES, "homes without tier flags"), (GAPS_UNCOUNTED, "homes with gaps, not counted")]
    for name, colors in (("share of residents", SHARE_OF_RESIDENTS), ("gaps", GAPS),
                         ("what-if change", WHATIF_CHANGE), ("scorecard", SCORE), ("green ratio", GREEN_RATIO),
                         ("green per person", GREEN_PER_PERSON), ("ndvi", NDVI), ("vegetated share", VEG_FRACTION),
                         ("green origins", GREEN_ORIGINS), ("lane width", LANE_WIDTH),
                         ("findings per community", N_FINDINGS), ("generic layer", GENERIC)):
        out += [(c, f"{name} class {i + 1}") for i, c in enumerate(colors)]
    out += [(c, f"green site {k}") for k, c in GREEN_SITES.items()]
    out += [(c, f"streets {k}") for k, c in STREETS.items()]
    out += [(ENTRANCES, "park entrances"), (FIRE_LANES, "fire lanes"), (LANE_WIDTH_OK, "lane wide enough"),
            (COMMUNITIES, "communities"), (RESIDENTIAL, "residential buildings")]
    for (layer, column), values in KINDS.items():
        out += [(c, f"{layer} {column} {v}") for v, c in values.items() if c != OTHER]
    return out
