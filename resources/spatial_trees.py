"""The static k-d trees of the ResourceIndex, built from a snapshot of its columns.

Why a module of its own: a rebuild at a million units takes seconds, so a serving index builds
its next trees in a native thread (scipy's tree construction runs without the GIL) while
requests go on, then swaps them in (resources/spatial.py). Everything here is a pure function
of the snapshot, and the snapshot is read in an order that keeps it safe against a writer
changing the live columns meanwhile:

- an entry (a unit's position or home) is current while its generation equals the row's live
  generation for that place, and the writer changes a place *before* bumping its generation;
- the snapshot reads the generations *first*, then the places: an entry whose snapshot
  generation is still current was read at its current place; any other is ignored by the walks
  (its generation no longer matches) and the index's overlay holds its current place.

Trees: one of every entry, one per capability, one per kind, for land kinds one per
reachability zone other than the kind's most common one (an island's units), so a walk for a
land incident on an island reads the island's units alone; one per (capability, class) where a
class is a kind and a readiness tier (spatial_parts.unit_class; the capability's own tree where
it holds one class), and with a grouper one per (group, capability, class): a county's own
units. The dispatcher walks each class apart (units slow to get going stop being read where
their own ETA bound passes what the ranking needs; walked with the ready ones, every such unit
within the ready ones' reach was read only to be dropped: thousands at a large base) and a
county's own units apart from the others (their plan cost has no local-first penalty, see
rescue/dispatch/ranking.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo.distance import unit_vectors
from resources.spatial_parts import TIERS, StaticTree, unit_class

UNZONED = -9  # zone not computed yet (zones are computed lazily, see ResourceIndex)
CHUNK = 1 << 18  # rows per numpy step in the builder thread: each holds the GIL a few ms

Zoner = Callable[[np.ndarray, np.ndarray], np.ndarray]
Grouper = Callable[[str], "str | None"]


@dataclass
class TreeSet:
    """The trees of one build and what the walks need to pick among them."""

    all: StaticTree
    by_cap: dict[str, StaticTree] = field(default_factory=dict)
    by_kind: dict[int, StaticTree] = field(default_factory=dict)
    by_kind_zone: dict[tuple[int, int], StaticTree] = field(default_factory=dict)
    main_zone: dict[int, int] = field(default_factory=dict)  # land kind code -> zone in by_kind
    by_cap_class: dict[tuple[str, int], StaticTree] = field(default_factory=dict)
    by_group_cap_class: dict[tuple[int, str, int], StaticTree] = field(default_factory=dict)


@dataclass
class Snapshot:
    """Entry arrays of one build (row, home flag, generation, place, zone) and the row count."""

    n: int
    rows: np.ndarray
    home: np.ndarray
    gen: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    zone: np.ndarray
    kind_code: np.ndarray
    cap_mask: np.ndarray
    group_code: np.ndarray
    readiness_s: np.ndarray
    # per row: the generations read, and whether its position entry is in the trees
    row_pos_gen: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    row_home_gen: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    row_alive: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    row_has_pos: np.ndarray = field(default_factory=lambda: np.empty(0, bool))

    def holds(self, rows: np.ndarray, home: np.ndarray, live_gen: np.ndarray) -> np.ndarray:
        """Which of these entries the trees of this snapshot hold at the live generation."""
        out = np.zeros(len(rows), bool)
        i = np.flatnonzero(rows < min(self.n, len(self.row_alive)))
        if not len(i):
            return out
        r, h = rows[i], home[i]
        gen = np.where(h, self.row_home_gen[r], self.row_pos_gen[r])
        out[i] = self.row_alive[r] & (h | self.row_has_pos[r]) & (gen == live_gen[i])
        return out


def _copy(a: np.ndarray, n: int) -> np.ndarray:
    """a[:n] copied in chunks, so no single step holds the GIL long."""
    out = np.empty(n, a.dtype)
    for s in range(0, n, CHUNK):
        out[s:s + CHUNK] = a[s:min(s + CHUNK, n)]
    return out


def _take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.empty(len(idx), a.dtype)
    for s in range(0, len(idx), CHUNK):
        out[s:s + CHUNK] = a[idx[s:s + CHUNK]]
    return out


def snapshot(cols: Mapping[str, np.ndarray], n: int, zoner: Zoner | None,
             land_kind: np.ndarray) -> Snapshot:
    """The entries of rows [0, n) of the live columns (see the module docstring for why the
    generations are read first). Dead rows are left out; zones unknown in the columns are
    computed here for land kinds (never written back: the writer owns the columns)."""
    pos_gen, home_gen = _copy(cols["pos_gen"], n), _copy(cols["home_gen"], n)
    alive = _copy(cols["alive"], n)
    p_lat, p_lon = _copy(cols["pos_lat"], n), _copy(cols["pos_lon"], n)
    h_lat, h_lon = _copy(cols["home_lat"], n), _copy(cols["home_lon"], n)
    p_zone, h_zone = _copy(cols["pos_zone"], n), _copy(cols["home_zone"], n)
    kind_code, cap_mask = _copy(cols["kind_code"], n), _copy(cols["cap_mask"], n)
    group_code = _copy(cols["group_code"], n)
    readiness = _copy(cols["readiness_s"], n)
    live = np.flatnonzero(alive)
    has_pos = live[~np.isnan(p_lat[live])]
    rows = np.concatenate([has_pos, live])
    home = np.concatenate([np.zeros(len(has_pos), bool), np.ones(len(live), bool)])
    gen = np.where(home, _take(home_gen, rows), _take(pos_gen, rows))
    lat = np.where(home, _take(h_lat, rows), _take(p_lat, rows))
    lon = np.where(home, _take(h_lon, rows), _take(p_lon, rows))
    zone = np.where(home, _take(h_zone, rows), _take(p_zone, rows)).astype(np.int32)
    land = land_kind[_take(kind_code, rows)]
    if zoner is not None:
        ask = np.flatnonzero(land & (zone == UNZONED))
        for s in range(0, len(ask), CHUNK):
            part = ask[s:s + CHUNK]
            zone[part] = zoner(lat[part], lon[part])
    zone[~land] = UNZONED  # zones matter for land kinds only
    has = np.zeros(n, bool)
    has[has_pos] = True
    return Snapshot(n, rows, home, gen, lat, lon, zone, kind_code, cap_mask, group_code,
                    readiness, pos_gen, home_gen, alive, has)


def build_trees(s: Snapshot, capabilities: Mapping[str, int], kinds: int,
                land_kind: np.ndarray) -> TreeSet:
    """Every tree of one snapshot (see the module docstring)."""
    vec = np.empty((len(s.rows), 3))
    for a in range(0, len(s.rows), CHUNK):
        vec[a:a + CHUNK] = unit_vectors(s.lat[a:a + CHUNK], s.lon[a:a + CHUNK])

    def tree(sel: np.ndarray | None) -> StaticTree:
        if sel is None:
            return StaticTree(vec, s.rows, s.home, s.gen)
        return StaticTree(vec[sel], s.rows[sel], s.home[sel], s.gen[sel])

    out = TreeSet(tree(None))
    cm = _take(s.cap_mask, s.rows) if len(s.rows) else np.empty(0, np.uint64)
    kc = _take(s.kind_code, s.rows) if len(s.rows) else np.empty(0, np.int16)
    gc = _take(s.group_code, s.rows) if len(s.rows) else np.empty(0, np.int32)
    grouped = bool(len(gc)) and bool(gc.max() > 0)
    cls = unit_class(kc, _take(s.readiness_s, s.rows)) if len(s.rows) else \
        np.empty(0, np.int64)
    for cap, bit in capabilities.items():
        sel = np.flatnonzero((cm & np.uint64(1 << bit)) != 0)
        if not len(sel):
            continue
        out.by_cap[cap] = tree(sel)
        for key, part in _parts(cls[sel]):
            out.by_cap_class[(cap, key)] = out.by_cap[cap] if len(part) == len(sel) \
                else tree(sel[part])
        if grouped:
            split = kinds * TIERS
            for (g, k), part in _parts(gc[sel].astype(np.int64) * split + cls[sel], split):
                if g > 0:
                    out.by_group_cap_class[(g, cap, k)] = tree(sel[part])
    for k in range(kinds):
        sel = np.flatnonzero(kc == k)
        if not len(sel):
            continue
        out.by_kind[k] = tree(sel)
        if not land_kind[k]:
            continue
        zones, counts = np.unique(s.zone[sel], return_counts=True)
        main = int(zones[np.argmax(counts)])
        out.main_zone[k] = main
        for z in zones:
            if z != main and z != UNZONED:
                out.by_kind_zone[(k, int(z))] = tree(sel[s.zone[sel] == z])
    return out


def _keyed(ts: TreeSet) -> Iterator[tuple[tuple, StaticTree]]:
    yield ("all",), ts.all
    for name in ("by_cap", "by_kind", "by_kind_zone", "by_cap_class", "by_group_cap_class"):
        for key, t in getattr(ts, name).items():
            yield (name, key), t


def flats_like(new: TreeSet, old: TreeSet) -> int:
    """Build the flat copies (resources/spatial_kdtree.py) of the trees of `new` whose
    counterpart in `old` had one that a query read; returns how many. Why: a background
    rebuild calls this on its own thread before the swap, so the k-nearest queries after it
    find their trees' flat copies ready (~0.5 s at a million entries) instead of taking the
    slower path until each is built; a tree no query read since the last build does not get
    one (it may be built on demand again, as before)."""
    wanted = {key for key, t in _keyed(old) if t.flat_reads}
    built = 0
    for key, t in _keyed(new):
        built += key in wanted and t.build_flat_now()  # (an alias: built once)
    return built


def _parts(keys: np.ndarray, split: int = 0) -> list[tuple[Any, np.ndarray]]:
    """The positions of each distinct key ((key // split, key % split) when `split`)."""
    order = np.argsort(keys, kind="stable")
    values, starts = np.unique(keys[order], return_index=True)
    ends = [*starts[1:].tolist(), len(order)]
    return [((int(v) // split, int(v) % split) if split else int(v), order[a:b])
            for v, a, b in zip(values.tolist(), starts.tolist(), ends, strict=True)]


class Job:
    """A background build's outcome, written by the builder thread, read by the index."""

    done = False
    result: Any = None
    error: BaseException | None = None


Spawn = Callable[[Callable[[], Any]], Job]
