"""OpenStreetMap import, checked against independent readers.

Raw counts come from a second reader (a plain pyosmium handler that only
collects tags, node ids and locations, or a regular expression over OSM XML)
and from the OSMnx reference outputs for central Helsinki; known answers for
tag parsing and city blocks come from small OSM XML files built here.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pytest
import shapely

import gcgeo
from gcgeo import layers, osm, rules
from gcgeo.osm import _values as V

DATA = Path(__file__).parent / "data"
HELSINKI = DATA / "osm" / "helsinki_center.osm.pbf"
KOTKA = DATA / "osm" / "kotka_karhula.osm.pbf"
LEEDS = DATA / "osm" / "leeds_parks.osm"
REF = DATA / "reference" / "osmnx_helsinki"
#: The area covered by helsinki_center.osm.pbf (its header bbox); the OSMnx
#: reference covers a larger area, so comparisons are made inside this box.
HELSINKI_BOX = (24.9351762, 60.1641550, 24.9534145, 60.1791130)


# ------------------------------------------------------------------ raw reader
class _Raw(osmium.SimpleHandler):
    """Everything tagged, as plain Python, from a second pass with its own logic."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[int, dict[str, str]] = {}
        self.ways: dict[int, dict[str, str]] = {}
        self.way_refs: dict[int, list[int]] = {}
        self.way_complete: dict[int, bool] = {}
        self.relations: dict[int, dict[str, str]] = {}
        self.loc: dict[int, tuple[float, float]] = {}

    def node(self, n) -> None:
        self.loc[n.id] = (n.location.lon, n.location.lat)
        if len(n.tags):
            self.nodes[n.id] = {t.k: t.v for t in n.tags}

    def way(self, w) -> None:
        if len(w.tags):
            self.ways[w.id] = {t.k: t.v for t in w.tags}
            self.way_refs[w.id] = [n.ref for n in w.nodes]
            self.way_complete[w.id] = all(n.location.valid() for n in w.nodes)

    def relation(self, r) -> None:
        if len(r.tags):
            self.relations[r.id] = {t.k: t.v for t in r.tags}

    def closed_complete(self, wid: int) -> bool:
        refs = self.way_refs[wid]
        return len(refs) >= 4 and refs[0] == refs[-1] and self.way_complete[wid]


def _raw(path: Path) -> _Raw:
    h = _Raw()
    h.apply_file(str(path), locations=True)
    return h


def _ids(frame: gpd.GeoDataFrame, mask=None) -> set[tuple[str, int]]:
    f = frame if mask is None else frame[mask]
    return set(zip(f["osm_type"], f["osm_id"].astype(int)))


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def helsinki() -> dict:
    stages: list[str] = []
    out = osm.read_osm(HELSINKI, progress=stages.append)
    return {"layers": out, "stages": stages}


@pytest.fixture(scope="module")
def hel(helsinki) -> dict[str, gpd.GeoDataFrame]:
    return helsinki["layers"]


@pytest.fixture(scope="module")
def hel_raw() -> _Raw:
    return _raw(HELSINKI)


@pytest.fixture(scope="module")
def kotka() -> dict[str, gpd.GeoDataFrame]:
    return osm.read_osm(KOTKA)


@pytest.fixture(scope="module")
def kotka_raw() -> _Raw:
    return _raw(KOTKA)


# ------------------------------------------------------------------ every layer
@pytest.mark.parametrize("which", ["helsinki", "kotka"])
def test_every_layer_validates_and_is_traceable(which, hel, kotka):
    out = hel if which == "helsinki" else kotka
    assert set(out) <= set(osm.LAYER_KINDS)
    for kind, frame in out.items():
        report = layers.validate(frame, kind)
        assert report.ok, f"{kind}: {report}"
        assert frame.crs.to_epsg() == 4326
        assert frame["id"].is_unique, kind
        osm_rows = frame["osm_type"].notna()
        if kind != "communities":
            assert osm_rows.all(), kind
        # the id names the OSM element: w123 or w123-2 for way 123
        for typ, oid, fid in zip(frame.loc[osm_rows, "osm_type"], frame.loc[osm_rows, "osm_id"],
                                 frame.loc[osm_rows, "id"]):
            assert fid.split("-")[0] == f"{typ[0]}{int(oid)}"
        assert set(frame.loc[osm_rows, "osm_type"]) <= {"node", "way", "relation"}
        spec = layers.get_spec(kind)
        assert set(spec.required) <= set(frame.columns), kind


def test_helsinki_has_every_layer_and_reports_each_stage(helsinki):
    # how long it takes is measured by benchmarks/, not asserted here
    assert set(helsinki["layers"]) == set(osm.LAYER_KINDS)
    stages = helsinki["stages"]
    assert stages[0] == "reading"
    assert list(osm.LAYER_KINDS) == stages[1:]


