"""The nearest-first walk of the ResourceIndex (see resources/spatial.py for its contract).

Kept apart so the index module holds the state and its updates, this one the query.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from geo.distance import chord_to_km
from resources.spatial_parts import Batch, Compiled

if TYPE_CHECKING:
    from resources.spatial import ResourceIndex


def walk_index(idx: ResourceIndex, cf: Compiled, lat: float, lon: float, now_s: float,
               max_age_s: float | None, batch: int, grow: bool) -> Iterator[Batch]:
    """Rounds of tree queries with doubling k, each emitting the entries whose distance lies
    in [previous bound, current k-th distance), merged with the overlay's."""
    la, lo_ = math.radians(lat), math.radians(lon)
    q = np.array([math.cos(la) * math.cos(lo_), math.cos(la) * math.sin(lo_), math.sin(la)])
    c = idx._c
    m = len(idx._ov)
    if m:
        ov_d, ov_row, ov_home = idx._ov.by_distance(q)
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
            ok[ok] = cf.mask(idx, rows[ok], home[ok])
            yield from _emit(idx, rows[ok], home[ok], dist[ok], size)
        if not his:
            return
        lo = hi


def _emit(idx: ResourceIndex, rows: np.ndarray, home: np.ndarray, dist: np.ndarray,
          size: list[int]) -> Iterator[Batch]:
    if not len(rows):
        return
    order = np.argsort(dist, kind="stable")
    ds = dist[order]
    if len(ds) > 1 and np.any(ds[1:] == ds[:-1]):  # exact ties: break them by id
        order = np.lexsort((idx._c["ids"][rows].astype(str), dist))
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
        yield Batch(rows[sl], km[sl], lat[sl], lon[sl], home[sl])
