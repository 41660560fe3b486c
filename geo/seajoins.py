"""Points joined to the sea graph (geo.seagraph.SeaGraph._snap), remembered in columns.

A point's join depends on the point alone, and units mostly sit at their bases, so every
suggestion would join the same points again (a shore point's exit to sea costs milliseconds).
Kept as columns (a dict from the point to its row, the rows' arrays grown by doubling) because
a suggestion at 100k units reads ~1,500 vessels' joins at once: gathering their rows costs a
fraction of stacking 1,500 tuples of small arrays (~1 ms a read).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Parts = tuple[np.ndarray, ...]  # qx, qy, pre_km, nodes (m, k), leg_km (m, k), outside


class Joins:
    """Bounded: cleared when `limit` points are kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.clear()

    def clear(self) -> None:
        self._row: dict[tuple[float, float], int] = {}
        self._cols: Parts = ()
        self._n = 0

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: Any) -> bool:
        return key in self._row

    def join(self, keys: list[tuple[float, float]], lat: np.ndarray, lon: np.ndarray,
             compute: Any) -> Parts:
        """The joins of these points (`keys` their (lat, lon)): remembered ones read, the others
        computed by `compute(lat, lon) -> Parts` and remembered."""
        get = self._row.get
        rows = np.fromiter((get(k, -1) for k in keys), np.int64, len(keys))
        miss = np.flatnonzero(rows < 0)
        if len(miss):
            if len(self._row) + len(miss) > self.limit:
                self.clear()  # (the rows read above are gone with it: all are joined anew)
                miss = np.arange(len(keys))
            rows[miss] = self._add([keys[i] for i in miss.tolist()],
                                   compute(lat[miss], lon[miss]))
        return tuple(c[rows] for c in self._cols)

    def _add(self, keys: list[tuple[float, float]], parts: Parts) -> np.ndarray:
        n, m = self._n, len(keys)
        if not self._cols:
            self._cols = tuple(np.empty((max(64, m), *p.shape[1:]), p.dtype) for p in parts)
        elif n + m > len(self._cols[0]):
            size = max(n + m, 2 * len(self._cols[0]))
            self._cols = tuple(np.concatenate([c[:n], np.empty((size - n, *c.shape[1:]),
                                                                c.dtype)]) for c in self._cols)
        for c, p in zip(self._cols, parts, strict=True):
            c[n:n + m] = p
        self._n = n + m
        rows = np.arange(n, n + m)
        self._row.update(zip(keys, rows.tolist(), strict=True))
        return rows
