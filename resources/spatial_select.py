"""The rows matching a filter, kept as units change instead of found again over every row.

Why: the dispatcher's scan (rescue/dispatch/scanning.py) starts from every available unit
with the capability, the allowed kinds and the exercise. Finding them reads four columns of
every row (at 100,000 units ~0.5 ms, a third of the scan), yet between two suggestions only
the few units whose status changed can come in or go out; moves, the traffic that never
stops, cannot. So each filter's rows are kept with a log of the rows whose kind,
capabilities, status, exercise, readiness, speed or area changed since, and an ask re-checks
only those (plus rows added since). The answer is always the one a full check would give, in
ascending row order, and the same array while nothing was logged (so a reader may keep what
it derived from those fields by the array: rescue/dispatch/scan_rows.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np


@dataclass
class _Kept:
    mask: np.ndarray  # which rows matched, as of log position `seen`
    seen: int  # log entries already applied
    rows: np.ndarray  # flatnonzero(mask)


class Selections:
    """Kept row sets, one per filter (see the module docstring). The owner calls `changed`
    for a row whose filtered fields change (or that is added or dies), and `reset` when rows
    are renumbered. (`match` must read the owner's codes as they are at the ask: a code new
    since the last ask belongs to a row logged since.)"""

    LIMIT = 32  # filters kept (each a bool per row)
    LOG_MIN = 1024  # changes kept before the sets are dropped (and recomputed when asked)
    LOG_FRACTION = 8  # ... or one row in this many, if more

    def __init__(self) -> None:
        self._sets: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._log: list[int] = []

    def changed(self, row: int) -> None:
        if self._sets:  # (nothing kept: nothing to tell)
            self._log.append(row)

    def reset(self) -> None:
        self._sets.clear()
        self._log.clear()

    def rows(self, key: Hashable, n: int,
             match: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Rows below `n` for which `match(rows)` (a bool per row, live rows only) holds; the
        caller must not change the array returned."""
        if len(self._log) > max(self.LOG_MIN, n // self.LOG_FRACTION):
            self.reset()
        kept = self._sets.get(key)
        if kept is None or len(kept.mask) > n:  # (fewer rows: renumbered, not logged)
            everything = np.arange(n, dtype=np.int64)
            mask = match(everything)
            kept = _Kept(mask, len(self._log), _frozen(np.flatnonzero(mask)))
            self._sets[key] = kept
            while len(self._sets) > self.LIMIT:
                self._sets.popitem(last=False)
            return kept.rows
        self._sets.move_to_end(key)
        if kept.seen == len(self._log) and len(kept.mask) == n:
            return kept.rows
        old = len(kept.mask)
        ask = np.unique(np.asarray(self._log[kept.seen:], dtype=np.int64))
        if n > old:  # rows added since (logged too): asked once, as new rows
            kept.mask = np.concatenate([kept.mask, np.zeros(n - old, bool)])
            ask = np.union1d(ask, np.arange(old, n, dtype=np.int64))
        if len(ask):
            kept.mask[ask] = match(ask)
        kept.seen = len(self._log)
        kept.rows = _frozen(np.flatnonzero(kept.mask))
        return kept.rows


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # shared by every ask until the next change
    return a
