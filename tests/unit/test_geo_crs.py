"""GCJ-02 <-> WGS84: round trip under half a metre, and the offset is the known few hundred m."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_offset_in_wenzhou_is_a_few_hundred_metres():
    lon, lat = 120.6994, 27.9938  # Wenzhou city centre
    glon, glat = wgs84_to_gcj02(lon, lat)
    d = _metres(lon, lat, glon, glat)
    assert 300 < d < 700
    assert glon > lon and glat < lat  # the datum shifts east and south here


def test_reference_vector():
    # the test vector of the eviltransform reference implementations (Shanghai)
    glon, glat = wgs84_to_gcj02(121.5272106, 31.1774276)
    assert glat == pytest.approx(31.17530398364597, abs=1e-9)
    assert glon == pytest.approx(121.531541859215, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(st.floats(18.0, 53.0), st.floats(74.0, 134.0))
def test_round_trip_under_half_a_metre(lat, lon):
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, wlon, wlat) < 0.5


def test_vectorised_and_outside_china_untouched():
    lon = np.array([120.7, 121.2, 0.0])
    lat = np.array([28.0, 27.8, 51.5])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == (3,)
    assert glon[2] == 0.0 and glat[2] == 51.5
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.allclose(wlon, lon, atol=1e-7) and np.allclose(wlat, lat, atol=1e-7)
    assert isinstance(gcj02_to_wgs84(120.7, 28.0)[0], float)
    assert gcj02_to_wgs84(120.7, 28.0)[0] == pytest.approx(120.7, abs=0.01)
