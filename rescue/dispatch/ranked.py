"""The pieces every ranking shares (rescue/dispatch/ranking.py walks a source nearest first,
rescue/dispatch/scanning.py scans it in optimistic-ETA order): the query and its context, the
candidates kept for the top-k list and the plan pool, and the scoring of a batch of units under
the request's ETA model (outcomes counted, rows that cannot enter a list skipped unclassified).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from rescue.dispatch.eta import (
    FEASIBLE_MAX,
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
from rescue.dispatch.walking import among


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


class Kept:
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



def penalties(batch: Batch, q: Query, ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def prepare(batch: Batch, q: Query, ctx: Context, res: RankResult,
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
    rel, pref, pen = penalties(batch, q, ctx)
    if opt is not None:
        keep = np.flatnonzero((opt <= thr_eta) | (opt + pen <= thr_cost))
        res.skipped += len(batch) - len(keep)
        if len(keep) == 0:
            return None
        batch, rel, pref, pen = batch.take(keep), rel[keep], pref[keep], pen[keep]
    return batch, rel, pref, pen


def collect(prepared: tuple, ev: Evaluated, res: RankResult) -> dict[str, np.ndarray] | None:
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


def score(batch: Batch, q: Query, ctx: Context, res: RankResult,
           thr_eta: float = np.inf, thr_cost: float = np.inf) -> dict[str, np.ndarray] | None:
    """Evaluate a batch for one requirement; record outcomes; return the feasible rows."""
    prepared = prepare(batch, q, ctx, res, thr_eta, thr_cost)
    if prepared is None:
        return None
    return collect(prepared, ctx.model.evaluate(prepared[0]), res)


def finish(kept: Kept, q: Query, res: RankResult) -> RankResult:
    res.candidates = kept.rows(("eta_s", "ids"), q.k)
    res.pool = kept.rows(("cost", "eta_s", "ids"), q.pool)
    return res


def settled_of(source: CandidateSource, ctx: Context) -> Settled | None:
    """What the model settles for this request, when the source can count it."""
    settles = getattr(source, "settles", None)
    if settles is None or not settles(ctx.model.reach):
        return None
    return ctx.model.settled(source.kind_modes)  # type: ignore[attr-defined]


def add_settled(source: Any, q: Query, ctx: Context, settled: Settled, res: RankResult) -> None:
    """The settled units' outcomes, once the walk has read every other unit."""
    by_code, land_total = source.settled_counts(q.capability, q.modes, ctx.exercise, settled)
    if settled.zone is not None:
        by_code[UNREACHABLE] = by_code.get(UNREACHABLE, 0) + land_total - res.land_matched
    for code, n in by_code.items():
        if n:
            res.outcomes[OUTCOMES[code]] += n
            res.matched += n
            res.settled += n
