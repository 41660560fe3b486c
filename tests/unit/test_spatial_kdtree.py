"""The flat k-d tree and its compiled filtered search (resources/spatial_kdtree.py), against
brute force over points shaped like a registry: clusters at bases, many at one exact place."""

from __future__ import annotations

import numpy as np
import pytest

from geo.distance import unit_vectors
from resources.spatial_kdtree import LEAF, NO_CHILD, build, nearest_filtered


def _points(rng: np.random.Generator, n: int) -> np.ndarray:
    bases = np.column_stack([rng.uniform(27.0, 28.5, 30), rng.uniform(119.8, 121.5, 30)])
    pick = bases[rng.integers(0, 30, n)]
    pts = pick + rng.normal(scale=0.003, size=(n, 2))
    pts[: n // 5] = pick[: n // 5]  # a fifth exactly at their base
    return unit_vectors(pts[:, 0], pts[:, 1])


def _search(flat: tuple, q: np.ndarray, k: int, n_rows: int, status: np.ndarray,
            room: int) -> tuple:
    none = np.zeros(0, bool)
    status_ok = np.array([True, False])
    ov_v, ov_r, ov_h = np.empty((0, 3)), np.empty(0, np.int64), np.empty(0, bool)
    rows, dist, home = np.empty(room, np.int64), np.empty(room), np.empty(room, bool)
    got, tied = nearest_filtered(
        q, k, *flat, ov_v, ov_r, ov_h, np.full(n_rows, np.nan), np.full(n_rows, np.nan),
        np.ones(n_rows, bool), np.zeros(n_rows, np.int64), np.zeros(n_rows, np.int64),
        np.zeros(n_rows, np.int32), status, np.zeros(n_rows, np.int16),
        np.zeros(n_rows, np.uint64), 0, status_ok, none, np.uint64(0), np.uint64(0), False,
        0.0, 1800.0, rows, dist, home)
    return got, tied, rows[:max(got, 0)], dist[:max(got, 0)]


def test_the_tree_holds_every_entry_once_in_boxes_that_hold_them() -> None:
    rng = np.random.default_rng(1)
    vec = _points(rng, 5000)
    data, rows, home, gen, start, end, left, lo, hi, depth = build(
        vec, np.arange(5000), np.zeros(5000, bool), np.zeros(5000, np.int64))
    assert sorted(rows.tolist()) == list(range(5000))
    assert np.array_equal(data, vec[rows])  # the entries moved with their points
    leaves = left == NO_CHILD
    assert (end[leaves] - start[leaves]).sum() == 5000
    for i in range(len(start)):
        pts = data[start[i]:end[i]]
        assert (pts >= lo[i]).all() and (pts <= hi[i]).all()
        if left[i] == NO_CHILD:  # a leaf is small, or all its points are at one place
            assert end[i] - start[i] <= LEAF or (pts == pts[0]).all()
        else:
            c = left[i]
            assert (start[c], end[c + 1]) == (start[i], end[i]) and end[c] == start[c + 1]
    assert depth < 64


@pytest.mark.parametrize(("k", "extra"), [(1, 64), (3, 64), (5, 64), (17, 64), (1, 4), (5, 4)])
def test_the_search_equals_brute_force_or_hands_ties_back(k: int, extra: int) -> None:
    """Every answer is the k nearest available entries with the chord as numpy.linalg.norm
    computes it, bit for bit; when the k-th is tied, every entry at its distance comes too
    (the caller orders them by id), or -1 when more of them tie than the room has."""
    rng = np.random.default_rng(k)
    n = 4000
    vec = _points(rng, n)
    # one entry per row, all homes; a third of the units busy
    flat = build(vec, np.arange(n), np.ones(n, bool), np.zeros(n, np.int64))
    status = (rng.random(n) < 0.33).astype(np.int16)
    qs = vec[rng.integers(0, n, 300)]  # at units: a fifth at a base, among its crowd
    tied_seen = handed_back = 0
    for q in qs:
        got, tied, rows, dist = _search(flat, q, k, n, status, k + extra)
        d = np.linalg.norm(vec - q, axis=1)
        d[status != 0] = np.inf
        kth = np.sort(d)[k - 1]
        if got < 0:  # more ties with the k-th than room: a real crowd of them
            handed_back += 1
            assert np.count_nonzero(d == kth) > extra
            continue
        if not tied:
            order = np.argsort(d, kind="stable")[:k]
            assert np.array_equal(dist, d[order]) and np.array_equal(rows, order)
            continue
        tied_seen += 1  # the k nearer than the k-th and every one at it, nearest first
        want = np.flatnonzero(d <= kth)
        assert sorted(rows.tolist()) == sorted(want.tolist())
        assert np.array_equal(dist, np.sort(d[want]))
    assert tied_seen  # (queries at a base meet its crowd)
    if extra > 30:  # (a base's crowd: ~27 units, two in three available)
        assert handed_back == 0
    else:
        assert handed_back


def test_the_overlay_answers_for_moved_entries() -> None:
    """A moved entry's tree copy is stale by generation: the overlay's entry counts, the
    tree's does not."""
    rng = np.random.default_rng(5)
    n = 500
    vec = unit_vectors(rng.uniform(27.0, 28.5, n), rng.uniform(119.8, 121.5, n))
    flat = build(vec, np.arange(n), np.ones(n, bool), np.zeros(n, np.int64))
    q = vec[7]
    status = np.zeros(n, np.int16)
    none = np.zeros(0, bool)
    home_gen = np.zeros(n, np.int64)
    home_gen[7] = 1  # row 7 moved: its tree entry is stale
    far = unit_vectors(np.array([20.0]), np.array([110.0]))[0]
    ov = (far[None, :], np.array([7]), np.array([True]))
    rows, dist, home = np.empty(n + 8, np.int64), np.empty(n + 8), np.empty(n + 8, bool)
    got, tied = nearest_filtered(
        q, n, *flat, *ov, np.full(n, np.nan), np.full(n, np.nan), np.ones(n, bool),
        home_gen, np.zeros(n, np.int64), np.zeros(n, np.int32), status,
        np.zeros(n, np.int16), np.zeros(n, np.uint64), 0, np.array([True]), none,
        np.uint64(0), np.uint64(0), False, 0.0, 1800.0, rows, dist, home)
    assert (got, tied) == (n, False)
    assert rows[n - 1] == 7 and dist[n - 1] == np.linalg.norm(far - q)  # (to the bit)
    assert list(rows[: n - 1]).count(7) == 0


def test_a_tree_that_outgrows_its_first_arrays() -> None:
    """Points spaced ever wider along a line: each split peels one off, so the tree needs more
    nodes than first allotted (grown as it goes) and every entry is still found."""
    n = 100
    vec = np.zeros((n, 3))
    vec[:, 0] = 1.5 ** np.arange(n)
    data, rows, _, _, start, end, left, _, _, depth = build(
        vec, np.arange(n), np.zeros(n, bool), np.zeros(n, np.int64))
    assert len(start) > 4 * (n // LEAF) + 16 and depth > 30
    assert sorted(rows.tolist()) == list(range(n))
    assert np.array_equal(data, vec[rows])
    leaves = left == NO_CHILD
    assert (end[leaves] - start[leaves]).sum() == n
