"""Pieces of the spatial index: the filter, its compiled form, and the static k-d trees.

Kept apart from resources/spatial.py so each module stays small; import from spatial.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import numpy as np
from scipy.spatial import cKDTree

from resources.model import Resource
from resources.spatial_kdtree import build as build_flat

log = logging.getLogger(__name__)

# Readiness tiers (s): the trees partition a capability's units by kind and tier, so the
# dispatcher can walk units that take long to get going apart from the ready ones (a walk
# stops where its own units' ETA bound passes what it needs; see resources/spatial_trees.py).
TIER_EDGES_S = np.array([300.0, 600.0, 900.0, 1200.0, 1800.0, 2400.0, 3600.0])
TIERS = len(TIER_EDGES_S) + 1


def readiness_tiers(readiness_s: np.ndarray | float) -> np.ndarray:
    """The tier of each readiness (0: up to 5 minutes ... TIERS - 1: over an hour)."""
    return np.searchsorted(TIER_EDGES_S, np.asarray(readiness_s, float), side="left")


def unit_class(kind_code: np.ndarray, readiness_s: np.ndarray) -> np.ndarray:
    """kind x readiness tier, one code: the key of the class trees."""
    return np.asarray(kind_code, np.int64) * TIERS + readiness_tiers(readiness_s)


class IndexParts(Protocol):
    """What the filter and the walk read of a ResourceIndex (its columns, trees, overlay and
    codes), named here so these parts need not import the index (no import circle)."""

    vocab: Any
    zoner: Any
    _c: dict[str, np.ndarray]
    _trees: Any
    _ov: Any
    _spawn: Any
    _land_kind: np.ndarray
    _exercise_codes: dict[str | None, int]

    def group_code(self, key: str | None) -> int: ...

    def entry_zones(self, rows: np.ndarray, home: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class IndexFilter:
    """What the dispatcher wants: kinds (any of), capabilities (all of / any of), statuses,
    owning area by code prefix, exercise (None = live), and `zone`: entries of land kinds must
    lie in this land reachability zone (the index's zoner; other kinds are not restricted)."""

    kinds: frozenset[str] | None = None
    capabilities_all: frozenset[str] | None = None
    capabilities_any: frozenset[str] | None = None
    statuses: frozenset[str] | None = frozenset({"available"})
    area_prefix: str | None = None
    exercise: str | None = None
    zone: int | None = None
    group: str | None = None
    group_out: bool = False
    tiers: frozenset[int] | None = None  # readiness tiers (readiness_tiers), any of


@dataclass(frozen=True)
class Batch:
    """Matching resources in nearest-first order: index rows, great-circle km, the effective
    position used and whether it is the home base (position stale or unknown)."""

    rows: np.ndarray
    km: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    from_home: np.ndarray
    frontier: float = float("nan")  # km every resource not yet yielded is at least (nan: km[-1])

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, idx: np.ndarray) -> Batch:
        return Batch(self.rows[idx], self.km[idx], self.lat[idx], self.lon[idx],
                     self.from_home[idx], self.frontier)


class Hit(NamedTuple):
    """One answer of a k-nearest query (a named tuple: a query builds a few, and a frozen
    dataclass's constructor cost more than the compiled search behind them)."""

    resource: Resource
    km: float
    from_home: bool


def epoch(t: datetime | float | None) -> float:
    """Aware datetime (or epoch seconds) -> epoch seconds; None -> nan."""
    if t is None:
        return np.nan
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("needs an aware datetime")
        return t.timestamp()
    return float(t)