# ------------------------------------------------------------------ point layers vs raw tags
def test_chargers_match_raw_tags(hel, hel_raw):
    raw = {("node", i) for i, t in hel_raw.nodes.items() if t.get("amenity") == "charging_station"}
    raw |= {("way", i) for i, t in hel_raw.ways.items() if t.get("amenity") == "charging_station"}
    assert len(raw) == 4
    assert _ids(hel["chargers"]) == raw
    # none carries vehicle or socket tags: all default to car stations
    assert set(hel["chargers"]["kind"]) == {"car"}


def test_parking_matches_raw_tags(hel, hel_raw):
    raw_nodes = {i for i, t in hel_raw.nodes.items() if t.get("amenity") == "parking"}
    raw_ways = {i for i, t in hel_raw.ways.items() if t.get("amenity") == "parking"}
    assert len(raw_nodes) + len(raw_ways) == 43
    p = hel["parking"]
    car = p[p["osm_tag"] == "amenity=parking"]
    assert _ids(car) == {("node", i) for i in raw_nodes} | {("way", i) for i in raw_ways}
    # capacity wherever a whole number is tagged
    tagged = {("way", i): int(t["capacity"]) for i, t in hel_raw.ways.items()
              if t.get("amenity") == "parking" and t.get("capacity", "").isdigit()}
    tagged |= {("node", i): int(t["capacity"]) for i, t in hel_raw.nodes.items()
               if t.get("amenity") == "parking" and t.get("capacity", "").isdigit()}
    got = {(a, int(b)): int(c) for a, b, c in zip(car["osm_type"], car["osm_id"], car["capacity"])
           if gpd.pd.notna(c)}
    assert got == tagged
    # parking=underground nodes keep their kind
    underground = {("node", i) for i, t in hel_raw.nodes.items()
                   if t.get("amenity") == "parking" and t.get("parking") == "underground"}
    assert underground and underground <= _ids(car, car["kind"] == "underground")
    # whole areas are polygons; nodes, and areas the extract cuts, are points
    whole = {i for i in raw_ways if hel_raw.closed_complete(i)}
    geom = dict(zip(car["osm_id"].astype(int), car.geom_type))
    assert {geom[i] for i in whole} == {"Polygon"}
    assert {geom[i] for i in raw_ways - whole} | {geom[i] for i in raw_nodes} == {"Point"}


def test_manholes_from_both_tagging_schemes(hel, hel_raw):
    only_manhole = {i for i, t in hel_raw.nodes.items()
                    if "manhole" in t and t.get("man_made") != "manhole"}
    assert len(only_manhole) == 397
    either = {i for i, t in hel_raw.nodes.items()
              if "manhole" in t or t.get("man_made") == "manhole"}
    m = hel["manholes"]
    assert _ids(m) == {("node", i) for i in either}
    # kind from the tag value: as many heating manholes as manhole=heat nodes…
    heat = sum(1 for i in either if hel_raw.nodes[i].get("manhole") == "heat")
    assert heat == 47 and (m["kind"] == "heating").sum() == heat
    gas = sum(1 for i in either if "gas" in hel_raw.nodes[i].get("manhole", ""))
    assert (m["kind"] == "gas").sum() == gas
    unknown = sum(1 for i in either if hel_raw.nodes[i].get("manhole") in (None, "unknown"))
    assert (m["kind"] == "unknown").sum() == unknown
    # …and the operator as the manager wherever tagged
    operated = {i: t["operator"] for i, t in hel_raw.nodes.items() if i in either and
                "operator" in t}
    got = dict(zip(m["osm_id"].astype(int), m["manager"]))
    assert all(got[i] == op for i, op in operated.items())
    # manhole=drain on waterway tunnels (ways) are pipes, not covers
    assert any("manhole" in t and t.get("waterway") for t in hel_raw.ways.values())
    assert (m["osm_type"] == "way").sum() == 0


def test_crossings_kept_as_ramps(hel, hel_raw, kotka, kotka_raw):
    for out, raw in ((hel, hel_raw), (kotka, kotka_raw)):
        crossings = {("node", i) for i, t in raw.nodes.items() if t.get("highway") == "crossing"}
        r = out["ramps"]
        assert _ids(r, r["kind"] == "crossing") == crossings
    assert len(_ids(hel["ramps"])) == 620


def test_garbage_points_and_no_litter_bins(hel, hel_raw):
    raw = {("node", i) for i, t in hel_raw.nodes.items()
           if t.get("amenity") in ("recycling", "waste_disposal")}
    assert _ids(hel["garbage_points"]) == raw
    baskets = {("node", i) for i, t in hel_raw.nodes.items()
               if t.get("amenity") == "waste_basket"}
    assert len(baskets) == 36 and not baskets & _ids(hel["garbage_points"])


