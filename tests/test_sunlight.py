"""Sun positions against published values, shadows by hand, sunlit green by construction.

Published figures: the December solstice 2025 falls on Dec 21 15:03 UTC with
the sun at declination −23.44° (obliquity 23.436°); the March equinox on
Mar 20 09:01 UTC at declination 0; the equation of time is +16.4 min on
Nov 3 and −14.2 min on Feb 11 (its extremes, in every almanac).  At solar
noon the sun stands at 90° − |latitude − declination|; at the equator on
the equinox it rises due east and climbs 15° an hour.
"""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gcgeo import RulesError
from gcgeo.analysis import green, sunlight

CRS = "EPSG:4548"  # CGCS2000 3° zone, central meridian 117°E
X0, Y0 = 500000.0, 4080000.0  # on the central meridian, about 36.85°N: grid north is true north


# --------------------------------------------------------------------------
# the sun


def test_declination_at_the_solstice_and_the_equinox():
    sol = sunlight.solar_position(datetime.datetime(2025, 12, 21, 15, 3), 36.85, 116.23)
    assert sol.declination[0] == pytest.approx(-23.436, abs=0.01)
    eq = sunlight.solar_position(datetime.datetime(2025, 3, 20, 9, 1), 0.0, 0.0)
    assert eq.declination[0] == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("when, minutes", [("2025-11-03T12:00", 16.4), ("2025-02-11T12:00", -14.2)])
def test_equation_of_time_at_its_extremes(when, minutes):
    sun = sunlight.solar_position(np.array([when], dtype="datetime64[ns]"), 0.0, 0.0)
    assert sun.equation_of_time[0] == pytest.approx(minutes, abs=0.15)


@pytest.mark.parametrize("lat", [22.5, 36.85, 45.75, -33.9])
def test_noon_elevation_is_ninety_less_latitude_less_declination(lat):
    day = datetime.date(2025, 12, 21)
    sun = sunlight.sun_path(day, [12.0], lat=lat, lon=117.0)
    assert sun.elevation[0] == pytest.approx(90.0 - abs(lat - (-23.44)), abs=0.02)
    # due south from the north, due north where the sun passes north of the zenith
    assert sun.azimuth[0] % 360 == pytest.approx(180.0 if lat > -23.44 else 0.0, abs=1e-6)


def test_equator_on_the_equinox_the_sun_climbs_fifteen_degrees_an_hour_from_the_east():
    sun = sunlight.sun_path(datetime.date(2025, 3, 20), [7.0, 8.0, 10.0], lat=0.0, lon=0.0)
    np.testing.assert_allclose(sun.elevation, [15.0, 30.0, 60.0], atol=0.05)
    np.testing.assert_allclose(sun.azimuth, [90.0, 90.0, 90.0], atol=0.05)


def test_solar_noon_by_the_clock_is_shifted_by_longitude_and_the_equation_of_time():
    lon = 116.23
    day = datetime.date(2025, 2, 11)
    eot = sunlight.sun_path(day, [12.0], lat=36.85, lon=lon).equation_of_time[0]
    utc_minutes = 12 * 60 - 4 * lon - eot  # NOAA: solar noon = 720 − 4·lon − EoT
    when = np.datetime64("2025-02-11") + np.timedelta64(int(round(utc_minutes * 60e3)), "ms")
    sun = sunlight.solar_position(np.array([when]), 36.85, lon)
    assert sun.azimuth[0] == pytest.approx(180.0, abs=0.01)


def test_grid_north_is_true_north_on_the_central_meridian_and_turns_with_longitude():
    lat, lon, north = sunlight.grid_north(CRS, X0, Y0)
    assert lon == pytest.approx(117.0, abs=1e-6) and north == pytest.approx(0.0, abs=1e-6)
    lat, lon, north = sunlight.grid_north(CRS, X0 + 80000.0, Y0)
    # convergence ≈ Δλ · sin φ; true north lies west of grid north east of the meridian
    assert north == pytest.approx(-(lon - 117.0) * np.sin(np.radians(lat)), abs=0.01)


