"""Coordinates: GCJ-02 / BD-09 against the published algorithm, CGCS2000 zones, CRS choice."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from gcgeo import CRSError
from gcgeo import crs as C

# --- an independent, scalar transcription of the published algorithm ---------
_A, _EE = 6378245.0, 0.00669342162296594323


def _published_wgs_to_gcj(lng: float, lat: float) -> tuple[float, float]:
    if not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lng, lat
    x, y = lng - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    dlng = (dlng * 180.0) / (_A / sq * math.cos(radlat) * math.pi)
    return lng + dlng, lat + dlat


def _one_step_gcj_to_wgs(lng: float, lat: float) -> tuple[float, float]:
    """The non-iterated inverse many packages ship."""
    g = _published_wgs_to_gcj(lng, lat)
    return 2 * lng - g[0], 2 * lat - g[1]


def _metres(dlon, dlat, lat):
    return np.hypot(np.asarray(dlon) * 111_320 * np.cos(np.radians(lat)), np.asarray(dlat) * 110_574)


def test_published_example_values():
    # values printed in the coordtransform project's README for (128.543, 37.065)
    lon, lat = C.wgs84_to_gcj02(128.543, 37.065)
    assert float(lon) == pytest.approx(128.54820547949757, abs=1e-12)
    assert float(lat) == pytest.approx(37.065651049489816, abs=1e-12)
    lon, lat = C.gcj02_to_bd09(128.543, 37.065)
    assert float(lon) == pytest.approx(128.54944656269413, abs=1e-12)
    assert float(lat) == pytest.approx(37.07113427883019, abs=1e-12)


def test_vectorised_forward_equals_scalar_transcription():
    rng = np.random.default_rng(7)
    lon = rng.uniform(70, 140, 500)
    lat = rng.uniform(0, 57, 500)
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    expect = np.array([_published_wgs_to_gcj(a, b) for a, b in zip(lon, lat)])
    np.testing.assert_allclose(glon, expect[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(glat, expect[:, 1], rtol=0, atol=1e-12)


def test_offsets_have_the_documented_size_in_china():
    lon, lat = np.meshgrid(np.linspace(75, 134, 40), np.linspace(19, 53, 40))
    lon, lat = lon.ravel(), lat.ravel()
    g = C.wgs84_to_gcj02(lon, lat)
    d = _metres(g[0] - lon, g[1] - lat, lat)
    assert d.min() > 50 and d.max() < 1000  # STANDARDS.md: 115–674 m


@pytest.mark.parametrize(
    "forward,inverse",
    [
        (C.wgs84_to_gcj02, C.gcj02_to_wgs84),
        (C.wgs84_to_bd09, C.bd09_to_wgs84),
        (C.gcj02_to_bd09, C.bd09_to_gcj02),
    ],
)
def test_round_trip_within_a_centimetre_everywhere_in_china(forward, inverse):
    lon, lat = np.meshgrid(np.linspace(73.0, 135.0, 300), np.linspace(18.0, 53.5, 300))
    lon, lat = lon.ravel(), lat.ravel()
    back = inverse(*forward(lon, lat))
    assert _metres(back[0] - lon, back[1] - lat, lat).max() < 0.01


@settings(max_examples=300, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(18.0, 53.5))
def test_inverse_iterated_beats_one_step(lon, lat):
    g = C.wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    back = C.gcj02_to_wgs84(*g)
    err = _metres(back[0] - lon, back[1] - lat, lat)[0]
    assert err < 0.01
    one = _one_step_gcj_to_wgs(float(g[0][0]), float(g[1][0]))
    assert err <= _metres(one[0] - lon, one[1] - lat, lat) + 1e-9


def test_outside_china_passes_unchanged():
    lon, lat = np.array([24.94, -0.12, 151.2]), np.array([60.17, 51.5, -33.9])
    for f in (C.wgs84_to_gcj02, C.gcj02_to_wgs84):
        x, y = f(lon, lat)
        np.testing.assert_array_equal(x, lon)
        np.testing.assert_array_equal(y, lat)


def test_cgcs2000_zones():
    assert C.cgcs2000_zone_epsg(117.0) == 4548
    assert C.cgcs2000_zone_epsg(75.0) == 4534
    assert C.cgcs2000_zone_epsg(135.0) == 4554
    assert C.cgcs2000_zone_epsg(116.2, prefixed=True) == 4527
    x, y = Transformer.from_crs(4490, 4548, always_xy=True).transform(117.0, 36.65)
    assert (x, y) == pytest.approx((500000.0, 4057669.9), abs=0.05)  # Jinan, STANDARDS.md
    with pytest.raises(CRSError):
        C.cgcs2000_zone_epsg(20.0)


def test_choose_metric_crs():
    gaotang = gpd.GeoDataFrame(geometry=[shapely.Point(116.23, 36.86)], crs=4326)
    assert C.choose_metric_crs(gaotang).to_epsg() == 4548
    helsinki = gpd.GeoDataFrame(geometry=[shapely.Point(24.94, 60.17)], crs=4326)
    assert C.choose_metric_crs(helsinki).to_epsg() == 32635
    projected = gaotang.to_crs(32650)  # UTM 50N: true to scale here, kept
    assert C.choose_metric_crs(projected).to_epsg() == 32650
    with pytest.raises(CRSError):
        C.choose_metric_crs(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))


def test_declare_gcj02_recovers_true_position():
    true = np.array([[116.2301, 36.8612], [116.25, 36.87]])
    g = C.wgs84_to_gcj02(true[:, 0], true[:, 1])
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*g))
    out = C.declare_crs(gdf, "gcj02")
    assert out.crs.to_epsg() == 4326
    d = _metres(out.geometry.x - true[:, 0], out.geometry.y - true[:, 1], true[:, 1])
    assert d.max() < 0.01
    assert gdf.crs is None  # input untouched


def test_declare_cgcs2000_with_zone_prefixed_eastings():
    x, y = Transformer.from_crs(4490, 4527, always_xy=True).transform(116.23, 36.86)
    assert x > 1e7
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(x, y)])
    assert C.declare_crs(gdf, "cgcs2000").crs.to_epsg() == 4527
    plain = gpd.GeoDataFrame(geometry=[shapely.Point(428650.0, 4080163.0)])
    with pytest.raises(CRSError, match="not degrees"):
        C.declare_crs(plain, "cgcs2000")


def test_parse_crs_names_the_fix():
    assert C.parse_crs("wgs84")[0].to_epsg() == 4326
    assert C.parse_crs("CGCS2000")[0].to_epsg() == 4490
    assert C.parse_crs("4547")[0].to_epsg() == 4547
    assert C.parse_crs("Amap") == (C.parse_crs("wgs84")[0], "gcj02")
    with pytest.raises(CRSError, match="gcj02"):
        C.parse_crs("martian")


def test_web_mercator_is_never_the_working_crs():
    gaotang = gpd.GeoDataFrame(geometry=[shapely.Point(116.23, 36.86)], crs=4326).to_crs(3857)
    assert C.scale_error(gaotang.crs, 116.23, 36.86) > 0.2
    assert C.choose_metric_crs(gaotang).to_epsg() == 4548
    # a true-to-scale projected CRS is kept
    assert C.choose_metric_crs(gaotang.to_crs(4527)).to_epsg() == 4527


def test_init_refuses_mercator(tmp_path):
    from gcgeo import workspace as ws

    with pytest.raises(CRSError, match="distorts"):
        ws.init(tmp_path / "w.gpkg", name="w", crs="EPSG:3857")


def test_the_crs_gate_of_every_analysis():
    import geopandas as gpd
    import shapely

    from gcgeo import CRSError

    pts = gpd.GeoDataFrame(geometry=[shapely.Point(116.23, 36.86), shapely.Point(116.24, 36.87)],
                           crs="EPSG:4490")
    got = C.metric(pts, "layer 'facilities'")
    assert got.crs.to_epsg() == 4548  # CGCS2000 3° zone of 117°E, as the workspace would store it
    # 0.01° of latitude is about 1,110 m there; the distance is measured in metres
    assert 1400 < got.geometry.iloc[0].distance(got.geometry.iloc[1]) < 1500
    assert C.metric(got, "x") is got  # projected: kept
    with pytest.raises(CRSError, match="facilities.*no CRS.*--src-crs"):
        C.metric(pts.set_crs(None, allow_override=True), "layer 'facilities'")
    assert C.align(pts, got.crs, "layer 'x'").crs == got.crs
    assert C.align(None, got.crs, "layer 'x'") is None
    with pytest.raises(CRSError, match="layer 'x' has no CRS while the streets"):
        C.align(pts.set_crs(None, allow_override=True), got.crs, "layer 'x'", against="the streets")
    with pytest.raises(CRSError, match="degrees"):
        C.require_metric(pts, "layer 'x'")
    C.require_metric(got, "layer 'x'")


# --- coordinates that cannot be right ------------------------------------------------

_GAOTANG = [(116.2301, 36.8612), (116.2455, 36.8701), (116.2402, 36.8550), (116.2350, 36.8650)]
_TO_GK = Transformer.from_crs(4326, 4548, always_xy=True)


def _gk(points, crs=4548):
    e, n = _TO_GK.transform([p[0] for p in points], [p[1] for p in points])
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(e, n), crs=crs)


def test_survey_axes_swapped_in_a_file_are_refused():
    gk = _gk(_GAOTANG)
    swapped = gk.set_geometry(gpd.points_from_xy(gk.geometry.y, gk.geometry.x), crs=4548)
    with pytest.raises(CRSError, match=r"the axes are swapped") as err:
        C.check_coordinates(swapped, source="mh.gpkg")
    assert f"values like {int(gk.geometry.y.iloc[0]):,} (northings)" in str(err.value)
    assert "Swap X and Y coordinates" in str(err.value)
    assert C.check_coordinates(gk, source="mh.gpkg") == []  # as surveyed: nothing to say


def test_far_outside_the_area_of_use_refused_where_the_crs_cannot_measure():
    # 4,980 km east of the 117°E meridian a 3° zone is no survey's: refused
    gk = _gk(_GAOTANG)
    far = gk.set_geometry(gk.geometry.translate(4_980_000, 0))
    with pytest.raises(CRSError, match=r"lie up to [\d.]+° outside .* distorts lengths by"):
        C.check_coordinates(far, source="p.gpkg")
    # 700 km east (0.5 % in lengths): measurable, so a warning naming where the CRS came from
    near = gk.set_geometry(gk.geometry.translate(700_000, 0))
    for source, declared, origin in (("p.gpkg", None, "the CRS stored in the file"),
                                     ("p.shp", None, "its .prj"),
                                     ("p.csv", "EPSG:4548", "--src-crs EPSG:4548")):
        (said,) = C.check_coordinates(near, source=source, declared=declared)
        assert f"If {origin} names the wrong zone" in said
        assert (".prj" in said) == (source == "p.shp")


@pytest.mark.parametrize("km,refused", [(450, False), (550, True)])
def test_a_stray_is_farther_than_500_km_from_the_others(km, refused):
    from pyproj import Geod

    lon, lat, _ = Geod(ellps="WGS84").fwd(*_GAOTANG[0], 90, km * 1000)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*zip(*_GAOTANG, (lon, lat))), crs=4326)
    if not refused:
        assert C.check_coordinates(pts, source="p.geojson") == []
        return
    with pytest.raises(ValueError, match=r"1 of 5 features lies apart .* feature 5: \("):
        C.check_coordinates(pts, source="p.geojson")


def test_a_wide_layer_keeps_its_far_rows_and_zero_is_refused_far_from_the_rest():
    # eight towns evenly 1,200 km along a parallel: the median town lies 300-600 km from
    # the ends, so no row is ten times farther than it: all kept
    towns = [(110.0 + 2.0 * i, 36.0) for i in range(8)]
    C.check_strays([t[0] for t in towns], [t[1] for t in towns], 4326, source="t.csv")
    # (0, 0) is refused among any others in degrees, and in metres far from the others
    with pytest.raises(ValueError, match=r"feature 3: \(0, 0\) — an address that was not geocoded"):
        C.check_coordinates(gpd.GeoDataFrame(
            geometry=[*_gk(_GAOTANG[:2]).geometry, shapely.Point(0, 0)], crs=4548), source="p.gpkg")
    with pytest.raises(ValueError, match=r"line 2: \(0, 0\)"):
        C.check_strays([0, 0.001, 0.002], [0, 0.001, 0.002], 4326, source="t.csv",
                       rows=["line 2", "line 3", "line 4"])
    # ...but a drawing in local metres may start at the projection's origin (a site plan):
    # the others 300-500 m from it, within ZERO_NEAR_KM
    C.check_strays([0, 300, 400, 500], [0, 300, 400, 500], 4548, source="plan.gpkg")