def test_waste_baskets_can_be_added_by_a_rules_override(tmp_path):
    override = tmp_path / "my_rules.toml"
    override.write_text(
        '[[osm_tags.garbage_points.rules]]\ntags = { amenity = ["waste_basket"] }\n'
        'kind = "other"\n', encoding="utf-8")
    out = osm.read_osm(HELSINKI, rules=override)
    # an array of tables in an override replaces the built-in list
    assert set(out["garbage_points"]["osm_tag"]) == {"amenity=waste_basket"}
    assert len(out["garbage_points"]) == 36


def test_a_bad_rules_override_is_named(tmp_path):
    override = tmp_path / "bad.toml"
    override.write_text(
        '[[osm_tags.facilities.rules]]\ntags = { shop = ["mall"] }\ncategory = "mall"\n',
        encoding="utf-8")
    with pytest.raises(gcgeo.RulesError, match="'mall'.*kindergarten"):
        osm.read_osm(HELSINKI, rules=override)


def test_heritage_excludes_street_trees(hel, hel_raw):
    raw = {("node", i) for i, t in hel_raw.nodes.items() if t.get("historic")}
    raw |= {("way", i) for i, t in hel_raw.ways.items() if t.get("historic")}
    assert _ids(hel["heritage"]) == raw
    trees = sum(1 for t in hel_raw.nodes.values() if t.get("natural") == "tree")
    assert trees == 649 and "old_tree" not in set(hel["heritage"]["kind"])


def test_facilities_use_living_circle_categories(hel, hel_raw):
    cats = set(rules.load("living_circle")["categories"])
    table = rules.load("osm_tags")
    # the table uses exactly the living-circle categories, and reaches each one
    assert {r["category"] for r in table["facilities"]["rules"]} == cats
    f = hel["facilities"]
    assert set(f["category"]) <= cats
    stops = {("node", i) for i, t in hel_raw.nodes.items() if t.get("highway") == "bus_stop"}
    assert _ids(f, f["category"] == "bus_stop") >= stops
    supermarkets = {("node", i) for i, t in hel_raw.nodes.items()
                    if t.get("shop") in ("supermarket", "convenience")}
    assert _ids(f, f["category"] == "supermarket") >= supermarkets
    # a node is a point; a park drawn as a closed way keeps its outline, to be reached
    # at its entrances (not at one interior point)
    kind = dict(zip(zip(f["osm_type"], f["osm_id"].astype(int)), f.geom_type))
    assert {kind[k] for k in kind if k[0] == "node"} == {"Point"}
    closed_parks = {("way", i) for i, t in hel_raw.ways.items() if t.get("leisure") == "park"
                    and len(hel_raw.way_refs[i]) >= 4 and hel_raw.way_refs[i][0] == hel_raw.way_refs[i][-1]
                    and hel_raw.way_complete[i]}
    parks = _ids(f, f["category"] == "park") & closed_parks
    assert parks and {kind[k] for k in parks} == {"Polygon"}


def test_fire_lanes_from_emergency_ways(hel, hel_raw):
    raw = {("way", i) for i, t in hel_raw.ways.items()
           if t.get("highway") and t.get("emergency") in ("designated", "yes")}
    assert len(raw) == 2
    assert _ids(hel["fire_lanes"]) == raw
    fl = hel["fire_lanes"]
    # dead end: an end node that no other highway way uses
    uses = Counter(r for i, t in hel_raw.ways.items() if "highway" in t
                   for r in hel_raw.way_refs[i])
    for oid, dead in zip(fl["osm_id"].astype(int), fl["dead_end"]):
        refs = hel_raw.way_refs[oid]
        ends_known = [e for e in (refs[0], refs[-1]) if e in hel_raw.loc]
        expect = any(uses[e] == 1 for e in ends_known)
        assert bool(dead) == expect


# ------------------------------------------------------------------ polygons vs raw and OSMnx
def test_buildings_match_raw_and_osmnx(hel, hel_raw):
    b = hel["buildings"]
    raw_ways = {("way", i) for i, t in hel_raw.ways.items()
                if t.get("building", "no") != "no" and hel_raw.closed_complete(i)}
    assert _ids(b, b["osm_type"] == "way") == raw_ways
    assert _ids(b, b["osm_type"] == "relation") <= {
        ("relation", i) for i, t in hel_raw.relations.items() if "building" in t}
    # OSMnx reference: every building entirely inside the extract's box
    ref = gpd.read_parquet(REF / "buildings_all.parquet")
    inside = ref[ref.within(shapely.box(*HELSINKI_BOX))]
    ref_ids = set(zip(inside.index.get_level_values(0), inside.index.get_level_values(1)))
    assert len(ref_ids) == 446
    assert _ids(b) == ref_ids
    # same outlines (area agrees to 0.1 % for every building)
    ref_area = dict(zip(zip(inside.index.get_level_values(0), inside.index.get_level_values(1)),
                        inside.to_crs(3067).area))
    mine = b.to_crs(3067)
    for key, area in zip(zip(mine["osm_type"], mine["osm_id"].astype(int)), mine.area):
        assert area == pytest.approx(ref_area[key], rel=1e-3)


