"""The k-nearest query's checks in one compiled step (resources/spatial_walk.py nearest_once).

Why: a k-nearest query reads a few dozen tree entries and asks of each whether it is current
(its generation), the unit's place in use (fresh position or home), the unit alive and
matching the filter, then orders the matches. As NumPy calls that is some forty calls on
arrays of forty entries, each costing its call, not its work: several times the tree's own
query. Here it is one loop, compiled once per process (and cached on disk) by Numba.

The kernel answers exactly what the NumPy path answers (tests hold the two equal): the same
formula for a recomputed distance (the overlay's, numpy.linalg.norm's order of sums), the
same bound, the same stable order; exact ties by id are left to the caller.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SLACK = 1.0 - 1e-12  # (spatial_walk.SLACK: kept equal by a test)


@njit(cache=True, nogil=True)
def nearest_matches(d: np.ndarray, e: np.ndarray, whole: bool, data: np.ndarray,
                    q: np.ndarray, t_rows: np.ndarray, t_home: np.ndarray, t_gen: np.ndarray,
                    ov_d: np.ndarray, ov_rows: np.ndarray, ov_home: np.ndarray,
                    c_pos_lat: np.ndarray, c_ptime: np.ndarray, c_alive: np.ndarray,
                    c_home_gen: np.ndarray, c_pos_gen: np.ndarray, c_ex: np.ndarray,
                    c_status: np.ndarray, c_kind: np.ndarray, c_cap: np.ndarray,
                    ex_code: int, status_ok: np.ndarray, kind_ok: np.ndarray,
                    all_mask: np.uint64, any_mask: np.uint64, has_any: bool,
                    now_s: float, max_age_s: float, k: int,
                    out_rows: np.ndarray, out_d: np.ndarray, out_home: np.ndarray
                    ) -> tuple[int, bool]:
    """The matches among a tree query's entries (`d`, `e`: nearest first) and the overlay's
    (`ov_*`, sorted by distance; empty when none), nearest first, into `out_*`.
    Returns (count, whether two matches lie at exactly the same distance); count -1 when
    fewer than k match inside the query's bound (the caller asks for more entries). Without
    an overlay the entries come nearest first and the loop stops once the k nearest matches
    and every tie with the k-th are in: the count then covers those, not every match.
    With an overlay, the tree entries' distances are recomputed from `data` (the overlay's
    formula) so merged entries compare alike. `max_age_s` NaN: positions never go stale;
    an empty `status_ok` / `kind_ok`: any status / kind."""
    n_e = e.shape[0]
    merge = ov_d.shape[0] > 0
    dd = np.empty(n_e)
    dmax = 0.0
    for i in range(n_e):
        x = e[i]
        if merge:
            a = data[x, 0] - q[0]
            b = data[x, 1] - q[1]
            c = data[x, 2] - q[2]
            dd[i] = np.sqrt(a * a + b * b + c * c)
        else:
            dd[i] = d[i]
        if dd[i] > dmax:
            dmax = dd[i]
    bound = np.inf if whole else dmax * SLACK
    n = 0
    for i in range(n_e):
        if dd[i] >= bound:
            if merge:
                continue
            break  # (the query's entries come nearest first)
        if not merge and n >= k and dd[i] > out_d[k - 1]:
            break  # the k nearest and every tie with the k-th are in: the rest cannot count
        x = e[i]
        if x < 0 or x >= t_rows.shape[0]:
            continue  # (a missing neighbour: never asked for, but no read outside the arrays)
        r = t_rows[x]
        h = t_home[x]
        if t_gen[x] != (c_home_gen[r] if h else c_pos_gen[r]):
            continue
        if counts(r, h, c_pos_lat, c_ptime, c_alive, c_ex, c_status, c_kind, c_cap,
                   ex_code, status_ok, kind_ok, all_mask, any_mask, has_any, now_s,
                   max_age_s):
            out_rows[n] = r
            out_d[n] = dd[i]
            out_home[n] = h
            n += 1
    for j in range(ov_d.shape[0]):
        if not ov_d[j] < bound:
            break
        r = ov_rows[j]
        h = ov_home[j]
        if counts(r, h, c_pos_lat, c_ptime, c_alive, c_ex, c_status, c_kind, c_cap,
                   ex_code, status_ok, kind_ok, all_mask, any_mask, has_any, now_s,
                   max_age_s):
            out_rows[n] = r
            out_d[n] = ov_d[j]
            out_home[n] = h
            n += 1
    if n < k and not whole:
        return -1, False
    order = np.argsort(out_d[:n], kind="mergesort")  # stable, as the NumPy path's
    rs = out_rows[:n][order]
    ds = out_d[:n][order]
    hs = out_home[:n][order]
    tie = False
    for i in range(n):
        out_rows[i] = rs[i]
        out_d[i] = ds[i]
        out_home[i] = hs[i]
        if i and ds[i] == ds[i - 1]:
            tie = True
    return n, tie


@njit(cache=True, nogil=True)
def counts(r: int, h: bool, c_pos_lat: np.ndarray, c_ptime: np.ndarray, c_alive: np.ndarray,
            c_ex: np.ndarray, c_status: np.ndarray, c_kind: np.ndarray, c_cap: np.ndarray,
            ex_code: int, status_ok: np.ndarray, kind_ok: np.ndarray, all_mask: np.uint64,
            any_mask: np.uint64, has_any: bool, now_s: float, max_age_s: float) -> bool:
    """Whether this entry counts: the unit's place in use (a fresh position, else its home),
    the unit alive and matching (spatial_walk._matching and Compiled.mask, for the filters
    the kernel takes)."""
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
