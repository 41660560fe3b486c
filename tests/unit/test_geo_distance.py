"""Sphere distances against the WGS84 ellipsoid (pyproj.Geod) and exact chord conversions."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.distance import (
    EARTH_RADIUS_KM,
    chord_to_km,
    haversine_from,
    haversine_km,
    km_to_chord,
    unit_vectors,
)

GEOD = Geod(ellps="WGS84")
lats = st.floats(-80, 80)
lons = st.floats(-180, 180)
region_lats = st.floats(20, 45)  # China's coast and well beyond
region_lons = st.floats(100, 140)


def test_known_distance_wenzhou_to_dongtou():
    # Wenzhou city centre to Dongtou (Bei'ao): about 50 km
    km = haversine_km(28.0, 120.67, 27.836, 121.157)
    _, _, m = GEOD.inv(120.67, 28.0, 121.157, 27.836)
    assert km == pytest.approx(m / 1000, rel=0.005)
    assert 45 < km < 55
    assert isinstance(km, float)


def _check(la1, lo1, la2, lo2, rel):
    _, _, m = GEOD.inv(lo1, la1, lo2, la2)
    km = haversine_km(la1, lo1, la2, lo2)
    if m < 1.0:
        assert km < 0.01
    else:
        assert km == pytest.approx(m / 1000, rel=rel)


@settings(max_examples=300, deadline=None)
@given(region_lats, region_lons, region_lats, region_lons)
def test_sphere_agrees_with_ellipsoid_within_half_percent_in_region(la1, lo1, la2, lo2):
    _check(la1, lo1, la2, lo2, 0.005)


@settings(max_examples=300, deadline=None)
@given(lats, lons, lats, lons)
def test_sphere_agrees_with_ellipsoid_everywhere_within_0_6_percent(la1, lo1, la2, lo2):
    # worst case is a short meridian arc at the equator (~0.56 %)
    _check(la1, lo1, la2, lo2, 0.006)


def test_degrees_are_not_metres():
    # one degree of longitude at Wenzhou's latitude is ~98 km, one of latitude ~111 km
    assert haversine_km(28, 120, 28, 121) == pytest.approx(98.3, rel=0.01)
    assert haversine_km(28, 120, 29, 120) == pytest.approx(111.2, rel=0.01)


def test_vectorised_broadcasting():
    la = np.array([27.0, 28.0, 29.0])
    d = haversine_km(la, 120.0, 28.0, 120.0)
    assert d.shape == (3,)
    assert d[1] == 0.0
    assert d[0] == pytest.approx(d[2], rel=1e-3)


@settings(max_examples=200, deadline=None)
@given(lats, lons, lats, lons)
def test_chord_conversions_are_exact(la1, lo1, la2, lo2):
    # Within ~100 km of the antipode both formulas lose digits (arcsin and the haversine are
    # ill-conditioned there: 7 mm apart at 20,015 km was drawn); test_chord_extremes covers it.
    assume(haversine_km(la1, lo1, la2, lo2) < 19_900)
    u = unit_vectors([la1, la2], [lo1, lo2])
    assert np.allclose(np.linalg.norm(u, axis=1), 1.0)
    chord = float(np.linalg.norm(u[0] - u[1]))
    assert chord_to_km(chord) == pytest.approx(haversine_km(la1, lo1, la2, lo2), abs=1e-6)
    km = haversine_km(la1, lo1, la2, lo2)
    assert km_to_chord(km) == pytest.approx(chord, abs=1e-9)


def test_chord_extremes():
    assert chord_to_km(0.0) == 0.0
    assert chord_to_km(2.0) == pytest.approx(np.pi * EARTH_RADIUS_KM)
    assert km_to_chord(np.pi * EARTH_RADIUS_KM) == pytest.approx(2.0)


lat_st = st.floats(-90, 90, allow_nan=False)
lon_st = st.floats(-180, 180, allow_nan=False)


@settings(max_examples=200)
@given(lat=lat_st, lon=lon_st,
       points=st.lists(st.tuples(st.one_of(lat_st, st.just(np.nan)), lon_st), max_size=20))
def test_haversine_from_equals_haversine_to_the_bit(lat, lon, points) -> None:
    """The scan's in-place haversine gives haversine_km's numbers exactly (its bounds and the
    evaluation's distances must agree), nan for nan, and leaves its inputs alone."""
    lats = np.array([p[0] for p in points], float)
    lons = np.array([p[1] for p in points], float)
    before = lats.copy(), lons.copy()
    got = haversine_from(lat, lon, lats, lons)
    want = np.atleast_1d(haversine_km(lat, lon, lats, lons))
    assert got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(lats, before[0], equal_nan=True) and np.array_equal(lons, before[1])