def test_building_attributes(hel, hel_raw):
    b = hel["buildings"].set_index("osm_id")
    for i, t in hel_raw.ways.items():
        if i not in b.index or b.loc[i, "osm_type"] != "way":
            continue
        row = b.loc[i]
        if t["building"] == "apartments":
            assert row["use"] == "residential" and bool(row["residential"]) is True
        if t["building"] in ("office", "retail"):
            assert row["use"] == "commercial" and bool(row["residential"]) is False
        if t["building"] == "yes" and "building:use" not in t:
            assert row["residential_source"] != "tag"
        if t.get("building:levels", "").isdigit():
            assert row["floors"] == int(t["building:levels"])


def test_residential_inferred_inside_residential_landuse(hel, hel_raw):
    b = hel["buildings"]
    landuse = [shapely.Polygon([hel_raw.loc[r] for r in hel_raw.way_refs[i]])
               for i, t in hel_raw.ways.items()
               if t.get("landuse") == "residential" and hel_raw.closed_complete(i)]
    untagged = b[b["residential_source"] != "tag"]
    inside = untagged.representative_point().apply(lambda p: any(p.within(a) for a in landuse))
    inferred = untagged["residential_source"] == "landuse=residential"
    assert inferred.sum() == inside.sum() == 38
    assert (inferred == inside).all()
    assert untagged.loc[~inside.to_numpy(), "residential"].isna().all()
    # without the inference nothing is guessed
    no_guess = {"buildings": {"residential_areas": {"landuse": []}}}
    plain = osm.read_osm(HELSINKI, rules=no_guess)["buildings"]
    assert set(plain["residential_source"].dropna()) == {"tag"}
    assert plain["residential"].isna().sum() == len(untagged)


def test_green_space_matches_raw(hel, hel_raw):
    g = hel["green_space"]
    parks = {("way", i) for i, t in hel_raw.ways.items()
             if t.get("leisure") == "park" and hel_raw.closed_complete(i)}
    assert parks and _ids(g, g["kind"] == "park") >= parks
    grass = {("way", i) for i, t in hel_raw.ways.items()
             if t.get("landuse") == "grass" and hel_raw.closed_complete(i)}
    grass_rel = {("relation", i) for i, t in hel_raw.relations.items()
                 if t.get("landuse") == "grass"}
    assert len(grass_rel) == 1
    assert _ids(g, g["osm_tag"] == "landuse=grass") == grass | grass_rel
    assert set(g.geom_type) <= {"Polygon", "MultiPolygon"}


def test_leeds_xml_parks_counted_with_a_plain_parse():
    text = LEEDS.read_text(encoding="utf-8")
    parks = set()
    for m in re.finditer(r'<way id="(\d+)".*?</way>', text, flags=re.S):
        if '<tag k="leisure" v="park"/>' in m.group(0):
            parks.add(("way", int(m.group(1))))
    assert len(parks) == 13
    out = osm.read_osm(LEEDS)
    g = out["green_space"]
    assert _ids(g) == parks and set(g["kind"]) == {"park"}
    assert layers.validate(g, "green_space").ok


# ------------------------------------------------------------------ streets
def _segments(geoms) -> set[frozenset]:
    out = set()
    for g in geoms:
        c = np.round(shapely.get_coordinates(g), 7)
        out.update(frozenset([tuple(a), tuple(b)]) for a, b in zip(c[:-1], c[1:]))
    return out


def _walkable_by_wiki(t: dict[str, str]) -> bool:
    """Pedestrian access read from the tags as the OSM wiki describes it."""
    if t.get("area") == "yes" or t.get("foot") in ("no", "use_sidepath"):
        return False
    foot_ok = t.get("foot") in ("yes", "designated", "permissive", "destination")
    if t.get("access") in ("private", "no") and not foot_ok:
        return False
    if t.get("highway") in ("cycleway", "motorway", "motorway_link", "trunk", "trunk_link"):
        return foot_ok
    return True


def test_footpaths_match_osmnx_reference(hel, hel_raw):
    ref = gpd.read_parquet(REF / "network_paths.parquet")
    inside = ref.geometry.apply(
        lambda g: all(HELSINKI_BOX[0] <= x <= HELSINKI_BOX[2] and
                      HELSINKI_BOX[1] <= y <= HELSINKI_BOX[3] for x, y in g.coords))
    ref = ref[inside]
    st = hel["streets"]
    for hw in ("footway", "path", "cycleway"):
        mine = _segments(st.loc[st["kind"] == hw].geometry)
        r = ref[ref["highway"] == hw]
        theirs = _segments(r.geometry)
        # every segment we import is in the reference…
        assert mine <= theirs, hw
        # …and every reference segment we do not import belongs to a way the
        # wiki's access rules close to pedestrians
        walk_ways = {i for i in set(r["osmid"]) if _walkable_by_wiki(hel_raw.ways[i])}
        theirs_walk = _segments(r[r["osmid"].isin(walk_ways)].geometry)
        assert theirs_walk == mine, hw
    # the figures behind the assertion, for the record
    assert len(_segments(st.loc[st["kind"] == "footway"].geometry)) == 3554


