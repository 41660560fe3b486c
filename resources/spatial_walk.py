"""The nearest-first walk of the ResourceIndex (see resources/spatial.py for its contract).

Kept apart so the index module holds the state and its updates, this one the query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from geo.distance import chord_to_km, km_to_chord
from resources.spatial_kdtree import nearest_filtered
from resources.spatial_parts import Batch, Compiled, IndexParts, StaticTree

SLACK = 1.0 - 1e-12  # a bound a hair inside a query's radius: rounding cannot cross it
READ_WHOLE = 1024  # a tree this small is read (and sorted) at once: cheaper than rounds


def _round(t: StaticTree, q: np.ndarray, st: list, k0: int,
           cap: float) -> tuple[np.ndarray, np.ndarray, float]:
    """One tree's next query: (chord distances, entries, bound) where every entry of the tree
    nearer than the bound is among those returned: the k nearest, k growing fourfold a round,
    and no farther than `cap` (the consumer's reach) while that holds. The distances are
    computed here, by one formula for every round and the overlay, so an entry sits on the
    same side of a bound in every round.

    Why k nearest and not balls of growing radius: units cluster at bases, so a ball that
    grows past a gap can swallow a whole base (100,000 entries at a million units, tens of
    milliseconds); a count can only grow fourfold, and the reach keeps a round from reading
    units the consumer could not use."""
    k, full, used = st
    tree = t.tree
    assert tree is not None  # (covers hold no empty tree)
    if full is not None:
        return full[0], full[1], np.inf
    if k == 0 and t.n <= READ_WHOLE:
        e = np.arange(t.n)
        bound = np.inf
    else:
        kk = min(max(k, k0), t.n)
        upper = cap if cap > used else np.inf
        dk, e = tree.query(q, k=kk, distance_upper_bound=upper)
        dk, e = np.atleast_1d(dk), np.atleast_1d(e)
        got = e < t.n  # (missing neighbours come back as n, at inf)
        e = e[got]
        if len(e) == t.n:
            last, bound = np.inf, np.inf  # the whole tree
        elif len(e) == kk:
            last = float(dk[kk - 1])
            bound = last * SLACK  # everything nearer than the k-th was returned
        elif np.isfinite(upper):
            last = upper
            bound = upper * SLACK  # everything within the reach was returned
        else:  # fewer than asked with no reach: cannot be (the tree holds more)
            last, bound = np.inf, np.inf
        st[0], st[2] = 4 * kk, max(used, last)
    d = np.linalg.norm(tree.data[e] - q, axis=1)
    if not np.isfinite(bound):
        order = np.argsort(d, kind="stable")
        st[1] = (d[order], e[order])
        return st[1][0], st[1][1], bound
    return d, e, bound


def walk_index(idx: IndexParts, cf: Compiled, lat: float, lon: float, now_s: float,
               max_age_s: float | None, batch: int, grow: bool,
               reach_km: Callable[[], float] | None = None,
               frontiers: bool = False) -> Iterator[Batch]:
    """Rounds of tree queries, each emitting the entries whose distance lies in [previous
    bound, the least bound of this round), merged with the overlay's."""
    q = _unit_vector(lat, lon)
    c = idx._c
    m = len(idx._ov)
    if m:
        ov_d, ov_row, ov_home = idx._ov.by_distance(q)
    ov_i = 0
    k0 = max(2 * int(batch), 16)  # two entries per resource: position and home
    size = [max(1, int(batch)), 2 if grow else 1]  # current batch size, its growth
    # per tree: next k (0: first round), full read (sorted), how far its rounds have read
    states: list[list] = [[0, None, 0.0] for _ in cf.trees]
    lo = -1.0
    take = 4 * k0  # entries taken from a tree read whole per round (doubling): the consumer
    # usually stops after a few batches, so a whole tree is not checked and sorted at once
    while True:
        cap = np.inf if reach_km is None else km_to_chord(reach_km())
        results = [_round(t, q, st, k0, cap) for t, st in zip(cf.trees, states, strict=True)]
        # Entries nearer than `hi` were all returned by every tree's query: emit those.
        hi = min((b for _, _, b in results), default=np.inf)
        hi = max(hi, lo)  # never back: a round that found nobody new emits nothing
        for st, (d, _, _) in zip(states, results, strict=True):
            if st[1] is not None:
                j = int(d.searchsorted(lo, "left")) + take if lo >= 0.0 else take
                if j < len(d):
                    hi = min(hi, float(d[j]))
        take *= 2
        parts_d, parts_r, parts_h = [], [], []
        for st, t, (d, e, _) in zip(states, cf.trees, results, strict=True):
            if st[1] is not None:  # read whole, sorted: slice it
                i0, i1 = d.searchsorted(lo, "left") if lo >= 0.0 else 0, d.searchsorted(hi)
                e, d = e[i0:i1], d[i0:i1]
            else:
                sel = (d >= lo) & (d < hi) if lo >= 0.0 else d < hi
                e, d = e[sel], d[sel]
            rows, home = t.rows[e], t.home[e]
            cur = t.gen[e] == np.where(home, c["home_gen"][rows], c["pos_gen"][rows])
            parts_d.append(d[cur])
            parts_r.append(rows[cur])
            parts_h.append(home[cur])
        if m:
            j1 = int(np.searchsorted(ov_d, hi, "left"))
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
        emitted = False
        bound_km = float(chord_to_km(hi)) if frontiers and np.isfinite(hi) else np.nan
        if len(rows):
            ok = _matching(idx, cf, rows, home, now_s, max_age_s)
            for b in _emit(idx, rows[ok], home[ok], dist[ok], size, bound_km):
                emitted = True
                yield b
        if not np.isfinite(hi):
            return
        if frontiers and not emitted:
            yield Batch(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0),
                        np.empty(0, bool), bound_km)
        lo = hi


