"""Candidate sources for the ranking: columnar batches of available resources, nearest-first.

`ListSource` holds a plain list of `Resource` records and sorts by great-circle distance per
request. It is the reference source of the tests (a registry small enough to reason about) and
applies the same position rule as the spatial index: a position older than `max_age_s` (or none
at all) is replaced by the home base; only an old position counts as stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from geo.distance import haversine_from, haversine_km
from geo.travel import speed_classes
from rescue.dispatch.eta import MODE_CODES, Batch, Settled
from rescue.dispatch.scan_rows import StaticCache, StaticColumns


def mode_map(vocabulary: object | None = None) -> Mapping[str, str]:
    """Kind -> travel mode: the registry vocabulary's when given, else geo.travel's table."""
    modes = getattr(vocabulary, "kind_modes", None)
    if modes:
        return modes
    from geo.travel import MODE_OF_KIND

    return MODE_OF_KIND


def placed(r: Any, now: datetime, max_age_s: float) -> tuple[float, float, bool, bool]:
    """(lat, lon, stale, at home) where the model places a unit: its reported position while
    fresh, else its home base (stale when it had reported one)."""
    if r.lat is not None and r.position_time is not None \
            and (now - r.position_time).total_seconds() <= max_age_s:
        return r.lat, r.lon, False, False
    return r.home.lat, r.home.lon, r.lat is not None, True


class ListSource:
    """An in-memory candidate source over `Resource` records (see module docstring)."""

    def __init__(self, resources: Iterable[object], kind_modes: Mapping[str, str] | None = None,
                 first_batch: int = 8) -> None:
        self.resources = list(resources)
        self.kind_modes = kind_modes if kind_modes is not None else mode_map()
        self.first_batch = first_batch

    def _matching(self, capability: str, exercise: str | None,
                  modes: tuple[str, ...] | None = None) -> list:
        return [r for r in self.resources
                if r.status == "available" and r.exercise == exercise and capability in r.capabilities
                and (modes is None or self.kind_modes.get(r.kind) in modes)]

    def bounds(self, capability: str, modes: tuple[str, ...] | None,
               exercise: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        rs = self._matching(capability, exercise, modes)
        if not rs:
            return None
        return speed_classes([r.speed_kmh for r in rs], [r.readiness_s for r in rs])

    def _batch(self, rs: list, lat: float, lon: float, now: datetime, max_age_s: float) -> Batch:
        n = len(rs)
        plat, plon, stale, home = np.empty(n), np.empty(n), np.zeros(n, bool), np.zeros(n, bool)
        for i, r in enumerate(rs):
            plat[i], plon[i], stale[i], home[i] = placed(r, now, max_age_s)
        rng = np.array([np.nan if r.range_km is None else r.range_km for r in rs], dtype=float)
        return Batch(
            ids=np.array([r.id for r in rs], dtype=object),
            kinds=np.array([r.kind for r in rs], dtype=object),
            modes=np.array([self.kind_modes.get(r.kind, "") for r in rs], dtype=object),
            lat=plat, lon=plon,
            dist_km=np.atleast_1d(haversine_km(lat, lon, plat, plon)) if n else np.empty(0),
            speed_kmh=np.array([r.speed_kmh for r in rs], dtype=float),
            readiness_s=np.array([r.readiness_s for r in rs], dtype=float),
            range_km=rng, stale=stale,
            areas=np.array([r.area for r in rs], dtype=object), home=home,
        )

    def everything(self, lat: float, lon: float, capability: str, *, now: datetime,
                   max_age_s: float, exercise: str | None,
                   modes: tuple[str, ...] | None = None) -> Batch:
        return self._batch(self._matching(capability, exercise, modes), lat, lon, now, max_age_s)

    def walk(self, lat: float, lon: float, capability: str, *, now: datetime, max_age_s: float,
             exercise: str | None, modes: tuple[str, ...] | None = None
             ) -> Iterator[tuple[Batch, float]]:
        b = self.everything(lat, lon, capability, now=now, max_age_s=max_age_s, exercise=exercise,
                            modes=modes)
        order = np.argsort(b.dist_km, kind="stable")
        start, size = 0, self.first_batch
        while start < len(order):
            part = b.take(order[start:start + size])
            start += size
            size *= 2
            yield part, float(part.dist_km.max())


@dataclass
class Scan:
    """Every unit a scan matched, in the columns a lower bound of its ETA needs (`mode_code`:
    eta.MODE_CODES), and `take(positions)`: the whole batch of some of them."""

    dist_km: np.ndarray
    speed_kmh: np.ndarray
    readiness_s: np.ndarray
    mode_code: np.ndarray
    take: Callable[[np.ndarray], Batch]
    kind_code: np.ndarray  # index into kind_names
    kind_names: np.ndarray
    own: np.ndarray | None = None  # the incident county's own units (None: not known)

    def __len__(self) -> int:
        return len(self.dist_km)

    def preferred(self, kinds: tuple[str, ...]) -> np.ndarray:
        """Which units are of one of these kinds."""
        return np.isin(self.kind_names, list(kinds))[self.kind_code]


SCAN_S_PER_UNIT = 8e-8  # a scan's cost per matching unit (1M units, 2026-12-03: ~70-80 ns)


class IndexSource:
    """Adapter from `resources.spatial.ResourceIndex` to the ranking's source protocol.

    Bounds for the ETA lower bound come from `index.bounds(where)` when the index offers it,
    else from a scan of its columns (exact, O(n) per requirement); a scan is reused across
    requests only when the index exposes a `version` that changes with every upsert.

    The walk is the index's exact nearest-first walk filtered by capability, status
    `available`, exercise and the kinds of the allowed modes. Distances are recomputed with
    geo.distance.haversine_km from the effective positions, exactly as `everything` (the
    brute-force scan over the index's columns) does, so the two paths see the same numbers.
    """

    def __init__(self, index: object, vocabulary: object | None = None, batch: int = 32,
                 shared_cache: dict | None = None, scan_below: int = 0) -> None:
        self.index = index
        self.scan_below = scan_below
        self.vocab = vocabulary if vocabulary is not None else index.vocab
        self.kind_modes = mode_map(self.vocab)
        kinds = list(self.vocab.kinds)
        self.kind_names = np.array(kinds, dtype=object)
        self.kind_mode = np.array([self.kind_modes.get(k, "") for k in kinds], dtype=object)
        self.kind_mode_code = np.array([MODE_CODES.index(m) if m in MODE_CODES else
                                        len(MODE_CODES) - 1 for m in self.kind_mode], np.int8)
        self.batch = batch
        self._bounds: dict[tuple, tuple[np.ndarray, np.ndarray] | None] = {}
        self._shared = shared_cache if shared_cache is not None else {}
        kept = self._shared.get("static")  # (the index's, across requests)
        if kept is None or kept[0] is not self.kind_modes:
            kept = self._shared["static"] = (self.kind_modes, StaticCache(
                self.kind_mode_code, np.array([m == "land" for m in self.kind_mode])))
        self._static: StaticCache = kept[1]

    def _kinds(self, modes: tuple[str, ...] | None) -> frozenset[str] | None:
        if modes is None:
            return None
        return frozenset(k for k, m in self.kind_modes.items() if m in modes)

    def _filter(self, capability: str, modes: tuple[str, ...] | None, exercise: str | None,
                settled: Settled | None = None, kinds: frozenset[str] | None = None,
                group: str | None = None, group_out: bool = False,
                tiers: frozenset[int] | None = None):
        """The index filter of a requirement (without the settled units, or of `kinds` alone);
        kept across requests with the index's other per-index state (an immutable value of
        its arguments and the kind table)."""
        key = ("filter", capability, modes, exercise, settled, kinds, group, group_out, tiers)
        got = self._shared.get(key)
        if got is not None and got[0] is self.kind_modes:
            return got[1]
        from resources.spatial import IndexFilter

        wanted = self._kinds(modes) if kinds is None else kinds
        zone = None
        if settled is not None:
            wanted = frozenset(wanted if wanted is not None else self.kind_modes) - settled.done
            if settled.zone is not None and any(self.kind_modes[k] == "land" for k in wanted):
                zone = settled.zone
        f = IndexFilter(kinds=wanted, capabilities_all=frozenset({capability}),
                        statuses=frozenset({"available"}), exercise=exercise, zone=zone,
                        group=group, group_out=group_out, tiers=tiers)
        if len(self._shared) > 256:
            self._shared.clear()
        self._shared[key] = (self.kind_modes, f)
        return f

    def _cap_bit(self, capability: str) -> np.uint64 | None:
        if capability not in self.vocab.capabilities:
            return None
        return np.uint64(1 << self.vocab.capability_bit(capability))

    def bounds(self, capability: str, modes: tuple[str, ...] | None,
               exercise: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """The speed classes of every indexed resource with the capability and an allowed
        mode, whatever its status: a superset, so the bound stays valid."""
        ix = self.index
        version = getattr(ix, "version", None)  # cache across requests only if the index says
        key = (capability, modes, exercise, version)  # the bound depends on the exercise
        cache = self._bounds if version is None else self._shared
        if key in cache:
            return cache[key]
        native = getattr(ix, "bounds", None)
        if callable(native):
            out = native(self._filter(capability, modes, exercise))
        else:  # exact but O(n): one masked scan of the columns per requirement and request
            bit = self._cap_bit(capability)
            out = None
            if bit is not None:
                m = (ix.cap_mask & bit) != 0
                if modes is not None:
                    m &= np.isin(self.kind_mode, modes)[ix.kind_code]
                if m.any():
                    out = speed_classes(ix.speed_kmh[m], ix.readiness_s[m])
        if version is not None and len(cache) > 256:
            cache.clear()
        cache[key] = out
        return out

    def _batch(self, rows: np.ndarray, lat: np.ndarray, lon: np.ndarray, home: np.ndarray,
               qlat: float, qlon: float) -> Batch:
        ix = self.index
        kc = ix.kind_code[rows]
        has_pos = ~np.isnan(ix.pos_lat[rows])
        return Batch(
            ids=ix.ids[rows], kinds=self.kind_names[kc], modes=self.kind_mode[kc],
            lat=lat, lon=lon, dist_km=np.atleast_1d(haversine_km(qlat, qlon, lat, lon)),
            speed_kmh=ix.speed_kmh[rows], readiness_s=ix.readiness_s[rows],
            range_km=ix.range_km[rows], stale=home & has_pos, areas=ix.area[rows], home=home,
        )

    def settles(self, reach: object) -> bool:
        """Whether this index can count settled units for a model with this land reach (its
        zones must be that reach's components)."""
        zoner = getattr(self.index, "zoner", None)
        if zoner is None or not hasattr(self.index, "count"):
            return False
        return getattr(zoner, "reach", None) is reach or zoner == getattr(reach, "components",
                                                                          None)

    def settled_counts(self, capability: str, modes: tuple[str, ...] | None,
                       exercise: str | None, settled: Settled) -> tuple[dict[int, int], int]:
        """(outcome code -> units of the settled kinds, land units of the walked kinds): the
        ranking takes the land units it walked (those in the zone) from the latter."""
        allowed = self._kinds(modes)
        by_code: dict[int, set[str]] = {}
        for kind, code in settled.kinds:
            if allowed is None or kind in allowed:
                by_code.setdefault(code, set()).add(kind)
        counts = {code: self.index.count(self._filter(capability, None, exercise,
                                                      kinds=frozenset(ks)))
                  for code, ks in by_code.items()}
        land = 0
        if settled.zone is not None:
            ks = frozenset(k for k, m in self.kind_modes.items() if m == "land"
                           and k not in settled.done and (allowed is None or k in allowed))
            if ks:
                land = self.index.count(self._filter(capability, None, exercise, kinds=ks))
        return counts, land

    gates = True  # walk() takes a walking.Gate and drops the rows it says cannot matter

    def classes_apart(self, capability: str, modes: tuple[str, ...] | None,
                      exercise: str | None) -> list[tuple[str, str, tuple, dict[str, Any]]] | None:
        """(kind, its mode, speed classes, walk arguments) of each class of units (a kind and
        a readiness tier, resources.spatial_parts.unit_class) that may match: the ranking
        walks each apart (the index keeps a tree per capability and class). None when the
        index cannot say."""
        native = getattr(self.index, "class_bounds", None)
        if native is None:
            return None
        got = native(self._filter(capability, modes, exercise))
        return [(kind, self.kind_modes.get(kind, ""), classes,
                 {"kinds": frozenset({kind}), "tiers": frozenset({tier})})
                for (kind, tier), classes in sorted(got.items())]

    def prefers_scan(self, capability: str, modes: tuple[str, ...] | None,
                     exercise: str | None) -> bool:
        """Whether one vectorised scan beats a walk for this requirement: no more than
        `scan_below` units could match (a walk's rounds cost more than reading them all; the
        scan works out the ETA, a sea route included, only of the units that could make a
        list: rescue.dispatch.ranking.rank_scan)."""
        if self.scan_below <= 0 or not hasattr(self.index, "count"):
            return False
        return self.index.count(self._filter(capability, modes, exercise)) <= self.scan_below

    def scan_cost_s(self, capability: str, modes: tuple[str, ...] | None,
                    exercise: str | None) -> float:
        """What a scan of this requirement would take (seconds; an estimate from the units
        that could match), so a walk that grows dearer can hand over (ranking.WALK_BUDGET);
        0 (walks never hand over) for a source told not to scan (`scan_below` 0)."""
        if self.scan_below <= 0 or not hasattr(self.index, "count"):
            return 0.0
        return SCAN_S_PER_UNIT * self.index.count(self._filter(capability, modes, exercise))

    def split(self, jurisdiction: Any) -> str | None:
        """The county whose own units can be walked apart (the index groups units by county
        with the jurisdiction's own areas, and the incident has a county), else None."""
        grouper = getattr(self.index, "grouper", None)
        county = getattr(jurisdiction, "county", None)
        if grouper is None or county is None or \
                getattr(grouper, "areas", None) is not getattr(jurisdiction, "areas", False):
            return None
        area = jurisdiction.areas.get(county)
        return county if area is not None and area.level == getattr(grouper, "level", None) \
            else None

    def walk(self, lat: float, lon: float, capability: str, *, now: datetime, max_age_s: float,
             exercise: str | None, modes: tuple[str, ...] | None = None,
             settled: Settled | None = None, gate: Any = None, group: str | None = None,
             group_out: bool = False, kinds: frozenset[str] | None = None,
             tiers: frozenset[int] | None = None) -> Iterator[tuple[Batch, float]]:
        where = self._filter(capability, modes, exercise, settled, kinds=kinds, group=group,
                             group_out=group_out, tiers=tiers)
        # Sparse filters make the index's rounds small (a few vessels among many entries):
        # where sea candidates may come, gather them up to the batch size (doubling), as a
        # sea route query costs ~1 ms whatever its size. Other modes stop after a few units.
        want = self.batch if modes is None or "sea" in modes else 1
        parts: list = []
        held = 0
        hint = {} if gate is None else {"reach_km": gate.reach_km, "frontiers": True}
        for b in self.index.walk(lat, lon, where=where, now=now, max_age_s=max_age_s,
                                 batch=self.batch, grow=True, **hint):
            # every row not yet seen is at least this far
            frontier = float(b.km[-1]) if np.isnan(getattr(b, "frontier", np.nan)) \
                else float(b.frontier)
            if gate is not None:
                ix = self.index
                keep = gate.keep(b.km * (1.0 - 1e-9), ix.speed_kmh[b.rows],
                                 ix.readiness_s[b.rows], self.kind_mode[ix.kind_code[b.rows]])
                if not keep.all():
                    b = b.take(np.flatnonzero(keep))
            if len(b):
                parts.append(b)
                held += len(b)
            if held >= want or not len(b):  # a round all dropped: let the ranking stop
                yield self._gathered(parts, lat, lon), frontier
                if held >= want:
                    want *= 2  # (1 -> every index batch as it comes)
                parts, held = [], 0
        if parts:
            yield self._gathered(parts, lat, lon), frontier

    def _gathered(self, parts: list, lat: float, lon: float) -> Batch:
        """One batch of the index's batches (none: an empty batch)."""
        if len(parts) == 1:
            b = parts[0]
            return self._batch(b.rows, b.lat, b.lon, b.from_home, lat, lon)
        if not parts:
            cols = [np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, bool)]
        else:
            cols = [np.concatenate([getattr(p, f) for p in parts])
                    for f in ("rows", "lat", "lon", "from_home")]
        return self._batch(*cols, lat, lon)

    def everything(self, lat: float, lon: float, capability: str, *, now: datetime,
                   max_age_s: float, exercise: str | None,
                   modes: tuple[str, ...] | None = None) -> Batch:
        """Brute force: one vectorised scan of the index's columns, no tree."""
        st, plat, plon, home = self._scanned(capability, now, max_age_s, exercise, modes)
        return self._batch(st.rows, plat, plon, home, lat, lon)

    def scan(self, lat: float, lon: float, capability: str, *, now: datetime,
             max_age_s: float, exercise: str | None, modes: tuple[str, ...] | None = None,
             settled: Settled | None = None, group: str | None = None) -> Scan:
        """`everything`, lazily: the columns a lower bound of the ETA needs for every unit,
        the whole batch only of the rows asked for (rescue.dispatch.scanning.rank_scan).
        `settled`: without the units it settles (their kinds; land units outside its zone),
        which `settled_counts` counts. `group`: the county (a key of the index's grouper)
        whose units are the incident's own."""
        st, plat, plon, home = self._scanned(capability, now, max_age_s, exercise, modes,
                                             settled)
        rows = st.rows
        dist = haversine_from(lat, lon, plat, plon)
        own = None
        if group is not None and st.group is not None:
            own = st.group == self.index.group_code(group)
        return Scan(dist, st.speed_kmh, st.readiness_s, st.mode_code,
                    lambda i: self._batch(rows[i], plat[i], plon[i], home[i], lat, lon),
                    st.kind_code, self.kind_names, own)

    def _scanned(self, capability: str, now: datetime, max_age_s: float, exercise: str | None,
                 modes: tuple[str, ...] | None, settled: Settled | None = None
                 ) -> tuple[StaticColumns, np.ndarray, np.ndarray, np.ndarray]:
        """(rows and their slow columns, effective lat, lon, at home) of every matching
        available unit (without those `settled` settles)."""
        ix = self.index
        st = self._static.of(ix, self._matching(capability, exercise, modes, settled))
        rows = st.rows
        now_s = now.timestamp()
        plat = ix.pos_lat[rows]
        fresh = ~np.isnan(plat) & (now_s - ix.position_time[rows] <= max_age_s)
        if settled is not None and settled.zone is not None:  # land units: in its zone only
            land = np.flatnonzero(st.land)
            if len(land):
                out = ix.entry_zones(rows[land], ~fresh[land]) != settled.zone
                if out.any():
                    keep = np.ones(len(rows), bool)
                    keep[land[out]] = False
                    keep = np.flatnonzero(keep)
                    st, fresh, plat = st.take(keep), fresh[keep], plat[keep]
                    rows = st.rows
        plon = ix.pos_lon[rows]
        stale = np.flatnonzero(~fresh)  # (few: most units report)
        if len(stale):
            at = rows[stale]
            plat[stale], plon[stale] = ix.home_lat[at], ix.home_lon[at]
        return st, plat, plon, ~fresh

    def _matching(self, capability: str, exercise: str | None, modes: tuple[str, ...] | None,
                  settled: Settled | None) -> np.ndarray:
        """Rows of the available units with the capability, an allowed kind (not one
        `settled` settles) and the exercise: kept by the index where it can (read-only)."""
        ix = self.index
        bit = self._cap_bit(capability)
        select = getattr(ix, "select", None)
        if bit is None:
            return np.empty(0, np.int64)
        if callable(select):  # kept by the index as units change (no pass over every row)
            unzoned = None if settled is None else replace(settled, zone=None)  # (a place's)
            return select(self._filter(capability, modes, exercise, unzoned))
        ok = (ix.cap_mask & bit) != 0
        ok &= ix.status_code == self.vocab.status_code("available")
        kinds_ok = np.ones(len(self.kind_names), bool) if modes is None else \
            np.isin(self.kind_mode, modes)
        if settled is not None and settled.done:
            kinds_ok &= ~np.isin(self.kind_names, list(settled.done))
        if not kinds_ok.all():
            ok &= kinds_ok[ix.kind_code]
        rows = np.flatnonzero(ok)
        if len(ix) != len(ix.ids):  # removed rows linger until the next rebuild
            ids = ix.ids
            rows = rows[np.fromiter((ix.row_of(ids[r]) == r for r in rows), bool, len(rows))]
        code_of = getattr(ix, "code_of_exercise", None)
        if callable(code_of):  # by code: no Python loop over the rows
            return rows[ix.exercise_code[rows] == code_of(exercise)]
        ex = ix.exercise[rows]
        return rows[np.fromiter((e == exercise for e in ex), bool, len(ex))]