def test_streets_are_split_at_intersections_with_node_ids(hel, hel_raw):
    st = hel["streets"]
    # u and v are the OSM nodes at the ends of each segment
    for g, u, v in zip(st.geometry, st["u"], st["v"]):
        c = g.coords
        assert hel_raw.loc[int(u)] == pytest.approx(c[0], abs=1e-7)
        assert hel_raw.loc[int(v)] == pytest.approx(c[-1], abs=1e-7)
    # no segment passes through another segment's end node (a point that is
    # both is where OSM has two distinct, unconnected nodes at one location)
    ends = {tuple(np.round(p, 7)) for g in st.geometry for p in (g.coords[0], g.coords[-1])}
    interior = {tuple(np.round(p, 7)) for g in st.geometry for p in g.coords[1:-1]}
    at: dict[tuple, set[int]] = {}
    for nid, xy in hel_raw.loc.items():
        at.setdefault(tuple(np.round(xy, 7)), set()).add(nid)
    both = ends & interior
    assert len(both) <= 2 and all(len(at[xy]) >= 2 for xy in both)
    # a routable graph: the biggest component holds most of the network
    graph = nx.MultiGraph()
    graph.add_edges_from(zip(st["u"].astype(int), st["v"].astype(int)))
    biggest = max(nx.connected_components(graph), key=len)
    assert len(biggest) / graph.number_of_nodes() > 0.8
    # lengths: geodesic, agreeing with a metric projection (ETRS-TM35FIN)
    proj = st.to_crs(3067).length
    assert np.allclose(st["length_m"], proj, rtol=2e-3)
    assert st["walkable"].all()


def test_streets_exclude_closed_and_motor_roads(kotka, kotka_raw, hel, hel_raw):
    for out, raw in ((kotka, kotka_raw), (hel, hel_raw)):
        st_ids = set(out["streets"]["osm_id"].astype(int))
        for i, t in raw.ways.items():
            if "highway" not in t:
                continue
            if not _walkable_by_wiki(t):
                assert i not in st_ids, t
    motorways = {i for i, t in kotka_raw.ways.items()
                 if t.get("highway") in ("motorway", "motorway_link")}
    assert len(motorways) == 15 and not motorways & set(kotka["streets"]["osm_id"].astype(int))


# ------------------------------------------------------------------ communities
def test_communities_from_osm_polygons(hel, hel_raw, kotka, kotka_raw):
    for out, raw in ((hel, hel_raw), (kotka, kotka_raw)):
        c = out["communities"]
        assert set(c["source"]) == {"osm:landuse=residential"}
        expect = {("way", i) for i, t in raw.ways.items()
                  if t.get("landuse") == "residential" and raw.closed_complete(i)}
        assert _ids(c) == expect
        assert c["name"].notna().all()


def test_street_blocks_fallback(hel):
    out = osm.read_osm(HELSINKI, communities="blocks")
    c = out["communities"]
    assert set(c["source"]) == {"street blocks"} and c["osm_type"].isna().all()
    assert layers.validate(c, "communities").ok
    m2 = c.to_crs(3067).area
    assert (m2 >= 2000).all() and (m2 <= 2_000_000).all()
    # blocks do not overlap one another
    assert c.to_crs(3067).union_all().area == pytest.approx(m2.sum(), rel=1e-6)
    assert len(c) >= 20
    # no major street runs through a block (0.5 m inside its edge)
    st = hel["streets"]
    roads = st[st["kind"].isin(["primary", "secondary", "tertiary", "residential"])].to_crs(3067)
    inner = c.to_crs(3067).buffer(-0.5)
    assert not shapely.intersects(np.asarray(roads.geometry.values)[:, None],
                                  np.asarray(inner.values)[None, :]).any()


def _xml(nodes: dict[int, tuple[float, float, dict]],
         ways: dict[int, tuple[list[int], dict]]) -> str:
    def tags(t):
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in t.items())
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">']
    for i, (lon, lat, t) in nodes.items():
        parts.append(f'<node id="{i}" lat="{lat}" lon="{lon}" version="1">{tags(t)}</node>')
    for i, (refs, t) in ways.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        parts.append(f'<way id="{i}" version="1">{nds}{tags(t)}</way>')
    parts.append("</osm>")
    return "\n".join(parts)


def _grid(step_m: float = 100.0, n: int = 3):
    """An n×n grid of nodes step_m apart near Gaotang (116.23°E, 36.87°N)."""
    lat0, lon0 = 36.87, 116.23
    dlat = step_m / 111_000.0
    dlon = step_m / (111_000.0 * math.cos(math.radians(lat0)))
    nodes = {}
    for r in range(n):
        for c in range(n):
            nodes[1 + r * n + c] = (lon0 + c * dlon, lat0 + r * dlat, {})
    return nodes