def _emit(idx: IndexParts, rows: np.ndarray, home: np.ndarray, dist: np.ndarray,
          size: list[int], bound_km: float = np.nan) -> Iterator[Batch]:
    """The round's rows in batches; the last carries the round's bound as its frontier."""
    if not len(rows):
        return
    order = _nearest_first(idx, rows, dist)
    rows, home, dist = rows[order], home[order], dist[order]
    c = idx._c
    lat = np.where(home, c["home_lat"][rows], c["pos_lat"][rows])
    lon = np.where(home, c["home_lon"][rows], c["pos_lon"][rows])
    km = chord_to_km(dist)
    km = np.atleast_1d(km)
    s = 0
    while s < len(rows):
        sl = slice(s, s + size[0])
        s += size[0]
        size[0] *= size[1]
        yield Batch(rows[sl], km[sl], lat[sl], lon[sl], home[sl],
                    bound_km if s >= len(rows) else np.nan)


def nearest_once(idx: IndexParts, cf: Compiled, lat: float, lon: float, k: int, now_s: float,
                 max_age_s: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The k nearest matches (rows, chord distances, home flags; ties by id) from a query or
    two of a filter's single tree and the overlay, or None when those cannot prove them (the
    walk then answers). Why: a k-nearest query is the dispatcher's most frequent small step,
    and the walk's rounds, merges and batches cost several times the tree's own query.

    First, for the filters it takes, one compiled search of the tree's flat copy
    (resources/spatial_kdtree.py) once that is built. Else (and for filters with area, tier,
    group or zone parts) a query of scipy's tree asks 6k + 8 entries (two
    per unit, one of them current; some units do not match), then four times more; every
    entry nearer than the last returned was returned, so matches found strictly inside it
    are the nearest."""
    if len(cf.trees) != 1 or k <= 0:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):  # (as scipy's query refuses a
        raise ValueError("the query point must be finite")  # NaN point: no search reads it)
    t = cf.trees[0]
    q = _unit_vector(lat, lon)
    overlay = len(idx._ov) > 0
    if cf.kernel is not None and not NUMPY_ONLY:
        flat = t.flat(idx._spawn)
        if flat is not None:  # (the overlay as it is: the search keeps the k nearest it meets)
            got = _nearest_flat(idx, cf.kernel, t, flat, q, k, now_s, max_age_s,
                                idx._ov.entries() if overlay else None)
            if got is not None:
                return got
    ov = idx._ov.by_distance(q) if overlay else None
    for kk in (6 * k + 8, 24 * k + 32):
        got = _nearest_of(idx, cf, t, q, min(kk, t.n), k, now_s, max_age_s, ov)
        if got is not None:
            return got
    return None


def _nearest_of(idx: IndexParts, cf: Compiled, t: StaticTree, q: np.ndarray, kk: int, k: int,
                now_s: float, max_age_s: float | None,
                ov: tuple[np.ndarray, np.ndarray, np.ndarray] | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    tree = t.tree
    assert tree is not None
    d, e = tree.query(q, k=kk)
    d, e = np.atleast_1d(d), np.atleast_1d(e)
    if ov is not None:  # the walk's formula, as the overlay's: merged entries compare alike
        d = np.linalg.norm(tree.data[e] - q, axis=1)
    bound = np.inf if kk == t.n else float(d.max()) * SLACK
    c = idx._c
    rows, home = t.rows[e], t.home[e]
    cur = t.gen[e] == np.where(home, c["home_gen"][rows], c["pos_gen"][rows])
    if ov is not None:
        j = int(np.searchsorted(ov[0], bound, "left"))
        rows, home = np.concatenate([rows[cur], ov[1][:j]]), np.concatenate([home[cur],
                                                                             ov[2][:j]])
        d = np.concatenate([d[cur], ov[0][:j]])
    else:
        rows, home, d = rows[cur], home[cur], d[cur]
    ok = _matching(idx, cf, rows, home, now_s, max_age_s) & (d < bound)
    if np.count_nonzero(ok) < k and np.isfinite(bound):
        return None
    rows, home, d = rows[ok], home[ok], d[ok]
    order = _nearest_first(idx, rows, d)[:k]
    return rows[order], d[order], home[order]


def _nearest_flat(idx: IndexParts, kernel: tuple, t: StaticTree, flat: tuple, q: np.ndarray,
                  k: int, now_s: float, max_age_s: float | None,
                  ov: tuple[np.ndarray, np.ndarray, np.ndarray] | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The k nearest matches by one compiled search of the flat tree with the checks inside
    (resources/spatial_kdtree.py); exact ties ordered by id here; None when more matches tie
    with the k-th than the search had room for."""
    c = idx._c
    ov_v, ov_r, ov_h = ov if ov is not None else _NO_OVERLAY
    room = 2 * k + 64  # the k, and matches tied with the k-th
    rows, dist, home = np.empty(room, np.int64), np.empty(room), np.empty(room, bool)
    n, tied = nearest_filtered(  # type: ignore[call-arg]
        q, k, *flat, ov_v, ov_r, ov_h, c["pos_lat"],
        c["position_time"], c["alive"], c["home_gen"], c["pos_gen"], c["exercise_code"],
        c["status_code"], c["kind_code"], c["cap_mask"], *kernel, now_s,
        np.nan if max_age_s is None else float(max_age_s), rows, dist, home)
    if n < 0:
        return None
    if tied:
        order = _nearest_first(idx, rows[:n], dist[:n])[:k]
        return rows[order], dist[order], home[order]
    return rows[:n], dist[:n], home[:n]