def test_standard_day_names_and_bad_rules():
    assert sunlight.standard_day("大寒日") == (datetime.date(2025, 1, 20), "window_dahan")
    assert sunlight.standard_day("冬至") == (datetime.date(2025, 12, 21), "window_dongzhi")
    with pytest.raises(RulesError, match="大寒日"):
        sunlight.standard_day("夏至日")
    from gcgeo import rules
    with pytest.raises(RulesError, match="sunlight.day"):
        rules.load("green", {"sunlight": {"day": {"value": "立春"}}})


# --------------------------------------------------------------------------
# shadows


def test_a_box_at_noon_casts_height_over_tan_elevation_to_the_north():
    day = datetime.date(2025, 12, 21)
    el = 90.0 - abs(36.85 + 23.44)
    sun = sunlight.sun_path(day, [12.0], lat=36.85, lon=117.0)
    s = sunlight.shadow([shapely.box(0, 0, 20, 10)], [30.0], elevation=float(sun.elevation[0]),
                        azimuth=float(sun.azimuth[0]))[0]
    length = 30.0 / np.tan(np.radians(el))  # 52.6 m
    np.testing.assert_allclose(s.bounds, (0, 0, 20, 10 + length), atol=0.05)
    assert s.area == pytest.approx(20 * (10 + length), rel=1e-3)


def test_a_shadow_to_the_north_west_covers_the_footprint_and_two_swept_bands():
    # sun in the south-east at 45°: the shadow vector is (−h/√2, +h/√2)
    w, d, h = 20.0, 10.0, 14.0
    s = sunlight.shadow([shapely.box(0, 0, w, d)], [h], elevation=45.0, azimuth=135.0)[0]
    v = h / np.sqrt(2)
    assert s.area == pytest.approx(w * d + v * d + v * w, rel=1e-9)
    np.testing.assert_allclose(s.bounds, (-v, 0, w, d + v), atol=1e-9)


def test_grid_north_turns_the_shadow():
    s = sunlight.shadow([shapely.box(0, 0, 10, 10)], [10.0], elevation=45.0, azimuth=180.0,
                        north=-90.0)[0]
    # true north is grid west: a shadow to true north falls to the grid west
    np.testing.assert_allclose(s.bounds, (-10, 0, 10, 10), atol=1e-9)


def test_shadow_of_a_courtyard_building_equals_the_ray_test():
    """Every point: in the shadow iff the ray towards the sun meets the footprint within
    height / tan(elevation) — checked on a grid, for an L-shape with a courtyard."""
    outer = shapely.Polygon([(0, 0), (60, 0), (60, 20), (30, 20), (30, 50), (0, 50)])
    footprint = outer.difference(shapely.box(8, 8, 22, 40))
    h, el, az = 6.0, 40.0, 150.0
    s = sunlight.shadow([footprint], [h], elevation=el, azimuth=az)[0]
    assert s.is_valid
    length = h / np.tan(np.radians(el))
    toward = np.array([np.sin(np.radians(az)), np.cos(np.radians(az))]) * length
    xs, ys = np.meshgrid(np.arange(-40, 100, 1.3) + 0.17, np.arange(-20, 110, 1.3) + 0.11)
    pts = np.c_[xs.ravel(), ys.ravel()]
    rays = shapely.linestrings(np.stack([pts, pts + toward], axis=1))
    by_ray = shapely.intersects(rays, footprint)
    by_shadow = shapely.contains_xy(s, pts[:, 0], pts[:, 1])
    near_edge = shapely.distance(shapely.points(pts), s.boundary) < 1e-6
    assert by_ray.sum() > 1000 and not (by_ray != by_shadow)[~near_edge].any()
    # the courtyard is partly lit: the shadow is not its outline's
    assert not s.contains(shapely.box(8, 8, 22, 40))


def test_no_shadow_without_a_height_or_with_the_sun_down():
    s = sunlight.shadow([shapely.box(0, 0, 5, 5), None, shapely.box(9, 9, 10, 10)],
                        [np.nan, 3.0, 0.0], elevation=30.0, azimuth=180.0)
    assert list(s) == [None, None, None]
    assert sunlight.shadow([shapely.box(0, 0, 5, 5)], [3.0], elevation=-1.0, azimuth=180.0)[0] is None


def test_heights_from_height_m_else_floors_times_the_storey_height():
    b = pd.DataFrame({"height_m": [18.0, None, "24米", None, "高"], "floors": [3, 7, None, None, 2]})
    h, source = sunlight.building_heights(b, storey_height=3.0)
    assert h.tolist()[:3] == [18.0, 21.0, 24.0] and np.isnan(h[3]) and h[4] == 6.0
    assert source.tolist() == ["height_m", "floors", "height_m", "", "floors"]


