"""Communities checked as a whole by `gcgeo validate`: overlaps, slivers, the county boundary and
buildings in two communities, each by construction; then the command on a workspace."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gcgeo import layers
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.layers import check_communities
from gcgeo.testing import synthetic_county

CRS = "EPSG:4547"


def _comm(*boxes, names=None):
    return gpd.GeoDataFrame({"id": [f"C{i + 1}" for i in range(len(boxes))],
                             "name": names or [f"社区{i + 1}" for i in range(len(boxes))]},
                            geometry=[shapely.box(*b) for b in boxes], crs=CRS)


def _figure(text, before):
    """The number written just before ``before`` in a message ("1,000.0 m²" → 1000.0)."""
    head = text.split(before)[0].split()[-1]
    return float(head.replace(",", "").rstrip("%"))


def test_neighbours_that_meet_exactly_have_no_problem():
    grid = _comm(*[(x * 100, y * 100, x * 100 + 100, y * 100 + 100) for x in range(3) for y in range(2)])
    assert check_communities(grid) == []
    # five of the six cells: two communities meet at a corner only, with nothing beside them
    assert check_communities(grid.iloc[:5]) == []


def test_an_overlap_is_an_error_with_its_area_a_thin_one_a_warning():
    (p,) = check_communities(_comm((0, 0, 100, 100), (90, 0, 200, 100), names=["东关", "西关"]))
    assert (p.layer, p.row, p.column, p.severity) == ("communities", "C1", "geometry", "error")
    assert "C2 (西关)" in p.problem and _figure(p.problem, "m²") == pytest.approx(1000.0)  # 10 × 100
    (p,) = check_communities(_comm((0, 0, 100, 100), (99.5, 0, 200, 100)))
    assert p.severity == "warning" and _figure(p.problem, "m²") == pytest.approx(50.0)  # 0.5 × 100
    # wider than the sliver width once the user says slivers are narrower
    (p,) = check_communities(_comm((0, 0, 100, 100), (99.5, 0, 200, 100)), sliver_width_m=0.4)
    assert p.severity == "error"


def test_a_sliver_between_neighbours_that_nearly_touch():
    (p,) = check_communities(_comm((0, 0, 100, 100), (101, 0, 200, 100)))
    assert p.severity == "warning" and p.row == "C1" and "C2" in p.problem
    assert _figure(p.problem, "m²") == pytest.approx(100.0, rel=0.01)  # 1 m × 100 m
    assert "1.00 m apart" in p.problem
    # a street between them (20 m) is no sliver; nor is a gap wider than the rule
    assert check_communities(_comm((0, 0, 100, 100), (120, 0, 200, 100))) == []
    assert check_communities(_comm((0, 0, 100, 100), (101, 0, 200, 100)), sliver_width_m=0.5) == []
    # touching along half the edge and 1 m apart along the other half
    step = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=[
        shapely.box(0, 0, 100, 100),
        shapely.Polygon([(100, 0), (200, 0), (200, 100), (101, 100), (101, 50), (100, 50)])], crs=CRS)
    (p,) = check_communities(step)
    assert _figure(p.problem, "m²") == pytest.approx(50.0, rel=0.02) and "touching in places" in p.problem
    # a gap a third community fills is no gap
    three = _comm((0, 0, 100, 100), (101, 0, 200, 100), (100, 0, 101, 100))
    assert check_communities(three) == []


def test_communities_outside_the_county_boundary():
    county = shapely.box(0, 0, 150, 150)
    comm = _comm((0, 0, 100, 100), (100, 0, 200, 100), (1000, 1000, 1100, 1100))
    probs = {p.row: p for p in check_communities(comm, boundary=county)}
    assert set(probs) == {"C2", "C3"}
    assert probs["C2"].severity == "warning" and _figure(probs["C2"].problem, "m²") == pytest.approx(5000.0)
    assert "50.0%" in probs["C2"].problem
    assert probs["C3"].severity == "error" and "wholly outside" in probs["C3"].problem
    assert "1.20 km" in probs["C3"].problem  # from (150, 150) to (1000, 1000): 850·√2 m
    assert check_communities(comm) == []  # without a boundary nothing is outside


def test_buildings_in_two_communities():
    comm = _comm((0, 0, 100, 100), (100, 0, 200, 100))
    b = gpd.GeoDataFrame({"id": ["B1", "B2", "B3"]},
                         geometry=[shapely.box(90, 10, 110, 20),    # half in each
                                   shapely.box(80, 30, 101, 40),    # 1/21 in C2: in C1
                                   shapely.box(70, 50, 130, 60)],   # half and half again
                         crs=CRS)
    probs = check_communities(comm, b)
    assert [(p.layer, p.row) for p in probs] == [("buildings", "B1"), ("buildings", "B3")]
    assert all(p.severity == "warning" for p in probs)
    assert "C1 (社区1) 50%" in probs[0].problem and "C2 (社区2) 50%" in probs[0].problem
    assert [p.row for p in check_communities(comm, b, shared_share=0.04)] == ["B1", "B2", "B3"]
    # a building layer in another CRS is measured in the communities'
    assert [p.row for p in check_communities(comm, b.to_crs(4490))] == ["B1", "B3"]


def test_odd_input_is_checked_or_left_to_the_layer_validation():
    comm = _comm((0, 0, 100, 100), (90, 0, 200, 100))
    assert check_communities(comm.set_crs(None, allow_override=True)) == []  # no CRS: reported elsewhere
    assert check_communities(comm.iloc[:0]) == []
    bowtie = gpd.GeoDataFrame({"id": ["X", "Y"]}, geometry=[
        shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)]), None], crs=CRS)
    assert check_communities(bowtie) == []
    # in degrees: measured in metres all the same (near the zone's central meridian)
    near = comm.set_geometry(comm.translate(500_000, 4_000_000))
    (p,) = check_communities(near.to_crs(4490))
    assert _figure(p.problem, "m²") == pytest.approx(1000.0, rel=1e-3)


@pytest.fixture
def county():
    return synthetic_county(seed=0)


def _workspace(tmp_path, county, communities):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县", boundary=gpd.GeoDataFrame(geometry=[county.boundary], crs=county.crs))
    ws.add_layer(path, "communities", communities)
    ws.add_layer(path, "buildings", county.layers["buildings"])
    return path


def test_validate_reports_them_in_the_workspace(tmp_path, county):
    comm = county.layers["communities"].copy()
    path = _workspace(tmp_path, county, comm)
    report, _ = ws.validate(path)
    assert not [p for p in report.problems if p.layer == "communities" or "communities (" in p.problem]

    # C02 (east of C01) pushed 10 m west into C01; C03 moved 100 km east, out of the county
    moved = comm.set_index("id")
    assert moved.loc["C01"].geometry.bounds[2] == moved.loc["C02"].geometry.bounds[0]  # neighbours
    moved.loc["C02", "geometry"] = shapely.affinity.translate(moved.loc["C02"].geometry, -10, 0)
    moved.loc["C03", "geometry"] = shapely.affinity.translate(moved.loc["C03"].geometry, 100_000, 0)
    path = _workspace(tmp_path / "b", county, moved.reset_index())
    report, _ = ws.validate(path)
    probs = [p for p in report.problems if p.layer == "communities"]
    assert sorted((p.row, p.severity) for p in probs) == [("C01", "error"), ("C03", "error")]
    overlap = next(p for p in probs if p.row == "C01")
    assert "C02 (固河社区)" in overlap.problem and _figure(overlap.problem, "m²") == pytest.approx(600 * 10)
    assert "wholly outside the county boundary" in next(p for p in probs if p.row == "C03").problem
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 1
    assert "overlaps community C02" in res.output.replace("\n", " ")


def test_check_communities_is_public():
    assert layers.check_communities is check_communities


def test_footprints_are_read_as_their_polygonal_part_made_valid():
    """What the building checks measure of each footprint, by construction: a bow tie as its
    two triangles (0.25 m² each), a point or a line as nothing, a collection as its polygon,
    a valid square as it is, a missing or empty one as missing."""
    from gcgeo.layers.community_checks import _valid

    bow = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    square = shapely.box(0, 0, 2, 2)
    rows = [bow, shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)]), square, None,
            shapely.Polygon(), shapely.GeometryCollection([shapely.box(5, 5, 6, 6), shapely.Point(9, 9)])]
    out = _valid(gpd.GeoDataFrame(geometry=rows, crs=CRS))
    assert out[0].geom_type == "MultiPolygon" and [round(p.area, 12) for p in out[0].geoms] == [0.25, 0.25]
    assert out[1].is_empty and out[2].is_empty
    assert out[3].equals_exact(square, 0)
    assert out[4] is None and out[5] is None
    assert out[6].equals_exact(shapely.box(5, 5, 6, 6), 0)
