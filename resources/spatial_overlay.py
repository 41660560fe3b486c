"""The overlay of the ResourceIndex: entries changed since its trees were built.

Why: rebuilding a tree of millions of entries per position report is out of the question, so a
moved entry is tombstoned in the trees (generation bump) and put here, where every walk scans
it by brute force (a few thousand unit vectors: one vectorised distance and sort per walk).
"""

from __future__ import annotations

import math

import numpy as np


class Overlay:
    """Entries (row, is_home) -> unit vector, with O(1) put and drop."""

    def __init__(self) -> None:
        self.vec = np.empty((16, 3))
        self.row = np.empty(16, np.int64)
        self.home = np.empty(16, bool)
        self.n = 0
        self._slot: dict[tuple[int, bool], int] = {}
        self._sorted: tuple[tuple[float, ...], tuple] | None = None  # by_distance's last answer

    def __len__(self) -> int:
        return self.n

    def put(self, row: int, home: bool, lat: float, lon: float) -> None:
        self._sorted = None
        slot = self._slot_of(row, home)
        # One point: plain math beats numpy's per-call overhead (a move is the hot path).
        la, lo = math.radians(lat), math.radians(lon)
        cl = math.cos(la)
        self.vec[slot] = (cl * math.cos(lo), cl * math.sin(lo), math.sin(la))
        self.row[slot], self.home[slot] = row, home

    def put_many(self, rows: list[int], lat: np.ndarray, lon: np.ndarray) -> None:
        """`put` of many position entries (distinct rows, not homes), their unit vectors in
        one vectorised step: a simulation moves hundreds of units a tick."""
        self._sorted = None
        slots = [self._slot_of(row, False) for row in rows]
        la, lo = np.radians(lat), np.radians(lon)
        cl = np.cos(la)
        self.vec[slots] = np.column_stack((cl * np.cos(lo), cl * np.sin(lo), np.sin(la)))
        self.row[slots], self.home[slots] = rows, False

    def _slot_of(self, row: int, home: bool) -> int:
        """The entry's slot, a new one at the end if it has none."""
        slot = self._slot.get((row, home))
        if slot is None:
            if self.n == len(self.row):
                self._grow(2 * len(self.row))
            slot = self._slot[(row, home)] = self.n
            self.n += 1
        return slot

    def _grow(self, m: int) -> None:
        self.vec = np.resize(self.vec, (m, 3))
        self.row = np.resize(self.row, m)
        self.home = np.resize(self.home, m)

    def drop(self, row: int, home: bool) -> None:
        self._sorted = None
        slot = self._slot.pop((row, home), None)
        if slot is None:
            return
        last = self.n - 1
        if slot != last:
            self.vec[slot] = self.vec[last]
            self.row[slot], self.home[slot] = self.row[last], self.home[last]
            self._slot[(int(self.row[slot]), bool(self.home[slot]))] = slot
        self.n = last

    def clear(self) -> None:
        self._sorted = None
        self.n = 0
        self._slot.clear()

    def keep(self, keep: np.ndarray) -> None:
        """Keep only these slots (ascending), e.g. those a new tree does not hold."""
        self._sorted = None
        k = len(keep)
        self.vec[:k] = self.vec[keep]
        self.row[:k], self.home[:k] = self.row[keep], self.home[keep]
        self.n = k
        self._slot = {(int(r), bool(h)): i for i, (r, h) in
                      enumerate(zip(self.row[:k].tolist(), self.home[:k].tolist(), strict=True))}

    def by_distance(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(chord distances, rows, home flags) of every entry, nearest to `q` first. The last
        answer is kept until the overlay changes: a suggestion walks each class of units
        apart, every walk from the same point (thousands of entries sorted once, not per walk).
        The arrays are shared: callers must not write to them."""
        key = tuple(q.tolist())
        if self._sorted is not None and self._sorted[0] == key:
            return self._sorted[1]
        m = self.n
        d = np.linalg.norm(self.vec[:m] - q, axis=1)
        order = np.argsort(d, kind="stable")
        got = (d[order], self.row[:m][order], self.home[:m][order])
        for a in got:
            a.flags.writeable = False  # shared between walks
        self._sorted = (key, got)
        return got

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(unit vectors, rows, home flags) of every entry in the overlay's own order, views:
        for the compiled k-nearest search, which works out each entry's distance itself and
        keeps the k nearest it meets in any order. Why: under position traffic the overlay
        holds thousands of entries (tens of thousands while a million-unit rebuild runs), and
        sorting them (`by_distance`) cost a k-nearest query ~0.1-0.8 ms. Read them before the
        overlay next changes."""
        m = self.n
        return self.vec[:m], self.row[:m], self.home[:m]