# --------------------------------------------------------------------------
# sunlit area


def test_sunlit_area_counts_the_hours_each_piece_is_out_of_the_shadow():
    area = shapely.box(0, 0, 40, 40)
    left, right = shapely.box(-5, -5, 20, 45), shapely.box(20, -5, 45, 45)
    shadows = [left, left, right, None]  # one hour each
    lit, m2 = sunlight.sunlit_area(area, shadows, hours_per_sample=1.0, min_hours=2.0)
    assert m2 == pytest.approx(1600.0)  # left 2 h, right 3 h
    lit, m2 = sunlight.sunlit_area(area, shadows, hours_per_sample=1.0, min_hours=3.0)
    assert m2 == pytest.approx(800.0) and lit.equals(shapely.box(20, 0, 40, 40).normalize()) \
        or lit.symmetric_difference(shapely.box(20, 0, 40, 40)).area < 1e-6
    # a sample with the sun down is shade everywhere
    lit, m2 = sunlight.sunlit_area(area, ["night", "night", right, None], hours_per_sample=1.0,
                                   min_hours=2.0)
    assert m2 == pytest.approx(800.0)  # the left half's two hours
    lit, m2 = sunlight.sunlit_area(area, ["night", "night", "night", None], hours_per_sample=1.0,
                                   min_hours=2.0)
    assert m2 == 0.0 and lit is None
    lit, m2 = sunlight.sunlit_area(area, ["night", left, None, None], hours_per_sample=1.0,
                                   min_hours=2.0)
    assert m2 == pytest.approx(1600.0)


def _green_south_of_a_slab(height=20.0, *, floors=None, slab=True):
    g = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 40, Y0 + 40)], crs=CRS)
    rows = {"height_m": [height], "floors": [floors]}
    b = gpd.GeoDataFrame(rows, geometry=[shapely.box(X0 - 500, Y0 - 20, X0 + 540, Y0 - 10)],
                         crs=CRS) if slab else None
    return g, b


def test_share_behind_a_slab_at_noon_equals_the_hand_computed_shadow():
    g, b = _green_south_of_a_slab(20.0)
    # one sample, at solar noon of 冬至日
    res, lit = sunlight.sunlit_share(g, b, day="冬至日", window=[11.75, 12.25], interval=30.0,
                                     min_hours=0.5, storey_height=3.0)
    lat = sunlight.grid_north(CRS, X0 + 20, Y0 + 20)[0]
    reach = -10.0 + 20.0 / np.tan(np.radians(90.0 - abs(lat + 23.44)))  # 25.1 m into the green
    assert res["concentrated_sunlit_share"].iloc[0] == pytest.approx((40 - reach) / 40, abs=2e-3)
    assert res["sunlight_reason"].iloc[0] == ""
    # the same slab given as 7 floors of 3 m less 1 m: floors × storey height
    g, b = _green_south_of_a_slab(None, floors=5)
    res2, _ = sunlight.sunlit_share(g, b, day="冬至日", window=[11.75, 12.25], interval=30.0,
                                    min_hours=0.5, storey_height=4.0)
    assert res2["concentrated_sunlit_share"].iloc[0] == pytest.approx(
        res["concentrated_sunlit_share"].iloc[0], abs=1e-9)


