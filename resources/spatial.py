"""ResourceIndex: the in-memory columnar index of resources that the dispatcher walks.

Why this shape:
- Exact great-circle nearest-first order comes from a k-d tree (scipy cKDTree) over unit-sphere
  vectors: chord length is monotone in great-circle distance, so chord order is exact order.
- Each resource has two entries, its last position and its home base. For a query at `now`
  exactly one is valid: the position when it is fresh (now - position_time <= max_age_s),
  else home. Stale positions fall back to home without touching the tree.
- Position updates arrive constantly; rebuilding a tree of 2M entries per update is out of
  the question. The tree is static; a changed entry is tombstoned in the tree and put in a
  small overlay scanned by brute force and merged in distance order; when the overlay grows
  past min(5,000, 2% of the entries) the tree is rebuilt (and dead rows compacted).
- Attributes are numpy columns addressed by row, so filters are bitmask / code lookups.

`walk()` yields nearest-first batches, each matching resource exactly once, by repeated tree
queries with doubling k: a round emits the entries whose distance lies in [previous bound,
current k-th distance), which the query returned completely, so nothing is missed or
repeated, even with ties. Early batches cost one small query: the dispatcher stops the walk as
soon as its ETA lower bound says no farther unit can beat what it has.

Rebuilds: given a `spawn` (the serving process gives a native thread), the trees of the next
build are made in the background from a snapshot of the columns and swapped in at the next
update or walk after they are ready (resources/spatial_trees.py says why that is safe); the
overlay keeps every change made meanwhile. Without one they are built inline. Dead rows are
compacted inline only when they pile up (removals are rare).

Zones: with a `zoner` (land reachability: points -> zone ids), entries of land kinds carry the
zone of their place, computed lazily, so `IndexFilter(zone=...)` walks only the units a land
team could drive from, and `count(where)` says how many match without reading them.

Row numbers are valid until the next upsert/remove (a compaction renumbers rows). The index is
not thread-safe: one writer, and no updates while a walk is being consumed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import numpy as np

from geo.distance import chord_to_km
from geo.travel import speed_classes
from resources.model import Home, Resource, with_position
from resources.spatial_counts import FilterCounts
from resources.spatial_overlay import Overlay
from resources.spatial_parts import (
    TIERS,
    Batch,
    Compiled,
    Hit,
    IndexFilter,
    epoch,
    readiness_tiers,
    unit_class,
)
from resources.spatial_select import Selections
from resources.spatial_trees import (
    UNZONED,
    Grouper,
    Job,
    Snapshot,
    Spawn,
    TreeSet,
    Zoner,
    build_trees,
    flats_like,
    snapshot,
)
from resources.spatial_walk import nearest_once, walk_index
from resources.vocabulary import Vocabulary

log = logging.getLogger(__name__)

_FLOAT_COLS = ("speed_kmh", "readiness_s", "range_km", "position_time", "pos_lat", "pos_lon",
               "home_lat", "home_lon")
_COLS: dict[str, object] = {
    **{c: np.float64 for c in _FLOAT_COLS},
    "ids": object, "area": object, "exercise": object, "res": object,
    "kind_code": np.int16, "status_code": np.int16, "cap_mask": np.uint64,
    "exercise_code": np.int32, "alive": np.bool_, "pos_gen": np.int64, "home_gen": np.int64,
    "pos_zone": np.int32, "home_zone": np.int32, "group_code": np.int32,
}
_INTERNAL = {"res", "alive", "pos_gen", "home_gen", "pos_zone", "home_zone"}


class ResourceIndex:
    """Columnar in-memory index with exact nearest-first walks (see the module docstring)."""

    REBUILD_MAX = 5000
    # Below this the overlay is cheaper to scan than the tree to rebuild: with a small
    # registry and a fleet reporting every second, a floor of 64 rebuilt many times a second.
    REBUILD_MIN = 512
    REBUILD_FRACTION = 0.02
    COMPACT_MIN = 1000  # dead rows tolerated before a rebuild compacts them (inline)

    def __init__(self, vocab: Vocabulary, *, zoner: Zoner | None = None,
                 spawn: Spawn | None = None, grouper: Grouper | None = None) -> None:
        self.vocab = vocab
        self.zoner = zoner
        self.grouper = grouper
        self._groups: dict[str | None, int] = {None: 0}  # group key -> code
        self._group_of_area: dict[str, int] = {}
        self._spawn = spawn
        self._land_kind = np.array([m == "land" for m in vocab.kind_modes.values()], bool)
        self._n = 0
        self._c: dict[str, np.ndarray] = {k: np.empty(0, t) for k, t in _COLS.items()}
        self._row_of: dict[str, int] = {}
        self._exercise_codes: dict[str | None, int] = {None: 0}
        self._cap_cache: dict[tuple[str, ...], int] = {}
        self._compiled_cache: dict[tuple, Compiled] = {}
        self._trees = self._build(snapshot(self._c, 0, None, self._land_kind))
        self._job: Job | None = None
        self._layout = 0  # bumped by every compaction: a background build of an older
        # layout is thrown away
        self._counts = FilterCounts()
        self._selections = Selections()
        self._ov = Overlay()
        self.rebuilds = 0
        # Bumped when a resource is added or its kind, capabilities, speed, readiness or
        # exercise change (not on moves, status changes or removals): bounds computed over
        # the index stay valid while it holds.
        self.version = 0
        self._bounds_cache: dict[tuple, Any] = {}  # bounds and class bounds, per version

    # ------------------------------------------------------------------ building

    @classmethod
    def warm(cls, vocab: Vocabulary) -> None:
        """Compile the k-nearest search now (resources/spatial_kdtree.py; see
        rescue/warmup.py): a serving process's first query would otherwise hold its loop for
        the compile. One query, its flat tree built inline."""
        kind = next(iter(vocab.kind_modes))
        unit = Resource(id="warm", name="warm", call_sign=None, kind=kind, tier=None,
                        agency=None, capabilities=(), crew=1, capacity=0, speed_kmh=1.0,
                        readiness_s=0.0, range_km=None, home=Home(None, 0.0, 0.0), lat=None,
                        lon=None, position_time=None, status="available", area="",
                        exercise=None)
        cls.build([unit], vocab).nearest(0.0, 0.0, 1, now=0.0)

    @classmethod
    def build(cls, resources: Iterable[Resource], vocab: Vocabulary, *,
              zoner: Zoner | None = None, spawn: Spawn | None = None,
              grouper: Grouper | None = None) -> ResourceIndex:
        """Index many resources at once (one tree build)."""
        idx = cls(vocab, zoner=zoner, spawn=spawn, grouper=grouper)
        rs = list(resources)
        n = len(rs)
        if len({r.id for r in rs}) != n:
            raise ValueError("duplicate resource ids")
        idx._grow(n)
        c = idx._c
        c["res"][:n] = rs
        c["ids"][:n] = [r.id for r in rs]
        for col in ("speed_kmh", "readiness_s", "area"):
            c[col][:n] = [getattr(r, col) for r in rs]
        c["range_km"][:n] = [np.nan if r.range_km is None else r.range_km for r in rs]
        c["position_time"][:n] = [epoch(r.position_time) for r in rs]
        c["pos_lat"][:n] = [np.nan if r.lat is None else r.lat for r in rs]
        c["pos_lon"][:n] = [np.nan if r.lon is None else r.lon for r in rs]
        c["home_lat"][:n] = [r.home.lat for r in rs]
        c["home_lon"][:n] = [r.home.lon for r in rs]
        kc, sc = vocab._kind_code, vocab._status_code  # type: ignore[attr-defined]
        c["kind_code"][:n] = [kc[r.kind] for r in rs]
        c["status_code"][:n] = [sc[r.status] for r in rs]
        c["cap_mask"][:n] = [idx._mask(r.capabilities) for r in rs]
        c["exercise"][:n] = [r.exercise for r in rs]
        c["exercise_code"][:n] = [idx._ex_code(r.exercise) for r in rs]
        c["group_code"][:n] = [idx._group_code(r.area) for r in rs]
        c["alive"][:n] = True
        c["pos_zone"][:n] = c["home_zone"][:n] = UNZONED
        idx._row_of = {r.id: i for i, r in enumerate(rs)}
        idx._n = n
        idx.rebuild()
        idx.rebuilds = 0
        return idx

    def _mask(self, caps: tuple[str, ...]) -> int:
        m = self._cap_cache.get(caps)
        if m is None:
            m = self._cap_cache[caps] = self.vocab.capability_mask(caps)
        return m

    def code_of_exercise(self, exercise: str | None) -> int:
        """The code of an exercise in the `exercise_code` column (-1: no unit has it)."""
        return self._exercise_codes.get(exercise, -1)

    def _ex_code(self, exercise: str | None) -> int:
        return self._exercise_codes.setdefault(exercise, len(self._exercise_codes))

    def _group_code(self, area: str) -> int:
        """The code of a unit's group (its area's county, by the grouper; 0 without one)."""
        got = self._group_of_area.get(area)
        if got is None:
            key = self.grouper(area) if self.grouper is not None else None
            got = self._group_of_area[area] = self._groups.setdefault(key, len(self._groups))
        return got

    def groups(self, rows: np.ndarray) -> np.ndarray:
        """The group codes of these rows (see `group_code`)."""
        return self._c["group_code"][rows]

    def group_code(self, key: str | None) -> int:
        """The code of a group key (-1: no unit has ever been in it)."""
        return self._groups.get(key, -1)

    def _grow(self, need: int) -> None:
        cap = len(self._c["alive"])
        if need <= cap:
            return
        new = max(need, 2 * cap, 64)
        for k, a in self._c.items():
            b = np.empty(new, a.dtype)
            if a.dtype == object:
                b[:] = None
            b[: self._n] = a[: self._n]
            self._c[k] = b

    def _build(self, snap: Snapshot) -> TreeSet:
        return build_trees(snap, {c: self.vocab.capability_bit(c) for c in self.vocab.capabilities},
                           len(self.vocab.kinds), self._land_kind)

    def _install(self, trees: TreeSet) -> None:
        old = [self._trees]
        self._trees = trees
        self._compiled_cache.clear()  # compiled filters hold the old trees
        self.rebuilds += 1
        if self._spawn is not None:  # freeing a million-entry tree set takes ~20 ms:
            self._spawn(old.clear)  # let the builder's thread do it, not a request
    def rebuild(self) -> None:
        """Compact dead rows and rebuild the trees from every live row, inline; empties the
        overlay (and drops a background build in progress: its rows are renumbered)."""
        n, c = self._n, self._c
        keep = np.flatnonzero(c["alive"][:n])
        if len(keep) != n:
            for k in c:
                c[k][: len(keep)] = c[k][keep]
                if c[k].dtype == object:
                    c[k][len(keep): n] = None
            self._n = n = len(keep)
            self._row_of = {rid: i for i, rid in enumerate(c["ids"][:n])}
            self._selections.reset()  # rows renumbered
        self._layout += 1
        self._job = None
        snap = snapshot(c, n, self.zoner, self._land_kind)
        self._keep_zones(snap)
        self._install(self._build(snap))
        self._ov.clear()

    def _keep_zones(self, snap: Snapshot) -> None:
        """Zones the snapshot computed, into the columns where the place has not changed."""
        cur = snap.gen == np.where(snap.home, self._c["home_gen"][snap.rows],
                                   self._c["pos_gen"][snap.rows])
        for home, col in ((False, "pos_zone"), (True, "home_zone")):
            sel = cur & (snap.home == home) & (snap.zone != UNZONED)
            self._c[col][snap.rows[sel]] = snap.zone[sel]

    def _maybe_rebuild(self) -> None:
        """Start a rebuild when the overlay is full; swap in a finished background one.
        Without a background builder the rebuild waits for the next walk (`_ready`): a writer
        that never walks (a simulation whose dispatcher scans) never pays for trees."""
        job = self._job
        if job is not None:
            if job.done:
                self._swap(job)
            return
        if self._spawn is None or len(self._ov) <= self.rebuild_threshold:
            return
        dead = self._n - len(self._row_of)
        if dead > max(self.COMPACT_MIN, self._n // 4):
            self.rebuild()
            return
        cols, n, zoner, land, layout = dict(self._c), self._n, self.zoner, self._land_kind, \
            self._layout
        old = self._trees

        def work() -> tuple[TreeSet, Snapshot, int]:
            snap = snapshot(cols, n, zoner, land)
            trees = self._build(snap)
            flats_like(trees, old)  # (the k-nearest queries' flat trees ready at the swap)
            return trees, snap, layout

        self._job = self._spawn(work)
        if self._job.done:  # an inline spawner
            self._swap(self._job)

    def _ready(self) -> None:
        """The trees a walk reads: a finished background build swapped in, or, without a
        builder, an overflowing overlay rebuilt now."""
        if self._job is not None:
            if self._job.done:
                self._swap(self._job)
        elif self._spawn is None and len(self._ov) > self.REBUILD_MIN \
                and len(self._ov) > self.rebuild_threshold:  # (the minimum first: cheaper)
            self.rebuild()

    def _swap(self, job: Job) -> None:
        self._job = None
        if job.error is not None:
            log.error("background index build failed; building inline", exc_info=job.error)
            self.rebuild()
            return
        trees, snap, layout = job.result
        job.result = None
        if layout != self._layout:
            return
        self._install(trees)
        # Overlay entries the new trees hold at their current generation are no longer needed.
        # (Zones the builder computed are not copied back: a walk computes the few it needs.
        # Everything here is O(overlay): the swap happens on a request's path.)
        m = len(self._ov)
        if m:
            rows, home = self._ov.row[:m], self._ov.home[:m]
            live = np.where(home, self._c["home_gen"][rows], self._c["pos_gen"][rows])
            self._ov.keep(np.flatnonzero(~snap.holds(rows, home, live)))
        garbage = [snap]  # hundreds of MB at a million units: freed on the builder's thread
        del snap
        if self._spawn is not None:
            self._spawn(garbage.clear)

    def entry_zones(self, rows: np.ndarray, home: np.ndarray) -> np.ndarray:
        """The zones of these entries (computed now where not yet known, then kept)."""
        c = self._c
        z = np.where(home, c["home_zone"][rows], c["pos_zone"][rows])
        ask = np.flatnonzero(z == UNZONED)
        if len(ask) and self.zoner is not None:
            r, h = rows[ask], home[ask]
            lat = np.where(h, c["home_lat"][r], c["pos_lat"][r])
            lon = np.where(h, c["home_lon"][r], c["pos_lon"][r])
            z[ask] = got = np.asarray(self.zoner(lat, lon), dtype=np.int32)
            c["home_zone"][r[h]] = got[h]
            c["pos_zone"][r[~h]] = got[~h]
        return z

    def count(self, where: IndexFilter) -> int:
        """How many units match `where`'s kinds, capabilities, statuses and exercise, wherever
        they are: kept live (resources/spatial_counts.py), O(1) after the first ask."""
        return self._counts.get(where, self._scan_count)

    def select(self, where: IndexFilter) -> np.ndarray:
        """The rows of the live units matching `where`'s kinds, capabilities, statuses,
        exercise, area, group and tiers, ascending (read-only): kept as units change
        (resources/spatial_select.py), so an ask costs the changes since the last one."""
        if where.zone is not None:
            raise ValueError("select keeps no zone filter (a zone belongs to a place)")

        def match(rows: np.ndarray) -> np.ndarray:
            return self._c["alive"][rows] & self._compiled(where).mask(self, rows)

        return self._selections.rows(where, self._n, match)

    def _scan_count(self, f: IndexFilter) -> int:
        rows = np.flatnonzero(self._c["alive"][: self._n])
        return int(Compiled(self, f).mask(self, rows).sum())

    # ------------------------------------------------------------------ updates

    def upsert(self, r: Resource) -> None:
        """Insert or replace one resource: O(1) plus an occasional rebuild."""
        c = self._c
        row = self._row_of.get(r.id)
        old: Resource | None = None
        if row is None:
            self._grow(self._n + 1)
            row = self._n
            self._n += 1
            self._row_of[r.id] = row
            c["ids"][row] = r.id
            c["alive"][row] = True
            c["pos_gen"][row] = c["home_gen"][row] = 0
            c["pos_zone"][row] = c["home_zone"][row] = UNZONED
        else:
            old = c["res"][row]
        if old is None or (old.kind, old.capabilities, old.speed_kmh, old.readiness_s,
                           old.exercise) != (r.kind, r.capabilities, r.speed_kmh,
                                             r.readiness_s, r.exercise):
            self.version += 1
        counted = old is None or (old.kind, old.capabilities, old.status, old.exercise,
                                  old.readiness_s) != (r.kind, r.capabilities, r.status,
                                                       r.exercise, r.readiness_s)
        if counted:
            self._counts.changed(old, r)
        if counted or (old.area, old.speed_kmh) != (r.area, r.speed_kmh):  # type: ignore[union-attr]
            self._selections.changed(row)
        c["res"][row] = r
        c["speed_kmh"][row], c["readiness_s"][row] = r.speed_kmh, r.readiness_s
        c["range_km"][row] = np.nan if r.range_km is None else r.range_km
        c["position_time"][row] = epoch(r.position_time)
        c["kind_code"][row] = self.vocab.kind_code(r.kind)
        c["status_code"][row] = self.vocab.status_code(r.status)
        c["cap_mask"][row] = self._mask(r.capabilities)
        c["area"][row], c["exercise"][row] = r.area, r.exercise
        c["exercise_code"][row] = self._ex_code(r.exercise)
        c["pos_lat"][row] = np.nan if r.lat is None else r.lat
        c["pos_lon"][row] = np.nan if r.lon is None else r.lon
        c["home_lat"][row], c["home_lon"][row] = r.home.lat, r.home.lon
        # A change of place, kind or capabilities retires the row's tree entries (generation
        # bump) and puts the current ones in the overlay, which every walk scans.
        c["group_code"][row] = self._group_code(r.area)
        regroup = old is not None and (
            (old.kind, old.capabilities, old.area) != (r.kind, r.capabilities, r.area)
            or old.readiness_s != r.readiness_s  # (a move, the hot path, skips the tiers)
            and readiness_tiers(old.readiness_s) != readiness_tiers(r.readiness_s))
        if old is None or regroup or (old.home.lat, old.home.lon) != (r.home.lat, r.home.lon):
            c["home_gen"][row] += 1
            c["home_zone"][row] = UNZONED
            self._ov.put(row, True, r.home.lat, r.home.lon)
        if old is None or regroup or (old.lat, old.lon) != (r.lat, r.lon):
            self._new_position_entry(row, r)
        self._maybe_rebuild()

    def move(self, id: str, lat: float, lon: float, time: datetime | None,
             version: int) -> bool:
        """`upsert` of the unit at a new position (only its place, time and version change):
        the hot path of every feed, without upsert's comparisons. False when not indexed."""
        row = self._row_of.get(id)
        if row is None:
            return False
        self._place(row, with_position(self._c["res"][row], lat, lon, time, version))
        return True

    def place(self, r: Resource) -> bool:
        """`move` to where `r` is, given the unit as it is after the move (its other fields as
        indexed): a feed that holds it already spares building it again."""
        row = self._row_of.get(r.id)
        if row is None:
            return False
        self._place(row, r)
        return True

    def place_many(self, units: list[Resource]) -> None:
        """`place` of many units at once (distinct ids; those not indexed are left out), in
        vectorised steps: a simulation's tick moves hundreds of units."""
        c, row_of = self._c, self._row_of
        pairs = [(row, r) for row, r in ((row_of.get(r.id), r) for r in units)
                 if row is not None]
        if not pairs:
            return
        rows = np.fromiter((row for row, _ in pairs), np.int64, len(pairs))
        rs = [r for _, r in pairs]
        nan = math.nan
        lat = np.fromiter((nan if r.lat is None else r.lat for r in rs), float, len(rs))
        lon = np.fromiter((nan if r.lon is None else r.lon for r in rs), float, len(rs))
        res = c["res"]
        for row, r in pairs:
            res[row] = r
        c["position_time"][rows] = [epoch(r.position_time) for r in rs]
        old_lat, old_lon = c["pos_lat"][rows], c["pos_lon"][rows]
        # (the columns hold each unit's place, nan for none: a unit still without one stays)
        moved = ~(((old_lat == lat) & (old_lon == lon)) | (np.isnan(old_lat) & np.isnan(lat)))
        if moved.any():
            mrows, mlat, mlon = rows[moved], lat[moved], lon[moved]
            c["pos_lat"][mrows], c["pos_lon"][mrows] = mlat, mlon
            c["pos_gen"][mrows] += 1
            c["pos_zone"][mrows] = UNZONED
            known = ~np.isnan(mlat)
            for row in mrows[~known].tolist():
                self._ov.drop(row, False)
            self._ov.put_many(mrows[known].tolist(), mlat[known], mlon[known])
        self._maybe_rebuild()

    def _place(self, row: int, r: Resource) -> None:
        c = self._c
        old = c["res"][row]
        c["res"][row] = r
        lat, lon = r.lat, r.lon
        c["position_time"][row] = epoch(r.position_time)
        if (old.lat, old.lon) != (lat, lon):
            c["pos_lat"][row] = np.nan if lat is None else lat
            c["pos_lon"][row] = np.nan if lon is None else lon
            self._new_position_entry(row, r)
        self._maybe_rebuild()

    def _new_position_entry(self, row: int, r: Resource) -> None:
        """The row's position entry changed: its tree entry retired (generation bump), its
        zone unknown, the current one in the overlay (none without a position)."""
        c = self._c
        c["pos_gen"][row] += 1
        c["pos_zone"][row] = UNZONED
        if r.lat is None or r.lon is None:
            self._ov.drop(row, False)
        else:
            self._ov.put(row, False, r.lat, r.lon)

    def remove(self, id: str) -> bool:
        """Drop a resource; False when it was not indexed."""
        row = self._row_of.pop(id, None)
        if row is None:
            return False
        for home in (False, True):
            self._ov.drop(row, home)
        self._c["alive"][row] = False
        self._selections.changed(row)
        self._counts.changed(self._c["res"][row], None)
        self._c["res"][row] = None
        return True

    @property
    def rebuild_threshold(self) -> int:
        entries = self._trees.all.n
        return int(min(self.REBUILD_MAX, max(self.REBUILD_MIN, self.REBUILD_FRACTION * entries)))

    # ------------------------------------------------------------------ access

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, id: object) -> bool:
        return id in self._row_of

    def get(self, id: str) -> Resource | None:
        row = self._row_of.get(id)
        return None if row is None else self._c["res"][row]

    def row_of(self, id: str) -> int | None:
        return self._row_of.get(id)

    def resource(self, row: int) -> Resource:
        return self._c["res"][row]

    def __getattr__(self, name: str) -> np.ndarray:
        # Column views by row: ids, speed_kmh, readiness_s, range_km, kind_code, cap_mask,
        # status_code, area, exercise, position_time, pos_lat, pos_lon, home_lat, home_lon.
        c = self.__dict__.get("_c")
        if c is not None and name in c and name not in _INTERNAL:
            return c[name][: self.__dict__["_n"]]
        raise AttributeError(name)

    # ------------------------------------------------------------------ queries

    def bounds(self, where: IndexFilter | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """The (speed, readiness) classes (geo.travel.speed_classes) of the resources matching
        `where`'s kinds, capabilities and exercise, whatever their status or area (a superset,
        so an ETA lower bound built from it stays valid); None when none match. Cached per
        `version`."""
        f = where or IndexFilter()
        key = (f.kinds, f.capabilities_all, f.capabilities_any, f.exercise, f.tiers,
               self.version)
        if key in self._bounds_cache:
            return self._bounds_cache[key]
        rows = self._superset(f)
        out = None
        if len(rows):
            out = speed_classes(self._c["speed_kmh"][rows], self._c["readiness_s"][rows])
        self._cache_bounds(key, out)
        return out

    def class_bounds(self, where: IndexFilter | None = None
                     ) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
        """`bounds` of each class (kind, readiness tier) with matching resources, in one pass:
        the dispatcher walks the classes apart (resources/spatial_trees.py says why)."""
        f = where or IndexFilter()
        key = ("classes", f.kinds, f.capabilities_all, f.capabilities_any, f.exercise,
               f.tiers, self.version)
        got: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] | None = \
            self._bounds_cache.get(key)
        if got is None:
            rows = self._superset(f)
            cls = unit_class(self._c["kind_code"][rows], self._c["readiness_s"][rows])
            got = {}
            kinds = self.vocab.kinds
            for code in np.unique(cls).tolist():
                sel = rows[cls == code]
                got[(kinds[code // TIERS], code % TIERS)] = speed_classes(
                    self._c["speed_kmh"][sel], self._c["readiness_s"][sel])
            self._cache_bounds(key, got)
        return got

    def _superset(self, f: IndexFilter) -> np.ndarray:
        """Rows matching `f`'s kinds, capabilities, exercise and tiers, whatever their status
        or area (what an ETA bound must cover)."""
        cf = Compiled(self, IndexFilter(kinds=f.kinds, capabilities_all=f.capabilities_all,
                                        capabilities_any=f.capabilities_any, statuses=None,
                                        exercise=f.exercise, tiers=f.tiers))
        rows = np.flatnonzero(self._c["alive"][: self._n])
        return rows[cf.mask(self, rows)]

    def _cache_bounds(self, key: tuple, value: Any) -> None:
        if len(self._bounds_cache) > 512:
            self._bounds_cache.clear()
        self._bounds_cache[key] = value

    def _compiled(self, f: IndexFilter) -> Compiled:
        """The compiled filter, reused while the trees, exercise and group codes it read
        stand."""
        key = (f, id(self._trees), len(self._exercise_codes), len(self._groups))
        cf = self._compiled_cache.get(key)
        if cf is None:
            if len(self._compiled_cache) > 256:
                self._compiled_cache.clear()
            cf = self._compiled_cache[key] = Compiled(self, f)
        return cf

    def walk(self, lat: float, lon: float, *, where: IndexFilter | None = None,
             now: datetime | float, max_age_s: float | None = 1800,
             batch: int = 64, grow: bool = False, reach_km: Callable[[], float] | None = None,
             frontiers: bool = False) -> Iterator[Batch]:
        """Matching resources nearest first (exact great-circle order, ties by id), in batches
        of up to `batch`; each resource once, at its effective position.

        `grow` doubles the batch size after every batch: a consumer that usually stops early
        but sometimes must read everything (no unit can reach an island incident) then pays
        O(log n) batches, not n / batch. `reach_km`, asked each round, says how far the
        consumer expects to need units (a hint: its rounds read no farther while it holds; the
        walk still goes on if asked). `frontiers`: each batch carries how far every resource
        not yet yielded is at least, and a round that found nobody yields an empty batch, so
        the consumer learns the walk went past what it needs."""
        self._ready()
        return walk_index(self, self._compiled(where or IndexFilter()), lat, lon, epoch(now),
                          max_age_s, batch, grow, reach_km, frontiers)

    def nearest(self, lat: float, lon: float, k: int, *, where: IndexFilter | None = None,
                now: datetime | float, max_age_s: float | None = 1800) -> list[Hit]:
        """The k nearest matching resources (exact; ties by id). `where=None` means
        IndexFilter(): available, live."""
        hits: list[Hit] = []
        if k <= 0:
            return hits
        self._ready()
        once = nearest_once(self, self._compiled(where or IndexFilter()), lat, lon, k,
                            epoch(now), max_age_s)
        if once is not None:
            return list(map(Hit._make, zip(self._c["res"][once[0]].tolist(),
                                           chord_to_km(once[1]).tolist(), once[2].tolist(),
                                           strict=True)))
        for b in self.walk(lat, lon, where=where, now=now, max_age_s=max_age_s,
                           batch=max(k, 16)):
            for row, km, fh in zip(b.rows, b.km, b.from_home, strict=True):
                hits.append(Hit(self._c["res"][row], float(km), bool(fh)))
                if len(hits) == k:
                    return hits
        return hits


__all__ = ["Batch", "Hit", "IndexFilter", "ResourceIndex"]
