"""A k-d tree in flat arrays and the filtered k-nearest search over it, compiled with Numba.

Why a second tree beside scipy's: a k-nearest query with a filter asks scipy's tree for a few
times k entries (two per unit, any status), checks them, and asks again with four times more
when too few match; each `cKDTree.query` call costs ~12 µs before any work. Here the checks
run inside the search, which prunes by the k-th *matching* entry found so far: one call, no
over-asking, no second round (resources/spatial_walk.py nearest_once).

The tree: sliding-midpoint splits (as scipy's `balanced_tree=False`) down to leaves of at most
LEAF entries; each node keeps the bounding box of its entries, so the search's lower bound of
a node is the distance to its box.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LEAF = 16
NO_CHILD = -1


def build(data: np.ndarray, rows: np.ndarray, home: np.ndarray, gen: np.ndarray) -> tuple:
    """The flat tree of a StaticTree's entries (points `data` (n, 3) and their rows, home
    flags and generations): (points, rows, home, gen, start, end, left, box_lo, box_hi,
    depth), the entries in leaf order so a leaf's are read in one sweep; node i holds entries
    start[i]:end[i]; its children are left[i] and left[i] + 1 (NO_CHILD: a leaf); depth
    bounds the search's stack."""
    perm, start, end, left, lo, hi, depth = _nodes(data)
    return (*_gathered(data, rows, home, gen, perm), start, end, left, lo, hi, depth)


@njit(cache=True, nogil=True)
def _gathered(data: np.ndarray, rows: np.ndarray, home: np.ndarray, gen: np.ndarray,
              perm: np.ndarray) -> tuple:
    """The entries in leaf order (compiled: a background build holds no GIL for it)."""
    n = perm.shape[0]
    d2 = np.empty((n, 3))
    r2 = np.empty(n, rows.dtype)
    h2 = np.empty(n, home.dtype)
    g2 = np.empty(n, gen.dtype)
    for i in range(n):
        p = perm[i]
        d2[i, 0], d2[i, 1], d2[i, 2] = data[p, 0], data[p, 1], data[p, 2]
        r2[i], h2[i], g2[i] = rows[p], home[p], gen[p]
    return d2, r2, h2, g2