def test_share_over_the_day_equals_point_by_point_hours():
    """The whole 大寒日 window: the share equals the share of grid points whose ray
    towards the sun is clear for at least 2 h (an independent count)."""
    g, b = _green_south_of_a_slab(20.0)
    tower = shapely.box(X0 + 50, Y0 - 5, X0 + 70, Y0 + 15)
    b = pd.concat([b, gpd.GeoDataFrame({"height_m": [45.0]}, geometry=[tower], crs=CRS)],
                  ignore_index=True)
    res, _ = sunlight.sunlit_share(g, b, day="大寒日", window=[8, 16], interval=15.0,
                                   min_hours=2.0, storey_height=3.0)
    lat, lon, _ = sunlight.grid_north(CRS, X0 + 20, Y0 + 20)
    hours = 8 + (np.arange(32) + 0.5) * 0.25
    sun = sunlight.sun_path(datetime.date(2025, 1, 20), hours, lat=lat, lon=lon)
    xs, ys = np.meshgrid(np.arange(0.25, 40, 0.5), np.arange(0.25, 40, 0.5))
    pts = np.c_[xs.ravel() + X0, ys.ravel() + Y0]
    lit = np.zeros(len(pts))
    for el, az in zip(sun.elevation, sun.azimuth):
        u = np.array([np.sin(np.radians(az)), np.cos(np.radians(az))]) / np.tan(np.radians(el))
        shaded = np.zeros(len(pts), bool)
        for geom, h in zip(b.geometry, b["height_m"]):
            rays = shapely.linestrings(np.stack([pts, pts + u * h], axis=1))
            shaded |= shapely.intersects(rays, geom)
        lit += ~shaded * 0.25
    expected = float((lit >= 2.0 - 1e-9).mean())
    assert 0.05 < expected < 0.95  # the case is not trivial
    assert res["concentrated_sunlit_share"].iloc[0] == pytest.approx(expected, abs=0.01)


def test_unknown_heights_make_the_share_a_bound_and_never_pass():
    g, b = _green_south_of_a_slab(20.0)
    far = gpd.GeoDataFrame({"height_m": [None], "floors": [None]},
                           geometry=[shapely.box(X0 + 15, Y0 - 30, X0 + 25, Y0 - 25)], crs=CRS)
    b = pd.concat([b, far.assign(id="B-unknown")], ignore_index=True)
    res, _ = sunlight.sunlit_share(g, b, day="冬至日", window=[11.75, 12.25], interval=30.0,
                                   min_hours=0.5, storey_height=3.0)
    assert res["sunlight_reason"].iloc[0].startswith("at most: heights unknown for 1 buildings")
    assert "B-unknown" in res["sunlight_reason"].iloc[0]
    # no heights at all, no buildings: unknown with the reason
    none = b.assign(height_m=None, floors=None)
    res, _ = sunlight.sunlit_share(g, none, day="冬至日", window=[11.75, 12.25], interval=30.0,
                                   min_hours=0.5, storey_height=3.0)
    assert np.isnan(res["concentrated_sunlit_share"].iloc[0])
    assert res["sunlight_reason"].iloc[0].startswith("no building heights")
    res, _ = sunlight.sunlit_share(g, None, day="冬至日", window=[11.75, 12.25], interval=30.0,
                                   min_hours=0.5, storey_height=3.0)
    assert res["sunlight_reason"].iloc[0].startswith("no buildings layer")


def _layers(heights, floors=None):
    comm = gpd.GeoDataFrame({"id": ["C1"], "name": ["甲"], "population": [100]},
                            geometry=[shapely.box(X0 - 100, Y0 - 100, X0 + 140, Y0 + 140)], crs=CRS)
    gs = gpd.GeoDataFrame({"kind": ["garden"], "public": [True]},
                          geometry=[shapely.box(X0, Y0, X0 + 40, Y0 + 40)], crs=CRS)
    bld = gpd.GeoDataFrame({"id": [f"B{i}" for i in range(len(heights))], "use": "residential",
                            "height_m": heights, "floors": floors or [None] * len(heights)},
                           geometry=[shapely.box(X0 - 150 + 30 * i, Y0 - 20, X0 - 130 + 30 * i, Y0 - 10)
                                     for i in range(len(heights))], crs=CRS)
    return {"communities": comm, "green_space": gs, "buildings": bld}


def test_green_run_reports_the_share_its_requirement_and_the_pass_flag():
    low = green.run(_layers([9.0] * 11))["green_communities"].iloc[0]
    high = green.run(_layers([80.0] * 11))["green_communities"].iloc[0]
    assert low["concentrated_sunlit_req"] == pytest.approx(0.333)
    assert low["concentrated_sunlit_pass"] == True  # noqa: E712
    assert high["concentrated_sunlit_share"] < low["concentrated_sunlit_share"]
    assert high["concentrated_sunlit_pass"] == False  # noqa: E712
    assert high["concentrated_sunlit_m2"] == pytest.approx(
        high["concentrated_sunlit_share"] * high["concentrated_green_m2"])
    # unknown heights: a failing bound fails, a passing bound is unknown
    bound_fail = green.run(_layers([None] + [80.0] * 10))["green_communities"].iloc[0]
    assert bound_fail["concentrated_sunlit_pass"] == False  # noqa: E712
    assert bound_fail["sunlight_reason"].startswith("at most")
    bound_pass = green.run(_layers([9.0] * 5 + [None] + [9.0] * 5))["green_communities"].iloc[0]
    assert pd.isna(bound_pass["concentrated_sunlit_pass"])
    # nothing known: unknown, never passed
    blind = green.run(_layers([None, None]))["green_communities"].iloc[0]
    assert pd.isna(blind["concentrated_sunlit_pass"]) and pd.isna(blind["concentrated_sunlit_share"])


