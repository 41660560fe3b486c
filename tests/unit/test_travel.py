"""ETA models: readiness once, distance / speed, ranges out and back, vectorised."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import travel
from geo.travel import (
    DEFAULT_DETOUR,
    MODE_OF_KIND,
    air_eta_s,
    air_in_range,
    land_eta_s,
    sea_eta_s,
)


def test_every_kind_has_a_mode():
    assert MODE_OF_KIND == {
        "land_team": "land", "volunteer_team": "land", "expert_team": "land",
        "helicopter": "air", "fixed_wing": "air", "drone": "air",
        "vessel": "sea", "volunteer_vessel": "sea",
    }


def test_scalar_etas():
    assert air_eta_s(100.0, 200.0, 600) == pytest.approx(600 + 1800)
    assert isinstance(air_eta_s(100.0, 200.0, 600), float)
    assert land_eta_s(10.0, 60.0, 300, detour=1.5) == pytest.approx(300 + 900)
    assert land_eta_s(10.0, 60.0, 0) == pytest.approx(10 * DEFAULT_DETOUR * 60)
    assert sea_eta_s(37.04, 37.04, 120) == pytest.approx(120 + 3600)
    assert sea_eta_s(math.inf, 30.0, 0) == math.inf
    assert air_eta_s(0.0, 0.0, 60) == 60.0  # on the spot: readiness only
    assert air_eta_s(5.0, 0.0, 60) == math.inf  # cannot move


def test_range_is_out_and_back():
    assert air_in_range(100.0, 200.0) is True
    assert air_in_range(100.1, 200.0) is False
    assert air_in_range(1e4, None) is True
    np.testing.assert_array_equal(
        air_in_range(np.array([10, 60, 60]), np.array([100, 100, np.nan])), [True, False, True])
    np.testing.assert_array_equal(air_in_range(np.array([10, 60]), [100, None]), [True, True])


def test_vectorised_matches_scalar():
    km = np.array([0.0, 1.0, 50.0, np.inf])
    speed = np.array([30.0, 30.0, 0.0, 30.0])
    ready = np.array([60.0, 0.0, 10.0, 0.0])
    for f in (air_eta_s, sea_eta_s, land_eta_s):
        v = f(km, speed, ready)
        assert v.shape == (4,)
        for i in range(4):
            assert v[i] == f(km[i], speed[i], ready[i])
    assert travel.eta_s("sea", 37.04, 37.04, 0) == pytest.approx(3600)
    with pytest.raises(ValueError):
        travel.eta_s("rail", 1, 1, 0)


@given(st.floats(0, 1e4), st.floats(0, 1e4), st.floats(1, 1000), st.floats(0, 7200))
def test_monotone_in_distance(a, b, speed, ready):
    lo, hi = sorted((a, b))
    for f in (air_eta_s, sea_eta_s, land_eta_s):
        assert f(lo, speed, ready) <= f(hi, speed, ready)
        assert f(lo, speed, ready) >= ready
