"""The columns of a scan's rows that only change when the rows do, kept between scans.

Why: at a million clustered units a requirement's scan reads ~100,000 rows, and gathering
their kind, speed, readiness, mode and county from the index's columns costs ~2.5 ms of its
~12. The index keeps each filter's rows as one read-only array until a unit's status, kind,
capabilities, speed, readiness, exercise or area changes (ResourceIndex.select), and those
are exactly what these columns read: while the array stands, so do they. Positions, which
change all the time, are always read afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StaticColumns:
    """A scan's rows and their slow columns, position for position."""

    rows: np.ndarray
    kind_code: np.ndarray
    speed_kmh: np.ndarray
    readiness_s: np.ndarray
    mode_code: np.ndarray  # eta.MODE_CODES
    land: np.ndarray  # bool: a land kind
    group: np.ndarray | None  # county codes (None: the index has no groups)

    def take(self, keep: np.ndarray) -> StaticColumns:
        """These positions of every column (positions, not a mask: one nonzero pass, not one
        per column)."""
        return StaticColumns(self.rows[keep], self.kind_code[keep], self.speed_kmh[keep],
                             self.readiness_s[keep], self.mode_code[keep], self.land[keep],
                             None if self.group is None else self.group[keep])


class StaticCache:
    """StaticColumns per rows array, for the arrays the index keeps (read-only ones)."""

    SIZE = 8

    def __init__(self, kind_mode_code: np.ndarray, kind_is_land: np.ndarray) -> None:
        self.kind_mode_code = kind_mode_code
        self.kind_is_land = kind_is_land
        self._kept: dict[int, StaticColumns] = {}

    def of(self, index: Any, rows: np.ndarray) -> StaticColumns:
        """The columns of these rows of `index` (the index that gave the rows: a kept array
        is its own, never another's)."""
        kept = self._kept.get(id(rows))
        if kept is not None and kept.rows is rows:
            return kept
        got = self._gather(index, rows)
        if not rows.flags.writeable:  # (a writable array may change under the key)
            for a in (got.kind_code, got.speed_kmh, got.readiness_s, got.mode_code, got.land,
                      got.group):
                if a is not None:
                    a.flags.writeable = False  # shared by the scans until the rows change
            if len(self._kept) >= self.SIZE:
                self._kept.clear()
            self._kept[id(rows)] = got
        return got

    def _gather(self, ix: Any, rows: np.ndarray) -> StaticColumns:
        kc = ix.kind_code[rows]
        group = ix.groups(rows) if hasattr(ix, "groups") else None
        return StaticColumns(rows, kc, ix.speed_kmh[rows], ix.readiness_s[rows],
                             self.kind_mode_code[kc], self.kind_is_land[kc], group)
