"""Line of sight over water, compiled (geo/seaclear.py), held to shapely's answer: on the real
coast (segments of every length, from graph nodes and at random, on land and at sea) and on
shapes made to catch it out (holes, overlapping polygons, segments along an edge, ends on a
vertex, a point's own length)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

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
    want = land.clear_by_shapely(xs0, ys0, xs1, ys1)
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