@njit(cache=True, nogil=True)
def _nodes(data: np.ndarray) -> tuple:
    """(perm, start, end, left, box_lo, box_hi, depth): node i holds perm[start[i]:end[i]]."""
    n = data.shape[0]
    perm = np.arange(n)
    cap = 4 * (n // LEAF) + 16
    start = np.empty(cap, np.int64)
    end = np.empty(cap, np.int64)
    left = np.empty(cap, np.int64)
    level = np.zeros(cap, np.int64)
    lo = np.empty((cap, 3))
    hi = np.empty((cap, 3))
    start[0], end[0] = 0, n
    count, i, depth = 1, 0, 0
    while i < count:
        s, e = start[i], end[i]
        for d in range(3):
            lo[i, d], hi[i, d] = np.inf, -np.inf
        for j in range(s, e):
            p = perm[j]
            for d in range(3):
                v = data[p, d]
                if v < lo[i, d]:
                    lo[i, d] = v
                if v > hi[i, d]:
                    hi[i, d] = v
        dim, spread = 0, -1.0
        for d in range(3):
            if hi[i, d] - lo[i, d] > spread:
                dim, spread = d, hi[i, d] - lo[i, d]
        left[i] = NO_CHILD
        if e - s <= LEAF or not spread > 0.0:  # (a leaf; or points all at one place)
            i += 1
            continue
        split = 0.5 * (lo[i, dim] + hi[i, dim])
        a, b = s, e - 1
        while a <= b:
            if data[perm[a], dim] < split:
                a += 1
            else:
                perm[a], perm[b] = perm[b], perm[a]
                b -= 1
        mid = a
        if mid in (s, e):  # (a split rounded onto an end: halve by order instead)
            seg = perm[s:e].copy()
            order = np.argsort(data[seg, dim])
            perm[s:e] = seg[order]
            mid = (s + e) // 2
        if count + 2 > cap:
            cap *= 2
            start, end, left, level = (_grown(start, cap), _grown(end, cap),
                                       _grown(left, cap), _grown(level, cap))
            lo, hi = _grown(lo, cap), _grown(hi, cap)
        left[i] = count
        start[count], end[count] = s, mid
        start[count + 1], end[count + 1] = mid, e
        level[count] = level[count + 1] = level[i] + 1
        depth = max(depth, level[i] + 1)
        count += 2
        i += 1
    return perm, start[:count], end[:count], left[:count], lo[:count], hi[:count], depth


@njit(cache=True, nogil=True)
def _grown(a: np.ndarray, cap: int) -> np.ndarray:
    """`a` with room for `cap` rows (its first rows kept)."""
    out = np.empty((cap,) + a.shape[1:], a.dtype)
    out[:a.shape[0]] = a
    return out


@njit(cache=True, nogil=True)
def _box_d2(q: np.ndarray, lo: np.ndarray, hi: np.ndarray, i: int) -> float:
    s = 0.0
    for d in range(3):
        if q[d] < lo[i, d]:
            g = lo[i, d] - q[d]
        elif q[d] > hi[i, d]:
            g = q[d] - hi[i, d]
        else:
            g = 0.0
        s += g * g
    return s


@njit(cache=True, nogil=True)
def nearest_filtered(q: np.ndarray, k: int, data: np.ndarray, t_rows: np.ndarray,
                     t_home: np.ndarray, t_gen: np.ndarray, start: np.ndarray, end: np.ndarray,
                     left: np.ndarray, box_lo: np.ndarray, box_hi: np.ndarray, depth: int,
                     ov_vec: np.ndarray, ov_rows: np.ndarray,
                     ov_home: np.ndarray, c_pos_lat: np.ndarray, c_ptime: np.ndarray,
                     c_alive: np.ndarray, c_home_gen: np.ndarray, c_pos_gen: np.ndarray,
                     c_ex: np.ndarray, c_status: np.ndarray, c_kind: np.ndarray,
                     c_cap: np.ndarray, ex_code: int, status_ok: np.ndarray,
                     kind_ok: np.ndarray, all_mask: np.uint64, any_mask: np.uint64,
                     has_any: bool, now_s: float, max_age_s: float, out_rows: np.ndarray,
                     out_d: np.ndarray, out_home: np.ndarray) -> tuple[int, bool]:
    """The k nearest matching entries of the tree (current by generation) and of the overlay
    (`ov_*`: unit vectors, rows, home flags, in any order), nearest first into `out_*`:
    (count, tied). Fewer than k: every match. `tied`: two of them lie at exactly one
    distance, and the count also takes in every other match at the k-th's distance (room for
    len(out_*) - k of them, else -1): which of those make the k goes by id, and the caller
    orders them (this search knows no ids). Distances: the chord, as numpy.linalg.norm sums
    it."""
    room = out_d.shape[0]
    n, m, tied, worst, lost = 0, 0, False, np.inf, np.inf  # see _admit
    for j in range(ov_vec.shape[0]):
        a = ov_vec[j, 0] - q[0]
        b = ov_vec[j, 1] - q[1]
        cc = ov_vec[j, 2] - q[2]
        dj = np.sqrt(a * a + b * b + cc * cc)
        if n == k and dj > worst:
            continue
        r, h = ov_rows[j], ov_home[j]
        if counts(r, h, c_pos_lat, c_ptime, c_alive, c_ex, c_status, c_kind, c_cap,
                  ex_code, status_ok, kind_ok, all_mask, any_mask, has_any, now_s,
                  max_age_s):
            n, m, tied, worst, lost = _admit(dj, r, h, k, room, n, m, tied, worst, lost,
                                             out_rows, out_d, out_home)
    stack = np.empty(2 * depth + 2, np.int64)
    stack[0] = 0
    top = 1
    while top:
        top -= 1
        i = stack[top]
        if n == k and _box_d2(q, box_lo, box_hi, i) > worst * worst * (1.0 + 1e-9):
            continue
        c = left[i]
        if c != NO_CHILD:
            d0 = _box_d2(q, box_lo, box_hi, c)
            d1 = _box_d2(q, box_lo, box_hi, c + 1)
            if d0 <= d1:  # the nearer child on top: searched first
                stack[top], stack[top + 1] = c + 1, c
            else:
                stack[top], stack[top + 1] = c, c + 1
            top += 2
            continue
        for x in range(start[i], end[i]):
            a = data[x, 0] - q[0]
            b = data[x, 1] - q[1]
            cc = data[x, 2] - q[2]
            dx = np.sqrt(a * a + b * b + cc * cc)
            if n == k and dx > worst:
                continue
            r, h = t_rows[x], t_home[x]
            if t_gen[x] != (c_home_gen[r] if h else c_pos_gen[r]):
                continue
            if counts(r, h, c_pos_lat, c_ptime, c_alive, c_ex, c_status, c_kind, c_cap,
                      ex_code, status_ok, kind_ok, all_mask, any_mask, has_any, now_s,
                      max_age_s):
                n, m, tied, worst, lost = _admit(dx, r, h, k, room, n, m, tied, worst, lost,
                                                 out_rows, out_d, out_home)
    if not tied:
        return n, False
    if lost <= worst:
        return -1, True  # (more ties than room: the caller asks the other way)
    for j in range(k, k + m):  # extras still at the k-th's distance join the kept
        if out_d[j] == worst:
            out_d[n], out_rows[n], out_home[n] = out_d[j], out_rows[j], out_home[j]
            n += 1
    return n, True


@njit(cache=True, nogil=True)
def _admit(d: float, r: int, h: bool, k: int, room: int, n: int, m: int, tied: bool,
           worst: float, lost: float, out_rows: np.ndarray, out_d: np.ndarray,
           out_home: np.ndarray) -> tuple[int, int, bool, float, float]:
    """Keep a match: (n, m, tied, worst, lost). The first n of out_* hold the nearest
    (sorted, at most k; `worst` the k-th's distance once there are k); `tied`: two matches
    seen at one distance. A match at the k-th's distance, or a k-th pushed out once ties were
    seen (without one it lies strictly beyond every later k-th), goes to the m extras after
    index k; out of room, those the k-th has passed make way, else it is dropped and `lost`
    keeps the nearest distance dropped (each lay at or beyond the k-th of its time, so at or
    beyond the last: it matters only if at it)."""
    if n == k:
        if d == worst:
            m, lost = _extra(d, r, h, k, room, m, worst, lost, out_rows, out_d, out_home)
            return n, m, True, worst, lost
        if tied:
            m, lost = _extra(out_d[k - 1], out_rows[k - 1], out_home[k - 1], k, room, m,
                             worst, lost, out_rows, out_d, out_home)
        n -= 1  # the k-th drops out
    i = n
    while i > 0 and out_d[i - 1] > d:
        out_d[i], out_rows[i], out_home[i] = out_d[i - 1], out_rows[i - 1], out_home[i - 1]
        i -= 1
    if i > 0 and out_d[i - 1] == d:  # (those after it are strictly farther)
        tied = True
    out_d[i], out_rows[i], out_home[i] = d, r, h
    n += 1
    return n, m, tied, (out_d[k - 1] if n == k else np.inf), lost


@njit(cache=True, nogil=True)
def _extra(d: float, r: int, h: bool, k: int, room: int, m: int, worst: float, lost: float,
           out_rows: np.ndarray, out_d: np.ndarray, out_home: np.ndarray
           ) -> tuple[int, float]:
    """One more extra (see _admit): (m, lost)."""
    if k + m >= room:  # out of room: the extras the k-th has passed make way
        kept = k
        for j in range(k, k + m):
            if out_d[j] <= worst:
                out_d[kept], out_rows[kept], out_home[kept] = out_d[j], out_rows[j], out_home[j]
                kept += 1
        m = kept - k
        if k + m >= room:
            return m, min(lost, d)
    out_d[k + m], out_rows[k + m], out_home[k + m] = d, r, h
    return m + 1, lost


@njit(cache=True, nogil=True)
def counts(r: int, h: bool, c_pos_lat: np.ndarray, c_ptime: np.ndarray, c_alive: np.ndarray,
            c_ex: np.ndarray, c_status: np.ndarray, c_kind: np.ndarray, c_cap: np.ndarray,
            ex_code: int, status_ok: np.ndarray, kind_ok: np.ndarray, all_mask: np.uint64,
            any_mask: np.uint64, has_any: bool, now_s: float, max_age_s: float) -> bool:
    """Whether this entry counts: the unit's place in use (a fresh position, else its home),
    the unit alive and matching (spatial_walk._matching and Compiled.mask, for the filters
    the search takes). `max_age_s` NaN: positions never go stale; an empty `status_ok` /
    `kind_ok`: any status / kind."""
    # (the most telling first: each test reads a column of a million rows at a place of its
    # own, so one that fails early saves the others' cache misses)
    if status_ok.shape[0] and not status_ok[c_status[r]]:
        return False
    fresh = np.isnan(max_age_s) or now_s - c_ptime[r] <= max_age_s
    fresh = fresh and not np.isnan(c_pos_lat[r])
    if fresh == h or not c_alive[r] or c_ex[r] != ex_code:
        return False
    if kind_ok.shape[0] and not kind_ok[c_kind[r]]:
        return False
    cap = c_cap[r]
    if all_mask and (cap & all_mask) != all_mask:
        return False
    return not (has_any and (cap & any_mask) == 0)
