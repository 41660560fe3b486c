"""The sea graph's bounded shortest-path search, compiled with Numba.

Why not scipy.sparse.csgraph.dijkstra, which it replaces: a maritime suggestion's first ask
runs one search from the incident, bounded by what the ranking needs (20-100 km, 1,500-15,000
of the graph's 62,000 nodes), and that search was most of the ask. The compiled one settles
the same nodes in the same order of distance with a binary heap over the graph's own arrays,
about twice as fast, and takes the source's joins as arguments instead of rewriting a shared
row of the matrix under a lock.

Distances equal scipy's bit for bit (each node's is the least of its settled neighbours'
sums, whatever the order of equal keys; a test compares the two); predecessors may differ
only between paths of exactly equal length.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NO_PRED = -9999  # (scipy's value for the source and unreached nodes)


@njit(cache=True, nogil=True)
def bounded_dijkstra(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, n: int,
                     src_nodes: np.ndarray, src_legs: np.ndarray,
                     limit: float) -> tuple[np.ndarray, np.ndarray]:
    """(dist, pred) over nodes 0..n-1 plus a virtual source n joined to `src_nodes` by
    `src_legs`: dist inf beyond `limit` (as scipy's `limit`), pred NO_PRED where none."""
    dist = np.full(n + 1, np.inf)
    pred = np.full(n + 1, NO_PRED, np.int64)
    done = np.zeros(n + 1, np.bool_)
    # a binary min-heap of (distance, node) with a node's place in it (-1: not in it), so a
    # shorter way found lowers its key instead of adding an entry (as scipy's heap does)
    hk = np.empty(n + 1)
    hv = np.empty(n + 1, np.int64)
    where = np.full(n + 1, -1, np.int64)
    size = 0
    dist[n] = 0.0
    done[n] = True
    for j in range(src_nodes.shape[0]):
        size = _relax(src_nodes[j], src_legs[j], n, limit, dist, pred, hk, hv, where, size)
    while size:
        d, u = hk[0], hv[0]
        where[u] = -1
        size -= 1
        if size:
            _down(hk, hv, where, size, hk[size], hv[size])
        done[u] = True
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if done[v]:
                continue
            size = _relax(v, d + weights[e], u, limit, dist, pred, hk, hv, where, size)
    return dist, pred


@njit(cache=True, nogil=True)
def _relax(v: int, nd: float, u: int, limit: float, dist: np.ndarray, pred: np.ndarray,
           hk: np.ndarray, hv: np.ndarray, where: np.ndarray, size: int) -> int:
    """Node v reached from u at nd: kept when within the limit and shorter (a node in the
    heap has its key lowered, else it joins); returns the heap's size."""
    if nd <= limit and nd < dist[v]:
        dist[v] = nd
        pred[v] = u
        if where[v] < 0:
            where[v] = size
            size += 1
        _up(hk, hv, where, where[v], nd, v)
    return size


@njit(cache=True, nogil=True)
def _up(hk: np.ndarray, hv: np.ndarray, where: np.ndarray, i: int, key: float,
        val: int) -> None:
    """Place (key, val) at heap slot i, or above it while its parent's key is greater."""
    while i:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i], hv[i] = hk[p], hv[p]
        where[hv[i]] = i
        i = p
    hk[i], hv[i] = key, val
    where[val] = i


@njit(cache=True, nogil=True)
def _down(hk: np.ndarray, hv: np.ndarray, where: np.ndarray, size: int, key: float,
          val: int) -> None:
    """Put (key, val) at the root of a heap of `size` entries and sift it down."""
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= key:
            break
        hk[i], hv[i] = hk[c], hv[c]
        where[hv[i]] = i
        i = c
    hk[i], hv[i] = key, val
    where[val] = i


def warm() -> None:
    """Compile the search now (cached on disk after a machine's first run): a server's first
    maritime suggestion would otherwise hold its loop for the compile."""
    bounded_dijkstra(np.array([0, 1, 2], np.int32), np.array([1, 0], np.int32), np.ones(2), 2,
                     np.array([0], np.int64), np.array([0.5]), 10.0)  # (the graph's dtypes)
