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

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd

from rescue.dispatch.eta import (
    FEASIBLE_MAX,
    MODE_CODES,
    OUTCOMES,
    UNREACHABLE,
    Batch,
    EtaModel,
    Evaluated,
    Settled,
    eta_seconds,
)
from rescue.dispatch.jurisdiction import OWN, Jurisdiction
from rescue.dispatch.policy import DispatchPolicy
from rescue.dispatch.walking import Gate, among


class CandidateSource(Protocol):
    def walk(self, lat: float, lon: float, capability: str, *, now: datetime, max_age_s: float,
             exercise: str | None, modes: tuple[str, ...] | None = None) -> Any: ...

    def everything(self, lat: float, lon: float, capability: str, *, now: datetime,
                   max_age_s: float, exercise: str | None,
                   modes: tuple[str, ...] | None = None) -> Batch: ...

    def bounds(self, capability: str, modes: tuple[str, ...] | None,
               exercise: str | None = None) -> tuple[np.ndarray, np.ndarray] | None: ...


@dataclass(frozen=True)
class Candidate:
    resource_id: str
    kind: str
    mode: str
    eta_s: int
    distance_km: float
    relation: str
    reason: str
    cost: float = 0.0  # plan cost (ETA + local-first and kind-preference penalties)
    preferred: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"resource_id": self.resource_id, "kind": self.kind, "mode": self.mode,
                "eta_s": self.eta_s, "distance_km": round(self.distance_km, 3),
                "relation": self.relation, "reason": self.reason}


@dataclass(frozen=True)
class Query:
    """One requirement as the ranking sees it: capability, allowed modes, preferred kinds, the
    length `k` of the ranked list and `pool`, how many best-by-plan-cost candidates to keep."""

    capability: str
    k: int
    pool: int = 0
    modes: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None


@dataclass
class Context:
    """Per-request state shared by the requirements' rankings."""

    lat: float
    lon: float
    model: EtaModel
    jurisdiction: Jurisdiction
    policy: DispatchPolicy
    now: datetime
    exercise: str | None = None


@dataclass
class RankResult:
    candidates: list[Candidate]
    pool: list[Candidate]
    outcomes: Counter = field(default_factory=Counter)  # infeasible outcome name -> count
    matched: int = 0  # candidates examined that match (capability, mode)
    feasible: int = 0  # of those, feasible
    exhausted: bool = True  # every matching candidate was examined
    batches: int = 0
    skipped: int = 0  # matched but provably unable to make either list: not classified
    land_matched: int = 0  # of `matched`, land units (what a zone-restricted walk read)
    settled: int = 0  # matched units counted, not walked (see the module docstring)


class _Kept:
    """The feasible candidates that can still make the top-k (by ETA) or the pool (by cost)."""

    COLS = ("ids", "kinds", "modes", "eta_s", "km", "code", "rel", "cost", "pref")

    def __init__(self) -> None:
        self.cols: dict[str, np.ndarray] | None = None
        self._nth: dict[tuple[str, int], float] = {}  # nth() answers until the next add

    def add(self, new: dict[str, np.ndarray], k: int, m: int) -> None:
        if self.cols is not None:
            new = {c: np.concatenate([self.cols[c], new[c]]) for c in self.COLS}
        n = len(new["ids"])
        if n > k + m:
            keep = np.zeros(n, bool)
            keep[np.lexsort((new["ids"], new["eta_s"]))[:k]] = True
            if m:
                keep[np.lexsort((new["ids"], new["eta_s"], new["cost"]))[:m]] = True
            new = {c: v[keep] for c, v in new.items()}
        self.cols = new
        self._nth.clear()

    def nth(self, key: str, n: int) -> float:
        """The n-th smallest value of a column (inf when fewer than n kept)."""
        if n == 0:
            return -np.inf
        if self.cols is None or len(self.cols["ids"]) < n:
            return np.inf
        got = self._nth.get((key, n))
        if got is None:
            got = self._nth[(key, n)] = float(np.partition(self.cols[key], n - 1)[n - 1])
        return got

    def rows(self, order_keys: tuple[str, ...], n: int) -> list[Candidate]:
        if self.cols is None or n == 0:
            return []
        c = self.cols
        order = np.lexsort(tuple(c[kk] for kk in reversed(order_keys)))[:n]
        # whole columns to Python values at once (numpy scalars one by one cost far more)
        ids, kinds, modes, eta, km, code, rel, cost, pref = (c[kk][order].tolist()
                                                              for kk in self.COLS)
        return [Candidate(str(ids[j]), str(kinds[j]), str(modes[j]), int(eta[j]),
                          float(km[j]), str(rel[j]), OUTCOMES[int(code[j])], float(cost[j]),
                          bool(pref[j]))
                for j in range(len(ids))]



