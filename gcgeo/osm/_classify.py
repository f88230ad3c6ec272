"""Turn one OSM element's tags into the layer records it belongs to.

Pure functions of the tags and the compiled tables; geometry is made
elsewhere.  Each function returns the attribute dict of the record, or None
when the element does not belong to that layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _values as V
from ._tables import Tables, first_match, tag_label


def _first_value(tags: Mapping[str, str], keys: list[str] | tuple[str, ...], parse) -> Any:
    for key in keys:
        if key in tags:
            v = parse(tags[key])
            if v is not None:
                return v
    return None


def _first_text(tags: Mapping[str, str], keys) -> str | None:
    for key in keys:
        v = tags.get(key)
        if v is not None and v.strip():
            return v.strip()
    return None


# ---------------------------------------------------------------- streets
def walkable(tags: Mapping[str, str], t: Tables) -> bool:
    """Is this highway way part of the walking network? (rules: [streets])."""
    s = t.section("streets")
    hw = tags.get("highway")
    if hw is None or hw in s.get("never", ()):
        return False
    if s.get("skip_area_yes", True) and tags.get("area") == "yes":
        return False
    foot = tags.get("foot")
    if foot in s.get("closed_foot", ()):
        return False
    foot_ok = foot in s.get("foot_access", ())
    if tags.get("access") in s.get("closed_access", ()) and not foot_ok:
        return False
    if hw in s.get("walk", ()):
        return True
    if hw in s.get("needs_foot_tag", ()):
        if foot_ok:
            return True
        side = s.get("sidewalk_values", ())
        return any(tags.get(k) in side for k in
                   ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"))
    return False


# ---------------------------------------------------------------- buildings
def building(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    s = t.section("buildings")
    value = tags.get("building")
    if value is None or value in s.get("skip", ()):
        return None
    uses: Mapping[str, list[str]] = s.get("use", {})
    lookup = {v: use for use, values in uses.items() for v in values}
    use = None
    for key in [*s.get("use_keys", ()), "building"]:
        v = tags.get(key)
        if v is not None and v in lookup:
            use = lookup[v]
            break
    res_uses = s.get("residential_uses", ["residential"])
    residential = None if use is None else use in res_uses
    return {
        "use": use,
        "residential": residential,
        "residential_source": None if residential is None else "tag",
        "floors": _first_value(tags, s.get("floors_keys", ("building:levels",)), V.floors),
        "height_m": _first_value(tags, s.get("height_keys", ("height",)), V.length_m),
        "osm_tag": f"building={value}",
    }


# ---------------------------------------------------------------- green space
def green_space(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    rule = first_match(t.green_space, tags)
    if rule is None:
        return None
    public = rule.out.get("public")
    private = t.section("green_space").get("private_access", {})
    if any(tags.get(k) in vals for k, vals in private.items()):
        public = False
    return {"kind": rule.out["kind"], "public": public, "osm_tag": tag_label(rule, tags)}


# ---------------------------------------------------------------- parking
def parking(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    rule = first_match(t.parking, tags)
    if rule is None:
        return None
    s = t.section("parking")
    kind = rule.out.get("kind")
    if kind is None:
        key = rule.out["kind_from"]
        value = tags.get(key)
        kind = s.get("default_kind", "other") if value is None else s.get(
            "parking_kind", {}).get(value, "other")
    return {
        "kind": kind,
        "capacity": _first_value(tags, s.get("capacity_keys", ("capacity",)), V.count),
        "ev_ready": _first_value(tags, s.get("ev_ready_keys", ()), V.count),
        "osm_tag": tag_label(rule, tags),
    }


# ---------------------------------------------------------------- chargers
def _socket_types(tags: Mapping[str, str]) -> dict[str, str]:
    """socket:<type> → value, for keys with exactly one colon."""
    return {k[7:]: v for k, v in tags.items() if k.startswith("socket:") and k.count(":") == 1}


def charger(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    if first_match(t.chargers_select, tags) is None:
        return None
    s = t.section("chargers")
    yes = set(s.get("yes_values", ("yes", "designated")))
    sockets = _socket_types(tags)

    def has_socket(types) -> bool:
        return any(typ in sockets and sockets[typ] != "no" and sockets[typ] != "0"
                   for typ in types)

    car = any(tags.get(k) in yes for k in s.get("car_tags", ())) or has_socket(
        s.get("car_sockets", ()))
    ebike = any(tags.get(k) in yes for k in s.get("ebike_tags", ())) or has_socket(
        s.get("ebike_sockets", ()))
    kind = "e-bike" if ebike and not car else ("car" if car else s.get("default_kind", "car"))
    counts = [V.count(v) for v in sockets.values()]
    n_sockets = sum(c for c in counts if c is not None) if any(
        c is not None for c in counts) else V.count(tags.get("capacity"))
    outputs = [V.power_kw(v) for k, v in tags.items()
               if k.startswith("socket:") and k.endswith(":output")]
    outputs += [V.power_kw(tags.get(k)) for k in s.get("output_keys", ())]
    known = [o for o in outputs if o is not None]
    return {
        "kind": kind,
        "sockets": n_sockets,
        "power_kw": max(known) if known else None,
        "operator": _first_text(tags, s.get("operator_keys", ("operator",))),
        "osm_tag": "amenity=charging_station" if "amenity" in tags else tag_label(
            t.chargers_select[0], tags),
    }


# ---------------------------------------------------------------- manholes
def manhole(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    value = tags.get("manhole")
    if tags.get("man_made") != "manhole" and value is None:
        return None
    s = t.section("manholes")
    kinds: Mapping[str, str] = s.get("kind", {})
    if value is None:
        kind = "unknown"
    else:
        kind = kinds.get(value.strip().lower(), "other")
    return {
        "kind": kind,
        "manager": _first_text(tags, s.get("manager_keys", ("operator",))),
        "owner": _first_text(tags, s.get("owner_keys", ())),
        "contact": _first_text(tags, s.get("contact_keys", ())),
        "code": _first_text(tags, s.get("code_keys", ())),
        "osm_tag": f"manhole={value}" if value is not None else "man_made=manhole",
    }


# ---------------------------------------------------------------- ramps
def ramp(tags: Mapping[str, str], t: Tables, *, is_node: bool) -> dict[str, Any] | None:
    s = t.section("ramps")
    kind = None
    label = None
    kerb = tags.get("kerb")
    if is_node and kerb in s.get("kerb_kind", {}):
        kind, label = s["kerb_kind"][kerb], f"kerb={kerb}"
    if kind is None:
        for key in s.get("ramp_tags", ()):
            if tags.get(key) in s.get("ramp_values", ("yes",)):
                kind, label = s.get("ramp_kind", "other"), f"{key}={tags[key]}"
                break
    if kind is None and is_node and first_match(t.ramp_crossing, tags) is not None:
        kind, label = "crossing", tag_label(t.ramp_crossing[0], tags)
    if kind is None:
        return None
    wheel = s.get("wheelchair", {}).get(tags.get("wheelchair", ""))
    return {
        "kind": kind,
        "slope": _first_value(tags, s.get("slope_keys", ("incline",)), V.slope),
        "width_m": _first_value(tags, s.get("width_keys", ("width",)), V.length_m),
        "lip_mm": _first_value(tags, s.get("lip_keys", ("kerb:height",)), V.lip_mm),
        "wheelchair": wheel,
        "osm_tag": label,
    }


# ---------------------------------------------------------------- fire lanes
def fire_lane(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    rule = first_match(t.fire_lanes, tags)
    if rule is None:
        return None
    vals = t.section("fire_lanes").get("values", {})
    return {
        "kind": rule.out["kind"],
        "width_m": _first_value(tags, vals.get("width_keys", ("width",)), V.length_m),
        "clear_height_m": _first_value(tags, vals.get("clear_height_keys", ("maxheight",)),
                                       V.length_m),
        "osm_tag": tag_label(rule, tags),
    }


# ---------------------------------------------------------------- facilities, garbage, heritage
def facility(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    rule = first_match(t.facilities, tags)
    if rule is None:
        return None
    return {"category": rule.out["category"], "subtype": tag_label(rule, tags)}


def garbage_point(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    rule = first_match(t.garbage_points, tags)
    if rule is None:
        return None
    return {"kind": rule.out["kind"], "osm_tag": tag_label(rule, tags)}


def heritage(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    rule = first_match(t.heritage, tags)
    if rule is None:
        return None
    keys = t.section("heritage").get("grade_keys", ("heritage",))
    out = {"kind": rule.out["kind"], "grade": _first_text(tags, keys), "osm_tag": tag_label(rule, tags)}
    if rule.out["kind"] == "old_tree":  # its zone is the crown plus a margin
        out["crown_diameter_m"] = V.length_m(tags.get("diameter_crown"))
    return out


# ---------------------------------------------------------------- communities
#: Tags that name a place, in the order a community takes its name from them.
NAME_KEYS = ("name", "name:zh", "official_name", "alt_name", "loc_name", "short_name", "name:en")


def community(tags: Mapping[str, str], t: Tables) -> dict[str, Any] | None:
    """A community polygon's level, source, population and name: its first name tag of
    :data:`NAME_KEYS`, else its ``addr:street`` kept as ``street`` (the import names
    a community from its street when no tag names it)."""
    for level, rule in enumerate(t.community_levels):
        if rule.matches(tags):
            return {"level": level, "source": rule.out["source"],
                    "population": V.count(tags.get("population")),
                    "osm_tag": tag_label(rule, tags), "name": _first_text(tags, NAME_KEYS),
                    "street": _first_text(tags, ("addr:street",))}
    return None
