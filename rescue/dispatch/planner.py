"""The recommended plan: an assignment of resources to requirement slots, each resource once.

Not greedy per slot: greedy lets the first requirement take the one unit a later requirement
cannot do without. The plan solves, in order:
  1. fill as many slots as possible (maximum bipartite matching);
  2. among those, minimise the latest arrival (bottleneck: binary search on the threshold over
     the distinct costs, each step a maximum matching restricted to edges <= threshold);
  3. under that threshold, minimise the sum of costs (linear_sum_assignment, with one private
     dummy column per slot so that unfillable slots are allowed).
Costs are ETAs adjusted by the local-first rule (units from outside the incident's own area
cost `local_margin_s` more, so they win only when faster by more than the margin) and by kind
preference. The reason of each plan entry says which rule chose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

# Plan entry reasons
ONLY_OPTION = "only_option"  # no other free candidate could fill the slot
FASTEST = "fastest"  # the fastest free candidate (own area, or no own-area unit competing)
LOCAL_FIRST = "local_first"  # own-area unit chosen over a faster one within the margin
FASTER_BY_MARGIN = "faster_by_margin"  # outside unit beat an own-area one by more than the margin
PREFERRED_KIND = "preferred_kind"  # the requirement's preferred kind over a faster other kind
ASSIGNMENT = "assignment"  # slower than a free alternative, chosen to lower the whole plan's cost


@dataclass(frozen=True)
class PoolEntry:
    """A feasible candidate of one requirement, as the planner sees it."""

    resource_id: str
    eta_s: int
    local: bool = True
    preferred: bool = True


@dataclass(frozen=True)
class PlanEntry:
    requirement: int  # index into the requirements
    resource_id: str
    eta_s: int
    cost: float
    reason: str


@dataclass(frozen=True)
class PlanResult:
    entries: tuple[PlanEntry, ...]
    unfilled: tuple[int, ...]  # per requirement: slots left empty

    @property
    def latest_eta_s(self) -> int | None:
        return max((e.eta_s for e in self.entries), default=None)


def entry_cost(e: PoolEntry, local_margin_s: float, kind_preference_s: float) -> float:
    return float(e.eta_s) + (0.0 if e.local else local_margin_s) + (0.0 if e.preferred else kind_preference_s)


def _matching_size(mask: np.ndarray) -> int:
    """Size of a maximum matching of rows (slots) to columns (units) over `mask`.

    Plans are small (a few slots, tens of units): augmenting paths in plain Python beat building
    sparse matrices for scipy by far there; big ones still go to scipy. The size of a maximum
    matching is unique, so both give the same number."""
    if not mask.any():
        return 0
    if mask.size > 4096:
        m = maximum_bipartite_matching(csr_matrix(mask.astype(np.int8)), perm_type="column")
        return int((m >= 0).sum())
    adj = [[j for j, v in enumerate(row) if v] for row in mask.tolist()]
    owner: dict[int, int] = {}

    def augment(s: int, seen: set[int]) -> bool:
        for j in adj[s]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = s
                    return True
        return False

    return sum(augment(s, set()) for s in range(len(adj)))


def plan_assignment(
    pools: Sequence[Sequence[PoolEntry]],
    counts: Sequence[int],
    *,
    local_margin_s: float = 600.0,
    kind_preference_s: float = 300.0,
) -> PlanResult:
    """Assign resources to `counts[i]` slots of each requirement i from its pool `pools[i]`."""
    if _disjoint(pools):
        return _independent(pools, counts, local_margin_s, kind_preference_s)
    slots = [i for i, c in enumerate(counts) for _ in range(c)]
    ids = sorted({e.resource_id for pool in pools for e in pool})
    col = {rid: j for j, rid in enumerate(ids)}
    if not slots or not ids:
        return PlanResult((), tuple(counts))
    cost = np.full((len(slots), len(ids)), np.inf)
    by_req: list[dict[str, PoolEntry]] = [{e.resource_id: e for e in pool} for pool in pools]
    for s, i in enumerate(slots):
        for e in pools[i]:
            cost[s, col[e.resource_id]] = entry_cost(e, local_margin_s, kind_preference_s)
    finite = np.isfinite(cost)
    best = _matching_size(finite)
    if best == 0:
        return PlanResult((), tuple(counts))
    values = sorted(set(cost[finite].tolist()))
    lo, hi = 0, len(values) - 1
    while lo < hi:  # smallest threshold that still fills `best` slots
        mid = (lo + hi) // 2
        if _matching_size(cost <= values[mid]) == best:
            hi = mid
        else:
            lo = mid + 1
    allowed = np.where(cost <= values[lo], cost, np.inf)
    big = float(sum(v for v in allowed.ravel().tolist() if v != np.inf)) + 1.0
    dummy = np.full((len(slots), len(slots)), np.inf)
    np.fill_diagonal(dummy, big)
    rows, cols = linear_sum_assignment(np.hstack([allowed, dummy]))
    chosen: list[tuple[int, str]] = []
    for s, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if j < len(ids):
            chosen.append((slots[s], ids[j]))
    chosen.sort(key=lambda t: (t[0], by_req[t[0]][t[1]].eta_s, t[1]))
    entries = []
    for i, rid in chosen:
        e = by_req[i][rid]
        siblings = {r for j, r in chosen if j == i and r != rid}
        reason = _reason(e, pools[i], counts[i], siblings)
        entries.append(PlanEntry(i, rid, e.eta_s, entry_cost(e, local_margin_s, kind_preference_s), reason))
    filled = [0] * len(counts)
    for i, _ in chosen:
        filled[i] += 1
    return PlanResult(tuple(entries), tuple(c - f for c, f in zip(counts, filled, strict=True)))


def _disjoint(pools: Sequence[Sequence[PoolEntry]]) -> bool:
    seen: set[str] = set()
    for pool in pools:
        ids = {e.resource_id for e in pool}
        if seen & ids:
            return False
        seen |= ids
    return True


def _independent(pools: Sequence[Sequence[PoolEntry]], counts: Sequence[int],
                 local_margin_s: float, kind_preference_s: float) -> PlanResult:
    """No unit is wanted by two requirements: each requirement taking its `count` cheapest
    candidates is optimal for the bottleneck and for the sum at once."""
    entries: list[PlanEntry] = []
    unfilled = []
    for i, (pool, count) in enumerate(zip(pools, counts, strict=True)):
        ranked = sorted(pool, key=lambda e: (entry_cost(e, local_margin_s, kind_preference_s),
                                             e.eta_s, e.resource_id))[:count]
        chosen = sorted(ranked, key=lambda e: (e.eta_s, e.resource_id))
        ids = {e.resource_id for e in chosen}
        for e in chosen:
            entries.append(PlanEntry(i, e.resource_id, e.eta_s,
                                     entry_cost(e, local_margin_s, kind_preference_s),
                                     _reason(e, pool, count, ids - {e.resource_id})))
        unfilled.append(count - len(chosen))
    return PlanResult(tuple(entries), tuple(unfilled))


def _reason(e: PoolEntry, pool: Sequence[PoolEntry], count: int, siblings: set[str]) -> str:
    """Which rule chose `e`, judged against the requirement's other candidates (those not
    filling its other slots); a faster one taken by another requirement means `assignment`."""
    if len(pool) <= count:
        return ONLY_OPTION
    free = [a for a in pool if a.resource_id not in siblings]
    fastest = min(free, key=lambda a: (a.eta_s, a.resource_id))
    if e.eta_s <= fastest.eta_s:
        if not e.local and any(a.local for a in free):
            return FASTER_BY_MARGIN
        return FASTEST
    if e.local and not fastest.local:
        return LOCAL_FIRST
    if e.preferred and not fastest.preferred:
        return PREFERRED_KIND
    return ASSIGNMENT


def greedy_assignment(pools: Sequence[Sequence[PoolEntry]], counts: Sequence[int]) -> list[tuple[int, str, int]]:
    """Greedy per slot by ETA (for comparison in tests only): each slot takes its fastest free unit."""
    used: set[str] = set()
    out = []
    for i, c in enumerate(counts):
        for _ in range(c):
            free = sorted((a for a in pools[i] if a.resource_id not in used), key=lambda a: (a.eta_s, a.resource_id))
            if free:
                used.add(free[0].resource_id)
                out.append((i, free[0].resource_id, free[0].eta_s))
    return out
