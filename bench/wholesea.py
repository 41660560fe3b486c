"""The sea model as it was before the searches grew on demand: one scipy Dijkstra over the
whole sea graph for every request, the baseline the maritime rows of bench_dispatch_scale
set ours beside (issue 11: "beside the per-request whole-graph search").

Its answers are ours (the same distances and predecessors: tests/unit/test_seafrontier.py),
so the rows compare only what the search costs."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.seagraph import SLOTS, SeaField, SeaGraph


class WholeGraphSea:
    """A SeaGraph whose `field_from` searches the whole graph with scipy, from a virtual
    source row whose SLOTS edges are rewritten for each search (as the previous code did)."""

    def __init__(self, sea: SeaGraph) -> None:
        self.sea = sea
        g, n = sea.graph, sea.n
        self._m = csr_matrix((np.concatenate([g.data, np.ones(SLOTS)]),
                              np.concatenate([g.indices, np.zeros(SLOTS, g.indices.dtype)]),
                              np.concatenate([g.indptr, [g.indptr[-1] + SLOTS]])),
                             shape=(n + 1, n + 1))

    def field_from(self, lat: float, lon: float, limit_km: float | None = None) -> SeaField:
        sea, m = self.sea, self._m
        qx, qy, pre, nodes, legs, out = sea.joins([lat], [lon])
        ok = nodes[0] >= 0
        dist = pred = None
        if ok.any():
            m.indices[-SLOTS:] = np.resize(nodes[0][ok], SLOTS)
            m.data[-SLOTS:] = np.resize(legs[0][ok], SLOTS)
            limit = np.inf if limit_km is None else float(limit_km)
            dist, pred = dijkstra(m, directed=True, indices=sea.n, return_predecessors=True,
                                  limit=limit)
        return SeaField(sea, (lat, lon), qx[0], qy[0], pre[0], bool(out[0]), dist, pred,
                        np.inf if limit_km is None else float(limit_km))


class WithSea:
    """A geography whose sea is another model (everything else the geography's own)."""

    def __init__(self, geography: Any, sea: Any) -> None:
        self._geography, self.sea = geography, sea

    def __getattr__(self, name: str) -> Any:
        return getattr(self._geography, name)
