"""The compiled, resumable sea search (geo/seafrontier.py) against scipy's Dijkstra on the
committed sea graph: the same distances and predecessors, whether grown at once or in steps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.seafrontier import Frontier

# the bench's kind of incidents: open sea, behind islands, near the shore, beyond the bbox
SOURCES = [(27.6, 121.5), (27.85, 121.3), (27.45, 121.0), (27.99, 121.19), (28.3, 121.7),
           (27.47, 120.95), (27.95, 120.9)]


@pytest.fixture(scope="module")
def sea():
    from tests.unit.test_dispatch_helpers import geography

    return geography().sea


def _scipy(sea, nodes: np.ndarray, legs: np.ndarray, limit: float):
    """scipy's search from a virtual source row joined by these legs (the previous code)."""
    g, n = sea.graph, sea.n
    ok = nodes >= 0
    nd, lg = nodes[ok], legs[ok]
    m = csr_matrix((np.concatenate([g.data, lg]), np.concatenate([g.indices, nd]),
                    np.concatenate([g.indptr, [g.indptr[-1] + len(nd)]])), shape=(n + 1, n + 1))
    return dijkstra(m, directed=True, indices=n, return_predecessors=True, limit=limit)


@pytest.mark.parametrize("source", SOURCES)
def test_frontier_settles_what_scipy_settles(sea, source):
    """Grown to each bound, the settled nodes, their distances and predecessors are scipy's
    search to that bound; grown in steps, the same as grown at once; at the end, the whole
    graph's."""
    _, _, _, nodes, legs, _ = sea._snap([source[0]], [source[1]])
    stepped = sea._frontier(nodes[0], legs[0])
    assert stepped is not None
    for limit in (5.0, 20.0, 45.0, 90.0, np.inf):
        grew = stepped.grow(limit)
        assert grew
        once = sea._frontier(nodes[0], legs[0])
        once.grow(limit)
        dist, pred = _scipy(sea, nodes[0], legs[0], limit)
        for f in (stepped, once):
            inside = f.dist <= limit
            np.testing.assert_array_equal(inside, np.isfinite(dist))
            np.testing.assert_array_equal(f.dist[inside], dist[inside])
            np.testing.assert_array_equal(f.pred[inside], pred[inside])
            # beyond the bound: tentative upper bounds only, never below it
            assert np.all(f.dist[~inside] > limit)
        assert not stepped.grow(limit)  # already that far
    assert stepped.done and np.isinf(stepped.radius)
    assert stepped.settled == np.isfinite(stepped.dist[:-1]).sum()


def test_tentative_distances_bound_the_final_ones(sea):
    _, _, _, nodes, legs, _ = sea._snap([27.85], [121.3])
    f = sea._frontier(nodes[0], legs[0])
    f.grow(30.0)
    seen = np.flatnonzero(np.isfinite(f.dist[:-1]) & (f.dist[:-1] > 30.0))
    assert len(seen)
    before = f.tentative(seen).copy()
    f.grow(np.inf)
    assert np.all(f.dist[seen] <= before)
    assert np.any(f.dist[seen] < before)  # some were only upper bounds


def test_a_point_joined_nowhere_has_no_frontier(sea):
    assert sea._frontier(np.array([-1, -1]), np.array([np.inf, np.inf])) is None


def test_frontier_on_a_tiny_graph():
    """A path 0 - 1 - 2 and an island 3: the order, the tentative bound, the unreached."""
    indptr = np.array([0, 1, 3, 4, 4, 4])
    indices = np.array([1, 0, 2, 1], np.int32)
    data = np.array([1.0, 1.0, 2.0, 2.0])
    f = Frontier(indptr, indices, data, 4, np.array([0]), np.array([0.5]))
    assert f.grow(1.0)
    assert f.dist[:4].tolist() == [0.5, 1.5, np.inf, np.inf]  # 1 seen at 1.5, not settled
    assert f.settled == 1
    f.grow(2.0)
    assert f.dist[:4].tolist() == [0.5, 1.5, 3.5, np.inf]  # 2 seen at 3.5, not settled
    assert f.pred[:4].tolist() == [4, 0, 1, -9999]
    f.grow(np.inf)
    assert f.done and f.settled == 3 and np.isinf(f.dist[3])
