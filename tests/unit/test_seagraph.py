"""Sea routing on synthetic land: a coast, two islands with a narrow strait, one square island."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import haversine_km
from geo.seagraph import SeaGraph

BBOX = (120.0, 27.0, 120.6, 27.5)
COAST = shapely.box(119.9, 26.9, 120.1, 27.6)  # mainland: everything west of lon 120.1
SQUARE = shapely.box(120.3, 27.3, 120.4, 27.4)  # a square island
# two islands split by a ~300 m strait at lon 120.25 (0.003 deg of lon ~ 0.3 km)
WEST = shapely.box(120.2, 27.05, 120.2485, 27.2)
EAST = shapely.box(120.2515, 27.05, 120.3, 27.2)
POLYS = [COAST, SQUARE, WEST, EAST]
LAND = shapely.multipolygons(POLYS)


@pytest.fixture(scope="module")
def graph() -> SeaGraph:
    return SeaGraph.build(POLYS, BBOX, spacing_km=1.0, coast_offset_km=0.05, coast_step_km=0.25)


def polyline(route, skip_shore: bool = False) -> shapely.LineString:
    coords = route.coords[1:] if skip_shore else route.coords
    return shapely.LineString([(lon, lat) for lat, lon in coords])


def path_km(points) -> float:
    p = np.asarray(points)
    return float(haversine_km(p[:-1, 0], p[:-1, 1], p[1:, 0], p[1:, 1]).sum())


def test_open_water_route_is_the_great_circle(graph):
    r = graph.route(27.47, 120.15, 27.44, 120.55)
    gc = haversine_km(27.47, 120.15, 27.44, 120.55)
    assert r is not None
    assert r.km == pytest.approx(gc, rel=1e-9)
    assert not polyline(r).intersects(LAND)


def test_route_goes_around_an_island_close_to_the_true_shortest(graph):
    a, b = (27.35, 120.27), (27.35, 120.43)
    r = graph.route(*a, *b)
    assert r is not None
    assert not polyline(r).intersects(LAND)
    # true shortest: over the island's near corners (either side, symmetric)
    best = min(path_km([a, (27.4, 120.3), (27.4, 120.4), b]),
               path_km([a, (27.3, 120.3), (27.3, 120.4), b]))
    assert best <= r.km <= best * 1.03
    assert r.km > haversine_km(*a, *b)


def test_narrow_strait_stays_navigable(graph):
    a, b = (27.22, 120.25), (27.03, 120.25)
    r = graph.route(*a, *b)
    assert r is not None
    assert not polyline(r).intersects(LAND)
    # through the strait: about the straight line, not around the islands (~+10 km)
    assert r.km < haversine_km(*a, *b) * 1.05


def test_shore_point_on_land_starts_a_route(graph):
    port = (27.25, 120.095)  # on the mainland, ~0.5 km from the water
    assert LAND.contains(shapely.Point(port[1], port[0]))
    r = graph.route(*port, 27.25, 120.5)
    assert r is not None
    assert r.coords[0] == port
    assert haversine_km(*r.coords[0], *r.coords[1]) < 2.0
    assert not polyline(r, skip_shore=True).intersects(LAND)
    assert r.km >= haversine_km(*port, 27.25, 120.5)


def test_inland_point_has_no_sea_route(graph):
    assert graph.route(27.25, 120.0, 27.25, 120.5) is None  # 10 km inland
    f = graph.field_from(27.25, 120.5)
    assert np.isinf(f.km_to([27.25], [120.0]))[0]


def test_point_outside_the_bbox_joins_by_open_ocean_leg(graph):
    far = (27.3, 121.2)
    r = graph.route(27.35, 120.27, *far)
    assert r is not None
    assert r.coords[-1] == far
    assert r.km >= haversine_km(27.35, 120.27, *far)
    assert not polyline(r).intersects(LAND)


def test_field_matches_routes(graph):
    src = (27.35, 120.27)
    rng = np.random.default_rng(3)
    pts = []
    while len(pts) < 60:
        lat, lon = rng.uniform(27.0, 27.5), rng.uniform(120.1, 120.6)
        if not LAND.contains(shapely.Point(lon, lat)):
            pts.append((lat, lon))
    pts = np.asarray(pts)
    field = graph.field_from(*src)
    km = field.km_to(pts[:, 0], pts[:, 1])
    assert km.shape == (60,)
    gc = haversine_km(src[0], src[1], pts[:, 0], pts[:, 1])
    routes = np.array([graph.route(*src, *p).km for p in pts])
    assert np.all(km >= gc - 1e-9)
    # the field is the graph distance shortcut by lines of sight: within a few % of the route
    assert np.all(km >= routes * 0.98)
    assert np.all(km <= routes * 1.05 + 0.3)
    p = field.path_to(*pts[0])
    assert p is not None and p.km == pytest.approx(routes[0], rel=1e-6)


sea_lat = st.floats(27.0, 27.5)
sea_lon = st.floats(120.1, 120.6)


@settings(max_examples=60, deadline=None)
@given(sea_lat, sea_lon, sea_lat, sea_lon)
def test_routes_never_cross_land_nor_beat_the_great_circle(graph, la1, lo1, la2, lo2):
    r = graph.route(la1, lo1, la2, lo2)
    on_land = [LAND.intersects(shapely.Point(lo, la)) for la, lo in ((la1, lo1), (la2, lo2))]
    if r is None:
        assert any(on_land)
        return
    assert r.km >= haversine_km(la1, lo1, la2, lo2) - 1e-9
    coords = r.coords[int(on_land[0]): len(r.coords) - int(on_land[1])]
    if len(coords) > 1:
        assert not shapely.LineString([(lo, la) for la, lo in coords]).intersects(LAND)
    assert r.coords[0] == (la1, lo1) and r.coords[-1] == (la2, lo2)


def test_field_mixes_moored_outside_and_inland_targets(graph):
    src = (27.35, 120.27)
    lats, lons = [27.25, 27.3, 27.25, 27.45], [120.095, 121.2, 120.0, 120.5]
    km = graph.field_from(*src).km_to(lats, lons)
    assert np.isinf(km[2])  # 10 km inland
    for i in (0, 1, 3):
        r = graph.route(*src, lats[i], lons[i])
        assert r is not None
        assert r.km * 0.98 <= km[i] <= r.km * 1.05


def test_field_limit_makes_far_targets_unreachable(graph):
    src = (27.35, 120.27)
    lats, lons = [27.45, 27.3], [120.3, 121.2]  # ~11 km and ~90 km away
    full = graph.field_from(*src).km_to(lats, lons)
    assert np.all(np.isfinite(full)) and full[0] < 30 < full[1]
    near = graph.field_from(*src, limit_km=30.0).km_to(lats, lons)
    assert near[0] == pytest.approx(full[0]) and np.isinf(near[1])
    # a limit beyond every node: the search completes, the far target is still beyond it
    wide = graph.field_from(*src, limit_km=85.0)
    assert wide.km_to(lats, lons)[0] == full[0] and np.isinf(wide.km_to(lats, lons)[1])


def test_prepared_points_are_joined_once_and_answer_alike(graph):
    lats = np.array([27.45, 27.44, 27.25, 27.10, 27.35])  # open water, the far side of the
    lons = np.array([120.15, 120.55, 120.45, 120.50, 120.20])  # islands, near the coast
    before = graph.field_from(27.47, 120.15).km_to(lats, lons)
    assert np.isfinite(before).all()
    graph._snaps.clear()
    pauses: list[int] = []
    graph.prepare(lats, lons, pause=lambda: pauses.append(len(graph._snaps)), chunk=2)
    assert pauses == [2, 4, 5]  # a chunk at a time, the caller's loop let run between
    assert all((la, lo) in graph._snaps for la, lo in zip(lats.tolist(), lons.tolist(), strict=True))
    np.testing.assert_array_equal(graph.field_from(27.47, 120.15).km_to(lats, lons), before)
