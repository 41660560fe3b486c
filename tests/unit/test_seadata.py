"""The committed sea graph over the real Wenzhou land mask."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.distance import haversine_km
from geo.layers import LayerStore
from geo.seagraph import DEFAULT_PATH, SeaGraph, land_digest, read_land

WENZHOU_SEA = (120.6, 27.0, 121.9, 28.4)  # lon_min, lat_min, lon_max, lat_max
DONGTOU = (27.836, 121.157)  # Bei'ao, Dongtou main island
# Up-river ports: the OSM coastline crosses the Oujiang near 120.82 E and the Feiyun near its
# mouth, so these lie 6-17 km "inland" and have no sea route (see geo/data/ATTRIBUTION.md).
RIVER_PORTS = {"port-qidu", "sb-qidu", "port-anlan", "port-ruian"}


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


def _line(route) -> shapely.LineString:
    return shapely.LineString([(lon, lat) for lat, lon in route.coords])


def _layer_points(name: str) -> dict[str, tuple[float, float]]:
    fc = LayerStore.load().get(name)
    return {f["properties"]["id"]: (f["geometry"]["coordinates"][1],
                                    f["geometry"]["coordinates"][0]) for f in fc["features"]}


def test_dongtou_wharf_goes_around_the_island(graph, land):
    wharf = _layer_points("standby_points")["sb-dongtou"]
    lon, lat, _ = Geod(ellps="WGS84").fwd(DONGTOU[1], DONGTOU[0], 90.0, 30_000.0)
    r = graph.route(*wharf, lat, lon)
    assert r is not None
    straight = shapely.LineString([(wharf[1], wharf[0]), (lon, lat)])
    assert straight.intersects(land)  # the island is in the way
    assert r.km > haversine_km(*wharf, lat, lon) + 0.05
    # the wharf sits a few hundred metres inland of the mask's coast: skip that shore leg
    assert r.coords[0] == wharf and haversine_km(*r.coords[0], *r.coords[1]) < 1.0
    assert not shapely.LineString([(b, a) for a, b in r.coords[1:]]).intersects(land)


def test_standby_points_and_coastal_ports_route(graph):
    pts = _layer_points("standby_points") | _layer_points("ports")
    field = graph.field_from(27.6, 121.5)  # open sea east of Wenzhou
    ids = sorted(pts)
    km = field.km_to([pts[i][0] for i in ids], [pts[i][1] for i in ids])
    routed = {i for i, k in zip(ids, km, strict=True) if np.isfinite(k)}
    assert {"sb-dongtou", "sb-nanji", "sb-luxi", "fish-dongtou", "fish-nanji"} <= routed
    assert routed == set(ids) - RIVER_PORTS


def test_demo_vessels_reach_the_sea(graph):
    from pathlib import Path

    reg = Path(__file__).resolve().parents[2] / "rescue" / "demo" / "registry.json"
    boats = [r for r in json.loads(reg.read_text(encoding="utf-8"))["resources"]
             if r["kind"] in ("vessel", "volunteer_vessel")]
    km = graph.field_from(27.6, 121.5).km_to([r["home"]["lat"] for r in boats],
                                             [r["home"]["lon"] for r in boats])
    assert np.all(np.isfinite(km)), [r["id"] for r, k in zip(boats, km, strict=True)
                                     if not np.isfinite(k)]
