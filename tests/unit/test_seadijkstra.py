"""The compiled sea search (geo/seadijkstra.py) against scipy's dijkstra, which it replaced:
the same distances bit for bit and the same predecessors, on the real sea graph, from sea
incidents and bounded as the dispatcher bounds it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.seadijkstra import NO_PRED, bounded_dijkstra
from geo.seagraph import SLOTS, SeaGraph


@pytest.fixture(scope="module")
def graph() -> SeaGraph:
    return SeaGraph.load()


def _with_source(g: SeaGraph, nodes: np.ndarray, legs: np.ndarray) -> csr_matrix:
    """The graph with one more row: the virtual source n, joined as the search joins it."""
    m = g.graph
    return csr_matrix((np.concatenate([m.data, legs]),
                       np.concatenate([m.indices, nodes.astype(m.indices.dtype)]),
                       np.concatenate([m.indptr, [m.indptr[-1] + len(nodes)]])),
                      shape=(g.n + 1, g.n + 1))


@pytest.mark.parametrize("limit", [5.0, 20.0, 60.0, np.inf])
def test_the_search_equals_scipys(graph: SeaGraph, limit: float) -> None:
    rng = np.random.default_rng(int(limit) if np.isfinite(limit) else 99)
    lat = rng.uniform(27.2, 28.3, 40)
    lon = rng.uniform(120.9, 121.9, 40)
    _, _, _, nodes, legs, _ = graph._snap(lat, lon)
    searched = differ = total = 0
    for nd, lg in zip(nodes, legs, strict=True):
        ok = nd >= 0
        if not ok.any():
            continue
        nd, lg = nd[ok][:SLOTS].astype(np.int64), lg[ok][:SLOTS]
        want_d, want_p = dijkstra(_with_source(graph, nd, lg), directed=True, indices=graph.n,
                                  return_predecessors=True, limit=limit)
        got_d, got_p = graph._search(nd, lg, limit)
        assert np.array_equal(got_d, want_d)
        assert got_p[graph.n] == NO_PRED and got_d[graph.n] == 0.0
        # The same tree but where two ways are exactly as long: each node is reached from
        # its predecessor by the very sum that gave its distance.
        reached = np.flatnonzero(np.isfinite(got_d[: graph.n]))
        assert np.array_equal(reached, np.flatnonzero(want_p[: graph.n] != NO_PRED))
        p = got_p[reached]
        via = p < graph.n
        w = np.asarray(graph.graph[p[via], reached[via]]).ravel()
        assert np.array_equal(got_d[reached[via]], got_d[p[via]] + w)
        assert all(got_d[v] == lg[nd == v].min() for v in reached[~via].tolist())
        differ += int(np.count_nonzero(got_p != want_p))
        total += len(reached)
        searched += 1
    assert searched >= 10
    assert differ <= total // 10_000  # (ties of exactly equal ways: 1 node in 2.4M here)


def test_a_tiny_graph_by_hand() -> None:
    """0 -1- 1 -1- 2, and 0 -5- 2: the source joins 0 at 0.5; bounded at 2.0, node 2 (2.5
    away) is out of reach."""
    indptr = np.array([0, 2, 4, 6], np.int32)
    indices = np.array([1, 2, 0, 2, 1, 0], np.int32)
    w = np.array([1.0, 5.0, 1.0, 1.0, 1.0, 5.0])
    src = (np.array([0], np.int64), np.array([0.5]))
    d, p = bounded_dijkstra(indptr, indices, w, 3, *src, np.inf)
    assert d.tolist() == [0.5, 1.5, 2.5, 0.0] and p.tolist() == [3, 0, 1, NO_PRED]
    d, p = bounded_dijkstra(indptr, indices, w, 3, *src, 2.0)
    assert d.tolist() == [0.5, 1.5, np.inf, 0.0] and p.tolist() == [3, 0, NO_PRED, NO_PRED]