def test_the_rules_choose_the_day_and_the_hours():
    layers = _layers([20.0] * 11)
    dahan = green.run(layers)["green_communities"].iloc[0]["concentrated_sunlit_share"]
    dongzhi = green.run(layers, rules={"green": {"sunlight": {"day": {"value": "冬至日"}}}}
                        )["green_communities"].iloc[0]["concentrated_sunlit_share"]
    strict = green.run(layers, rules={"green": {"sunlight": {"min_hours": {"value": 8.0}}}}
                       )["green_communities"].iloc[0]["concentrated_sunlit_share"]
    assert dongzhi < dahan  # the lower winter sun casts longer shadows
    assert strict < dahan  # the whole window in the sun is harder to meet


def test_synthetic_county_share_equals_point_by_point_hours():
    from gcgeo.testing import synthetic_county

    county = synthetic_county(0)
    out = green.run(county.layers)
    gc = out["green_communities"]
    assert (gc["sunlight_reason"] == "").all()
    conc = out["green_concentrated"]
    bld = county.layers["buildings"]
    row = conc.iloc[int(np.argmin(gc.loc[gc["concentrated_green_m2"] > 0,
                                         "concentrated_sunlit_share"].to_numpy()))]
    c = shapely.centroid(row.geometry)
    lat, lon, north = sunlight.grid_north(county.crs, c.x, c.y)
    hours = 8 + (np.arange(32) + 0.5) * 0.25
    sun = sunlight.sun_path(datetime.date(2025, 1, 20), hours, lat=lat, lon=lon)
    x0, y0, x1, y1 = row.geometry.bounds
    xs, ys = np.meshgrid(np.arange(x0 + 1, x1, 2.0), np.arange(y0 + 1, y1, 2.0))
    pts = np.c_[xs.ravel(), ys.ravel()]
    pts = pts[shapely.contains_xy(row.geometry, pts[:, 0], pts[:, 1])]
    h = bld["height_m"].to_numpy(float)
    tree = shapely.STRtree(bld.geometry.to_numpy())
    lit = np.zeros(len(pts))
    for el, az in zip(sun.elevation, sun.azimuth):
        a = np.radians(az + north)
        u = np.array([np.sin(a), np.cos(a)]) / np.tan(np.radians(el))
        far = shapely.linestrings(np.stack([pts, pts + u * h.max()], axis=1))
        p, b = tree.query(far, predicate="intersects")
        rays = shapely.linestrings(np.stack([pts[p], pts[p] + u * h[b][:, None]], axis=1))
        shaded = np.zeros(len(pts), bool)
        shaded[p[shapely.intersects(rays, bld.geometry.to_numpy()[b])]] = True
        lit += ~shaded * 0.25
    expected = float((lit >= 2.0 - 1e-9).mean())
    got = gc.set_index(gc["id"])["concentrated_sunlit_share"][row["community"]]
    assert expected < 0.99  # some of it lies in the shadow
    assert got == pytest.approx(expected, abs=0.01)


def test_a_shadow_touching_the_green_along_an_edge_still_cuts_it():
    # the intersection is a polygon plus a line: the polygon's outline must cut the green
    area = shapely.box(0, 0, 2, 2)
    touching = shapely.union_all([shapely.box(1, 0, 3, 1), shapely.box(-1, 1.5, 0, 3)])
    lit, m2 = sunlight.sunlit_area(area, [touching, None], hours_per_sample=1.0, min_hours=2.0)
    assert m2 == pytest.approx(3.0)
    assert lit.symmetric_difference(shapely.Polygon([(0, 0), (1, 0), (1, 1), (2, 1), (2, 2),
                                                     (0, 2)])).area < 1e-9
