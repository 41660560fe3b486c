"""Jurisdiction: how a resource's owning area relates to the incident's area chain.

The relation drives the local-first rule of the plan and tells the operator whose unit it is:
`own_area` (owned within the incident's county: its code has the county among its ancestors,
which is what lets the spatial index walk a county's own units apart, rescue/context.py), `neighbouring_area` (a county whose polygon
touches it), `mutual_aid_higher` (owned by an ancestor level: the city or the province, or the
maritime SAR region that answers for a sea point), `mutual_aid_other` (anywhere else).
"""

from __future__ import annotations

from typing import Any

OWN = "own_area"
NEIGHBOUR = "neighbouring_area"
HIGHER = "mutual_aid_higher"
OTHER = "mutual_aid_other"
RELATIONS = (OWN, NEIGHBOUR, HIGHER, OTHER)
COUNTY_LEVEL = 3


class Jurisdiction:
    """Relations for one incident location; caches per area code (many units share an area)."""

    def __init__(self, areas: Any, location: Any,
                 neighbours_cache: dict[str, frozenset[str]] | None = None,
                 relations_cache: dict[tuple, dict[str, str]] | None = None) -> None:
        """`neighbours_cache` and `relations_cache` may be shared across requests over the same
        (static) area index: a relation depends only on the county, its neighbours and the
        higher areas, which key the cache."""
        chain = tuple(location.chain)
        self.areas = areas
        county = None
        for area in reversed(chain):
            if area.level <= COUNTY_LEVEL:
                county = area
                break
        self.county: str | None = county.code if county is not None else None
        self.chain_codes = tuple(a.code for a in chain)
        level = county.level if county is not None else 99
        higher = {a.code for a in chain if a.level < level}
        maritime = getattr(location, "maritime", None)
        if maritime is not None:
            higher.add(maritime.code)
        self.higher = frozenset(higher)
        cache = neighbours_cache if neighbours_cache is not None else {}
        if self.county is None:
            self.neighbours: frozenset[str] = frozenset()
        elif self.county in cache:
            self.neighbours = cache[self.county]
        else:
            try:
                self.neighbours = frozenset(areas.neighbours(self.county))
            except (KeyError, ValueError):
                self.neighbours = frozenset()
            cache[self.county] = self.neighbours
        key = (self.county, self.neighbours, self.higher)
        if relations_cache is None:
            self._cache: dict[str, str] = {}
        else:
            if key not in relations_cache and len(relations_cache) > 1024:
                relations_cache.clear()
            self._cache = relations_cache.setdefault(key, {})

    def relation(self, area_code: str) -> str:
        rel = self._cache.get(area_code)
        if rel is None:
            rel = self._compute(area_code)
            self._cache[area_code] = rel
        return rel

    def _within(self, code: str, scope: str) -> bool:
        if code == scope:
            return True
        try:
            return bool(self.areas.is_within(code, scope))
        except (KeyError, ValueError):
            return False

    def _compute(self, code: str) -> str:
        if self.county is not None and self._within(code, self.county):
            return OWN
        if any(self._within(code, n) for n in self.neighbours):
            return NEIGHBOUR
        if code in self.higher:
            return HIGHER
        return OTHER