def test_blocks_by_construction(tmp_path):
    # 3×3 nodes 100 m apart, residential streets along every row and column:
    # four blocks of about 100 m × 100 m.
    nodes = _grid()
    ways = {}
    for r in range(3):
        ways[100 + r] = ([1 + r * 3 + c for c in range(3)], {"highway": "residential"})
    for c in range(3):
        ways[200 + c] = ([1 + r * 3 + c for r in range(3)], {"highway": "residential"})
    f = tmp_path / "grid.osm"
    f.write_text(_xml(nodes, ways), encoding="utf-8")
    out = osm.read_osm(f)
    c = out["communities"]
    assert len(c) == 4 and set(c["source"]) == {"street blocks"}
    area = c.to_crs(c.estimate_utm_crs()).area
    assert np.allclose(area, 10_000, rtol=0.02)
    # the network: 12 segments between the 9 nodes, each 100 m
    st = out["streets"]
    assert len(st) == 12
    assert np.allclose(st["length_m"], 100, rtol=0.01)
    assert set(st["u"]) | set(st["v"]) == set(range(1, 10))


def test_tag_parsing_by_construction(tmp_path):
    nodes = _grid()
    nodes[1][2].update({"kerb": "lowered", "incline": "8%", "width": "150 cm",
                        "kerb:height": "0.02", "wheelchair": "designated"})
    nodes[2][2].update({"highway": "crossing", "kerb": "raised"})
    nodes[3][2].update({"amenity": "charging_station", "bicycle": "yes", "socket:schuko": "4"})
    nodes[4][2].update({"amenity": "charging_station", "socket:type2": "2",
                        "socket:type2:output": "22 kW", "socket:chademo": "1",
                        "socket:chademo:output": "50 kW", "operator": "State Grid"})
    nodes[5][2].update({"man_made": "manhole", "operator": "高唐县水务局"})
    nodes[6][2].update({"amenity": "school", "name": "高唐县第一中学"})
    nodes[7][2].update({"natural": "tree", "denotation": "natural_monument",
                        "heritage": "2", "diameter_crown": "14 m"})
    nodes[8][2].update({"amenity": "waste_basket"})
    nodes[9][2].update({"amenity": "recycling", "waste": "hazardous"})
    nodes[10] = (116.231, 36.871, {"natural": "tree", "denotation": "avenue"})
    ways = {
        # a fire lane whose far end (node 3) no other highway uses
        300: ([1, 2, 3], {"highway": "service", "service": "emergency_access",
                          "width": "4.5", "maxheight": "4.2 m"}),
        301: ([4, 5, 6], {"highway": "motorway"}),
        302: ([4, 1], {"highway": "footway", "access": "private"}),
        303: ([7, 4], {"highway": "footway", "access": "private", "foot": "yes"}),
        304: ([1, 2, 5, 4, 1], {"place": "neighbourhood", "name": "东街社区"}),
    }
    f = tmp_path / "tags.osm"
    f.write_text(_xml(nodes, ways), encoding="utf-8")
    out = osm.read_osm(f)
    for kind, frame in out.items():
        assert layers.validate(frame, kind).ok, kind

    r = out["ramps"].set_index("osm_id")
    assert r.loc[1, "kind"] == "other" and r.loc[1, "slope"] == pytest.approx(0.08)
    assert r.loc[1, "width_m"] == pytest.approx(1.5) and r.loc[1, "lip_mm"] == pytest.approx(20)
    assert r.loc[1, "wheelchair"] == "yes"
    assert r.loc[2, "kind"] == "crossing"

    ch = out["chargers"].set_index("osm_id")
    assert ch.loc[3, "kind"] == "e-bike" and ch.loc[3, "sockets"] == 4
    assert ch.loc[4, "kind"] == "car" and ch.loc[4, "sockets"] == 3
    assert ch.loc[4, "power_kw"] == pytest.approx(50) and ch.loc[4, "operator"] == "State Grid"

    mh = out["manholes"].iloc[0]
    assert mh["kind"] == "unknown" and mh["manager"] == "高唐县水务局"

    fac = out["facilities"].set_index("osm_id")
    assert fac.loc[6, "category"] == "middle_school"

    her = out["heritage"]
    assert list(her["osm_id"]) == [7] and her["kind"].iloc[0] == "old_tree"
    assert her["grade"].iloc[0] == "2" and her["crown_diameter_m"].iloc[0] == pytest.approx(14)

    gp = out["garbage_points"]
    assert list(gp["osm_id"]) == [9] and gp["kind"].iloc[0] == "hazardous"

    fl = out["fire_lanes"].iloc[0]
    assert fl["kind"] == "emergency_access" and fl["width_m"] == 4.5
    assert fl["clear_height_m"] == 4.2 and bool(fl["dead_end"]) is True

    st_ids = set(out["streets"]["osm_id"])
    assert 300 in st_ids and 303 in st_ids
    assert 301 not in st_ids and 302 not in st_ids

    com = out["communities"]
    assert list(com["name"]) == ["东街社区"]
    assert list(com["source"]) == ["osm:place=neighbourhood"]


