"""Line of sight over water, compiled (geo/seaclear.py), held to shapely's answer: on the real
coast (segments of every length, from graph nodes and at random, on land and at sea) and on
shapes made to catch it out (holes, overlapping polygons, segments along an edge, ends on a
vertex, a point's own length)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.distance import haversine_km
from geo.seaclear import EdgeGrid
from geo.seagraph import SeaGraph


def _shapely_clear(polys, x0, y0, x1, y1) -> np.ndarray:
    union = shapely.multipolygons(list(polys))
    lines = shapely.linestrings(np.stack([np.stack([x0, y0], -1), np.stack([x1, y1], -1)], -2))
    return ~shapely.intersects(union, lines)


@pytest.fixture(scope="module")
def graph() -> SeaGraph:
    return SeaGraph.load()


def test_the_real_coast_as_shapely_sees_it(graph: SeaGraph) -> None:
    land = graph.land
    rng = np.random.default_rng(3)
    n = 60_000
    lo, hi = shapely.total_bounds(land.polys).reshape(2, 2)
    x0, y0 = rng.uniform(lo[0], hi[0], n), rng.uniform(lo[1], hi[1], n)
    scale = rng.choice([0.02, 0.3, 3.0, 40.0], n)
    x1, y1 = x0 + rng.normal(size=n) * scale, y0 + rng.normal(size=n) * scale
    nodes = rng.integers(0, graph.n, n)  # from the sea graph's nodes, as the searches ask
    xs0, ys0 = np.concatenate([x0, graph.x[nodes]]), np.concatenate([y0, graph.y[nodes]])
    xs1 = np.concatenate([x1, graph.x[nodes] + rng.normal(size=n) * 2.0])
    ys1 = np.concatenate([y1, graph.y[nodes] + rng.normal(size=n) * 2.0])
    got = land.clear(xs0, ys0, xs1, ys1)
    want = _shapely_clear(land.polys, xs0, ys0, xs1, ys1)
    assert 0.2 < want.mean() < 0.9  # (both kinds, many of each)
    assert np.array_equal(got, want)


SQUARE = shapely.box(0.0, 0.0, 4.0, 4.0)
RING = shapely.Polygon([(10, 0), (16, 0), (16, 6), (10, 6)], [[(12, 2), (14, 2), (14, 4), (12, 4)]])
A = shapely.box(20.0, 0.0, 24.0, 4.0)
B = shapely.box(22.0, 2.0, 26.0, 6.0)  # overlaps A
TRI = shapely.Polygon([(30, 0), (34, 0), (32, 3.0000001)])

CASES = [
    ((-1, 2), (5, 2)),  # through the square
    ((-1, 4), (5, 4)),  # along its top edge
    ((-1, 5), (4, 4)),  # to its corner
    ((4, 4), (6, 6)),  # from its corner out
    ((-1, -1), (-1, 5)),  # beside it
    ((1, 1), (2, 2)),  # wholly inside: touches land
    ((13, 3), (13.5, 3.5)),  # in the ring's hole: at sea
    ((13, 3), (12, 3)),  # to the hole's edge
    ((13, 3), (11, 3)),  # out of the hole onto land
    ((9, 3), (17, 3)),  # across ring and hole
    ((23, 3), (23.5, 3.5)),  # where A and B overlap
    ((21, 3), (25, 3)),  # from A through the overlap into B
    ((27, 7), (19, -1)),  # past both, through the overlap
    ((28, 1), (36, 1)),  # through the triangle
    ((32, 3.0000002), (33, 3.0000002)),  # a hair above its apex
    ((5, 5), (5, 5)),  # a point at sea
    ((2, 2), (2, 2)),  # a point on land
    ((4, 2), (4, 2)),  # a point on the coast
    ((-3, -3), (40, 8)),  # long, over everything
    ((100, 100), (101, 101)),  # beyond the grid
]


@pytest.mark.parametrize("cell", [0.5, 1.0, 3.0])
def test_shapes_made_to_catch_it_out(cell: float) -> None:
    polys = np.array([SQUARE, RING, A, B, TRI], dtype=object)
    grid = EdgeGrid(polys, cell)
    (x0, y0), (x1, y1) = np.array([c[0] for c in CASES], float).T, \
        np.array([c[1] for c in CASES], float).T
    got = grid.clear(x0, y0, x1, y1)
    want = _shapely_clear(polys, x0, y0, x1, y1)
    assert got.tolist() == want.tolist()
    assert got.tolist()[5:8] == [False, True, False]  # (the hole is sea)


@pytest.mark.parametrize("cell", [0.5, 0.7, 1.0])
def test_random_segments_over_made_shapes(cell: float) -> None:
    """(with cells of 0.5 and 1 km, the shapes' edges lie on cell borders)"""
    polys = np.array([SQUARE, RING, A, B, TRI], dtype=object)
    grid = EdgeGrid(polys, cell)
    rng = np.random.default_rng(11)
    n = 50_000
    x0, y0 = rng.uniform(-2, 38, n), rng.uniform(-2, 8, n)
    x1, y1 = x0 + rng.normal(size=n) * 3, y0 + rng.normal(size=n) * 3
    # and many on the grid's lattice and the shapes' vertices exactly
    x0[: n // 4], y0[: n // 4] = np.round(x0[: n // 4]), np.round(y0[: n // 4])
    x1[: n // 4], y1[: n // 4] = np.round(x1[: n // 4]), np.round(y1[: n // 4])
    assert np.array_equal(grid.clear(x0, y0, x1, y1), _shapely_clear(polys, x0, y0, x1, y1))


def test_no_land_at_all() -> None:
    grid = EdgeGrid(np.array([], dtype=object))
    assert grid.clear(np.array([0.0]), np.array([0.0]), np.array([5.0]),
                      np.array([5.0])).tolist() == [True]


def _shortcut_by_hops(field, km, best, qx, qy, pre) -> None:
    """The shortcut as it was written before it was compiled: hop by hop up the tree, each
    hop's legs in sight shortening km in turn (the reference)."""
    g, live = field.graph, np.isfinite(km)
    cur = best.copy()
    qlon, qlat = g.frame.lonlat(qx, qy)
    for hop in range(1, 97):
        nxt = field.pred[cur]
        cur = np.where((nxt >= 0) & (nxt < g.n), nxt, cur)
        if hop not in (2, 4, 8, 12, 16, 24, 32, 48, 64, 96):
            continue
        d = field.dist[cur] + pre + haversine_km(qlat, qlon, g.lat[cur], g.lon[cur])
        idx = np.flatnonzero(live & (d < km))
        if len(idx):
            vis = _shapely_clear(g.land.polys, qx[idx], qy[idx], g.x[cur[idx]], g.y[cur[idx]])
            km[idx[vis]] = d[idx[vis]]


def test_the_shortcut_equals_the_hop_by_hop_one(graph: SeaGraph) -> None:
    """The shortest leg in sight, tried shortest first, is the km the hop-by-hop shortcut
    reached: bit for bit, from sea incidents to points around them."""
    rng = np.random.default_rng(8)
    shortened = 0
    for lat, lon in zip(rng.uniform(27.4, 28.2, 6), rng.uniform(121.0, 121.8, 6), strict=True):
        field = graph.field_from(lat, lon)
        if field.dist is None:
            continue
        tl = lat + rng.normal(size=400) * 0.3
        tn = lon + rng.normal(size=400) * 0.3
        qx, qy, pre, nodes, legs, _ = graph._snap(tl, tn)
        tot = np.where(nodes >= 0, field.dist[np.maximum(nodes, 0)] + legs, np.inf)
        km0 = tot.min(axis=1)
        best = np.maximum(nodes[np.arange(len(km0)), tot.argmin(axis=1)], 0)
        got, want = km0.copy(), km0.copy()
        field._shortcut(got, best, qx, qy, pre)
        _shortcut_by_hops(field, want, best, qx, qy, pre)
        assert np.array_equal(got, want)
        shortened += int(np.count_nonzero(got < km0))
    assert shortened > 100  # (it does shorten)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning",
                            "ignore:overflow:RuntimeWarning")  # (shapely, on those ends)
def test_far_and_broken_ends() -> None:
    """A segment to an end far beyond any int still crosses the land on its way (as
    shapely sees it); ends that are not numbers read no cell outside the grid's arrays."""
    polys = np.array([SQUARE], dtype=object)
    grid = EdgeGrid(polys, 0.5)
    x0, y0 = np.array([-1.0, -1.0, 1e300]), np.array([2.0, 2.0, 2.0])
    x1, y1 = np.array([1e300, np.inf, -1.0]), np.array([2.0, 2.0, 2.0])
    assert grid.clear(x0, y0, x1, y1).tolist() == [False, False, False]
    assert _shapely_clear(polys, x0[:1], y0[:1], x1[:1], y1[:1]).tolist() == [False]
    nan = grid.clear(np.array([np.nan, 2.0]), np.array([2.0, np.nan]), np.array([5.0, 2.0]),
                     np.array([2.0, 3.0]))
    assert nan.dtype == bool and nan.shape == (2,)
