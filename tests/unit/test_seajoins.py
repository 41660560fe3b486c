"""The sea graph's remembered joins give what joining anew gives, however they grow and clear."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.seajoins import Joins


def compute(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, ...]:
    """A stand-in join: every part a function of the point alone, in the real parts' shapes."""
    calls.append(len(lat))
    k = 3
    nodes = (np.round(lat * 100).astype(np.int64)[:, None] + np.arange(k)) * (lon[:, None] > 0)
    return (lat * 2, lon * 2, lat + lon, nodes, lat[:, None] + np.arange(k) * 0.5, lat > 27.5)


calls: list[int] = []


@settings(max_examples=60, deadline=None)
@given(asks=st.lists(st.lists(st.integers(0, 40), max_size=30), min_size=1, max_size=8),
       limit=st.integers(5, 60))
def test_joins_read_back_what_was_computed(asks: list[list[int]], limit: int) -> None:
    joins = Joins(limit)
    batch = 0
    for ask in asks:
        lat = 27.0 + np.array(ask, float) / 40
        lon = 120.0 + np.array(ask, float) / 80
        keys = list(zip(lat.tolist(), lon.tolist(), strict=True))
        calls.clear()
        got = joins.join(keys, lat, lon, compute) if keys else None
        if got is None:
            continue
        want = compute(lat, lon)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
            assert g.dtype == w.dtype
        batch = max(batch, len(set(keys)))
        assert len(joins) <= max(limit, batch)  # bounded (one ask's points may pass it)


def test_known_points_are_not_joined_again() -> None:
    joins = Joins(1000)
    lat, lon = np.array([27.1, 27.2, 27.1]), np.array([120.1, 120.2, 120.1])
    keys = list(zip(lat.tolist(), lon.tolist(), strict=True))
    calls.clear()
    joins.join(keys, lat, lon, compute)
    joins.join(keys[:2], lat[:2], lon[:2], compute)
    assert calls == [3] and len(joins) == 2 and (27.2, 120.2) in joins