_NO_OVERLAY = (np.empty((0, 3)), np.empty(0, np.int64), np.empty(0, bool))
NUMPY_ONLY = False  # tests set it to hold the compiled search equal to the NumPy path


def _unit_vector(lat: float, lon: float) -> np.ndarray:
    """The query point on the unit sphere (one point: plain math beats numpy's overhead)."""
    la, lo = math.radians(lat), math.radians(lon)
    cl = math.cos(la)
    return np.array([cl * math.cos(lo), cl * math.sin(lo), math.sin(la)])


def _matching(idx: IndexParts, cf: Compiled, rows: np.ndarray, home: np.ndarray,
              now_s: float, max_age_s: float | None) -> np.ndarray:
    """Which entries count: a unit's position while fresh, else its home, alive, matching."""
    c = idx._c
    fresh = ~np.isnan(c["pos_lat"][rows])
    if max_age_s is not None:
        fresh &= now_s - c["position_time"][rows] <= max_age_s
    ok = np.where(home, ~fresh, fresh) & c["alive"][rows]
    ok[ok] = cf.mask(idx, rows[ok], home[ok])
    return ok


def _nearest_first(idx: IndexParts, rows: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """The order of these entries by distance, exact ties broken by resource id."""
    order = np.argsort(dist, kind="stable")
    ds = dist[order]
    if len(ds) > 1 and np.any(ds[1:] == ds[:-1]):
        order = np.lexsort((idx._c["ids"][rows].astype(str), dist))
    return order