class StaticTree:
    """One immutable k-d tree of entries (row, is_home, generation): an entry is current while
    its generation equals the row's generation for that place (bumped on every move)."""

    def __init__(self, vec: np.ndarray, rows: np.ndarray, home: np.ndarray, gen: np.ndarray):
        self.n = len(rows)
        self.tree = cKDTree(vec, balanced_tree=False, compact_nodes=False) if self.n else None
        self.rows, self.home, self.gen = rows, home, gen
        self._flat: tuple | None = None
        self._flat_job: Any = None
        self.flat_reads = 0  # queries that read the flat copy (what a rebuild goes by)

    def flat(self, spawn: Callable[[Callable[[], Any]], Any] | None) -> tuple | None:
        """The same entries as a flat tree for the compiled k-nearest search
        (resources/spatial_kdtree.py), built the first time a query wants it: on the spawner's
        thread when there is one (None until it is done: ~0.5 s at a million entries, not a
        request's to wait for; the build holds no GIL), else now. Trees no k-nearest query
        reads never pay for it."""
        if self._flat is None and self.tree is not None:
            self._make_flat(spawn)
        self.flat_reads += self._flat is not None
        return self._flat

    def _make_flat(self, spawn: Callable[[Callable[[], Any]], Any] | None) -> None:
        """`flat`'s build: now without a spawner, else handed to it and picked up when done."""
        job = self._flat_job
        if spawn is None:
            self.build_flat_now()
        elif job is None and self.tree is not None:
            data, rows, home, gen = self.tree.data, self.rows, self.home, self.gen
            self._flat_job = spawn(lambda: build_flat(data, rows, home, gen))
        elif job.done:
            if job.error is not None:
                log.error("flat k-d tree build failed; building inline", exc_info=job.error)
                self.build_flat_now()
            else:
                self._flat = job.result
            self._flat_job = None

    def build_flat_now(self) -> bool:
        """Build the flat copy here, if not built yet (a background rebuild's thread:
        resources/spatial_trees.flats_like); whether it did."""
        if self._flat is not None or self.tree is None:
            return False
        self._flat = build_flat(self.tree.data, self.rows, self.home, self.gen)
        return True


PER_TREE = 64  # what one more tree in a walk's rounds costs, in entries read
_EMPTY = StaticTree(np.empty((0, 3)), np.empty(0, np.int64), np.empty(0, bool),
                    np.empty(0, np.int64))


