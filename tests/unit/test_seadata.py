"""The committed sea graph over the real Wenzhou land mask."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.distance import haversine_km
from geo.seagraph import DEFAULT_PATH, SeaGraph, land_digest, read_land

WENZHOU_SEA = (120.6, 27.0, 121.9, 28.4)  # lon_min, lat_min, lon_max, lat_max


@pytest.fixture(scope="module")
def polys():
    return read_land()


@pytest.fixture(scope="module")
def land(polys):
    g = shapely.multipolygons(polys)
    shapely.prepare(g)
    return g


@pytest.fixture(scope="module")
def graph(polys) -> SeaGraph:
    return SeaGraph.load(land=polys)


def sea_points(land, n, seed):
    rng = np.random.default_rng(seed)
    lo0, la0, lo1, la1 = WENZHOU_SEA
    lon, lat = rng.uniform(lo0, lo1, 4 * n), rng.uniform(la0, la1, 4 * n)
    sea = ~shapely.intersects_xy(land, lon, lat)
    return np.column_stack([lat[sea], lon[sea]])[:n]


def test_committed_graph_matches_the_land_mask(polys):
    with np.load(DEFAULT_PATH) as z:
        assert str(z["land_digest"]) == land_digest(polys)
    assert DEFAULT_PATH.stat().st_size < 3_000_000


def test_random_routes_stay_at_sea(graph, land):
    pts = sea_points(land, 120, seed=7)
    for a, b in zip(pts[0::2], pts[1::2], strict=True):
        r = graph.route(*a, *b)
        assert r is not None
        line = shapely.LineString([(lon, lat) for lat, lon in r.coords])
        assert not line.intersects(land)
        assert r.km >= haversine_km(*a, *b) - 1e-9


def test_field_reaches_every_vessel_like_routes_do(graph, land):
    pts = sea_points(land, 41, seed=11)
    src, vessels = pts[0], pts[1:]
    km = graph.field_from(*src).km_to(vessels[:, 0], vessels[:, 1])
    routes = np.array([graph.route(*src, *v).km for v in vessels])
    assert np.all(np.isfinite(km))
    assert np.all(km >= routes * 0.98)
    assert np.all(km <= routes * 1.05 + 0.5)


def test_islands_not_bridged_still_reachable_by_sea(graph, land):
    nanji = (27.47, 121.12)  # off Nanji island
    wenzhou_bay = (27.75, 120.95)
    r = graph.route(*wenzhou_bay, *nanji)
    assert r is not None and not shapely.LineString(
        [(lon, lat) for lat, lon in r.coords]).intersects(land)
