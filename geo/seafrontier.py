"""A shortest-path search over the sea graph that can be taken further later, compiled.

Why: a maritime suggestion needs sea km only out to the vessels the ranking asks for, and which
those are, and how far by water, is known only as it goes. scipy's `dijkstra` answers one
bound per call: too short and the next call starts again from the incident, too long and it
settles nodes no answer needs (its cost grows with the square of the reach), plus ~0.15 ms of
set-up a call. A `Frontier` keeps its heap between calls, so a search grows to exactly the
reach its targets turn out to need (`SeaSearch.km`), and a later request for the same incident
takes it on from where it stopped.

It settles nodes by distance as scipy's search does and gives the same distances (the same
float sums along the same paths) and, on the committed graph, the same predecessors (its heap
could break an exact tie between two paths otherwise; tests/unit/test_seafrontier.py checks
both): a search grown to L in steps has settled exactly what one grown to L at once has, and
what a search of the whole graph has within L.

After `grow(L)`: every node whose distance is <= L is settled (its `dist` and `pred` final);
nodes seen but not settled hold a tentative distance > L (an upper bound of their own); the
others inf. Readers that want a bounded field's view mask `dist > L` (geo.seagraph.SeaField).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_UNSEEN, _SETTLED = -1, -2
NO_PRED = -9999  # scipy's mark for a node without predecessor


class Frontier:
    """One search from a virtual source joined to `seeds` by legs of `seed_km`.

    `indptr`/`indices`/`data`: the sea graph in CSR over its n nodes (row n, the virtual
    source's, is not read: the seeds stand for it)."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int,
                 seeds: np.ndarray, seed_km: np.ndarray) -> None:
        self._graph = (indptr, indices, data)
        self.dist = np.full(n + 1, np.inf)
        self.pred = np.full(n + 1, NO_PRED, np.int32)
        self._pos = np.full(n + 1, _UNSEEN, np.int32)
        self._heap = np.empty(n + 1, np.int32)
        self._keys = np.empty(n + 1)
        self._size = _seed(np.asarray(seeds, np.int32), np.asarray(seed_km, float), n,
                           self.dist, self.pred, self._pos, self._heap, self._keys)
        self.radius = 0.0 if self._size else np.inf  # every node within it is settled
        self.settled = 0

    @property
    def done(self) -> bool:
        """Every node the source reaches is settled."""
        return self._size == 0

    def grow(self, limit: float) -> bool:
        """Settle every node within `limit` km (inf: all of them); False if nothing was left
        to do (already that far)."""
        if limit <= self.radius:
            return False
        indptr, indices, data = self._graph
        self._size, count = _grow(indptr, indices, data, float(limit), self.dist, self.pred,
                                  self._pos, self._heap, self._keys, self._size)
        self.settled += count
        self.radius = float(limit) if self._size else np.inf
        if not self._size:  # complete: what resuming needs can go (1 MB)
            self._pos = self._heap = np.empty(0, np.int32)
            self._keys = np.empty(0)
        return True

    def tentative(self, nodes: np.ndarray) -> np.ndarray:
        """The distance of these nodes as known now: final within `radius`, else an upper
        bound (inf where not yet seen)."""
        return self.dist[nodes]


@njit(cache=True, nogil=True)
def _seed(seeds, seed_km, source, dist, pred, pos, heap, keys):  # pragma: no cover - compiled
    """Settle the virtual source: its legs relaxed in order, as scipy relaxes its edges."""
    dist[source] = 0.0
    pos[source] = _SETTLED
    size = 0
    for e in range(seeds.shape[0]):
        v = seeds[e]
        nd = seed_km[e]
        if nd < dist[v]:
            dist[v] = nd
            pred[v] = source
            if pos[v] == _UNSEEN:
                i = size
                size += 1
            else:
                i = pos[v]
            _place(heap, keys, pos, i, v, nd)
    return size


@njit(cache=True, nogil=True, inline="always")
def _place(heap, keys, pos, i, v, key):  # pragma: no cover - compiled
    """Put `v` (key `key`, lowered) at slot i or above it; the parents it passes move down."""
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] > key:
            w = heap[parent]
            heap[i] = w
            keys[i] = keys[parent]
            pos[w] = i
            i = parent
        else:
            break
    heap[i] = v
    keys[i] = key
    pos[v] = i


@njit(cache=True, nogil=True, inline="always")
def _sink(heap, keys, pos, size):  # pragma: no cover - compiled
    """The root popped: the last entry goes down from the root, the least child up."""
    last, key = heap[size], keys[size]
    i = 0
    c = 1
    while c < size:
        best, best_key = c, keys[c]
        for j in range(c + 1, min(c + 4, size)):
            if keys[j] < best_key:
                best, best_key = j, keys[j]
        if best_key >= key:
            break
        heap[i], keys[i] = heap[best], best_key
        pos[heap[i]] = i
        i, c = best, 4 * best + 1
    heap[i], keys[i] = last, key
    pos[last] = i


@njit(cache=True, nogil=True)
def _grow(indptr, indices, data, limit, dist, pred, pos, heap, keys, size):  # pragma: no cover
    """Pop and settle while the nearest unsettled node is within `limit`; (heap size, count).
    A 4-ary heap with its keys beside the nodes: half the levels of a binary one, and a
    level's keys read from one cache line (1.7x scipy's search on the sea graph)."""
    count = 0
    while size > 0:
        u = heap[0]
        du = keys[0]
        if du > limit:
            break
        size -= 1
        pos[u] = _SETTLED
        count += 1
        if size > 0:
            _sink(heap, keys, pos, size)
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            p = pos[v]
            if p == _SETTLED:
                continue
            nd = du + np.float64(data[e])
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                if p == _UNSEEN:
                    p = size
                    size += 1
                _place(heap, keys, pos, p, v, nd)
    return size, count


def warm() -> None:
    """Compile the search's steps now (see rescue/warmup.py), for the sea graph's array types
    (what is compiled depends on them: int32 CSR, float32 lengths)."""
    f = Frontier(np.array([0, 1, 2, 2], np.int32), np.array([1, 0], np.int32),
                 np.array([1.0, 1.0], np.float32), 2, np.array([0]), np.array([0.5]))
    f.grow(np.inf)