def test_facility_and_parking_tags_read_strictly(tmp_path):
    # each node one tagged feature; the expected category read off the OSM wiki
    # meaning of the tags and GB 50180-2018's categories (None: not a facility)
    cases = {
        11: ({"amenity": "dentist"}, None),
        12: ({"healthcare": "dentist"}, None),
        13: ({"amenity": "doctors", "healthcare": "dentist"}, None),
        14: ({"amenity": "clinic"}, "health"),
        15: ({"amenity": "nursing_home"}, "nursing_home"),
        16: ({"amenity": "retirement_home"}, "nursing_home"),
        17: ({"amenity": "social_facility", "social_facility": "nursing_home",
              "social_facility:for": "senior"}, "nursing_home"),
        18: ({"amenity": "social_facility", "social_facility": "assisted_living",
              "social_facility:for": "elderly"}, "nursing_home"),
        19: ({"amenity": "social_facility", "social_facility": "day_care",
              "social_facility:for": "senior"}, "elderly_care"),
        20: ({"amenity": "townhall"}, None),
        21: ({"amenity": "social_facility", "social_facility": "shelter"}, None),
        22: ({"amenity": "social_facility"}, None),
        23: ({"amenity": "community_centre"}, "community_service"),
        24: ({"leisure": "swimming_pool", "access": "customers"}, None),
        25: ({"leisure": "swimming_pool", "access": "private"}, None),
        26: ({"leisure": "swimming_pool"}, "sports"),
        27: ({"leisure": "pitch", "sport": "basketball"}, "small_sports_ground"),
        28: ({"leisure": "fitness_station"}, "outdoor_fitness"),
        29: ({"amenity": "community_hall"}, "culture_station"),
        30: ({"amenity": "library"}, "culture_centre"),
    }
    nodes = {i: (116.23 + i * 1e-4, 36.87, tags) for i, (tags, _) in cases.items()}
    nodes[40] = (116.235, 36.871, {"amenity": "motorcycle_parking"})
    nodes[41] = (116.236, 36.871, {"amenity": "bicycle_parking"})
    f = tmp_path / "facilities.osm"
    f.write_text(_xml(nodes, {}), encoding="utf-8")
    out = osm.read_osm(f)
    got = dict(zip(out["facilities"]["osm_id"].astype(int), out["facilities"]["category"]))
    assert got == {i: cat for i, (_, cat) in cases.items() if cat is not None}
    kinds = dict(zip(out["parking"]["osm_id"].astype(int), out["parking"]["kind"]))
    assert kinds == {40: "other", 41: "bicycle"}


# ------------------------------------------------------------------ area filters
def test_bbox_keeps_only_intersecting_features(hel):
    box = (24.940, 60.166, 24.946, 60.170)
    out = osm.read_osm(HELSINKI, bbox=box)
    area = shapely.box(*box)
    for kind, frame in out.items():
        if kind == "communities":
            continue
        assert shapely.intersects(np.asarray(frame.geometry.values), area).all(), kind
        assert len(frame) < len(hel[kind]) or len(hel[kind]) == len(frame)
        # a subset of the full import, same ids and values
        assert set(frame["id"]) <= set(hel[kind]["id"]), kind
    full = hel["buildings"]
    expect = set(full.loc[full.intersects(area), "id"])
    assert set(out["buildings"]["id"]) == expect
    # street segments in the bbox are the same segments, with the same nodes
    part = out["streets"].set_index("id")
    whole = hel["streets"].set_index("id").loc[part.index]
    assert (part["u"] == whole["u"]).all() and (part["v"] == whole["v"]).all()
    assert np.allclose(part["length_m"], whole["length_m"])


def test_boundary_polygon(hel):
    ring = shapely.Point(24.945, 60.170).buffer(0.003)
    out = osm.read_osm(HELSINKI, boundary=ring)
    full = hel["manholes"]
    expect = set(full.loc[full.intersects(ring), "id"])
    assert expect and set(out["manholes"]["id"]) == expect
    # a GeoDataFrame in another CRS is reprojected
    gdf = gpd.GeoDataFrame(geometry=[ring], crs=4326).to_crs(3067)
    out2 = osm.read_osm(HELSINKI, boundary=gdf)
    assert set(out2["manholes"]["id"]) == expect


# ------------------------------------------------------------------ bad input
def test_truncated_pbf(tmp_path):
    data = HELSINKI.read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(gcgeo.FileFormatError, match="cut.osm.pbf") as err:
        osm.read_osm(cut)
    assert "download it again" in str(err.value)


