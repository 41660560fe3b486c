"""Ranking by one scan: the cheap columns of every matching unit, the costly checks only for
those that could still enter a list (see `rank_scan`); the dispatcher prefers it to a walk up to
a registry size (rescue/dispatch/dispatcher.py, SCAN_BELOW).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from rescue.dispatch.eta import MODE_CODES, Batch, Settled, eta_seconds
from rescue.dispatch.ranked import (
    CandidateSource,
    Context,
    Kept,
    Query,
    RankResult,
    add_settled,
    finish,
    score,
)
from rescue.dispatch.walking import among


def rank_scan(source: CandidateSource, q: Query, ctx: Context,
              settled: Settled | None = None) -> RankResult:
    """`rank_brute_force`'s answer from one scan, the costly checks (reachability, relation,
    sea routes) only where they can matter.

    Every matching unit's optimistic ETA (cheap: straight line, no reachability) bounds its
    ETA from below, and with the penalty it surely carries (not the incident county's own,
    not a preferred kind) its plan cost. Units are taken in optimistic order, in doubling
    chunks; a unit is evaluated only while it could still enter the top k (optimistic ETA up
    to the k-th ETA found) or the pool (optimistic cost up to the m-th cost found), and the
    scan stops where no unit left could (the walk's stopping rule, over sorted arrays). The
    others are counted as matched, unclassified, as the walk counts what it did not read.
    Given what the model `settled` (an island incident), those units are left out and counted
    as the walk counts them, when the scan reads to the end."""
    rows = _columns(source, q, ctx, settled)
    if rows.settled is None:
        settled = None
    opt, cost = rows.opt, rows.cost
    res = RankResult([], [])
    kept = Kept()
    order, rest = np.empty(0, np.int64), np.empty(0)
    seen = np.zeros(len(opt), bool)
    pieces = _ascending(opt, cost)
    start, size = 0, SCAN_CHUNK
    near_first = ctx.model.sea_ok and (q.modes is None or "sea" in q.modes)  # (first chunk)
    while True:
        if start >= len(order):
            nxt = next(pieces, None)
            if nxt is None:
                break
            (order, rest), start = nxt, 0  # (a piece may be empty: no unit matched)
            continue
        kth, mth = kept.nth("eta_s", q.k), kept.nth("cost", q.pool)
        if opt[order[start]] > kth and rest[start] > mth:  # no unit left can enter a list
            _unread(res, ~seen, rows.land)
            res.exhausted = False
            break
        part = order[start:start + size]
        if near_first:
            part, near_first = part[:_near(opt[part], max(q.k, q.pool))], False
        else:
            size *= SCAN_GROWTH
        start += len(part)
        seen[part] = True
        useful = (opt[part] <= kth) | (cost[part] <= mth)
        if not useful.all():
            _unread(res, part[~useful], rows.land)
            part = part[useful]
        if len(part):
            res.batches += 1
            got = score(rows.take(part), q, ctx, res, kth, mth)
            if got is not None:
                kept.add(got, q.k, q.pool)
    if res.exhausted and settled is not None:
        add_settled(source, q, ctx, settled, res)
    return finish(kept, q, res)


SCAN_CHUNK = 32  # rows taken first: the k-th and m-th usually come in them
SCAN_GROWTH = 2  # then twice as many a chunk (4: more rows evaluated for nothing, slower)
SCAN_FIRST = 2048  # rows sorted first: the rest only when the scan gets that far
SCAN_PIECE_GROWTH = 4  # and then pieces four times as large


@dataclass
class _Rows:
    """What the scan knows of every matching unit before evaluating any."""

    opt: np.ndarray  # optimistic ETA, whole seconds
    cost: np.ndarray  # optimistic plan cost: + the penalty the unit surely carries
    land: np.ndarray  # land units (bool)
    take: Callable[[np.ndarray], Batch]  # the whole batch of some of them
    settled: Settled | None  # what the source left out (None: nothing)


def _columns(source: CandidateSource, q: Query, ctx: Context,
             settled: Settled | None) -> _Rows:
    """The scan's columns: a source's lazy `scan` (cheap columns of every unit, whole batches
    of the chunks only, settled units left out, the county's own units known), else
    `everything` (whole batches, a penalty bound from the kinds alone)."""
    args = dict(now=ctx.now, max_age_s=ctx.policy.max_position_age_s, exercise=ctx.exercise,
                modes=q.modes)
    policy = ctx.policy
    lazy = getattr(source, "scan", None)
    if lazy is None:
        b = source.everything(ctx.lat, ctx.lon, q.capability, **args)  # type: ignore[arg-type]
        opt = eta_seconds(ctx.model.optimistic(b))
        pen = np.zeros(len(b)) if not q.kinds else \
            np.where(among(b.kinds, q.kinds), 0.0, policy.kind_preference_s)
        return _Rows(opt, opt + pen, b.modes == "land", b.take, None)
    split = getattr(source, "split", None)
    own_group = split(ctx.jurisdiction) if split is not None else None
    s = lazy(ctx.lat, ctx.lon, q.capability, **args, group=own_group,
             **({} if settled is None else {"settled": settled}))
    opt = eta_seconds(ctx.model.optimistic_of(s.dist_km, s.speed_kmh, s.readiness_s,
                                              s.mode_code))
    pen = np.zeros(len(s))
    if getattr(ctx.jurisdiction, "county", "") is None:  # no unit is own (an incident at sea)
        pen += policy.local_margin_s
    elif s.own is not None:
        pen += np.where(s.own, 0.0, policy.local_margin_s)
    if q.kinds:
        pen += np.where(s.preferred(q.kinds), 0.0, policy.kind_preference_s)
    return _Rows(opt, opt + pen, s.mode_code == MODE_CODES.index("land"), s.take, settled)


def _near(opt: np.ndarray, need: int) -> int:
    """How many of a first chunk (ascending optimistic ETAs) to evaluate first where sea
    routes are asked: the `need` nearest and those within NEAR_SPREAD of the last of them.
    The sea search is bounded by the farthest unit asked (its cost grows with the square of
    that), and a sparse registry's 32 nearest vessels can lie across the whole sea."""
    if len(opt) <= need:
        return len(opt)
    cut = NEAR_SPREAD * float(opt[need - 1])
    return max(need, int(np.searchsorted(opt, cut, side="right")))


NEAR_SPREAD = 1.2


def _unread(res: RankResult, which: np.ndarray, land: np.ndarray) -> None:
    """Count units the scan passed over (a mask or positions): matched, skipped."""
    n = int(np.count_nonzero(which)) if which.dtype == bool else len(which)
    res.matched += n
    res.skipped += n
    res.land_matched += int(np.count_nonzero(land[which]))


def _ascending(opt: np.ndarray, cost: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Positions of `opt` in ascending order, with the least `cost` from each on (over every
    later position too), in pieces: the SCAN_FIRST least (and any equal to the last of them)
    sorted, then the next four times as many, and so on, each only if asked (a full sort of
    hundreds of thousands of values costs more than the scan usually needs, and a scan that
    reads past the first piece mostly stops soon after). The pieces joined are the stable
    sort of the whole."""
    rest, size = np.arange(len(opt)), SCAN_FIRST
    while True:
        if len(rest) <= size:
            order = rest[np.argsort(opt[rest], kind="stable")]
            yield order, _suffix_min(cost[order], np.inf)
            return
        values = opt[rest]
        later = values > np.partition(values, size - 1)[size - 1]
        head, rest = rest[~later], rest[later]
        order = head[np.argsort(opt[head], kind="stable")]
        yield order, _suffix_min(cost[order], float(cost[rest].min()))
        size *= SCAN_PIECE_GROWTH


def _suffix_min(values: np.ndarray, after: float) -> np.ndarray:
    """out[i] = min(values[i:], after)."""
    if not len(values):
        return values.astype(float)
    return np.minimum(np.minimum.accumulate(values[::-1])[::-1], after)