def _penalties(batch: Batch, q: Query, ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relation, preferred-kind flag and plan-cost penalty of each row."""
    rel = relations(ctx.jurisdiction, batch.areas)
    pref = among(batch.kinds, q.kinds) if q.kinds else np.ones(len(batch), bool)
    pen = (np.where(rel == OWN, 0.0, ctx.policy.local_margin_s)
           + np.where(pref, 0.0, ctx.policy.kind_preference_s))
    return rel, pref, pen


def relations(jurisdiction: Jurisdiction, areas: np.ndarray) -> np.ndarray:
    """The relation of each unit's area to the incident's (object array). Why by distinct
    areas (a hash factorisation): thousands of units share a few dozen areas, and a lookup
    per unit cost more than the rest of a batch's evaluation."""
    if len(areas) < 64:
        relation = jurisdiction.relation  # cached per area code
        return np.array([relation(a if type(a) is str else str(a)) for a in areas.tolist()],
                        dtype=object)
    codes, distinct = pd.factorize(areas, use_na_sentinel=False)
    rel = np.array([jurisdiction.relation(a if type(a) is str else str(a)) for a in distinct],
                   dtype=object)
    return rel[codes]


def _prepare(batch: Batch, q: Query, ctx: Context, res: RankResult,
             thr_eta: float = np.inf, thr_cost: float = np.inf) -> tuple | None:
    """The rows of a batch that one requirement needs evaluated, with their penalties.

    Rows whose optimistic ETA (and plan cost) cannot reach the current k-th ETA `thr_eta` (and
    m-th cost `thr_cost`) are skipped before the costly checks: they could not enter a list,
    and as both lists are already full no shortfall can depend on them."""
    if q.modes is not None and len(batch):
        ok = among(batch.modes, q.modes)
        if not ok.all():
            batch = batch.take(np.flatnonzero(ok))
    if len(batch) == 0:
        return None
    res.matched += len(batch)
    res.land_matched += int(np.count_nonzero(batch.modes == "land"))
    opt = None
    if np.isfinite(max(thr_eta, thr_cost)):  # first the rows no penalty can bring in
        opt = eta_seconds(ctx.model.optimistic(batch))
        near = np.flatnonzero(opt <= max(thr_eta, thr_cost))
        res.skipped += len(batch) - len(near)
        if len(near) == 0:
            return None
        if len(near) < len(batch):
            batch, opt = batch.take(near), opt[near]
    rel, pref, pen = _penalties(batch, q, ctx)
    if opt is not None:
        keep = np.flatnonzero((opt <= thr_eta) | (opt + pen <= thr_cost))
        res.skipped += len(batch) - len(keep)
        if len(keep) == 0:
            return None
        batch, rel, pref, pen = batch.take(keep), rel[keep], pref[keep], pen[keep]
    return batch, rel, pref, pen


def _collect(prepared: tuple, ev: Evaluated, res: RankResult) -> dict[str, np.ndarray] | None:
    """Record the outcomes of evaluated rows; return the feasible ones as kept columns."""
    batch, rel, pref, pen = prepared
    feas = ev.code <= FEASIBLE_MAX
    bad = ev.code[~feas]
    if len(bad):
        for code, cnt in zip(*np.unique(bad, return_counts=True), strict=True):
            res.outcomes[OUTCOMES[int(code)]] += int(cnt)
    idx = np.flatnonzero(feas)
    res.feasible += len(idx)
    if len(idx) == 0:
        return None
    eta_s = eta_seconds(ev.eta_s[idx])
    return {"ids": batch.ids[idx].astype(str), "kinds": batch.kinds[idx],
            "modes": batch.modes[idx], "eta_s": eta_s, "km": ev.km[idx], "code": ev.code[idx],
            "rel": rel[idx], "cost": eta_s + pen[idx], "pref": pref[idx]}


def _score(batch: Batch, q: Query, ctx: Context, res: RankResult,
           thr_eta: float = np.inf, thr_cost: float = np.inf) -> dict[str, np.ndarray] | None:
    """Evaluate a batch for one requirement; record outcomes; return the feasible rows."""
    prepared = _prepare(batch, q, ctx, res, thr_eta, thr_cost)
    if prepared is None:
        return None
    return _collect(prepared, ctx.model.evaluate(prepared[0]), res)


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


def _finish(kept: _Kept, q: Query, res: RankResult) -> RankResult:
    res.candidates = kept.rows(("eta_s", "ids"), q.k)
    res.pool = kept.rows(("cost", "eta_s", "ids"), q.pool)
    return res


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
    kept: _Kept
    subs: list[_Sub]


def _settled(source: CandidateSource, ctx: Context) -> Settled | None:
    """What the model settles for this request, when the source can count it."""
    settles = getattr(source, "settles", None)
    if settles is None or not settles(ctx.model.reach):
        return None
    return ctx.model.settled(source.kind_modes)  # type: ignore[attr-defined]


def _add_settled(source: Any, q: Query, ctx: Context, settled: Settled, res: RankResult) -> None:
    """The settled units' outcomes, once the walk has read every other unit."""
    by_code, land_total = source.settled_counts(q.capability, q.modes, ctx.exercise, settled)
    if settled.zone is not None:
        by_code[UNREACHABLE] = by_code.get(UNREACHABLE, 0) + land_total - res.land_matched
    for code, n in by_code.items():
        if n:
            res.outcomes[OUTCOMES[code]] += n
            res.matched += n
            res.settled += n


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


def rank_many(source: CandidateSource, queries: list[Query], ctx: Context) -> list[RankResult]:
    """`rank` of each query, each exactly as on its own (same walks, batches, thresholds and
    stopping rule), the walks advanced in lockstep so that one model evaluation serves the
    current batches of every requirement still walking (per-call costs dominate small batches).

    A requirement may walk in parts (`_subs`): each part advances until nothing it still holds
    can beat the k-th ETA or, with its cost floor, the pool's m-th cost."""
    out: list[RankResult] = []
    active: list[_Walking] = []
    scans = getattr(source, "prefers_scan", None)
    settled = _settled(source, ctx)
    extra = {} if settled is None else {"settled": settled}
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
        active.append(_Walking(q, res, _Kept(), _subs(source, q, ctx, extra, bounds)))
    while active:
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
                prepared = _prepare(batch, w.q, ctx, w.res, w.kept.nth("eta_s", w.q.k),
                                    w.kept.nth("cost", w.q.pool))
                if prepared is not None:
                    todo.append((w, prepared))
        evaluated = iter(_evaluate_apart(ctx.model, [p[0] for _, p in todo]) if todo else ())
        for w, prepared in todo:
            rows = _collect(prepared, next(evaluated), w.res)
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
                    _add_settled(source, q, ctx, settled, w.res)
                _finish(kept, q, w.res)
            elif all(sub.ended or sub.done for sub in w.subs):
                _finish(kept, q, w.res)
            else:
                still.append(w)
        active = still
    return out


def rank_scan(source: CandidateSource, q: Query, ctx: Context,
              settled: Settled | None = None) -> RankResult:
    """`rank_brute_force`'s answer from one scan, the costly checks (reachability, relation,
    sea routes) only where they can matter: every matching unit's optimistic ETA (cheap, a
    lower bound of its ETA and plan cost) orders them, they are evaluated in doubling chunks
    in that order, and the scan stops where the next optimistic ETA exceeds both the k-th ETA
    and the pool's m-th cost found (the walk's stopping rule, over a sorted array); the rest
    are counted as matched, unclassified, as the walk counts what it did not read. A source
    with `scan` hands the cheap columns of every unit and whole batches of the chunks only;
    given what the model `settled` (an island incident), it leaves those units out and they
    are counted, as the walk counts them, when the scan reads to the end."""
    args = dict(now=ctx.now, max_age_s=ctx.policy.max_position_age_s, exercise=ctx.exercise,
                modes=q.modes)
    lazy = getattr(source, "scan", None)
    if lazy is None:
        settled = None
    if lazy is not None:
        s = lazy(ctx.lat, ctx.lon, q.capability, **args,
                 **({} if settled is None else {"settled": settled}))
        take, modes = s.take, s.mode_code
        land = MODE_CODES.index("land")
        opt = eta_seconds(ctx.model.optimistic_of(s.dist_km, s.speed_kmh, s.readiness_s, modes))
    else:
        batch = source.everything(ctx.lat, ctx.lon, q.capability, **args)
        take, modes, land = batch.take, batch.modes, "land"
        opt = eta_seconds(ctx.model.optimistic(batch))
    res = RankResult([], [])
    kept = _Kept()
    order = np.empty(0, np.int64)
    seen = np.zeros(len(opt), bool)
    pieces = _ascending(opt)
    start, size = 0, SCAN_CHUNK
    while True:
        if start >= len(order):
            nxt = next(pieces, None)
            if nxt is None:
                break
            order, start = nxt, 0  # (a piece may be empty: no unit matched)
            continue
        kth, mth = kept.nth("eta_s", q.k), kept.nth("cost", q.pool)
        if opt[order[start]] > max(kth, mth):  # nothing left can enter either list
            left = ~seen
            res.matched += int(np.count_nonzero(left))
            res.skipped += int(np.count_nonzero(left))
            res.land_matched += int(np.count_nonzero(left & (modes == land)))
            res.exhausted = False
            break
        part = order[start:start + size]
        seen[part] = True
        res.batches += 1
        rows = _score(take(part), q, ctx, res, kth, mth)
        if rows is not None:
            kept.add(rows, q.k, q.pool)
        start += len(part)
        size *= 2
    if res.exhausted and settled is not None:
        _add_settled(source, q, ctx, settled, res)
    return _finish(kept, q, res)


SCAN_CHUNK = 32  # rows evaluated first (doubling): the k-th and m-th usually come in them
SCAN_FIRST = 2048  # rows sorted first: the rest only when the scan gets that far


def _ascending(opt: np.ndarray) -> Iterator[np.ndarray]:
    """Positions of `opt` in ascending order, in two pieces: the SCAN_FIRST least (and any
    equal to the last of them) sorted, then the rest sorted, only if asked (a full sort of
    hundreds of thousands of values costs more than the scan usually needs)."""
    if len(opt) <= SCAN_FIRST:
        yield np.argsort(opt, kind="stable")
        return
    cut = np.partition(opt, SCAN_FIRST - 1)[SCAN_FIRST - 1]
    head = np.flatnonzero(opt <= cut)
    yield head[np.argsort(opt[head], kind="stable")]
    tail = np.flatnonzero(opt > cut)
    yield tail[np.argsort(opt[tail], kind="stable")]


def rank_brute_force(source: CandidateSource, q: Query, ctx: Context) -> RankResult:
    """Every matching candidate evaluated under the same model; the oracle of `rank`."""
    res = RankResult([], [])
    batch = source.everything(ctx.lat, ctx.lon, q.capability, now=ctx.now,
                              max_age_s=ctx.policy.max_position_age_s, exercise=ctx.exercise,
                              modes=q.modes)
    res.batches = 1
    kept = _Kept()
    rows = _score(batch, q, ctx, res)
    if rows is not None:
        kept.add(rows, q.k, q.pool)
    return _finish(kept, q, res)