def test_text_file_named_pbf(tmp_path):
    fake = tmp_path / "notes.osm.pbf"
    fake.write_text("These are my notes, not a map.\n", encoding="utf-8")
    with pytest.raises(gcgeo.FileFormatError, match="not an OpenStreetMap file"):
        osm.read_osm(fake)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(gcgeo.FileFormatError, match="empty"):
        osm.read_osm(empty)
    with pytest.raises(gcgeo.InputError, match="does not exist"):
        osm.read_osm(tmp_path / "nowhere.osm.pbf")


def test_truncated_xml(tmp_path):
    text = LEEDS.read_text(encoding="utf-8")
    cut = tmp_path / "cut.osm"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(gcgeo.FileFormatError, match="cut.osm"):
        osm.read_osm(cut)


def test_bbox_in_the_sea():
    # the Gulf of Finland south of Helsinki: valid, but the extract has nothing there
    with pytest.raises(gcgeo.InputError, match="contains no OSM data") as err:
        osm.read_osm(HELSINKI, bbox=(24.90, 60.05, 24.95, 60.10))
    assert "24.93" in str(err.value) and "helsinki_center.osm.pbf" in str(err.value)


@pytest.mark.parametrize("bbox, words", [
    ((24.95, 60.16, 24.94, 60.17), "empty"),
    ((24.94, 60.17, 24.95, 60.17), "empty"),
    ((24.94, 60.16, 24.95), "four"),
    (("a", "b", "c", "d"), "four numbers"),
    ((500000, 4000000, 510000, 4010000), "degrees"),
    ((24.9, float("nan"), 25.0, 60.2), "finite"),
])
def test_bad_bbox(bbox, words):
    with pytest.raises(gcgeo.InputError, match=words):
        osm.read_osm(HELSINKI, bbox=bbox)


def test_bad_boundary():
    with pytest.raises(gcgeo.InputError, match="polygon"):
        osm.read_osm(HELSINKI, boundary=shapely.Point(24.94, 60.17))
    with pytest.raises(gcgeo.InputError, match="do not overlap"):
        osm.read_osm(HELSINKI, bbox=(24.94, 60.16, 24.95, 60.17),
                     boundary=shapely.box(25.0, 60.0, 25.1, 60.1))


# ------------------------------------------------------------------ value parsers
def test_value_parsers():
    assert V.length_m("4") == 4.0
    assert V.length_m("4,5 m") == 4.5
    assert V.length_m("150 cm") == pytest.approx(1.5)
    assert V.length_m("13'6\"") == pytest.approx(13 * 0.3048 + 6 * 0.0254)
    assert V.length_m("wide") is None
    assert V.slope("5%") == pytest.approx(0.05)
    assert V.slope("-10%") == pytest.approx(0.10)
    assert V.slope("1:12") == pytest.approx(1 / 12)
    assert V.slope("3°") == pytest.approx(math.tan(math.radians(3)))
    assert V.slope("up") is None
    assert V.slope("150%") is None
    assert V.count("20") == 20 and V.count("ca. 20") is None and V.count("10-20") is None
    assert V.floors("2.5") == 3 and V.floors("3;5") == 5 and V.floors("many") is None
    assert V.power_kw("22 kW") == 22 and V.power_kw("3.7 kW;11 kW") == 11
    assert V.power_kw("22000 W") == 22 and V.power_kw("7") == 7
    assert V.lip_mm("2 cm") == pytest.approx(20)


@pytest.mark.parametrize("which", ["helsinki", "kotka"])
def test_communities_are_named_by_their_name_tag_or_their_street(which, hel, hel_raw, kotka,
                                                                   kotka_raw):
    """No `landuse=residential w123` names: a name tag names a community, else its
    street, a named street that passes within 60 m of its outline (checked in
    ETRS-TM35FIN, Finland's metric grid, from a second reading of the file)."""
    out, raw = (hel, hel_raw) if which == "helsinki" else (kotka, kotka_raw)
    comm = out["communities"].to_crs(3067)
    assert comm["name"].is_unique and not comm["name"].str.contains("landuse=").any()
    streets: dict[str, list] = {}
    for i, t in raw.ways.items():
        known = [raw.loc[n] for n in raw.way_refs.get(i, []) if n in raw.loc]  # cut at the edge
        if t.get("highway") and t.get("name") and len(known) >= 2:
            streets.setdefault(t["name"], []).append(shapely.LineString(known))
    lines = {n: gpd.GeoSeries(ls, crs=4326).to_crs(3067).union_all() for n, ls in streets.items()}
    by_street = 0
    for typ, oid, name, geom in zip(comm["osm_type"], comm["osm_id"], comm["name"], comm.geometry):
        tags = (raw.ways if typ == "way" else raw.relations)[int(oid)]
        if tags.get("name"):
            assert name == tags["name"]
            continue
        street = re.sub(r" \(\d+\)$", "", name)
        assert street in lines and lines[street].distance(geom.boundary) <= 60, name
        by_street += 1
    assert by_street >= 10
