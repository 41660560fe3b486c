"""Live counts of the units matching a filter, kept as units change.

Why: the dispatcher answers "why is this requirement short?" with exact counts of the units
that cannot come (on another landmass, grounded, unable to reach the sea). For an incident on
an unbridged island that is nearly the whole registry; counting it by reading every unit made
the cost follow the registry instead of the answer. A count is scanned once, the first time a
filter is asked for, and then kept by the writer in O(filters) per change of a unit's kind,
capabilities, status, exercise or readiness (moves, the hot path, never touch it).
"""

from __future__ import annotations

from collections.abc import Callable

from resources.model import Resource
from resources.spatial_parts import IndexFilter, readiness_tiers


def matches(f: IndexFilter, r: Resource) -> bool:
    """Whether a unit matches a filter's kinds, capabilities, statuses, exercise and readiness
    tiers."""
    if r.exercise != f.exercise:
        return False
    if f.statuses is not None and r.status not in f.statuses:
        return False
    if f.kinds is not None and r.kind not in f.kinds:
        return False
    if f.capabilities_all and not f.capabilities_all.issubset(r.capabilities):
        return False
    if f.tiers is not None and int(readiness_tiers(r.readiness_s)) not in f.tiers:
        return False
    return f.capabilities_any is None or not f.capabilities_any.isdisjoint(r.capabilities)


class FilterCounts:
    """Counts per filter (see the module docstring); the filters' zone, area and group are not
    counted (a zone is a property of a place, not of a unit)."""

    LIMIT = 128  # filters kept; more are dropped (and scanned again when asked for)

    def __init__(self) -> None:
        self._counts: dict[IndexFilter, int] = {}

    def get(self, f: IndexFilter, scan: Callable[[IndexFilter], int]) -> int:
        if f.zone is not None or f.area_prefix is not None or f.group is not None:
            raise ValueError("counts ignore zone, area and group: ask without them")
        got = self._counts.get(f)
        if got is None:
            if len(self._counts) >= self.LIMIT:
                self._counts.clear()
            got = self._counts[f] = scan(f)
        return got

    def changed(self, old: Resource | None, new: Resource | None) -> None:
        """A unit was added (old None), removed (new None) or changed."""
        for f in self._counts:
            d = (new is not None and matches(f, new)) - (old is not None and matches(f, old))
            if d:
                self._counts[f] += d