class Compiled:
    """An IndexFilter turned into code / bitmask lookups, and the trees that cover it."""

    def __init__(self, idx: IndexParts, f: IndexFilter) -> None:
        v = idx.vocab
        self.kind_ok = None
        if f.kinds is not None:
            self.kind_ok = np.zeros(len(v.kinds), bool)
            for k in f.kinds:
                if k in v.kind_modes:
                    self.kind_ok[v.kind_code(k)] = True
        self.status_ok = None
        if f.statuses is not None:
            self.status_ok = np.zeros(len(v.statuses), bool)
            for s in f.statuses:
                if s in v.statuses:
                    self.status_ok[v.status_code(s)] = True
        self.impossible = any(c not in v.capabilities for c in (f.capabilities_all or ()))
        self.all = np.uint64(0 if self.impossible else v.capability_mask(f.capabilities_all or ()))
        anys = [c for c in (f.capabilities_any or ()) if c in v.capabilities]
        self.any = None if f.capabilities_any is None else np.uint64(v.capability_mask(anys))
        self.area = f.area_prefix or None
        self.zone = f.zone
        self.group = None if f.group is None else idx.group_code(f.group)
        self.group_out = f.group_out
        self.tier_ok = None
        if f.tiers is not None:
            self.tier_ok = np.zeros(TIERS, bool)
            self.tier_ok[[t for t in f.tiers if 0 <= t < TIERS]] = True
        if self.group == -1 and not f.group_out:
            self.impossible = True
        self.land_kind = idx._land_kind
        if f.zone is not None and idx.zoner is None:
            raise ValueError("this index has no zoner: it cannot filter by zone")
        self.ex_code = idx._exercise_codes.get(f.exercise, -1)
        if self.ex_code < 0 or (self.kind_ok is not None and not self.kind_ok.any()):
            self.impossible = True
        self.trees = self._cover(idx, f)
        # The compiled k-nearest search's view of this filter (spatial_kdtree.counts), or None
        # when the filter has a part only the NumPy path tests (area, tier, group, zone).
        self.kernel: tuple | None = None
        if not self.impossible and self.area is None and self.tier_ok is None \
                and self.group is None and self.zone is None:
            none = np.zeros(0, bool)
            self.kernel = (int(self.ex_code),
                           none if self.status_ok is None else self.status_ok,
                           none if self.kind_ok is None else self.kind_ok,
                           self.all, np.uint64(0 if self.any is None else self.any),
                           self.any is not None)

    def _cover(self, idx: IndexParts, f: IndexFilter) -> list[StaticTree]:
        """The cheapest set of trees holding every entry that can match (fewest entries, a
        tree counting as PER_TREE entries more): the whole tree, one capability's tree, its
        trees of the wanted classes (kind x readiness tier; a group's own: its trees of those
        classes), or the trees of the wanted kinds (kind trees partition entries; with a zone,
        a land kind contributes only its tree of that zone)."""
        ts = idx._trees  # a spatial_trees.TreeSet
        if self.impossible:
            return []
        best, cost = [ts.all], ts.all.n + PER_TREE
        v = idx.vocab
        codes = list(range(len(v.kinds))) if f.kinds is None else \
            [v.kind_code(k) for k in f.kinds if k in v.kind_modes]
        tiers = range(TIERS) if f.tiers is None else sorted(f.tiers)
        classes = [k * TIERS + t for k in codes for t in tiers]
        own = self.group is not None and not self.group_out
        options = []
        for c in f.capabilities_all or ():
            if own:
                options.append([ts.by_group_cap_class.get((self.group, c, k), _EMPTY)
                                for k in classes])
            else:
                options.append([ts.by_cap.get(c, _EMPTY)])
                if f.kinds is not None or f.tiers is not None:
                    options.append([ts.by_cap_class.get((c, k), _EMPTY) for k in classes])
        if f.kinds is not None or f.zone is not None:
            ks = []
            for k in codes:
                if f.zone is not None and self.land_kind[k] and ts.main_zone.get(k) != f.zone:
                    t = ts.by_kind_zone.get((k, f.zone))
                else:
                    t = ts.by_kind.get(k)
                if t is not None:
                    ks.append(t)
            options.append(ks)
        for ks in options:
            ks = [t for t in {id(t): t for t in ks}.values() if t.n]  # (shared trees once)
            got = sum(t.n for t in ks) + PER_TREE * len(ks)
            if got < cost:
                best, cost = ks, got
        return [t for t in best if t.n]

    def mask(self, idx: IndexParts, rows: np.ndarray,
             home: np.ndarray | None = None) -> np.ndarray:
        """Which rows match (`home`: which of their entries is meant, for the zone test)."""
        c = idx._c
        if self.impossible:
            return np.zeros(len(rows), bool)
        ok = c["exercise_code"][rows] == self.ex_code
        if self.status_ok is not None:
            ok &= self.status_ok[c["status_code"][rows]]
        if self.kind_ok is not None:
            ok &= self.kind_ok[c["kind_code"][rows]]
        if self.all:
            ok &= (c["cap_mask"][rows] & self.all) == self.all
        if self.any is not None:
            ok &= (c["cap_mask"][rows] & self.any) != 0
        if self.area is not None and ok.any():
            areas = c["area"][rows[ok]]
            ok[ok] = np.fromiter((a.startswith(self.area) for a in areas), bool, len(areas))
        if self.tier_ok is not None and ok.any():
            ok &= self.tier_ok[readiness_tiers(c["readiness_s"][rows])]
        if self.group is not None and ok.any():
            g = c["group_code"][rows]
            ok &= (g != self.group) if self.group_out else (g == self.group)
        if self.zone is not None and ok.any():
            if home is None:
                raise ValueError("a zone filter needs the entries' home flags")
            land = ok & self.land_kind[c["kind_code"][rows]]
            if land.any():
                ok[land] = idx.entry_zones(rows[land], home[land]) == self.zone
        return ok
