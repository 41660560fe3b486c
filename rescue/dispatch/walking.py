"""The gate between the ranking and a source's walk (see rescue/dispatch/ranking.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rescue.dispatch.eta import EtaModel, eta_seconds


def among(values: np.ndarray, wanted: tuple[str, ...]) -> np.ndarray:
    """np.isin for a few strings over an object array, without sorting objects."""
    out = np.zeros(len(values), bool)
    for w in wanted:
        out |= values == w
    return out


@dataclass
class Gate:
    """What a row must beat to matter to a requirement: once both its lists are full, a row
    whose optimistic ETA exceeds `limit_s` can enter neither (a penalty only adds), so a
    source may drop it before building a batch (the cost of a walk through a base holding
    thousands of units is then a few numpy operations per round), counting it here as the
    ranking would have: matched, and skipped unclassified."""

    model: EtaModel
    modes: tuple[str, ...] | None
    floor_s: float = 0.0  # what every row of the walk adds to its plan cost at least
    classes: tuple[np.ndarray, np.ndarray] | None = None  # speed classes of the walk's units
    limit_s: float = np.inf
    dropped: int = 0
    dropped_land: int = 0

    def reach_km(self) -> float:
        """How far a unit can be and still arrive within `limit_s` (straight line, the
        fastest class): the walk need read no farther while the limit holds."""
        if not np.isfinite(self.limit_s) or self.classes is None or not len(self.classes[0]):
            return np.inf
        speeds, ready = self.classes
        km = float(np.max((self.limit_s - ready) * speeds / 3600.0))
        return max(km, 0.0) * 1.001 + 0.01

    def keep(self, km: np.ndarray, speed_kmh: np.ndarray, readiness_s: np.ndarray,
             modes: np.ndarray) -> np.ndarray:
        """Which rows to keep (`km`: a lower bound of their straight-line distance)."""
        if not np.isfinite(self.limit_s) or not len(km):
            return np.ones(len(km), bool)
        ok = eta_seconds(self.model.optimistic_of(km, speed_kmh, readiness_s, modes)) \
            <= self.limit_s
        out = ~ok
        if self.modes is not None:
            out &= among(modes, self.modes)
        self.dropped += int(np.count_nonzero(out))
        self.dropped_land += int(np.count_nonzero(out & (modes == "land")))
        return ok

    def absorb(self, res: Any) -> None:
        """Add the rows dropped so far to a RankResult, as the ranking would have counted them."""
        res.matched += self.dropped
        res.skipped += self.dropped
        res.land_matched += self.dropped_land
        self.dropped = self.dropped_land = 0


