"""Exact ranking of the resources for one requirement by ETA, with straight-line pruning.

The index walks candidates nearest-first (great-circle order). Every unseen candidate lies at
least `frontier_km` away, so its ETA is at least
    lb(d) = d / (max speed among matching resources) + (min readiness among them)
because land detours are >= 1 and sea routes are never shorter than the straight line. The walk
stops once the k-th best ETA found (and the pool's m-th best plan cost, which is >= its ETA) is
strictly below lb(frontier) in whole seconds: nothing unseen can beat or even tie it, so ties
broken by resource id cannot change either. `rank_brute_force` evaluates every candidate under
the same model and selects the same way; it is the oracle of the tests and the bench baseline.

A source is anything with
    walk(lat, lon, capability, *, now, max_age_s, exercise, modes) -> iterator of
        (Batch, frontier_km)   (every candidate not yet yielded is >= frontier_km away)
    everything(lat, lon, capability, *, now, max_age_s, exercise, modes) -> Batch
    bounds(capability, modes, exercise) -> (speeds, readiness) | None: the
        geo.travel.speed_classes of a superset of the matching resources (None: none match)
(see rescue.dispatch.sources for the ResourceIndex adapter and an in-memory list source).

A source may also settle units (`settles(reach)`, `walk(..., settled=)`, `settled_counts`):
the units whose outcome the model knows from their kind and land zone alone (eta.Settled:
grounded aircraft, land teams on another landmass than an island incident) are then counted,
not walked, so an incident no land unit can reach costs what its answer costs. Their outcomes
are added when the walk runs out, which is the only time a shortfall can depend on them (a walk
that stops early has filled every list), so the result equals the brute force's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rescue.dispatch.eta import Batch, EtaModel, Evaluated
from rescue.dispatch.ranked import (
    Candidate,
    CandidateSource,
    Context,
    Kept,
    Query,
    RankResult,
    add_settled,
    collect,
    finish,
    prepare,
    score,
    settled_of,
)
from rescue.dispatch.scanning import rank_scan
from rescue.dispatch.walking import Gate

__all__ = ["Candidate", "CandidateSource", "Context", "Query", "RankResult", "rank",
           "rank_brute_force", "rank_many", "rank_scan"]


def _concat(batches: list[Batch]) -> Batch:
    """One batch of several (rows may repeat: the model evaluates each row on its own)."""
    cols = []
    for f in _BATCH_FIELDS:
        if f == "home":
            parts = [b.stale if b.home is None else b.home for b in batches]
        else:
            parts = [getattr(b, f) for b in batches]
        cols.append(np.concatenate(parts))
    return Batch(*cols)


_BATCH_FIELDS = tuple(Batch.__dataclass_fields__)


def _evaluate_apart(model: EtaModel, batches: list[Batch]) -> list[Evaluated]:
    """`model.evaluate` of each batch, by one call over all of them: the model is row-wise
    (each row's outcome depends on that row alone), so this equals evaluating them apart, at
    the per-call cost of one batch."""
    if len(batches) == 1:
        return [model.evaluate(batches[0])]
    ev = model.evaluate(_concat(batches))
    out, s = [], 0
    for b in batches:
        e = s + len(b)
        out.append(Evaluated(ev.eta_s[s:e], ev.km[s:e], ev.code[s:e]))
        s = e
    return out


def rank(source: CandidateSource, q: Query, ctx: Context) -> RankResult:
    """Top `q.k` feasible candidates by (eta_s, resource id), and the plan pool; exact."""
    return rank_many(source, [q], ctx)[0]


@dataclass
class _Sub:
    """One of a requirement's walks: of one kind (or all), a county's own units, the others, or
    all of them. Every unit it has not yielded is at least `frontier_km` away and costs the
    plan at least `floor_s` more than its ETA (others: the local-first margin)."""

    walk: Any
    classes: tuple[np.ndarray, np.ndarray]  # (speed, readiness) classes bounding its ETAs
    modes: tuple[str, ...] | None  # the modes of its units (a land kind's: the detour bound)
    floor_s: float = 0.0
    gate: Gate | None = None
    frontier_km: float = 0.0
    ended: bool = False  # read to the end
    done: bool = False  # nothing it still holds can enter either list
    key_s: float = 0.0  # the least a unit it still holds can add to a list (ETA or cost)


@dataclass
class _Walking:
    """One requirement's ranking in progress."""

    q: Query
    res: RankResult
    kept: Kept
    subs: list[_Sub]
    at: int  # its place in rank_many's results


def _subs(source: CandidateSource, q: Query, ctx: Context, extra: dict,
          classes: tuple[np.ndarray, np.ndarray]) -> list[_Sub]:
    """The walks of one requirement. With a source that can split them: each class of units
    apart (a kind and a readiness tier: a slow class's walk stops where its own bound passes
    the k-th ETA, long before the fastest class's does; walked together, every slow unit
    within the fast class's reach was read, then dropped), and the incident county's own units apart from the others, whose plan cost
    carries the local-first margin, so the plan pool stops reading others a margin earlier (in
    a city the nearest units often belong to the city, not the county: the pool then waited
    for every unit within their ETA + the margin). Otherwise one walk of all."""
    split = getattr(source, "split", None)
    group = split(ctx.jurisdiction) if split is not None else None
    parts = [({}, 0.0)] if group is None else \
        [({"group": group}, 0.0), ({"group": group, "group_out": True}, ctx.policy.local_margin_s)]
    apart = getattr(source, "classes_apart", None)
    got = apart(q.capability, q.modes, ctx.exercise) if apart is not None else None
    done = extra["settled"].done if "settled" in extra else frozenset()
    kinds: list[tuple[dict, tuple[np.ndarray, np.ndarray], tuple[str, ...] | None]] = \
        [({}, classes, q.modes)] if got is None else \
        [(kw, cl, (mode,)) for k, mode, cl, kw in got if k not in done]
    gates = getattr(source, "gates", False)
    out = []
    for kind, cl, modes in kinds:
        for kw, floor in parts:
            gate = Gate(ctx.model, q.modes, floor, cl) if gates else None
            walk = iter(source.walk(ctx.lat, ctx.lon, q.capability, now=ctx.now,
                                    max_age_s=ctx.policy.max_position_age_s,
                                    exercise=ctx.exercise, modes=q.modes, **extra, **kw, **kind,
                                    **({} if gate is None else {"gate": gate})))
            out.append(_Sub(walk, cl, modes, floor, gate,
                            key_s=ctx.model.lower_bound_s(0.0, cl, modes)))
    return out


def _ahead(subs: list[_Sub]) -> list[_Sub]:
    """The walks to advance this round: those whose units could come first (least key, and
    any within a slack of it). Why not all: a class slow to get going (a long readiness)
    would read its first batches for nothing, as the ready classes' ETAs usually fill the
    lists before its least ETA is reached; with every class walked apart the first rounds
    would read a batch of each. Any choice keeps the answer exact (the stopping rule does not
    depend on it); the slack keeps the rounds few."""
    live = [s for s in subs if not (s.ended or s.done)]
    if len(live) <= 1:
        return live
    lo = min(s.key_s for s in live)
    return [s for s in live if s.key_s <= lo + AHEAD_SLACK_S + AHEAD_SLACK * lo]


AHEAD_SLACK_S, AHEAD_SLACK = 60.0, 0.25
# Walks still going after this share of what scanning their requirements would cost
# (`scan_cost_s`) are finished by scans: a walk is ~7x quicker than a scan where units are
# spread and up to ~4x slower where thousands are stacked at bases 10-20 km off, so the worst
# case is (1 + WALK_BUDGET) x the scan. Both are exact: only the time depends on the choice.
WALK_BUDGET = 0.25
CLOCK = time.perf_counter


def rank_many(source: CandidateSource, queries: list[Query], ctx: Context) -> list[RankResult]:
    """`rank` of each query, each exactly as on its own (same walks, batches, thresholds and
    stopping rule), the walks advanced in lockstep so that one model evaluation serves the
    current batches of every requirement still walking (per-call costs dominate small batches).

    A requirement may walk in parts (`_subs`): each part advances until nothing it still holds
    can beat the k-th ETA or, with its cost floor, the pool's m-th cost."""
    out: list[RankResult] = []
    active: list[_Walking] = []
    scans = getattr(source, "prefers_scan", None)
    scan_cost = getattr(source, "scan_cost_s", None)
    settled = settled_of(source, ctx)
    extra = {} if settled is None else {"settled": settled}
    budget = 0.0
    for q in queries:
        if scans is not None and scans(q.capability, q.modes, ctx.exercise):
            out.append(rank_scan(source, q, ctx, settled))  # one scan is cheaper
            continue
        res = RankResult([], [])
        out.append(res)
        bounds = source.bounds(q.capability, q.modes, ctx.exercise)
        if bounds is None:
            continue
        res.exhausted = False
        active.append(_Walking(q, res, Kept(), _subs(source, q, ctx, extra, bounds),
                               len(out) - 1))
        if scan_cost is not None:
            budget += WALK_BUDGET * scan_cost(q.capability, q.modes, ctx.exercise)
    started = CLOCK()
    while active:
        if budget and CLOCK() - started > budget:
            # Walking costs more here than scanning would (units stacked at bases far off
            # pass the walk's bound by the thousand): the scans finish the walks still going.
            for w in active:
                out[w.at] = rank_scan(source, w.q, ctx, settled)
            break
        still: list[_Walking] = []
        todo: list[tuple[_Walking, tuple]] = []
        for w in active:
            for sub in _ahead(w.subs):
                nxt = next(sub.walk, None)
                if sub.gate is not None:
                    sub.gate.absorb(w.res)
                if nxt is None:
                    sub.ended = True
                    continue
                batch, sub.frontier_km = nxt
                w.res.batches += 1
                prepared = prepare(batch, w.q, ctx, w.res, w.kept.nth("eta_s", w.q.k),
                                    w.kept.nth("cost", w.q.pool))
                if prepared is not None:
                    todo.append((w, prepared))
        evaluated = iter(_evaluate_apart(ctx.model, [p[0] for _, p in todo]) if todo else ())
        for w, prepared in todo:
            rows = collect(prepared, next(evaluated), w.res)
            if rows is not None:
                w.kept.add(rows, w.q.k, w.q.pool)
        for w in active:
            q, kept = w.q, w.kept
            kth, mth = kept.nth("eta_s", q.k), kept.nth("cost", q.pool)
            for sub in w.subs:
                if sub.ended:
                    continue
                lb = ctx.model.lower_bound_s(sub.frontier_km, sub.classes, sub.modes)
                sub.done = kth < lb and mth < lb + sub.floor_s
                sub.key_s = lb if lb <= kth else lb + sub.floor_s
                if sub.gate is not None:
                    sub.gate.limit_s = max(kth, mth - sub.floor_s)
            if all(sub.ended for sub in w.subs):
                w.res.exhausted = True
                if settled is not None:
                    add_settled(source, q, ctx, settled, w.res)
                finish(kept, q, w.res)
            elif all(sub.ended or sub.done for sub in w.subs):
                finish(kept, q, w.res)
            else:
                still.append(w)
        active = still
    return out


def rank_brute_force(source: CandidateSource, q: Query, ctx: Context) -> RankResult:
    """Every matching candidate evaluated under the same model; the oracle of `rank`."""
    res = RankResult([], [])
    batch = source.everything(ctx.lat, ctx.lon, q.capability, now=ctx.now,
                              max_age_s=ctx.policy.max_position_age_s, exercise=ctx.exercise,
                              modes=q.modes)
    res.batches = 1
    kept = Kept()
    rows = score(batch, q, ctx, res)
    if rows is not None:
        kept.add(rows, q.k, q.pool)
    return finish(kept, q, res)
