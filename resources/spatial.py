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

Row numbers are valid until the next upsert/remove (a rebuild compacts rows). The index is not
thread-safe: one writer, and no updates while a walk is being consumed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import datetime

import numpy as np

from geo.distance import chord_to_km, unit_vectors
from resources.model import Resource
from resources.spatial_parts import Batch, Compiled, Hit, IndexFilter, StaticTree, epoch
from resources.vocabulary import Vocabulary

_FLOAT_COLS = ("speed_kmh", "readiness_s", "range_km", "position_time", "pos_lat", "pos_lon",
               "home_lat", "home_lon")
_COLS: dict[str, object] = {
    **{c: np.float64 for c in _FLOAT_COLS},
    "ids": object, "area": object, "exercise": object, "res": object,
    "kind_code": np.int16, "status_code": np.int16, "cap_mask": np.uint64,
    "exercise_code": np.int32, "alive": np.bool_, "pos_gen": np.int64, "home_gen": np.int64,
}
_INTERNAL = {"res", "alive", "pos_gen", "home_gen"}


class ResourceIndex:
    """Columnar in-memory index with exact nearest-first walks (see the module docstring)."""

    REBUILD_MAX = 5000
    # Below this the overlay is cheaper to scan than the tree to rebuild: with a small
    # registry and a fleet reporting every second, a floor of 64 rebuilt many times a second.
    REBUILD_MIN = 512
    REBUILD_FRACTION = 0.02

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self._n = 0
        self._c: dict[str, np.ndarray] = {k: np.empty(0, t) for k, t in _COLS.items()}
        self._row_of: dict[str, int] = {}
        self._exercise_codes: dict[str | None, int] = {None: 0}
        self._cap_cache: dict[tuple[str, ...], int] = {}
        self._compiled_cache: dict[tuple, Compiled] = {}
        self._trees: dict[object, StaticTree] = {}
        self._build_trees(np.empty((0, 3)), np.empty(0, np.int64), np.empty(0, bool))
        self._ov_vec = np.empty((16, 3))
        self._ov_row = np.empty(16, np.int64)
        self._ov_home = np.empty(16, bool)
        self._ov_n = 0
        self._ov_slot: dict[tuple[int, bool], int] = {}
        self.rebuilds = 0
        # Bumped when a resource is added or its kind, capabilities, speed, readiness or
        # exercise change (not on moves, status changes or removals): bounds computed over
        # the index stay valid while it holds.
        self.version = 0
        self._bounds_cache: dict[tuple, tuple[float, float] | None] = {}

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, resources: Iterable[Resource], vocab: Vocabulary) -> ResourceIndex:
        """Index many resources at once (one tree build)."""
        idx = cls(vocab)
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
        c["alive"][:n] = True
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

    def _ex_code(self, exercise: str | None) -> int:
        return self._exercise_codes.setdefault(exercise, len(self._exercise_codes))

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

    def _build_trees(self, vec: np.ndarray, rows: np.ndarray, home: np.ndarray) -> None:
        """One tree of every entry, plus one per capability and one per kind, so a selective
        filter walks only the entries that can match."""
        c = self._c
        gen = np.where(home, c["home_gen"][rows], c["pos_gen"][rows])
        trees = {"all": StaticTree(vec, rows, home, gen)}
        cm, kc = c["cap_mask"][rows], c["kind_code"][rows]
        for cap in self.vocab.capabilities:
            sel = (cm & np.uint64(1 << self.vocab.capability_bit(cap))) != 0
            if sel.any():
                trees[("cap", cap)] = StaticTree(vec[sel], rows[sel], home[sel], gen[sel])
        for kind in self.vocab.kinds:
            sel = kc == self.vocab.kind_code(kind)
            if sel.any():
                trees[("kind", kind)] = StaticTree(vec[sel], rows[sel], home[sel], gen[sel])
        self._trees = trees
        self._compiled_cache.clear()  # compiled filters hold the old trees

    def rebuild(self) -> None:
        """Compact dead rows and rebuild the trees from every live row; empties the overlay."""
        n, c = self._n, self._c
        keep = np.flatnonzero(c["alive"][:n])
        if len(keep) != n:
            for k in c:
                c[k][: len(keep)] = c[k][keep]
                if c[k].dtype == object:
                    c[k][len(keep): n] = None
            self._n = n = len(keep)
            self._row_of = {rid: i for i, rid in enumerate(c["ids"][:n])}
        has_pos = np.flatnonzero(~np.isnan(c["pos_lat"][:n]))
        rows = np.concatenate([has_pos, np.arange(n)])
        home = np.concatenate([np.zeros(len(has_pos), bool), np.ones(n, bool)])
        lat = np.where(home, c["home_lat"][rows], c["pos_lat"][rows])
        lon = np.where(home, c["home_lon"][rows], c["pos_lon"][rows])
        self._build_trees(unit_vectors(lat, lon) if n else np.empty((0, 3)), rows, home)
        self._ov_n = 0
        self._ov_slot.clear()
        self.rebuilds += 1

    # ------------------------------------------------------------------ updates

    def _ov_put(self, row: int, home: bool, lat: float, lon: float) -> None:
        slot = self._ov_slot.get((row, home))
        if slot is None:
            if self._ov_n == len(self._ov_row):
                m = 2 * len(self._ov_row)
                self._ov_vec = np.resize(self._ov_vec, (m, 3))
                self._ov_row = np.resize(self._ov_row, m)
                self._ov_home = np.resize(self._ov_home, m)
            slot = self._ov_slot[(row, home)] = self._ov_n
            self._ov_n += 1
        # One point: plain math beats numpy's per-call overhead (a move is the hot path).
        la, lo = math.radians(lat), math.radians(lon)
        cl = math.cos(la)
        self._ov_vec[slot] = (cl * math.cos(lo), cl * math.sin(lo), math.sin(la))
        self._ov_row[slot], self._ov_home[slot] = row, home

    def _ov_drop(self, row: int, home: bool) -> None:
        slot = self._ov_slot.pop((row, home), None)
        if slot is None:
            return
        last = self._ov_n - 1
        if slot != last:
            self._ov_vec[slot] = self._ov_vec[last]
            self._ov_row[slot], self._ov_home[slot] = self._ov_row[last], self._ov_home[last]
            self._ov_slot[(int(self._ov_row[slot]), bool(self._ov_home[slot]))] = slot
        self._ov_n = last

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
        else:
            old = c["res"][row]
        if old is None or (old.kind, old.capabilities, old.speed_kmh, old.readiness_s,
                           old.exercise) != (r.kind, r.capabilities, r.speed_kmh,
                                             r.readiness_s, r.exercise):
            self.version += 1
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
        regroup = old is not None and (old.kind, old.capabilities) != (r.kind, r.capabilities)
        if old is None or regroup or (old.home.lat, old.home.lon) != (r.home.lat, r.home.lon):
            c["home_gen"][row] += 1
            self._ov_put(row, True, r.home.lat, r.home.lon)
        if old is None or regroup or (old.lat, old.lon) != (r.lat, r.lon):
            c["pos_gen"][row] += 1
            if r.has_position:
                self._ov_put(row, False, r.lat, r.lon)  # type: ignore[arg-type]
            else:
                self._ov_drop(row, False)
        if self._ov_n > self.rebuild_threshold:
            self.rebuild()

    def remove(self, id: str) -> bool:
        """Drop a resource; False when it was not indexed."""
        row = self._row_of.pop(id, None)
        if row is None:
            return False
        for home in (False, True):
            self._ov_drop(row, home)
        self._c["alive"][row] = False
        self._c["res"][row] = None
        return True

    @property
    def rebuild_threshold(self) -> int:
        entries = self._trees["all"].n
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

    def bounds(self, where: IndexFilter | None = None) -> tuple[float, float] | None:
        """(max speed_kmh, min readiness_s) over resources matching `where`'s kinds,
        capabilities and exercise, whatever their status or area (a superset, so an ETA
        lower bound built from it stays valid); None when none match. Cached per `version`."""
        f = where or IndexFilter()
        key = (f.kinds, f.capabilities_all, f.capabilities_any, f.exercise, self.version)
        if key in self._bounds_cache:
            return self._bounds_cache[key]
        cf = Compiled(self, IndexFilter(kinds=f.kinds, capabilities_all=f.capabilities_all,
                                        capabilities_any=f.capabilities_any, statuses=None,
                                        exercise=f.exercise))
        rows = np.flatnonzero(self._c["alive"][: self._n])
        ok = cf.mask(self, rows)
        out = None
        if ok.any():
            out = (float(self._c["speed_kmh"][rows[ok]].max()),
                   float(self._c["readiness_s"][rows[ok]].min()))
        if len(self._bounds_cache) > 512:
            self._bounds_cache.clear()
        self._bounds_cache[key] = out
        return out

    def _compiled(self, f: IndexFilter) -> Compiled:
        """The compiled filter, reused while the trees and exercise codes it read stand."""
        key = (f, id(self._trees), len(self._exercise_codes))
        cf = self._compiled_cache.get(key)
        if cf is None:
            if len(self._compiled_cache) > 256:
                self._compiled_cache.clear()
            cf = self._compiled_cache[key] = Compiled(self, f)
        return cf

    def walk(self, lat: float, lon: float, *, where: IndexFilter | None = None,
             now: datetime | float, max_age_s: float | None = 1800,
             batch: int = 64, grow: bool = False) -> Iterator[Batch]:
        """Matching resources nearest first (exact great-circle order, ties by id), in batches
        of up to `batch`; each resource once, at its effective position.

        `grow` doubles the batch size after every batch: a consumer that usually stops early
        but sometimes must read everything (no unit can reach an island incident) then pays
        O(log n) batches, not n / batch."""
        cf = self._compiled(where or IndexFilter())
        now_s = epoch(now)
        la, lo_ = math.radians(lat), math.radians(lon)
        q = np.array([math.cos(la) * math.cos(lo_), math.cos(la) * math.sin(lo_), math.sin(la)])
        c = self._c
        m = self._ov_n
        if m:
            ov_d = np.linalg.norm(self._ov_vec[:m] - q, axis=1)
            order = np.argsort(ov_d, kind="stable")
            ov_d, ov_row, ov_home = (ov_d[order], self._ov_row[:m][order],
                                     self._ov_home[:m][order])
        ov_i = 0
        k0 = max(2 * int(batch), 16)  # two entries per resource: position and home
        size = [max(1, int(batch)), 2 if grow else 1]  # current batch size, its growth
        # per tree: [tree, k, cached (d, e) once the tree has been read completely]
        states: list[list] = [[t, k0, None] for t in cf.trees]
        lo = -1.0
        while True:
            results, his = [], []
            for st in states:
                t, k, full = st
                if full is None:
                    kk = min(k, t.n)
                    d, e = t.tree.query(q, k=kk)
                    d, e = np.atleast_1d(d), np.atleast_1d(e)
                    if kk >= t.n:
                        st[2] = full = (d, e)
                    else:
                        his.append(d[-1])
                        st[1] = 2 * k
                results.append((t, full or (d, e)))
            # Entries nearer than `hi` were all returned by every tree's query: emit those.
            hi = min(his) if his else np.inf
            parts_d, parts_r, parts_h = [], [], []
            for t, (d, e) in results:
                i0 = int(d.searchsorted(lo, "left")) if lo >= 0.0 else 0
                i1 = int(d.searchsorted(hi, "left")) if his else len(d)
                e = e[i0:i1]
                rows, home = t.rows[e], t.home[e]
                cur = t.gen[e] == np.where(home, c["home_gen"][rows], c["pos_gen"][rows])
                parts_d.append(d[i0:i1][cur])
                parts_r.append(rows[cur])
                parts_h.append(home[cur])
            if m:
                j1 = int(np.searchsorted(ov_d, hi, "left")) if his else m
                parts_d.append(ov_d[ov_i:j1])
                parts_r.append(ov_row[ov_i:j1])
                parts_h.append(ov_home[ov_i:j1])
                ov_i = j1
            if not parts_r:
                return
            if len(parts_r) == 1:
                rows, home, dist = parts_r[0], parts_h[0], parts_d[0]
            else:
                rows, home, dist = (np.concatenate(parts_r), np.concatenate(parts_h),
                                    np.concatenate(parts_d))
            if len(rows):
                fresh = ~np.isnan(c["pos_lat"][rows])
                if max_age_s is not None:
                    fresh &= now_s - c["position_time"][rows] <= max_age_s
                ok = np.where(home, ~fresh, fresh) & c["alive"][rows]
                ok[ok] = cf.mask(self, rows[ok])
                yield from self._emit(rows[ok], home[ok], dist[ok], size)
            if not his:
                return
            lo = hi

    def _emit(self, rows: np.ndarray, home: np.ndarray, dist: np.ndarray,
              size: list[int]) -> Iterator[Batch]:
        if not len(rows):
            return
        order = np.argsort(dist, kind="stable")
        ds = dist[order]
        if len(ds) > 1 and np.any(ds[1:] == ds[:-1]):  # exact ties: break them by id
            order = np.lexsort((self._c["ids"][rows].astype(str), dist))
        rows, home, dist = rows[order], home[order], dist[order]
        c = self._c
        lat = np.where(home, c["home_lat"][rows], c["pos_lat"][rows])
        lon = np.where(home, c["home_lon"][rows], c["pos_lon"][rows])
        km = chord_to_km(dist)
        km = np.atleast_1d(km)
        s = 0
        while s < len(rows):
            sl = slice(s, s + size[0])
            s += size[0]
            size[0] *= size[1]
            yield Batch(rows[sl], km[sl], lat[sl], lon[sl], home[sl])

    def nearest(self, lat: float, lon: float, k: int, *, where: IndexFilter | None = None,
                now: datetime | float, max_age_s: float | None = 1800) -> list[Hit]:
        """The k nearest matching resources (exact; ties by id). `where=None` means
        IndexFilter(): available, live."""
        hits: list[Hit] = []
        if k <= 0:
            return hits
        for b in self.walk(lat, lon, where=where, now=now, max_age_s=max_age_s,
                           batch=max(k, 16)):
            for row, km, fh in zip(b.rows, b.km, b.from_home, strict=True):
                hits.append(Hit(self._c["res"][row], float(km), bool(fh)))
                if len(hits) == k:
                    return hits
        return hits


__all__ = ["Batch", "Hit", "IndexFilter", "ResourceIndex"]
